//! [`StateFileName`]: the name of every file ssot keeps, declared once. The
//! `state::*` name constants, the host's lock and journal names and the size
//! limits are taken from it.

/// A file ssot reads or writes: the records of the state directory, its
/// locks and log, and the retention journal and lock kept in each artifact
/// root ([`StateFileName::in_state_dir`] tells which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateFileName {
    /// `wal.status`: the WAL status (seed field names).
    WalStatus,
    /// `wal.last_check`: time of the last completed measurement.
    WalLastCheck,
    /// `wal.history`: recent samples for the growth rate (JSON lines).
    WalHistory,
    /// `wal.probe`: what the last live probe that answered saw.
    WalProbe,
    /// `wal.settings`: WAL settings as declared by the source of truth.
    WalSettings,
    /// `contract.status`: the architecture contract's verdict.
    ContractStatus,
    /// `retention.status`: the last retention apply per profile.
    RetentionStatus,
    /// `backup.status`: the latest backup and the newest complete one.
    BackupStatus,
    /// `restore_drill.status`: the latest restore drill and the last passed one.
    RestoreDrillStatus,
    /// `dr_drill.status`: the latest DR drill with measured RTO/RPO.
    DrDrillStatus,
    /// `verify.status`: what the last `ssot verify` found.
    VerifyStatus,
    /// `gate.log`: every gate decision, one JSON object a line.
    GateLog,
    /// `active_pvc.list`: PVCs that hold SSOT data.
    ActivePvcList,
    /// `operation.lock`: held for a whole gated command or retention apply.
    OperationLock,
    /// `.ssot.lock`: held while the state directory is written.
    StateLock,
    /// `.ssot-retention.journal`: a retention apply's journal, in an artifact root.
    RetentionJournal,
    /// `.ssot-retention.lock`: a retention apply's lock, in an artifact root.
    RetentionLock,
}

impl StateFileName {
    /// Every name.
    pub const ALL: [StateFileName; 17] = [
        StateFileName::WalStatus,
        StateFileName::WalLastCheck,
        StateFileName::WalHistory,
        StateFileName::WalProbe,
        StateFileName::WalSettings,
        StateFileName::ContractStatus,
        StateFileName::RetentionStatus,
        StateFileName::BackupStatus,
        StateFileName::RestoreDrillStatus,
        StateFileName::DrDrillStatus,
        StateFileName::VerifyStatus,
        StateFileName::GateLog,
        StateFileName::ActivePvcList,
        StateFileName::OperationLock,
        StateFileName::StateLock,
        StateFileName::RetentionJournal,
        StateFileName::RetentionLock,
    ];

    /// The file's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            StateFileName::WalStatus => "wal.status",
            StateFileName::WalLastCheck => "wal.last_check",
            StateFileName::WalHistory => "wal.history",
            StateFileName::WalProbe => "wal.probe",
            StateFileName::WalSettings => "wal.settings",
            StateFileName::ContractStatus => "contract.status",
            StateFileName::RetentionStatus => "retention.status",
            StateFileName::BackupStatus => "backup.status",
            StateFileName::RestoreDrillStatus => "restore_drill.status",
            StateFileName::DrDrillStatus => "dr_drill.status",
            StateFileName::VerifyStatus => "verify.status",
            StateFileName::GateLog => "gate.log",
            StateFileName::ActivePvcList => "active_pvc.list",
            StateFileName::OperationLock => "operation.lock",
            StateFileName::StateLock => ".ssot.lock",
            StateFileName::RetentionJournal => ".ssot-retention.journal",
            StateFileName::RetentionLock => ".ssot-retention.lock",
        }
    }

    /// Whether the file lives in the state directory (else in each artifact
    /// root retention applies to).
    pub const fn in_state_dir(self) -> bool {
        !matches!(
            self,
            StateFileName::RetentionJournal | StateFileName::RetentionLock
        )
    }

    /// The most bytes read from the file; anything larger is not a file
    /// ssot wrote. `gate.log` is read as a tail of this many bytes instead.
    pub const fn max_bytes(self) -> u64 {
        match self {
            StateFileName::WalHistory => 4 << 20,
            StateFileName::GateLog => super::GATE_LOG_TAIL,
            _ => 1 << 20,
        }
    }
}

named_id!(StateFileName, "state file", "not a file ssot keeps");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips_and_is_one_plain_path_component() {
        for n in StateFileName::ALL {
            let s = n.as_str();
            assert_eq!(s.parse::<StateFileName>().unwrap(), n);
            assert_eq!(n.to_string(), s);
            assert_eq!(StateFileName::ALL.iter().filter(|m| **m == n).count(), 1);
            assert!(
                !s.is_empty() && !s.contains('/') && s != "." && s != "..",
                "{s}"
            );
        }
        assert!("nope.status".parse::<StateFileName>().is_err());
    }

    #[test]
    fn the_named_constants_and_limits_come_from_the_enum() {
        use super::super::*;
        for (c, n) in [
            (WAL_STATUS, StateFileName::WalStatus),
            (WAL_LAST_CHECK, StateFileName::WalLastCheck),
            (WAL_HISTORY, StateFileName::WalHistory),
            (WAL_PROBE, StateFileName::WalProbe),
            (WAL_SETTINGS, StateFileName::WalSettings),
            (CONTRACT_STATUS, StateFileName::ContractStatus),
            (RETENTION_STATUS, StateFileName::RetentionStatus),
            (BACKUP_STATUS, StateFileName::BackupStatus),
            (RESTORE_DRILL_STATUS, StateFileName::RestoreDrillStatus),
            (DR_DRILL_STATUS, StateFileName::DrDrillStatus),
            (VERIFY_STATUS, StateFileName::VerifyStatus),
            (GATE_LOG, StateFileName::GateLog),
            (ACTIVE_PVC_LIST, StateFileName::ActivePvcList),
        ] {
            assert_eq!(c, n.as_str());
            assert_eq!(size_limit(c), n.max_bytes());
            assert!(n.in_state_dir());
        }
        assert_eq!(size_limit("wal.history"), 4 << 20);
        assert_eq!(size_limit("gate.log"), GATE_LOG_TAIL);
        assert_eq!(size_limit("wal.status"), 1 << 20);
        assert_eq!(size_limit("anything.else"), 1 << 20);
        for name in TIMESTAMPED {
            assert!(name.parse::<StateFileName>().is_ok(), "{name}");
        }
    }
}
