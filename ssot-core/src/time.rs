//! Timestamps as every state file writes them: RFC 3339, UTC, whole seconds.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// Formats a timestamp the way every state file does: RFC 3339, UTC, seconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp (any offset) into UTC.
pub fn parse_timestamp(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            "not an RFC 3339 timestamp (expected e.g. 2026-02-05T12:00:00Z or 2026-02-05T13:00:00+01:00)"
                .to_string()
        })
}

/// `t` as a state file keeps it: whole seconds. Durations recorded next to
/// times (RTO, RPO, a backup's duration) are computed from these, so that a
/// record always agrees with itself when it is read back.
pub fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// `1h30min`-style rendering of seconds, for messages.
pub fn human_secs(secs: f64) -> String {
    if !secs.is_finite() {
        return "never".into();
    }
    let s = secs.max(0.0).round() as u64;
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    for (v, u) in [(d, "d"), (h, "h"), (m, "min"), (sec, "s")] {
        if v > 0 {
            out.push_str(&format!("{v}{u}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// Deserializes a timestamp exactly as chrono's `DateTime<Utc>` does (RFC
/// 3339, relaxed), trying chrono's strict RFC 3339 parser first: it accepts
/// the usual form and is several times faster, which a catalog of a million
/// artifacts notices. Whatever the strict parser refuses goes to the relaxed
/// one, so the accepted inputs, the values and the errors stay chrono's.
pub(crate) fn deserialize_utc<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<DateTime<Utc>, D::Error> {
    struct Rfc3339;
    impl serde::de::Visitor<'_> for Rfc3339 {
        type Value = DateTime<Utc>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            match DateTime::parse_from_rfc3339(v) {
                Ok(t) => Ok(t.with_timezone(&Utc)),
                Err(_) => v.parse::<DateTime<Utc>>().map_err(E::custom),
            }
        }
    }
    d.deserialize_str(Rfc3339)
}

/// [`deserialize_utc`] for an optional timestamp (`null` is `None`).
pub(crate) fn deserialize_utc_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(serde::Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "deserialize_utc")] DateTime<Utc>);
    Ok(<Option<Wrapped> as serde::Deserialize>::deserialize(d)?.map(|Wrapped(t)| t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_reads_what_chrono_reads() {
        #[derive(serde::Deserialize)]
        struct T(#[serde(deserialize_with = "deserialize_utc")] DateTime<Utc>);
        for s in [
            "2026-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T02:30:00+02:30",
            "2026-01-01T00:00:00.123456789Z",
            "2016-12-31T23:59:60Z",
            "2026-01-01T00:00:00 +00:00",
            "2026-01-01T00:00:00",
            "2026-02-30T00:00:00Z",
            "+12026-01-01T00:00:00Z",
            "",
            "yesterday",
        ] {
            let json = serde_json::to_string(s).unwrap();
            let ours = serde_json::from_str::<T>(&json)
                .map(|T(t)| t)
                .map_err(|e| e.to_string());
            let chrono = serde_json::from_str::<DateTime<Utc>>(&json).map_err(|e| e.to_string());
            assert_eq!(ours, chrono, "{s:?}");
        }
    }
}
