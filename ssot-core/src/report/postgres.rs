//! The report's `postgres` section, from a live probe: reachable, primary,
//! slots, the archiver, what `pg_ls_waldir()` counts; its typed facts and
//! the metrics read from them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{flag, known, one, Declared, MetricDecl, Samples};
use super::{ReportPolicy, Section, SectionFacts, SectionId, Verdict};
use crate::inputs::LiveFacts;
use crate::num::human_bytes;
use crate::wal::{ProbeFailure, SlotWalStatus};

/// What the live probe saw (`up` false and nothing else when it could not).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PostgresSectionFacts {
    /// The server, as given (any password masked).
    pub server: String,
    /// Whether the probe answered.
    pub up: bool,
    /// `server_version_num`.
    pub version: Option<u32>,
    /// `pg_is_in_recovery()`: a standby.
    pub in_recovery: Option<bool>,
    /// Bytes in pg_wal as `pg_ls_waldir()` counts them.
    pub wal_bytes: Option<u64>,
    /// WAL segment files `pg_ls_waldir()` lists.
    pub wal_segments: Option<u64>,
    /// `pg_stat_archiver.archived_count`.
    pub archived_count: Option<u64>,
    /// `pg_stat_archiver.failed_count`.
    pub failed_count: Option<u64>,
    /// The last WAL file the archiver failed on.
    pub last_failed_wal: Option<String>,
    /// Whether an archiver process runs.
    pub archiver_running: Option<bool>,
    /// Whether the archiver's last attempt failed within `wal.growth_window`.
    pub archiver_failing: Option<bool>,
    /// The replication slots.
    pub slots: Vec<SlotFacts>,
}

/// One replication slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SlotFacts {
    /// `slot_name`.
    pub name: String,
    /// `active`.
    pub active: bool,
    /// `wal_status`, when known.
    pub wal_status: Option<SlotWalStatus>,
    /// WAL bytes it holds back, when known.
    pub retained_bytes: Option<u64>,
    /// `safe_wal_size`: bytes before it is invalidated (`None`: unlimited or unknown).
    pub safe_wal_size: Option<i64>,
}

fn per_slot(f: &PostgresSectionFacts, value: impl Fn(&SlotFacts) -> Option<f64>) -> Samples {
    f.slots
        .iter()
        .filter_map(|s| value(s).map(|v| (vec![s.name.clone()], v)))
        .collect()
}

const POSTGRES_METRICS: &[MetricDecl<PostgresSectionFacts>] = &[
    MetricDecl::gauge(
        "postgres_slot_active",
        "1 when the replication slot is active",
        &["slot"],
        "With a live probe (`--dsn`): one sample per replication slot.",
        |f| per_slot(f, |s| Some(flag(s.active))),
    ),
    MetricDecl::gauge(
        "postgres_slot_retained_bytes",
        "WAL bytes the replication slot holds back",
        &["slot"],
        "With a live probe: one sample per slot whose restart_lsn is known.",
        |f| per_slot(f, |s| s.retained_bytes.map(|b| b as f64)),
    ),
    MetricDecl::gauge(
        "postgres_up",
        "1 when the live probe of PostgreSQL answered",
        &[],
        "With a live probe (`--dsn`).",
        |f| one(flag(f.up)),
    ),
    MetricDecl::gauge(
        "postgres_in_recovery",
        "1 when PostgreSQL is a standby (pg_is_in_recovery())",
        &[],
        "When the live probe answered.",
        |f| known(f.in_recovery.map(flag)),
    ),
    MetricDecl::gauge(
        "postgres_wal_bytes",
        "Bytes in pg_wal as pg_ls_waldir() counts them",
        &[],
        "When the live probe answered.",
        |f| known(f.wal_bytes.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "postgres_archiver_archived",
        "WAL files archived (pg_stat_archiver.archived_count)",
        &[],
        "When the live probe answered.",
        |f| known(f.archived_count.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "postgres_archiver_failed",
        "Failed archive attempts (pg_stat_archiver.failed_count)",
        &[],
        "When the live probe answered.",
        |f| known(f.failed_count.map(|v| v as f64)),
    ),
];

impl Declared for PostgresSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = POSTGRES_METRICS;
}

impl PostgresSectionFacts {
    fn read(server: &str, l: &LiveFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Self {
        PostgresSectionFacts {
            server: server.to_string(),
            up: true,
            version: Some(l.version),
            in_recovery: Some(l.in_recovery),
            wal_bytes: Some(l.waldir.bytes),
            wal_segments: Some(l.waldir.segments),
            archived_count: Some(l.archiver.archived_count),
            failed_count: Some(l.archiver.failed_count),
            last_failed_wal: l.archiver.last_failed_wal.clone(),
            archiver_running: Some(l.runs("archiver")),
            archiver_failing: Some(l.archiver.failing(now, policy.archiver_recent)),
            slots: l
                .slots
                .iter()
                .map(|slot| SlotFacts {
                    name: slot.name.clone(),
                    active: slot.active,
                    wal_status: slot.wal_status,
                    retained_bytes: slot.retained_bytes,
                    safe_wal_size: l.slot_safe_wal_size.get(&slot.name).copied().flatten(),
                })
                .collect(),
        }
    }
}

/// The `postgres` section.
pub(super) fn section(
    server: &str,
    probed: &std::result::Result<LiveFacts, String>,
    policy: &ReportPolicy,
    now: DateTime<Utc>,
) -> Section {
    let l = match probed {
        Ok(l) => l,
        Err(why) => {
            let class = ProbeFailure::classify(why);
            let mut s = Section::new(
                SectionId::Postgres,
                Verdict::Down,
                format!("PostgreSQL at {server}: {} ({why})", class.rule()),
            );
            s.details.push(class.advice().to_string());
            s.action = Some(class.advice().to_string());
            return s.with_facts(SectionFacts::Postgres(PostgresSectionFacts {
                server: server.to_string(),
                ..PostgresSectionFacts::default()
            }));
        }
    };
    let f = PostgresSectionFacts::read(server, l, policy, now);
    words(&f).with_facts(SectionFacts::Postgres(f))
}

/// The section's words, from the facts of a server that answered.
fn words(f: &PostgresSectionFacts) -> Section {
    let server = &f.server;
    let mut s = Section::new(SectionId::Postgres, Verdict::Ok, summary(f));
    let mut problems = Vec::new();
    if f.in_recovery == Some(true) {
        problems.push((
            Verdict::Degraded,
            format!(
                "{server} is in recovery: a standby, not the single instance the contract declares"
            ),
        ));
    }
    if f.archiver_failing == Some(true) {
        problems.push((
            Verdict::Degraded,
            format!(
                "the archiver is failing: {} failed attempt(s), the last for {}",
                f.failed_count.unwrap_or_default(),
                f.last_failed_wal.as_deref().unwrap_or("?")
            ),
        ));
    }
    for slot in &f.slots {
        let line = slot_line(slot);
        match slot.wal_status {
            Some(SlotWalStatus::Lost) => problems.push((Verdict::Down, line)),
            Some(SlotWalStatus::Unreserved) => problems.push((Verdict::Degraded, line)),
            _ if !slot.active => problems.push((Verdict::Degraded, line)),
            _ => s.details.push(line),
        }
    }
    if let Some(worst) = problems.iter().map(|(v, _)| *v).max() {
        let first = problems
            .iter()
            .find(|(v, _)| *v == worst)
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        s.status = worst;
        s.action = Some(format!("see to {first}"));
        s.summary = format!("{first}; {}", s.summary);
    }
    let mut details: Vec<String> = problems.into_iter().map(|(_, m)| m).collect();
    details.append(&mut s.details);
    s.details = details;
    s
}

/// The one-line summary of a server that answered.
fn summary(f: &PostgresSectionFacts) -> String {
    let version = f.version.unwrap_or_default();
    format!(
        "PostgreSQL {}.{} at {}: {}, pg_wal {} in {} segment(s), {} slot(s), archiver {}",
        version / 10000,
        version % 10000,
        f.server,
        if f.in_recovery == Some(true) {
            "a standby (in recovery)"
        } else {
            "primary"
        },
        human_bytes(f.wal_bytes.unwrap_or_default()),
        f.wal_segments.unwrap_or_default(),
        f.slots.len(),
        if f.archiver_failing == Some(true) {
            "FAILING"
        } else if f.archiver_running == Some(true) {
            "running"
        } else {
            "not running"
        }
    )
}

/// A slot's line in the details.
fn slot_line(slot: &SlotFacts) -> String {
    let safe = slot
        .safe_wal_size
        .map(|b| format!(", safe_wal_size {}", human_bytes(b.max(0) as u64)))
        .unwrap_or_default();
    format!(
        "slot {}: {}, wal_status {}, holds {}{safe}",
        slot.name,
        if slot.active { "active" } else { "INACTIVE" },
        slot.wal_status.map(|w| w.as_str()).unwrap_or("?"),
        slot.retained_bytes
            .map(human_bytes)
            .unwrap_or_else(|| "?".into()),
    )
}
