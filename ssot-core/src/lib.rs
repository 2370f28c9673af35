//! # ssot-core
//!
//! The policy core of **ssot**, which keeps a single-instance PostgreSQL
//! operationally safe and honest about itself: a deterministic WAL status,
//! gates that stop snapshot/backup/restore when WAL or disk is unsafe, and
//! the `key=value` state files that record both; retention that never loses
//! the last good backup; the architecture contract; one report.
//!
//! ## Start here: [`Ssot`]
//!
//! [`Ssot`] holds the effective configuration and the ports facts come in
//! through, and has one method per operation of the `ssot` CLI. Each takes a
//! request (a struct that also deserializes from the CLI's field names) and
//! `now`, and returns a result that serializes to the CLI's JSON, prints as
//! its text and knows its exit code ([`Outcome`]). An embedder's day — gate
//! a backup over a state directory, plan retention over a catalog, print the
//! single view of truth:
//!
//! ```
//! use ssot_core::config::Config;
//! use ssot_core::gate::Operation;
//! use ssot_core::retention::{Artifact, RetentionPolicyPatch};
//! use ssot_core::{Catalog, GateRequest, Outcome, ReportRequest, RetentionRequest, Ssot};
//!
//! let dir = tempfile::tempdir()?;
//! let ssot = Ssot::with_state_dir(Config::default(), dir.path().join("state"));
//! let now = "2026-02-05T12:00:00Z".parse()?;
//!
//! // No `wal check` has recorded wal.status yet: the gate fails closed, and says why.
//! // A gate authorises work, so it decides at the real time (`None`: no time given).
//! let decision = ssot.gate(&GateRequest::new(Operation::Backup), None)?;
//! assert!(!decision.allowed);
//! assert_eq!(decision.exit_code(), 1);
//! assert!(decision.to_string().contains("DENY wal_status_missing"));
//!
//! // Retention over a catalog: keep 2 daily of 4 nightly dumps.
//! let night = |d| Artifact::new(format!("dump_{d}.sql.gz"), now - chrono::TimeDelta::days(d));
//! let request = RetentionRequest {
//!     catalog: Some(Catalog::Artifacts((0..4).map(night).collect())),
//!     policy: RetentionPolicyPatch { keep_daily: Some(2), ..Default::default() },
//!     ..Default::default()
//! };
//! let planned = ssot.plan_retention(&request, now)?;
//! assert_eq!(planned.plan.summary.deleted, 2);
//!
//! // The single view of truth: DOWN, since nothing has measured WAL.
//! let report = ssot.report(&ReportRequest::default(), now);
//! assert_eq!(report.exit_code(), 2);
//! print!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `cargo run --example embed` runs a longer version against a real pg_wal.
//!
//! ## How it is built
//!
//! 1. **Pure policy.** [`wal::evaluate`], [`gate::evaluate`],
//!    [`retention::plan`], [`contract::evaluate`] and [`report::build`] are
//!    functions of (facts, policy, `now`). They never read the clock, the
//!    filesystem or the environment, so the same inputs always give the same
//!    answer and tests drive them with literal facts. Without the default
//!    `host` feature only they and [`Ssot::with_host`] are compiled (no nix,
//!    fs2, walkdir).
//! 2. **Facts through ports.** The traits in [`ports`] bring facts in;
//!    [`host`] implements them with std, nix and fs2 and is the only module
//!    that does I/O. [`Ssot`] strings ports and policy together into whole
//!    operations; [`Ssot::with_host`] takes fakes.
//! 3. **Fail closed, with reasons.** Every decision is a serializable value
//!    that carries its reasons. A missing, stale, corrupt, unreadable or
//!    future-dated state file denies, each with its own message; every
//!    failure is an [`Error`] variant of its own kind.
//!
//! The pure evaluators can be called directly, with no I/O at all:
//!
//! ```
//! use ssot_core::gate::{self, GateFacts, GatePolicy, LockFacts, Operation};
//! use ssot_core::state::StateInput;
//! use ssot_core::wal::{self, Level, VolumeStats, WalFacts, WalPolicy};
//!
//! let now = "2026-02-05T12:00:00Z".parse()?;
//! // 5GB of WAL against max_wal_size 4GB + wal_keep_size 0: over the soft limit.
//! let facts = WalFacts::new(5 << 30, 320, VolumeStats::new(100 << 30, 60 << 30));
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
//!     liveness: None,
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
//! | [`Ssot`], [`request`] | the entry point, its requests and results |
//! | [`inputs`] | parsers of tool output: psql, ps, kubectl, /proc/mounts |
//! | [`gated`] | the programs only an allowed decision may run, and their search |
//! | [`ports`], [`host`] | fact-gathering traits and their std implementations |

#![deny(missing_docs)]
// docs.rs (`--cfg docsrs`, nightly) marks what needs the `host` feature.
#![cfg_attr(docsrs, feature(doc_cfg))]
// The one exception is `host::process` (pre_exec and sigaction, which have
// no safe std or nix API), allowed there alone with a SAFETY note per block.
#![deny(unsafe_code)]

/// The name-side of an id enum with `ALL` and `as_str()`: `Display` (its
/// name), `FromStr` (by name, else [`Error::InvalidName`] with `what` and
/// `message`) and comparison with `str`.
macro_rules! named_id {
    ($ty:ty, $what:literal, $message:literal) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::Error> {
                <$ty>::ALL
                    .into_iter()
                    .find(|x| x.as_str() == s)
                    .ok_or_else(|| $crate::Error::InvalidName {
                        what: $what,
                        value: s.into(),
                        message: $message.into(),
                    })
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

pub mod check;
pub mod config;
pub mod contract;
pub mod decision;
pub mod disk;
mod error;
pub mod evidence;
pub mod gate;
pub mod gated;
#[cfg(feature = "host")]
#[cfg_attr(docsrs, doc(cfg(feature = "host")))]
pub mod host;
pub mod inputs;
pub mod num;
mod ops;
pub mod ports;
pub mod report;
pub mod request;
pub mod retention;
#[cfg(feature = "schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
pub mod schema;
pub mod stages;
pub mod state;
pub mod statefile;
pub mod time;
pub mod units;
pub mod wal;

pub use error::{Error, Result};
pub use ops::{
    exit, json, parse_contract_inputs, report_from_files, write_json, ApplyMode, ApplyOutcome,
    BackupRecorded, BackupRequest, Brief, Catalog, ConfigView, ContractRequest, DrDrillRecorded,
    DrDrillRequest, DrillResult, GateRequest, InlineText, Input, Outcome, Ports, ReportFormat,
    ReportRequest, RestoreDrillRecorded, RestoreDrillRequest, RetentionPlanned, RetentionRequest,
    Ssot, StageChecks, StatusView, ToolApply, VerifyOutcome, WalCheck, WalCheckRequest,
    DRILL_MARKER,
};

/// The documentation's Rust examples (the book's "Embedding" page), compiled and
/// run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/src/embedding.md")]
pub struct ReadmeDoctests;

/// The crate's own README (its crates.io page), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
