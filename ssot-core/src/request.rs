//! Requests: what each [`crate::Ssot`] operation is asked to do.
//!
//! Every request derives `Deserialize` with the field names of the CLI's
//! flags (`--keep-daily` ↔ `keep_daily`), refuses unknown fields (a typo
//! never silently falls back to a default), and leaves to the core every
//! default the CLI used to fill in: PGDATA from the configuration, the
//! backup location from `gate.targets.backup`, the retention root from the
//! profile. So a Python dict, a Rhai map and the CLI's flags mean the same.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decision::Operation;
use crate::evidence::BackupResult;
use crate::retention::{Artifact, RetentionPolicyPatch};
use crate::units::ByteSize;

/// An input the core reads: a file (for the standard host `-` is standard
/// input), or text given inline with a name for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Input {
    /// A file to read.
    Path(PathBuf),
    /// Text given inline: `{"text": "...", "origin": "kubectl get sts"}`.
    Text(InlineText),
}

/// Text given inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineText {
    /// The content.
    pub text: String,
    /// What it is, for messages [default: `inline`].
    #[serde(default = "inline")]
    pub origin: String,
}

fn inline() -> String {
    "inline".into()
}

impl Input {
    /// Inline text with a name for messages.
    pub fn text(text: impl Into<String>, origin: impl Into<String>) -> Input {
        Input::Text(InlineText {
            text: text.into(),
            origin: origin.into(),
        })
    }

    /// True when this is standard input (`-`).
    pub fn is_stdin(&self) -> bool {
        matches!(self, Input::Path(p) if p.as_os_str() == "-")
    }
}

impl From<PathBuf> for Input {
    fn from(p: PathBuf) -> Self {
        Input::Path(p)
    }
}

/// `wal check`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WalCheckRequest {
    /// PostgreSQL data directory [default: the configuration's `postgres.pgdata`].
    pub pgdata: Option<PathBuf>,
    /// Replication slots: a JSON array, or `psql -AtF,` output of
    /// `slot_name,active,wal_status,retained_bytes` [default: from the live
    /// probe, when there is one].
    pub slots: Option<Input>,
    /// The server to probe live (libpq connection string or URI) [default:
    /// the configuration's `postgres.dsn`; none: no probe].
    pub dsn: Option<String>,
}

/// `gate OP`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRequest {
    /// The operation.
    pub operation: Operation,
    /// Where it writes \[default: `gate.targets.<operation>` in the configuration\].
    #[serde(default)]
    pub target: Option<PathBuf>,
    /// PGDATA, whose volume (and pg_wal's) the target must differ from
    /// [default: the configuration's `postgres.pgdata`].
    #[serde(default)]
    pub pgdata: Option<PathBuf>,
    /// Expected bytes written [default: the size of the newest file in the target].
    #[serde(default)]
    pub estimate: Option<ByteSize>,
}

impl GateRequest {
    /// A request for `operation` with every default.
    pub fn new(operation: Operation) -> GateRequest {
        GateRequest {
            operation,
            target: None,
            pgdata: None,
            estimate: None,
        }
    }
}

/// Where a retention catalog comes from: the artifacts themselves, or an
/// input holding their JSON array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Catalog {
    /// The artifacts.
    Artifacts(Vec<Artifact>),
    /// A file (or inline text) holding a JSON array of artifacts.
    Input(Input),
}

/// `retention plan` and `retention apply`: which artifacts, under which policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionRequest {
    /// A profile from the configuration (`[retention.NAME]`); its root,
    /// pattern and policy are the defaults of everything below.
    pub profile: Option<String>,
    /// Artifacts are the entries of this directory [default: the profile's root].
    pub dir: Option<PathBuf>,
    /// strftime pattern of the creation time in entry names.
    pub pattern: Option<String>,
    /// A catalog of artifacts instead of a directory.
    pub catalog: Option<Catalog>,
    /// The format of a catalog input: `ssot` (a JSON array of artifacts,
    /// the default) or a tool's own listing (`restic`: `restic snapshots
    /// --json`), whose plans print the tool's delete commands.
    pub catalog_format: crate::retention::CatalogFormat,
    /// With a catalog: the directory where the artifact ids are entries (needed to apply).
    pub root: Option<PathBuf>,
    /// PGDATA, which an artifact root must never hold [default: the configuration's].
    pub pgdata: Option<PathBuf>,
    /// Policy keys overriding the profile's.
    pub policy: RetentionPolicyPatch,
}

/// `contract check`: each input optional; what is not given is UNKNOWN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractRequest {
    /// `kubectl get sts NAME -o json` (the source of truth).
    pub statefulset: Option<Input>,
    /// `psql -AtF',' -c "select name,setting,unit from pg_settings"` output, or JSON.
    pub settings: Option<Input>,
    /// `ps -eo args` or `ps aux` output from the PostgreSQL container.
    pub processes: Option<Input>,
    /// `kubectl get pvc -o json`.
    pub pvcs: Option<Input>,
    /// `active_pvc.list` [default: the state directory's, if present].
    pub active_pvcs: Option<Input>,
    /// `postgresql.auto.conf` [default on a host: the data directory's].
    pub auto_conf: Option<Input>,
    /// Replication slots (as for [`WalCheckRequest::slots`]).
    pub slots: Option<Input>,
    /// `/proc/mounts` (for the filesystem-quota limitation).
    pub mounts: Option<Input>,
    /// `postgresql.conf`, the truth on a host; its includes are read when
    /// it is a path [default on a host: the live probe's `config_file`,
    /// else PGDATA's `postgresql.conf` if there is one].
    pub postgresql_conf: Option<Input>,
    /// The server to probe live [default: `postgres.dsn`]: `pg_settings`,
    /// slots and backends stand in for the inputs not given.
    pub dsn: Option<String>,
    /// PGDATA [default: `postgres.pgdata`], for the host's volume invariant.
    pub pgdata: Option<PathBuf>,
}

impl ContractRequest {
    /// The inputs with their request field names, in order.
    pub fn inputs(&self) -> [(&'static str, Option<&Input>); 9] {
        [
            ("statefulset", self.statefulset.as_ref()),
            ("settings", self.settings.as_ref()),
            ("processes", self.processes.as_ref()),
            ("pvcs", self.pvcs.as_ref()),
            ("active_pvcs", self.active_pvcs.as_ref()),
            ("auto_conf", self.auto_conf.as_ref()),
            ("slots", self.slots.as_ref()),
            ("mounts", self.mounts.as_ref()),
            ("postgresql_conf", self.postgresql_conf.as_ref()),
        ]
    }
}

fn complete() -> BackupResult {
    BackupResult::Complete
}

fn dump() -> String {
    "dump".into()
}

/// `evidence backup`: a backup that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    /// The backup's file (or directory) name inside its location.
    pub artifact: String,
    /// Where it was written: a local directory, or a URI [default: `gate.targets.backup`].
    #[serde(default)]
    pub location: Option<String>,
    /// complete, partial or failed [default: complete].
    #[serde(default = "complete")]
    pub result: BackupResult,
    /// When it started.
    #[serde(default)]
    pub started: Option<DateTime<Utc>>,
    /// When it finished [default: now].
    #[serde(default)]
    pub finished: Option<DateTime<Utc>>,
    /// Its size; must match the file's [default: measured from the file].
    #[serde(default)]
    pub size: Option<ByteSize>,
    /// dump (pg_dump), basebackup, ... (a snapshot is not a backup and is refused) [default: dump].
    #[serde(default = "dump")]
    pub kind: String,
    /// Who ran it [default: "unknown"].
    #[serde(default)]
    pub by: Option<String>,
    /// PGDATA, to record whether the location is on another filesystem [default: the configuration's].
    #[serde(default)]
    pub pgdata: Option<PathBuf>,
}

impl BackupRequest {
    /// A complete `dump` named `artifact`, everything else defaulted.
    pub fn new(artifact: impl Into<String>) -> BackupRequest {
        BackupRequest {
            artifact: artifact.into(),
            location: None,
            result: BackupResult::Complete,
            started: None,
            finished: None,
            size: None,
            kind: dump(),
            by: None,
            pgdata: None,
        }
    }
}

/// A restore drill's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DrillResult {
    /// The restored database came up and checked out.
    Pass,
    /// It did not.
    Fail,
}

impl std::str::FromStr for DrillResult {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "pass" => Ok(DrillResult::Pass),
            "fail" => Ok(DrillResult::Fail),
            _ => Err(crate::Error::InvalidName {
                what: "drill result",
                value: s.into(),
                message: "expected pass or fail".into(),
            }),
        }
    }
}

impl DrillResult {
    /// `pass` or `fail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DrillResult::Pass => "pass",
            DrillResult::Fail => "fail",
        }
    }
}

/// `evidence restore-drill`: a restore drill that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreDrillRequest {
    /// The backup artifact restored.
    pub artifact: String,
    /// pass or fail.
    pub result: DrillResult,
    /// When the drill started.
    #[serde(default)]
    pub started: Option<DateTime<Utc>>,
    /// When it finished [default: now].
    #[serde(default)]
    pub finished: Option<DateTime<Utc>>,
    /// Who ran it [default: "unknown"].
    #[serde(default)]
    pub by: Option<String>,
    /// Free text.
    #[serde(default)]
    pub notes: String,
    /// On pass, mark the artifact verified for retention: the sidecar
    /// `DIR/ARTIFACT.verified` (see [`crate::retention::source`]).
    #[serde(default)]
    pub mark_verified: Option<PathBuf>,
}

/// `evidence dr-drill`: an incident simulated at `t0` and recovered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrDrillRequest {
    /// What was simulated.
    pub scenario: String,
    /// T0: when the incident started.
    pub t0: DateTime<Utc>,
    /// When the critical function was restored.
    pub restored_at: DateTime<Utc>,
    /// Newest data that existed before the incident.
    pub newest_before: DateTime<Utc>,
    /// Newest data present after the restore.
    pub newest_after: DateTime<Utc>,
    /// Who ran it [default: "unknown"].
    #[serde(default)]
    pub by: Option<String>,
}

/// `report`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportRequest {
    /// PGDATA, for the disk guard on the backup and snapshot targets [default: the configuration's].
    pub pgdata: Option<PathBuf>,
    /// The server to probe live for the `postgres` section [default: `postgres.dsn`].
    pub dsn: Option<String>,
}

/// How far `retention apply` may go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyMode {
    /// Plan only (the default).
    DryRun,
    /// Apply whatever the plan computed now says.
    Confirm,
    /// Apply only if the plan computed now has this hash (or is the rest of an
    /// interrupted run of it, or it was already applied). A unique prefix of
    /// at least [`crate::retention::PLAN_HASH_MIN_PREFIX`] hex digits is enough.
    PlanHash(String),
}

/// Formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Text for people.
    Text,
    /// JSON.
    Json,
    /// Prometheus text exposition format (node_exporter's textfile collector).
    Prometheus,
    /// Kubernetes ConfigMap manifest (the restore-drill marker for kube-state-metrics).
    Configmap,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_the_cli_field_names_and_refuse_typos() {
        let r: RetentionRequest = serde_json::from_str(
            r#"{"profile": "backups", "catalog": [{"id": "a", "created_at": "2026-02-05T00:00:00Z"}],
                "policy": {"keep_daily": 7}}"#,
        )
        .unwrap();
        assert!(matches!(r.catalog, Some(Catalog::Artifacts(ref a)) if a.len() == 1));
        assert_eq!(r.policy.keep_daily, Some(7));
        let r: RetentionRequest = serde_json::from_str(r#"{"catalog": "cat.json"}"#).unwrap();
        assert_eq!(
            r.catalog,
            Some(Catalog::Input(Input::Path("cat.json".into())))
        );
        assert!(serde_json::from_str::<RetentionRequest>(r#"{"keep_daily": 7}"#).is_err());
        assert!(
            serde_json::from_str::<GateRequest>(r#"{"operation": "backup", "targte": "/x"}"#)
                .is_err()
        );
        let g: GateRequest =
            serde_json::from_str(r#"{"operation": "backup", "estimate": "2GB"}"#).unwrap();
        assert_eq!(g.estimate.map(|b| b.bytes()), Some(2 << 30));
        let c: ContractRequest = serde_json::from_str(
            r#"{"statefulset": {"text": "{}", "origin": "kubectl"}, "settings": "-"}"#,
        )
        .unwrap();
        assert_eq!(c.statefulset, Some(Input::text("{}", "kubectl")));
        assert!(c.settings.as_ref().is_some_and(Input::is_stdin));
        let b: BackupRequest = serde_json::from_str(r#"{"artifact": "d.sql.gz"}"#).unwrap();
        assert_eq!(b, BackupRequest::new("d.sql.gz"));
        let m: ApplyMode = serde_json::from_str(r#"{"plan_hash": "abc"}"#).unwrap();
        assert_eq!(m, ApplyMode::PlanHash("abc".into()));
    }
}
