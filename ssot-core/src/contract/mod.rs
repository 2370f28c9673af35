//! The architecture contract (seed: STAGE 5 WAL archive disabled, STAGE 6 WAL
//! retention guarantee, STAGE 3.4 orphan PVCs, ARCHITECTURE SIGNATURE).
//!
//! The seed's operator kept these claims as prose and shell one-liners
//! (`kubectl get sts ... | grep wal_keep_size`, `ps aux | grep '[p]ostgres: archiver'`).
//! [`evaluate`] makes each one an invariant over observed facts: `pass`,
//! `fail` or `unknown` (its input was not given), always with evidence (the
//! argument, the `pg_settings` row, the process line). The StatefulSet's
//! container args are the source of truth for WAL settings; a runtime value
//! that differs (an `ALTER SYSTEM` override) is drift and fails, naming both.
//!
//! Declared limitations (PITR, WAL archive, pg_basebackup, offsite backup,
//! HA/replication, SLA/RPO/RTO, filesystem quota) are checked alongside:
//! `off` when the facts confirm it, `on` when they contradict the
//! declaration, `unverified` when nothing given can tell.

mod archive;
mod config;
pub mod guc;
mod host;
mod id;
mod limitations;
mod pg15_parameters;
mod pvc;
mod settings;

pub use config::{
    ContractConfig, ContractVerdict, Deployment, DEFAULT_NAMESPACE, DEFAULT_STATEFULSET,
};
pub use host::written_dir;
pub use id::InvariantId;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::inputs::{
    ConfLine, Mount, PostgresqlConf, Process, Pvc, RuntimeSetting, StatefulSetFacts,
};
use crate::wal::ReplicationSlot;

/// An input with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    /// The parsed input.
    pub value: T,
    /// The file (or `-`) it was read from.
    pub origin: String,
}

impl<T> Sourced<T> {
    /// Wraps `value` read from `origin`.
    pub fn new(value: T, origin: impl Into<String>) -> Self {
        Sourced {
            value,
            origin: origin.into(),
        }
    }
}

/// Everything the contract can look at; each part is optional.
#[derive(Debug, Clone, Default)]
pub struct ContractInputs {
    /// `kubectl get sts NAME -o json`.
    pub statefulset: Option<Sourced<StatefulSetFacts>>,
    /// `pg_settings`.
    pub settings: Option<Sourced<BTreeMap<String, RuntimeSetting>>>,
    /// `ps -eo args` / `ps aux` inside the PostgreSQL container.
    pub processes: Option<Sourced<Vec<Process>>>,
    /// `kubectl get pvc -o json`.
    pub pvcs: Option<Sourced<Vec<Pvc>>>,
    /// `active_pvc.list`.
    pub active_pvcs: Option<Sourced<Vec<String>>>,
    /// `postgresql.auto.conf`.
    pub auto_conf: Option<Sourced<BTreeMap<String, ConfLine>>>,
    /// `postgresql.conf` with its includes: the truth on a host.
    pub conf: Option<Sourced<PostgresqlConf>>,
    /// The PGDATA ssot watches, for the host's volume invariant.
    pub pgdata: Option<String>,
    /// PostgreSQL's major version as the data directory's `PG_VERSION`
    /// says, for the parameter names a stopped server would accept.
    pub pg_version: Option<Sourced<u32>>,
    /// The directories the volume invariant compares, as the host resolved
    /// them (symbolic links followed): written path → real path. A path not
    /// here is compared as written.
    pub real_dirs: BTreeMap<String, String>,
    /// `pg_replication_slots`.
    pub slots: Option<Sourced<Vec<ReplicationSlot>>>,
    /// `/proc/mounts`.
    pub mounts: Option<Sourced<Vec<Mount>>>,
    /// Where the newest recorded backup went (`backup.status`), for the offsite limitation.
    pub backup_location: Option<Sourced<String>>,
    /// The backup target directory, for the filesystem-quota limitation.
    pub backup_target: Option<String>,
    /// A live probe of the server, when one was asked for: what it saw, or
    /// why it could not (its settings, slots and backends are also in the
    /// inputs above when those were not given).
    pub live: Option<Sourced<std::result::Result<crate::inputs::LiveFacts, String>>>,
}

/// An invariant's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvariantStatus {
    /// Holds.
    Pass,
    /// Violated.
    Fail,
    /// Its input was not given.
    Unknown,
    /// It does not apply to this deployment (a PVC check on a host).
    NotApplicable,
}

impl std::str::FromStr for InvariantStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pass" => Ok(InvariantStatus::Pass),
            "fail" => Ok(InvariantStatus::Fail),
            "unknown" => Ok(InvariantStatus::Unknown),
            "not_applicable" => Ok(InvariantStatus::NotApplicable),
            other => Err(format!(
                "\"{other}\" is not pass, fail, unknown or not_applicable"
            )),
        }
    }
}

impl std::str::FromStr for LimitationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(LimitationStatus::Off),
            "on" => Ok(LimitationStatus::On),
            "unverified" => Ok(LimitationStatus::Unverified),
            other => Err(format!("\"{other}\" is not off, on or unverified")),
        }
    }
}

impl InvariantStatus {
    /// `pass`, `fail`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            InvariantStatus::Pass => "pass",
            InvariantStatus::Fail => "fail",
            InvariantStatus::Unknown => "unknown",
            InvariantStatus::NotApplicable => "not_applicable",
        }
    }
}

/// One checked claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Invariant {
    /// Stable id (`sts.max_wal_size`, `runtime.wal_keep_size`, `processes.no_archiver`, ...).
    pub id: InvariantId,
    /// Outcome.
    pub status: InvariantStatus,
    /// The facts it rests on: arguments, rows, process lines, each with its source.
    pub evidence: Vec<String>,
    /// What was found, naming values on both sides of a disagreement.
    pub message: String,
}

/// A declared limitation's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum LimitationStatus {
    /// The facts confirm the capability is off, as declared.
    Off,
    /// The facts show it is on: the declaration is false.
    On,
    /// Nothing given can tell.
    Unverified,
}

impl LimitationStatus {
    /// `off`, `on`, `unverified`.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitationStatus::Off => "off",
            LimitationStatus::On => "on",
            LimitationStatus::Unverified => "unverified",
        }
    }
}

/// A declared limitation and what the facts say about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Limitation {
    /// `pitr`, `wal_archive`, `pg_basebackup`, `offsite_backup`, `ha_replication`, `sla_rpo_rto`, `fs_quota`.
    pub name: String,
    /// Outcome.
    pub status: LimitationStatus,
    /// Facts consulted.
    pub evidence: Vec<String>,
    /// Explanation.
    pub message: String,
}

/// All limitations the seed's ARCHITECTURE SIGNATURE declares.
pub const LIMITATIONS: [&str; 7] = [
    "pitr",
    "wal_archive",
    "pg_basebackup",
    "offsite_backup",
    "ha_replication",
    "sla_rpo_rto",
    "fs_quota",
];

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct ContractReport {
    /// `PASS` when nothing fails and nothing is unknown, `FAIL` when anything fails, else `UNKNOWN`.
    pub status: ContractVerdict,
    /// When it was evaluated.
    pub checked_at: DateTime<Utc>,
    /// Every invariant.
    pub invariants: Vec<Invariant>,
    /// Every declared limitation.
    pub limitations: Vec<Limitation>,
    /// WAL settings as the source of truth declares them (for `wal.settings`).
    #[serde(skip)]
    pub declared_wal: Option<BTreeMap<String, String>>,
    /// The deployment checked: `host` or `kubernetes`.
    pub deployment: Deployment,
}

impl ContractReport {
    /// Invariants with the given status.
    pub fn with_status(&self, s: InvariantStatus) -> impl Iterator<Item = &Invariant> {
        self.invariants.iter().filter(move |i| i.status == s)
    }
}

pub(crate) struct Inv<'a>(&'a mut Vec<Invariant>);

impl Inv<'_> {
    pub(crate) fn push(
        &mut self,
        id: InvariantId,
        status: InvariantStatus,
        evidence: Vec<String>,
        message: String,
    ) {
        self.0.push(Invariant {
            id,
            status,
            evidence,
            message,
        });
    }
    pub(crate) fn not_applicable(&mut self, id: InvariantId, why: &str) {
        self.push(id, InvariantStatus::NotApplicable, vec![], why.into());
    }
    pub(crate) fn unknown(&mut self, id: InvariantId, missing: &str) {
        self.push(
            id,
            InvariantStatus::Unknown,
            vec![],
            format!("not checked: no {missing} input given"),
        );
    }
}

/// The process lines matching `pred`, as evidence (`ps.txt:7 postgres: archiver ...`).
fn process_lines(p: &Sourced<Vec<Process>>, pred: impl Fn(&Process) -> bool) -> Vec<String> {
    p.value
        .iter()
        .filter(|x| pred(x))
        .map(|x| format!("{}:{} {}", p.origin, x.line, x.command))
        .collect()
}

/// Evaluates the contract. Pure. The invariants come in a fixed order:
/// the WAL settings in the args, archiving in the args, the instance count,
/// runtime drift, `ALTER SYSTEM` overrides, the archiver process, the PVCs.
pub fn evaluate(
    inputs: &ContractInputs,
    contract: &ContractConfig,
    now: DateTime<Utc>,
) -> ContractReport {
    let mut list = Vec::new();
    let mut inv = Inv(&mut list);
    let sts = inputs.statefulset.as_ref();
    let deployment = contract.deployment.resolve(sts.is_some());
    let source = match deployment {
        Deployment::Host => settings::Source::Conf(inputs.conf.as_ref()),
        _ => settings::Source::Sts(sts),
    };
    let truth = settings::declared(&mut inv, &source, contract);
    match deployment {
        Deployment::Host => archive::conf(&mut inv, inputs.conf.as_ref(), contract),
        _ => archive::args(&mut inv, sts, contract),
    }
    match deployment {
        Deployment::Host => host::single_instance(&mut inv),
        _ => pvc::single_instance(&mut inv, sts),
    }
    settings::runtime(&mut inv, inputs, contract, &truth);
    settings::auto_conf(&mut inv, inputs, &source);
    archive::processes(&mut inv, inputs, contract);
    match deployment {
        Deployment::Host => {
            host::volumes(&mut inv, inputs);
            host::parameters_known(&mut inv, inputs);
        }
        _ => pvc::claims(&mut inv, inputs),
    }
    if let Some(live) = &inputs.live {
        match &live.value {
            Ok(l) => inv.push(
                InvariantId::RuntimeReachable,
                InvariantStatus::Pass,
                vec![format!(
                    "PostgreSQL {} answered ({})",
                    l.version, live.origin
                )],
                format!("the live probe of {} answered", live.origin),
            ),
            Err(why) => inv.push(
                InvariantId::RuntimeReachable,
                InvariantStatus::Unknown,
                vec![],
                format!(
                    "the live probe of {} failed: {why}; runtime invariants are not checked",
                    live.origin
                ),
            ),
        }
    }

    let limitations = limitations::limitations(inputs, contract);
    let status = if list.iter().any(|i| i.status == InvariantStatus::Fail) {
        ContractVerdict::Fail
    } else if list.iter().any(|i| i.status == InvariantStatus::Unknown) {
        ContractVerdict::Unknown
    } else {
        ContractVerdict::Pass
    };
    ContractReport {
        status,
        checked_at: now,
        invariants: list,
        limitations,
        declared_wal: settings::declared_wal(&source),
        deployment,
    }
}

/// The contract when its inputs cannot be read (a file that is missing,
/// unreadable, unsafe, oversized or not what PostgreSQL would accept):
/// invariant `inputs.readable` fails naming the file and the problem, and
/// everything else is evaluated as if nothing were given. Pure.
///
/// A check that cannot read what it checks must not leave the previous
/// `contract.status` standing: recorded, this FAIL replaces it, so the gates
/// that want the contract deny until the inputs read again.
pub fn unreadable_inputs(
    problem: &str,
    statefulset_given: bool,
    contract: &ContractConfig,
    now: DateTime<Utc>,
) -> ContractReport {
    let mut report = evaluate(&ContractInputs::default(), contract, now);
    report.deployment = contract.deployment.resolve(statefulset_given);
    report.declared_wal = None;
    for i in &mut report.invariants {
        if i.status == InvariantStatus::Unknown {
            i.message =
                "not checked: the contract's inputs cannot be read (inputs.readable)".into();
        }
    }
    report.invariants.insert(
        0,
        Invariant {
            id: InvariantId::InputsReadable,
            status: InvariantStatus::Fail,
            evidence: Vec::new(),
            message: format!(
                "the contract's inputs cannot be read, so nothing is known to hold: {problem}"
            ),
        },
    );
    report.status = ContractVerdict::Fail;
    report
}
