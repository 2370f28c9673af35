//! What a gate decides: the gated [`Operation`]s and the [`Decision`] with
//! its reasons. Its own module so the gate log's reader
//! ([`crate::state::GateLog`]) and the gate evaluator both use it without
//! depending on each other.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::Check;
use crate::error::Error;

/// A gated operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// A snapshot of the SSOT PVC (seed STAGE 7).
    Snapshot,
    /// A backup, e.g. `pg_dump` (seed STAGE 8).
    Backup,
    /// A restore (or restore drill).
    Restore,
    /// Starting PostgreSQL (seed STAGE 5 startup gate).
    Startup,
}

impl Operation {
    /// All operations, in order.
    pub const ALL: [Operation; 4] = [
        Operation::Snapshot,
        Operation::Backup,
        Operation::Restore,
        Operation::Startup,
    ];

    /// Lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Snapshot => "snapshot",
            Operation::Backup => "backup",
            Operation::Restore => "restore",
            Operation::Startup => "startup",
        }
    }

    /// Whether the operation writes to a target directory (and so needs the disk guard).
    pub const fn writes_target(self) -> bool {
        !matches!(self, Operation::Startup)
    }

    /// Whether the operation requires the architecture contract to hold.
    pub const fn needs_contract(self) -> bool {
        matches!(self, Operation::Restore | Operation::Startup)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Operation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| Error::InvalidName {
                what: "operation",
                value: s.into(),
                message: "expected snapshot, backup, restore or startup".into(),
            })
    }
}

/// A gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct Decision {
    /// The operation asked about.
    pub operation: Operation,
    /// True only when every check passed.
    pub allowed: bool,
    /// When the decision was made.
    pub decided_at: DateTime<Utc>,
    /// The target directory judged, for an operation that writes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Every check, failed ones first.
    pub reasons: Vec<Check>,
}

impl Decision {
    /// The checks that failed.
    pub fn denials(&self) -> impl Iterator<Item = &Check> {
        self.reasons.iter().filter(|c| !c.passed)
    }
}
