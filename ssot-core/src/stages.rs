//! The stage registry (seed: STAGE 1–16 and their "criteria for moving to
//! IMPLEMENTED").
//!
//! Each stage claims a status and lists evidence criteria that the state
//! directory must back. [`check`] reports each claim as consistent or not:
//! `COMPLETE`, `IMPLEMENTED`, `DESIGN` and `FROZEN` need every criterion met
//! (for `DESIGN`/`FROZEN` the criteria state that the capability is really
//! off), `PARTIAL` needs at least one. A claim without criteria is never
//! consistent: a claim without evidence is not backed.
//!
//! Criteria (strings in `ssot.toml`):
//!
//! | criterion | met when |
//! |---|---|
//! | `state:FILE` | the state file exists and parses |
//! | `fresh:FILE` | ... and its timestamp is within its limit |
//! | `contract:pass` | `contract.status` says PASS |
//! | `invariant:ID` | that contract invariant passed |
//! | `limitation_off:NAME` | that declared limitation is confirmed off |
//! | `backup` | a complete backup is recorded |
//! | `backup:separate` | the newest complete backup is on another filesystem than PGDATA |
//! | `restore_drill:passed` | a restore drill passed |
//! | `retention:PROFILE` | retention was applied for the profile |
//! | `snapshot:kept` | the `snapshots` retention profile keeps at least one snapshot |
//! | `gate_used:OP` | `gate.log` holds a decision for OP |
//! | `gate_denied:OP` | `gate.log` holds a denial for OP (the stop-factor was exercised) |
//! | `file:PATH` | PATH exists (a runbook, an exported metrics file) |

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::ContractVerdict;
use crate::contract::{InvariantStatus, LimitationStatus};
use crate::decision::Operation;
use crate::error::{Error, Result};
use crate::state::{
    self, load_record, BackupStatusRecord, ContractStatusRecord, Freshness, GateLog,
    RestoreDrillRecord, RetentionStatusRecord, StateInput,
};

/// A claimed stage status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Claim {
    /// Done and final.
    Complete,
    /// Built and working.
    Implemented,
    /// Partly built.
    Partial,
    /// Designed, not built.
    Design,
    /// Deliberately not built.
    Frozen,
}

impl Claim {
    /// The upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::Complete => "COMPLETE",
            Claim::Implemented => "IMPLEMENTED",
            Claim::Partial => "PARTIAL",
            Claim::Design => "DESIGN",
            Claim::Frozen => "FROZEN",
        }
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One evidence criterion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Criterion {
    /// `state:FILE`.
    State(String),
    /// `fresh:FILE` (one of [`state::TIMESTAMPED`]).
    Fresh(state::StateFileName),
    /// `contract:pass`.
    ContractPass,
    /// `invariant:ID`.
    Invariant(String),
    /// `limitation_off:NAME`.
    LimitationOff(String),
    /// `backup`.
    Backup,
    /// `backup:separate`.
    BackupSeparate,
    /// `restore_drill:passed`.
    RestoreDrillPassed,
    /// `retention:PROFILE`.
    Retention(String),
    /// `snapshot:kept`.
    SnapshotKept,
    /// `gate_used:OP`.
    GateUsed(Operation),
    /// `gate_denied:OP`.
    GateDenied(Operation),
    /// `file:PATH`.
    File(String),
}

impl FromStr for Criterion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidName {
            what: "stage criterion",
            value: s.into(),
            message: "see the criteria table in docs/src/stages.md".into(),
        };
        let (k, v) = s
            .split_once(':')
            .map(|(k, v)| (k, Some(v)))
            .unwrap_or((s, None));
        Ok(match (k, v) {
            ("state", Some(f)) => Criterion::State(f.into()),
            ("fresh", Some(f)) if state::TIMESTAMPED.contains(&f) => {
                Criterion::Fresh(f.parse().map_err(|_| bad())?)
            }
            ("contract", Some("pass")) => Criterion::ContractPass,
            ("invariant", Some(id)) => Criterion::Invariant(id.into()),
            ("limitation_off", Some(n)) => Criterion::LimitationOff(n.into()),
            ("backup", None) => Criterion::Backup,
            ("backup", Some("separate")) => Criterion::BackupSeparate,
            ("restore_drill", Some("passed")) => Criterion::RestoreDrillPassed,
            ("retention", Some(p)) => Criterion::Retention(p.into()),
            ("snapshot", Some("kept")) => Criterion::SnapshotKept,
            ("gate_used", Some(op)) => Criterion::GateUsed(op.parse().map_err(|_| bad())?),
            ("gate_denied", Some(op)) => Criterion::GateDenied(op.parse().map_err(|_| bad())?),
            ("file", Some(p)) if !p.is_empty() => Criterion::File(p.into()),
            _ => return Err(bad()),
        })
    }
}

/// A stage as declared in the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// `8`, `3.4`, `15.2`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Claimed status.
    pub status: Claim,
    /// The seed marks some stages final ("MUST NOT BE REVISITED").
    #[serde(default, rename = "final")]
    pub final_: bool,
    /// Evidence criteria (see the module docs).
    #[serde(default)]
    pub criteria: Vec<String>,
}

impl StageDef {
    fn new(id: &str, title: &str, status: Claim, final_: bool, criteria: &[&str]) -> Self {
        StageDef {
            id: id.into(),
            title: title.into(),
            status,
            final_,
            criteria: criteria.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Parses the criteria; the error names the stage.
    pub fn parsed_criteria(&self) -> Result<Vec<Criterion>> {
        self.criteria
            .iter()
            .map(|c| {
                c.parse().map_err(|e: Error| match e {
                    Error::InvalidName { value, .. } => Error::key(
                        format!("stage {}", self.id),
                        format!(
                            "has an unknown criterion \"{value}\" (see the criteria table in docs/src/stages.md)"
                        ),
                    ),
                    other => other,
                })
            })
            .collect()
    }
}

/// What the stage check and the report say when no stage is configured.
pub const NONE_CONFIGURED: &str = "no stage registry configured: declare your stages as [[stages]] tables in ssot.toml (id, title, status, criteria) to have their claims checked against the evidence (examples/config/seed.toml in the sources holds the seed's registry)";

/// The seed's stages with their claimed statuses (seed 000), an example
/// registry: the default is empty (`examples/config/seed.toml` holds these
/// as `[[stages]]` tables). Stages 11–14 are not described in the seeds and
/// are not listed.
pub fn seed_registry() -> Vec<StageDef> {
    SEED_STAGES
        .iter()
        .map(|(id, title, claim, final_, criteria)| {
            StageDef::new(id, title, *claim, *final_, criteria)
        })
        .collect()
}

/// [`seed_registry`]'s stages: id, title, claim, final, criteria.
#[allow(clippy::type_complexity)]
const SEED_STAGES: [(&str, &str, Claim, bool, &[&str]); 15] = [
    (
        "1",
        "Truth fixation",
        Claim::Complete,
        false,
        &["state:active_pvc.list"],
    ),
    (
        "2",
        "State",
        Claim::Complete,
        false,
        &[
            "state:wal.status",
            "state:wal.last_check",
            "state:wal.settings",
        ],
    ),
    (
        "3",
        "Audit",
        Claim::Complete,
        false,
        &["fresh:contract.status", "contract:pass"],
    ),
    (
        "3.3",
        "Audit: WAL",
        Claim::Complete,
        false,
        &[
            "fresh:wal.status",
            "invariant:sts.max_wal_size",
            "invariant:sts.min_wal_size",
        ],
    ),
    (
        "3.4",
        "Orphan PVC / local-path",
        Claim::Complete,
        false,
        &["invariant:pvc.no_orphans", "invariant:pvc.pgdata_active"],
    ),
    ("4", "Snapshot", Claim::Complete, false, &["snapshot:kept"]),
    (
        "5",
        "WAL archive disabled",
        Claim::Complete,
        true,
        &[
            "invariant:sts.archive_disabled",
            "invariant:processes.no_archiver",
            "limitation_off:wal_archive",
        ],
    ),
    (
        "6",
        "WAL retention guarantee",
        Claim::Complete,
        true,
        &[
            "invariant:sts.max_wal_size",
            "invariant:sts.min_wal_size",
            "invariant:sts.wal_keep_size",
            "invariant:runtime.wal_keep_size",
        ],
    ),
    (
        "7",
        "WAL as stop-factor",
        Claim::Complete,
        true,
        &["fresh:wal.status", "gate_used:backup", "gate_denied:backup"],
    ),
    (
        "8",
        "Backup / restore drills",
        Claim::Implemented,
        false,
        &[
            "backup",
            "backup:separate",
            "file:/opt/ssot-backup/RESTORE.md",
            "restore_drill:passed",
        ],
    ),
    (
        "9",
        "Replication / HA",
        Claim::Frozen,
        false,
        &[
            "limitation_off:ha_replication",
            "invariant:sts.single_instance",
        ],
    ),
    (
        "10",
        "Observability",
        Claim::Implemented,
        false,
        &["file:/var/lib/node_exporter/textfile_collector/ssot.prom"],
    ),
    (
        "15.2",
        "Disk safety / retention",
        Claim::Implemented,
        false,
        &["retention:backups", "retention:snapshots"],
    ),
    (
        "15.3",
        "Disk guard",
        Claim::Implemented,
        false,
        &["gate_used:backup"],
    ),
    (
        "16",
        "Optional resilience extensions (off by default)",
        Claim::Design,
        false,
        &[
            "limitation_off:pitr",
            "limitation_off:wal_archive",
            "limitation_off:pg_basebackup",
            "limitation_off:offsite_backup",
            "limitation_off:ha_replication",
        ],
    ),
];

/// A claim checked against the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StageCheck {
    /// Stage id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Claimed status.
    pub claimed: Claim,
    /// Marked final in the seed.
    #[serde(rename = "final")]
    pub final_: bool,
    /// Whether the evidence backs the claim.
    pub consistent: bool,
    /// Criteria met, with what met them.
    pub met: Vec<String>,
    /// Criteria not met, with why.
    pub missing: Vec<String>,
    /// One line.
    pub message: String,
}

/// What the stage check reads.
#[derive(Debug, Clone, Copy)]
pub struct StageFacts<'a> {
    /// State files by name.
    pub files: &'a BTreeMap<String, StateInput>,
    /// `gate.log`.
    pub gate_log: Option<&'a StateInput>,
    /// Existence of `file:` criteria paths.
    pub files_exist: &'a BTreeMap<String, bool>,
    /// How old each timestamped state file may be.
    pub freshness: &'a Freshness,
}

impl StageFacts<'_> {
    fn file(&self, name: &str) -> StateInput {
        self.files
            .get(name)
            .cloned()
            .unwrap_or(StateInput::Missing { path: name.into() })
    }

    fn retention(&self) -> std::result::Result<RetentionStatusRecord, String> {
        load_record(
            &self.file(state::RETENTION_STATUS),
            RetentionStatusRecord::from_file,
        )
        .map_err(|u| u.to_string())
    }

    fn gate_log(&self) -> std::result::Result<GateLog, String> {
        self.gate_log
            .map_or(Ok(GateLog::default()), GateLog::load)
            .map_err(|u| u.to_string())
    }

    fn contract(&self) -> std::result::Result<ContractStatusRecord, String> {
        load_record(
            &self.file(state::CONTRACT_STATUS),
            ContractStatusRecord::from_file,
        )
        .map_err(|u| u.to_string())
    }

    /// `state:<name>`: the file exists and parses (a plain-line file: is not empty).
    fn judge_state(&self, name: &str) -> (bool, String) {
        let input = self.file(name);
        if matches!(name, state::WAL_LAST_CHECK | state::ACTIVE_PVC_LIST) {
            return match input {
                StateInput::Present { content, .. }
                    if !String::from_utf8_lossy(&content).trim().is_empty() =>
                {
                    (true, format!("{name} exists"))
                }
                StateInput::Present { .. } => (false, format!("{name} is empty")),
                other => (false, format!("{} is missing or unreadable", other.path())),
            };
        }
        match load_record(&input, |f| state::validate(name, f)) {
            Ok(()) => (true, format!("{name} exists and parses")),
            Err(u) => (false, u.to_string()),
        }
    }

    /// `backup` and `backup:separate`: a complete backup is recorded (off PGDATA's filesystem).
    fn judge_backup(&self, c: &Criterion) -> (bool, String) {
        let rec = match load_record(
            &self.file(state::BACKUP_STATUS),
            BackupStatusRecord::from_file,
        ) {
            Ok(r) => r,
            Err(u) => return (false, u.to_string()),
        };
        let Some(b) = rec.last_complete else {
            return (false, "no complete backup recorded".into());
        };
        if *c == Criterion::Backup {
            return (
                true,
                format!(
                    "complete backup {} at {}",
                    b.artifact,
                    state::timestamp(b.at)
                ),
            );
        }
        match b.separate_from_pgdata {
            Some(true) => (
                true,
                format!(
                    "backup location {} is on another filesystem than PGDATA",
                    b.location
                ),
            ),
            Some(false) => (
                false,
                "the newest complete backup is on PGDATA's filesystem".into(),
            ),
            None => (
                false,
                "the backup's filesystem was not checked (record it with PGDATA given)".into(),
            ),
        }
    }

    /// `gate_used:<op>` and `gate_denied:<op>`: gate.log holds such a decision.
    fn judge_gate(&self, c: &Criterion, op: &Operation, now: DateTime<Utc>) -> (bool, String) {
        let want_denied = matches!(c, Criterion::GateDenied(_));
        let log = match self.gate_log() {
            Ok(log) => log,
            Err(e) => return (false, e),
        };
        let hit = log
            .until(now)
            .filter(|d| d.operation == *op && (!want_denied || !d.allowed))
            .max_by_key(|d| d.decided_at);
        match hit {
            Some(d) => (
                true,
                format!(
                    "gate.log: {op} {} at {}",
                    if d.allowed { "allowed" } else { "denied" },
                    state::timestamp(d.decided_at)
                ),
            ),
            None => (
                false,
                format!(
                    "gate.log has no {op} {}",
                    if want_denied { "denial" } else { "decision" }
                ),
            ),
        }
    }

    /// Whether `c` is met, and the fact that decides it.
    fn judge(&self, c: &Criterion, now: DateTime<Utc>) -> (bool, String) {
        match c {
            Criterion::State(name) => self.judge_state(name),
            Criterion::Fresh(name) => {
                let name = name.as_str();
                match state::freshness_of(name, &self.file(name), self.freshness, now) {
                    Ok((at, key, max)) => (
                        true,
                        format!("{name} {key} {} is within {max}", state::timestamp(at)),
                    ),
                    Err(e) => (false, e),
                }
            }
            Criterion::ContractPass => match self.contract() {
                Ok(r) if r.verdict == ContractVerdict::Pass => {
                    (true, "contract.status is PASS".into())
                }
                Ok(r) => (false, format!("contract.status is {}", r.verdict.as_str())),
                Err(e) => (false, e),
            },
            Criterion::Invariant(id) => match self.contract() {
                Ok(r) => match r.invariants.get(id) {
                    Some(InvariantStatus::Pass) => (true, format!("invariant {id} passes")),
                    Some(s) => (false, format!("invariant {id} is {}", s.as_str())),
                    None => (false, format!("contract.status has no invariant {id}")),
                },
                Err(e) => (false, e),
            },
            Criterion::LimitationOff(n) => match self.contract() {
                Ok(r) => match r.limitations.get(n) {
                    Some(LimitationStatus::Off) => (true, format!("limitation {n} confirmed off")),
                    Some(s) => (false, format!("limitation {n} is {}", s.as_str())),
                    None => (
                        false,
                        format!("contract.status does not check limitation {n}"),
                    ),
                },
                Err(e) => (false, e),
            },
            Criterion::Backup | Criterion::BackupSeparate => self.judge_backup(c),
            Criterion::RestoreDrillPassed => match load_record(
                &self.file(state::RESTORE_DRILL_STATUS),
                RestoreDrillRecord::from_file,
            ) {
                Ok(r) => match r.last_pass {
                    Some((at, artifact)) => (
                        true,
                        format!(
                            "restore drill passed at {} ({artifact})",
                            state::timestamp(at)
                        ),
                    ),
                    None => (false, "no restore drill has passed".into()),
                },
                Err(u) => (false, u.to_string()),
            },
            Criterion::Retention(p) => match self.retention() {
                Ok(r) => match r.profiles.get(p).and_then(|run| run.applied_at) {
                    Some(at) => (
                        true,
                        format!("retention {p} applied at {}", state::timestamp(at)),
                    ),
                    None => (false, format!("retention {p} never applied")),
                },
                Err(e) => (false, e),
            },
            Criterion::SnapshotKept => match self.retention() {
                Ok(r) => match r.profiles.get("snapshots").and_then(|run| run.kept) {
                    Some(n) if n > 0 => (
                        true,
                        format!("{n} snapshot(s) kept by the snapshots retention profile"),
                    ),
                    _ => (
                        false,
                        "the snapshots retention profile records no kept snapshot".into(),
                    ),
                },
                Err(e) => (false, e),
            },
            Criterion::GateUsed(op) | Criterion::GateDenied(op) => self.judge_gate(c, op, now),
            Criterion::File(p) => match self.files_exist.get(p) {
                Some(true) => (true, format!("{p} exists")),
                Some(false) => (false, format!("{p} does not exist")),
                None => (false, format!("{p} was not checked")),
            },
        }
    }
}

/// Checks every stage's claim. Pure.
pub fn check(registry: &[StageDef], facts: &StageFacts, now: DateTime<Utc>) -> Vec<StageCheck> {
    registry
        .iter()
        .map(|s| {
            let criteria = match s.parsed_criteria() {
                Ok(c) => c,
                Err(e) => {
                    return StageCheck {
                        id: s.id.clone(),
                        title: s.title.clone(),
                        claimed: s.status,
                        final_: s.final_,
                        consistent: false,
                        met: vec![],
                        missing: vec![e.to_string()],
                        message: e.to_string(),
                    }
                }
            };
            let (mut met, mut missing) = (Vec::new(), Vec::new());
            for (c, raw) in criteria.iter().zip(&s.criteria) {
                let (ok, why) = facts.judge(c, now);
                if ok { met.push(format!("{raw}: {why}")) } else { missing.push(format!("{raw}: {why}")) }
            }
            let consistent = !criteria.is_empty()
                && match s.status {
                    Claim::Partial => !met.is_empty(),
                    _ => missing.is_empty(),
                };
            let message = if criteria.is_empty() {
                format!("claims {} without any evidence criterion: a claim without evidence is not backed", s.status)
            } else if consistent {
                format!("{} backed by {} criterion(s)", s.status, met.len())
            } else {
                format!(
                    "claims {} but {} of {} criteria are not met: {}",
                    s.status,
                    missing.len(),
                    criteria.len(),
                    missing.join("; ")
                )
            };
            StageCheck {
                id: s.id.clone(),
                title: s.title.clone(),
                claimed: s.status,
                final_: s.final_,
                consistent,
                met,
                missing,
                message,
            }
        })
        .collect()
}
