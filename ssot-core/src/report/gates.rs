//! The report's `gates` section: recent gate decisions from `gate.log`, its
//! typed facts and the metrics read from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{Declared, MetricDecl};
use super::{ReportFacts, ReportPolicy, Section, SectionFacts, SectionId, Verdict};
use crate::gate::{Decision, Operation};
use crate::num::ser_num;
use crate::state::{self, GateLog};

/// What the `gates` section read from `gate.log`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GatesSectionFacts {
    /// The window decisions are counted in (`report.recent_window`), in seconds.
    #[serde(serialize_with = "ser_num")]
    pub recent_window_seconds: f64,
    /// Decisions within the window, per operation (every operation, once
    /// `gate.log` holds a decision; empty before).
    pub recent: Vec<GateCounts>,
    /// Operations whose latest decision for the configured target is a
    /// recent denial: blocked now.
    pub blocked: Vec<Operation>,
    /// The denials that are the latest decision of their operation: the
    /// blocking ones first, then older ones or ones of another target.
    pub denials: Vec<GateDenial>,
    /// Lines of `gate.log` that are not decisions.
    pub unparsed_lines: usize,
    /// Decisions dated after the report (not counted).
    pub future_dated: usize,
    /// Whether only the tail of `gate.log` was read.
    pub log_truncated: bool,
}

/// One operation's decisions within the recent window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateCounts {
    /// The operation.
    pub operation: Operation,
    /// Decisions that allowed it.
    pub allowed: usize,
    /// Decisions that denied it.
    pub denied: usize,
}

/// A denial that is the latest decision of its operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GateDenial {
    /// The operation denied.
    pub operation: Operation,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// The target it was asked for.
    pub target: Option<String>,
    /// The failed checks' messages.
    pub reasons: Vec<String>,
    /// Whether it blocks the operation now (recent, and for the configured target).
    pub current: bool,
}

const GATES_METRICS: &[MetricDecl<GatesSectionFacts>] = &[MetricDecl::gauge(
    "gate_recent_decisions",
    "Gate decisions within the recent window",
    &["operation", "decision"],
    "Once `gate.log` holds a decision: one sample per operation and decision (`allowed`, `denied`) within `report.recent_window`.",
    |f| {
        f.recent
            .iter()
            .flat_map(|c| {
                let op = c.operation.as_str().to_string();
                [
                    (vec![op.clone(), "allowed".to_string()], c.allowed as f64),
                    (vec![op, "denied".to_string()], c.denied as f64),
                ]
            })
            .collect()
    },
)];

impl Declared for GatesSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = GATES_METRICS;
}

/// The `gates` section.
pub(super) fn section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let window = policy.recent_window.as_secs_f64();
    let empty = GatesSectionFacts {
        recent_window_seconds: window,
        log_truncated: facts.gate_log_truncated,
        ..GatesSectionFacts::default()
    };
    let log = match facts
        .gate_log
        .as_ref()
        .map_or(Ok(GateLog::default()), GateLog::load)
    {
        Ok(log) if log.decisions.is_empty() && log.corrupt == 0 => {
            return Section::new(SectionId::Gates, Verdict::Ok, "no gate decision recorded yet")
                .with_facts(SectionFacts::Gates(empty))
        }
        Ok(log) => log,
        Err(u) => return Section::new(SectionId::Gates, Verdict::Degraded, u.to_string()).with_action(
            "make gate.log readable by the user ssot runs as (the audit trail of every decision)",
        ).with_facts(SectionFacts::Gates(empty)),
    };
    let tally = Tally::of(&log, policy, now);
    let f = GatesSectionFacts {
        recent: tally.recent(),
        blocked: tally.blocked.iter().map(|d| d.operation).collect(),
        denials: tally.denials(),
        unparsed_lines: log.corrupt,
        future_dated: log.future_dated(now),
        ..empty
    };
    words(&f, policy).with_facts(SectionFacts::Gates(f))
}

/// The decisions of `gate.log` that the section counts and names.
struct Tally<'a> {
    /// Decisions in the recent window, by operation and outcome.
    counts: BTreeMap<(Operation, bool), usize>,
    /// The latest decision of each operation, whatever its target.
    last: BTreeMap<Operation, &'a Decision>,
    /// The latest decisions of the configured targets that denied recently.
    blocked: Vec<&'a Decision>,
}

impl<'a> Tally<'a> {
    fn of(log: &'a GateLog, policy: &ReportPolicy, now: DateTime<Utc>) -> Self {
        let since = crate::num::minus(now, policy.recent_window);
        let mut counts: BTreeMap<(Operation, bool), usize> = BTreeMap::new();
        let mut last: BTreeMap<Operation, &Decision> = BTreeMap::new();
        for d in log.until(now) {
            if d.decided_at >= since {
                *counts.entry((d.operation, d.allowed)).or_default() += 1;
            }
            if last
                .get(&d.operation)
                .is_none_or(|p| p.decided_at <= d.decided_at)
            {
                last.insert(d.operation, d);
            }
        }
        // "Blocked now" needs a recent denial of the configured target: an old
        // one was decided on state that has expired since, and a denial of an
        // ad-hoc target says nothing about the configured one.
        let fresh_since = crate::num::minus(now, policy.blocked_max_age);
        // Paths compare by their components: `/backup/dumps/` and
        // `/backup//dumps` are the configured `/backup/dumps`.
        let configured = |d: &Decision| match (&d.target, policy.targets.get(&d.operation)) {
            (Some(t), Some(c)) => std::path::Path::new(t)
                .components()
                .eq(std::path::Path::new(c).components()),
            _ => true,
        };
        let mut latest_configured: BTreeMap<Operation, &Decision> = BTreeMap::new();
        for d in log.until(now).filter(|d| configured(d)) {
            if latest_configured
                .get(&d.operation)
                .is_none_or(|p| p.decided_at <= d.decided_at)
            {
                latest_configured.insert(d.operation, d);
            }
        }
        let blocked: Vec<&Decision> = latest_configured
            .values()
            .copied()
            .filter(|d| !d.allowed && d.decided_at >= fresh_since)
            .collect();
        Tally {
            counts,
            last,
            blocked,
        }
    }

    /// Every operation's counts in the window.
    fn recent(&self) -> Vec<GateCounts> {
        let n = |op, allowed| self.counts.get(&(op, allowed)).copied().unwrap_or(0);
        Operation::ALL
            .into_iter()
            .map(|op| GateCounts {
                operation: op,
                allowed: n(op, true),
                denied: n(op, false),
            })
            .collect()
    }

    /// The denials that are the latest of their operation: the blocking
    /// ones first, then older or ad-hoc ones.
    fn denials(&self) -> Vec<GateDenial> {
        let is_blocked = |d: &Decision| self.blocked.iter().any(|b| std::ptr::eq(*b, d));
        let stale_denials = self
            .last
            .values()
            .copied()
            .filter(|d| !d.allowed && !is_blocked(d));
        self.blocked
            .iter()
            .copied()
            .chain(stale_denials)
            .map(|d| GateDenial {
                operation: d.operation,
                decided_at: d.decided_at,
                target: d.target.clone(),
                reasons: d.denials().map(|c| c.message.clone()).collect(),
                current: is_blocked(d),
            })
            .collect()
    }
}

/// A denial's line in the details.
fn denial_line(d: &GateDenial) -> String {
    let now_or_then = if d.current {
        ""
    } else {
        " (not current: older than gate.wal_max_age or another target than the configured one)"
    };
    format!(
        "{} denied at {}{}{now_or_then}: {}",
        d.operation,
        state::timestamp(d.decided_at),
        d.target
            .as_ref()
            .map(|t| format!(" for {t}"))
            .unwrap_or_default(),
        d.reasons.join("; ")
    )
}

/// The section's words, from its facts.
fn words(f: &GatesSectionFacts, policy: &ReportPolicy) -> Section {
    let mut s = Section::new(SectionId::Gates, Verdict::Ok, String::new());
    s.details = f.denials.iter().map(denial_line).collect();
    let denied: usize = f.recent.iter().map(|c| c.denied).sum();
    let allowed: usize = f.recent.iter().map(|c| c.allowed).sum();
    s.summary = format!(
        "last {}: {allowed} allowed, {denied} denied",
        policy.recent_window
    );
    if let Some(first) = f.denials.first().filter(|d| d.current) {
        s.status = Verdict::Degraded;
        s.action = Some(format!(
            "fix what denied {} ({}), then run it again",
            first.operation,
            first.reasons.first().map_or("see gate.log", String::as_str)
        ));
        s.summary = format!(
            "{} blocked now (last decision denied); {}",
            f.blocked
                .iter()
                .map(|op| op.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            s.summary
        );
    }
    if f.unparsed_lines > 0 {
        s.raise(
            Verdict::Degraded,
            &format!("{} line(s) of gate.log are not decisions", f.unparsed_lines),
            Some(
                "find what writes into gate.log besides ssot (only ssot's gate appends to it)"
                    .into(),
            ),
        );
    }
    if f.future_dated > 0 {
        s.raise(
            Verdict::Degraded,
            &format!(
                "{} decision(s) in gate.log are dated after now (clock skew?): not counted",
                f.future_dated
            ),
            Some("check the clock (timedatectl; NTP) of the hosts that run gates".into()),
        );
    }
    if f.log_truncated {
        s.details.push(format!(
            "only the last {}MiB of gate.log were read: rotate it (logrotate copytruncate)",
            state::GATE_LOG_TAIL >> 20
        ));
    }
    s
}
