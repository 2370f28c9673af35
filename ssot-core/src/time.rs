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
