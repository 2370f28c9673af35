//! # ssot-core
//!
//! The policy core of **ssot**, which keeps a single-instance PostgreSQL
//! operationally safe and honest about itself: a deterministic WAL status,
//! gates that stop snapshot/backup/restore when WAL or disk is unsafe, and
//! the `key=value` state files that record both.
//!
//! ## Overview
//!
//! Three ideas run through the crate:
//!
//! 1. **Pure policy.** [`wal::evaluate`] and [`gate::evaluate`] are functions
//!    of (facts, policy, `now`). They never read the clock, the filesystem or
//!    the environment, so the same inputs always give the same answer and
//!    tests drive them with literal facts.
//! 2. **Facts through ports.** The traits in [`ports`] bring facts in;
//!    [`host`] implements them with std, nix and fs2 and is the only module
//!    that does I/O. [`service`] strings ports and policy together into whole
//!    operations (`check_wal`, `gate`) for the CLI and the bindings.
//! 3. **Fail closed, with reasons.** Every decision is a serializable value
//!    that carries its reasons. A missing, stale, corrupt, unreadable or
//!    future-dated state file denies, each with its own message.
//!
//! ## Examples
//!
//! Evaluate a WAL sample and a backup gate from literal facts:
//!
//! ```
//! use ssot_core::gate::{self, GateFacts, GatePolicy, LockFacts, Operation};
//! use ssot_core::state::StateInput;
//! use ssot_core::wal::{self, Level, VolumeStats, WalFacts, WalPolicy};
//!
//! let now = "2026-02-05T12:00:00Z".parse()?;
//! // 5GB of WAL against max_wal_size 4GB + wal_keep_size 0: over the soft limit.
//! let facts = WalFacts::new(5 << 30, 320, VolumeStats { total_bytes: 100 << 30, available_bytes: 60 << 30 });
//! let report = wal::evaluate(&facts, &WalPolicy::default(), now);
//! assert_eq!(report.status, Level::NearLimit);
//! assert_eq!(report.reasons[0].rule, "wal_over_soft_limit");
//!
//! // A gate with no wal.status at all denies, and says why.
//! let facts = GateFacts {
//!     wal_status: StateInput::Missing { path: "/opt/ssot/state/wal.status".into() },
//!     contract_status: None,
//!     disk: None,
//!     lock: LockFacts::default(),
//! };
//! let decision = gate::evaluate(Operation::Backup, &facts, &GatePolicy::default(), now);
//! assert!(!decision.allowed);
//! assert_eq!(decision.reasons[0].rule, "wal_status_missing");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Modules
//!
//! | module | what it holds |
//! |---|---|
//! | [`wal`] | WAL facts, policy, the 4-level status with hysteresis |
//! | [`disk`] | the disk guard |
//! | [`decision`] | gated operations and decisions with reasons |
//! | [`gate`] | snapshot/backup/restore/startup decisions |
//! | [`statefile`] | the `key=value` codec |
//! | [`state`] | the state directory's files as typed records |
//! | [`config`] | `ssot.toml` with the seed defaults |
//! | [`units`] | PostgreSQL sizes and durations (`4GB`, `5min`) |
//! | [`contract`] | the architecture contract: invariants, drift, limitations |
//! | [`evidence`] | backups, restore drills, DR drills as recorded facts |
//! | [`stages`] | the stage registry and its evidence criteria |
//! | [`report`] | the single view of truth and its renderings |
//! | [`retention`] | retention plans: restic buckets, floors, budget |
//! | [`ports`], [`host`] | fact-gathering traits and their std implementations |
//! | [`service`] | whole operations for the CLI and bindings |

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod check;
pub mod config;
pub mod contract;
pub mod decision;
pub mod disk;
mod error;
pub mod evidence;
pub mod gate;
pub mod host;
pub mod inputs;
pub mod num;
pub mod ports;
pub mod report;
pub mod retention;
pub mod service;
pub mod stages;
pub mod state;
pub mod statefile;
pub mod time;
pub mod units;
pub mod wal;

pub use error::{Error, Result};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
