//! The report's `contract`, `limitations` and `stages` sections, their
//! typed facts and the metrics read from them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{flag, known, Declared, MetricDecl};
use super::{
    repair_then, untrusted_verdict, ReportFacts, ReportPolicy, Section, SectionFacts, SectionId,
    Verdict,
};
use crate::contract::{ContractVerdict, InvariantStatus, LimitationStatus};
use crate::stages::{self, Claim};
use crate::state::{self, load_record, load_trusted, ContractStatusRecord, Trust};

/// What the `contract` section read from `contract.status` (empty when it
/// cannot be read).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContractSectionFacts {
    /// The recorded verdict.
    pub verdict: Option<ContractVerdict>,
    /// When `ssot contract check` recorded it.
    pub checked_at: Option<DateTime<Utc>>,
    /// Why the recorded result does not count (too old, dated in the future).
    pub untrusted: Option<String>,
    /// Each invariant's status, by id.
    pub invariants: BTreeMap<String, InvariantStatus>,
    /// Why an invariant failed or is unknown, by id.
    pub messages: BTreeMap<String, String>,
}

const CONTRACT_METRICS: &[MetricDecl<ContractSectionFacts>] = &[
    MetricDecl::gauge(
        "contract_pass",
        "1 when every contract invariant passes",
        &[],
        "When `contract.status` can be read.",
        |f| known(f.verdict.map(|v| flag(v == ContractVerdict::Pass))),
    ),
    MetricDecl::gauge(
        "contract_invariant",
        "Contract invariants (1 for the current status)",
        &["invariant", "status"],
        "When `contract.status` can be read: one sample (1) per invariant, labelled with its status.",
        |f| {
            f.invariants
                .iter()
                .map(|(id, st)| (vec![id.clone(), st.as_str().to_string()], 1.0))
                .collect()
        },
    ),
];

impl Declared for ContractSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = CONTRACT_METRICS;
}

/// What the `limitations` section read from `contract.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LimitationsSectionFacts {
    /// Each declared limitation's status, by name (empty when unchecked).
    pub limitations: BTreeMap<String, LimitationStatus>,
}

const LIMITATIONS_METRICS: &[MetricDecl<LimitationsSectionFacts>] = &[MetricDecl::gauge(
    "limitation",
    "Declared limitations (1 for the current status)",
    &["limitation", "status"],
    "When `contract.status` can be read: one sample (1) per declared limitation, labelled with its status.",
    |f| {
        f.limitations
            .iter()
            .map(|(k, v)| (vec![k.clone(), v.as_str().to_string()], 1.0))
            .collect()
    },
)];

impl Declared for LimitationsSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = LIMITATIONS_METRICS;
}

/// What the `stages` section checked: each claim of the stage registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StagesSectionFacts {
    /// Each stage, in the registry's order (details in the report's `stages`).
    pub stages: Vec<StageFact>,
}

/// One stage's claim and whether the evidence backs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StageFact {
    /// The stage id.
    pub id: String,
    /// Its claimed status.
    pub claimed: Claim,
    /// Whether the evidence backs the claim.
    pub consistent: bool,
}

const STAGES_METRICS: &[MetricDecl<StagesSectionFacts>] = &[MetricDecl::gauge(
    "stage_consistent",
    "1 when the stage's claimed status is backed by evidence",
    &["stage", "claimed"],
    "One sample per stage of the registry (`[[stages]]`).",
    |f| {
        f.stages
            .iter()
            .map(|c| {
                (
                    vec![c.id.clone(), c.claimed.as_str().to_string()],
                    flag(c.consistent),
                )
            })
            .collect()
    },
)];

impl Declared for StagesSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = STAGES_METRICS;
}

fn contract_record(facts: &ReportFacts) -> std::result::Result<ContractStatusRecord, String> {
    load_record(
        &facts.file(state::CONTRACT_STATUS),
        ContractStatusRecord::from_file,
    )
    .map_err(|u| untrusted_verdict(&u))
}

/// The `contract` section.
pub(super) fn section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let input = facts.file(state::CONTRACT_STATUS);
    let (rec, dated) = match load_trusted::<ContractStatusRecord>(&input, &policy.freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => (record, None),
        Trust::Dated { record, why } => (record, Some(why)),
        Trust::Absent(u) => {
            return Section::new(
                SectionId::Contract,
                Verdict::Degraded,
                format!(
                    "contract unchecked: {}; run `ssot contract check`",
                    untrusted_verdict(&u)
                ),
            )
            .with_action(repair_then(&u, "run `ssot contract check` (nightly, and before a restore or a startup: both are denied without a PASS)", false))
        }
    };
    let f = ContractSectionFacts {
        verdict: Some(rec.verdict),
        checked_at: Some(rec.checked_at),
        untrusted: dated.map(|u| u.to_string()),
        invariants: rec.invariants,
        messages: rec.messages,
    };
    contract_words(&f).with_facts(SectionFacts::Contract(f))
}

/// The contract section's words, from its facts (a record that could be read).
fn contract_words(f: &ContractSectionFacts) -> Section {
    let ids = |st: InvariantStatus| -> Vec<&str> {
        f.invariants
            .iter()
            .filter(|(_, v)| **v == st)
            .map(|(k, _)| k.as_str())
            .collect()
    };
    let failed = ids(InvariantStatus::Fail);
    let unknown = ids(InvariantStatus::Unknown);
    let mut s = match f.verdict.unwrap_or(ContractVerdict::Unknown) {
        ContractVerdict::Pass => Section::new(
            SectionId::Contract,
            Verdict::Ok,
            format!("{} invariants pass", f.invariants.len()),
        ),
        ContractVerdict::Fail => Section::new(
            SectionId::Contract,
            Verdict::Degraded,
            format!("FAIL: {}", failed.join(", ")),
        ),
        ContractVerdict::Unknown => Section::new(
            SectionId::Contract,
            Verdict::Degraded,
            format!(
                "UNKNOWN (startup is denied): not checked {}",
                unknown.join(", ")
            ),
        ),
    };
    if let Some(id) = failed.first() {
        s.action = Some(format!(
            "fix {id} ({}) or declare what is meant in [contract], then run `ssot contract check` again",
            f.messages.get(*id).map_or("see contract.status", String::as_str)
        ));
    } else if !unknown.is_empty() {
        s.action = Some("give `ssot contract check` the inputs it could not read (--dsn for the runtime settings and processes; --statefulset or --postgresql-conf for the declared ones): restore and startup are denied until it passes".into());
    }
    if let Some(u) = &f.untrusted {
        s.status = Verdict::Degraded;
        s.summary = format!("{u}; last result {}", s.summary);
        if s.action.is_none() {
            s.action = Some(
                "run `ssot contract check` again (nightly): an old result does not count".into(),
            );
        }
    }
    for id in failed.iter().chain(unknown.iter()) {
        let msg = f.messages.get(*id).cloned().unwrap_or_default();
        s.details.push(format!("{id}: {msg}"));
    }
    s
}

/// The `limitations` section.
pub(super) fn limitations_section(facts: &ReportFacts) -> Section {
    let rec = match contract_record(facts) {
        Ok(r) => r,
        Err(e) => {
            return Section::new(
                SectionId::Limitations,
                Verdict::Degraded,
                format!("unchecked: {e}"),
            )
            .with_action("run `ssot contract check`: it checks each declared limitation")
        }
    };
    let f = LimitationsSectionFacts {
        limitations: rec.limitations,
    };
    limitations_words(&f).with_facts(SectionFacts::Limitations(f))
}

/// The limitations section's words, from its facts.
fn limitations_words(f: &LimitationsSectionFacts) -> Section {
    let with = |st: LimitationStatus| -> Vec<&str> {
        f.limitations
            .iter()
            .filter(|(_, v)| **v == st)
            .map(|(k, _)| k.as_str())
            .collect()
    };
    let on = with(LimitationStatus::On);
    let unverified = with(LimitationStatus::Unverified);
    let off = with(LimitationStatus::Off).len();
    let mut s = if on.is_empty() {
        Section::new(
            SectionId::Limitations,
            Verdict::Ok,
            format!(
                "{off} confirmed off, {} declared but unverifiable",
                unverified.len()
            ),
        )
    } else {
        Section::new(
            SectionId::Limitations,
            Verdict::Degraded,
            format!("declared off but on: {}", on.join(", ")),
        )
        .with_action(format!(
            "turn {} off, or take it out of contract.declared_limitations if it is meant to run",
            on[0]
        ))
    };
    for (k, v) in &f.limitations {
        s.details.push(format!("{k}: {}", v.as_str()));
    }
    s
}

/// The `stages` section.
pub(super) fn stages_section(checks: &[stages::StageCheck]) -> Section {
    if checks.is_empty() {
        return Section::new(SectionId::Stages, Verdict::Ok, stages::NONE_CONFIGURED);
    }
    let bad: Vec<&stages::StageCheck> = checks.iter().filter(|c| !c.consistent).collect();
    let mut s = if bad.is_empty() {
        Section::new(
            SectionId::Stages,
            Verdict::Ok,
            format!("all {} stage claims are backed by evidence", checks.len()),
        )
    } else {
        Section::new(
            SectionId::Stages,
            Verdict::Degraded,
            format!(
                "{} of {} stage claims lack evidence: {}",
                bad.len(),
                checks.len(),
                bad.iter()
                    .map(|c| format!("STAGE {}", c.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_action("back each claim with its evidence, or claim what is true in [[stages]] (`ssot stages check` lists what is missing)")
    };
    for c in bad {
        s.details.push(format!(
            "STAGE {} {}{}: {}",
            c.id,
            c.title,
            if c.final_ { " (FINAL)" } else { "" },
            c.message
        ));
    }
    s.with_facts(SectionFacts::Stages(StagesSectionFacts {
        stages: checks
            .iter()
            .map(|c| StageFact {
                id: c.id.clone(),
                claimed: c.claimed,
                consistent: c.consistent,
            })
            .collect(),
    }))
}
