//! [`evaluate`]: the WAL rules as a table of small steps, one per concern
//! ([`STEPS`]), each reading the same [`Ctx`] and firing its [`WalRule`]s
//! into an [`Eval`]. The table's order is the order of the reasons within a
//! level (the report lists them worst first, a stable sort).

use chrono::{DateTime, Utc};

use super::measures::{soft_limit, Derived};
use super::rate::{fill_rate, growth, Growth, Point};
use super::{
    Level, PreviousStatus, ProbeFailure, Reason, SlotWalStatus, VolumeReport, VolumeStats,
    WalFacts, WalMeasures, WalPolicy, WalReport, WalRule, WalSample, STEADY_STATE_SEGMENTS,
};
use crate::num::{human_bytes, human_secs, pct, pct_floor_2};

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

/// A threshold rule's comparison: the measured value against its threshold.
struct Threshold {
    rule: WalRule,
    value: f64,
    threshold: f64,
    cross: Cross,
    /// `percent`, `bytes` or `seconds`.
    unit: &'static str,
}

/// What an evaluation accumulates: the reasons fired and what the volume
/// steps measured.
struct Eval<'a> {
    previous: Option<&'a PreviousStatus>,
    hysteresis: f64,
    reasons: Vec<Reason>,
    /// The fill rate of the volume holding pg_wal.
    volume_rate: Option<f64>,
    /// Seconds until that volume reaches its error threshold.
    seconds_to_error: Option<f64>,
    /// The other watched volumes.
    volumes: Vec<VolumeReport>,
}

impl Eval<'_> {
    fn was_active(&self, rule: WalRule) -> bool {
        self.previous
            .is_some_and(|p| p.active_rules.contains(&rule))
    }

    /// Fires `rule` with no measured value.
    fn fire(&mut self, rule: WalRule, message: String) {
        self.push(rule, message, None, None);
    }

    /// Fires `rule` with its value and threshold, in `unit`.
    fn push(
        &mut self,
        rule: WalRule,
        message: String,
        measured: Option<(f64, f64)>,
        unit: Option<&str>,
    ) {
        self.reasons.push(Reason {
            rule,
            level: rule.level(),
            message,
            value: measured.map(|m| m.0),
            threshold: measured.map(|m| m.1),
            unit: unit.map(Into::into),
            held: false,
        });
    }

    /// Evaluates a threshold rule with the policy's hysteresis.
    /// `describe(held)` renders the message.
    fn threshold(&mut self, t: Threshold, describe: impl FnOnce(bool) -> String) {
        self.threshold_with(self.hysteresis, t, describe);
    }

    /// Evaluates a threshold rule, releasing it once its value clears the
    /// threshold by `hysteresis` of it.
    fn threshold_with(
        &mut self,
        hysteresis: f64,
        t: Threshold,
        describe: impl FnOnce(bool) -> String,
    ) {
        let Threshold {
            rule,
            value,
            threshold,
            cross,
            unit,
        } = t;
        let fires = match cross {
            Cross::AtOrAbove => value >= threshold,
            Cross::Above => value > threshold,
            Cross::Below => value < threshold,
        };
        let held = !fires
            && self.was_active(rule)
            && match cross {
                Cross::AtOrAbove => value >= threshold * (1.0 - hysteresis),
                Cross::Above => value > threshold * (1.0 - hysteresis),
                Cross::Below => value < threshold * (1.0 + hysteresis),
            };
        if fires || held {
            self.reasons.push(Reason {
                rule,
                level: rule.level(),
                message: describe(held),
                value: Some(value),
                threshold: Some(threshold),
                unit: Some(unit.into()),
                held,
            });
        }
    }
}

/// What every step reads.
struct Ctx<'a> {
    facts: &'a WalFacts,
    policy: &'a WalPolicy,
    now: DateTime<Utc>,
    /// [`super::WalSettings::normal_ceiling`].
    soft_limit: u64,
    /// pg_wal's growth and the samples in the window.
    growth: Growth,
}

/// One concern of the evaluation.
type Step = fn(&Ctx<'_>, &mut Eval<'_>);

/// The evaluation, in order: each step fires the rules of its concern.
const STEPS: [Step; 9] = [
    wal_far_beyond_soft_limit,
    wal_over_soft_limit,
    slots,
    probe,
    archiver,
    ready_backlog,
    wal_growing,
    wal_volume,
    watched_volumes,
];

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

/// `wal_far_beyond_soft_limit`: pg_wal beyond `hard_limit_factor` × the
/// declared soft limit.
fn wal_far_beyond_soft_limit(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let (facts, policy, h) = (c.facts, c.policy, e.hysteresis);
    let t = Threshold {
        rule: WalRule::WalFarBeyondSoftLimit,
        value: facts.wal_bytes as f64,
        threshold: facts.settings.soft_limit() as f64 * policy.hard_limit_factor,
        cross: Cross::Above,
        unit: "bytes",
    };
    e.threshold(t, |held| {
        format!(
            "pg_wal holds {}, more than {} × the soft limit {} (max_wal_size {} + wal_keep_size {}){}",
            human_bytes(facts.wal_bytes),
            policy.hard_limit_factor,
            human_bytes(facts.settings.soft_limit()),
            facts.settings.max_wal_size,
            facts.settings.wal_keep_size,
            held_note(held, h)
        )
    });
}

/// `wal_over_soft_limit`: pg_wal over what PostgreSQL normally keeps.
fn wal_over_soft_limit(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let facts = c.facts;
    let t = Threshold {
        rule: WalRule::WalOverSoftLimit,
        value: facts.wal_bytes as f64,
        threshold: c.soft_limit as f64,
        cross: Cross::Above,
        unit: "bytes",
    };
    // The soft limit is what PostgreSQL keeps by design, so the rule
    // releases at the limit itself: no hysteresis below a steady state.
    e.threshold_with(0.0, t, |_| {
        format!(
            "pg_wal holds {}, over its soft limit {} (max_wal_size {} + the larger of wal_keep_size {} and what active slots retain + {} segments)",
            human_bytes(facts.wal_bytes),
            human_bytes(c.soft_limit),
            facts.settings.max_wal_size,
            facts.settings.wal_keep_size,
            STEADY_STATE_SEGMENTS
        )
    });
}

/// The slot rules, slot by slot: `slot_lost`, `slot_unreserved`,
/// `slot_safe_wal_low`, `slot_inactive` (the first that applies).
fn slots(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let facts = c.facts;
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
    let max_wal = facts.settings.max_wal_size;
    for slot in &facts.slots {
        let name = &slot.name;
        match slot.wal_status {
            Some(SlotWalStatus::Lost) => e.fire(
                WalRule::SlotLost,
                format!("replication slot \"{name}\" is lost: the WAL it needs was removed{seen}"),
            ),
            Some(SlotWalStatus::Unreserved) => e.fire(
                WalRule::SlotUnreserved,
                format!(
                    "replication slot \"{name}\" is unreserved: its WAL goes at the next checkpoint{seen}"
                ),
            ),
            _ if slot
                .safe_wal_size
                .is_some_and(|b| b < max_wal.bytes() as i64) =>
            {
                let left = slot.safe_wal_size.unwrap_or_default().max(0) as u64;
                e.push(
                    WalRule::SlotSafeWalLow,
                    format!(
                        "replication slot \"{name}\" is {} of WAL away from being invalidated (safe_wal_size), less than max_wal_size {max_wal}{seen}",
                        human_bytes(left),
                    ),
                    Some((left as f64, max_wal.bytes() as f64)),
                    Some("bytes"),
                );
            }
            _ if !slot.active => e.fire(
                WalRule::SlotInactive,
                format!(
                    "replication slot \"{name}\" is inactive and holds WAL back{}{seen}",
                    slot.retained_bytes
                        .map(|b| format!(" ({})", human_bytes(b)))
                        .unwrap_or_default()
                ),
            ),
            _ => {}
        }
    }
}

/// The `postgres_*` rules: the live probe failed, and how
/// ([`ProbeFailure`]).
fn probe(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let Some(live) = &c.facts.live else {
        return;
    };
    let Some(why) = &live.unreachable else {
        return;
    };
    let class = ProbeFailure::classify(why);
    let what = class.what();
    let prefix = format!("PostgreSQL at {}: ", live.server);
    let why = why.strip_prefix(&prefix).unwrap_or(why);
    e.fire(
        class.rule(),
        format!(
            "PostgreSQL at {} {what}: {why} ({})",
            live.server,
            class.advice()
        ),
    );
}

/// `archiver_failing`: the live probe's `pg_stat_archiver` shows the last
/// attempt failed (judged as of the last probe that answered, when the
/// server does not answer now).
fn archiver(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let Some(live) = &c.facts.live else {
        return;
    };
    // Facts the last probe that answered saw are judged as of then.
    let seen_at = live.archiver_seen_at.filter(|_| live.unreachable.is_some());
    let Some(a) = live
        .archiver
        .as_ref()
        .filter(|a| a.failing(seen_at.unwrap_or(c.now), c.policy.growth_window))
    else {
        return;
    };
    let state = match seen_at {
        Some(t) => format!(
            "was failing when the last probe that answered saw it at {}",
            crate::time::timestamp(t)
        ),
        None => "is failing".into(),
    };
    let last_success = match (&a.last_archived_wal, a.last_archived_time) {
        (Some(w), Some(t)) => format!("the last success was {w} at {}", crate::time::timestamp(t)),
        _ => "nothing was ever archived".into(),
    };
    e.fire(
        WalRule::ArchiverFailing,
        format!(
            "the archiver {state}: the last attempt, for {}, failed at {}; {last_success}: WAL waits for archive_command and is retained",
            a.last_failed_wal.as_deref().unwrap_or("?"),
            a.last_failed_time
                .map(crate::time::timestamp)
                .unwrap_or_else(|| "?".into()),
        ),
    );
}

/// `ready_backlog`: `.ready` files wait while archiving is declared off, or
/// more than `archive_ready_max` while it is on.
fn ready_backlog(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let facts = c.facts;
    let archiving = facts.settings.archive_mode;
    let ready_max = if archiving {
        c.policy.archive_ready_max
    } else {
        0
    };
    if facts.ready_count <= ready_max {
        return;
    }
    let why = if archiving {
        format!("more than {ready_max} tolerated while archiving is on: the archiver is falling behind or failing")
    } else {
        "archiving is declared off, so nothing will ever archive them and their WAL is retained"
            .to_string()
    };
    e.push(
        WalRule::ReadyBacklog,
        format!(
            "{} WAL segment(s) wait in archive_status/*.ready; {why}",
            facts.ready_count
        ),
        Some((facts.ready_count as f64, ready_max as f64)),
        Some("count"),
    );
}

/// `wal_growing`: pg_wal grew without shrinking by at least
/// `growth_min_bytes` over the window.
fn wal_growing(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let (g, policy) = (&c.growth, c.policy);
    let min = policy.growth_min_bytes.bytes();
    let Some(grown) = g.monotone_growth.filter(|g| *g >= min) else {
        return;
    };
    e.push(
        WalRule::WalGrowing,
        format!(
            "pg_wal grew by {} without shrinking over {} sample(s) in the last {} (threshold {})",
            human_bytes(grown),
            g.samples,
            policy.growth_window,
            human_bytes(min)
        ),
        Some((grown as f64, min as f64)),
        Some("bytes"),
    );
}

/// The volume rules on the volume holding pg_wal.
fn wal_volume(c: &Ctx<'_>, e: &mut Eval<'_>) {
    let points: Vec<Point> = c
        .growth
        .points
        .iter()
        .map(|p| (p.at, p.volume_used_bytes))
        .collect();
    let (rate, left) = volume_rules(e, c, "volume holding pg_wal", c.facts.volume, &points);
    e.volume_rate = rate;
    e.seconds_to_error = left;
}

/// The volume rules on each other watched volume (PGDATA's, tablespaces'),
/// and their reports; one reporting no size is `measurement_failed`.
fn watched_volumes(c: &Ctx<'_>, e: &mut Eval<'_>) {
    for w in &c.facts.volumes {
        let mut points: Vec<Point> = c
            .growth
            .points
            .iter()
            .filter_map(|p| Some((p.at, *p.volumes.get(&w.key)?)))
            .collect();
        points.pop();
        points.push((c.now, w.volume.used_bytes()));
        let what = format!("volume holding {}", w.holds);
        let (rate, left) = if w.volume.total_bytes == 0 {
            e.fire(
                WalRule::MeasurementFailed,
                format!("{what} reports a total size of 0 bytes"),
            );
            (None, None)
        } else {
            volume_rules(e, c, &what, w.volume, &points)
        };
        e.volumes.push(VolumeReport {
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
}

/// The volume rules on one volume: used % (`volume_used_error`,
/// `volume_used_near`), the free floor (`volume_free_floor`) and the time to
/// the error threshold (`time_to_error`, `time_to_near`). `what` names it in
/// every message (`volume holding pg_wal`); `points` are its used bytes in
/// the growth window, the current measurement last; the WAL segment size is
/// the staircase's step. Returns the fill rate and the seconds to the error
/// threshold.
fn volume_rules(
    e: &mut Eval<'_>,
    c: &Ctx<'_>,
    what: &str,
    vol: VolumeStats,
    points: &[Point],
) -> (Option<f64>, Option<f64>) {
    let policy = c.policy;
    used_pct_rules(e, what, vol, policy);
    let floor = free_floor(policy, vol.total_bytes);
    let h = e.hysteresis;
    let t = Threshold {
        rule: WalRule::VolumeFreeFloor,
        value: vol.available_bytes as f64,
        threshold: floor as f64,
        cross: Cross::Below,
        unit: "bytes",
    };
    e.threshold(t, |held| {
        format!(
            "{what} has {} available, floor {}{}{}",
            human_bytes(vol.available_bytes),
            human_bytes(floor),
            floor_note(policy, floor, vol.total_bytes),
            held_note(held, h)
        )
    });
    let error_used = (vol.total_bytes as f64 * policy.volume_error_pct / 100.0)
        .min(vol.total_bytes.saturating_sub(floor) as f64);
    let quantum = c.facts.settings.wal_segment_size.bytes();
    let (rate, left) = fill_rate(points, policy, vol.used_bytes(), error_used, quantum);
    if let (Some(ttf), Some(rate)) = (left, rate) {
        time_rules(e, what, ttf, rate, policy);
    }
    (rate, left)
}

/// `volume_used_error` and `volume_used_near` on one volume.
fn used_pct_rules(e: &mut Eval<'_>, what: &str, vol: VolumeStats, policy: &WalPolicy) {
    let h = e.hysteresis;
    let shown_pct = pct_floor_2(vol.used_bytes(), vol.total_bytes);
    let df = vol
        .df_used_pct()
        .map(|d| format!(" ({} as df shows it)", pct(d)))
        .unwrap_or_default();
    for (rule, threshold, name) in [
        (WalRule::VolumeUsedError, policy.volume_error_pct, "error"),
        (
            WalRule::VolumeUsedNear,
            policy.volume_near_pct,
            "near-limit",
        ),
    ] {
        let t = Threshold {
            rule,
            value: vol.used_pct(),
            threshold,
            cross: Cross::AtOrAbove,
            unit: "percent",
        };
        e.threshold(t, |held| {
            format!(
                "{what} is {} used{df}, {name} threshold {}{}",
                pct(shown_pct),
                pct(threshold),
                held_note(held, h)
            )
        });
    }
}

/// `time_to_error` and `time_to_near`: at `rate` bytes per second, the
/// volume reaches its error threshold in `ttf` seconds.
fn time_rules(e: &mut Eval<'_>, what: &str, ttf: f64, rate: f64, policy: &WalPolicy) {
    let h = e.hysteresis;
    for (rule, horizon) in [
        (WalRule::TimeToError, policy.error_horizon),
        (WalRule::TimeToNear, policy.near_horizon),
    ] {
        let t = Threshold {
            rule,
            value: ttf,
            threshold: horizon.as_secs_f64(),
            cross: Cross::Below,
            unit: "seconds",
        };
        e.threshold(t, |held| {
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
        });
    }
}

/// Evaluates the WAL status. Pure: same inputs, same report.
pub fn evaluate(facts: &WalFacts, policy: &WalPolicy, now: DateTime<Utc>) -> WalReport {
    let soft_limit = soft_limit(facts);
    if facts.volume.total_bytes == 0 {
        return measurement_failed(
            "the volume holding pg_wal reports a total size of 0 bytes",
            policy,
            soft_limit,
            now,
        );
    }
    let ctx = Ctx {
        facts,
        policy,
        now,
        soft_limit,
        growth: growth(facts, policy, now),
    };
    let mut eval = Eval {
        previous: facts.previous.as_ref(),
        hysteresis: policy.hysteresis_fraction,
        reasons: Vec::new(),
        volume_rate: None,
        seconds_to_error: None,
        volumes: Vec::new(),
    };
    for step in STEPS {
        step(&ctx, &mut eval);
    }
    let mut reasons = eval.reasons;
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    let status = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);
    WalReport {
        status,
        checked_at: now,
        measures: WalMeasures::measured(
            facts,
            policy,
            Derived {
                wal: ctx.growth.wal_rate,
                volume: eval.volume_rate,
                seconds_to_error: eval.seconds_to_error,
                soft_limit,
            },
        ),
        samples_in_window: ctx.growth.samples,
        df_used_pct: facts.volume.df_used_pct(),
        volumes: eval.volumes,
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
        measures: WalMeasures::unmeasured(policy, soft_limit_bytes),
        samples_in_window: 0,
        df_used_pct: None,
        volumes: Vec::new(),
        reasons: vec![Reason {
            rule: WalRule::MeasurementFailed,
            level: WalRule::MeasurementFailed.level(),
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
