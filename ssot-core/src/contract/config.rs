//! The declared contract: the WAL settings the architecture fixes, and the
//! contract's verdict.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::units::{ByteSize, Span};
use crate::wal::WalSettings;

/// The default StatefulSet name: a neutral one (the seed's internal
/// `trading-postgres` lives in `examples/config/seed.toml`).
pub const DEFAULT_STATEFULSET: &str = "postgres";
/// The default namespace: kubectl's `default`, also what a StatefulSet
/// without `metadata.namespace` is read as.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The declared architecture contract (seed STAGE 5–6, WAL settings fixation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContractConfig {
    /// Declared `max_wal_size` (seed: 4GB).
    pub max_wal_size: ByteSize,
    /// Declared `min_wal_size` (seed: 1GB).
    pub min_wal_size: ByteSize,
    /// Declared `wal_keep_size` (seed: 0).
    pub wal_keep_size: ByteSize,
    /// Declared `checkpoint_timeout` (seed: 5min).
    pub checkpoint_timeout: Span,
    /// WAL segment size (PostgreSQL default 16MB).
    pub wal_segment_size: ByteSize,
    /// Whether WAL archiving is part of the architecture (seed STAGE 5: no).
    pub archive_mode: bool,
    /// The StatefulSet running PostgreSQL (default `postgres`; the seed's is
    /// `trading-postgres`, see `examples/config/seed.toml`). Only picks it
    /// out of a `kubectl get sts -o json` list holding several; whether
    /// the deployment is Kubernetes depends on a StatefulSet being given,
    /// not on this name.
    pub statefulset: String,
    /// Its namespace (default `default`, kubectl's own; the seed's is `trading`).
    pub namespace: String,
    /// Capabilities declared disabled, each checked (seed: ARCHITECTURE SIGNATURE).
    pub declared_limitations: Vec<String>,
    /// Where PostgreSQL runs, which decides the source of truth of its
    /// settings: the StatefulSet's args on Kubernetes, the configuration
    /// files PostgreSQL reads on a host.
    pub deployment: Deployment,
}

/// Where PostgreSQL runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Deployment {
    /// Kubernetes when a StatefulSet is given to the check, else a host.
    #[default]
    Auto,
    /// A plain host: `postgresql.conf` (with its includes) is the truth,
    /// the volume PGDATA is declared on replaces the PVC invariants.
    Host,
    /// A StatefulSet on a PVC: its container args are the truth.
    Kubernetes,
}

impl Deployment {
    /// `Host` or `Kubernetes`: `Auto` decides by whether a StatefulSet was given.
    pub fn resolve(self, statefulset_given: bool) -> Deployment {
        match self {
            Deployment::Auto if statefulset_given => Deployment::Kubernetes,
            Deployment::Auto => Deployment::Host,
            d => d,
        }
    }

    /// `auto`, `host`, `kubernetes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deployment::Auto => "auto",
            Deployment::Host => "host",
            Deployment::Kubernetes => "kubernetes",
        }
    }
}

impl Default for ContractConfig {
    fn default() -> Self {
        let s = WalSettings::default();
        ContractConfig {
            max_wal_size: s.max_wal_size,
            min_wal_size: s.min_wal_size,
            wal_keep_size: s.wal_keep_size,
            checkpoint_timeout: Span::mins(5),
            wal_segment_size: s.wal_segment_size,
            archive_mode: s.archive_mode,
            statefulset: DEFAULT_STATEFULSET.into(),
            namespace: DEFAULT_NAMESPACE.into(),
            declared_limitations: crate::contract::LIMITATIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            deployment: Deployment::Auto,
        }
    }
}

impl ContractConfig {
    /// Checks that PostgreSQL would accept every declared setting (units,
    /// rounding and ranges as PostgreSQL applies them); the message names the key.
    pub fn validate(&self) -> crate::Result<()> {
        let declared = [
            ("max_wal_size", self.max_wal_size.to_string()),
            ("min_wal_size", self.min_wal_size.to_string()),
            ("wal_keep_size", self.wal_keep_size.to_string()),
            ("checkpoint_timeout", self.checkpoint_timeout.to_string()),
            ("wal_segment_size", self.wal_segment_size.to_string()),
        ];
        for (name, value) in declared {
            crate::contract::guc::parse_value(name, &value).map_err(|e| {
                crate::Error::key(
                    format!("contract.{name}"),
                    format!("= \"{value}\": PostgreSQL refuses it: {e}"),
                )
            })?;
        }
        Ok(())
    }

    /// The WAL settings this contract declares.
    pub fn wal_settings(&self) -> WalSettings {
        WalSettings {
            max_wal_size: self.max_wal_size,
            min_wal_size: self.min_wal_size,
            wal_keep_size: self.wal_keep_size,
            wal_segment_size: self.wal_segment_size,
            max_slot_wal_keep_size: None,
            archive_mode: self.archive_mode,
        }
    }
}

/// `contract.status`'s verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum ContractVerdict {
    /// Every invariant holds.
    Pass,
    /// Some invariant fails.
    Fail,
    /// No invariant fails, but some could not be checked.
    Unknown,
}

impl ContractVerdict {
    /// `PASS`, `FAIL`, `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVerdict::Pass => "PASS",
            ContractVerdict::Fail => "FAIL",
            ContractVerdict::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for ContractVerdict {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "PASS" => Ok(ContractVerdict::Pass),
            "FAIL" => Ok(ContractVerdict::Fail),
            "UNKNOWN" => Ok(ContractVerdict::Unknown),
            other => Err(format!("\"{other}\" is not PASS, FAIL or UNKNOWN")),
        }
    }
}
