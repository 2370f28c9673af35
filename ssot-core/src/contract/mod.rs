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

mod config;
pub mod guc;

pub use config::{ContractConfig, ContractVerdict};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::inputs::{
    self, ConfLine, Mount, Process, Pvc, Replicas, RuntimeSetting, StatefulSetFacts,
};
use crate::wal::ReplicationSlot;
use guc::GucValue;

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
    /// `pg_replication_slots`.
    pub slots: Option<Sourced<Vec<ReplicationSlot>>>,
    /// `/proc/mounts`.
    pub mounts: Option<Sourced<Vec<Mount>>>,
    /// Where the newest recorded backup went (`backup.status`), for the offsite limitation.
    pub backup_location: Option<Sourced<String>>,
    /// The backup target directory, for the filesystem-quota limitation.
    pub backup_target: Option<String>,
}

/// An invariant's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvariantStatus {
    /// Holds.
    Pass,
    /// Violated.
    Fail,
    /// Its input was not given.
    Unknown,
}

impl std::str::FromStr for InvariantStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pass" => Ok(InvariantStatus::Pass),
            "fail" => Ok(InvariantStatus::Fail),
            "unknown" => Ok(InvariantStatus::Unknown),
            other => Err(format!("\"{other}\" is not pass, fail or unknown")),
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
        }
    }
}

/// One checked claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invariant {
    /// Stable id (`sts.max_wal_size`, `runtime.wal_keep_size`, `processes.no_archiver`, ...).
    pub id: String,
    /// Outcome.
    pub status: InvariantStatus,
    /// The facts it rests on: arguments, rows, process lines, each with its source.
    pub evidence: Vec<String>,
    /// What was found, naming values on both sides of a disagreement.
    pub message: String,
}

/// A declared limitation's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

impl ContractReport {
    /// Invariants with the given status.
    pub fn with_status(&self, s: InvariantStatus) -> impl Iterator<Item = &Invariant> {
        self.invariants.iter().filter(move |i| i.status == s)
    }
}

struct Inv<'a>(&'a mut Vec<Invariant>);

impl Inv<'_> {
    fn push(&mut self, id: &str, status: InvariantStatus, evidence: Vec<String>, message: String) {
        self.0.push(Invariant {
            id: id.into(),
            status,
            evidence,
            message,
        });
    }
    fn unknown(&mut self, id: &str, missing: &str) {
        self.push(
            id,
            InvariantStatus::Unknown,
            vec![],
            format!("not checked: no {missing} given"),
        );
    }
}

/// The WAL settings the contract declares, as PostgreSQL reads them: (name,
/// the value or why PostgreSQL would refuse it, whether it must appear in the
/// StatefulSet args — seed STAGE 6 lists the first three).
fn declared_values(
    c: &ContractConfig,
) -> Vec<(
    &'static str,
    std::result::Result<GucValue, guc::GucError>,
    bool,
)> {
    vec![
        (
            "max_wal_size",
            guc::parse_value("max_wal_size", &c.max_wal_size.to_string()),
            true,
        ),
        (
            "min_wal_size",
            guc::parse_value("min_wal_size", &c.min_wal_size.to_string()),
            true,
        ),
        (
            "wal_keep_size",
            guc::parse_value("wal_keep_size", &c.wal_keep_size.to_string()),
            true,
        ),
        (
            "checkpoint_timeout",
            guc::parse_value("checkpoint_timeout", &c.checkpoint_timeout.to_string()),
            false,
        ),
    ]
}

/// PostgreSQL's built-in defaults for the settings above.
fn pg_default(name: &str) -> Option<GucValue> {
    let int = |value, unit| Some(GucValue::Int { value, unit });
    match name {
        "max_wal_size" => int(1024, guc::GucUnit::Mb),
        "min_wal_size" => int(80, guc::GucUnit::Mb),
        "wal_keep_size" => int(0, guc::GucUnit::Mb),
        "checkpoint_timeout" => int(300, guc::GucUnit::S),
        "archive_mode" => Some(GucValue::Enum("off".into())),
        _ => None,
    }
}

const ARCHIVE_ARGS: [&str; 3] = ["archive_mode", "archive_command", "archive_timeout"];

/// The process lines matching `pred`, as evidence (`ps.txt:7 postgres: archiver ...`).
fn process_lines(p: &Sourced<Vec<Process>>, pred: impl Fn(&Process) -> bool) -> Vec<String> {
    p.value
        .iter()
        .filter(|x| pred(x))
        .map(|x| format!("{}:{} {}", p.origin, x.line, x.command))
        .collect()
}

/// Evaluates the contract. Pure.
pub fn evaluate(
    inputs: &ContractInputs,
    contract: &ContractConfig,
    now: DateTime<Utc>,
) -> ContractReport {
    let mut list = Vec::new();
    let mut inv = Inv(&mut list);
    let sts = inputs.statefulset.as_ref();
    let runtime = inputs.settings.as_ref();

    // The source of truth: StatefulSet args.
    let mut truth: BTreeMap<&str, (GucValue, String)> = BTreeMap::new();
    for (name, declared, required) in declared_values(contract) {
        let id = format!("sts.{name}");
        let declared = match declared {
            Ok(d) => d,
            Err(e) => {
                inv.push(
                    &id,
                    InvariantStatus::Fail,
                    vec![format!("contract.{name}")],
                    format!("the contract declares a value PostgreSQL refuses: {e}"),
                );
                continue;
            }
        };
        let Some(s) = sts else {
            inv.unknown(&id, "--statefulset");
            continue;
        };
        match s.value.settings.get(name) {
            Some(arg) => {
                match guc::parse_value(name, &arg.value) {
                    Ok(v) if v == declared => {
                        truth.insert(name, (v, arg.arg.clone()));
                        inv.push(
                            &id,
                            InvariantStatus::Pass,
                            vec![format!("{} ({})", arg.arg, s.origin)],
                            format!("{name} = {declared} as declared"),
                        );
                    }
                    Ok(v) => {
                        truth.insert(name, (v.clone(), arg.arg.clone()));
                        inv.push(
                        &id,
                        InvariantStatus::Fail,
                        vec![format!("{} ({})", arg.arg, s.origin)],
                        format!("the StatefulSet sets {name} = {v}, the contract declares {declared}"),
                    );
                    }
                    Err(e) => inv.push(
                        &id,
                        InvariantStatus::Fail,
                        vec![format!("{} ({})", arg.arg, s.origin)],
                        format!("PostgreSQL refuses this argument and will not start: {e}"),
                    ),
                }
            }
            None if !required && pg_default(name).as_ref() == Some(&declared) => {
                truth.insert(
                    name,
                    (
                        declared.clone(),
                        format!("PostgreSQL default {name} = {declared}"),
                    ),
                );
                inv.push(
                    &id,
                    InvariantStatus::Pass,
                    vec![format!("no {name} argument in {}", s.origin)],
                    format!("not set; PostgreSQL's default {declared} equals the contract"),
                );
            }
            None => {
                if let Some(d) = pg_default(name) {
                    truth.insert(name, (d, "PostgreSQL default (not in args)".to_string()));
                }
                inv.push(
                    &id,
                    InvariantStatus::Fail,
                    vec![format!("no {name} argument in container {} of {}", s.value.container, s.origin)],
                    format!("{name} is not set in the StatefulSet args; the contract declares {declared} and the args are its only source of truth"),
                );
            }
        }
    }

    // Archive: absent from the args when declared off (seed STAGE 5).
    match sts {
        None => inv.unknown("sts.archive_disabled", "--statefulset"),
        Some(s) => {
            let present: Vec<&inputs::ArgSetting> = ARCHIVE_ARGS
                .iter()
                .filter_map(|a| s.value.settings.get(*a))
                .collect();
            let evidence: Vec<String> = present
                .iter()
                .map(|a| format!("{} ({})", a.arg, s.origin))
                .collect();
            if contract.archive_mode {
                let on = s
                    .value
                    .settings
                    .get("archive_mode")
                    .and_then(|a| guc::parse_value("archive_mode", &a.value).ok());
                let ok = on.is_some_and(|v| v.is_word("on") || v.is_word("always"))
                    && s.value
                        .settings
                        .get("archive_command")
                        .is_some_and(|a| !a.value.is_empty());
                inv.push(
                    "sts.archive_enabled",
                    if ok { InvariantStatus::Pass } else { InvariantStatus::Fail },
                    evidence,
                    if ok { "archiving is declared on and configured".into() } else { "archiving is declared on but archive_mode=on and an archive_command are not both in the args".into() },
                );
            } else if present.is_empty() {
                inv.push(
                    "sts.archive_disabled",
                    InvariantStatus::Pass,
                    vec![format!(
                        "no archive_mode, archive_command or archive_timeout in {}",
                        s.origin
                    )],
                    "WAL archiving is not passed to PostgreSQL, as declared".into(),
                );
            } else {
                inv.push(
                    "sts.archive_disabled",
                    InvariantStatus::Fail,
                    evidence,
                    format!(
                        "WAL archiving is declared disabled, but the StatefulSet passes {}",
                        present
                            .iter()
                            .map(|a| a.arg.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
    match sts {
        None => inv.unknown("sts.single_instance", "--statefulset"),
        Some(s) => {
            let evidence = vec![format!(
                "spec.replicas = {} ({})",
                s.value.replicas, s.origin
            )];
            let (status, message) = match &s.value.replicas {
                Replicas::Count(n) if *n <= 1 => {
                    (InvariantStatus::Pass, "a single PostgreSQL instance".to_string())
                }
                Replicas::Count(n) => (
                    InvariantStatus::Fail,
                    format!("{n} replicas: more than one instance contradicts the single-instance architecture (STAGE 9 frozen)"),
                ),
                Replicas::Invalid(v) => (
                    InvariantStatus::Fail,
                    format!("spec.replicas is {v}, not a whole number ≥ 0: the instance count cannot be trusted"),
                ),
            };
            inv.push("sts.single_instance", status, evidence, message);
        }
    }

    // Drift: runtime values against the truth (or, without a StatefulSet, the declaration).
    let mut names: Vec<(&str, GucValue, String)> = declared_values(contract)
        .into_iter()
        .filter_map(|(n, d, _)| match (truth.get(n), d) {
            (Some((v, arg)), _) => Some((n, v.clone(), arg.clone())),
            (None, Ok(d)) => Some((n, d.clone(), format!("the contract's {n} = {d}"))),
            (None, Err(_)) => None, // reported by sts.<name>
        })
        .collect();
    names.push((
        "archive_mode",
        GucValue::Enum(if contract.archive_mode { "on" } else { "off" }.into()),
        "the contract's archive_mode".into(),
    ));
    for (name, want, source) in names {
        let id = format!("runtime.{name}");
        let Some(rt) = runtime else {
            inv.unknown(&id, "--settings");
            continue;
        };
        let Some(row) = rt.value.get(name) else {
            inv.push(
                &id,
                InvariantStatus::Unknown,
                vec![],
                format!("{} has no {name} row", rt.origin),
            );
            continue;
        };
        let unit = row.unit.as_deref();
        let row_ev = format!(
            "pg_settings {name} = {}{} ({})",
            row.setting,
            unit.map(|u| format!(" {u}")).unwrap_or_default(),
            row.at
        );
        let got = match guc::parse_setting_row(name, &row.setting, unit) {
            Ok(v) => v,
            Err(e) => {
                inv.push(
                    &id,
                    InvariantStatus::Fail,
                    vec![row_ev],
                    format!("cannot parse: {e}"),
                );
                continue;
            }
        };
        // archive_mode "always" still means archiving is on.
        let same =
            got == want || (name == "archive_mode" && want.is_word("on") && got.is_word("always"));
        if same {
            inv.push(
                &id,
                InvariantStatus::Pass,
                vec![row_ev, source],
                format!("runtime {name} = {got} matches"),
            );
        } else {
            let mut evidence = vec![row_ev, source.clone()];
            let mut hint = String::new();
            if let Some(ac) = &inputs.auto_conf {
                if let Some(l) = ac.value.get(name) {
                    evidence.push(format!("{}:{} {name} = {}", ac.origin, l.line, l.value));
                    hint = format!(
                        "; postgresql.auto.conf sets it to {} (ALTER SYSTEM)",
                        l.value
                    );
                }
            }
            inv.push(
                &id,
                InvariantStatus::Fail,
                evidence,
                format!("drift: runtime {name} = {got}, but {source} says {want}{hint}"),
            );
        }
    }

    // ALTER SYSTEM overrides of contract settings.
    match &inputs.auto_conf {
        None => inv.unknown("auto_conf.no_wal_override", "--auto-conf"),
        Some(ac) => {
            let watched = [
                "max_wal_size",
                "min_wal_size",
                "wal_keep_size",
                "checkpoint_timeout",
                "archive_mode",
                "archive_command",
                "archive_timeout",
            ];
            let hits: Vec<String> = watched
                .iter()
                .filter_map(|n| {
                    ac.value
                        .get(*n)
                        .map(|l| format!("{}:{} {n} = {}", ac.origin, l.line, l.value))
                })
                .collect();
            if hits.is_empty() {
                inv.push(
                    "auto_conf.no_wal_override",
                    InvariantStatus::Pass,
                    vec![format!("{}: no WAL or archive setting", ac.origin)],
                    "no ALTER SYSTEM override of a contract setting".into(),
                );
            } else {
                inv.push(
                    "auto_conf.no_wal_override",
                    InvariantStatus::Fail,
                    hits.clone(),
                    format!(
                        "ALTER SYSTEM overrides what only the StatefulSet args may set: {}",
                        hits.join("; ")
                    ),
                );
            }
        }
    }

    // No archiver process (seed: ps aux | grep '[p]ostgres: archiver').
    match &inputs.processes {
        None => inv.unknown("processes.no_archiver", "--processes"),
        Some(p) => {
            let pg = p
                .value
                .iter()
                .filter(|x| x.command.starts_with("postgres"))
                .count();
            let archivers: Vec<String> = process_lines(p, |x| x.is_pg("archiver"));
            if pg == 0 {
                inv.push("processes.no_archiver", InvariantStatus::Unknown, vec![], format!("{} lists no PostgreSQL process: was ps run inside the PostgreSQL container?", p.origin));
            } else if contract.archive_mode {
                inv.push(
                    "processes.archiver_running",
                    if archivers.is_empty() {
                        InvariantStatus::Fail
                    } else {
                        InvariantStatus::Pass
                    },
                    archivers.clone(),
                    if archivers.is_empty() {
                        "archiving is declared on but no postgres: archiver process runs".into()
                    } else {
                        "the archiver runs".into()
                    },
                );
            } else if archivers.is_empty() {
                inv.push(
                    "processes.no_archiver",
                    InvariantStatus::Pass,
                    vec![format!(
                        "{}: {} PostgreSQL processes, none is the archiver",
                        p.origin, pg
                    )],
                    "no postgres: archiver process".into(),
                );
            } else {
                inv.push(
                    "processes.no_archiver",
                    InvariantStatus::Fail,
                    archivers.clone(),
                    format!(
                        "WAL archiving is declared disabled, but {} runs",
                        archivers[0]
                    ),
                );
            }
        }
    }

    // PVCs (seed: PGDATA only on PVCs in active_pvc.list; STAGE 3.4 orphan PVCs).
    match sts {
        None => inv.unknown("pvc.pgdata_on_pvc", "--statefulset"),
        Some(s) => inv.push(
            "pvc.pgdata_on_pvc",
            if s.value.pgdata_pvcs.is_empty() {
                InvariantStatus::Fail
            } else {
                InvariantStatus::Pass
            },
            vec![format!(
                "PGDATA {}: {} ({})",
                s.value.pgdata, s.value.pgdata_volume, s.origin
            )],
            if s.value.pgdata_pvcs.is_empty() {
                format!(
                    "PGDATA {} is not on a PersistentVolumeClaim",
                    s.value.pgdata
                )
            } else {
                format!("PGDATA is on {}", s.value.pgdata_pvcs.join(", "))
            },
        ),
    }
    match (sts, &inputs.active_pvcs) {
        (Some(s), Some(active)) => {
            let missing: Vec<&String> = s
                .value
                .pgdata_pvcs
                .iter()
                .filter(|p| !inputs::listed(&active.value, p, &s.value.namespace))
                .collect();
            inv.push(
                "pvc.pgdata_active",
                if missing.is_empty() && !s.value.pgdata_pvcs.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                vec![
                    format!("{} lists {}", active.origin, active.value.join(", ")),
                    format!(
                        "PGDATA PVCs {}{}",
                        s.value.pgdata_pvcs.join(", "),
                        match s.value.pgdata_pvcs_not_listed {
                            0 => String::new(),
                            n => format!(" and {n} more (one per replica)"),
                        }
                    ),
                ],
                if missing.is_empty() {
                    "PGDATA's PVC is in active_pvc.list".into()
                } else {
                    format!(
                        "PGDATA's PVC {} is not in {}",
                        missing
                            .iter()
                            .map(|m| m.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        active.origin
                    )
                },
            );
        }
        (None, _) => inv.unknown("pvc.pgdata_active", "--statefulset"),
        (_, None) => inv.unknown("pvc.pgdata_active", "--active-pvcs (active_pvc.list)"),
    }
    match (&inputs.pvcs, &inputs.active_pvcs) {
        (Some(pvcs), Some(active)) => {
            let orphans: Vec<String> = pvcs
                .value
                .iter()
                .filter(|p| !inputs::listed(&active.value, &p.name, &p.namespace))
                .map(|p| format!("{}/{} ({})", p.namespace, p.name, p.phase))
                .collect();
            inv.push(
                "pvc.no_orphans",
                if orphans.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                if orphans.is_empty() {
                    vec![format!(
                        "{}: {} PVCs, all in {}",
                        pvcs.origin,
                        pvcs.value.len(),
                        active.origin
                    )]
                } else {
                    orphans
                        .iter()
                        .map(|o| format!("{o} in {}", pvcs.origin))
                        .collect()
                },
                if orphans.is_empty() {
                    "no orphan PVCs".into()
                } else {
                    format!(
                        "orphan PVCs not in {}: {}",
                        active.origin,
                        orphans.join(", ")
                    )
                },
            );
            let stale: Vec<&String> = active
                .value
                .iter()
                .filter(|e| {
                    !pvcs
                        .value
                        .iter()
                        .any(|p| inputs::listed(&[(*e).clone()], &p.name, &p.namespace))
                })
                .collect();
            inv.push(
                "pvc.active_list_current",
                if stale.is_empty() {
                    InvariantStatus::Pass
                } else {
                    InvariantStatus::Fail
                },
                vec![format!("{} vs {}", active.origin, pvcs.origin)],
                if stale.is_empty() {
                    "every listed PVC exists".into()
                } else {
                    format!(
                        "{} lists PVCs that do not exist: {}",
                        active.origin,
                        stale
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            );
        }
        (None, _) => {
            inv.unknown("pvc.no_orphans", "--pvcs");
            inv.unknown("pvc.active_list_current", "--pvcs");
        }
        (_, None) => {
            inv.unknown("pvc.no_orphans", "--active-pvcs (active_pvc.list)");
            inv.unknown("pvc.active_list_current", "--active-pvcs (active_pvc.list)");
        }
    }

    let limitations = limitations(inputs, contract);
    let status = if list.iter().any(|i| i.status == InvariantStatus::Fail) {
        ContractVerdict::Fail
    } else if list.iter().any(|i| i.status == InvariantStatus::Unknown) {
        ContractVerdict::Unknown
    } else {
        ContractVerdict::Pass
    };
    let declared_wal = sts.map(|s| {
        let mut m = BTreeMap::new();
        for name in [
            "max_wal_size",
            "min_wal_size",
            "wal_keep_size",
            "checkpoint_timeout",
            "max_slot_wal_keep_size",
        ] {
            if let Some(a) = s.value.settings.get(name) {
                if let Ok(v) = guc::parse_value(name, &a.value) {
                    m.insert(name.to_string(), v.to_string());
                }
            }
        }
        let on = s
            .value
            .settings
            .get("archive_mode")
            .and_then(|a| guc::parse_value("archive_mode", &a.value).ok());
        let archive = on.is_some_and(|v| v.is_word("on") || v.is_word("always"));
        m.insert(
            "archive_mode".into(),
            if archive { "on" } else { "off" }.into(),
        );
        m.insert("source".into(), s.origin.clone());
        m
    });
    ContractReport {
        status,
        checked_at: now,
        invariants: list,
        limitations,
        declared_wal,
    }
}

fn limitation(name: &str, on: Vec<String>, off: Vec<String>, none: &str) -> Limitation {
    let (status, evidence, message) = if !on.is_empty() {
        (
            LimitationStatus::On,
            on.clone(),
            format!("declared off, but {}", on.join("; ")),
        )
    } else if !off.is_empty() {
        (
            LimitationStatus::Off,
            off.clone(),
            "confirmed off".to_string(),
        )
    } else {
        (LimitationStatus::Unverified, vec![], none.to_string())
    };
    Limitation {
        name: name.into(),
        status,
        evidence,
        message,
    }
}

fn limitations(inputs: &ContractInputs, contract: &ContractConfig) -> Vec<Limitation> {
    let sts = inputs.statefulset.as_ref();
    let rt = inputs.settings.as_ref();
    let ps = inputs.processes.as_ref();
    let rt_word = |name: &str| -> Option<(String, String)> {
        let r = rt?.value.get(name)?;
        Some((guc::unquote(&r.setting).to_ascii_lowercase(), r.at.clone()))
    };
    let mut out = Vec::new();
    let declared = |n: &str| contract.declared_limitations.iter().any(|l| l == n);

    // WAL archive.
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let Some(s) = sts {
        let args: Vec<String> = ARCHIVE_ARGS
            .iter()
            .filter_map(|a| s.value.settings.get(*a))
            .map(|a| format!("{} in {}", a.arg, s.origin))
            .collect();
        if args.is_empty() {
            off.push(format!("no archive args in {}", s.origin))
        } else {
            on.extend(args)
        }
    }
    if let Some(p) = ps {
        let arch: Vec<String> = process_lines(p, |x| x.is_pg("archiver"));
        if arch.is_empty() {
            off.push(format!("no archiver process in {}", p.origin))
        } else {
            on.extend(arch)
        }
    }
    if let Some((v, at)) = rt_word("archive_mode") {
        if v == "off" {
            off.push(format!("archive_mode = off ({at})"))
        } else {
            on.push(format!("archive_mode = {v} ({at})"))
        }
    }
    let archive_on = !on.is_empty();
    let archive_off_confirmed = on.is_empty() && !off.is_empty();
    if declared("wal_archive") {
        out.push(limitation(
            "wal_archive",
            on,
            off,
            "not verified: give --statefulset, --processes or --settings",
        ));
    }

    // PITR: impossible without a WAL archive; contradicted by a recovery setup.
    if declared("pitr") {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        for n in [
            "restore_command",
            "recovery_target_time",
            "recovery_target_lsn",
            "recovery_target_xid",
            "recovery_target_name",
        ] {
            if let Some((v, at)) = rt_word(n) {
                if !v.is_empty() {
                    on.push(format!("{n} = {v} ({at})"));
                }
            }
        }
        if archive_on {
            on.push("a WAL archive is configured (see wal_archive)".into());
        }
        if on.is_empty() && archive_off_confirmed {
            off.push("no WAL archive (see wal_archive), and PITR needs one".into());
        }
        out.push(limitation(
            "pitr",
            on,
            off,
            "not verified: give --settings and --statefulset or --processes",
        ));
    }

    // pg_basebackup: no base backup running or recorded.
    if declared("pg_basebackup") {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        if let Some(p) = ps {
            let hits: Vec<String> = process_lines(p, |x| {
                x.command
                    .split_whitespace()
                    .next()
                    .is_some_and(|c| c.ends_with("pg_basebackup"))
            });
            if hits.is_empty() {
                off.push(format!("no pg_basebackup process in {}", p.origin))
            } else {
                on.extend(hits)
            }
        }
        out.push(limitation(
            "pg_basebackup",
            on,
            off,
            "not verified: give --processes",
        ));
    }

    // Offsite backup: the recorded backup location is local.
    if declared("offsite_backup") {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        if let Some(loc) = &inputs.backup_location {
            let l = &loc.value;
            let remote = l.contains("://") || (l.contains(':') && !l.starts_with('/'));
            if remote {
                on.push(format!("backup location {l} ({})", loc.origin))
            } else {
                off.push(format!("backup location {l} is local ({})", loc.origin))
            }
        }
        out.push(limitation(
            "offsite_backup",
            on,
            off,
            "not verified: no backup recorded (ssot evidence backup)",
        ));
    }

    // HA / replication: one replica, no walsender/walreceiver, no slots, no primary_conninfo.
    if declared("ha_replication") {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        if let Some(s) = sts {
            let line = format!("spec.replicas = {} ({})", s.value.replicas, s.origin);
            match s.value.replicas {
                Replicas::Count(n) if n > 1 => on.push(line),
                Replicas::Count(_) => off.push(line),
                Replicas::Invalid(_) => {} // proves neither
            }
        }
        if let Some(p) = ps {
            let hits: Vec<String> =
                process_lines(p, |x| x.is_pg("walsender") || x.is_pg("walreceiver"));
            if hits.is_empty() {
                off.push(format!("no walsender or walreceiver in {}", p.origin))
            } else {
                on.extend(hits)
            }
        }
        if let Some(sl) = &inputs.slots {
            if sl.value.is_empty() {
                off.push(format!("no replication slots ({})", sl.origin))
            } else {
                on.push(format!(
                    "replication slots {} ({})",
                    sl.value
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    sl.origin
                ))
            }
        }
        if let Some((v, at)) = rt_word("primary_conninfo") {
            if v.is_empty() {
                off.push(format!("primary_conninfo is empty ({at}): not a standby"))
            } else {
                on.push(format!("primary_conninfo is set ({at}): this is a standby"))
            }
        }
        out.push(limitation(
            "ha_replication",
            on,
            off,
            "not verified: give --statefulset, --processes, --slots or --settings",
        ));
    }

    // SLA/RPO/RTO: a promise is not an observable fact.
    if declared("sla_rpo_rto") {
        out.push(limitation(
            "sla_rpo_rto",
            vec![],
            vec![],
            "declared only: no observable fact can show that a guarantee is or is not in force; DR drills measure RTO/RPO as goals, never as guarantees",
        ));
    }

    // Filesystem quota on the backup target.
    if declared("fs_quota") {
        let (mut on, mut off) = (Vec::new(), Vec::new());
        if let (Some(m), Some(target)) = (&inputs.mounts, &inputs.backup_target) {
            let mp = m
                .value
                .iter()
                .filter(|m| {
                    *target == m.point
                        || target.starts_with(&format!("{}/", m.point.trim_end_matches('/')))
                        || m.point == "/"
                })
                .max_by_key(|m| m.point.len());
            if let Some(Mount { point, options }) = mp {
                let q: Vec<&str> = options
                    .split(',')
                    .filter(|o| o.contains("quota") || o.starts_with("prjquota"))
                    .collect();
                if q.is_empty() {
                    off.push(format!(
                        "{point} (holding {target}) has no quota options ({})",
                        m.origin
                    ))
                } else {
                    on.push(format!(
                        "{point} (holding {target}) is mounted with {} ({})",
                        q.join(","),
                        m.origin
                    ))
                }
            }
        }
        out.push(limitation(
            "fs_quota",
            on,
            off,
            "not verified: give --mounts (/proc/mounts)",
        ));
    }
    out
}
