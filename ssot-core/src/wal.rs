//! The deterministic WAL status (seed: "WAL Status Model", "WAL — STOP-FACTOR").
//!
//! [`evaluate`] turns [`WalFacts`] (what was measured), a [`WalPolicy`] (the
//! thresholds) and `now` into a [`WalReport`]: one of four [`Level`]s, worst
//! wins, with a [`Reason`] for every rule that fired. It reads no clock, file
//! or environment; the same inputs always give the same report.
//!
//! The rules, by level:
//!
//! | rule | level | fires when |
//! |---|---|---|
//! | `measurement_failed` | ERROR | pg_wal or its volume could not be measured |
//! | `volume_used_error` | ERROR | volume used ≥ `volume_error_pct` |
//! | `volume_free_floor` | ERROR | volume available < `min_free_bytes` |
//! | `wal_far_beyond_soft_limit` | ERROR | pg_wal > `hard_limit_factor` × soft limit |
//! | `slot_lost` | ERROR | a replication slot's `wal_status` is `lost` |
//! | `time_to_error` | ERROR | volume predicted to reach the error threshold within `error_horizon` |
//! | `volume_used_near` | NEAR_LIMIT | volume used ≥ `volume_near_pct` |
//! | `wal_over_soft_limit` | NEAR_LIMIT | pg_wal > soft limit = `max_wal_size` + `wal_keep_size` |
//! | `slot_unreserved` | NEAR_LIMIT | a slot's `wal_status` is `unreserved` (lost at the next checkpoint) |
//! | `slot_safe_wal_low` | NEAR_LIMIT | a slot's `safe_wal_size` (bytes before PostgreSQL invalidates it) is below `max_wal_size`, what one checkpoint cycle may write |
//! | `time_to_near` | NEAR_LIMIT | volume predicted to reach the error threshold within `near_horizon` |
//! | `wal_growing` | GROWING | pg_wal grew monotonically by ≥ `growth_min_bytes` over `growth_window` |
//! | `ready_backlog` | GROWING | `.ready` files waiting while archiving is declared off (or more than `archive_ready_max` when on) |
//! | `slot_inactive` | GROWING | an inactive slot holds WAL back |
//! | `postgres_unreachable` | ERROR | a live probe was asked for and nothing answered (no server on the socket or port, connection refused, timed out) |
//! | `archiver_failing` | GROWING | the live probe's `pg_stat_archiver` shows the last attempt failed, within `growth_window` |
//! | `postgres_starting` | ERROR | the server answered that it is starting up |
//! | `postgres_in_recovery` | ERROR | the server answered that it is replaying WAL (crash recovery, or archive recovery not yet consistent) and accepts no connections yet |
//! | `postgres_refused` | ERROR | the server answered but refuses connections for another reason (shutting down, too many clients) |
//! | `postgres_auth_failed` | ERROR | the server refused the probe's role (password, `pg_hba.conf`, unknown role or database) |
//! | `postgres_privilege_missing` | ERROR | the probe's role may not read what the probe needs (`pg_monitor`) |
//! | `postgres_probe_unusable` | ERROR | the probe could not run: no `psql`, or a DSN libpq cannot parse |
//!
//! The `postgres_*` rules judge a running server through the live probe;
//! [`is_probe_rule`] tells them. A server that does not answer is a fact for
//! the report and the backup gates, never a reason to refuse starting it:
//! the startup gate leaves these rules out.
//!
//! `wal_growing` and the `time_to_*` rules judge a rate only over a span of
//! at least `rate_min_span` (from the oldest sample in the window to now):
//! several checks within a second are no rate.
//!
//! **Hysteresis.** A threshold rule that was active in the previous report
//! stays active until its value clears the threshold by `hysteresis_fraction`
//! of the threshold (80 % → released below 76 % with the default 0.05), so a
//! value hovering at a threshold does not flap. Such a reason says so.
//!
//! ```
//! use ssot_core::wal::{evaluate, Level, VolumeStats, WalFacts, WalPolicy};
//! let facts = WalFacts::new(96 << 20, 6, VolumeStats::new(100 << 30, 62 << 30));
//! let now = "2026-02-05T12:00:00Z".parse()?;
//! let report = evaluate(&facts, &WalPolicy::default(), now);
//! assert_eq!(report.status, Level::Ok);
//! assert_eq!(report.wal_used_pct, Some(38.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::num::{human_bytes, human_secs, pct, pct_floor_2, ser_opt_num};
use crate::units::{ByteSize, Span};

/// The four WAL states, ordered so that the worst compares greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Level {
    /// Within limits: operations are allowed.
    #[serde(rename = "OK")]
    Ok,
    /// Growth detected: operations are denied until it settles.
    #[serde(rename = "GROWING")]
    Growing,
    /// Approaching a critical threshold.
    #[serde(rename = "NEAR_LIMIT")]
    NearLimit,
    /// At risk of overflow, or the state is unknown.
    #[serde(rename = "ERROR")]
    Error,
}

impl Level {
    /// The seed's spelling: `OK`, `GROWING`, `NEAR_LIMIT`, `ERROR`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Growing => "GROWING",
            Level::NearLimit => "NEAR_LIMIT",
            Level::Error => "ERROR",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "OK" => Ok(Level::Ok),
            "GROWING" => Ok(Level::Growing),
            "NEAR_LIMIT" => Ok(Level::NearLimit),
            "ERROR" => Ok(Level::Error),
            other => Err(Error::InvalidName {
                what: "WAL status",
                value: other.into(),
                message: "expected OK, GROWING, NEAR_LIMIT or ERROR".into(),
            }),
        }
    }
}

/// Every WAL rule id with the level it asserts (the table in the module docs).
pub const RULES: [(&str, Level); 22] = [
    ("measurement_failed", Level::Error),
    ("postgres_unreachable", Level::Error),
    ("postgres_starting", Level::Error),
    ("postgres_in_recovery", Level::Error),
    ("postgres_refused", Level::Error),
    ("postgres_auth_failed", Level::Error),
    ("postgres_privilege_missing", Level::Error),
    ("postgres_probe_unusable", Level::Error),
    ("volume_used_error", Level::Error),
    ("volume_free_floor", Level::Error),
    ("wal_far_beyond_soft_limit", Level::Error),
    ("slot_lost", Level::Error),
    ("time_to_error", Level::Error),
    ("volume_used_near", Level::NearLimit),
    ("wal_over_soft_limit", Level::NearLimit),
    ("slot_unreserved", Level::NearLimit),
    ("slot_safe_wal_low", Level::NearLimit),
    ("time_to_near", Level::NearLimit),
    ("wal_growing", Level::Growing),
    ("ready_backlog", Level::Growing),
    ("slot_inactive", Level::Growing),
    ("archiver_failing", Level::Growing),
];

/// Whether `rule` judges a running server through the live probe (one of
/// [`ProbeFailure`]'s): the startup gate leaves those out (a server that
/// is down must be startable).
pub fn is_probe_rule(rule: &str) -> bool {
    ProbeFailure::ALL.iter().any(|c| c.rule() == rule)
}

/// Whether `rule` judges what the running server reported about itself
/// (its slots, its archiver). When the server does not answer, these come
/// from the last probe that did: facts for the report and the backup gates,
/// never a reason to keep the server from starting (a slot can only be
/// dropped while it runs).
pub fn is_server_fact_rule(rule: &str) -> bool {
    matches!(
        rule,
        "slot_lost"
            | "slot_unreserved"
            | "slot_safe_wal_low"
            | "slot_inactive"
            | "archiver_failing"
    )
}

/// Why a live probe failed, from libpq's and the server's own words: each
/// class has its own rule and its own advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFailure {
    /// Nothing answered: no server on the socket or port, refused, timed out.
    Unreachable,
    /// The server answered that it is starting up.
    Starting,
    /// The server answered that it is replaying WAL (crash recovery, or an
    /// archive recovery that has not reached consistency) and accepts no
    /// connections until it is done.
    InRecovery,
    /// A server answered but accepts no connections now for another reason:
    /// shutting down, out of connection slots.
    Refused,
    /// The server refused the probe's role or database.
    Authentication,
    /// Connected, but the role may not read what the probe needs.
    Privilege,
    /// The probe itself could not run: no `psql`, or a DSN libpq cannot parse.
    Unusable,
}

impl ProbeFailure {
    /// Every class.
    pub const ALL: [ProbeFailure; 7] = [
        ProbeFailure::Unreachable,
        ProbeFailure::Starting,
        ProbeFailure::InRecovery,
        ProbeFailure::Refused,
        ProbeFailure::Authentication,
        ProbeFailure::Privilege,
        ProbeFailure::Unusable,
    ];

    /// Classifies a failed probe by its message (libpq's and the server's
    /// texts are stable across PostgreSQL 12–17, in English: a server with
    /// another `lc_messages` answers in its language and reads as
    /// unreachable). Only the words after libpq's last "failed:" are the
    /// server's: a socket path or host name before it is not read.
    pub fn classify(why: &str) -> Self {
        let lower = why.to_ascii_lowercase();
        let w = lower
            .rsplit_once("failed:")
            .map_or(lower.as_str(), |(_, w)| w);
        let any = |needles: &[&str]| needles.iter().any(|n| w.contains(n));
        if lower.contains("cannot run ")
            || any(&[
                "invalid connection option",
                "missing \"=\" after",
                "invalid uri",
                "unterminated quoted string",
                "invalid integer value",
                "invalid sslmode value",
                "invalid port number",
            ])
        {
            ProbeFailure::Unusable
        } else if any(&[
            "permission denied for",
            "must be superuser",
            "must be a member of",
            "privileges of",
        ]) {
            ProbeFailure::Privilege
        } else if any(&["the database system is starting up"]) {
            ProbeFailure::Starting
        } else if any(&[
            "not yet accepting connections",
            "the database system is in recovery mode",
            "consistent recovery state has not been yet reached",
        ]) {
            ProbeFailure::InRecovery
        } else if any(&[
            "the database system is shutting down",
            "the database system is not accepting connections",
            "too many clients",
            "too many connections for",
            "remaining connection slots are reserved",
            "is not currently accepting connections",
        ]) {
            ProbeFailure::Refused
        } else if any(&[
            "authentication failed",
            "no password supplied",
            "password is required",
            "no pg_hba.conf entry",
            "pg_hba.conf rejects",
            "role \"",
            "database \"",
            "fe_sendauth",
        ]) {
            ProbeFailure::Authentication
        } else {
            ProbeFailure::Unreachable
        }
    }

    /// The rule this failure fires.
    pub const fn rule(self) -> &'static str {
        match self {
            ProbeFailure::Unreachable => "postgres_unreachable",
            ProbeFailure::Starting => "postgres_starting",
            ProbeFailure::InRecovery => "postgres_in_recovery",
            ProbeFailure::Refused => "postgres_refused",
            ProbeFailure::Authentication => "postgres_auth_failed",
            ProbeFailure::Privilege => "postgres_privilege_missing",
            ProbeFailure::Unusable => "postgres_probe_unusable",
        }
    }

    /// What the server did, as the end of "PostgreSQL at SERVER …".
    pub const fn what(self) -> &'static str {
        match self {
            ProbeFailure::Unreachable => "did not answer the live probe",
            ProbeFailure::Starting => "is starting up",
            ProbeFailure::InRecovery => "is in recovery and accepts no connections yet",
            ProbeFailure::Refused => "refuses connections",
            ProbeFailure::Authentication => "refused the live probe's role",
            ProbeFailure::Privilege => "does not let the live probe read what it needs",
            ProbeFailure::Unusable => "could not be probed: the probe itself cannot run",
        }
    }

    /// What the operator can do about it.
    pub const fn advice(self) -> &'static str {
        match self {
            ProbeFailure::Unreachable => {
                "is PostgreSQL running, and does the DSN name its socket directory or host and port?"
            }
            ProbeFailure::Starting => {
                "the server is starting: check again in a moment; if it stays here, read its log"
            }
            ProbeFailure::InRecovery => {
                "the server is replaying WAL and accepts connections when it reaches consistency: let it finish (do not delete anything from pg_wal), and follow its progress in its log"
            }
            ProbeFailure::Refused => {
                "the server is stopping or out of connection slots: check again when it accepts connections, or reserve a slot for the probe's role"
            }
            ProbeFailure::Authentication => {
                "give the probe a role pg_hba.conf admits, with its password in the DSN, a service file or .pgpass"
            }
            ProbeFailure::Privilege => {
                "the probe needs pg_monitor: GRANT pg_monitor TO the probe's role"
            }
            ProbeFailure::Unusable => {
                "install psql (Debian's postgresql-client) where ssot runs, and check the DSN's keywords and values"
            }
        }
    }
}

/// The level a rule asserts; `None` for an unknown rule id.
pub fn rule_level(rule: &str) -> Option<Level> {
    RULES.iter().find(|(r, _)| *r == rule).map(|(_, l)| *l)
}

/// Size of a filesystem as `statvfs` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VolumeStats {
    /// `f_blocks × f_frsize`.
    pub total_bytes: u64,
    /// `f_bavail × f_frsize`: what an unprivileged writer such as PostgreSQL can still use.
    pub available_bytes: u64,
    /// `f_bfree × f_frsize`: free blocks including those reserved for root,
    /// for `df`'s Use%; absent when not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_bytes: Option<u64>,
}

impl VolumeStats {
    /// A volume of `total_bytes` with `available_bytes` usable (no reserve known).
    pub const fn new(total_bytes: u64, available_bytes: u64) -> Self {
        VolumeStats {
            total_bytes,
            available_bytes,
            free_bytes: None,
        }
    }

    /// Bytes not available to an unprivileged writer (includes root-reserved blocks).
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.available_bytes)
    }

    /// Used % as the thresholds read it: root-reserved blocks count as used,
    /// since PostgreSQL cannot write them.
    pub fn used_pct(&self) -> f64 {
        if self.total_bytes == 0 {
            return 100.0;
        }
        self.used_bytes() as f64 * 100.0 / self.total_bytes as f64
    }

    /// Used % as `df` shows it: used / (used + available), the reserve left
    /// out of both; `None` when free blocks were not measured.
    pub fn df_used_pct(&self) -> Option<f64> {
        let free = self.free_bytes?;
        let used = self.total_bytes.saturating_sub(free);
        let base = used.saturating_add(self.available_bytes);
        Some(if base == 0 {
            0.0
        } else {
            (used as f64 * 100.0 / base as f64).ceil()
        })
    }
}

/// Another volume the cluster writes — PGDATA's own, a tablespace's — when
/// it is not the volume holding pg_wal. Each gets the volume rules; a
/// reason names what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchedVolume {
    /// Stable key in the history and in `wal.status`: `pgdata`,
    /// `tablespace_<oid>` (letters, digits and `_` only).
    pub key: String,
    /// What it holds, for messages: `PGDATA /var/lib/postgresql/data`.
    pub holds: String,
    /// Its size.
    pub volume: VolumeStats,
}

/// The report on one [`WatchedVolume`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VolumeReport {
    /// Its key.
    pub key: String,
    /// What it holds.
    pub holds: String,
    /// Total bytes.
    pub total_bytes: u64,
    /// Available bytes.
    pub available_bytes: u64,
    /// Used % as the thresholds read it, rounded down to 0.01.
    #[serde(serialize_with = "crate::num::ser_num")]
    pub used_pct: f64,
    /// Used % as `df` shows it, when known.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub df_used_pct: Option<f64>,
    /// Fill rate over its recent run, bytes per second.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub growth_bytes_per_second: Option<f64>,
    /// Predicted seconds until its error threshold.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub seconds_to_error: Option<f64>,
}

/// The WAL settings that bound pg_wal, as declared by the source of truth
/// (StatefulSet args, via `wal.settings`) or, absent that, by the configured
/// contract. Defaults are the seed's (STAGE 6 — WAL RETENTION GUARANTEE).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalSettings {
    /// `max_wal_size` (seed: 4GB).
    pub max_wal_size: ByteSize,
    /// `min_wal_size` (seed: 1GB).
    pub min_wal_size: ByteSize,
    /// `wal_keep_size` (seed: 0).
    pub wal_keep_size: ByteSize,
    /// `wal_segment_size` (PostgreSQL default 16MB).
    pub wal_segment_size: ByteSize,
    /// `max_slot_wal_keep_size`; `None` is PostgreSQL's `-1` (unlimited).
    pub max_slot_wal_keep_size: Option<ByteSize>,
    /// Whether WAL archiving is declared on (seed STAGE 5: off).
    pub archive_mode: bool,
}

impl Default for WalSettings {
    fn default() -> Self {
        WalSettings {
            max_wal_size: ByteSize::gib(4),
            min_wal_size: ByteSize::gib(1),
            wal_keep_size: ByteSize::from_bytes(0),
            wal_segment_size: ByteSize::mib(16),
            max_slot_wal_keep_size: None,
            archive_mode: false,
        }
    }
}

/// Segments PostgreSQL keeps beyond `max_wal_size` in its normal steady
/// state: the segment being written and the one being recycled into place.
pub const STEADY_STATE_SEGMENTS: u64 = 2;

impl WalSettings {
    /// The base soft limit on pg_wal: `max_wal_size + wal_keep_size`.
    pub fn soft_limit(&self) -> u64 {
        self.max_wal_size
            .bytes()
            .saturating_add(self.wal_keep_size.bytes())
    }

    /// What PostgreSQL normally keeps in pg_wal, the ceiling of
    /// `wal_over_soft_limit`: up to `max_wal_size` of recycled segments ahead
    /// of the redo point, plus behind it the larger of `wal_keep_size` and
    /// what the slots retain (capped by `max_slot_wal_keep_size`), plus the
    /// segments of [`STEADY_STATE_SEGMENTS`]. After a checkpoint PostgreSQL
    /// keeps exactly this much by design: it is not "over".
    pub fn normal_ceiling(&self, slots: &[ReplicationSlot]) -> u64 {
        let slot_need = slots
            .iter()
            .filter(|s| {
                s.active
                    && matches!(
                        s.wal_status,
                        None | Some(SlotWalStatus::Reserved) | Some(SlotWalStatus::Extended)
                    )
            })
            .filter_map(|s| s.retained_bytes)
            .max()
            .unwrap_or(0);
        let slot_need = match self.max_slot_wal_keep_size {
            Some(cap) => slot_need.min(cap.bytes()),
            None => slot_need,
        };
        self.max_wal_size
            .bytes()
            .saturating_add(self.wal_keep_size.bytes().max(slot_need))
            .saturating_add(
                self.wal_segment_size
                    .bytes()
                    .saturating_mul(STEADY_STATE_SEGMENTS),
            )
    }
}

/// `pg_replication_slots.wal_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotWalStatus {
    /// WAL within `max_wal_size`.
    Reserved,
    /// Beyond `max_wal_size` but retained by the slot or `wal_keep_size`.
    Extended,
    /// Will be removed at the next checkpoint.
    Unreserved,
    /// Required WAL is gone; the slot is unusable.
    Lost,
}

impl SlotWalStatus {
    /// PostgreSQL's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            SlotWalStatus::Reserved => "reserved",
            SlotWalStatus::Extended => "extended",
            SlotWalStatus::Unreserved => "unreserved",
            SlotWalStatus::Lost => "lost",
        }
    }
}

/// One row of `pg_replication_slots`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplicationSlot {
    /// `slot_name`.
    pub name: String,
    /// `active`.
    pub active: bool,
    /// `wal_status`, when known.
    #[serde(default)]
    pub wal_status: Option<SlotWalStatus>,
    /// Bytes of WAL the slot holds back (`pg_current_wal_lsn() - restart_lsn`), when known.
    #[serde(default)]
    pub retained_bytes: Option<u64>,
    /// `safe_wal_size`: bytes that can still be written before the slot is
    /// invalidated (`None`: unlimited, or not read).
    #[serde(default)]
    pub safe_wal_size: Option<i64>,
}

/// `pg_stat_archiver`, as a live probe reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ArchiverStats {
    /// WAL files archived.
    pub archived_count: u64,
    /// The last one archived.
    pub last_archived_wal: Option<String>,
    /// When.
    pub last_archived_time: Option<DateTime<Utc>>,
    /// Failed attempts.
    pub failed_count: u64,
    /// The last one that failed.
    pub last_failed_wal: Option<String>,
    /// When.
    pub last_failed_time: Option<DateTime<Utc>>,
}

impl ArchiverStats {
    /// True when archiving is failing now: the last attempt failed (a
    /// failure after the last success, or failures and no success at all)
    /// and that failure is no older than `within`. `failed_count` is
    /// cumulative since the statistics were last reset and survives
    /// restarts, so it says nothing about now; a failing archiver retries
    /// every minute, so an old last failure is history.
    pub fn failing(&self, now: DateTime<Utc>, within: Span) -> bool {
        let last_failed_after_success = match (self.last_failed_time, self.last_archived_time) {
            (Some(f), Some(a)) => f > a,
            (Some(_), None) => true,
            _ => false,
        };
        last_failed_after_success
            && self
                .last_failed_time
                .is_some_and(|f| f >= crate::num::minus(now, within))
    }
}

/// What a live probe of the server adds to a WAL check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveWalFacts {
    /// The server, as named (any password masked).
    pub server: String,
    /// Why it could not be probed, if it could not.
    #[serde(default)]
    pub unreachable: Option<String>,
    /// `pg_stat_archiver`, when probed.
    #[serde(default)]
    pub archiver: Option<ArchiverStats>,
    /// When the probe did not answer and the slots are the last good
    /// probe's: when that probe ran (the slot reasons say so).
    #[serde(default)]
    pub slots_seen_at: Option<DateTime<Utc>>,
    /// When the probe did not answer and `archiver` is the last good
    /// probe's: when that probe ran. The archiver is then judged as of that
    /// moment, and its reason says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archiver_seen_at: Option<DateTime<Utc>>,
    /// `pg_is_in_recovery()`: the server is a standby.
    #[serde(default)]
    pub in_recovery: bool,
    /// The server's own `wal_segment_size`, in bytes, when probed.
    #[serde(default)]
    pub wal_segment_size: Option<u64>,
}

/// What a live probe that answered saw, kept in `wal.probe` for when the
/// server stops answering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastProbe {
    /// When it answered.
    pub probed_at: DateTime<Utc>,
    /// The server, as named (masked).
    pub server: String,
    /// The PGDATA it was checked with: a server later found at the same DSN
    /// over another data directory is another server.
    #[serde(default)]
    pub pgdata: Option<String>,
    /// Its replication slots.
    pub slots: Vec<ReplicationSlot>,
    /// Its `pg_stat_archiver`.
    #[serde(default)]
    pub archiver: Option<ArchiverStats>,
}

/// An earlier measurement, for the growth rate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalSample {
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// pg_wal bytes then.
    pub wal_bytes: u64,
    /// Used bytes of the volume holding pg_wal then.
    pub volume_used_bytes: u64,
    /// Used bytes of each other watched volume then, by key.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub volumes: std::collections::BTreeMap<String, u64>,
}

/// What the previous report concluded, for hysteresis.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviousStatus {
    /// The previous status.
    pub status: Level,
    /// Rule ids that fired in the previous report.
    #[serde(default)]
    pub active_rules: Vec<String>,
}

/// Everything measured about WAL at one moment.
///
/// Built by [`crate::Ssot::check_wal`] from the host ports, or by hand in
/// tests and embedding programs ([`WalFacts::new`] fills the optional parts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalFacts {
    /// Sum of the sizes of the regular files directly in pg_wal (what
    /// `SELECT sum(size) FROM pg_ls_waldir()` reports).
    pub wal_bytes: u64,
    /// Number of WAL segment files (24 hex digits) in pg_wal.
    pub segment_count: u64,
    /// Number of `archive_status/*.ready` files.
    #[serde(default)]
    pub ready_count: u64,
    /// The volume that really holds pg_wal (after resolving a symlink).
    pub volume: VolumeStats,
    /// The other volumes the cluster writes (PGDATA's, tablespaces'), each
    /// on another device than pg_wal's.
    #[serde(default)]
    pub volumes: Vec<WatchedVolume>,
    /// Declared WAL settings; seed defaults when absent.
    #[serde(default)]
    pub settings: WalSettings,
    /// Replication slots; empty when none exist or none were read.
    #[serde(default)]
    pub slots: Vec<ReplicationSlot>,
    /// Earlier samples, any order; samples outside the growth window are ignored.
    #[serde(default)]
    pub history: Vec<WalSample>,
    /// The previous report's verdict, for hysteresis.
    #[serde(default)]
    pub previous: Option<PreviousStatus>,
    /// A live probe of the server, when one was asked for.
    #[serde(default)]
    pub live: Option<LiveWalFacts>,
}

impl WalFacts {
    /// Facts with the measured sizes and defaults for everything optional.
    pub fn new(wal_bytes: u64, segment_count: u64, volume: VolumeStats) -> Self {
        WalFacts {
            wal_bytes,
            segment_count,
            ready_count: 0,
            volume,
            volumes: Vec::new(),
            settings: WalSettings::default(),
            slots: Vec::new(),
            history: Vec::new(),
            previous: None,
            live: None,
        }
    }
}

/// Thresholds of the WAL status. Every default is documented with its origin
/// in the README's configuration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalPolicy {
    /// Volume used % at which status is NEAR_LIMIT; reported as `threshold_pct`.
    pub volume_near_pct: f64,
    /// Volume used % at which status is ERROR.
    pub volume_error_pct: f64,
    /// Available bytes under which status is ERROR; on a small volume the
    /// floor is the smaller of this and `min_free_fraction` of the volume.
    pub min_free_bytes: ByteSize,
    /// The free-space floor never exceeds this fraction of the volume (a
    /// 1GB floor cannot hold on a 600MB volume).
    pub min_free_fraction: f64,
    /// pg_wal beyond this multiple of the soft limit is ERROR.
    pub hard_limit_factor: f64,
    /// Window over which growth is judged.
    pub growth_window: Span,
    /// Net monotone growth within the window that counts as GROWING.
    pub growth_min_bytes: ByteSize,
    /// Samples (including the current one) needed before growth is judged.
    pub growth_min_samples: u32,
    /// The shortest span (oldest sample in the window to now) a growth rate is
    /// judged over; a shorter one extrapolates noise (several checks within a
    /// second during heavy writes once gave a false `time_to_error`).
    pub rate_min_span: Span,
    /// A fast fill is judged over a shorter span: when the volume would
    /// reach its error threshold sooner than `rate_min_span`, a rate over at
    /// least the predicted time left (and never less than this) counts, so a
    /// fill that ends within minutes still gets a prediction.
    pub rate_min_span_fast: Span,
    /// Predicted time to the error threshold under which status is NEAR_LIMIT.
    pub near_horizon: Span,
    /// Predicted time to the error threshold under which status is ERROR.
    pub error_horizon: Span,
    /// Fraction of a threshold by which a value must clear it to release a rule.
    pub hysteresis_fraction: f64,
    /// `.ready` files tolerated when archiving is declared on.
    pub archive_ready_max: u64,
    /// Most samples kept in the history file.
    pub history_max_samples: u32,
}

impl Default for WalPolicy {
    fn default() -> Self {
        WalPolicy {
            volume_near_pct: 80.0,
            volume_error_pct: 90.0,
            min_free_bytes: ByteSize::gib(1),
            min_free_fraction: 0.10,
            hard_limit_factor: 2.0,
            growth_window: Span::mins(15),
            growth_min_bytes: ByteSize::mib(256),
            growth_min_samples: 3,
            rate_min_span: Span::mins(5),
            rate_min_span_fast: Span::secs(10),
            near_horizon: Span::hours(6),
            error_horizon: Span::hours(1),
            hysteresis_fraction: 0.05,
            archive_ready_max: 16,
            history_max_samples: 120,
        }
    }
}

impl WalPolicy {
    /// Checks that the thresholds make sense together; the message names the key.
    pub fn validate(&self) -> Result<()> {
        let pct_ok = |v: f64| v.is_finite() && v > 0.0 && v <= 100.0;
        if !pct_ok(self.volume_near_pct) {
            return Err(Error::key("wal.volume_near_pct", "must be in (0, 100]"));
        }
        if !pct_ok(self.volume_error_pct) {
            return Err(Error::key("wal.volume_error_pct", "must be in (0, 100]"));
        }
        if self.volume_near_pct > self.volume_error_pct {
            return Err(Error::key(
                "wal.volume_near_pct",
                "must not exceed wal.volume_error_pct",
            ));
        }
        if !(self.hard_limit_factor.is_finite() && self.hard_limit_factor >= 1.0) {
            return Err(Error::key("wal.hard_limit_factor", "must be at least 1"));
        }
        if !(0.0..0.5).contains(&self.hysteresis_fraction) {
            return Err(Error::key("wal.hysteresis_fraction", "must be in [0, 0.5)"));
        }
        if self.growth_min_samples < 2 {
            return Err(Error::key("wal.growth_min_samples", "must be at least 2"));
        }
        if self.near_horizon < self.error_horizon {
            return Err(Error::key(
                "wal.near_horizon",
                "must not be shorter than wal.error_horizon",
            ));
        }
        if self.growth_window == Span::default() {
            return Err(Error::key("wal.growth_window", "must be positive"));
        }
        if self.rate_min_span == Span::default() || self.rate_min_span > self.growth_window {
            return Err(Error::key(
                "wal.rate_min_span",
                "must be positive and no longer than wal.growth_window",
            ));
        }
        if !(self.min_free_fraction.is_finite() && (0.0..=1.0).contains(&self.min_free_fraction)) {
            return Err(Error::key("wal.min_free_fraction", "must be in [0, 1]"));
        }
        if self.rate_min_span_fast == Span::default() {
            return Err(Error::key("wal.rate_min_span_fast", "must be positive"));
        }
        if !(1..=10_000).contains(&self.history_max_samples) {
            return Err(Error::key(
                "wal.history_max_samples",
                "must be in 1..=10000",
            ));
        }
        Ok(())
    }
}

/// One fired rule: which, how bad, the measured value and the threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Reason {
    /// Stable rule id (see the module docs).
    pub rule: String,
    /// The level this rule asserts.
    pub level: Level,
    /// One sentence for a person, naming value and threshold.
    pub message: String,
    /// The measured value, in `unit`.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub value: Option<f64>,
    /// The threshold it was compared with, in `unit`.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub threshold: Option<f64>,
    /// `percent`, `bytes`, `seconds` or `count`.
    #[serde(default)]
    pub unit: Option<String>,
    /// True when the value no longer crosses the threshold but has not cleared
    /// it by the hysteresis margin, so the previous state is held.
    #[serde(default)]
    pub held: bool,
}

/// The WAL status with its reasons and metrics; what `wal.status` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct WalReport {
    /// The worst level among the reasons; `OK` when none fired.
    pub status: Level,
    /// The evaluation time (`now`).
    pub checked_at: DateTime<Utc>,
    /// pg_wal bytes (seed field `wal_size`); absent if the measurement failed.
    pub wal_size: Option<u64>,
    /// WAL segment files in pg_wal.
    pub segment_count: Option<u64>,
    /// `archive_status/*.ready` files.
    pub ready_count: Option<u64>,
    /// Used % of the volume holding pg_wal, rounded down to 0.01 (seed field).
    #[serde(serialize_with = "ser_opt_num")]
    pub wal_used_pct: Option<f64>,
    /// The NEAR_LIMIT threshold on `wal_used_pct` (seed field).
    #[serde(serialize_with = "crate::num::ser_num")]
    pub threshold_pct: f64,
    /// Total bytes of the volume holding pg_wal.
    pub volume_total_bytes: Option<u64>,
    /// Available bytes of that volume.
    pub volume_available_bytes: Option<u64>,
    /// What PostgreSQL normally keeps in pg_wal ([`WalSettings::normal_ceiling`]),
    /// the threshold of `wal_over_soft_limit`.
    pub soft_limit_bytes: u64,
    /// pg_wal growth over the window, bytes per second (negative when shrinking).
    #[serde(serialize_with = "ser_opt_num")]
    pub wal_growth_bytes_per_second: Option<f64>,
    /// Growth of the volume's used bytes over the window, bytes per second.
    #[serde(serialize_with = "ser_opt_num")]
    pub volume_growth_bytes_per_second: Option<f64>,
    /// Predicted seconds until the volume reaches the error threshold at the
    /// current rate; absent when not growing or not enough samples.
    #[serde(serialize_with = "ser_opt_num")]
    pub seconds_to_error: Option<f64>,
    /// Samples (including this one) within the growth window.
    pub samples_in_window: u32,
    /// Used % of the volume holding pg_wal as `df` shows it (root-reserved
    /// blocks left out), beside `wal_used_pct`, which the thresholds use.
    #[serde(serialize_with = "ser_opt_num", default)]
    pub df_used_pct: Option<f64>,
    /// The other volumes the cluster writes (PGDATA's, tablespaces').
    #[serde(default)]
    pub volumes: Vec<VolumeReport>,
    /// Every rule that fired, worst first.
    pub reasons: Vec<Reason>,
}

impl WalReport {
    /// Ids of the rules that fired, in report order.
    pub fn active_rules(&self) -> Vec<String> {
        self.reasons.iter().map(|r| r.rule.clone()).collect()
    }

    /// This report as the previous status of the next evaluation (hysteresis).
    pub fn as_previous(&self) -> PreviousStatus {
        PreviousStatus {
            status: self.status,
            active_rules: self.active_rules(),
        }
    }

    /// The sample this report adds to the history, if the measurement succeeded.
    pub fn sample(&self) -> Option<WalSample> {
        Some(WalSample {
            at: self.checked_at,
            wal_bytes: self.wal_size?,
            volume_used_bytes: self
                .volume_total_bytes?
                .saturating_sub(self.volume_available_bytes?),
            volumes: self
                .volumes
                .iter()
                .map(|v| {
                    (
                        v.key.clone(),
                        v.total_bytes.saturating_sub(v.available_bytes),
                    )
                })
                .collect(),
        })
    }
}

/// How a threshold is crossed.
#[derive(Clone, Copy)]
enum Cross {
    /// `value >= threshold`
    AtOrAbove,
    /// `value > threshold`
    Above,
    /// `value < threshold`
    Below,
}

struct Rules<'a> {
    previous: Option<&'a PreviousStatus>,
    hysteresis: f64,
    reasons: Vec<Reason>,
}

impl Rules<'_> {
    fn was_active(&self, rule: &str) -> bool {
        self.previous
            .is_some_and(|p| p.active_rules.iter().any(|r| r == rule))
    }

    fn fire(&mut self, rule: &str, level: Level, message: String) {
        self.reasons.push(Reason {
            rule: rule.into(),
            level,
            message,
            value: None,
            threshold: None,
            unit: None,
            held: false,
        });
    }

    /// Evaluates a threshold rule with hysteresis. `describe(held)` renders the message.
    #[allow(clippy::too_many_arguments)]
    fn threshold(
        &mut self,
        rule: &str,
        level: Level,
        value: f64,
        threshold: f64,
        cross: Cross,
        unit: &str,
        describe: impl FnOnce(bool) -> String,
    ) {
        let fires = match cross {
            Cross::AtOrAbove => value >= threshold,
            Cross::Above => value > threshold,
            Cross::Below => value < threshold,
        };
        let held = !fires
            && self.was_active(rule)
            && match cross {
                Cross::AtOrAbove => value >= threshold * (1.0 - self.hysteresis),
                Cross::Above => value > threshold * (1.0 - self.hysteresis),
                Cross::Below => value < threshold * (1.0 + self.hysteresis),
            };
        if fires || held {
            self.reasons.push(Reason {
                rule: rule.into(),
                level,
                message: describe(held),
                value: Some(value),
                threshold: Some(threshold),
                unit: Some(unit.into()),
                held,
            });
        }
    }
}

/// The free-space floor on a volume of `total` bytes: the smaller of
/// `min_free_bytes` and `min_free_fraction` of the volume.
pub fn free_floor(policy: &WalPolicy, total: u64) -> u64 {
    let fraction = (total as f64 * policy.min_free_fraction).floor() as u64;
    policy.min_free_bytes.bytes().min(fraction)
}

/// Says so when the configured floor did not fit the volume.
fn floor_note(policy: &WalPolicy, floor: u64, total: u64) -> String {
    if floor < policy.min_free_bytes.bytes() {
        format!(
            " (wal.min_free_bytes {} cannot fit a {} volume: the floor is {} of it, wal.min_free_fraction)",
            policy.min_free_bytes,
            human_bytes(total),
            pct(policy.min_free_fraction * 100.0)
        )
    } else {
        String::new()
    }
}

fn held_note(held: bool, fraction: f64) -> String {
    if held {
        format!(
            "; held: not yet {} clear of the threshold (hysteresis)",
            pct(fraction * 100.0)
        )
    } else {
        String::new()
    }
}

struct Growth {
    samples: u32,
    wal_rate: Option<f64>,
    monotone_growth: Option<u64>,
    /// Every sample in the window, oldest first, the current one last.
    points: Vec<WalSample>,
}

/// The most samples a Theil–Sen slope is taken over (about 20,000 pairs).
const THEIL_SEN_MAX: usize = 200;

/// A measurement in time: (when, bytes).
type Point = (DateTime<Utc>, u64);

/// Theil–Sen slope over `points`: the median of the slopes of every pair,
/// per second. Robust to a single outlier; `None` for fewer than two
/// distinct times.
fn theil_sen(points: &[Point]) -> Option<f64> {
    // Pairs grow with the square of the samples: beyond THEIL_SEN_MAX
    // points (a crafted or very dense history), an evenly spaced subset
    // with both ends is used, so the work stays bounded.
    let sampled: Vec<Point>;
    let points = if points.len() > THEIL_SEN_MAX {
        let last = points.len() - 1;
        sampled = (0..THEIL_SEN_MAX)
            .map(|i| points[i * last / (THEIL_SEN_MAX - 1)])
            .collect();
        &sampled[..]
    } else {
        points
    };
    let mut slopes = Vec::with_capacity(points.len() * points.len().saturating_sub(1) / 2);
    for (i, (ta, va)) in points.iter().enumerate() {
        for (tb, vb) in &points[i + 1..] {
            let dt = (*tb - *ta).num_milliseconds() as f64 / 1000.0;
            if dt > 0.0 {
                slopes.push((*vb as f64 - *va as f64) / dt);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let n = slopes.len();
    Some(if n % 2 == 1 {
        slopes[n / 2]
    } else {
        (slopes[n / 2 - 1] + slopes[n / 2]) / 2.0
    })
}

fn span_secs(points: &[Point]) -> f64 {
    match (points.first(), points.last()) {
        (Some(a), Some(b)) => (b.0 - a.0).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    }
}

fn growth(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> Growth {
    let start = crate::num::minus(now, policy.growth_window);
    let mut points: Vec<WalSample> = facts
        .history
        .iter()
        .filter(|s| s.at >= start && s.at < now)
        .cloned()
        .collect();
    points.sort_by_key(|s| s.at);
    points.push(WalSample {
        at: now,
        wal_bytes: facts.wal_bytes,
        volume_used_bytes: facts.volume.used_bytes(),
        volumes: facts
            .volumes
            .iter()
            .map(|w| (w.key.clone(), w.volume.used_bytes()))
            .collect(),
    });
    let samples = points.len() as u32;
    let first = points[0].clone();
    let wal: Vec<Point> = points.iter().map(|p| (p.at, p.wal_bytes)).collect();
    let span = span_secs(&wal);
    if samples < policy.growth_min_samples
        || span <= 0.0
        || span < policy.rate_min_span.as_secs_f64()
    {
        return Growth {
            samples,
            wal_rate: None,
            monotone_growth: None,
            points,
        };
    }
    let monotone = points.windows(2).all(|w| w[1].wal_bytes >= w[0].wal_bytes);
    Growth {
        samples,
        wal_rate: theil_sen(&wal),
        monotone_growth: monotone.then(|| facts.wal_bytes - first.wal_bytes),
        points,
    }
}

/// Where the fill stands now, for the time left: the Theil–Sen line's value
/// at the last sample (its intercept the median of the residuals), but never
/// more than one `quantum` (the WAL segment size) below the current
/// measurement `used`.
///
/// pg_wal grows in whole segments, so used space is a staircase (16MB steps
/// are 6 % of a 256MB volume): read off the last step, the time left swung a
/// step's time early or late from one check to the next, while the line runs
/// through the staircase's middle, which no step lies a whole segment
/// above. What lies further above the line is real — a large file written
/// at once — and counts, at every check after it too, however the line
/// catches up.
fn level_now(run: &[Point], rate: f64, used: u64, quantum: u64) -> f64 {
    let Some(((t0, _), (tn, _))) = run.first().zip(run.last()) else {
        return used as f64;
    };
    let x = |t: DateTime<Utc>| (t - *t0).num_milliseconds() as f64 / 1000.0;
    let mut residuals: Vec<f64> = run.iter().map(|(t, v)| *v as f64 - rate * x(*t)).collect();
    let mid = residuals.len() / 2;
    let (_, median, _) = residuals.select_nth_unstable_by(mid, f64::total_cmp);
    let fitted = *median + rate * x(*tn);
    fitted.max(used as f64 - quantum as f64)
}

/// The volume's fill rate and the seconds until `error_used`, judged over
/// the recent run of samples in which used space never fell: a drop (files
/// deleted, segments recycled) starts a new run, so a volume that just
/// emptied shows no growth. The slope is Theil–Sen's. The run must hold
/// `growth_min_samples` samples spanning `rate_min_span` — or, for a fill so
/// fast the threshold comes sooner than that, at least the predicted time
/// left (and `rate_min_span_fast`).
fn fill_rate(
    points: &[Point],
    policy: &WalPolicy,
    used: u64,
    error_used: f64,
    quantum: u64,
) -> (Option<f64>, Option<f64>) {
    let Some(mut from) = points.len().checked_sub(1) else {
        return (None, None);
    };
    while from > 0 && points[from - 1].1 <= points[from].1 {
        from -= 1;
    }
    let run = &points[from..];
    let span = span_secs(run);
    if (run.len() as u32) < policy.growth_min_samples || span <= 0.0 {
        return (None, None);
    }
    let Some(rate) = theil_sen(run) else {
        return (None, None);
    };
    let left = if rate > 0.0 {
        Some(((error_used - level_now(run, rate, used, quantum)) / rate).max(0.0))
    } else {
        None
    };
    let needed = match left {
        Some(left) => left
            .min(policy.rate_min_span.as_secs_f64())
            .max(policy.rate_min_span_fast.as_secs_f64()),
        None => policy.rate_min_span.as_secs_f64(),
    };
    if span < needed {
        return (None, None);
    }
    (Some(rate), left)
}

/// The volume rules on one volume: used %, the free floor and the time to
/// the error threshold. `what` names it in every message (`volume holding
/// pg_wal`); `points` are its used bytes in the growth window, the current
/// measurement last; `quantum` is the WAL segment size (the staircase's
/// step). Returns the fill rate and the seconds to the error threshold.
fn volume_rules(
    rules: &mut Rules<'_>,
    what: &str,
    vol: VolumeStats,
    points: &[Point],
    policy: &WalPolicy,
    quantum: u64,
) -> (Option<f64>, Option<f64>) {
    let h = rules.hysteresis;
    let used = vol.used_bytes();
    let used_pct = vol.used_pct();
    let shown_pct = pct_floor_2(used, vol.total_bytes);
    let df = vol
        .df_used_pct()
        .map(|d| format!(" ({} as df shows it)", pct(d)))
        .unwrap_or_default();
    for (rule, level, threshold, name) in [
        (
            "volume_used_error",
            Level::Error,
            policy.volume_error_pct,
            "error",
        ),
        (
            "volume_used_near",
            Level::NearLimit,
            policy.volume_near_pct,
            "near-limit",
        ),
    ] {
        rules.threshold(
            rule,
            level,
            used_pct,
            threshold,
            Cross::AtOrAbove,
            "percent",
            |held| {
                format!(
                    "{what} is {} used{df}, {name} threshold {}{}",
                    pct(shown_pct),
                    pct(threshold),
                    held_note(held, h)
                )
            },
        );
    }
    let floor = free_floor(policy, vol.total_bytes);
    rules.threshold(
        "volume_free_floor",
        Level::Error,
        vol.available_bytes as f64,
        floor as f64,
        Cross::Below,
        "bytes",
        |held| {
            format!(
                "{what} has {} available, floor {}{}{}",
                human_bytes(vol.available_bytes),
                human_bytes(floor),
                floor_note(policy, floor, vol.total_bytes),
                held_note(held, h)
            )
        },
    );
    let error_used = (vol.total_bytes as f64 * policy.volume_error_pct / 100.0)
        .min(vol.total_bytes.saturating_sub(floor) as f64);
    let (rate, left) = fill_rate(points, policy, used, error_used, quantum);
    if let (Some(ttf), Some(rate)) = (left, rate) {
        for (rule, level, horizon) in [
            ("time_to_error", Level::Error, policy.error_horizon),
            ("time_to_near", Level::NearLimit, policy.near_horizon),
        ] {
            rules.threshold(
                rule,
                level,
                ttf,
                horizon.as_secs_f64(),
                Cross::Below,
                "seconds",
                |held| {
                    let when = if ttf < 1.0 {
                        "is already at its error threshold".to_string()
                    } else {
                        format!("reaches its error threshold in {}", human_secs(ttf))
                    };
                    format!(
                        "at {}/s the {what} {when}, horizon {}{}",
                        human_bytes(rate as u64),
                        horizon,
                        held_note(held, h)
                    )
                },
            );
        }
    }
    (rate, left)
}

/// Evaluates the WAL status. Pure: same inputs, same report.
pub fn evaluate(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> WalReport {
    let soft_limit = facts.settings.normal_ceiling(&facts.slots);
    if facts.volume.total_bytes == 0 {
        return measurement_failed(
            "the volume holding pg_wal reports a total size of 0 bytes",
            policy,
            soft_limit,
            now,
        );
    }
    let h = policy.hysteresis_fraction;
    let mut rules = Rules {
        previous: facts.previous.as_ref(),
        hysteresis: h,
        reasons: Vec::new(),
    };
    let vol = facts.volume;
    let shown_pct = pct_floor_2(vol.used_bytes(), vol.total_bytes);
    let hard = facts.settings.soft_limit() as f64 * policy.hard_limit_factor;
    rules.threshold(
        "wal_far_beyond_soft_limit",
        Level::Error,
        facts.wal_bytes as f64,
        hard,
        Cross::Above,
        "bytes",
        |held| {
            format!(
                "pg_wal holds {}, more than {} × the soft limit {} (max_wal_size {} + wal_keep_size {}){}",
                human_bytes(facts.wal_bytes),
                policy.hard_limit_factor,
                human_bytes(facts.settings.soft_limit()),
                facts.settings.max_wal_size,
                facts.settings.wal_keep_size,
                held_note(held, h)
            )
        },
    );
    // The soft limit is what PostgreSQL keeps by design, so the rule
    // releases at the limit itself: no hysteresis below a steady state.
    rules.hysteresis = 0.0;
    rules.threshold(
        "wal_over_soft_limit",
        Level::NearLimit,
        facts.wal_bytes as f64,
        soft_limit as f64,
        Cross::Above,
        "bytes",
        |_| {
            format!(
                "pg_wal holds {}, over its soft limit {} (max_wal_size {} + the larger of wal_keep_size {} and what active slots retain + {} segments)",
                human_bytes(facts.wal_bytes),
                human_bytes(soft_limit),
                facts.settings.max_wal_size,
                facts.settings.wal_keep_size,
                STEADY_STATE_SEGMENTS
            )
        },
    );
    rules.hysteresis = h;

    let seen = facts
        .live
        .as_ref()
        .filter(|l| l.unreachable.is_some())
        .and_then(|l| l.slots_seen_at)
        .map(|t| {
            format!(
                " (as the last probe that answered saw it at {})",
                crate::time::timestamp(t)
            )
        })
        .unwrap_or_default();
    for slot in &facts.slots {
        match slot.wal_status {
            Some(SlotWalStatus::Lost) => rules.fire(
                "slot_lost",
                Level::Error,
                format!(
                    "replication slot \"{}\" is lost: the WAL it needs was removed{seen}",
                    slot.name
                ),
            ),
            Some(SlotWalStatus::Unreserved) => rules.fire(
                "slot_unreserved",
                Level::NearLimit,
                format!(
                    "replication slot \"{}\" is unreserved: its WAL goes at the next checkpoint{seen}",
                    slot.name
                ),
            ),
            _ if slot
                .safe_wal_size
                .is_some_and(|b| b < facts.settings.max_wal_size.bytes() as i64) =>
            {
                let left = slot.safe_wal_size.unwrap_or_default().max(0) as u64;
                rules.reasons.push(Reason {
                    rule: "slot_safe_wal_low".into(),
                    level: Level::NearLimit,
                    message: format!(
                        "replication slot \"{}\" is {} of WAL away from being invalidated (safe_wal_size), less than max_wal_size {}{seen}",
                        slot.name,
                        human_bytes(left),
                        facts.settings.max_wal_size
                    ),
                    value: Some(left as f64),
                    threshold: Some(facts.settings.max_wal_size.bytes() as f64),
                    unit: Some("bytes".into()),
                    held: false,
                });
            }
            _ if !slot.active => rules.fire(
                "slot_inactive",
                Level::Growing,
                format!(
                    "replication slot \"{}\" is inactive and holds WAL back{}{seen}",
                    slot.name,
                    slot.retained_bytes
                        .map(|b| format!(" ({})", human_bytes(b)))
                        .unwrap_or_default()
                ),
            ),
            _ => {}
        }
    }

    if let Some(live) = &facts.live {
        if let Some(why) = &live.unreachable {
            let class = ProbeFailure::classify(why);
            let what = class.what();
            let prefix = format!("PostgreSQL at {}: ", live.server);
            let why = why.strip_prefix(&prefix).unwrap_or(why);
            rules.fire(
                class.rule(),
                Level::Error,
                format!(
                    "PostgreSQL at {} {what}: {why} ({})",
                    live.server,
                    class.advice()
                ),
            );
        }
        // Facts the last probe that answered saw are judged as of then.
        let seen_at = live.archiver_seen_at.filter(|_| live.unreachable.is_some());
        if let Some(a) = live
            .archiver
            .as_ref()
            .filter(|a| a.failing(seen_at.unwrap_or(now), policy.growth_window))
        {
            rules.fire(
                "archiver_failing",
                Level::Growing,
                format!(
                    "the archiver {}: the last attempt, for {}, failed at {}; {}: WAL waits for archive_command and is retained",
                    match seen_at {
                        Some(t) => format!(
                            "was failing when the last probe that answered saw it at {}",
                            crate::time::timestamp(t)
                        ),
                        None => "is failing".into(),
                    },
                    a.last_failed_wal.as_deref().unwrap_or("?"),
                    a.last_failed_time.map(crate::time::timestamp).unwrap_or_else(|| "?".into()),
                    match (&a.last_archived_wal, a.last_archived_time) {
                        (Some(w), Some(t)) => format!("the last success was {w} at {}", crate::time::timestamp(t)),
                        _ => "nothing was ever archived".into(),
                    }
                ),
            );
        }
    }

    let ready_max = if facts.settings.archive_mode {
        policy.archive_ready_max
    } else {
        0
    };
    if facts.ready_count > ready_max {
        let why = if facts.settings.archive_mode {
            format!("more than {ready_max} tolerated while archiving is on: the archiver is falling behind or failing")
        } else {
            "archiving is declared off, so nothing will ever archive them and their WAL is retained"
                .to_string()
        };
        rules.reasons.push(Reason {
            rule: "ready_backlog".into(),
            level: Level::Growing,
            message: format!(
                "{} WAL segment(s) wait in archive_status/*.ready; {why}",
                facts.ready_count
            ),
            value: Some(facts.ready_count as f64),
            threshold: Some(ready_max as f64),
            unit: Some("count".into()),
            held: false,
        });
    }

    let g = growth(facts, policy, now);
    if let Some(grown) = g.monotone_growth {
        let min = policy.growth_min_bytes.bytes();
        if grown >= min {
            rules.reasons.push(Reason {
                rule: "wal_growing".into(),
                level: Level::Growing,
                message: format!(
                    "pg_wal grew by {} without shrinking over {} sample(s) in the last {} (threshold {})",
                    human_bytes(grown),
                    g.samples,
                    policy.growth_window,
                    human_bytes(min)
                ),
                value: Some(grown as f64),
                threshold: Some(min as f64),
                unit: Some("bytes".into()),
                held: false,
            });
        }
    }

    let points: Vec<Point> = g
        .points
        .iter()
        .map(|p| (p.at, p.volume_used_bytes))
        .collect();
    let quantum = facts.settings.wal_segment_size.bytes();
    let (volume_rate, seconds_to_error) = volume_rules(
        &mut rules,
        "volume holding pg_wal",
        vol,
        &points,
        policy,
        quantum,
    );
    let mut volumes = Vec::new();
    for w in &facts.volumes {
        let mut points: Vec<Point> = g
            .points
            .iter()
            .filter_map(|p| Some((p.at, *p.volumes.get(&w.key)?)))
            .collect();
        points.pop();
        points.push((now, w.volume.used_bytes()));
        let what = format!("volume holding {}", w.holds);
        let (rate, left) = if w.volume.total_bytes == 0 {
            rules.fire(
                "measurement_failed",
                Level::Error,
                format!("{what} reports a total size of 0 bytes"),
            );
            (None, None)
        } else {
            volume_rules(&mut rules, &what, w.volume, &points, policy, quantum)
        };
        volumes.push(VolumeReport {
            key: w.key.clone(),
            holds: w.holds.clone(),
            total_bytes: w.volume.total_bytes,
            available_bytes: w.volume.available_bytes,
            used_pct: pct_floor_2(w.volume.used_bytes(), w.volume.total_bytes),
            df_used_pct: w.volume.df_used_pct(),
            growth_bytes_per_second: rate,
            seconds_to_error: left,
        });
    }

    let mut reasons = rules.reasons;
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    let status = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);
    WalReport {
        status,
        checked_at: now,
        wal_size: Some(facts.wal_bytes),
        segment_count: Some(facts.segment_count),
        ready_count: Some(facts.ready_count),
        wal_used_pct: Some(shown_pct),
        threshold_pct: policy.volume_near_pct,
        volume_total_bytes: Some(vol.total_bytes),
        volume_available_bytes: Some(vol.available_bytes),
        soft_limit_bytes: soft_limit,
        wal_growth_bytes_per_second: g.wal_rate,
        volume_growth_bytes_per_second: volume_rate,
        seconds_to_error,
        samples_in_window: g.samples,
        df_used_pct: vol.df_used_pct(),
        volumes,
        reasons,
    }
}

/// The report for a measurement that failed: `ERROR`, because an unknown
/// state is an unsafe state.
pub fn measurement_failed(
    error: &str,
    policy: &WalPolicy,
    soft_limit_bytes: u64,
    now: DateTime<Utc>,
) -> WalReport {
    WalReport {
        status: Level::Error,
        checked_at: now,
        wal_size: None,
        segment_count: None,
        ready_count: None,
        wal_used_pct: None,
        threshold_pct: policy.volume_near_pct,
        volume_total_bytes: None,
        volume_available_bytes: None,
        soft_limit_bytes,
        wal_growth_bytes_per_second: None,
        volume_growth_bytes_per_second: None,
        seconds_to_error: None,
        samples_in_window: 0,
        df_used_pct: None,
        volumes: Vec::new(),
        reasons: vec![Reason {
            rule: "measurement_failed".into(),
            level: Level::Error,
            message: format!("WAL could not be measured: {error}"),
            value: None,
            threshold: None,
            unit: None,
            held: false,
        }],
    }
}

/// The history to store after `report`: earlier samples still useful for the
/// growth window, plus the new one, newest last, at most `history_max_samples`.
pub fn next_history(
    history: &[WalSample],
    report: &WalReport,
    policy: &WalPolicy,
) -> Vec<WalSample> {
    let now = report.checked_at;
    // Keep two windows so a check that ran late still finds earlier samples.
    let keep_from = crate::num::minus(
        crate::num::minus(now, policy.growth_window),
        policy.growth_window,
    );
    let mut out: Vec<WalSample> = history
        .iter()
        .filter(|s| s.at >= keep_from && s.at < now)
        .cloned()
        .collect();
    out.sort_by_key(|s| s.at);
    out.dedup_by_key(|s| s.at);
    if let Some(s) = report.sample() {
        out.push(s);
    }
    let max = policy.history_max_samples.max(1) as usize;
    if out.len() > max {
        out.drain(..out.len() - max);
    }
    out
}
