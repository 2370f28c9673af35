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

pub mod evidence;
pub mod render;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::ContractVerdict;
use crate::contract::{InvariantStatus, LimitationStatus};
use crate::disk::DiskPolicy;
use crate::disk::{self, DiskFacts};
use crate::evidence::EvidencePolicy;
use crate::gate::{Decision, Operation};
use crate::inputs::LiveFacts;
use crate::num::pct;
use crate::num::{human_bytes, human_secs};
use crate::stages::{self, StageDef, StageFacts};
use crate::state::{
    self, load_record, load_required, load_trusted, ContractStatusRecord, Freshness, GateLog,
    RetentionStatusRecord, StateInput, Trust, Untrusted, WalStatusRecord,
};
use crate::statefile::StateFile;
use crate::units::Span;
use crate::wal::Level;

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

/// One Prometheus sample (rendered with the `ssot_` prefix).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// Name without the `ssot_` prefix, in base units (`wal_size_bytes`).
    pub name: String,
    /// The HELP text.
    pub help: String,
    /// Labels.
    pub labels: Vec<(String, String)>,
    /// Value.
    pub value: f64,
}

impl Metric {
    /// A sample without labels.
    pub fn new(name: &str, help: &str, value: f64) -> Self {
        Metric {
            name: name.into(),
            help: help.into(),
            labels: Vec::new(),
            value,
        }
    }

    /// Adds a label.
    pub fn label(mut self, k: &str, v: impl Into<String>) -> Self {
        self.labels.push((k.into(), v.into()));
        self
    }
}

/// One concern of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Section {
    /// `wal`, `disk`, `gates`, `retention`, `backup`, `restore_drill`, `dr_drill`, `contract`, `stages`, `limitations`.
    pub name: String,
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
    /// Its metrics.
    #[serde(skip)]
    pub metrics: Vec<Metric>,
}

impl Section {
    /// A section.
    pub fn new(name: &str, status: Verdict, summary: impl Into<String>) -> Self {
        Section {
            name: name.into(),
            status,
            summary: summary.into(),
            action: None,
            details: Vec::new(),
            metrics: Vec::new(),
        }
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

fn wal_section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let input = facts.file(state::WAL_STATUS);
    let (rec, dated) = match load_trusted::<WalStatusRecord>(&input, &policy.freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => (record, None),
        Trust::Dated { record, why } => (record, Some(why)),
        Trust::Absent(u) => {
            let s = Section::new(
                "wal",
                Verdict::Down,
                format!(
                    "WAL state unknown: {}; every data operation is gated off",
                    untrusted_verdict(&u)
                ),
            );
            return s.with_action(repair_then(
                &u,
                "run `ssot wal check` on a schedule (every minute): until it records WAL OK, backup, snapshot, restore and startup are denied",
                true,
            ));
        }
    };
    let mut s = match dated {
        Some(u) => Section::new("wal", Verdict::Down, format!("WAL state untrusted: {u}"))
            .with_action("check that `ssot wal check` runs every minute (its timer or CronJob) and that the clocks agree: until it records WAL OK, backup, snapshot, restore and startup are denied"),
        None => {
            let status = match rec.status {
                Level::Ok => Verdict::Ok,
                Level::Growing | Level::NearLimit => Verdict::Degraded,
                Level::Error => Verdict::Down,
            };
            let s = Section::new(
                "wal",
                status,
                format!(
                    "WAL {}: pg_wal {}, volume {} used, checked {} ago",
                    rec.status,
                    rec.wal_size.map(human_bytes).unwrap_or_else(|| "?".into()),
                    rec.wal_used_pct.map(pct).unwrap_or_else(|| "?%".into()),
                    human_secs((now - rec.checked_at).num_seconds() as f64)
                ),
            );
            if status == Verdict::Ok {
                s
            } else {
                // The first reason is the worst rule's (wal.status lists them worst first).
                s.with_action(format!(
                    "backup, snapshot, restore and startup are denied until WAL is OK; act on: {}",
                    rec.reasons.first().map_or_else(
                        || "what `ssot wal check --format json` reports".to_string(),
                        // "LEVEL rule: message": the message says what holds WAL.
                        |r| r.split_once(": ").map_or(r.as_str(), |(_, m)| m).to_string(),
                    )
                ))
            }
        }
    };
    s.details.extend(rec.reasons.iter().cloned());
    for l in [Level::Ok, Level::Growing, Level::NearLimit, Level::Error] {
        s.metrics.push(
            Metric::new(
                "wal_status",
                "WAL status (1 for the current one)",
                if rec.status == l { 1.0 } else { 0.0 },
            )
            .label("status", l.as_str()),
        );
    }
    if let Some(v) = rec.wal_size {
        s.metrics.push(Metric::new(
            "wal_size_bytes",
            "Bytes in pg_wal (sum of pg_ls_waldir())",
            v as f64,
        ));
    }
    if let Some(v) = rec.segment_count {
        s.metrics.push(Metric::new(
            "wal_segments",
            "WAL segment files in pg_wal",
            v as f64,
        ));
    }
    if let Some(v) = rec.wal_used_pct {
        s.metrics.push(Metric::new(
            "wal_volume_used_ratio",
            "Used share of the volume holding pg_wal",
            v / 100.0,
        ));
    }
    for (key, used) in &rec.volumes {
        s.metrics.push(
            Metric::new(
                "cluster_volume_used_ratio",
                "Used share of each other volume the cluster writes (PGDATA's, a tablespace's)",
                used / 100.0,
            )
            .label("volume", key.as_str()),
        );
    }
    if let Some(v) = rec.volume_available_bytes {
        s.metrics.push(Metric::new(
            "wal_volume_available_bytes",
            "Available bytes on the volume holding pg_wal",
            v as f64,
        ));
    }
    if let Some(v) = rec.threshold_pct {
        s.metrics.push(Metric::new(
            "wal_volume_near_ratio",
            "The volume share at which WAL is NEAR_LIMIT (volume_near_pct)",
            v / 100.0,
        ));
    }
    if let Some(v) = rec.soft_limit_bytes {
        s.metrics.push(Metric::new(
            "wal_soft_limit_bytes",
            "pg_wal's soft limit: max_wal_size + wal_keep_size",
            v as f64,
        ));
    }
    if let Some(v) = rec.seconds_to_error {
        s.metrics.push(Metric::new(
            "wal_seconds_to_error",
            "Predicted seconds until the pg_wal volume reaches its error threshold",
            v,
        ));
    }
    s.metrics.push(Metric::new(
        "wal_last_check_timestamp_seconds",
        "Time of the last WAL check",
        rec.checked_at.timestamp() as f64,
    ));
    s
}

fn disk_section(facts: &ReportFacts, policy: &ReportPolicy) -> Section {
    if facts.disks.is_empty() {
        return Section::new(
            "disk",
            Verdict::Ok,
            "no backup or snapshot target configured",
        );
    }
    let mut bad = Vec::new();
    let mut good = Vec::new();
    let mut metrics = Vec::new();
    let mut action = None;
    for (op, d) in &facts.disks {
        let checks = disk::guard(d, &policy.disk);
        if let Some(c) = checks.iter().find(|c| !c.passed) {
            action.get_or_insert_with(|| {
                format!(
                    "{}; {op} is denied until its disk guard passes",
                    disk::advice(&c.rule, op.as_str())
                )
            });
        }
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{op}: {}", c.message))
            .collect();
        metrics.push(
            Metric::new(
                "disk_guard_pass",
                "1 when the disk guard passes for the operation's target",
                if failed.is_empty() { 1.0 } else { 0.0 },
            )
            .label("operation", op.as_str()),
        );
        if let Some(v) = d.target.volume {
            metrics.push(
                Metric::new(
                    "disk_target_available_bytes",
                    "Available bytes on the operation's target volume",
                    v.available_bytes as f64,
                )
                .label("operation", op.as_str()),
            );
        }
        if failed.is_empty() {
            good.push(format!(
                "{op} target {} passes the disk guard",
                d.target.path
            ));
        } else {
            bad.extend(failed);
        }
    }
    let mut s = if bad.is_empty() {
        Section::new(
            "disk",
            Verdict::Ok,
            format!("{} target(s) pass the disk guard", facts.disks.len()),
        )
    } else {
        Section::new(
            "disk",
            Verdict::Degraded,
            format!("disk guard fails: {}", bad[0]),
        )
    };
    s.action = action;
    s.details = bad.into_iter().chain(good).collect();
    s.metrics = metrics;
    s
}

fn gates_section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let log = match facts
        .gate_log
        .as_ref()
        .map_or(Ok(GateLog::default()), GateLog::load)
    {
        Ok(log) if log.decisions.is_empty() && log.corrupt == 0 => {
            return Section::new("gates", Verdict::Ok, "no gate decision recorded yet")
        }
        Ok(log) => log,
        Err(u) => return Section::new("gates", Verdict::Degraded, u.to_string()).with_action(
            "make gate.log readable by the user ssot runs as (the audit trail of every decision)",
        ),
    };
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
    let mut s = Section::new("gates", Verdict::Ok, String::new());
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
    let stale_denials = last
        .values()
        .copied()
        .filter(|d| !d.allowed && !blocked.iter().any(|b| std::ptr::eq(*b, *d)));
    for d in blocked.iter().copied().chain(stale_denials) {
        let why: Vec<&str> = d.denials().map(|c| c.message.as_str()).collect();
        let now_or_then = if blocked.iter().any(|b| std::ptr::eq(*b, d)) {
            ""
        } else {
            " (not current: older than gate.wal_max_age or another target than the configured one)"
        };
        s.details.push(format!(
            "{} denied at {}{}{now_or_then}: {}",
            d.operation,
            state::timestamp(d.decided_at),
            d.target
                .as_ref()
                .map(|t| format!(" for {t}"))
                .unwrap_or_default(),
            why.join("; ")
        ));
    }
    for op in Operation::ALL {
        for allowed in [true, false] {
            let n = counts.get(&(op, allowed)).copied().unwrap_or(0);
            s.metrics.push(
                Metric::new(
                    "gate_recent_decisions",
                    "Gate decisions within the recent window",
                    n as f64,
                )
                .label("operation", op.as_str())
                .label("decision", if allowed { "allowed" } else { "denied" }),
            );
        }
    }
    let denied: usize = counts.iter().filter(|((_, a), _)| !a).map(|(_, n)| n).sum();
    let allowed: usize = counts.iter().filter(|((_, a), _)| *a).map(|(_, n)| n).sum();
    s.summary = format!(
        "last {}: {allowed} allowed, {denied} denied",
        policy.recent_window
    );
    if !blocked.is_empty() {
        s.status = Verdict::Degraded;
        let first = blocked[0];
        s.action = Some(format!(
            "fix what denied {} ({}), then run it again",
            first.operation,
            first
                .denials()
                .next()
                .map_or("see gate.log", |c| c.message.as_str())
        ));
        s.summary = format!(
            "{} blocked now (last decision denied); {}",
            blocked
                .iter()
                .map(|d| d.operation.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            s.summary
        );
    }
    if log.corrupt > 0 {
        s.raise(
            Verdict::Degraded,
            &format!("{} line(s) of gate.log are not decisions", log.corrupt),
            Some(
                "find what writes into gate.log besides ssot (only ssot's gate appends to it)"
                    .into(),
            ),
        );
    }
    let ahead = log.future_dated(now);
    if ahead > 0 {
        s.raise(
            Verdict::Degraded,
            &format!(
                "{ahead} decision(s) in gate.log are dated after now (clock skew?): not counted"
            ),
            Some("check the clock (timedatectl; NTP) of the hosts that run gates".into()),
        );
    }
    if facts.gate_log_truncated {
        s.details.push(format!(
            "only the last {}MiB of gate.log were read: rotate it (logrotate copytruncate)",
            state::GATE_LOG_TAIL >> 20
        ));
    }
    s
}

fn retention_section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let input = facts.file(state::RETENTION_STATUS);
    let rec = match load_record(&input, RetentionStatusRecord::from_file) {
        Ok(r) => r,
        Err(Untrusted::Missing(_)) => RetentionStatusRecord::default(),
        Err(u) => {
            return Section::new("retention", Verdict::Degraded, untrusted_verdict(&u))
                .with_action("run `ssot retention apply` again: it rewrites retention.status")
        }
    };
    let mut s = Section::new("retention", Verdict::Ok, String::new());
    let mut notes = Vec::new();
    // The first problem leads the summary; `action` says what to do about it.
    let mut problem: Option<(String, String)> = None;
    let mut flag = |note: String, action: String| {
        if problem.is_none() {
            problem = Some((note.clone(), action));
        }
        note
    };
    for p in &policy.retention_profiles {
        let Some((run, at)) = rec
            .profiles
            .get(p)
            .and_then(|r| r.applied_at.map(|at| (r, at)))
        else {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!("{p}: never applied"),
                format!(
                    "run `ssot retention apply --profile {p} --confirm` on a schedule (nightly)"
                ),
            ));
            continue;
        };
        let kept = run.kept.unwrap_or(0);
        let freed = run.freed_bytes.unwrap_or(0);
        s.metrics.push(
            Metric::new(
                "retention_last_apply_timestamp_seconds",
                "Time of the profile's last retention apply",
                at.timestamp() as f64,
            )
            .label("profile", p.as_str()),
        );
        s.metrics.push(
            Metric::new(
                "retention_kept_artifacts",
                "Artifacts kept by the last apply",
                kept as f64,
            )
            .label("profile", p.as_str()),
        );
        s.metrics.push(
            Metric::new(
                "retention_freed_bytes",
                "Bytes freed by the last apply",
                freed as f64,
            )
            .label("profile", p.as_str()),
        );
        let age = now - at;
        if age > policy.freshness.retention.to_delta() {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!(
                    "{p}: last applied {} ago, more than {}",
                    human_secs(age.num_seconds() as f64),
                    policy.freshness.retention
                ),
                format!("check the schedule of `ssot retention apply --profile {p}` (its timer or CronJob)"),
            ));
        } else if let Some(w) = run.warnings.first() {
            s.status = Verdict::Degraded;
            notes.push(flag(
                format!("{p}: {} warning(s): {w}", run.warnings.len()),
                format!("read `ssot retention plan --profile {p}` and resolve its warnings"),
            ));
        } else {
            notes.push(format!(
                "{p}: applied {} ago, kept {kept}, freed {}",
                human_secs(age.num_seconds() as f64),
                human_bytes(freed)
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

fn contract_record(facts: &ReportFacts) -> std::result::Result<ContractStatusRecord, String> {
    load_record(
        &facts.file(state::CONTRACT_STATUS),
        ContractStatusRecord::from_file,
    )
    .map_err(|u| untrusted_verdict(&u))
}

fn contract_section(facts: &ReportFacts, policy: &ReportPolicy, now: DateTime<Utc>) -> Section {
    let input = facts.file(state::CONTRACT_STATUS);
    let (rec, dated) = match load_trusted::<ContractStatusRecord>(&input, &policy.freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => (record, None),
        Trust::Dated { record, why } => (record, Some(why)),
        Trust::Absent(u) => {
            return Section::new(
                "contract",
                Verdict::Degraded,
                format!(
                    "contract unchecked: {}; run `ssot contract check`",
                    untrusted_verdict(&u)
                ),
            )
            .with_action(repair_then(&u, "run `ssot contract check` (nightly, and before a restore or a startup: both are denied without a PASS)", false))
        }
    };
    let failed = rec.ids(InvariantStatus::Fail);
    let unknown = rec.ids(InvariantStatus::Unknown);
    let mut s = match rec.verdict {
        ContractVerdict::Pass => Section::new(
            "contract",
            Verdict::Ok,
            format!("{} invariants pass", rec.invariants.len()),
        ),
        ContractVerdict::Fail => Section::new(
            "contract",
            Verdict::Degraded,
            format!("FAIL: {}", failed.join(", ")),
        ),
        ContractVerdict::Unknown => Section::new(
            "contract",
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
            rec.messages.get(*id).map_or("see contract.status", String::as_str)
        ));
    } else if !unknown.is_empty() {
        s.action = Some("give `ssot contract check` the inputs it could not read (--dsn for the runtime settings and processes; --statefulset or --postgresql-conf for the declared ones): restore and startup are denied until it passes".into());
    }
    if let Some(u) = dated {
        s.status = Verdict::Degraded;
        s.summary = format!("{u}; last result {}", s.summary);
        if s.action.is_none() {
            s.action = Some(
                "run `ssot contract check` again (nightly): an old result does not count".into(),
            );
        }
    }
    for id in failed.iter().chain(unknown.iter()) {
        let msg = rec.messages.get(*id).cloned().unwrap_or_default();
        s.details.push(format!("{id}: {msg}"));
    }
    s.metrics.push(Metric::new(
        "contract_pass",
        "1 when every contract invariant passes",
        if rec.verdict == ContractVerdict::Pass {
            1.0
        } else {
            0.0
        },
    ));
    for (id, st) in &rec.invariants {
        s.metrics.push(
            Metric::new(
                "contract_invariant",
                "Contract invariants (1 for the current status)",
                1.0,
            )
            .label("invariant", id.as_str())
            .label("status", st.as_str()),
        );
    }
    s
}

/// The `postgres` section, from a live probe: reachable, primary, slots,
/// the archiver, what `pg_ls_waldir()` counts.
fn postgres_section(
    server: &str,
    probed: &std::result::Result<LiveFacts, String>,
    policy: &ReportPolicy,
    now: DateTime<Utc>,
) -> Section {
    let l = match probed {
        Ok(l) => l,
        Err(why) => {
            let class = crate::wal::ProbeFailure::classify(why);
            let mut s = Section::new(
                "postgres",
                Verdict::Down,
                format!("PostgreSQL at {server}: {} ({why})", class.rule()),
            );
            s.details.push(class.advice().to_string());
            s.action = Some(class.advice().to_string());
            s.metrics.push(Metric::new(
                "postgres_up",
                "1 when the live probe of PostgreSQL answered",
                0.0,
            ));
            return s;
        }
    };
    let mut s =
        Section::new(
            "postgres",
            Verdict::Ok,
            format!(
            "PostgreSQL {}.{} at {server}: {}, pg_wal {} in {} segment(s), {} slot(s), archiver {}",
            l.version / 10000,
            l.version % 10000,
            if l.in_recovery { "a standby (in recovery)" } else { "primary" },
            human_bytes(l.waldir.bytes),
            l.waldir.segments,
            l.slots.len(),
            if l.archiver.failing(now, policy.archiver_recent) {
                "FAILING"
            } else if l.runs("archiver") {
                "running"
            } else {
                "not running"
            }
        ),
        );
    let mut problems = Vec::new();
    if l.in_recovery {
        problems.push((
            Verdict::Degraded,
            format!(
                "{server} is in recovery: a standby, not the single instance the contract declares"
            ),
        ));
    }
    if l.archiver.failing(now, policy.archiver_recent) {
        problems.push((
            Verdict::Degraded,
            format!(
                "the archiver is failing: {} failed attempt(s), the last for {}",
                l.archiver.failed_count,
                l.archiver.last_failed_wal.as_deref().unwrap_or("?")
            ),
        ));
    }
    for slot in &l.slots {
        let safe = l
            .slot_safe_wal_size
            .get(&slot.name)
            .copied()
            .flatten()
            .map(|b| format!(", safe_wal_size {}", human_bytes(b.max(0) as u64)))
            .unwrap_or_default();
        let line = format!(
            "slot {}: {}, wal_status {}, holds {}{safe}",
            slot.name,
            if slot.active { "active" } else { "INACTIVE" },
            slot.wal_status.map(|w| w.as_str()).unwrap_or("?"),
            slot.retained_bytes
                .map(human_bytes)
                .unwrap_or_else(|| "?".into()),
        );
        match slot.wal_status {
            Some(crate::wal::SlotWalStatus::Lost) => problems.push((Verdict::Down, line)),
            Some(crate::wal::SlotWalStatus::Unreserved) => problems.push((Verdict::Degraded, line)),
            _ if !slot.active => problems.push((Verdict::Degraded, line)),
            _ => s.details.push(line),
        }
        let label = |m: Metric| m.label("slot", slot.name.as_str());
        s.metrics.push(label(Metric::new(
            "postgres_slot_active",
            "1 when the replication slot is active",
            if slot.active { 1.0 } else { 0.0 },
        )));
        if let Some(b) = slot.retained_bytes {
            s.metrics.push(label(Metric::new(
                "postgres_slot_retained_bytes",
                "WAL bytes the replication slot holds back",
                b as f64,
            )));
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
    for (name, help, v) in [
        (
            "postgres_up",
            "1 when the live probe of PostgreSQL answered",
            1.0,
        ),
        (
            "postgres_in_recovery",
            "1 when PostgreSQL is a standby (pg_is_in_recovery())",
            if l.in_recovery { 1.0 } else { 0.0 },
        ),
        (
            "postgres_wal_bytes",
            "Bytes in pg_wal as pg_ls_waldir() counts them",
            l.waldir.bytes as f64,
        ),
        (
            "postgres_archiver_archived",
            "WAL files archived (pg_stat_archiver.archived_count)",
            l.archiver.archived_count as f64,
        ),
        (
            "postgres_archiver_failed",
            "Failed archive attempts (pg_stat_archiver.failed_count)",
            l.archiver.failed_count as f64,
        ),
    ] {
        s.metrics.push(Metric::new(name, help, v));
    }
    s
}

fn limitations_section(facts: &ReportFacts) -> Section {
    let rec = match contract_record(facts) {
        Ok(r) => r,
        Err(e) => {
            return Section::new("limitations", Verdict::Degraded, format!("unchecked: {e}"))
                .with_action("run `ssot contract check`: it checks each declared limitation")
        }
    };
    let with = |st: LimitationStatus| -> Vec<&str> {
        rec.limitations
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
            "limitations",
            Verdict::Ok,
            format!(
                "{off} confirmed off, {} declared but unverifiable",
                unverified.len()
            ),
        )
    } else {
        Section::new(
            "limitations",
            Verdict::Degraded,
            format!("declared off but on: {}", on.join(", ")),
        )
        .with_action(format!(
            "turn {} off, or take it out of contract.declared_limitations if it is meant to run",
            on[0]
        ))
    };
    for (k, v) in &rec.limitations {
        s.details.push(format!("{k}: {}", v.as_str()));
        s.metrics.push(
            Metric::new(
                "limitation",
                "Declared limitations (1 for the current status)",
                1.0,
            )
            .label("limitation", k.as_str())
            .label("status", v.as_str()),
        );
    }
    s
}

fn stages_section(checks: &[stages::StageCheck]) -> Section {
    if checks.is_empty() {
        return Section::new("stages", Verdict::Ok, stages::NONE_CONFIGURED);
    }
    let bad: Vec<&stages::StageCheck> = checks.iter().filter(|c| !c.consistent).collect();
    let mut s = if bad.is_empty() {
        Section::new(
            "stages",
            Verdict::Ok,
            format!("all {} stage claims are backed by evidence", checks.len()),
        )
    } else {
        Section::new(
            "stages",
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
    for c in checks {
        s.metrics.push(
            Metric::new(
                "stage_consistent",
                "1 when the stage's claimed status is backed by evidence",
                if c.consistent { 1.0 } else { 0.0 },
            )
            .label("stage", c.id.as_str())
            .label("claimed", c.claimed.as_str()),
        );
    }
    s
}

/// The configured limits each section is judged by, as metrics, so that a
/// dashboard or an alert draws its thresholds from the configuration ssot
/// applies rather than from a copy of its defaults. Emitted whether or not the
/// section's evidence exists: a limit is known before anything is measured.
fn limit_metrics(policy: &ReportPolicy) -> Vec<(&'static str, Metric)> {
    let f = &policy.freshness;
    vec![
        (
            "wal",
            Metric::new(
                "wal_max_age_seconds",
                "How old wal.status may be before gates deny and the report is DOWN (gate.wal_max_age)",
                f.wal_status.as_secs_f64(),
            ),
        ),
        (
            "backup",
            Metric::new(
                "backup_max_age_seconds",
                "The backup RPO: how old the newest complete backup may be (evidence.backup_max_age)",
                f.backup.as_secs_f64(),
            ),
        ),
        (
            "restore_drill",
            Metric::new(
                "restore_drill_max_age_seconds",
                "How old the last passed restore drill may be (evidence.restore_drill_max_age)",
                f.restore_drill.as_secs_f64(),
            ),
        ),
        (
            "dr_drill",
            Metric::new(
                "dr_drill_max_age_seconds",
                "How old the last DR drill may be (evidence.dr_drill_max_age)",
                f.dr_drill.as_secs_f64(),
            ),
        ),
        (
            "dr_drill",
            Metric::new(
                "dr_drill_rto_target_seconds",
                "The RTO a DR drill must meet (evidence.rto_target)",
                policy.evidence.rto_target.as_secs_f64(),
            ),
        ),
        (
            "dr_drill",
            Metric::new(
                "dr_drill_rpo_target_seconds",
                "The RPO a DR drill must meet (evidence.rpo_target)",
                policy.evidence.rpo_target.as_secs_f64(),
            ),
        ),
    ]
}

/// Which section's problem the headline names among sections of the same
/// status: first what stops data operations now (WAL, the server, the
/// targets' disk guard, a denied gate), then the contract (restore and
/// startup need it), then the evidence that recovery works, then
/// housekeeping and claims.
const HEADLINE_ORDER: [&str; 11] = [
    "wal",
    "postgres",
    "disk",
    "gates",
    "contract",
    "backup",
    "restore_drill",
    "retention",
    "dr_drill",
    "limitations",
    "stages",
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
        wal_section(facts, policy, now),
        disk_section(facts, policy),
        gates_section(facts, policy, now),
        retention_section(facts, policy, now),
        evidence::backup_section(&backup, &policy.freshness, now),
        evidence::restore_drill_section(&restore, &policy.freshness, now),
        evidence::dr_drill_section(&dr, &policy.freshness, &policy.evidence, now),
        contract_section(facts, policy, now),
        stages_section(&stage_checks),
        limitations_section(facts),
    ];
    if let Some((server, probed)) = &facts.live {
        sections.push(postgres_section(server, probed, policy, now));
    }
    for (section, metric) in limit_metrics(policy) {
        if let Some(s) = sections.iter_mut().find(|s| s.name == section) {
            s.metrics.push(metric);
        }
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

    fn section(name: &str, status: Verdict, summary: &str, action: Option<&str>) -> Section {
        let s = Section::new(name, status, summary);
        match action {
            Some(a) => s.with_action(a),
            None => s,
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
        let policy = ReportPolicy {
            freshness: Freshness::default(),
            disk: DiskPolicy::default(),
            evidence: EvidencePolicy::default(),
            retention_profiles: vec![],
            stages: vec![],
            recent_window: Span::hours(24),
            archiver_recent: Span::mins(15),
            blocked_max_age: Span::mins(10),
            targets: BTreeMap::new(),
        };
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
