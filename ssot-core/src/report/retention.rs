//! The report's `retention` section: the last apply of each configured
//! profile, its typed facts and the metrics read from them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::metrics::{Declared, MetricDecl, Samples};
use super::{
    untrusted_verdict, ReportFacts, ReportPolicy, Section, SectionFacts, SectionId, Verdict,
};
use crate::num::{human_bytes, human_secs, ser_num};
use crate::state::{self, load_record, RetentionStatusRecord, Untrusted};

/// What the `retention` section read from `retention.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionSectionFacts {
    /// Each configured profile (`retention.profiles`), in order; empty when
    /// `retention.status` cannot be read.
    pub profiles: Vec<RetentionProfileFacts>,
    /// How old a profile's last apply may be, in seconds.
    #[serde(serialize_with = "ser_num")]
    pub max_age_seconds: f64,
}

/// One profile's last apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RetentionProfileFacts {
    /// The profile.
    pub profile: String,
    /// When it was last applied (`None`: never).
    pub applied_at: Option<DateTime<Utc>>,
    /// How long before the report that was, in seconds.
    pub age_seconds: Option<i64>,
    /// Whether that is longer ago than `max_age_seconds` allows.
    pub overdue: bool,
    /// Artifacts it kept.
    pub kept: Option<u64>,
    /// Bytes it freed.
    pub freed_bytes: Option<u64>,
    /// Its warnings.
    pub warnings: Vec<String>,
}

impl RetentionProfileFacts {
    /// `(profile label, value)` when the profile has been applied.
    fn applied(&self, value: impl Fn(&Self) -> f64) -> Option<(Vec<String>, f64)> {
        self.applied_at
            .map(|_| (vec![self.profile.clone()], value(self)))
    }
}

fn per_applied(
    f: &RetentionSectionFacts,
    value: impl Fn(&RetentionProfileFacts) -> f64 + Copy,
) -> Samples {
    f.profiles.iter().filter_map(|p| p.applied(value)).collect()
}

const RETENTION_METRICS: &[MetricDecl<RetentionSectionFacts>] = &[
    MetricDecl::gauge(
        "retention_last_apply_timestamp_seconds",
        "Time of the profile's last retention apply",
        &["profile"],
        "One sample per configured profile that has been applied.",
        |f| per_applied(f, |p| p.applied_at.map_or(0.0, |t| t.timestamp() as f64)),
    ),
    MetricDecl::gauge(
        "retention_kept_artifacts",
        "Artifacts kept by the last apply",
        &["profile"],
        "One sample per configured profile that has been applied (0 when not recorded).",
        |f| per_applied(f, |p| p.kept.unwrap_or(0) as f64),
    ),
    MetricDecl::gauge(
        "retention_freed_bytes",
        "Bytes freed by the last apply",
        &["profile"],
        "One sample per configured profile that has been applied (0 when not recorded).",
        |f| per_applied(f, |p| p.freed_bytes.unwrap_or(0) as f64),
    ),
];

impl Declared for RetentionSectionFacts {
    const METRICS: &'static [MetricDecl<Self>] = RETENTION_METRICS;
}

/// The `retention` section.
pub(super) fn section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let mut f = RetentionSectionFacts {
        profiles: Vec::new(),
        max_age_seconds: policy.freshness.retention.as_secs_f64(),
    };
    let input = facts.file(state::RETENTION_STATUS);
    let rec = match load_record(&input, RetentionStatusRecord::from_file) {
        Ok(r) => r,
        Err(Untrusted::Missing(_)) => RetentionStatusRecord::default(),
        Err(u) => {
            return Section::new(
                SectionId::Retention,
                Verdict::Degraded,
                untrusted_verdict(&u),
            )
            .with_action("run `ssot retention apply` again: it rewrites retention.status")
            .with_facts(SectionFacts::Retention(f))
        }
    };
    f.profiles = policy
        .retention_profiles
        .iter()
        .map(|p| {
            let run = rec.profiles.get(p);
            let applied_at = run.and_then(|r| r.applied_at);
            RetentionProfileFacts {
                profile: p.clone(),
                applied_at,
                age_seconds: applied_at.map(|at| (now - at).num_seconds()),
                overdue: applied_at
                    .is_some_and(|at| now - at > policy.freshness.retention.to_delta()),
                kept: run.and_then(|r| r.kept),
                freed_bytes: run.and_then(|r| r.freed_bytes),
                warnings: run.map(|r| r.warnings.clone()).unwrap_or_default(),
            }
        })
        .collect();
    words(&f, policy).with_facts(SectionFacts::Retention(f))
}

/// The section's words from its facts: the first problem leads the summary
/// and `action` says what to do about it.
fn words(f: &RetentionSectionFacts, policy: &ReportPolicy) -> Section {
    let mut s = Section::new(SectionId::Retention, Verdict::Ok, String::new());
    let mut notes = Vec::new();
    let mut problem: Option<(String, String)> = None;
    let mut flag = |note: String, action: String| {
        if problem.is_none() {
            problem = Some((note.clone(), action));
        }
        note
    };
    for r in &f.profiles {
        let p = &r.profile;
        let Some(age) = r.age_seconds else {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!("{p}: never applied"),
                format!(
                    "run `ssot retention apply --profile {p} --confirm` on a schedule (nightly)"
                ),
            ));
            continue;
        };
        if r.overdue {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!(
                    "{p}: last applied {} ago, more than {}",
                    human_secs(age as f64),
                    policy.freshness.retention
                ),
                format!("check the schedule of `ssot retention apply --profile {p}` (its timer or CronJob)"),
            ));
        } else if let Some(w) = r.warnings.first() {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!("{p}: {} warning(s): {w}", r.warnings.len()),
                format!("read `ssot retention plan --profile {p}` and resolve its warnings"),
            ));
        } else {
            notes.push(format!(
                "{p}: applied {} ago, kept {}, freed {}",
                human_secs(age as f64),
                r.kept.unwrap_or(0),
                human_bytes(r.freed_bytes.unwrap_or(0))
            ));
        }
    }
    s.summary = match &problem {
        Some((note, _)) => note.clone(),
        None => notes
            .first()
            .cloned()
            .unwrap_or_else(|| "no retention profile configured".into()),
    };
    s.action = problem.map(|(_, a)| a);
    s.details = notes;
    s
}
