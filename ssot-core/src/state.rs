//! The state directory's files as typed records (SPEC §3).
//!
//! Each record knows how to read itself from a [`StateFile`] (failing with
//! the file, line and key) and how to write itself back into one, keeping the
//! keys it does not own. [`StateInput`] is what a host adapter hands the pure
//! core: the raw bytes of a file, or why there are none.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::statefile::StateFile;
use crate::units::{ByteSize, Setting, Span};
use crate::wal::{Level, PreviousStatus, WalReport, WalSample, WalSettings};

/// `wal.status`: the WAL status (seed field names).
pub const WAL_STATUS: &str = "wal.status";
/// `wal.last_check`: time of the last completed measurement.
pub const WAL_LAST_CHECK: &str = "wal.last_check";
/// `wal.history`: recent samples for the growth rate (JSON lines).
pub const WAL_HISTORY: &str = "wal.history";
/// `wal.settings`: WAL settings as declared by the source of truth.
pub const WAL_SETTINGS: &str = "wal.settings";
/// `contract.status`: the architecture contract's verdict.
pub const CONTRACT_STATUS: &str = "contract.status";
/// `retention.status`: the last retention apply per profile.
pub const RETENTION_STATUS: &str = "retention.status";
/// `backup.status`: the latest backup and the newest complete one.
pub const BACKUP_STATUS: &str = "backup.status";
/// `restore_drill.status`: the latest restore drill and the last passed one.
pub const RESTORE_DRILL_STATUS: &str = "restore_drill.status";
/// `dr_drill.status`: the latest DR drill with measured RTO/RPO.
pub const DR_DRILL_STATUS: &str = "dr_drill.status";
/// `gate.log`: every gate decision, one JSON object a line.
pub const GATE_LOG: &str = "gate.log";
/// `active_pvc.list`: PVCs that hold SSOT data.
pub const ACTIVE_PVC_LIST: &str = "active_pvc.list";

/// Formats a timestamp the way every state file does: RFC 3339, UTC, seconds.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp (any offset) into UTC.
pub fn parse_timestamp(s: &str) -> std::result::Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 timestamp ({e})"))
}

/// The contents of one state file as the host found it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase", deny_unknown_fields)]
pub enum StateInput {
    /// The file does not exist.
    Missing {
        /// Its path.
        path: String,
    },
    /// The file exists but could not be read (permissions, I/O error, a directory).
    Unreadable {
        /// Its path.
        path: String,
        /// The error.
        error: String,
    },
    /// The file was read.
    Present {
        /// Its path.
        path: String,
        /// Its bytes (a UTF-8 string in JSON).
        #[serde(serialize_with = "ser_bytes", deserialize_with = "de_bytes")]
        content: Vec<u8>,
    },
}

fn ser_bytes<S: Serializer>(b: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

fn de_bytes<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<u8>, D::Error> {
    String::deserialize(d).map(String::into_bytes)
}

impl StateInput {
    /// The file's path.
    pub fn path(&self) -> &str {
        match self {
            StateInput::Missing { path }
            | StateInput::Unreadable { path, .. }
            | StateInput::Present { path, .. } => path,
        }
    }

    /// Parses a present file; `Ok(None)` when missing. Unreadable is an error.
    pub fn parse(&self) -> Result<Option<StateFile>> {
        match self {
            StateInput::Missing { .. } => Ok(None),
            StateInput::Unreadable { path, error } => {
                Err(Error::Input(format!("cannot read {path}: {error}")))
            }
            StateInput::Present { path, content } => StateFile::parse(content, path).map(Some),
        }
    }
}

/// Why a state file cannot be trusted. Each variant has its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untrusted {
    /// Not there.
    Missing(String),
    /// There, but unreadable.
    Unreadable(String, String),
    /// Readable, but malformed.
    Corrupt(String),
    /// Older than allowed.
    Stale {
        /// The file.
        path: String,
        /// Its timestamp.
        at: DateTime<Utc>,
        /// Its age in seconds.
        age_secs: i64,
        /// The allowed age.
        max: Span,
    },
    /// Written in the future (clock skew or tampering).
    FutureDated {
        /// The file.
        path: String,
        /// Its timestamp.
        at: DateTime<Utc>,
        /// How far ahead of `now`, in seconds.
        ahead_secs: i64,
    },
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Untrusted::Missing(p) => write!(f, "{p} is missing"),
            Untrusted::Unreadable(p, e) => write!(f, "{p} is unreadable: {e}"),
            Untrusted::Corrupt(e) => write!(f, "corrupt: {e}"),
            Untrusted::Stale {
                path,
                at,
                age_secs,
                max,
            } => write!(
                f,
                "{path} is stale: checked_at {} is {} old, more than the allowed {max}",
                timestamp(*at),
                crate::num::human_secs(*age_secs as f64)
            ),
            Untrusted::FutureDated {
                path,
                at,
                ahead_secs,
            } => write!(
                f,
                "{path} is future-dated: checked_at {} is {} ahead of now",
                timestamp(*at),
                crate::num::human_secs(*ahead_secs as f64)
            ),
        }
    }
}

/// Checks a timestamp against `now`: not older than `max_age`, not later than
/// `now + max_skew`.
pub fn check_fresh(
    path: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_age: Span,
    max_skew: Span,
) -> std::result::Result<(), Untrusted> {
    let age = now - at;
    if age < -max_skew.to_delta() {
        return Err(Untrusted::FutureDated {
            path: path.into(),
            at,
            ahead_secs: -age.num_seconds(),
        });
    }
    if age > max_age.to_delta() {
        return Err(Untrusted::Stale {
            path: path.into(),
            at,
            age_secs: age.num_seconds(),
            max: max_age,
        });
    }
    Ok(())
}

/// Loads a state file that must exist and parse, mapping every failure to
/// its own [`Untrusted`] kind.
pub fn load_required(input: &StateInput) -> std::result::Result<StateFile, Untrusted> {
    match input {
        StateInput::Missing { path } => Err(Untrusted::Missing(path.clone())),
        StateInput::Unreadable { path, error } => {
            Err(Untrusted::Unreadable(path.clone(), error.clone()))
        }
        StateInput::Present { path, content } => {
            StateFile::parse(content, path).map_err(|e| Untrusted::Corrupt(e.to_string()))
        }
    }
}

fn parse_time_key(f: &StateFile, key: &str) -> Result<DateTime<Utc>> {
    let (line, v) = f.entry(key).ok_or_else(|| Error::MissingKey {
        path: f.path().to_string(),
        key: key.into(),
    })?;
    parse_timestamp(v).map_err(|m| f.invalid(key, line, format!("\"{v}\" is {m}")))
}

/// The gate's view of `wal.status`.
#[derive(Debug, Clone, PartialEq)]
pub struct WalStatusRecord {
    /// `wal_status`.
    pub status: Level,
    /// `checked_at`.
    pub checked_at: DateTime<Utc>,
    /// `active_rules` (comma separated).
    pub active_rules: Vec<String>,
    /// `reason.N` lines, in order.
    pub reasons: Vec<String>,
}

impl WalStatusRecord {
    /// Reads the record; every key problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let (line, s) = f.entry("wal_status").ok_or_else(|| Error::MissingKey {
            path: f.path().into(),
            key: "wal_status".into(),
        })?;
        let status = Level::from_str(s).map_err(|e| {
            f.invalid(
                "wal_status",
                line,
                e.to_string()
                    .trim_start_matches("invalid input: ")
                    .to_string(),
            )
        })?;
        let checked_at = parse_time_key(f, "checked_at")?;
        let active_rules = f
            .get("active_rules")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let count: usize = f.parse_optional("reason_count")?.unwrap_or(0);
        let reasons = (1..=count)
            .filter_map(|i| f.get(&format!("reason.{i}")).map(String::from))
            .collect();
        Ok(WalStatusRecord {
            status,
            checked_at,
            active_rules,
            reasons,
        })
    }

    /// The hysteresis input for the next evaluation.
    pub fn previous(&self) -> PreviousStatus {
        PreviousStatus {
            status: self.status,
            active_rules: self.active_rules.clone(),
        }
    }
}

fn set_opt(f: &mut StateFile, key: &str, v: Option<String>) -> Result<()> {
    match v {
        Some(v) => f.set(key, v),
        None => {
            f.remove(key);
            Ok(())
        }
    }
}

/// Writes `report` into `file` (the previous `wal.status`, or an empty one),
/// replacing the keys ssot owns and keeping all others.
pub fn write_wal_status(file: &mut StateFile, report: &WalReport) -> Result<()> {
    let num = |v: f64| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            format!("{v:.2}")
        }
    };
    file.set("wal_status", report.status)?;
    set_opt(file, "wal_used_pct", report.wal_used_pct.map(num))?;
    set_opt(file, "wal_size", report.wal_size.map(|v| v.to_string()))?;
    file.set("threshold_pct", num(report.threshold_pct))?;
    file.set("checked_at", timestamp(report.checked_at))?;
    set_opt(
        file,
        "segment_count",
        report.segment_count.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "ready_count",
        report.ready_count.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "volume_total_bytes",
        report.volume_total_bytes.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "volume_available_bytes",
        report.volume_available_bytes.map(|v| v.to_string()),
    )?;
    file.set("soft_limit_bytes", report.soft_limit_bytes)?;
    set_opt(
        file,
        "wal_growth_bytes_per_second",
        report.wal_growth_bytes_per_second.map(num),
    )?;
    set_opt(
        file,
        "volume_growth_bytes_per_second",
        report.volume_growth_bytes_per_second.map(num),
    )?;
    set_opt(file, "seconds_to_error", report.seconds_to_error.map(num))?;
    file.set("active_rules", report.active_rules().join(","))?;
    file.remove_prefix("reason.");
    file.set("reason_count", report.reasons.len())?;
    for (i, r) in report.reasons.iter().enumerate() {
        file.set(
            &format!("reason.{}", i + 1),
            format!("{} {}: {}", r.level, r.rule, r.message),
        )?;
    }
    Ok(())
}

/// Parses `wal.history` (one JSON [`WalSample`] a line).
pub fn parse_wal_history(input: &StateInput) -> Result<Vec<WalSample>> {
    let file = match input {
        StateInput::Missing { .. } => return Ok(Vec::new()),
        StateInput::Unreadable { path, error } => {
            return Err(Error::Input(format!("cannot read {path}: {error}")))
        }
        StateInput::Present { path, content } => (path, content),
    };
    let text = std::str::from_utf8(file.1).map_err(|e| Error::Syntax {
        path: file.0.clone(),
        line: 1,
        message: format!("invalid UTF-8: {e}"),
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Syntax {
                path: file.0.clone(),
                line: i + 1,
                message: format!("not a WAL sample: {e}"),
            })
        })
        .collect()
}

/// Renders `wal.history`.
pub fn render_wal_history(samples: &[WalSample]) -> String {
    samples
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default() + "\n")
        .collect()
}

/// Reads `wal.settings` (keys `max_wal_size`, `min_wal_size`, `wal_keep_size`,
/// `wal_segment_size`, `max_slot_wal_keep_size`, `archive_mode`), PostgreSQL
/// units; absent keys keep the value from `defaults`.
pub fn parse_wal_settings(f: &StateFile, defaults: &WalSettings) -> Result<WalSettings> {
    let mut s = defaults.clone();
    let size = |key: &str| -> Result<Option<ByteSize>> {
        match f.entry(key) {
            None => Ok(None),
            Some((line, v)) => ByteSize::parse(v)
                .map(Some)
                .map_err(|e| f.invalid(key, line, e.to_string())),
        }
    };
    if let Some(v) = size("max_wal_size")? {
        s.max_wal_size = v;
    }
    if let Some(v) = size("min_wal_size")? {
        s.min_wal_size = v;
    }
    if let Some(v) = size("wal_keep_size")? {
        s.wal_keep_size = v;
    }
    if let Some(v) = size("wal_segment_size")? {
        s.wal_segment_size = v;
    }
    if let Some((line, v)) = f.entry("max_slot_wal_keep_size") {
        s.max_slot_wal_keep_size = match ByteSize::parse_setting(v, 1 << 20)
            .map_err(|e| f.invalid("max_slot_wal_keep_size", line, e.to_string()))?
        {
            Setting::Unset => None,
            Setting::Value(b) => Some(b),
        };
    }
    if let Some((line, v)) = f.entry("archive_mode") {
        s.archive_mode = match v {
            "on" | "always" | "true" => true,
            "off" | "false" | "" => false,
            other => {
                return Err(f.invalid(
                    "archive_mode",
                    line,
                    format!("\"{other}\" is not on, off or always"),
                ))
            }
        };
    }
    Ok(s)
}

/// `contract.status`'s verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ContractVerdict {
    /// Every invariant holds.
    Pass,
    /// Some invariant fails.
    Fail,
    /// No invariant fails, but some could not be checked.
    Unknown,
}

impl ContractVerdict {
    /// `PASS`, `FAIL`, `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVerdict::Pass => "PASS",
            ContractVerdict::Fail => "FAIL",
            ContractVerdict::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for ContractVerdict {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "PASS" => Ok(ContractVerdict::Pass),
            "FAIL" => Ok(ContractVerdict::Fail),
            "UNKNOWN" => Ok(ContractVerdict::Unknown),
            other => Err(format!("\"{other}\" is not PASS, FAIL or UNKNOWN")),
        }
    }
}

/// The gate's (and the stage registry's) view of `contract.status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractStatusRecord {
    /// `contract_status`.
    pub verdict: ContractVerdict,
    /// `checked_at`.
    pub checked_at: DateTime<Utc>,
    /// `invariant.<id>` = `pass` / `fail` / `unknown`.
    pub invariants: std::collections::BTreeMap<String, String>,
    /// `limitation.<name>` = `off` / `on` / `unverified`.
    pub limitations: std::collections::BTreeMap<String, String>,
}

impl ContractStatusRecord {
    /// Reads the record.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let (line, v) = f
            .entry("contract_status")
            .ok_or_else(|| Error::MissingKey {
                path: f.path().into(),
                key: "contract_status".into(),
            })?;
        let verdict = v
            .parse()
            .map_err(|m: String| f.invalid("contract_status", line, m))?;
        let family = |prefix: &str| {
            f.pairs()
                .filter_map(|(k, v)| {
                    k.strip_prefix(prefix)
                        .map(|id| (id.to_string(), v.to_string()))
                })
                .collect()
        };
        Ok(ContractStatusRecord {
            verdict,
            checked_at: parse_time_key(f, "checked_at")?,
            invariants: family("invariant."),
            limitations: family("limitation."),
        })
    }
}

/// Writes a contract report into `contract.status`, replacing ssot's keys.
pub fn write_contract_status(
    file: &mut StateFile,
    r: &crate::contract::ContractReport,
) -> Result<()> {
    use crate::contract::InvariantStatus;
    file.set("contract_status", r.status.as_str())?;
    file.set("checked_at", timestamp(r.checked_at))?;
    file.set("invariant_count", r.invariants.len())?;
    let ids = |s: InvariantStatus| {
        r.with_status(s)
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    file.set("failed", ids(InvariantStatus::Fail))?;
    file.set("unknown", ids(InvariantStatus::Unknown))?;
    for prefix in ["invariant.", "message.", "limitation."] {
        file.remove_prefix(prefix);
    }
    for i in &r.invariants {
        file.set(&format!("invariant.{}", i.id), i.status.as_str())?;
        if i.status != InvariantStatus::Pass {
            file.set(
                &format!("message.{}", i.id),
                i.message.replace(['\n', '\r'], " "),
            )?;
        }
    }
    for l in &r.limitations {
        let s = match l.status {
            crate::contract::LimitationStatus::Off => "off",
            crate::contract::LimitationStatus::On => "on",
            crate::contract::LimitationStatus::Unverified => "unverified",
        };
        file.set(&format!("limitation.{}", l.name), s)?;
    }
    Ok(())
}

/// Writes the declared WAL settings (`wal.settings`): the keys given, plus `checked_at`.
pub fn write_wal_settings(
    file: &mut StateFile,
    settings: &std::collections::BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> Result<()> {
    for (k, v) in settings {
        file.set(k, v)?;
    }
    file.set("checked_at", timestamp(at))
}
