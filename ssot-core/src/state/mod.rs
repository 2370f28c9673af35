//! The state directory's files as typed records (SPEC §3).
//!
//! Each record knows how to read itself from a [`StateFile`] (failing with
//! the file, line and key) and how to write itself back into one, keeping the
//! keys it does not own. [`StateInput`] is what a host adapter hands the pure
//! core: the raw bytes of a file, or why there are none.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::statefile::StateFile;
use crate::units::Span;

mod contract;
mod evidence;
mod gatelog;
mod names;
mod retention;
mod trust;
mod wal;

pub use contract::{write_contract_status, write_wal_settings, ContractStatusRecord};
pub use evidence::{
    write_backup, write_dr_drill, write_recent, write_restore_drill, write_verify, BackupAttempt,
    BackupStatusRecord, DrDrillRecord, DrillRecorded, RestoreDrillRecord, RECENT_KEPT,
    VERIFIED_KEPT,
};
pub use retention::{write_retention_run, RetentionRun, RetentionRunWrite, RetentionStatusRecord};
pub use wal::{
    parse_wal_history, parse_wal_settings, reason_rule, render_wal_history, write_wal_status,
    WalSettingsRecord, WalStatusRecord,
};

/// `wal.status`: the WAL status (seed field names).
pub const WAL_STATUS: &str = StateFileName::WalStatus.as_str();
/// `wal.last_check`: time of the last completed measurement.
pub const WAL_LAST_CHECK: &str = StateFileName::WalLastCheck.as_str();
/// `wal.history`: recent samples for the growth rate (JSON lines).
pub const WAL_HISTORY: &str = StateFileName::WalHistory.as_str();
/// `wal.probe`: what the last live probe that answered saw (JSON: when,
/// the server, its slots and archiver), so a server that goes down is still
/// described by its last good facts, dated.
pub const WAL_PROBE: &str = StateFileName::WalProbe.as_str();
/// `wal.settings`: WAL settings as declared by the source of truth.
pub const WAL_SETTINGS: &str = StateFileName::WalSettings.as_str();
/// `contract.status`: the architecture contract's verdict.
pub const CONTRACT_STATUS: &str = StateFileName::ContractStatus.as_str();
/// `retention.status`: the last retention apply per profile.
pub const RETENTION_STATUS: &str = StateFileName::RetentionStatus.as_str();
/// `backup.status`: the latest backup and the newest complete one.
pub const BACKUP_STATUS: &str = StateFileName::BackupStatus.as_str();
/// `restore_drill.status`: the latest restore drill and the last passed one.
pub const RESTORE_DRILL_STATUS: &str = StateFileName::RestoreDrillStatus.as_str();
/// `dr_drill.status`: the latest DR drill with measured RTO/RPO.
pub const DR_DRILL_STATUS: &str = StateFileName::DrDrillStatus.as_str();
/// `verify.status`: what the last `ssot verify` found.
pub const VERIFY_STATUS: &str = StateFileName::VerifyStatus.as_str();
/// `gate.log`: every gate decision, one JSON object a line.
pub const GATE_LOG: &str = StateFileName::GateLog.as_str();
/// `active_pvc.list`: PVCs that hold SSOT data.
pub const ACTIVE_PVC_LIST: &str = StateFileName::ActivePvcList.as_str();

/// The most bytes read from a state file ([`StateFileName::max_bytes`]);
/// anything larger is not a file ssot wrote and reads as
/// [`StateInput::Invalid`]. `gate.log` is read as a tail of
/// [`GATE_LOG_TAIL`] bytes instead.
pub fn size_limit(name: &str) -> u64 {
    name.parse::<StateFileName>()
        .map_or(1 << 20, StateFileName::max_bytes)
}

/// How much of the end of `gate.log` the report and the stage check read.
pub const GATE_LOG_TAIL: u64 = 16 << 20;

pub use crate::time::{parse_timestamp, timestamp};
pub use gatelog::GateLog;
pub use names::StateFileName;
pub use trust::{freshness_of, load_trusted, Freshness, Record, Trust, TIMESTAMPED};

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
    /// The file exists but is not something ssot accepts as its own: a
    /// symbolic link, a FIFO, a device, a directory, or larger than any file
    /// ssot writes. It is treated as corrupt (a gate denies).
    Invalid {
        /// Its path.
        path: String,
        /// What is wrong with it (`is a symbolic link; ...`, `is a FIFO, not a regular file`).
        problem: String,
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
            | StateInput::Invalid { path, .. }
            | StateInput::Present { path, .. } => path,
        }
    }

    /// Parses a present file; `Ok(None)` when missing. Unreadable is an error.
    pub fn parse(&self) -> Result<Option<StateFile>> {
        match self {
            StateInput::Missing { .. } => Ok(None),
            StateInput::Unreadable { path, error } => Err(Error::Unreadable {
                path: path.clone(),
                error: error.clone(),
            }),
            StateInput::Invalid { path, problem } => Err(Error::UnsafeFile {
                path: path.into(),
                problem: problem.clone(),
            }),
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
        /// The key holding the time (`checked_at`, `last_complete_at`, ...).
        key: &'static str,
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
        /// The key holding the time.
        key: &'static str,
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
                key,
                at,
                age_secs,
                max,
            } => write!(
                f,
                "{path} is stale: {key} {} is {} old, more than the allowed {max}",
                timestamp(*at),
                crate::num::human_secs(*age_secs as f64)
            ),
            Untrusted::FutureDated {
                path,
                key,
                at,
                ahead_secs,
            } => write!(
                f,
                "{path} is future-dated: {key} {} is {} ahead of now",
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
    key: &'static str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_age: Span,
    max_skew: Span,
) -> std::result::Result<(), Untrusted> {
    let age = now - at;
    if age < -max_skew.to_delta() {
        return Err(Untrusted::FutureDated {
            path: path.into(),
            key,
            at,
            ahead_secs: -age.num_seconds(),
        });
    }
    if age > max_age.to_delta() {
        return Err(Untrusted::Stale {
            path: path.into(),
            key,
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
        StateInput::Invalid { path, problem } => {
            Err(Untrusted::Corrupt(format!("{path} {problem}")))
        }
        StateInput::Present { path, content } => {
            StateFile::parse(content, path).map_err(|e| Untrusted::Corrupt(e.to_string()))
        }
    }
}

/// Checks a present state file the way its reader does: the syntax, and
/// every typed field of the records ssot owns. `Ok` for files with no typed
/// record (`wal.last_check`, `active_pvc.list` are plain lines).
pub fn validate(name: &str, f: &StateFile) -> Result<()> {
    match name {
        WAL_STATUS => WalStatusRecord::from_file(f).map(drop),
        CONTRACT_STATUS => ContractStatusRecord::from_file(f).map(drop),
        BACKUP_STATUS => BackupStatusRecord::from_file(f).map(drop),
        RESTORE_DRILL_STATUS => RestoreDrillRecord::from_file(f).map(drop),
        DR_DRILL_STATUS => DrDrillRecord::from_file(f).map(drop),
        RETENTION_STATUS => RetentionStatusRecord::from_file(f).map(drop),
        WAL_SETTINGS => WalSettingsRecord::from_file(f).map(drop),
        _ => Ok(()),
    }
}

/// Loads a typed record that must exist: every way it can fail to be
/// trusted (missing, unreadable, refused, corrupt syntax, a bad field) is an
/// [`Untrusted`] with its own message. Freshness is the caller's, with [`check_fresh`].
pub fn load_record<R>(
    input: &StateInput,
    parse: impl FnOnce(&StateFile) -> Result<R>,
) -> std::result::Result<R, Untrusted> {
    let f = load_required(input)?;
    parse(&f).map_err(|e| Untrusted::Corrupt(e.to_string()))
}
