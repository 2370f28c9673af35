//! `contract.status` and `wal.settings`.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::timestamp;
use crate::contract::{ContractVerdict, InvariantStatus, LimitationStatus};
use crate::error::{Error, Result};
use crate::statefile::StateFile;

/// `contract.status`, every field typed and checked: the verdict, the time,
/// each `invariant.<id>` (`pass`/`fail`/`unknown`) and `limitation.<name>`
/// (`off`/`on`/`unverified`). When invariants are listed, the verdict must be
/// the one they imply (FAIL if any fails, else UNKNOWN if any is unknown,
/// else PASS): a hand-edited `contract_status=PASS` over a failing invariant
/// is corrupt, not a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractStatusRecord {
    /// `contract_status`.
    pub verdict: ContractVerdict,
    /// `checked_at`.
    pub checked_at: DateTime<Utc>,
    /// `invariant.<id>`.
    pub invariants: BTreeMap<String, InvariantStatus>,
    /// `limitation.<name>`.
    pub limitations: BTreeMap<String, LimitationStatus>,
    /// `message.<id>`: why an invariant failed or is unknown.
    pub messages: BTreeMap<String, String>,
}

/// The keys `<prefix><name>` of `f`, each value parsed with `FromStr`.
fn typed_family<T>(f: &StateFile, prefix: &str) -> Result<BTreeMap<String, T>>
where
    T: FromStr<Err = String>,
{
    f.family(prefix)
        .map(|(name, v)| {
            let key = format!("{prefix}{name}");
            let line = f.entry(&key).map_or(0, |(l, _)| l);
            v.parse()
                .map(|t| (name.to_string(), t))
                .map_err(|m| f.invalid(&key, line, m))
        })
        .collect()
}

impl ContractStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let (line, v) = f
            .entry("contract_status")
            .ok_or_else(|| Error::MissingKey {
                path: f.path().into(),
                key: "contract_status".into(),
            })?;
        let verdict = v
            .parse()
            .map_err(|m: String| f.invalid("contract_status", line, m))?;
        let invariants: BTreeMap<String, InvariantStatus> = typed_family(f, "invariant.")?;
        let limitations: BTreeMap<String, LimitationStatus> = typed_family(f, "limitation.")?;
        // The verdict must agree with everything the record lists: its
        // invariants, and its `failed` and `unknown` summaries (a PASS that
        // lists a failed or unknown invariant is corrupt, not PASS).
        let listed = |key: &str| -> Vec<String> {
            f.get(key)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (failed, unknown) = (listed("failed"), listed("unknown"));
        let any = |s: InvariantStatus| invariants.values().any(|v| *v == s);
        let implied = if !failed.is_empty() || any(InvariantStatus::Fail) {
            ContractVerdict::Fail
        } else if !unknown.is_empty() || any(InvariantStatus::Unknown) {
            ContractVerdict::Unknown
        } else {
            ContractVerdict::Pass
        };
        let severity = |v: ContractVerdict| match v {
            ContractVerdict::Pass => 0,
            ContractVerdict::Unknown => 1,
            ContractVerdict::Fail => 2,
        };
        // With its invariants listed the verdict is exactly theirs; without,
        // it may be stricter than its summaries, never better.
        let contradicts = if invariants.is_empty() {
            severity(verdict) < severity(implied)
        } else {
            verdict != implied
        };
        if contradicts {
            return Err(f.invalid(
                "contract_status",
                line,
                format!(
                    "says {}, but what it lists makes it {}",
                    verdict.as_str(),
                    implied.as_str()
                ),
            ));
        }
        if !invariants.is_empty() {
            check_summaries(f, &invariants, &failed, &unknown)?;
        }
        let messages = f
            .family("message.")
            .map(|(id, m)| (id.to_string(), m.to_string()))
            .collect();
        Ok(ContractStatusRecord {
            verdict,
            checked_at: f.require_time("checked_at")?,
            invariants,
            limitations,
            messages,
        })
    }

    /// Ids of the invariants with status `s`.
    pub fn ids(&self, s: InvariantStatus) -> Vec<&str> {
        self.invariants
            .iter()
            .filter(|(_, v)| **v == s)
            .map(|(k, _)| k.as_str())
            .collect()
    }
}

/// With invariants listed, the `failed` and `unknown` summaries and
/// `invariant_count` must say what the invariants say.
fn check_summaries(
    f: &StateFile,
    invariants: &BTreeMap<String, InvariantStatus>,
    failed: &[String],
    unknown: &[String],
) -> Result<()> {
    for (key, ids, status) in [
        ("failed", failed, InvariantStatus::Fail),
        ("unknown", unknown, InvariantStatus::Unknown),
    ] {
        let actual: Vec<&str> = invariants
            .iter()
            .filter(|(_, v)| **v == status)
            .map(|(k, _)| k.as_str())
            .collect();
        let mut given: Vec<&str> = ids.iter().map(String::as_str).collect();
        given.sort_unstable();
        if given != actual {
            let l = f.entry(key).map_or(0, |(l, _)| l);
            return Err(f.invalid(
                key,
                l,
                format!(
                    "lists {}, but the invariants say {}",
                    if given.is_empty() {
                        "none".into()
                    } else {
                        given.join(",")
                    },
                    if actual.is_empty() {
                        "none".into()
                    } else {
                        actual.join(",")
                    }
                ),
            ));
        }
    }
    if let Some((l, n)) = f.entry("invariant_count") {
        if n.trim().parse::<usize>().ok() != Some(invariants.len()) {
            return Err(f.invalid(
                "invariant_count",
                l,
                format!("says {n}, but {} invariants are listed", invariants.len()),
            ));
        }
    }
    Ok(())
}

/// Writes a contract report into `contract.status`, replacing ssot's keys.
pub fn write_contract_status(
    file: &mut StateFile,
    r: &crate::contract::ContractReport,
) -> Result<()> {
    use crate::contract::InvariantStatus;
    file.set("contract_status", r.status.as_str())?;
    file.set("checked_at", timestamp(r.checked_at))?;
    file.set("invariant_count", r.invariants.len())?;
    let ids = |s: InvariantStatus| {
        r.with_status(s)
            .map(|i| i.id.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    file.set("failed", ids(InvariantStatus::Fail))?;
    file.set("unknown", ids(InvariantStatus::Unknown))?;
    for prefix in ["invariant.", "message.", "limitation."] {
        file.remove_prefix(prefix);
    }
    for i in &r.invariants {
        file.set(&format!("invariant.{}", i.id), i.status.as_str())?;
        if i.status != InvariantStatus::Pass {
            // Bounded and on one line: a message quotes configuration
            // values, and a record ssot could not read back would lock it out.
            file.set(
                &format!("message.{}", i.id),
                crate::evidence::sanitize_notes(&i.message),
            )?;
        }
    }
    for l in &r.limitations {
        file.set(&format!("limitation.{}", l.name), l.status.as_str())?;
    }
    Ok(())
}

/// Writes the declared WAL settings (`wal.settings`): the keys given, plus `checked_at`.
pub fn write_wal_settings(
    file: &mut StateFile,
    settings: &BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> Result<()> {
    for (k, v) in settings {
        file.set(k, v)?;
    }
    file.set("checked_at", timestamp(at))
}
