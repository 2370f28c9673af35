//! `ssot.toml`: the effective configuration.
//!
//! Every threshold, limit, retention policy and target has a default taken
//! from the seeds (the README's configuration table names each origin), so
//! ssot runs with no file at all. Names are neutral (StatefulSet `postgres`,
//! namespace `default`) and the stage registry is empty: the seed's own
//! names and registry are an example configuration, `examples/config/seed.toml`. A file only
//! overrides what it names; unknown keys are an error, so a typo cannot
//! silently fall back to a default.
//!
//! ```
//! use ssot_core::config::Config;
//! let cfg = Config::from_toml_str("[wal]\nvolume_near_pct = 75\n", "ssot.toml")?;
//! assert_eq!(cfg.wal.volume_near_pct, 75.0);
//! assert_eq!(cfg.contract.max_wal_size.to_string(), "4GB"); // seed default kept
//! # Ok::<(), ssot_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::contract::ContractConfig;
use crate::disk::DiskPolicy;
use crate::error::{Error, Result};
use crate::evidence::EvidencePolicy;
use crate::gate::{GatePolicy, Operation};
use crate::report::ReportPolicy;
use crate::retention::RetentionPolicy;
use crate::stages::StageDef;
use crate::units::{ByteSize, Span};
use crate::wal::WalPolicy;

/// Default state directory (seed: `/opt/ssot/state`).
pub const DEFAULT_STATE_DIR: &str = "/opt/ssot/state";
/// Default configuration file (the manual install's, seed layout).
pub const DEFAULT_CONFIG_FILE: &str = "/opt/ssot/ssot.toml";
/// The configuration file the Debian package installs, read when
/// [`DEFAULT_CONFIG_FILE`] does not exist.
pub const PACKAGE_CONFIG_FILE: &str = "/etc/ssot/ssot.toml";

/// Where the effective configuration came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigSource {
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// For people: `built-in defaults + /opt/ssot/ssot.toml`.
    pub origin: String,
}

impl ConfigSource {
    /// No file: the seed defaults.
    pub fn defaults() -> ConfigSource {
        ConfigSource {
            file: None,
            origin: "built-in defaults (no configuration file)".into(),
        }
    }

    /// The defaults overridden by `file`.
    pub fn file(file: &Path) -> ConfigSource {
        ConfigSource {
            file: Some(file.to_path_buf()),
            origin: format!("built-in defaults + {}", file.display()),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the state files live.
    pub state_dir: String,
    /// The PostgreSQL instance.
    pub postgres: PostgresConfig,
    /// WAL status thresholds.
    pub wal: WalPolicy,
    /// Disk-guard floors.
    pub disk: DiskPolicy,
    /// Gate freshness limits and default targets.
    pub gate: GateConfig,
    /// The declared architecture contract.
    pub contract: ContractConfig,
    /// Named retention profiles (`[retention.backups]`, `[retention.snapshots]`, ...).
    pub retention: RetentionProfiles,
    /// Limits and targets for backups, restore drills and DR drills.
    pub evidence: EvidencePolicy,
    /// The single view of truth.
    pub report: ReportConfig,
    /// The stage registry (`[[stages]]`); empty by default (the seed's is
    /// [`crate::stages::seed_registry`], in `examples/config/seed.toml`).
    pub stages: Vec<StageDef>,
}

/// `ssot report` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Name of the ConfigMap marker (seed: ssot-restore-drill).
    pub configmap_name: String,
    /// Its namespace (default `default`, kubectl's own; the seed's is `trading`).
    pub configmap_namespace: String,
    /// Window for "recent" gate decisions.
    pub recent_window: Span,
    /// How old a retention profile's last apply may be.
    pub retention_max_age: Span,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            configmap_name: "ssot-restore-drill".into(),
            configmap_namespace: crate::contract::DEFAULT_NAMESPACE.into(),
            recent_window: Span::hours(24),
            retention_max_age: Span::days(8),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            state_dir: DEFAULT_STATE_DIR.into(),
            postgres: PostgresConfig::default(),
            wal: WalPolicy::default(),
            disk: DiskPolicy::default(),
            gate: GateConfig::default(),
            contract: ContractConfig::default(),
            retention: RetentionProfiles::default(),
            evidence: EvidencePolicy::default(),
            report: ReportConfig::default(),
            stages: Vec::new(),
        }
    }
}

/// A named retention profile: where its artifacts live and the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionProfile {
    /// Directory whose entries are the artifacts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// strftime pattern for creation times in entry names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The policy.
    #[serde(flatten)]
    pub policy: RetentionPolicy,
}

impl RetentionProfile {
    /// Parses a profile table; `name` is used in errors. Keys other than
    /// `root` and `pattern` must be policy keys.
    fn from_table(name: &str, mut t: toml::Table) -> std::result::Result<Self, String> {
        let mut string = |key: &str| -> std::result::Result<Option<String>, String> {
            match t.remove(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(format!(
                    "retention.{name}.{key} must be a string, found {}",
                    other.type_str()
                )),
            }
        };
        let root = string("root")?;
        let pattern = string("pattern")?;
        let policy: RetentionPolicy = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| format!("retention.{name}: {}", e.message()))?;
        policy
            .tz()
            .map_err(|e| format!("retention.{name}.timezone: {e}"))?;
        Ok(RetentionProfile {
            root,
            pattern,
            policy,
        })
    }

    fn to_table(&self) -> toml::Table {
        toml::Table::try_from(self).unwrap_or_default()
    }
}

/// Why `name` cannot name a retention profile, if it cannot: a profile
/// name is a key of `retention.status` and a metric label, so it is 1–64
/// ASCII letters, digits, `_` or `-`, starting with a letter or digit.
pub fn profile_name_problem(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    (!ok).then(|| {
        format!(
            "the profile name {name:?} is not 1-64 letters, digits, _ or - starting with a letter or digit"
        )
    })
}

/// The retention profiles. A profile named in the file overrides only the
/// keys it names; the seed profiles `backups` and `snapshots` keep their
/// other defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct RetentionProfiles(pub BTreeMap<String, RetentionProfile>);

impl Default for RetentionProfiles {
    fn default() -> Self {
        let backups = RetentionProfile {
            root: Some("/opt/ssot-backup/dumps".into()),
            pattern: Some("ssot_%Y%m%d_%H%M%S.sql.gz".into()),
            policy: RetentionPolicy {
                max_age: Some(Span::days(7)),
                min_keep: 1,
                min_verified: 1,
                ..RetentionPolicy::default()
            },
        };
        let snapshots = RetentionProfile {
            root: Some("/opt/ssot-backup/snapshots".into()),
            pattern: None,
            policy: RetentionPolicy {
                max_age: Some(Span::days(3)),
                min_keep: 1,
                ..RetentionPolicy::default()
            },
        };
        RetentionProfiles(BTreeMap::from([
            ("backups".to_string(), backups),
            ("snapshots".to_string(), snapshots),
        ]))
    }
}

impl<'de> Deserialize<'de> for RetentionProfiles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = BTreeMap::<String, toml::Table>::deserialize(d)?;
        let mut out = RetentionProfiles::default();
        for (name, table) in raw {
            let mut merged = out
                .0
                .get(&name)
                .map(RetentionProfile::to_table)
                .unwrap_or_default();
            merged.extend(table);
            let p =
                RetentionProfile::from_table(&name, merged).map_err(serde::de::Error::custom)?;
            out.0.insert(name, p);
        }
        Ok(out)
    }
}

/// The PostgreSQL instance ssot watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    /// PGDATA (overridden by `--pgdata` or the `PGDATA` environment variable).
    pub pgdata: String,
    /// The server to probe live (a libpq connection string or URI); none by
    /// default (overridden by `--dsn` or `SSOT_DSN`). Keep passwords in
    /// `.pgpass` or `PGPASSWORD`, not here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// `postgresql.conf` on a host, where it is not in PGDATA (Debian:
    /// `/etc/postgresql/15/main/postgresql.conf`); none by default: the
    /// running server's `config_file`, else PGDATA's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig {
            pgdata: "/var/lib/postgresql/data".into(),
            dsn: None,
            config_file: None,
        }
    }
}

/// `[gate.targets]` over the built-in targets: the keys given replace
/// theirs, the others stay, and an empty path removes a target.
fn targets_over_defaults<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<Operation, String>, D::Error> {
    let given = BTreeMap::<Operation, String>::deserialize(d)?;
    let mut targets = GateConfig::default().targets;
    targets.extend(given);
    targets.retain(|_, dir| !dir.is_empty());
    Ok(targets)
}

/// Gate freshness limits and where each operation writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Oldest acceptable `wal.status`.
    pub wal_max_age: Span,
    /// Oldest acceptable `contract.status`.
    pub contract_max_age: Span,
    /// Tolerated clock skew before a timestamp counts as future-dated, and
    /// the farthest from the real clock a time given for a decision that
    /// authorises work may be ([`crate::Ssot::authorizing_now`]).
    pub max_clock_skew: Span,
    /// Default target directory per operation. A `[gate.targets]` table
    /// overrides the keys it names and keeps the others; `""` removes one.
    #[serde(deserialize_with = "targets_over_defaults")]
    pub targets: BTreeMap<Operation, String>,
    /// `gate.log` is rotated (to `gate.log.1`, …) once it holds this much.
    pub log_max_bytes: ByteSize,
    /// Rotated generations of `gate.log` kept (`gate.log.1` the newest).
    pub log_generations: u32,
}

impl Default for GateConfig {
    fn default() -> Self {
        let p = GatePolicy::default();
        GateConfig {
            wal_max_age: p.wal_max_age,
            contract_max_age: p.contract_max_age,
            max_clock_skew: p.max_clock_skew,
            targets: BTreeMap::from([
                (Operation::Backup, "/opt/ssot-backup/dumps".to_string()),
                (
                    Operation::Snapshot,
                    "/opt/ssot-backup/snapshots".to_string(),
                ),
            ]),
            log_max_bytes: ByteSize::from_bytes(crate::state::GATE_LOG_TAIL),
            log_generations: 4,
        }
    }
}

impl Config {
    /// Parses and validates a TOML document; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self> {
        let cfg: Config = toml::from_str(text).map_err(|e| Error::Config {
            origin: origin.into(),
            key: None,
            // TOML's own message points at the line, the key and the column: keep its lines.
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.validate().map_err(|e| match e {
            Error::PolicyKey { key, message } => Error::Config {
                origin: origin.into(),
                key: Some(key),
                message,
            },
            other => Error::Config {
                origin: origin.into(),
                key: None,
                message: other.to_string(),
            },
        })?;
        Ok(cfg)
    }

    /// Checks cross-key constraints; the error names the key.
    pub fn validate(&self) -> Result<()> {
        if self.state_dir.is_empty() {
            return Err(Error::key(
                "state_dir",
                "must not be empty (an empty path would silently mean the current directory)",
            ));
        }
        if self.postgres.pgdata.is_empty() {
            return Err(Error::key("postgres.pgdata", "must not be empty"));
        }
        self.wal.validate()?;
        self.contract.validate()?;
        for (name, p) in &self.retention.0 {
            if let Some(problem) = profile_name_problem(name) {
                return Err(Error::key(format!("retention.{name}"), problem));
            }
            if let Some(pattern) = &p.pattern {
                crate::retention::source::validate_pattern(pattern)
                    .map_err(|e| Error::key(format!("retention.{name}.pattern"), e.to_string()))?;
            }
        }
        self.disk.validate()?;
        if self.gate.log_max_bytes.bytes() < 64 << 10 {
            return Err(Error::key(
                "gate.log_max_bytes",
                "must be at least 64kB (a gate decision is one line of up to a few kB)",
            ));
        }
        if !(1..=100).contains(&self.gate.log_generations) {
            return Err(Error::key(
                "gate.log_generations",
                "must be 1 to 100 (rotated files gate.log.1 … gate.log.N)",
            ));
        }
        let r = self.evidence.size_drop_ratio;
        if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
            return Err(Error::key(
                "evidence.size_drop_ratio",
                "must be in [0, 1] (a share of the smallest recent backup; 0 turns the check off)",
            ));
        }
        let mut ids = std::collections::BTreeSet::new();
        for st in &self.stages {
            st.parsed_criteria()?;
            if !ids.insert(st.id.as_str()) {
                return Err(Error::key(
                    "stages",
                    format!(
                        "has the stage id \"{}\" twice: each stage is one record and one metric series",
                        st.id
                    ),
                ));
            }
        }
        for l in &self.contract.declared_limitations {
            if !crate::contract::LIMITATIONS.contains(&l.as_str()) {
                return Err(Error::key(
                    "contract.declared_limitations",
                    format!(
                        "has an unknown limitation \"{l}\" (known: {})",
                        crate::contract::LIMITATIONS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// The policy the report applies.
    pub fn report_policy(&self) -> ReportPolicy {
        ReportPolicy {
            freshness: self.freshness(),
            disk: self.disk.clone(),
            evidence: self.evidence.clone(),
            retention_profiles: self.retention.0.keys().cloned().collect(),
            stages: self.stages.clone(),
            recent_window: self.report.recent_window,
            archiver_recent: self.wal.growth_window,
            blocked_max_age: self.gate.wal_max_age,
            targets: self
                .gate
                .targets
                .iter()
                .map(|(op, p)| (*op, p.clone()))
                .collect(),
        }
    }

    /// How old each state file may be: the one table every reader uses.
    pub fn freshness(&self) -> crate::state::Freshness {
        crate::state::Freshness {
            wal_status: self.gate.wal_max_age,
            contract_status: self.gate.contract_max_age,
            backup: self.evidence.backup_max_age,
            restore_drill: self.evidence.restore_drill_max_age,
            dr_drill: self.evidence.dr_drill_max_age,
            retention: self.report.retention_max_age,
            max_clock_skew: self.gate.max_clock_skew,
        }
    }

    /// Loads the effective configuration: the seed defaults overridden by
    /// `file`, or, when none is given, by the first of
    /// [`DEFAULT_CONFIG_FILE`] and [`PACKAGE_CONFIG_FILE`] that exists. A
    /// given file must exist; a file is read only if it is a regular file
    /// (through symlinks, as a ConfigMap mounts it) of at most
    /// [`crate::host::CONFIG_MAX`] bytes of UTF-8.
    #[cfg(feature = "host")]
    #[cfg_attr(docsrs, doc(cfg(feature = "host")))]
    pub fn load(file: Option<&Path>) -> Result<(Config, ConfigSource)> {
        Config::load_searching(file, &[DEFAULT_CONFIG_FILE, PACKAGE_CONFIG_FILE])
    }

    /// [`Config::load`] with the files to try when none is given.
    #[cfg(feature = "host")]
    fn load_searching(file: Option<&Path>, defaults: &[&str]) -> Result<(Config, ConfigSource)> {
        let candidates: Vec<(PathBuf, bool)> = match file {
            Some(p) => vec![(p.to_path_buf(), true)],
            None => defaults.iter().map(|d| (PathBuf::from(d), false)).collect(),
        };
        for (path, required) in candidates {
            if let Some(text) = crate::host::read_config(&path, required)? {
                let config = Config::from_toml_str(&text, &path.display().to_string())?;
                return Ok((config, ConfigSource::file(&path)));
            }
        }
        Ok((Config::default(), ConfigSource::defaults()))
    }

    /// The policy the gates apply.
    pub fn gate_policy(&self) -> GatePolicy {
        GatePolicy {
            wal_max_age: self.gate.wal_max_age,
            contract_max_age: self.gate.contract_max_age,
            max_clock_skew: self.gate.max_clock_skew,
            disk: self.disk.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::ByteSize;

    /// A Debian package install has /etc/ssot/ssot.toml and no
    /// /opt/ssot/ssot.toml: `ssot report` with no --config read neither and
    /// ran on the seed defaults (another state directory, no DSN). The
    /// package's file is read when the manual install's is absent; the
    /// manual install's still wins when both exist.
    #[cfg(feature = "host")]
    #[test]
    fn load_falls_back_to_the_package_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let manual = dir.path().join("opt-ssot.toml");
        let package = dir.path().join("etc-ssot.toml");
        let defaults = [manual.to_str().unwrap(), package.to_str().unwrap()];

        let (cfg, source) = Config::load_searching(None, &defaults).unwrap();
        assert_eq!(source, ConfigSource::defaults());
        assert_eq!(cfg.state_dir, DEFAULT_STATE_DIR);

        std::fs::write(&package, "state_dir = \"/var/lib/ssot/state\"\n").unwrap();
        let (cfg, source) = Config::load_searching(None, &defaults).unwrap();
        assert_eq!(source.file.as_deref(), Some(package.as_path()));
        assert_eq!(cfg.state_dir, "/var/lib/ssot/state");

        std::fs::write(&manual, "state_dir = \"/srv/ssot\"\n").unwrap();
        let (cfg, source) = Config::load_searching(None, &defaults).unwrap();
        assert_eq!(source.file.as_deref(), Some(manual.as_path()));
        assert_eq!(cfg.state_dir, "/srv/ssot");

        // A file given is the only one read, and must exist.
        let given = dir.path().join("given.toml");
        assert!(Config::load_searching(Some(&given), &defaults).is_err());
    }

    #[test]
    fn defaults_round_trip_through_toml() {
        let cfg = Config::default();
        let text = cfg.to_toml();
        let back = Config::from_toml_str(&text, "rendered").unwrap();
        assert_eq!(back, cfg);
        assert!(text.contains("max_wal_size = \"4GB\""), "{text}");
        assert!(
            text.contains("backup = \"/opt/ssot-backup/dumps\""),
            "{text}"
        );
    }

    #[test]
    fn a_profile_overrides_only_what_it_names() {
        let cfg = Config::from_toml_str(
            "[retention.backups]\nmax_age = \"14d\"\n[retention.cache]\nroot = \"/cache\"\nmax_total_size = \"10GB\"\n",
            "c",
        )
        .unwrap();
        let b = &cfg.retention.0["backups"];
        assert_eq!(b.policy.max_age, Some(Span::days(14)));
        assert_eq!(b.policy.min_verified, 1, "seed default kept");
        assert_eq!(b.root.as_deref(), Some("/opt/ssot-backup/dumps"));
        assert_eq!(
            cfg.retention.0["snapshots"].policy.max_age,
            Some(Span::days(3))
        );
        assert_eq!(
            cfg.retention.0["cache"].policy.max_total_size,
            Some(ByteSize::gib(10))
        );
        let err = Config::from_toml_str("[retention.backups]\nmax_agee = \"1d\"\n", "c")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("retention.backups") && err.contains("max_agee"),
            "{err}"
        );
        let err = Config::from_toml_str("[retention.backups]\ntimezone = \"Mars/Olympus\"\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
        assert!(Config::default().to_toml().contains("[retention.backups]"));
    }

    #[test]
    fn a_targets_table_overrides_only_what_it_names() {
        let c = Config::from_toml_str(
            "[gate.targets]\nbackup = \"/mnt/dumps\"\nsnapshot = \"\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            c.gate.targets.get(&Operation::Backup).unwrap(),
            "/mnt/dumps"
        );
        assert_eq!(
            c.gate.targets.get(&Operation::Snapshot),
            None,
            "\"\" removes it"
        );
        let c = Config::from_toml_str("[gate.targets]\nrestore = \"/r\"\n", "t").unwrap();
        assert_eq!(
            c.gate.targets.get(&Operation::Backup).unwrap(),
            "/opt/ssot-backup/dumps",
            "the others stay"
        );
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Config::from_toml_str("", "x").unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_the_key() {
        let err = Config::from_toml_str("[wal]\nvolume_near_pcnt = 70\n", "/etc/ssot.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config /etc/ssot.toml:"), "{err}");
        assert!(err.contains("volume_near_pcnt"), "{err}");
        let err = Config::from_toml_str("[contract]\nmax_wal_size = \"4gb\"\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("valid units"), "{err}");
        let err = Config::from_toml_str("[wal]\nvolume_near_pct = 95\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("wal.volume_near_pct must not exceed"), "{err}");
        let err = Config::from_toml_str("[gate.targets]\nbackups = \"/x\"\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("backups"), "{err}");
    }
}
