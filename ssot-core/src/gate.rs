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
//! | `wal.status` readable, fresh, `OK` (startup: without the live probe's `postgres_*` rules) | ✓ | ✓ | ✓ | ✓ |
//! | no other operation holds the lock | ✓ | ✓ | ✓ | ✓ |
//! | disk guard on the target ([`crate::disk`]) | ✓ | ✓ | ✓ | |
//! | `contract.status` readable, fresh, `PASS` | | | ✓ | ✓ |
//! | a liveness probe answers (when a DSN is configured) | ✓ | ✓ | ✓ | |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::check::{Check, Found, GateCheck, GatedFile};
use crate::contract::ContractVerdict;
pub use crate::decision::{Decision, Operation};
use crate::disk::{self, DiskFacts, DiskPolicy};
use crate::state::{
    load_trusted, timestamp, ContractStatusRecord, Record, StateInput, Trust, Untrusted,
    WalStatusRecord,
};
use crate::units::Span;
use crate::wal::{Level, WalRule};

/// Who holds the operation lock, if anyone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct LockFacts {
    /// `None` when the lock is free; else what the holder wrote (operation, pid, time).
    pub held_by: Option<String>,
    /// Set when the lock state itself could not be determined.
    pub error: Option<String>,
}

/// A bounded liveness probe of the server (`SELECT 1`), made by the
/// backup, snapshot and restore gates when a DSN is configured: a status
/// minutes old says nothing about a server frozen since.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessFacts {
    /// The server, as named (masked).
    pub server: String,
    /// Why it did not answer, if it did not.
    #[serde(default)]
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
    /// The liveness probe, when one was made.
    #[serde(default)]
    pub liveness: Option<LivenessFacts>,
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

impl GatePolicy {
    /// The max ages the gate judges by (the others at their defaults).
    pub fn freshness(&self) -> crate::state::Freshness {
        crate::state::Freshness {
            wal_status: self.wal_max_age,
            contract_status: self.contract_max_age,
            max_clock_skew: self.max_clock_skew,
            ..crate::state::Freshness::default()
        }
    }
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

fn untrusted_rule(u: &Untrusted, file: GatedFile) -> GateCheck {
    let found = match u {
        Untrusted::Missing(_) => Found::Missing,
        Untrusted::Unreadable(..) => Found::Unreadable,
        Untrusted::Corrupt(_) => Found::Corrupt,
        Untrusted::Stale { .. } => Found::Stale,
        Untrusted::FutureDated { .. } => Found::FutureDated,
    };
    GateCheck::of(file, found)
}

/// The freshness check of a timestamped record, and the record if it could be
/// read (a stale or future-dated one is still read: its status is shown).
fn trusted_check<R: Record>(
    input: &StateInput,
    file: GatedFile,
    producer: &str,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> (Option<R>, Check) {
    let path = input.path();
    match load_trusted::<R>(input, &policy.freshness(), now) {
        Trust::Fresh { record, at } => (
            Some(record),
            Check::pass(
                GateCheck::of(file, Found::Fresh),
                format!(
                    "{path} {} {} is within {}",
                    R::TIME_KEY,
                    timestamp(at),
                    R::max_age(&policy.freshness())
                ),
            ),
        ),
        Trust::Dated { record, why } => (
            Some(record),
            Check::fail(untrusted_rule(&why, file), why.to_string()),
        ),
        Trust::Undated(record) => (
            Some(record),
            Check::fail(
                GateCheck::of(file, Found::Corrupt),
                format!("{path} has no {}", R::TIME_KEY),
            ),
        ),
        Trust::Absent(u) => {
            let msg = match &u {
                Untrusted::Corrupt(e) => format!("{path} is corrupt: {e}"),
                Untrusted::Missing(_) => format!("{u}: run `{producer}` first"),
                other => other.to_string(),
            };
            (None, Check::fail(untrusted_rule(&u, file), msg))
        }
    }
}

/// The status the startup gate judges: the record's, without the rules
/// that judge a running server through the live probe
/// ([`WalRule::is_probe`]) — a server that is down does not answer,
/// and that must never keep it down — nor, when it did not answer, what the
/// last probe that answered saw of its slots and archiver
/// ([`WalRule::is_server_fact`]). With their reasons, and a note
/// when rules were left out.
fn startup_view(record: &WalStatusRecord) -> (Level, Vec<String>, Option<String>) {
    let rules = record.rules();
    if !rules.iter().any(|r| r.is_probe()) {
        return (record.status, record.reasons.clone(), None);
    }
    let left = |r: WalRule| r.is_probe() || r.is_server_fact();
    let status = rules
        .iter()
        .filter(|r| !left(**r))
        .map(|r| r.level())
        .max()
        .unwrap_or(Level::Ok);
    let (left_out, kept): (Vec<String>, Vec<String>) =
        record.reasons.iter().cloned().partition(|l| {
            crate::state::reason_rule(l).is_some_and(|(_, r)| r.parse().is_ok_and(left))
        });
    let note = format!(
        "left out for startup (a server that is down does not answer, and what it last said of its slots and archiver cannot be acted on until it runs): {}",
        left_out.join("; ")
    );
    (status, kept, Some(note))
}

fn wal_checks(
    op: Operation,
    input: &StateInput,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> Vec<Check> {
    let (record, fresh) = trusted_check::<WalStatusRecord>(
        input,
        GatedFile::WalStatus,
        "ssot wal check",
        policy,
        now,
    );
    let mut checks = vec![fresh];
    let Some(record) = record else {
        return checks;
    };
    let path = input.path();
    let (status, reasons, note) = if op == Operation::Startup {
        startup_view(&record)
    } else {
        (record.status, record.reasons.clone(), None)
    };
    let note = note.map(|n| format!("; {n}")).unwrap_or_default();
    checks.push(if status == Level::Ok {
        Check::pass(
            GateCheck::WalStatusOk,
            format!("WAL status is OK ({path}){note}"),
        )
    } else {
        let why = if reasons.is_empty() {
            String::new()
        } else {
            format!(": {}", reasons.join("; "))
        };
        Check::fail(
            GateCheck::WalStatusOk,
            format!("WAL status is {status}, operations need OK{why}{note}"),
        )
    });
    checks
}

fn contract_checks(
    op: Operation,
    input: Option<&StateInput>,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> Vec<Check> {
    let Some(input) = input else {
        return vec![Check::fail(
            GateCheck::ContractStatusMissing,
            "contract.status was not read: run `ssot contract check` first".into(),
        )];
    };
    let (record, fresh) = trusted_check::<ContractStatusRecord>(
        input,
        GatedFile::ContractStatus,
        "ssot contract check",
        policy,
        now,
    );
    let mut checks = vec![fresh];
    let Some(record) = record else {
        return checks;
    };
    let path = input.path();
    checks.push(match record.verdict {
        ContractVerdict::Pass => Check::pass(GateCheck::ContractPass, "architecture contract holds".into()),
        ContractVerdict::Fail => Check::fail(
            GateCheck::ContractPass,
            format!("architecture contract fails ({path}): see the contract check"),
        ),
        ContractVerdict::Unknown if op == Operation::Startup && only_runtime_unknown(&record) => {
            Check::pass(
                GateCheck::ContractPass,
                format!(
                    "architecture contract holds as declared ({path}); what only a running server can show is unknown ({}): a server that is down must be startable, and its next check judges it",
                    unknown_ids(&record).join(", ")
                ),
            )
        }
        ContractVerdict::Unknown => Check::fail(
            GateCheck::ContractPass,
            format!(
                "architecture contract is UNKNOWN ({path}): some invariant could not be checked"
            ),
        ),
    });
    checks
}

/// The invariants a record lists as unknown.
fn unknown_ids(record: &ContractStatusRecord) -> Vec<&str> {
    record
        .invariants
        .iter()
        .filter(|(_, s)| **s == crate::contract::InvariantStatus::Unknown)
        .map(|(id, _)| id.as_str())
        .collect()
}

/// Whether every unknown invariant judges a running server
/// ([`InvariantId::judges_running_server`](crate::contract::InvariantId::judges_running_server):
/// `runtime.*`, `processes.*`, `conf.parameters_known`): its settings, its
/// processes, whether it answered. The declared side (the StatefulSet's
/// args or the configuration files) was checked and held. An id ssot does
/// not know (a hand-edited record) is not one of them: it denies.
fn only_runtime_unknown(record: &ContractStatusRecord) -> bool {
    let unknown = unknown_ids(record);
    !unknown.is_empty()
        && unknown.iter().all(|id| {
            id.parse::<crate::contract::InvariantId>()
                .is_ok_and(crate::contract::InvariantId::judges_running_server)
        })
}

/// Decides whether `op` may proceed. Pure: same inputs, same decision.
pub fn evaluate(
    op: Operation,
    facts: &GateFacts,
    policy: &GatePolicy,
    now: DateTime<Utc>,
) -> Decision {
    let mut checks = wal_checks(op, &facts.wal_status, policy, now);
    if op.writes_target() {
        match &facts.disk {
            Some(d) => checks.extend(disk::guard(d, &policy.disk)),
            None => checks.push(Check::fail(
                GateCheck::TargetConfigured,
                format!("no target directory for {op}: give a target or set gate.targets.{op}"),
            )),
        }
    }
    if op.needs_contract() {
        checks.extend(contract_checks(
            op,
            facts.contract_status.as_ref(),
            policy,
            now,
        ));
    }
    if let Some(l) = &facts.liveness {
        checks.push(match &l.error {
            None => Check::pass(
                GateCheck::PostgresAnswers,
                format!("PostgreSQL at {} answered a liveness probe", l.server),
            ),
            Some(why) => {
                let class = crate::wal::ProbeFailure::classify(why);
                Check::fail(
                    GateCheck::PostgresAnswers,
                    format!(
                        "PostgreSQL at {} did not answer a liveness probe ({}): {why} ({})",
                        l.server,
                        class.rule(),
                        class.advice()
                    ),
                )
            }
        });
    }
    checks.push(match (&facts.lock.held_by, &facts.lock.error) {
        (_, Some(e)) => Check::fail(
            GateCheck::OperationLock,
            format!("cannot determine the operation lock: {e}"),
        ),
        (Some(holder), None) => Check::fail(
            GateCheck::OperationLock,
            format!("another operation holds the lock: {holder}"),
        ),
        (None, None) => Check::pass(
            GateCheck::OperationLock,
            "no other operation is running".into(),
        ),
    });
    checks.sort_by_key(|c| c.passed);
    Decision {
        operation: op,
        allowed: checks.iter().all(|c| c.passed),
        decided_at: now,
        target: facts
            .disk
            .as_ref()
            .filter(|_| op.writes_target())
            .map(|d| d.target.path.clone()),
        reasons: checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statefile::StateFile;

    /// A `contract.status` with these invariants unknown.
    fn unknown(ids: &[&str]) -> ContractStatusRecord {
        let mut text = format!(
            "contract_status=UNKNOWN\nchecked_at=2026-02-05T12:00:00Z\nunknown={}\n",
            ids.join(",")
        );
        for id in ids {
            text.push_str(&format!("invariant.{id}=unknown\n"));
        }
        let file = StateFile::parse(text.as_bytes(), "contract.status").unwrap();
        ContractStatusRecord::from_file(&file).unwrap()
    }

    /// Startup may proceed on an UNKNOWN contract only when every unknown
    /// invariant is one that judges a running server; an id ssot does not
    /// know (whatever its prefix) is not one of them.
    #[test]
    fn only_invariants_that_judge_a_running_server_may_be_unknown_at_startup() {
        let running = [
            "conf.parameters_known",
            "processes.no_archiver",
            "runtime.max_wal_size",
            "runtime.reachable",
        ];
        assert!(only_runtime_unknown(&unknown(&running)));
        assert!(!only_runtime_unknown(&unknown(&[
            "conf.max_wal_size",
            "runtime.reachable"
        ])));
        assert!(!only_runtime_unknown(&unknown(&[
            "runtime.not_an_invariant"
        ])));
        assert!(!only_runtime_unknown(&unknown(&[])));
    }
}
