//! Gates: may a snapshot, backup, restore or startup proceed now?
//! (seed: WAL gate `wal_gate.sh`, disk guard, startup gate.)
//!
//! [`evaluate`] takes the raw state files the host found ([`GateFacts`]),
//! the [`GatePolicy`] and `now`, and returns a [`Decision`] that lists every
//! check with its outcome. The operation is allowed only when every check
//! passes. It fails closed: a missing, unreadable, corrupt, stale or
//! future-dated state file denies, each with its own message, and there is
//! no way to skip a check.
//!
//! | check | snapshot | backup | restore | startup |
//! |---|---|---|---|---|
//! | `wal.status` readable, fresh, `OK` | ✓ | ✓ | ✓ | ✓ |
//! | no other operation holds the lock | ✓ | ✓ | ✓ | ✓ |
//! | disk guard on the target ([`crate::disk`]) | ✓ | ✓ | ✓ | |
//! | `contract.status` readable, fresh, `PASS` | | | ✓ | ✓ |

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::check::Check;
use crate::contract::ContractVerdict;
use crate::disk::{self, DiskFacts, DiskPolicy};
use crate::error::Error;
use crate::state::{
    check_fresh, load_required, timestamp, ContractStatusRecord, StateInput, Untrusted,
    WalStatusRecord,
};
use crate::units::Span;
use crate::wal::Level;

/// A gated operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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

/// Who holds the operation lock, if anyone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LockFacts {
    /// `None` when the lock is free; else what the holder wrote (operation, pid, time).
    pub held_by: Option<String>,
    /// Set when the lock state itself could not be determined.
    pub error: Option<String>,
}

/// Everything a gate looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateFacts {
    /// `wal.status` as found.
    pub wal_status: StateInput,
    /// `contract.status` as found (read for restore and startup).
    #[serde(default)]
    pub contract_status: Option<StateInput>,
    /// Disk-guard facts for the target; `None` when no target is known.
    #[serde(default)]
    pub disk: Option<DiskFacts>,
    /// The operation lock.
    #[serde(default)]
    pub lock: LockFacts,
}

/// Freshness limits and the disk floors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatePolicy {
    /// Oldest acceptable `wal.status`.
    pub wal_max_age: Span,
    /// Oldest acceptable `contract.status`.
    pub contract_max_age: Span,
    /// How far in the future a timestamp may be before it counts as future-dated.
    pub max_clock_skew: Span,
    /// Free-space floors on the target.
    pub disk: DiskPolicy,
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            wal_max_age: Span::mins(10),
            contract_max_age: Span::hours(25),
            max_clock_skew: Span::mins(1),
            disk: DiskPolicy::default(),
        }
    }
}

/// A gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[must_use]
pub struct Decision {
    /// The operation asked about.
    pub operation: Operation,
    /// True only when every check passed.
    pub allowed: bool,
    /// When the decision was made.
    pub decided_at: DateTime<Utc>,
    /// Every check, failed ones first.
    pub reasons: Vec<Check>,
}

impl Decision {
    /// The checks that failed.
    pub fn denials(&self) -> impl Iterator<Item = &Check> {
        self.reasons.iter().filter(|c| !c.passed)
    }
}

fn untrusted_rule(u: &Untrusted, base: &str) -> String {
    let kind = match u {
        Untrusted::Missing(_) => "missing",
        Untrusted::Unreadable(..) => "unreadable",
        Untrusted::Corrupt(_) => "corrupt",
        Untrusted::Stale { .. } => "stale",
        Untrusted::FutureDated { .. } => "future_dated",
    };
    format!("{base}_{kind}")
}

/// Where a timestamped state record comes from and how old it may be.
struct Source<'a> {
    input: &'a StateInput,
    /// Rule-id prefix: `wal_status`, `contract_status`.
    base: &'static str,
    max_age: Span,
    /// The command that writes the file, named when it is missing.
    producer: &'static str,
}

/// Loads a timestamped record and checks its freshness: the record if it
/// could be read, and the check made (a failure names why it is untrusted).
fn load_fresh<R>(
    src: Source,
    policy: &GatePolicy,
    now: DateTime<Utc>,
    parse: impl FnOnce(&crate::statefile::StateFile) -> crate::Result<R>,
    checked_at: impl Fn(&R) -> DateTime<Utc>,
) -> (Option<R>, Check) {
    let path = src.input.path();
    let record = load_required(src.input)
        .and_then(|f| parse(&f).map_err(|e| Untrusted::Corrupt(e.to_string())));
    let record = match record {
        Ok(r) => r,
        Err(u) => {
            let msg = match &u {
                Untrusted::Corrupt(e) => format!("{path} is corrupt: {e}"),
                Untrusted::Missing(_) => format!("{u}: run `{}` first", src.producer),
                other => other.to_string(),
            };
            return (None, Check::fail(&untrusted_rule(&u, src.base), msg));
        }
    };
    let at = checked_at(&record);
    let check = match check_fresh(path, at, now, src.max_age, policy.max_clock_skew) {
        Ok(()) => Check::pass(
            &format!("{}_fresh", src.base),
            format!(
                "{path} checked_at {} is within {}",
                timestamp(at),
                src.max_age
            ),
        ),
        Err(u) => Check::fail(&untrusted_rule(&u, src.base), u.to_string()),
    };
    (Some(record), check)
}

fn wal_checks(input: &StateInput, policy: &GatePolicy, now: DateTime<Utc>) -> Vec<Check> {
    let src = Source {
        input,
        base: "wal_status",
        max_age: policy.wal_max_age,
        producer: "ssot wal check",
    };
    let (record, fresh) = load_fresh(src, policy, now, WalStatusRecord::from_file, |r| {
        r.checked_at
    });
    let mut checks = vec![fresh];
    let Some(record) = record else {
        return checks;
    };
    let path = input.path();
    checks.push(if record.status == Level::Ok {
        Check::pass("wal_status_ok", format!("WAL status is OK ({path})"))
    } else {
        let why = if record.reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", record.reasons.join("; "))
        };
        Check::fail(
            "wal_status_ok",
            format!("WAL status is {}, operations need OK{why}", record.status),
        )
    });
    checks
}

fn contract_checks(
    input: Option<&StateInput>,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> Vec<Check> {
    let Some(input) = input else {
        return vec![Check::fail(
            "contract_status_missing",
            "contract.status was not read: run `ssot contract check` first".into(),
        )];
    };
    let src = Source {
        input,
        base: "contract_status",
        max_age: policy.contract_max_age,
        producer: "ssot contract check",
    };
    let (record, fresh) = load_fresh(src, policy, now, ContractStatusRecord::from_file, |r| {
        r.checked_at
    });
    let mut checks = vec![fresh];
    let Some(record) = record else {
        return checks;
    };
    let path = input.path();
    checks.push(match record.verdict {
        ContractVerdict::Pass => Check::pass("contract_pass", "architecture contract holds".into()),
        ContractVerdict::Fail => Check::fail(
            "contract_pass",
            format!("architecture contract fails ({path}): see `ssot contract check`"),
        ),
        ContractVerdict::Unknown => Check::fail(
            "contract_pass",
            format!(
                "architecture contract is UNKNOWN ({path}): some invariant could not be checked"
            ),
        ),
    });
    checks
}

/// Decides whether `op` may proceed. Pure: same inputs, same decision.
pub fn evaluate(
    op: Operation,
    facts: &GateFacts,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> Decision {
    let mut checks = wal_checks(&facts.wal_status, policy, now);
    if op.writes_target() {
        match &facts.disk {
            Some(d) => checks.extend(disk::guard(d, &policy.disk)),
            None => checks.push(Check::fail(
                "target_configured",
                format!("no target directory for {op}: give a target or set gate.targets.{op}"),
            )),
        }
    }
    if op.needs_contract() {
        checks.extend(contract_checks(facts.contract_status.as_ref(), policy, now));
    }
    checks.push(match (&facts.lock.held_by, &facts.lock.error) {
        (_, Some(e)) => Check::fail(
            "operation_lock",
            format!("cannot determine the operation lock: {e}"),
        ),
        (Some(holder), None) => Check::fail(
            "operation_lock",
            format!("another operation holds the lock: {holder}"),
        ),
        (None, None) => Check::pass("operation_lock", "no other operation is running".into()),
    });
    checks.sort_by_key(|c| c.passed);
    Decision {
        operation: op,
        allowed: checks.iter().all(|c| c.passed),
        decided_at: now,
        reasons: checks,
    }
}
