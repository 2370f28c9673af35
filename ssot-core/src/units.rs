//! Sizes and durations spelled the way PostgreSQL spells them.
//!
//! ssot reads sizes and durations from its own configuration, from container
//! arguments (`-c max_wal_size=4GB`) and from `pg_settings`; all three use the
//! PostgreSQL GUC grammar, so one parser serves them all:
//!
//! * memory units `B`, `kB`, `MB`, `GB`, `TB` (multiples of 1024, case-sensitive);
//! * time units `us`, `ms`, `s`, `min`, `h`, `d` (case-sensitive);
//! * an optional space between number and unit, and a decimal fraction
//!   (`1.5GB`), rounded to the nearest base unit as PostgreSQL does.
//!
//! ```
//! use ssot_core::units::{ByteSize, Span};
//! assert_eq!(ByteSize::parse("4GB")?.bytes(), 4 << 30);
//! assert_eq!(ByteSize::parse("4GB")?, ByteSize::parse("4096MB")?);
//! assert_eq!(Span::parse("5min")?.as_secs(), 300);
//! assert_eq!(ByteSize::from_bytes(1 << 30).to_string(), "1GB");
//! # Ok::<(), ssot_core::Error>(())
//! ```

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value with a unit (`4GB`, `5min`) that could not be parsed. It converts
/// into the crate's `Error::Unit` (the same fields and message), so `?` works
/// in code returning the crate's `Result`; this module depends on nothing
/// else in the crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} \"{input}\": {message}")]
pub struct UnitError {
    /// What was being parsed (a size, a duration).
    pub what: &'static str,
    /// The offending input.
    pub input: String,
    /// What is wrong and which spellings are accepted.
    pub message: String,
}

type Result<T> = std::result::Result<T, UnitError>;

const MEMORY_UNITS: [(&str, u64); 5] = [
    ("TB", 1 << 40),
    ("GB", 1 << 30),
    ("MB", 1 << 20),
    ("kB", 1 << 10),
    ("B", 1),
];

const TIME_UNITS_US: [(&str, u64); 6] = [
    ("d", 86_400_000_000),
    ("h", 3_600_000_000),
    ("min", 60_000_000),
    ("s", 1_000_000),
    ("ms", 1_000),
    ("us", 1),
];

/// Splits `"4 GB"` into the number `"4"` and the unit `"GB"`.
fn split_number(input: &str) -> (&str, &str) {
    let s = input.trim();
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && (*c == '-' || *c == '+'))))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    (&s[..end], s[end..].trim())
}

/// Parses a number with an optional unit from `units`, returning the value in
/// base units (bytes or microseconds). `default_unit` is the multiplier for a
/// bare number. Rounds fractions to the nearest base unit.
fn parse_scaled(
    input: &str,
    what: &'static str,
    units: &[(&str, u64)],
    default_unit: u64,
) -> Result<i128> {
    let err = |message: String| UnitError {
        what,
        input: input.to_string(),
        message,
    };
    let (number, unit) = split_number(input);
    if number.is_empty() || number == "-" || number == "+" {
        return Err(err(
            "expected a number, optionally followed by a unit".into()
        ));
    }
    let multiplier = if unit.is_empty() {
        default_unit
    } else {
        units
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                let valid: Vec<&str> = units.iter().rev().map(|(n, _)| *n).collect();
                err(format!(
                    "unknown unit \"{unit}\"; valid units are {}",
                    valid.join(", ")
                ))
            })?
    };
    let value: i128 = if number.contains('.') {
        let f: f64 = number
            .parse()
            .map_err(|_| err(format!("\"{number}\" is not a number")))?;
        let scaled = (f * multiplier as f64).round();
        if !scaled.is_finite() || scaled.abs() > i64::MAX as f64 {
            return Err(err("out of range".into()));
        }
        scaled as i128
    } else {
        let n: i128 = number
            .parse()
            .map_err(|_| err(format!("\"{number}\" is not a number")))?;
        n.checked_mul(multiplier as i128)
            .filter(|v| v.abs() <= i64::MAX as i128)
            .ok_or_else(|| err("out of range".into()))?
    };
    Ok(value)
}

/// Formats `value` (in base units) with the largest unit that divides it exactly.
fn format_scaled(value: u64, units: &[(&str, u64)]) -> String {
    if value == 0 {
        return "0".to_string();
    }
    let (name, m) = units
        .iter()
        .find(|(_, m)| value.is_multiple_of(*m))
        .copied()
        .unwrap_or(units[units.len() - 1]);
    format!("{}{}", value / m, name)
}

/// A parsed PostgreSQL size value that may be `-1` ("unlimited"/"disabled").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting<T> {
    /// `-1`: the feature is unlimited or disabled, depending on the setting.
    Unset,
    /// A concrete value.
    Value(T),
}

/// A size in bytes, written `4GB`, `1024MB`, `16MB`, `0` or a bare byte count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ByteSize(u64);

impl ByteSize {
    /// A size of `n` bytes.
    pub const fn from_bytes(n: u64) -> Self {
        ByteSize(n)
    }

    /// A size of `n` MiB (`MB` in PostgreSQL's spelling).
    pub const fn mib(n: u64) -> Self {
        ByteSize(n << 20)
    }

    /// A size of `n` GiB (`GB` in PostgreSQL's spelling).
    pub const fn gib(n: u64) -> Self {
        ByteSize(n << 30)
    }

    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.0
    }

    /// Parses a size; a bare number is bytes. Negative sizes are rejected.
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_with_default_unit(input, 1)
    }

    /// Parses a size where a bare number counts in `default_unit` bytes, as
    /// with `pg_settings.unit = '8kB'` or `'MB'`.
    pub fn parse_with_default_unit(input: &str, default_unit: u64) -> Result<Self> {
        let v = parse_scaled(input, "size", &MEMORY_UNITS, default_unit)?;
        u64::try_from(v).map(ByteSize).map_err(|_| UnitError {
            what: "size",
            input: input.to_string(),
            message: "must not be negative".into(),
        })
    }

    /// Parses a size setting that may be `-1` (PostgreSQL's "unset").
    pub fn parse_setting(input: &str, default_unit: u64) -> Result<Setting<Self>> {
        let v = parse_scaled(input, "size", &MEMORY_UNITS, default_unit)?;
        if v < 0 {
            if split_number(input).0.trim_start_matches('-') == "1" {
                return Ok(Setting::Unset);
            }
            return Err(UnitError {
                what: "size",
                input: input.to_string(),
                message: "the only negative value allowed is -1".into(),
            });
        }
        Ok(Setting::Value(ByteSize(v as u64)))
    }

    /// Multiplier in bytes of a `pg_settings.unit` column value such as
    /// `8kB`, `16MB`, `MB` or `B`.
    pub fn unit_multiplier(unit: &str) -> Result<u64> {
        let v = parse_scaled(unit, "size unit", &MEMORY_UNITS, 1).or_else(|_| {
            // A bare unit such as "MB" means one of it.
            parse_scaled(&format!("1{unit}"), "size unit", &MEMORY_UNITS, 1)
        })?;
        u64::try_from(v).map_err(|_| UnitError {
            what: "size unit",
            input: unit.to_string(),
            message: "must be positive".into(),
        })
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, &MEMORY_UNITS))
    }
}

/// A duration, written `5min`, `300s`, `10ms`, `7d` or a bare number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span(u64);

impl Span {
    /// A span of `n` seconds.
    pub const fn secs(n: u64) -> Self {
        Span(n * 1_000_000)
    }

    /// The span as a [`std::time::Duration`], to the microsecond.
    pub const fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.0)
    }

    /// A span of `n` minutes.
    pub const fn mins(n: u64) -> Self {
        Span::secs(n * 60)
    }

    /// A span of `n` hours.
    pub const fn hours(n: u64) -> Self {
        Span::secs(n * 3600)
    }

    /// A span of `n` days.
    pub const fn days(n: u64) -> Self {
        Span::secs(n * 86_400)
    }

    /// A span of `n` microseconds.
    pub const fn from_micros(n: u64) -> Self {
        Span(n)
    }

    /// The span in microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The span in whole seconds (rounded down).
    pub const fn as_secs(self) -> u64 {
        self.0 / 1_000_000
    }

    /// The span in seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// The span as a [`chrono::TimeDelta`].
    pub fn to_delta(self) -> chrono::TimeDelta {
        chrono::TimeDelta::microseconds(self.0.min(i64::MAX as u64) as i64)
    }

    /// Parses a duration; a bare number is seconds. Negative values are rejected.
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_with_default_unit(input, 1_000_000)
    }

    /// The longest duration ssot accepts anywhere (100 years): longer ones
    /// are surely typos (`100000000d`), and every date computed with a
    /// duration must stay representable.
    pub const MAX: Span = Span::days(36_500);

    /// Parses a duration where a bare number counts in `default_unit_us`
    /// microseconds (`pg_settings.unit` `s` → 1 000 000, `ms` → 1 000, `min` → 60 000 000).
    /// Accepts 0 to [`Span::MAX`].
    pub fn parse_with_default_unit(input: &str, default_unit_us: u64) -> Result<Self> {
        let v = parse_scaled(input, "duration", &TIME_UNITS_US, default_unit_us)?;
        let span = u64::try_from(v).map(Span).map_err(|_| UnitError {
            what: "duration",
            input: input.to_string(),
            message: "must not be negative".into(),
        })?;
        Span::checked(span, input)
    }

    fn checked(span: Span, input: &str) -> Result<Span> {
        if span > Span::MAX {
            return Err(UnitError {
                what: "duration",
                input: input.to_string(),
                message: format!(
                    "out of range: ssot accepts durations from 0 to {} (100 years)",
                    Span::MAX
                ),
            });
        }
        Ok(span)
    }

    /// A span of `n` seconds, if it is within [`Span::MAX`].
    pub fn try_secs(n: u64) -> Result<Self> {
        let span = n.checked_mul(1_000_000).map(Span).unwrap_or(Span(u64::MAX));
        Span::checked(span, &n.to_string())
    }

    /// Parses a duration setting that may be `-1` (PostgreSQL's "disabled").
    pub fn parse_setting(input: &str, default_unit_us: u64) -> Result<Setting<Self>> {
        let v = parse_scaled(input, "duration", &TIME_UNITS_US, default_unit_us)?;
        if v < 0 {
            if split_number(input).0.trim_start_matches('-') == "1" {
                return Ok(Setting::Unset);
            }
            return Err(UnitError {
                what: "duration",
                input: input.to_string(),
                message: "the only negative value allowed is -1".into(),
            });
        }
        Ok(Setting::Value(Span(v as u64)))
    }

    /// Microseconds in one `pg_settings.unit` time unit (`s`, `ms`, `min`, ...).
    pub fn unit_multiplier(unit: &str) -> Result<u64> {
        let v = parse_scaled(&format!("1{unit}"), "duration unit", &TIME_UNITS_US, 1)?;
        u64::try_from(v).map_err(|_| UnitError {
            what: "duration unit",
            input: unit.to_string(),
            message: "must be positive".into(),
        })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_scaled(self.0, &TIME_UNITS_US))
    }
}

impl std::str::FromStr for ByteSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self> {
        ByteSize::parse(s)
    }
}

impl std::str::FromStr for Span {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self> {
        Span::parse(s)
    }
}

macro_rules! serde_via_str {
    ($ty:ty, $what:literal, $from_int:expr) => {
        // `$from_int`: u64 → Result<$ty>.
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<$ty, E> {
                        <$ty>::parse(v).map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<$ty, E> {
                        $from_int(v).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<$ty, E> {
                        let v = u64::try_from(v).map_err(|_| E::custom("must not be negative"))?;
                        $from_int(v).map_err(E::custom)
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

serde_via_str!(
    ByteSize,
    "a size such as \"4GB\", \"512MB\" or a number of bytes",
    |v| Ok::<_, UnitError>(ByteSize::from_bytes(v))
);
serde_via_str!(
    Span,
    "a duration such as \"5min\", \"7d\" or a number of seconds",
    Span::try_secs
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_postgresql() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("16", 16),
            ("100B", 100),
            ("8kB", 8192),
            ("16MB", 16 << 20),
            ("4GB", 4 << 30),
            ("4096MB", 4 << 30),
            ("1TB", 1 << 40),
            ("4 GB", 4 << 30),
            (" 1GB ", 1 << 30),
            ("1.5GB", 3 << 29),
        ];
        for (input, bytes) in cases {
            assert_eq!(ByteSize::parse(input).unwrap().bytes(), *bytes, "{input}");
        }
    }

    #[test]
    fn sizes_reject_what_postgresql_rejects() {
        for input in [
            "", "GB", "4gb", "4Gb", "4GiB", "4 XB", "-5MB", "abc", "1.2.3GB",
        ] {
            let err = ByteSize::parse(input).unwrap_err().to_string();
            assert!(err.contains(&format!("\"{input}\"")), "{input}: {err}");
        }
        let err = ByteSize::parse("4gb").unwrap_err().to_string();
        assert!(err.contains("valid units are B, kB, MB, GB, TB"), "{err}");
    }

    #[test]
    fn size_settings_know_minus_one() {
        assert_eq!(
            ByteSize::parse_setting("-1", 1 << 20).unwrap(),
            Setting::Unset
        );
        assert_eq!(
            ByteSize::parse_setting("1024", 1 << 20).unwrap(),
            Setting::Value(ByteSize::gib(1))
        );
        assert!(ByteSize::parse_setting("-2", 1).is_err());
        assert_eq!(ByteSize::unit_multiplier("8kB").unwrap(), 8192);
        assert_eq!(ByteSize::unit_multiplier("MB").unwrap(), 1 << 20);
        assert_eq!(ByteSize::unit_multiplier("16MB").unwrap(), 16 << 20);
    }

    #[test]
    fn durations_follow_postgresql() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("300", 300_000_000),
            ("300s", 300_000_000),
            ("5min", 300_000_000),
            ("1h", 3_600_000_000),
            ("7d", 604_800_000_000),
            ("250ms", 250_000),
            ("10us", 10),
        ];
        for (input, us) in cases {
            assert_eq!(Span::parse(input).unwrap().as_micros(), *us, "{input}");
        }
        assert_eq!(Span::parse("5min").unwrap(), Span::parse("300s").unwrap());
        assert!(Span::parse("5m").is_err(), "m is not a PostgreSQL unit");
        assert!(Span::parse("5 MIN").is_err());
        assert_eq!(Span::unit_multiplier("min").unwrap(), 60_000_000);
        assert_eq!(
            Span::parse_setting("-1", 1_000).unwrap(),
            Setting::<Span>::Unset
        );
    }

    #[test]
    fn display_round_trips() {
        for input in ["0", "4GB", "1536kB", "100B", "16MB"] {
            let b = ByteSize::parse(input).unwrap();
            assert_eq!(b.to_string(), input);
            assert_eq!(ByteSize::parse(&b.to_string()).unwrap(), b);
        }
        for input in ["5min", "1h", "7d", "90s", "250ms"] {
            let s = Span::parse(input).unwrap();
            assert_eq!(s.to_string(), input);
        }
        assert_eq!(Span::secs(3600).to_string(), "1h");
    }

    #[test]
    fn serde_accepts_strings_and_integers() {
        #[derive(Deserialize)]
        struct T {
            a: ByteSize,
            b: ByteSize,
            c: Span,
        }
        let t: T = serde_json::from_str(r#"{"a":"4GB","b":1024,"c":"5min"}"#).unwrap();
        assert_eq!(t.a, ByteSize::gib(4));
        assert_eq!(t.b.bytes(), 1024);
        assert_eq!(t.c, Span::mins(5));
        assert!(serde_json::from_str::<T>(r#"{"a":"4gb","b":1,"c":"1s"}"#).is_err());
    }
}
