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
//! | `time_to_near` | NEAR_LIMIT | volume predicted to reach the error threshold within `near_horizon` |
//! | `wal_growing` | GROWING | pg_wal grew monotonically by ≥ `growth_min_bytes` over `growth_window` |
//! | `ready_backlog` | GROWING | `.ready` files waiting while archiving is declared off (or more than `archive_ready_max` when on) |
//! | `slot_inactive` | GROWING | an inactive slot holds WAL back |
//! | `postgres_unreachable` | ERROR | a live probe was asked for and the server did not answer |
//! | `archiver_failing` | GROWING | the live probe's `pg_stat_archiver` shows the last attempt failed |
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
//! let facts = WalFacts::new(96 << 20, 6, VolumeStats { total_bytes: 100 << 30, available_bytes: 62 << 30 });
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
pub const RULES: [(&str, Level); 15] = [
    ("measurement_failed", Level::Error),
    ("postgres_unreachable", Level::Error),
    ("volume_used_error", Level::Error),
    ("volume_free_floor", Level::Error),
    ("wal_far_beyond_soft_limit", Level::Error),
    ("slot_lost", Level::Error),
    ("time_to_error", Level::Error),
    ("volume_used_near", Level::NearLimit),
    ("wal_over_soft_limit", Level::NearLimit),
    ("slot_unreserved", Level::NearLimit),
    ("time_to_near", Level::NearLimit),
    ("wal_growing", Level::Growing),
    ("ready_backlog", Level::Growing),
    ("slot_inactive", Level::Growing),
    ("archiver_failing", Level::Growing),
];

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
}

impl VolumeStats {
    /// Bytes not available to an unprivileged writer (includes root-reserved blocks).
    pub fn used_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.available_bytes)
    }
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

impl WalSettings {
    /// The soft limit on pg_wal: `max_wal_size + wal_keep_size`.
    pub fn soft_limit(&self) -> u64 {
        self.max_wal_size
            .bytes()
            .saturating_add(self.wal_keep_size.bytes())
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
    /// True when the last attempt failed: a failure after the last success
    /// (or failures and no success at all).
    pub fn failing(&self) -> bool {
        match (self.last_failed_time, self.last_archived_time) {
            (Some(f), Some(a)) => f > a,
            (Some(_), None) => true,
            _ => false,
        }
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
}

/// An earlier measurement, for the growth rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalSample {
    /// When it was measured.
    pub at: DateTime<Utc>,
    /// pg_wal bytes then.
    pub wal_bytes: u64,
    /// Used bytes of the volume holding pg_wal then.
    pub volume_used_bytes: u64,
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
    /// Available bytes under which status is ERROR.
    pub min_free_bytes: ByteSize,
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
            hard_limit_factor: 2.0,
            growth_window: Span::mins(15),
            growth_min_bytes: ByteSize::mib(256),
            growth_min_samples: 3,
            rate_min_span: Span::mins(5),
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
    /// `max_wal_size + wal_keep_size` used for the soft-limit rules.
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
    volume_rate: Option<f64>,
    monotone_growth: Option<u64>,
}

fn growth(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> Growth {
    let start = crate::num::minus(now, policy.growth_window);
    let mut points: Vec<WalSample> = facts
        .history
        .iter()
        .filter(|s| s.at >= start && s.at < now)
        .copied()
        .collect();
    points.sort_by_key(|s| s.at);
    points.push(WalSample {
        at: now,
        wal_bytes: facts.wal_bytes,
        volume_used_bytes: facts.volume.used_bytes(),
    });
    let samples = points.len() as u32;
    let first = points[0];
    let span = (now - first.at).num_milliseconds() as f64 / 1000.0;
    if samples < policy.growth_min_samples
        || span <= 0.0
        || span < policy.rate_min_span.as_secs_f64()
    {
        return Growth {
            samples,
            wal_rate: None,
            volume_rate: None,
            monotone_growth: None,
        };
    }
    let wal_rate = (facts.wal_bytes as f64 - first.wal_bytes as f64) / span;
    let volume_rate = (facts.volume.used_bytes() as f64 - first.volume_used_bytes as f64) / span;
    let monotone = points.windows(2).all(|w| w[1].wal_bytes >= w[0].wal_bytes);
    Growth {
        samples,
        wal_rate: Some(wal_rate),
        volume_rate: Some(volume_rate),
        monotone_growth: monotone.then(|| facts.wal_bytes - first.wal_bytes),
    }
}

/// Evaluates the WAL status. Pure: same inputs, same report.
pub fn evaluate(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> WalReport {
    let soft_limit = facts.settings.soft_limit();
    if facts.volume.total_bytes == 0 {
        return measurement_failed(
            "the volume holding pg_wal reports a total size of 0 bytes",
            policy,
            facts.settings.soft_limit(),
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
    let used = vol.used_bytes();
    let used_pct = used as f64 * 100.0 / vol.total_bytes as f64;
    let shown_pct = pct_floor_2(used, vol.total_bytes);

    rules.threshold(
        "volume_used_error",
        Level::Error,
        used_pct,
        policy.volume_error_pct,
        Cross::AtOrAbove,
        "percent",
        |held| {
            format!(
                "volume holding pg_wal is {} used, error threshold {}{}",
                pct(shown_pct),
                pct(policy.volume_error_pct),
                held_note(held, h)
            )
        },
    );
    rules.threshold(
        "volume_used_near",
        Level::NearLimit,
        used_pct,
        policy.volume_near_pct,
        Cross::AtOrAbove,
        "percent",
        |held| {
            format!(
                "volume holding pg_wal is {} used, near-limit threshold {}{}",
                pct(shown_pct),
                pct(policy.volume_near_pct),
                held_note(held, h)
            )
        },
    );
    let floor = policy.min_free_bytes.bytes();
    rules.threshold(
        "volume_free_floor",
        Level::Error,
        vol.available_bytes as f64,
        floor as f64,
        Cross::Below,
        "bytes",
        |held| {
            format!(
                "volume holding pg_wal has {} available, floor {}{}",
                human_bytes(vol.available_bytes),
                human_bytes(floor),
                held_note(held, h)
            )
        },
    );
    let hard = soft_limit as f64 * policy.hard_limit_factor;
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
                human_bytes(soft_limit),
                facts.settings.max_wal_size,
                facts.settings.wal_keep_size,
                held_note(held, h)
            )
        },
    );
    rules.threshold(
        "wal_over_soft_limit",
        Level::NearLimit,
        facts.wal_bytes as f64,
        soft_limit as f64,
        Cross::Above,
        "bytes",
        |held| {
            format!(
                "pg_wal holds {}, over its soft limit {} (max_wal_size {} + wal_keep_size {}){}",
                human_bytes(facts.wal_bytes),
                human_bytes(soft_limit),
                facts.settings.max_wal_size,
                facts.settings.wal_keep_size,
                held_note(held, h)
            )
        },
    );

    for slot in &facts.slots {
        match slot.wal_status {
            Some(SlotWalStatus::Lost) => rules.fire(
                "slot_lost",
                Level::Error,
                format!(
                    "replication slot \"{}\" is lost: the WAL it needs was removed",
                    slot.name
                ),
            ),
            Some(SlotWalStatus::Unreserved) => rules.fire(
                "slot_unreserved",
                Level::NearLimit,
                format!(
                    "replication slot \"{}\" is unreserved: its WAL goes at the next checkpoint",
                    slot.name
                ),
            ),
            _ if !slot.active => rules.fire(
                "slot_inactive",
                Level::Growing,
                format!(
                    "replication slot \"{}\" is inactive and holds WAL back{}",
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
            rules.fire(
                "postgres_unreachable",
                Level::Error,
                format!(
                    "PostgreSQL at {} did not answer the live probe: {why}",
                    live.server
                ),
            );
        }
        if let Some(a) = live.archiver.as_ref().filter(|a| a.failing()) {
            rules.fire(
                "archiver_failing",
                Level::Growing,
                format!(
                    "the archiver is failing: {} failed attempt(s), the last for {} at {}; {}: WAL waits for archive_command and is retained",
                    a.failed_count,
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

    let error_used = (vol.total_bytes as f64 * policy.volume_error_pct / 100.0)
        .min(vol.total_bytes.saturating_sub(floor) as f64);
    let seconds_to_error = match g.volume_rate {
        Some(rate) if rate > 0.0 => Some(((error_used - used as f64) / rate).max(0.0)),
        _ => None,
    };
    if let (Some(ttf), Some(rate)) = (seconds_to_error, g.volume_rate) {
        for (rule, level, horizon) in [
            ("time_to_error", Level::Error, policy.error_horizon),
            ("time_to_near", Level::NearLimit, policy.near_horizon),
        ] {
            let horizon_s = horizon.as_secs_f64();
            rules.threshold(
                rule,
                level,
                ttf,
                horizon_s,
                Cross::Below,
                "seconds",
                |held| {
                    format!(
                        "at {}/s the volume reaches its error threshold in {}, horizon {}{}",
                        human_bytes(rate as u64),
                        human_secs(ttf),
                        horizon,
                        held_note(held, h)
                    )
                },
            );
        }
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
        volume_growth_bytes_per_second: g.volume_rate,
        seconds_to_error,
        samples_in_window: g.samples,
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
        .copied()
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
