//! [`InvariantId`]: every invariant the contract checks, typed.

use serde::{Deserialize, Serialize};

/// One invariant of the architecture contract (the tables of
/// `docs/src/contract.md`). Its serde name and [`InvariantId::as_str`] are
/// the stable id written in `contract.status` (`invariant.<id>`), the JSON,
/// the report and a stage's `invariant:ID` criterion. Adding a variant is
/// the only edit that makes an id known to the evaluator and the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum InvariantId {
    /// The contract's inputs could be read (it fails alone, first, when not).
    #[serde(rename = "inputs.readable")]
    InputsReadable,
    /// The StatefulSet args set `max_wal_size` as declared.
    #[serde(rename = "sts.max_wal_size")]
    StsMaxWalSize,
    /// The StatefulSet args set `min_wal_size` as declared.
    #[serde(rename = "sts.min_wal_size")]
    StsMinWalSize,
    /// The StatefulSet args set `wal_keep_size` as declared.
    #[serde(rename = "sts.wal_keep_size")]
    StsWalKeepSize,
    /// The StatefulSet args set `checkpoint_timeout` as declared (or leave
    /// PostgreSQL's default when it is the declared value).
    #[serde(rename = "sts.checkpoint_timeout")]
    StsCheckpointTimeout,
    /// The configuration files set `max_wal_size` as declared (a host).
    #[serde(rename = "conf.max_wal_size")]
    ConfMaxWalSize,
    /// The configuration files set `min_wal_size` as declared (a host).
    #[serde(rename = "conf.min_wal_size")]
    ConfMinWalSize,
    /// The configuration files set `wal_keep_size` as declared (a host).
    #[serde(rename = "conf.wal_keep_size")]
    ConfWalKeepSize,
    /// The configuration files set `checkpoint_timeout` as declared (a host).
    #[serde(rename = "conf.checkpoint_timeout")]
    ConfCheckpointTimeout,
    /// The StatefulSet args pass no archiving (declared off).
    #[serde(rename = "sts.archive_disabled")]
    StsArchiveDisabled,
    /// The StatefulSet args turn archiving on with a command (declared on).
    #[serde(rename = "sts.archive_enabled")]
    StsArchiveEnabled,
    /// The configuration files leave archiving off (declared off; a host).
    #[serde(rename = "conf.archive_disabled")]
    ConfArchiveDisabled,
    /// The configuration files turn archiving on with a command (declared
    /// on; a host).
    #[serde(rename = "conf.archive_enabled")]
    ConfArchiveEnabled,
    /// The StatefulSet runs one replica (not applicable on a host).
    #[serde(rename = "sts.single_instance")]
    StsSingleInstance,
    /// The runtime `max_wal_size` is the truth's (drift fails).
    #[serde(rename = "runtime.max_wal_size")]
    RuntimeMaxWalSize,
    /// The runtime `min_wal_size` is the truth's (drift fails).
    #[serde(rename = "runtime.min_wal_size")]
    RuntimeMinWalSize,
    /// The runtime `wal_keep_size` is the truth's (drift fails).
    #[serde(rename = "runtime.wal_keep_size")]
    RuntimeWalKeepSize,
    /// The runtime `checkpoint_timeout` is the truth's (drift fails).
    #[serde(rename = "runtime.checkpoint_timeout")]
    RuntimeCheckpointTimeout,
    /// The runtime `archive_mode` is the declared one (drift fails).
    #[serde(rename = "runtime.archive_mode")]
    RuntimeArchiveMode,
    /// No `ALTER SYSTEM` override of a contract setting.
    #[serde(rename = "auto_conf.no_wal_override")]
    AutoConfNoWalOverride,
    /// No `postgres: archiver` process runs (archiving declared off).
    #[serde(rename = "processes.no_archiver")]
    ProcessesNoArchiver,
    /// A `postgres: archiver` process runs (archiving declared on).
    #[serde(rename = "processes.archiver_running")]
    ProcessesArchiverRunning,
    /// PGDATA is the data directory the configuration declares (a host).
    #[serde(rename = "volume.pgdata_declared")]
    VolumePgdataDeclared,
    /// Every parameter the configuration files set is one PostgreSQL knows
    /// (a host).
    #[serde(rename = "conf.parameters_known")]
    ConfParametersKnown,
    /// PGDATA is on a PersistentVolumeClaim.
    #[serde(rename = "pvc.pgdata_on_pvc")]
    PvcPgdataOnPvc,
    /// PGDATA's claim is in `active_pvc.list`.
    #[serde(rename = "pvc.pgdata_active")]
    PvcPgdataActive,
    /// Every claim is in `active_pvc.list` (no orphan, seed STAGE 3.4).
    #[serde(rename = "pvc.no_orphans")]
    PvcNoOrphans,
    /// `active_pvc.list` names only claims that exist.
    #[serde(rename = "pvc.active_list_current")]
    PvcActiveListCurrent,
    /// The live probe answered (only when one was asked for).
    #[serde(rename = "runtime.reachable")]
    RuntimeReachable,
}

impl InvariantId {
    /// Every invariant, in the order [`evaluate`](super::evaluate) checks
    /// them (`inputs.readable` first, when it is there at all).
    pub const ALL: [InvariantId; 29] = [
        InvariantId::InputsReadable,
        InvariantId::StsMaxWalSize,
        InvariantId::StsMinWalSize,
        InvariantId::StsWalKeepSize,
        InvariantId::StsCheckpointTimeout,
        InvariantId::ConfMaxWalSize,
        InvariantId::ConfMinWalSize,
        InvariantId::ConfWalKeepSize,
        InvariantId::ConfCheckpointTimeout,
        InvariantId::StsArchiveDisabled,
        InvariantId::StsArchiveEnabled,
        InvariantId::ConfArchiveDisabled,
        InvariantId::ConfArchiveEnabled,
        InvariantId::StsSingleInstance,
        InvariantId::RuntimeMaxWalSize,
        InvariantId::RuntimeMinWalSize,
        InvariantId::RuntimeWalKeepSize,
        InvariantId::RuntimeCheckpointTimeout,
        InvariantId::RuntimeArchiveMode,
        InvariantId::AutoConfNoWalOverride,
        InvariantId::ProcessesNoArchiver,
        InvariantId::ProcessesArchiverRunning,
        InvariantId::VolumePgdataDeclared,
        InvariantId::ConfParametersKnown,
        InvariantId::PvcPgdataOnPvc,
        InvariantId::PvcPgdataActive,
        InvariantId::PvcNoOrphans,
        InvariantId::PvcActiveListCurrent,
        InvariantId::RuntimeReachable,
    ];

    /// The stable id (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            InvariantId::InputsReadable => "inputs.readable",
            InvariantId::StsMaxWalSize => "sts.max_wal_size",
            InvariantId::StsMinWalSize => "sts.min_wal_size",
            InvariantId::StsWalKeepSize => "sts.wal_keep_size",
            InvariantId::StsCheckpointTimeout => "sts.checkpoint_timeout",
            InvariantId::ConfMaxWalSize => "conf.max_wal_size",
            InvariantId::ConfMinWalSize => "conf.min_wal_size",
            InvariantId::ConfWalKeepSize => "conf.wal_keep_size",
            InvariantId::ConfCheckpointTimeout => "conf.checkpoint_timeout",
            InvariantId::StsArchiveDisabled => "sts.archive_disabled",
            InvariantId::StsArchiveEnabled => "sts.archive_enabled",
            InvariantId::ConfArchiveDisabled => "conf.archive_disabled",
            InvariantId::ConfArchiveEnabled => "conf.archive_enabled",
            InvariantId::StsSingleInstance => "sts.single_instance",
            InvariantId::RuntimeMaxWalSize => "runtime.max_wal_size",
            InvariantId::RuntimeMinWalSize => "runtime.min_wal_size",
            InvariantId::RuntimeWalKeepSize => "runtime.wal_keep_size",
            InvariantId::RuntimeCheckpointTimeout => "runtime.checkpoint_timeout",
            InvariantId::RuntimeArchiveMode => "runtime.archive_mode",
            InvariantId::AutoConfNoWalOverride => "auto_conf.no_wal_override",
            InvariantId::ProcessesNoArchiver => "processes.no_archiver",
            InvariantId::ProcessesArchiverRunning => "processes.archiver_running",
            InvariantId::VolumePgdataDeclared => "volume.pgdata_declared",
            InvariantId::ConfParametersKnown => "conf.parameters_known",
            InvariantId::PvcPgdataOnPvc => "pvc.pgdata_on_pvc",
            InvariantId::PvcPgdataActive => "pvc.pgdata_active",
            InvariantId::PvcNoOrphans => "pvc.no_orphans",
            InvariantId::PvcActiveListCurrent => "pvc.active_list_current",
            InvariantId::RuntimeReachable => "runtime.reachable",
        }
    }

    /// Whether this invariant judges a running server: its settings
    /// (`runtime.*`), its processes (`processes.*`), whether it answered;
    /// and `conf.parameters_known`, whose names may be known only from a
    /// probe (PostgreSQL itself refuses an unknown name when it starts).
    /// The startup gate lets these alone be unknown: a server that is down
    /// must be startable.
    pub const fn judges_running_server(self) -> bool {
        matches!(
            self,
            InvariantId::RuntimeMaxWalSize
                | InvariantId::RuntimeMinWalSize
                | InvariantId::RuntimeWalKeepSize
                | InvariantId::RuntimeCheckpointTimeout
                | InvariantId::RuntimeArchiveMode
                | InvariantId::RuntimeReachable
                | InvariantId::ProcessesNoArchiver
                | InvariantId::ProcessesArchiverRunning
                | InvariantId::ConfParametersKnown
        )
    }
}

named_id!(
    InvariantId,
    "contract invariant",
    "not an invariant of the architecture contract"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invariant_round_trips_through_its_name_serde_and_display() {
        for id in InvariantId::ALL {
            let name = id.as_str();
            assert_eq!(name.parse::<InvariantId>().unwrap(), id);
            assert_eq!(id.to_string(), name);
            assert_eq!(serde_json::to_value(id).unwrap(), name, "{id:?}");
            assert_eq!(
                serde_json::from_value::<InvariantId>(name.into()).unwrap(),
                id
            );
            assert_eq!(InvariantId::ALL.iter().filter(|i| **i == id).count(), 1);
        }
        assert!("pvc.bound".parse::<InvariantId>().is_err());
        assert!(serde_json::from_value::<InvariantId>("pvc.bound".into()).is_err());
    }

    /// The ids that judge a running server are the `runtime.*` and
    /// `processes.*` ones, and `conf.parameters_known`, as the startup gate
    /// has always read them.
    #[test]
    fn the_running_server_ids_are_runtime_processes_and_parameters_known() {
        for id in InvariantId::ALL {
            let name = id.as_str();
            let by_name = name.starts_with("runtime.")
                || name.starts_with("processes.")
                || name == "conf.parameters_known";
            assert_eq!(id.judges_running_server(), by_name, "{name}");
        }
    }

    /// The invariant tables of `docs/src/contract.md` name every id (a
    /// pattern such as `runtime.<setting>` or `pvc.*` names none), and only
    /// ids there are.
    #[test]
    fn the_docs_tables_list_every_invariant() {
        let page = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/contract.md");
        let page = std::fs::read_to_string(page).unwrap();
        let mut documented = std::collections::BTreeSet::new();
        let mut in_table = false;
        for line in page.lines() {
            if line.starts_with("| invariant") {
                in_table = true;
                continue;
            }
            if !line.starts_with('|') {
                in_table = false;
                continue;
            }
            let Some(first) = line.strip_prefix("| ").and_then(|l| l.split(" | ").next()) else {
                continue;
            };
            if !in_table || first.starts_with("---") {
                continue;
            }
            for id in first.split('`').skip(1).step_by(2) {
                if !id.contains(['<', '*']) {
                    documented.insert(id.to_string());
                }
            }
        }
        let all: std::collections::BTreeSet<String> = InvariantId::ALL
            .iter()
            .map(|i| i.as_str().to_string())
            .collect();
        assert_eq!(documented, all, "docs/src/contract.md's invariant tables");
    }
}
