//! The one loader for trusted state: present, well-formed, fresh and not
//! future-dated. Gates, the report and the stage check all read timestamped
//! records through [`load_trusted`], with one table of maximum ages
//! ([`Freshness`], built from the configuration by `Config::freshness`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    check_fresh, load_record, BackupStatusRecord, ContractStatusRecord, DrDrillRecord,
    RestoreDrillRecord, StateInput, Untrusted, WalSettingsRecord, WalStatusRecord,
};
use crate::error::Result;
use crate::statefile::StateFile;
use crate::units::Span;

/// How old each timestamped state file may be before it is stale, and how far
/// in the future a time may be before it is future-dated. One table for every
/// reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    /// `wal.status` (`gate.wal_max_age`).
    pub wal_status: Span,
    /// `contract.status` and `wal.settings` (`gate.contract_max_age`).
    pub contract_status: Span,
    /// The newest complete backup in `backup.status` (`evidence.backup_max_age`).
    pub backup: Span,
    /// The last passed drill in `restore_drill.status` (`evidence.restore_drill_max_age`).
    pub restore_drill: Span,
    /// The last DR drill in `dr_drill.status` (`evidence.dr_drill_max_age`).
    pub dr_drill: Span,
    /// Each profile's last apply in `retention.status` (`report.retention_max_age`).
    pub retention: Span,
    /// Tolerated clock skew (`gate.max_clock_skew`).
    pub max_clock_skew: Span,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            wal_status: Span::mins(10),
            contract_status: Span::hours(25),
            backup: Span::hours(25),
            restore_drill: Span::days(31),
            dr_drill: Span::days(92),
            retention: Span::days(8),
            max_clock_skew: Span::mins(1),
        }
    }
}

/// A typed state record with the time it is judged by.
pub trait Record: Sized {
    /// The state file it is read from.
    const FILE: &'static str;
    /// The key holding the time it is judged by.
    const TIME_KEY: &'static str;
    /// Reads and validates the record.
    fn from_file(f: &StateFile) -> Result<Self>;
    /// The time it is judged by; `None` when the record has none yet (no
    /// complete backup, no passed drill).
    fn judged_at(&self) -> Option<DateTime<Utc>>;
    /// Its maximum age.
    fn max_age(f: &Freshness) -> Span;
}

impl Record for WalStatusRecord {
    const FILE: &'static str = super::WAL_STATUS;
    const TIME_KEY: &'static str = "checked_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        WalStatusRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        Some(self.checked_at)
    }
    fn max_age(f: &Freshness) -> Span {
        f.wal_status
    }
}

impl Record for ContractStatusRecord {
    const FILE: &'static str = super::CONTRACT_STATUS;
    const TIME_KEY: &'static str = "checked_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        ContractStatusRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        Some(self.checked_at)
    }
    fn max_age(f: &Freshness) -> Span {
        f.contract_status
    }
}

impl Record for BackupStatusRecord {
    const FILE: &'static str = super::BACKUP_STATUS;
    const TIME_KEY: &'static str = "last_complete_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        BackupStatusRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        self.last_complete.as_ref().map(|b| b.at)
    }
    fn max_age(f: &Freshness) -> Span {
        f.backup
    }
}

impl Record for RestoreDrillRecord {
    const FILE: &'static str = super::RESTORE_DRILL_STATUS;
    const TIME_KEY: &'static str = "last_pass_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        RestoreDrillRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        self.last_pass.as_ref().map(|(at, _)| *at)
    }
    fn max_age(f: &Freshness) -> Span {
        f.restore_drill
    }
}

impl Record for DrDrillRecord {
    const FILE: &'static str = super::DR_DRILL_STATUS;
    const TIME_KEY: &'static str = "last_drill_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        DrDrillRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        Some(self.last_drill_at)
    }
    fn max_age(f: &Freshness) -> Span {
        f.dr_drill
    }
}

impl Record for WalSettingsRecord {
    const FILE: &'static str = super::WAL_SETTINGS;
    const TIME_KEY: &'static str = "checked_at";
    fn from_file(f: &StateFile) -> Result<Self> {
        WalSettingsRecord::from_file(f)
    }
    fn judged_at(&self) -> Option<DateTime<Utc>> {
        self.checked_at
    }
    fn max_age(f: &Freshness) -> Span {
        f.contract_status
    }
}

/// What a reader may trust of a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Trust<R> {
    /// Present, well-formed, judged at a time within its max age and not in the future.
    Fresh {
        /// The record.
        record: R,
        /// The time it was judged by.
        at: DateTime<Utc>,
    },
    /// Present and well-formed, but stale or future-dated: the record is
    /// kept (a report still shows the last result), the reason says why it is
    /// not to be trusted.
    Dated {
        /// The record.
        record: R,
        /// [`Untrusted::Stale`] or [`Untrusted::FutureDated`].
        why: Untrusted,
    },
    /// Present and well-formed, but without the time it is judged by (no
    /// complete backup yet, no passed drill yet).
    Undated(R),
    /// Missing, unreadable, refused or corrupt.
    Absent(Untrusted),
}

impl<R> Trust<R> {
    /// The record if it is fresh.
    pub fn fresh(&self) -> Option<&R> {
        match self {
            Trust::Fresh { record, .. } => Some(record),
            _ => None,
        }
    }

    /// The record, fresh or not, if it could be read.
    pub fn record(&self) -> Option<&R> {
        match self {
            Trust::Fresh { record, .. } | Trust::Dated { record, .. } | Trust::Undated(record) => {
                Some(record)
            }
            Trust::Absent(_) => None,
        }
    }

    /// Why it is not to be trusted, if it is not fresh.
    pub fn untrusted(&self) -> Option<&Untrusted> {
        match self {
            Trust::Dated { why, .. } | Trust::Absent(why) => Some(why),
            _ => None,
        }
    }
}

/// Loads a typed record and judges it against its max age in `freshness`.
pub fn load_trusted<R: Record>(
    input: &StateInput,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Trust<R> {
    let record = match load_record(input, R::from_file) {
        Ok(r) => r,
        Err(u) => return Trust::Absent(u),
    };
    let Some(at) = record.judged_at() else {
        return Trust::Undated(record);
    };
    match check_fresh(
        input.path(),
        R::TIME_KEY,
        at,
        now,
        R::max_age(freshness),
        freshness.max_clock_skew,
    ) {
        Ok(()) => Trust::Fresh { record, at },
        Err(why) => Trust::Dated { record, why },
    }
}

/// The state files judged by a timestamp: the files a `fresh:FILE` stage
/// criterion may name.
pub const TIMESTAMPED: [&str; 6] = [
    super::WAL_STATUS,
    super::WAL_SETTINGS,
    super::CONTRACT_STATUS,
    super::BACKUP_STATUS,
    super::RESTORE_DRILL_STATUS,
    super::DR_DRILL_STATUS,
];

/// Whether the state file `name` is fresh, for the stage criterion `fresh:FILE`:
/// the time it was judged by and its max age, or why it is not.
pub fn freshness_of(
    name: &str,
    input: &StateInput,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> std::result::Result<(DateTime<Utc>, &'static str, Span), String> {
    fn judge<R: Record>(
        input: &StateInput,
        f: &Freshness,
        now: DateTime<Utc>,
    ) -> std::result::Result<(DateTime<Utc>, &'static str, Span), String> {
        match load_trusted::<R>(input, f, now) {
            Trust::Fresh { at, .. } => Ok((at, R::TIME_KEY, R::max_age(f))),
            Trust::Dated { why, .. } | Trust::Absent(why) => Err(why.to_string()),
            Trust::Undated(_) => Err(format!("{} has no {}", R::FILE, R::TIME_KEY)),
        }
    }
    match name {
        super::WAL_STATUS => judge::<WalStatusRecord>(input, freshness, now),
        super::CONTRACT_STATUS => judge::<ContractStatusRecord>(input, freshness, now),
        super::BACKUP_STATUS => judge::<BackupStatusRecord>(input, freshness, now),
        super::RESTORE_DRILL_STATUS => judge::<RestoreDrillRecord>(input, freshness, now),
        super::DR_DRILL_STATUS => judge::<DrDrillRecord>(input, freshness, now),
        super::WAL_SETTINGS => judge::<WalSettingsRecord>(input, freshness, now),
        other => Err(format!("{other} has no timestamp ssot judges")),
    }
}
