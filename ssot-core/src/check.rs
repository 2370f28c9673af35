//! [`Check`]: one condition a decision looked at, passed or not, named by a
//! [`GateCheck`]. Gates and the disk guard list their checks with it.

use serde::{Deserialize, Serialize};

/// The id of a condition a gate or the disk guard checks. Its serde name and
/// [`GateCheck::as_str`] are the stable id shown in `DENY <id>`, the JSON
/// and `gate.log`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum GateCheck {
    /// `wal.status` is within its max age.
    WalStatusFresh,
    /// `wal.status` does not exist.
    WalStatusMissing,
    /// `wal.status` could not be read.
    WalStatusUnreadable,
    /// `wal.status` is not a record ssot wrote.
    WalStatusCorrupt,
    /// `wal.status` is older than its max age.
    WalStatusStale,
    /// `wal.status` is dated in the future.
    WalStatusFutureDated,
    /// The WAL status is `OK`.
    WalStatusOk,
    /// `contract.status` is within its max age.
    ContractStatusFresh,
    /// `contract.status` does not exist or was not read.
    ContractStatusMissing,
    /// `contract.status` could not be read.
    ContractStatusUnreadable,
    /// `contract.status` is not a record ssot wrote.
    ContractStatusCorrupt,
    /// `contract.status` is older than its max age.
    ContractStatusStale,
    /// `contract.status` is dated in the future.
    ContractStatusFutureDated,
    /// The architecture contract holds.
    ContractPass,
    /// A target directory is known for an operation that writes one.
    TargetConfigured,
    /// The target exists.
    TargetExists,
    /// The target is a directory.
    TargetIsDirectory,
    /// The target is writable.
    TargetWritable,
    /// The target's filesystem could be read.
    TargetVolume,
    /// The target is on another filesystem than each protected volume.
    SeparateFilesystem,
    /// The target neither is, holds nor lies inside a protected path.
    TargetOutsideProtected,
    /// The target's volume keeps `min_free_pct` free after the write.
    FreeSpacePct,
    /// The target's volume keeps `min_free_bytes` free after the write.
    FreeSpaceBytes,
    /// The server answered a liveness probe.
    PostgresAnswers,
    /// No other operation holds the lock.
    OperationLock,
}

/// A timestamped state file a gate judges by its age.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GatedFile {
    /// `wal.status`.
    WalStatus,
    /// `contract.status`.
    ContractStatus,
}

/// What a gate found of a [`GatedFile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Found {
    /// Read and within its max age.
    Fresh,
    /// Absent.
    Missing,
    /// Present but unreadable.
    Unreadable,
    /// Not a record ssot wrote.
    Corrupt,
    /// Older than its max age.
    Stale,
    /// Dated in the future.
    FutureDated,
}

impl GateCheck {
    /// Every check id, in the order a gate makes them.
    pub const ALL: [GateCheck; 25] = [
        GateCheck::WalStatusFresh,
        GateCheck::WalStatusMissing,
        GateCheck::WalStatusUnreadable,
        GateCheck::WalStatusCorrupt,
        GateCheck::WalStatusStale,
        GateCheck::WalStatusFutureDated,
        GateCheck::WalStatusOk,
        GateCheck::ContractStatusFresh,
        GateCheck::ContractStatusMissing,
        GateCheck::ContractStatusUnreadable,
        GateCheck::ContractStatusCorrupt,
        GateCheck::ContractStatusStale,
        GateCheck::ContractStatusFutureDated,
        GateCheck::ContractPass,
        GateCheck::TargetConfigured,
        GateCheck::TargetExists,
        GateCheck::TargetIsDirectory,
        GateCheck::TargetWritable,
        GateCheck::TargetVolume,
        GateCheck::SeparateFilesystem,
        GateCheck::TargetOutsideProtected,
        GateCheck::FreeSpacePct,
        GateCheck::FreeSpaceBytes,
        GateCheck::PostgresAnswers,
        GateCheck::OperationLock,
    ];

    /// The stable id (its serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            GateCheck::WalStatusFresh => "wal_status_fresh",
            GateCheck::WalStatusMissing => "wal_status_missing",
            GateCheck::WalStatusUnreadable => "wal_status_unreadable",
            GateCheck::WalStatusCorrupt => "wal_status_corrupt",
            GateCheck::WalStatusStale => "wal_status_stale",
            GateCheck::WalStatusFutureDated => "wal_status_future_dated",
            GateCheck::WalStatusOk => "wal_status_ok",
            GateCheck::ContractStatusFresh => "contract_status_fresh",
            GateCheck::ContractStatusMissing => "contract_status_missing",
            GateCheck::ContractStatusUnreadable => "contract_status_unreadable",
            GateCheck::ContractStatusCorrupt => "contract_status_corrupt",
            GateCheck::ContractStatusStale => "contract_status_stale",
            GateCheck::ContractStatusFutureDated => "contract_status_future_dated",
            GateCheck::ContractPass => "contract_pass",
            GateCheck::TargetConfigured => "target_configured",
            GateCheck::TargetExists => "target_exists",
            GateCheck::TargetIsDirectory => "target_is_directory",
            GateCheck::TargetWritable => "target_writable",
            GateCheck::TargetVolume => "target_volume",
            GateCheck::SeparateFilesystem => "separate_filesystem",
            GateCheck::TargetOutsideProtected => "target_outside_protected",
            GateCheck::FreeSpacePct => "free_space_pct",
            GateCheck::FreeSpaceBytes => "free_space_bytes",
            GateCheck::PostgresAnswers => "postgres_answers",
            GateCheck::OperationLock => "operation_lock",
        }
    }

    /// The check of what a gate found of `file`.
    pub const fn of(file: GatedFile, found: Found) -> GateCheck {
        match (file, found) {
            (GatedFile::WalStatus, Found::Fresh) => GateCheck::WalStatusFresh,
            (GatedFile::WalStatus, Found::Missing) => GateCheck::WalStatusMissing,
            (GatedFile::WalStatus, Found::Unreadable) => GateCheck::WalStatusUnreadable,
            (GatedFile::WalStatus, Found::Corrupt) => GateCheck::WalStatusCorrupt,
            (GatedFile::WalStatus, Found::Stale) => GateCheck::WalStatusStale,
            (GatedFile::WalStatus, Found::FutureDated) => GateCheck::WalStatusFutureDated,
            (GatedFile::ContractStatus, Found::Fresh) => GateCheck::ContractStatusFresh,
            (GatedFile::ContractStatus, Found::Missing) => GateCheck::ContractStatusMissing,
            (GatedFile::ContractStatus, Found::Unreadable) => GateCheck::ContractStatusUnreadable,
            (GatedFile::ContractStatus, Found::Corrupt) => GateCheck::ContractStatusCorrupt,
            (GatedFile::ContractStatus, Found::Stale) => GateCheck::ContractStatusStale,
            (GatedFile::ContractStatus, Found::FutureDated) => GateCheck::ContractStatusFutureDated,
        }
    }

    /// Whether the disk guard ([`crate::disk::guard`]) makes this check.
    pub const fn is_disk_guard(self) -> bool {
        matches!(
            self,
            GateCheck::TargetExists
                | GateCheck::TargetIsDirectory
                | GateCheck::TargetWritable
                | GateCheck::TargetVolume
                | GateCheck::SeparateFilesystem
                | GateCheck::TargetOutsideProtected
                | GateCheck::FreeSpacePct
                | GateCheck::FreeSpaceBytes
        )
    }
}

named_id!(GateCheck, "gate check", "not a check a gate makes");

/// One condition a decision checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Check {
    /// Stable id of the condition (`wal_status_fresh`, `separate_filesystem`, ...).
    pub rule: GateCheck,
    /// Whether it holds.
    pub passed: bool,
    /// What was found, naming files, values and thresholds.
    pub message: String,
}

impl Check {
    /// A check with an explicit outcome.
    pub fn new(rule: GateCheck, passed: bool, message: String) -> Self {
        Check {
            rule,
            passed,
            message,
        }
    }

    /// A passed check.
    pub fn pass(rule: GateCheck, message: String) -> Self {
        Check::new(rule, true, message)
    }

    /// A failed check.
    pub fn fail(rule: GateCheck, message: String) -> Self {
        Check::new(rule, false, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_round_trips_through_its_name_serde_and_display() {
        for c in GateCheck::ALL {
            let name = c.as_str();
            assert_eq!(name.parse::<GateCheck>().unwrap(), c);
            assert_eq!(c.to_string(), name);
            assert_eq!(serde_json::to_value(c).unwrap(), name, "{c:?}");
            assert_eq!(serde_json::from_value::<GateCheck>(name.into()).unwrap(), c);
            assert_eq!(GateCheck::ALL.iter().filter(|x| **x == c).count(), 1);
        }
        assert!("no_such_check".parse::<GateCheck>().is_err());
    }

    #[test]
    fn a_gated_file_check_is_named_after_the_file_and_what_was_found() {
        let found = [
            (Found::Fresh, "fresh"),
            (Found::Missing, "missing"),
            (Found::Unreadable, "unreadable"),
            (Found::Corrupt, "corrupt"),
            (Found::Stale, "stale"),
            (Found::FutureDated, "future_dated"),
        ];
        for (file, base) in [
            (GatedFile::WalStatus, "wal_status"),
            (GatedFile::ContractStatus, "contract_status"),
        ] {
            for (f, kind) in found {
                assert_eq!(GateCheck::of(file, f).as_str(), format!("{base}_{kind}"));
            }
        }
    }
}
