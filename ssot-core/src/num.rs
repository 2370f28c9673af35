//! Number formatting shared by reports: integers print without `.0`, byte
//! counts print in a human unit next to the exact figure.

use serde::Serializer;

/// Serializes an `f64` as an integer when it is integral (so byte counts read
/// `4294967296`, not `4294967296.0`), else as a float.
pub(crate) fn ser_num<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// [`ser_num`] for `Option<f64>`.
pub(crate) fn ser_opt_num<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_num(v, s),
        None => s.serialize_none(),
    }
}

/// `t − span`, saturating at the earliest representable instant instead of
/// overflowing (a huge window then simply reaches back past everything).
pub fn minus(
    t: chrono::DateTime<chrono::Utc>,
    span: crate::units::Span,
) -> chrono::DateTime<chrono::Utc> {
    t.checked_sub_signed(span.to_delta())
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}

/// `t + span`, saturating at the latest representable instant.
pub fn plus(
    t: chrono::DateTime<chrono::Utc>,
    span: crate::units::Span,
) -> chrono::DateTime<chrono::Utc> {
    t.checked_add_signed(span.to_delta())
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
}

/// `1.5GB`-style rendering with one decimal, for messages.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TB", 1 << 40),
        ("GB", 1 << 30),
        ("MB", 1 << 20),
        ("kB", 1 << 10),
    ];
    for (name, m) in UNITS {
        if bytes >= m {
            let v = bytes as f64 / m as f64;
            return if bytes.is_multiple_of(m) {
                format!("{}{name}", bytes / m)
            } else {
                format!("{v:.1}{name}")
            };
        }
    }
    format!("{bytes}B")
}

pub use crate::time::human_secs;

/// Formats a percentage with at most two decimals, dropping trailing zeros.
pub fn pct(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// `floor(num * 100 / den)` in hundredths of a percent, exact for any u64.
pub(crate) fn pct_floor_2(num: u64, den: u64) -> f64 {
    if den == 0 {
        return 0.0;
    }
    let hundredths = (num as u128 * 10_000) / den as u128;
    hundredths as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(4 << 30), "4GB");
        assert_eq!(human_bytes(3 << 29), "1.5GB");
        assert_eq!(human_secs(5400.0), "1h30min");
        assert_eq!(human_secs(0.2), "0s");
        assert_eq!(pct(80.0), "80%");
        assert_eq!(pct(81.25), "81.25%");
        assert_eq!(pct_floor_2(7999, 10_000), 79.99);
        assert_eq!(pct_floor_2(u64::MAX, u64::MAX), 100.0);
    }
}
