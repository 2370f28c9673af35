//! The report's `wal` section: `wal.status` as `ssot wal check` recorded it,
//! its typed facts and the metrics read from them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{flag, known, one, Declared, MetricDecl};
use super::{
    repair_then, untrusted_verdict, ReportFacts, ReportPolicy, Section, SectionFacts, SectionId,
    Verdict,
};
use crate::num::{human_bytes, human_secs, pct, ser_num};
use crate::state::{self, load_trusted, Trust, WalStatusRecord};
use crate::wal::{Level, Recorded, WalMeasures};

/// What the `wal` section read from `wal.status` (all `None` when it could
/// not be used), and the limit it is judged by.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WalSectionFacts {
    /// The recorded WAL status.
    pub status: Option<Level>,
    /// When `ssot wal check` recorded it.
    pub checked_at: Option<DateTime<Utc>>,
    /// How long before the report that was, in seconds.
    pub checked_age_seconds: Option<i64>,
    /// The measurements `wal.status` records ([`WalMeasures`]), each under
    /// its own name (a limit an older file lacks is `null`).
    #[serde(flatten)]
    pub measures: WalMeasures<Recorded>,
    /// Each other volume the cluster writes (PGDATA's, a tablespace's).
    pub volumes: Vec<VolumeUse>,
    /// The recorded reasons (`LEVEL rule: message`), worst first.
    pub reasons: Vec<String>,
    /// Why the record is not trusted (too old, dated in the future).
    pub untrusted: Option<String>,
    /// How old `wal.status` may be (`gate.wal_max_age`), in seconds.
    #[serde(serialize_with = "ser_num")]
    pub max_age_seconds: f64,
}

/// The used share of one volume the cluster writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VolumeUse {
    /// Its key (`pgdata`, a tablespace's).
    pub volume: String,
    /// Used %.
    #[serde(serialize_with = "ser_num")]
    pub used_pct: f64,
}

impl WalSectionFacts {
    fn read(
        rec: WalStatusRecord,
        untrusted: Option<String>,
        max_age_seconds: f64,
        now: DateTime<Utc>,
    ) -> Self {
        WalSectionFacts {
            status: Some(rec.status),
            checked_at: Some(rec.checked_at),
            checked_age_seconds: Some((now - rec.checked_at).num_seconds()),
            measures: rec.measures,
            volumes: rec
                .volumes
                .iter()
                .map(|(volume, used_pct)| VolumeUse {
                    volume: volume.clone(),
                    used_pct: *used_pct,
                })
                .collect(),
            reasons: rec.reasons,
            untrusted,
            max_age_seconds,
        }
    }
}

const LEVELS: [Level; 4] = [Level::Ok, Level::Growing, Level::NearLimit, Level::Error];

const WAL_METRICS: &[MetricDecl<WalSectionFacts>] = &[
    MetricDecl::gauge(
        "wal_status",
        "WAL status (1 for the current one)",
        &["status"],
        "When `wal.status` can be read, one sample per status (`OK`, `GROWING`, `NEAR_LIMIT`, `ERROR`).",
        |f| match f.status {
            Some(s) => LEVELS
                .iter()
                .map(|l| (vec![l.as_str().to_string()], flag(s == *l)))
                .collect(),
            None => Vec::new(),
        },
    ),
    MetricDecl::gauge(
        "wal_size_bytes",
        "Bytes in pg_wal (sum of pg_ls_waldir())",
        &[],
        "When the last WAL check measured pg_wal.",
        |f| known(f.measures.wal_size.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "wal_segments",
        "WAL segment files in pg_wal",
        &[],
        "When the last WAL check counted them.",
        |f| known(f.measures.segment_count.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "wal_volume_used_ratio",
        "Used share of the volume holding pg_wal",
        &[],
        "When the volume could be measured (0..1).",
        |f| known(f.measures.wal_used_pct.map(|v| v / 100.0)),
    ),
    MetricDecl::gauge(
        "cluster_volume_used_ratio",
        "Used share of each other volume the cluster writes (PGDATA's, a tablespace's)",
        &["volume"],
        "One sample per other volume the cluster writes (0..1).",
        |f| {
            f.volumes
                .iter()
                .map(|v| (vec![v.volume.clone()], v.used_pct / 100.0))
                .collect()
        },
    ),
    MetricDecl::gauge(
        "wal_volume_available_bytes",
        "Available bytes on the volume holding pg_wal",
        &[],
        "When the volume could be measured.",
        |f| known(f.measures.volume_available_bytes.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "wal_volume_near_ratio",
        "The volume share at which WAL is NEAR_LIMIT (volume_near_pct)",
        &[],
        "When `wal.status` records the threshold (0..1).",
        |f| known(f.measures.threshold_pct.map(|v| v / 100.0)),
    ),
    MetricDecl::gauge(
        "wal_soft_limit_bytes",
        "pg_wal's soft limit: max_wal_size + wal_keep_size",
        &[],
        "When the settings were known to the last WAL check.",
        |f| known(f.measures.soft_limit_bytes.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "wal_seconds_to_error",
        "Predicted seconds until the pg_wal volume reaches its error threshold",
        &[],
        "When the volume grows: the prediction over `wal.growth_window`.",
        |f| known(f.measures.seconds_to_error),
    ),
    MetricDecl::gauge(
        "wal_safe_wal_size_bytes",
        "Bytes of WAL that can still be written before a replication slot is lost (the smallest safe_wal_size)",
        &[],
        "When a replication slot reports `safe_wal_size` (negative: a slot is already past it).",
        |f| known(f.measures.safe_wal_size_bytes.map(|v| v as f64)),
    ),
    MetricDecl::gauge(
        "wal_last_check_timestamp_seconds",
        "Time of the last WAL check",
        &[],
        "When `wal.status` can be read.",
        |f| known(f.checked_at.map(|t| t.timestamp() as f64)),
    ),
    MetricDecl::gauge(
        "wal_max_age_seconds",
        "How old wal.status may be before gates deny and the report is DOWN (gate.wal_max_age)",
        &[],
        "Always: the configured limit.",
        |f| one(f.max_age_seconds),
    ),
];

impl Declared for WalSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = WAL_METRICS;
}

/// The `wal` section.
pub(super) fn section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let max_age_seconds = policy.freshness.wal_status.as_secs_f64();
    let input = facts.file(state::WAL_STATUS);
    let (rec, dated) = match load_trusted::<WalStatusRecord>(&input, &policy.freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => (record, None),
        Trust::Dated { record, why } => (record, Some(why)),
        Trust::Absent(u) => {
            let s = Section::new(
                SectionId::Wal,
                Verdict::Down,
                format!(
                    "WAL state unknown: {}; every data operation is gated off",
                    untrusted_verdict(&u)
                ),
            );
            return s
                .with_action(repair_then(
                &u,
                "run `ssot wal check` on a schedule (every minute): until it records WAL OK, backup, snapshot, restore and startup are denied",
                true,
            ))
                .with_facts(SectionFacts::Wal(WalSectionFacts {
                    max_age_seconds,
                    ..WalSectionFacts::default()
                }));
        }
    };
    let f = WalSectionFacts::read(rec, dated.map(|u| u.to_string()), max_age_seconds, now);
    words(&f).with_facts(SectionFacts::Wal(f))
}

/// The section's words, from its facts (a record that could be read).
fn words(f: &WalSectionFacts) -> Section {
    let mut s = match &f.untrusted {
        Some(u) => Section::new(SectionId::Wal, Verdict::Down, format!("WAL state untrusted: {u}"))
            .with_action("check that `ssot wal check` runs every minute (its timer or CronJob) and that the clocks agree: until it records WAL OK, backup, snapshot, restore and startup are denied"),
        None => measured(f),
    };
    s.details.extend(f.reasons.iter().cloned());
    s
}

/// The section of a trusted `wal.status`: its words from its facts.
fn measured(f: &WalSectionFacts) -> Section {
    let level = f.status.unwrap_or(Level::Error);
    let status = match level {
        Level::Ok => Verdict::Ok,
        Level::Growing | Level::NearLimit => Verdict::Degraded,
        Level::Error => Verdict::Down,
    };
    let s = Section::new(
        SectionId::Wal,
        status,
        format!(
            "WAL {}: pg_wal {}, volume {} used, checked {} ago",
            level,
            f.measures
                .wal_size
                .map(human_bytes)
                .unwrap_or_else(|| "?".into()),
            f.measures
                .wal_used_pct
                .map(pct)
                .unwrap_or_else(|| "?%".into()),
            human_secs(f.checked_age_seconds.unwrap_or_default() as f64)
        ),
    );
    if status == Verdict::Ok {
        return s;
    }
    // The first reason is the worst rule's (wal.status lists them worst first).
    s.with_action(format!(
        "backup, snapshot, restore and startup are denied until WAL is OK; act on: {}",
        f.reasons.first().map_or_else(
            || "what `ssot wal check --format json` reports".to_string(),
            // "LEVEL rule: message": the message says what holds WAL.
            |r| r
                .split_once(": ")
                .map_or(r.as_str(), |(_, m)| m)
                .to_string(),
        )
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::config::Config;

    #[test]
    fn safe_wal_size_bytes_is_a_gauge_only_when_recorded() {
        let status = "wal_status=OK\nchecked_at=2026-02-05T12:00:00Z\n";
        let now = "2026-02-05T12:00:30Z".parse().unwrap();
        let prom = |text: String| {
            let files = BTreeMap::from([(crate::state::WAL_STATUS.to_string(), text)]);
            super::super::render::prometheus(&crate::report_from_files(
                &files,
                None,
                &Config::default(),
                now,
            ))
        };
        let with = prom(format!("{status}safe_wal_size_bytes=1073741824\n"));
        assert!(
            with.contains("# TYPE ssot_wal_safe_wal_size_bytes gauge\n")
                && with.contains("\nssot_wal_safe_wal_size_bytes 1073741824\n"),
            "{with}"
        );
        let without = prom(status.to_string());
        assert!(
            !without.contains("\nssot_wal_safe_wal_size_bytes "),
            "{without}"
        );
    }
}
