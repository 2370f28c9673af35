//! The single view of truth (seed: STAGE 6 "Report (Single View of Truth)").
//!
//! [`build`] reads everything in the state directory (as [`ReportFacts`]) and
//! returns a [`Report`]: one [`Section`] per concern — WAL, disk, gates,
//! retention, backup, restore drill, DR drill, contract, stages, limitations —
//! each `OK`, `DEGRADED` or `DOWN` with a one-line summary, details and
//! metrics, and an overall verdict, the worst of them. Pure; the renderings
//! (text, Prometheus, ConfigMap) are in [`render`]. Snapshots are never
//! counted as backups anywhere in it: the backup section reads only
//! `backup.status`, which refuses snapshot records.

mod contract;
mod disk;
pub mod evidence;
mod gates;
pub mod metrics;
mod postgres;
pub mod render;
mod retention;
mod wal;

pub use contract::{ContractSectionFacts, LimitationsSectionFacts, StageFact, StagesSectionFacts};
pub use disk::{DiskSectionFacts, DiskTargetFacts};
pub use evidence::{
    BackupSectionFacts, DrDrillSectionFacts, Recency, RestoreDrillSectionFacts, VerifiedArtifact,
};
pub use gates::{GateCounts, GatesSectionFacts};
pub use postgres::{PostgresSectionFacts, SlotFacts};
pub use retention::{RetentionProfileFacts, RetentionSectionFacts};
pub use wal::{VolumeUse, WalSectionFacts};

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::disk::DiskFacts;
use crate::disk::DiskPolicy;
use crate::evidence::EvidencePolicy;
use crate::gate::Operation;
use crate::inputs::LiveFacts;
use crate::stages::{self, StageDef, StageFacts};
use crate::state::{self, load_required, Freshness, StateInput, Untrusted};
use crate::statefile::StateFile;
use crate::units::Span;

use metrics::{Declared, Metric, MetricSpec};

/// Overall health, as the seed's healthchecks: exit 0 / 1 / 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Verdict {
    /// All good.
    #[serde(rename = "OK")]
    Ok,
    /// Something needs attention; the service works.
    #[serde(rename = "DEGRADED")]
    Degraded,
    /// Critical: data operations are unsafe or impossible.
    #[serde(rename = "DOWN")]
    Down,
}

impl Verdict {
    /// `OK`, `DEGRADED`, `DOWN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Degraded => "DEGRADED",
            Verdict::Down => "DOWN",
        }
    }

    /// The process exit code for this verdict.
    pub const fn exit_code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::Degraded => 1,
            Verdict::Down => 2,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The report's sections, by id: what a section is called in the JSON
/// (`name`), the Prometheus labels, the ConfigMap and the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SectionId {
    /// `wal.status`, as `ssot wal check` recorded it.
    Wal,
    /// The disk guard of each configured target.
    Disk,
    /// Recent gate decisions (`gate.log`).
    Gates,
    /// The last retention apply of each profile.
    Retention,
    /// The newest complete backup (`backup.status`).
    Backup,
    /// The last restore drill.
    RestoreDrill,
    /// The last DR drill.
    DrDrill,
    /// The architecture contract (`contract.status`).
    Contract,
    /// The stage registry's claims.
    Stages,
    /// The declared limitations.
    Limitations,
    /// A live probe of PostgreSQL (only when one was asked for).
    Postgres,
}

impl SectionId {
    /// Every section, in the report's order.
    pub const ALL: [SectionId; 11] = [
        SectionId::Wal,
        SectionId::Disk,
        SectionId::Gates,
        SectionId::Retention,
        SectionId::Backup,
        SectionId::RestoreDrill,
        SectionId::DrDrill,
        SectionId::Contract,
        SectionId::Stages,
        SectionId::Limitations,
        SectionId::Postgres,
    ];

    /// The name (`wal`, `restore_drill`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            SectionId::Wal => "wal",
            SectionId::Disk => "disk",
            SectionId::Gates => "gates",
            SectionId::Retention => "retention",
            SectionId::Backup => "backup",
            SectionId::RestoreDrill => "restore_drill",
            SectionId::DrDrill => "dr_drill",
            SectionId::Contract => "contract",
            SectionId::Stages => "stages",
            SectionId::Limitations => "limitations",
            SectionId::Postgres => "postgres",
        }
    }
}

impl fmt::Display for SectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for SectionId {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        SectionId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| format!("unknown report section {s:?}"))
    }
}

impl PartialEq<str> for SectionId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SectionId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SectionId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

/// What a section measured, typed: the numbers, times and enums its summary
/// and its metrics are made from. Serialized as the section's `facts`.
///
/// The schema says which type a section's facts have: `x-selected-by` names
/// the section's field that chooses (`name`), and each alternative's `x-when`
/// the section id it is for (the bindings read these to give typed facts).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("x-selected-by" = "name")))]
pub enum SectionFacts {
    /// The `wal` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "wal")))]
    Wal(WalSectionFacts),
    /// The `disk` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "disk")))]
    Disk(DiskSectionFacts),
    /// The `gates` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "gates")))]
    Gates(GatesSectionFacts),
    /// The `retention` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "retention")))]
    Retention(RetentionSectionFacts),
    /// The `backup` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "backup")))]
    Backup(BackupSectionFacts),
    /// The `restore_drill` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "restore_drill")))]
    RestoreDrill(RestoreDrillSectionFacts),
    /// The `dr_drill` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "dr_drill")))]
    DrDrill(DrDrillSectionFacts),
    /// The `contract` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "contract")))]
    Contract(ContractSectionFacts),
    /// The `stages` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "stages")))]
    Stages(StagesSectionFacts),
    /// The `limitations` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "limitations")))]
    Limitations(LimitationsSectionFacts),
    /// The `postgres` section's.
    #[cfg_attr(feature = "schema", schemars(extend("x-when" = "postgres")))]
    Postgres(PostgresSectionFacts),
}

impl SectionFacts {
    /// The facts of section `id` when nothing is known.
    pub fn empty(id: SectionId) -> Self {
        match id {
            SectionId::Wal => SectionFacts::Wal(Default::default()),
            SectionId::Disk => SectionFacts::Disk(Default::default()),
            SectionId::Gates => SectionFacts::Gates(Default::default()),
            SectionId::Retention => SectionFacts::Retention(Default::default()),
            SectionId::Backup => SectionFacts::Backup(Default::default()),
            SectionId::RestoreDrill => SectionFacts::RestoreDrill(Default::default()),
            SectionId::DrDrill => SectionFacts::DrDrill(Default::default()),
            SectionId::Contract => SectionFacts::Contract(Default::default()),
            SectionId::Stages => SectionFacts::Stages(Default::default()),
            SectionId::Limitations => SectionFacts::Limitations(Default::default()),
            SectionId::Postgres => SectionFacts::Postgres(Default::default()),
        }
    }

    /// The samples of the metrics these facts declare.
    pub fn metrics(&self) -> Vec<Metric> {
        match self {
            SectionFacts::Wal(f) => f.metrics(),
            SectionFacts::Disk(f) => f.metrics(),
            SectionFacts::Gates(f) => f.metrics(),
            SectionFacts::Retention(f) => f.metrics(),
            SectionFacts::Backup(f) => f.metrics(),
            SectionFacts::RestoreDrill(f) => f.metrics(),
            SectionFacts::DrDrill(f) => f.metrics(),
            SectionFacts::Contract(f) => f.metrics(),
            SectionFacts::Stages(f) => f.metrics(),
            SectionFacts::Limitations(f) => f.metrics(),
            SectionFacts::Postgres(f) => f.metrics(),
        }
    }

    /// The metrics section `id` declares.
    pub fn specs(id: SectionId) -> Vec<&'static MetricSpec> {
        match id {
            SectionId::Wal => WalSectionFacts::specs(),
            SectionId::Disk => DiskSectionFacts::specs(),
            SectionId::Gates => GatesSectionFacts::specs(),
            SectionId::Retention => RetentionSectionFacts::specs(),
            SectionId::Backup => BackupSectionFacts::specs(),
            SectionId::RestoreDrill => RestoreDrillSectionFacts::specs(),
            SectionId::DrDrill => DrDrillSectionFacts::specs(),
            SectionId::Contract => ContractSectionFacts::specs(),
            SectionId::Stages => StagesSectionFacts::specs(),
            SectionId::Limitations => LimitationsSectionFacts::specs(),
            SectionId::Postgres => PostgresSectionFacts::specs(),
        }
    }
}

/// One concern of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Section {
    /// `wal`, `disk`, `gates`, `retention`, `backup`, `restore_drill`, `dr_drill`, `contract`, `stages`, `limitations`, `postgres`.
    pub name: SectionId,
    /// Its health.
    pub status: Verdict,
    /// One line for a person; when the status is not OK it leads with the
    /// problem, never with a healthy-looking fact.
    pub summary: String,
    /// What to do about it, when the status is not OK and ssot knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Supporting lines (failures first).
    pub details: Vec<String>,
    /// What it measured; its metrics are read from these.
    pub facts: SectionFacts,
}

impl Section {
    /// A section, its facts empty until [`Section::with_facts`].
    pub fn new(name: SectionId, status: Verdict, summary: impl Into<String>) -> Self {
        Section {
            name,
            status,
            summary: summary.into(),
            action: None,
            details: Vec::new(),
            facts: SectionFacts::empty(name),
        }
    }

    /// With `facts` as what it measured.
    pub fn with_facts(mut self, facts: SectionFacts) -> Self {
        self.facts = facts;
        self
    }

    /// With `action` as what to do.
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Raises the status to `status` for `problem`, which is added to the
    /// details. A problem worse than anything the section had also leads
    /// its summary (a section that is not OK never reads as healthy), and
    /// its `action`, if given, becomes the section's.
    pub fn raise(&mut self, status: Verdict, problem: &str, action: Option<String>) {
        if status > self.status {
            self.summary = if self.summary.is_empty() {
                problem.to_string()
            } else {
                format!("{problem}; {}", self.summary)
            };
            self.status = status;
            if action.is_some() {
                self.action = action;
            }
        } else if self.action.is_none() && self.status != Verdict::Ok {
            self.action = action;
        }
        self.details.push(problem.to_string());
    }
}

/// The single view of truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct Report {
    /// The worst section status.
    pub verdict: Verdict,
    /// One line for 3 a.m.: the verdict, the worst finding and the first
    /// thing to do (`OK: nothing to do` when all is well). See [`headline`].
    pub headline: String,
    /// When it was built.
    pub generated_at: DateTime<Utc>,
    /// Every section, in a fixed order.
    pub sections: Vec<Section>,
    /// The stage registry evaluated.
    pub stages: Vec<stages::StageCheck>,
    /// Facts for the restore-drill marker (`last_pass_at`, `artifact`, `result`).
    pub restore_drill: BTreeMap<String, String>,
}

impl Report {
    /// Sections, worst first; within a status, in the headline's order
    /// (what stops data operations first, WAL, the live probe, the disk guard, gates, the contract, then evidence).
    pub fn worst_first(&self) -> Vec<&Section> {
        let mut v: Vec<&Section> = self.sections.iter().collect();
        v.sort_by_key(|s| (std::cmp::Reverse(s.status), headline_rank(s)));
        v
    }
}

/// Everything the report reads.
#[derive(Debug, Clone, Default)]
pub struct ReportFacts {
    /// State files by name (`wal.status`, `contract.status`, ...).
    pub files: BTreeMap<String, StateInput>,
    /// `gate.log` (its tail is enough: decisions inside `recent_window`).
    pub gate_log: Option<StateInput>,
    /// True when only the tail of `gate.log` was read (it is larger than
    /// [`state::GATE_LOG_TAIL`]).
    pub gate_log_truncated: bool,
    /// Disk-guard facts for each configured target.
    pub disks: Vec<(Operation, DiskFacts)>,
    /// Whether paths named by `file:` stage criteria exist.
    pub files_exist: BTreeMap<String, bool>,
    /// A live probe of the server (its name, and what it saw or why it
    /// could not), when one was asked for: the `postgres` section.
    pub live: Option<(String, std::result::Result<LiveFacts, String>)>,
}

impl ReportFacts {
    /// The state file `name`, or `Missing` if it was not read.
    pub fn file(&self, name: &str) -> StateInput {
        self.files
            .get(name)
            .cloned()
            .unwrap_or(StateInput::Missing {
                path: name.to_string(),
            })
    }
}

/// What the report compares facts with.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportPolicy {
    /// How old each state file may be.
    pub freshness: Freshness,
    /// Free-space floors on the targets.
    pub disk: DiskPolicy,
    /// DR targets.
    pub evidence: EvidencePolicy,
    /// Retention profiles expected to run.
    pub retention_profiles: Vec<String>,
    /// The stage registry.
    pub stages: Vec<StageDef>,
    /// Window for "recent" gate decisions.
    pub recent_window: Span,
    /// How recent the archiver's last failure must be to be "failing now"
    /// (`wal.growth_window`).
    pub archiver_recent: Span,
    /// How old a denial may be and still say an operation is "blocked now"
    /// (`gate.wal_max_age`: the state it was decided on is stale after that).
    pub blocked_max_age: Span,
    /// The configured targets (`gate.targets`): a denial of another target
    /// (an ad-hoc `--target` test) says nothing about the configured one.
    pub targets: BTreeMap<Operation, String>,
}

fn untrusted_verdict(u: &Untrusted) -> String {
    match u {
        Untrusted::Corrupt(e) => format!("corrupt: {e}"),
        other => other.to_string(),
    }
}

/// What to do about a state file that cannot be used, before `then` (what
/// writes it): a missing one only needs `then`; an unreadable one must be
/// made readable first (a run as root leaves files the service's user
/// cannot read), and a corrupt one moved aside when its writer refuses to
/// overwrite what it cannot read (`replaces_corrupt` false: the records that
/// keep earlier keys; `wal check` writes `wal.status` whole).
pub(super) fn repair_then(u: &Untrusted, then: &str, replaces_corrupt: bool) -> String {
    match u {
        Untrusted::Corrupt(_) if replaces_corrupt => then.to_string(),
        Untrusted::Unreadable(path, error) => format!(
            "make {path} readable by the user ssot runs as ({error}; a run as root leaves root-owned state: chown the state directory to the service's user), then {then}"
        ),
        Untrusted::Corrupt(_) => format!(
            "move the corrupt file aside (ssot never overwrites a state file it cannot read), then {then}"
        ),
        _ => then.to_string(),
    }
}

/// Which section's problem the headline names among sections of the same
/// status: first what stops data operations now (WAL, the server, the
/// targets' disk guard, a denied gate), then the contract (restore and
/// startup need it), then the evidence that recovery works, then
/// housekeeping and claims.
const HEADLINE_ORDER: [SectionId; 11] = [
    SectionId::Wal,
    SectionId::Postgres,
    SectionId::Disk,
    SectionId::Gates,
    SectionId::Contract,
    SectionId::Backup,
    SectionId::RestoreDrill,
    SectionId::Retention,
    SectionId::DrDrill,
    SectionId::Limitations,
    SectionId::Stages,
];

fn headline_rank(s: &Section) -> usize {
    HEADLINE_ORDER
        .iter()
        .position(|n| *n == s.name)
        .unwrap_or(HEADLINE_ORDER.len())
}

/// The report's first line: the verdict, the worst section's problem and
/// what to do about it, and how many other sections are not OK; `OK:
/// nothing to do` when every section is OK. Among sections of the worst
/// status, the one named is the first in its order of urgency (WAL first).
pub fn headline(sections: &[Section]) -> String {
    let Some(status) = sections.iter().map(|s| s.status).max() else {
        return "OK: nothing to do".into();
    };
    if status == Verdict::Ok {
        return format!("OK: nothing to do ({} sections OK)", sections.len());
    }
    let Some(worst) = sections
        .iter()
        .filter(|s| s.status == status)
        .min_by_key(|s| headline_rank(s))
    else {
        return format!("{status}: see the sections below");
    };
    let others = sections
        .iter()
        .filter(|s| s.status != Verdict::Ok && !std::ptr::eq(*s, worst))
        .count();
    let mut line = format!("{}: {}: {}", worst.status, worst.name, worst.summary);
    if let Some(a) = &worst.action {
        line.push_str(&format!(" — do: {a}"));
    }
    if others > 0 {
        line.push_str(&format!(" (and {others} more section(s) not OK, below)"));
    }
    line
}

/// Builds the report. Pure.
pub fn build(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Report {
    let stage_facts = StageFacts {
        files: &facts.files,
        gate_log: facts.gate_log.as_ref(),
        files_exist: &facts.files_exist,
        freshness: &policy.freshness,
    };
    let stage_checks = stages::check(&policy.stages, &stage_facts, now);
    let backup = facts.file(state::BACKUP_STATUS);
    let restore = facts.file(state::RESTORE_DRILL_STATUS);
    let dr = facts.file(state::DR_DRILL_STATUS);
    let mut sections = vec![
        wal::section(facts, policy, now),
        disk::section(facts, policy),
        gates::section(facts, policy, now),
        retention::section(facts, policy, now),
        evidence::backup_section(&backup, &policy.freshness, now),
        evidence::restore_drill_section(&restore, &policy.freshness, now),
        evidence::dr_drill_section(&dr, &policy.freshness, &policy.evidence, now),
        contract::section(facts, policy, now),
        contract::stages_section(&stage_checks),
        contract::limitations_section(facts),
    ];
    if let Some((server, probed)) = &facts.live {
        sections.push(postgres::section(server, probed, policy, now));
    }
    let verdict = sections
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Verdict::Ok);
    let headline = headline(&sections);
    let mut restore_drill = BTreeMap::new();
    if let Ok(f) = load_required(&restore) {
        for (k, key) in [
            ("last_pass_at", "last_pass_at"),
            ("artifact", "last_pass_artifact"),
            ("result", "last_result"),
            ("last_drill_at", "last_drill_at"),
        ] {
            if let Some(v) = StateFile::get(&f, key) {
                restore_drill.insert(k.to_string(), v.to_string());
            }
        }
    }
    Report {
        verdict,
        headline,
        generated_at: now,
        sections,
        stages: stage_checks,
        restore_drill,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's report policy, no profiles, stages or targets.
    fn seed_policy() -> ReportPolicy {
        ReportPolicy {
            freshness: Freshness::default(),
            disk: DiskPolicy::default(),
            evidence: EvidencePolicy::default(),
            retention_profiles: vec![],
            stages: vec![],
            recent_window: Span::hours(24),
            archiver_recent: Span::mins(15),
            blocked_max_age: Span::mins(10),
            targets: BTreeMap::new(),
        }
    }

    fn section(name: &str, status: Verdict, summary: &str, action: Option<&str>) -> Section {
        let s = Section::new(name.parse().unwrap(), status, summary);
        match action {
            Some(a) => s.with_action(a),
            None => s,
        }
    }

    #[test]
    fn section_ids_are_named_once_and_ranked_for_the_headline() {
        for id in SectionId::ALL {
            assert_eq!(
                serde_json::to_string(&id).unwrap(),
                format!("\"{}\"", id.as_str())
            );
            assert_eq!(id.as_str().parse::<SectionId>(), Ok(id));
            assert!(HEADLINE_ORDER.contains(&id), "{id} has no headline rank");
            // A section's facts are of its own kind.
            let facts = serde_json::to_value(SectionFacts::empty(id)).unwrap();
            assert!(facts.is_object(), "{id}: {facts}");
        }
        assert!("nope".parse::<SectionId>().is_err());
    }

    #[test]
    fn every_rendered_metric_is_declared_and_every_limit_is_rendered() {
        let policy = seed_policy();
        let now = "2026-02-05T12:00:00Z".parse().unwrap();
        let r = build(&ReportFacts::default(), &policy, now);
        let prom = render::prometheus(&r);
        let declared: Vec<&str> = metrics::declarations()
            .iter()
            .map(|(_, s)| s.name)
            .collect();
        let families: Vec<&str> = prom
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE ssot_"))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        for f in &families {
            assert!(declared.contains(f), "{f} is rendered but not declared");
        }
        // The configured limits are there before anything is measured,
        // and the facts they come from are in the JSON.
        let wal = serde_json::to_value(&r.sections[0]).unwrap();
        assert_eq!(wal["facts"]["max_age_seconds"], 600);
        assert!(prom.contains("\nssot_wal_max_age_seconds 600\n"), "{prom}");
        for limit in [
            "backup_max_age_seconds",
            "restore_drill_max_age_seconds",
            "dr_drill_max_age_seconds",
            "dr_drill_rto_target_seconds",
            "dr_drill_rpo_target_seconds",
        ] {
            assert!(families.contains(&limit), "{limit} missing");
        }
    }

    #[test]
    fn the_headline_names_the_worst_problem_and_what_to_do() {
        let ok = |n: &str| section(n, Verdict::Ok, "fine", None);
        assert_eq!(
            headline(&[ok("wal"), ok("backup")]),
            "OK: nothing to do (2 sections OK)"
        );
        // Among equals, what stops data operations first: the contract before retention.
        let r = headline(&[
            ok("wal"),
            section(
                "retention",
                Verdict::Degraded,
                "backups: never applied",
                Some("apply"),
            ),
            section(
                "contract",
                Verdict::Degraded,
                "FAIL: sts.max_wal_size",
                Some("fix it"),
            ),
        ]);
        assert_eq!(
            r,
            "DEGRADED: contract: FAIL: sts.max_wal_size — do: fix it (and 1 more section(s) not OK, below)"
        );
        // A worse status wins over the order.
        let r = headline(&[
            section("contract", Verdict::Degraded, "FAIL: x", Some("fix it")),
            section(
                "postgres",
                Verdict::Down,
                "PostgreSQL at h did not answer",
                None,
            ),
        ]);
        assert!(
            r.starts_with("DOWN: postgres: PostgreSQL at h did not answer (and 1 more"),
            "{r}"
        );
    }

    #[test]
    fn a_raised_section_leads_with_its_problem() {
        let mut s = section(
            "backup",
            Verdict::Ok,
            "newest complete backup d is 2h old",
            None,
        );
        s.raise(
            Verdict::Degraded,
            "the latest attempt failed",
            Some("run it again".into()),
        );
        assert_eq!(s.status, Verdict::Degraded);
        assert_eq!(
            s.summary,
            "the latest attempt failed; newest complete backup d is 2h old"
        );
        assert_eq!(s.action.as_deref(), Some("run it again"));
        // A second problem no worse keeps the lead and the action, and is in the details.
        s.raise(
            Verdict::Degraded,
            "on PGDATA's filesystem",
            Some("move it".into()),
        );
        assert!(s.summary.starts_with("the latest attempt failed; "));
        assert_eq!(s.action.as_deref(), Some("run it again"));
        assert_eq!(
            s.details,
            ["the latest attempt failed", "on PGDATA's filesystem"]
        );
    }

    #[test]
    fn the_text_report_starts_with_the_headline_and_says_what_to_do() {
        let facts = ReportFacts::default();
        let policy = seed_policy();
        let now = "2026-02-05T12:00:00Z".parse().unwrap();
        let r = build(&facts, &policy, now);
        let text = render::text(&r);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(r.headline.as_str()));
        assert!(r.headline.starts_with("DOWN: wal: "), "{}", r.headline);
        assert!(text.contains("do: run `ssot wal check`"), "{text}");
        // Every section that is not OK says what to do.
        for s in r.sections.iter().filter(|s| s.status != Verdict::Ok) {
            assert!(s.action.is_some(), "{}: no action", s.name);
        }
        // No stage registry: the section says so and how to add one.
        let stages = r.sections.iter().find(|s| s.name == "stages").unwrap();
        assert_eq!(
            (stages.status, stages.summary.as_str()),
            (Verdict::Ok, stages::NONE_CONFIGURED)
        );
        // Found by attack: a wal.status left unreadable (a run as root) was
        // answered with "run `ssot wal check`", which fails on it the same
        // way. The headline says to repair it first.
        let mut facts = ReportFacts::default();
        facts.files.insert(
            state::WAL_STATUS.into(),
            StateInput::Unreadable {
                path: "/var/lib/ssot/state/wal.status".into(),
                error: "Permission denied (os error 13)".into(),
            },
        );
        // A second attack: a corrupt backup.status was answered with "record
        // it with ssot evidence backup", which refuses to write over it.
        facts.files.insert(
            state::BACKUP_STATUS.into(),
            StateInput::Present {
                path: "/var/lib/ssot/state/backup.status".into(),
                content: b"no key here\n".to_vec(),
            },
        );
        let r = build(&facts, &policy, now);
        let backup = r.sections.iter().find(|s| s.name == "backup").unwrap();
        assert!(
            backup
                .action
                .as_deref()
                .is_some_and(|a| a.starts_with("move the corrupt file aside")),
            "{backup:?}"
        );
        assert!(
            r.headline.contains("do: make /var/lib/ssot/state/wal.status readable by the user ssot runs as (Permission denied")
                && r.headline.contains("then run `ssot wal check`"),
            "{}",
            r.headline
        );
    }
}
