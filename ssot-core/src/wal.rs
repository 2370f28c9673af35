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
//! [`WalRule::is_probe`] tells them. A server that does not answer is a fact for
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
//! assert_eq!(report.measures.wal_used_pct, Some(38.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::num::ser_opt_num;
use crate::units::{ByteSize, Span};

mod evaluate;
mod measures;
mod rate;
mod rule;

pub use evaluate::{evaluate, free_floor, measurement_failed, next_history};
pub use measures::{Carry, Datum, Recorded, Reported, TextLine, WalMeasures, TEXT, TEXT_ELSEWHERE};
pub use rule::{ProbeFailure, WalRule};

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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// Rules that fired in the previous report.
    #[serde(default)]
    pub active_rules: Vec<WalRule>,
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
    /// Stable rule id (`wal_over_soft_limit`, `slot_lost`, ...; see the module docs).
    pub rule: WalRule,
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
    /// The measurements, declared once ([`WalMeasures`]): each is a key
    /// of the report's own (`report.measures.seconds_to_error` in Rust).
    #[serde(flatten)]
    pub measures: WalMeasures,
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
    /// The rules that fired, in report order.
    pub fn active_rules(&self) -> Vec<WalRule> {
        self.reasons.iter().map(|r| r.rule).collect()
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
            wal_bytes: self.measures.wal_size?,
            volume_used_bytes: self
                .measures
                .volume_total_bytes?
                .saturating_sub(self.measures.volume_available_bytes?),
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
