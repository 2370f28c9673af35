//! A live PostgreSQL, read with one query ([`LIVE_QUERY`]) whose answer is
//! one JSON document: `pg_settings`, `pg_replication_slots`,
//! `pg_stat_archiver`, the backend types in `pg_stat_activity`,
//! `pg_ls_waldir()` and `pg_is_in_recovery()`. The host runs the query
//! ([`crate::ports::Database`]); parsing it is pure and reuses the parsers
//! of the file inputs, so a live probe and `psql` output saved to a file
//! mean the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{parse_pg_settings, parse_slots, Process, RuntimeSetting};
use crate::error::{Error, Result};
pub use crate::wal::ArchiverStats;
use crate::wal::ReplicationSlot;

/// The query of a live probe: one row, one JSON column. Needs a superuser or
/// a member of `pg_monitor` (for `pg_ls_waldir()`).
pub const LIVE_QUERY: &str = r"SELECT json_build_object(
  'version', current_setting('server_version_num')::int,
  'in_recovery', pg_is_in_recovery(),
  'settings', (SELECT coalesce(json_agg(json_build_object('name', name, 'setting', setting, 'unit', unit) ORDER BY name), '[]'::json)
               FROM pg_settings),
  'slots', (SELECT coalesce(json_agg(json_build_object('name', slot_name, 'active', active, 'wal_status', wal_status,
                      'retained_bytes', CASE WHEN pg_is_in_recovery() OR restart_lsn IS NULL THEN NULL
                                             ELSE (pg_current_wal_lsn() - restart_lsn)::bigint END)
                    ORDER BY slot_name), '[]'::json)
            FROM pg_replication_slots),
  'slot_safe_wal_size', (SELECT coalesce(json_object_agg(slot_name, safe_wal_size), '{}'::json) FROM pg_replication_slots),
  'archiver', (SELECT json_build_object('archived_count', archived_count, 'last_archived_wal', last_archived_wal,
                      'last_archived_time', last_archived_time, 'failed_count', failed_count,
                      'last_failed_wal', last_failed_wal, 'last_failed_time', last_failed_time)
               FROM pg_stat_archiver),
  'backends', (SELECT coalesce(json_agg(backend_type ORDER BY backend_type), '[]'::json) FROM pg_stat_activity),
  'waldir', (SELECT json_build_object('bytes', coalesce(sum(size), 0)::bigint,
                    'segments', count(*) FILTER (WHERE name ~ '^[0-9A-F]{24}$'))
             FROM pg_ls_waldir()))";

/// `pg_ls_waldir()`: what PostgreSQL itself counts in pg_wal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WalDir {
    /// `sum(size)`.
    pub bytes: u64,
    /// Files named like WAL segments.
    pub segments: u64,
}

/// What a live probe saw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveFacts {
    /// The server, as given (any password masked).
    pub server: String,
    /// `server_version_num`.
    pub version: u32,
    /// `pg_is_in_recovery()`: a standby.
    pub in_recovery: bool,
    /// `pg_settings`.
    #[serde(skip)]
    pub settings: BTreeMap<String, RuntimeSetting>,
    /// `pg_replication_slots`.
    pub slots: Vec<ReplicationSlot>,
    /// `safe_wal_size` per slot (bytes left before it is lost; `None` when unlimited).
    pub slot_safe_wal_size: BTreeMap<String, Option<i64>>,
    /// `pg_stat_archiver`.
    pub archiver: ArchiverStats,
    /// `backend_type` of every process in `pg_stat_activity`.
    pub backends: Vec<String>,
    /// `pg_ls_waldir()`.
    pub waldir: WalDir,
}

impl LiveFacts {
    /// The backends as process titles (`postgres: archiver`), so the
    /// contract's process rules read them as they read `ps` output.
    pub fn processes(&self) -> Vec<Process> {
        self.backends
            .iter()
            .enumerate()
            .map(|(i, b)| Process {
                command: format!("postgres: {b}"),
                line: i + 1,
            })
            .collect()
    }

    /// Whether a backend of `backend_type` runs.
    pub fn runs(&self, backend_type: &str) -> bool {
        self.backends.iter().any(|b| b == backend_type)
    }
}

/// Parses the answer to [`LIVE_QUERY`]; `server` names the server (masked).
pub fn parse_live(text: &str, server: &str) -> Result<LiveFacts> {
    let origin = format!("live probe of {server}");
    let v: Value = serde_json::from_str(text.trim()).map_err(|e| Error::json(&origin, &e))?;
    let field = |k: &str| -> Result<&Value> {
        v.get(k)
            .ok_or_else(|| Error::input(&origin, format!("the answer has no \"{k}\"")))
    };
    let settings = parse_pg_settings(
        &field("settings")?.to_string(),
        &format!("pg_settings ({server})"),
    )?;
    let slots = parse_slots(
        &field("slots")?.to_string(),
        &format!("pg_replication_slots ({server})"),
    )?;
    let typed = |k: &str| -> Result<Value> { field(k).cloned() };
    let json = |e: serde_json::Error| Error::json(&origin, &e);
    let slot_safe_wal_size: BTreeMap<String, Option<i64>> =
        serde_json::from_value(typed("slot_safe_wal_size")?).map_err(json)?;
    let mut slots = slots;
    for s in &mut slots {
        s.safe_wal_size = slot_safe_wal_size.get(&s.name).copied().flatten();
    }
    Ok(LiveFacts {
        server: server.to_string(),
        version: serde_json::from_value(typed("version")?).map_err(json)?,
        in_recovery: serde_json::from_value(typed("in_recovery")?).map_err(json)?,
        settings,
        slots,
        slot_safe_wal_size,
        archiver: serde_json::from_value(typed("archiver")?).map_err(json)?,
        backends: serde_json::from_value(typed("backends")?).map_err(json)?,
        waldir: serde_json::from_value(typed("waldir")?).map_err(json)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"version": 150010, "in_recovery": false,
      "settings": [{"name": "archive_mode", "setting": "on", "unit": null},
                   {"name": "max_wal_size", "setting": "96", "unit": "MB"}],
      "slots": [{"name": "forgotten", "active": false, "wal_status": "extended", "retained_bytes": 201326592}],
      "slot_safe_wal_size": {"forgotten": null},
      "archiver": {"archived_count": 0, "last_archived_wal": null, "last_archived_time": null,
                   "failed_count": 7, "last_failed_wal": "000000010000000000000003",
                   "last_failed_time": "2026-02-05T11:59:00.123+00:00"},
      "backends": ["archiver", "checkpointer", "client backend"],
      "waldir": {"bytes": 100663296, "segments": 6}}"#;

    #[test]
    fn the_answer_reads_as_the_file_inputs_would() {
        let l = parse_live(ANSWER, "host=/tmp/pg").unwrap();
        assert_eq!(l.settings["max_wal_size"].unit.as_deref(), Some("MB"));
        assert_eq!(l.slots[0].name, "forgotten");
        assert!(!l.slots[0].active);
        assert_eq!(l.slots[0].retained_bytes, Some(201326592));
        assert_eq!(l.slots[0].safe_wal_size, None, "unlimited");
        let now = "2026-02-05T12:00:00Z".parse().unwrap();
        assert!(l.archiver.failing(now, crate::units::Span::mins(15)));
        assert!(l.runs("archiver"));
        assert!(l.processes().iter().any(|p| p.is_pg("archiver")));
        assert_eq!(l.waldir.segments, 6);
        let e = parse_live("{\"version\": 1}", "h").unwrap_err().to_string();
        assert!(
            e.contains("live probe of h") && e.contains("settings"),
            "{e}"
        );
    }

    #[test]
    fn archiving_fails_when_the_last_attempt_failed_recently() {
        let t = |s: &str| Some(s.parse::<chrono::DateTime<chrono::Utc>>().unwrap());
        let now = t("2026-02-05T11:10:00Z").unwrap();
        let recent = crate::units::Span::mins(15);
        let mut a = ArchiverStats::default();
        assert!(!a.failing(now, recent));
        a.last_failed_time = t("2026-02-05T11:00:00Z");
        assert!(a.failing(now, recent));
        // The same statistics read an hour later (they survive restarts, and
        // failed_count only ever grows): history, not "failing now".
        a.failed_count = 40;
        assert!(!a.failing(t("2026-02-05T12:10:00Z").unwrap(), recent));
        a.last_archived_time = t("2026-02-05T11:05:00Z");
        assert!(!a.failing(now, recent), "archived since");
    }
}
