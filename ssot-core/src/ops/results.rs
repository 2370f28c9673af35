//! Results of [`crate::Ssot`]'s operations that are not a core type already.
//! Each serializes to the JSON the CLI prints and renders as its text
//! (`Display`, in `text.rs`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use crate::config::Config;
use crate::evidence::{BackupEvidence, DrOutcome, RestoreDrillEvidence};
use crate::request::DrillResult;
use crate::retention::RetentionPlan;
use crate::stages::StageCheck;
use crate::state::{self, timestamp, StateInput};
use crate::statefile::StateFile;
use crate::units::Span;

/// A retention plan for a profile. Serializes as the plan itself.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct RetentionPlanned {
    /// The profile planned for (`default` without one).
    pub profile: String,
    /// The plan.
    pub plan: RetentionPlan,
    /// For a tool's catalog (not ssot's own): the tool's commands (argv)
    /// that delete what the plan deletes; empty for ssot's own catalog and
    /// for a refused plan.
    pub commands: Vec<Vec<String>>,
}

impl Serialize for RetentionPlanned {
    /// The plan's JSON, with `commands` when there are any.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.commands.is_empty() {
            return self.plan.serialize(s);
        }
        #[derive(Serialize)]
        struct WithCommands<'a> {
            #[serde(flatten)]
            plan: &'a RetentionPlan,
            commands: &'a [Vec<String>],
        }
        WithCommands {
            plan: &self.plan,
            commands: &self.commands,
        }
        .serialize(s)
    }
}

/// Every stage claim checked against the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
#[must_use]
pub struct StageChecks(pub Vec<StageCheck>);

/// A backup recorded in `backup.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct BackupRecorded {
    /// What was recorded: the location resolved, the size measured, whether
    /// it is on another filesystem than PGDATA.
    pub evidence: BackupEvidence,
    /// Where it was recorded.
    pub state_file: String,
}

/// A restore drill recorded in `restore_drill.status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct RestoreDrillRecorded {
    /// What was recorded.
    pub evidence: RestoreDrillEvidence,
    /// pass or fail.
    pub result: DrillResult,
    /// The `.verified` sidecar written, if one was asked for and the drill passed.
    pub marked_verified: Option<PathBuf>,
}

/// What `ssot verify` found: each recorded backup re-read and compared
/// with its recorded checksum (recorded in `verify.status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[must_use]
pub struct VerifyOutcome {
    /// One check per recorded backup, newest first.
    pub checks: Vec<crate::evidence::BackupCheck>,
    /// How many failed.
    pub failed: usize,
    /// Where the findings were recorded.
    pub state_file: String,
}

/// A DR drill recorded in `dr_drill.status`. Serializes as its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct DrDrillRecorded {
    /// What was simulated.
    pub scenario: String,
    /// Measured RTO and RPO against the targets.
    pub outcome: DrOutcome,
    /// The RTO target.
    pub rto_target: Span,
    /// The RPO target.
    pub rpo_target: Span,
}

impl Serialize for DrDrillRecorded {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.outcome.serialize(s)
    }
}

/// The state files as they are (`ssot status`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct StatusView {
    /// The state directory.
    pub state_dir: String,
    /// As of.
    pub now: DateTime<Utc>,
    /// Each known state file as read.
    pub files: Vec<(&'static str, StateInput)>,
}

/// `wal.last_check` and `active_pvc.list` hold plain lines; the rest are `key=value`.
pub(super) fn is_line_file(name: &str) -> bool {
    matches!(name, state::WAL_LAST_CHECK | state::ACTIVE_PVC_LIST)
}

/// A `key=value` state file parsed and validated as the readers would.
pub(super) fn parsed(name: &str, path: &str, content: &[u8]) -> crate::Result<StateFile> {
    StateFile::parse(content, path).and_then(|f| state::validate(name, &f).map(|()| f))
}

fn file_value(name: &str, input: &StateInput) -> Value {
    match input {
        StateInput::Missing { path } => json!({"state": "missing", "path": path}),
        StateInput::Unreadable { path, error } => {
            json!({"state": "unreadable", "path": path, "error": error})
        }
        StateInput::Invalid { path, problem } => {
            json!({"state": "invalid", "path": path, "error": problem})
        }
        StateInput::Present { path, content } if is_line_file(name) => {
            let text = String::from_utf8_lossy(content);
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            json!({"state": "present", "path": path, "lines": lines})
        }
        StateInput::Present { path, content } => match parsed(name, path, content) {
            Ok(f) => {
                let map: BTreeMap<&str, &str> = f.pairs().collect();
                json!({"state": "present", "path": path, "values": map})
            }
            Err(e) => json!({"state": "corrupt", "path": path, "error": e.to_string()}),
        },
    }
}

impl Serialize for StatusView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let files: BTreeMap<&str, Value> = self
            .files
            .iter()
            .map(|(n, i)| (*n, file_value(n, i)))
            .collect();
        json!({"now": timestamp(self.now), "files": files}).serialize(s)
    }
}

/// The effective configuration (`ssot config show`). Serializes as the configuration.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct ConfigView {
    /// Where it came from (`built-in defaults + /opt/ssot/ssot.toml`).
    pub origin: String,
    /// The configuration.
    pub config: Config,
}

impl Serialize for ConfigView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}
