//! The report's `disk` section: the disk guard of each configured target,
//! its typed facts and the metrics read from them.

use serde::Serialize;

use super::metrics::{flag, Declared, MetricDecl};
use super::{ReportFacts, ReportPolicy, Section, SectionFacts, SectionId, Verdict};
use crate::disk;
use crate::gate::Operation;

/// What the `disk` section measured: one entry per configured target.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DiskSectionFacts {
    /// The targets, in the configuration's order.
    pub targets: Vec<DiskTargetFacts>,
}

/// One operation's target and its disk guard.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DiskTargetFacts {
    /// The operation that writes there.
    pub operation: Operation,
    /// The target directory.
    pub path: String,
    /// Whether every check of the disk guard passes.
    pub passes: bool,
    /// Available bytes on its volume, when measured.
    pub available_bytes: Option<u64>,
    /// Size of its volume, when measured.
    pub total_bytes: Option<u64>,
    /// The failed checks' messages.
    pub failures: Vec<String>,
    /// What to do about the first failed check.
    pub advice: Option<String>,
}

const DISK_METRICS: &[MetricDecl<DiskSectionFacts>] = &[
    MetricDecl::gauge(
        "disk_guard_pass",
        "1 when the disk guard passes for the operation's target",
        &["operation"],
        "One sample per configured target (`gate.targets`).",
        |f| {
            f.targets
                .iter()
                .map(|t| (vec![t.operation.as_str().to_string()], flag(t.passes)))
                .collect()
        },
    ),
    MetricDecl::gauge(
        "disk_target_available_bytes",
        "Available bytes on the operation's target volume",
        &["operation"],
        "One sample per configured target whose volume could be measured.",
        |f| {
            f.targets
                .iter()
                .filter_map(|t| {
                    t.available_bytes
                        .map(|v| (vec![t.operation.as_str().to_string()], v as f64))
                })
                .collect()
        },
    ),
];

impl Declared for DiskSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = DISK_METRICS;
}

/// The `disk` section.
pub(super) fn section(facts: &ReportFacts, policy: &ReportPolicy) -> Section {
    if facts.disks.is_empty() {
        return Section::new(
            SectionId::Disk,
            Verdict::Ok,
            "no backup or snapshot target configured",
        );
    }
    let targets: Vec<DiskTargetFacts> = facts
        .disks
        .iter()
        .map(|(op, d)| {
            let checks = disk::guard(d, &policy.disk);
            let failed: Vec<_> = checks.iter().filter(|c| !c.passed).collect();
            DiskTargetFacts {
                operation: *op,
                path: d.target.path.clone(),
                passes: failed.is_empty(),
                available_bytes: d.target.volume.map(|v| v.available_bytes),
                total_bytes: d.target.volume.map(|v| v.total_bytes),
                failures: failed.iter().map(|c| c.message.clone()).collect(),
                advice: failed.first().map(|c| disk::advice(&c.rule, op.as_str())),
            }
        })
        .collect();
    let f = DiskSectionFacts { targets };
    words(&f).with_facts(SectionFacts::Disk(f))
}

/// The section's words, from its facts (at least one target).
fn words(f: &DiskSectionFacts) -> Section {
    let mut bad = Vec::new();
    let mut good = Vec::new();
    let mut action = None;
    for t in &f.targets {
        let op = t.operation;
        if let Some(advice) = &t.advice {
            action.get_or_insert_with(|| {
                format!("{advice}; {op} is denied until its disk guard passes")
            });
        }
        if t.failures.is_empty() {
            good.push(format!("{op} target {} passes the disk guard", t.path));
        } else {
            bad.extend(t.failures.iter().map(|m| format!("{op}: {m}")));
        }
    }
    let mut s = if bad.is_empty() {
        Section::new(
            SectionId::Disk,
            Verdict::Ok,
            format!("{} target(s) pass the disk guard", f.targets.len()),
        )
    } else {
        Section::new(
            SectionId::Disk,
            Verdict::Degraded,
            format!("disk guard fails: {}", bad[0]),
        )
    };
    s.action = action;
    s.details = bad.into_iter().chain(good).collect();
    s
}
