//! `contract.status` and `wal.settings`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contract::{ContractVerdict, InvariantStatus, LimitationStatus};
use crate::error::Result;
use crate::statefile::{record, StateFile};

/// `contract.status`, written and read by the [`record`] format: the
/// verdict, the time, the `failed`/`unknown` summaries, each
/// `invariant.<id>` (`pass`/`fail`/`unknown`), `message.<id>` and
/// `limitation.<name>` (`off`/`on`/`unverified`). When invariants are
/// listed, the verdict must be the one they imply (FAIL if any fails, else
/// UNKNOWN if any is unknown, else PASS): a hand-edited
/// `contract_status=PASS` over a failing invariant is corrupt, not a pass.
///
/// It is the [`ContractReport`](crate::contract::ContractReport) as the file
/// keeps it: the verdict is the report's status; `invariant_count`, `failed`
/// and `unknown` are derived from the invariants; an invariant keeps its
/// status and (when not passed) its message; a limitation keeps its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractStatusRecord {
    /// `contract_status`.
    #[serde(rename = "contract_status", with = "record::from_str")]
    pub verdict: ContractVerdict,
    /// `checked_at`.
    #[serde(with = "record::timestamp")]
    pub checked_at: DateTime<Utc>,
    /// `invariant_count` as written: checked against the invariants when
    /// they are listed (any text is refused then, as any wrong count).
    #[serde(default)]
    pub invariant_count: Option<String>,
    /// `failed`: the ids of the failed invariants.
    #[serde(default, with = "record::comma_list")]
    pub failed: Vec<String>,
    /// `unknown`: the ids of the unknown invariants.
    #[serde(default, with = "record::comma_list")]
    pub unknown: Vec<String>,
    /// `invariant.<id>`.
    #[serde(rename = "invariant", default, with = "record::dotted_map_from_str")]
    pub invariants: BTreeMap<String, InvariantStatus>,
    /// `message.<id>`: why an invariant failed or is unknown.
    #[serde(rename = "message", default, with = "record::dotted_map")]
    pub messages: BTreeMap<String, String>,
    /// `limitation.<name>`.
    #[serde(rename = "limitation", default, with = "record::dotted_map_from_str")]
    pub limitations: BTreeMap<String, LimitationStatus>,
}

impl ContractStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let rec: ContractStatusRecord = record::read(f)?;
        rec.validate(f)?;
        Ok(rec)
    }

    /// The record of `r`: what `contract.status` keeps of it.
    pub fn from_report(r: &crate::contract::ContractReport) -> Self {
        let ids = |s: InvariantStatus| r.with_status(s).map(|i| i.id.to_string()).collect();
        ContractStatusRecord {
            verdict: r.status,
            checked_at: r.checked_at,
            invariant_count: Some(r.invariants.len().to_string()),
            failed: ids(InvariantStatus::Fail),
            unknown: ids(InvariantStatus::Unknown),
            invariants: r
                .invariants
                .iter()
                .map(|i| (i.id.to_string(), i.status))
                .collect(),
            // Bounded and on one line: a message quotes configuration
            // values, and a record ssot could not read back would lock it out.
            messages: r
                .invariants
                .iter()
                .filter(|i| i.status != InvariantStatus::Pass)
                .map(|i| {
                    (
                        i.id.to_string(),
                        crate::evidence::sanitize_notes(&i.message),
                    )
                })
                .collect(),
            limitations: r
                .limitations
                .iter()
                .map(|l| (l.name.clone(), l.status))
                .collect(),
        }
    }

    /// The checks that span fields: the verdict agrees with everything the
    /// record lists, and with invariants listed, the summaries and the
    /// count say what they say. `f` gives the lines to name.
    pub fn validate(&self, f: &StateFile) -> Result<()> {
        let line = f.entry("contract_status").map_or(0, |(l, _)| l);
        let (verdict, invariants) = (self.verdict, &self.invariants);
        let (failed, unknown) = (&self.failed, &self.unknown);
        // The verdict must agree with everything the record lists: its
        // invariants, and its `failed` and `unknown` summaries (a PASS that
        // lists a failed or unknown invariant is corrupt, not PASS).
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
            check_summaries(f, invariants, failed, unknown)?;
        }
        Ok(())
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
    record::write(file, &ContractStatusRecord::from_report(r))
}

/// Writes the declared WAL settings (`wal.settings`): the keys given, plus
/// `checked_at` ([`super::WalSettingsRecord`]).
pub fn write_wal_settings(
    file: &mut StateFile,
    settings: &BTreeMap<String, String>,
    at: DateTime<Utc>,
) -> Result<()> {
    record::write(
        file,
        &super::WalSettingsRecord::from_declared(settings, at)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ssot 0.x wrote: each invariant followed by its message.
    const OLD_FORMAT: &str = "# kept\ncontract_status=FAIL\nchecked_at=2026-02-05T12:00:00Z\ninvariant_count=3\nfailed=sts.single_instance\nunknown=pvc.bound\ninvariant.conf.max_wal_size=pass\ninvariant.sts.single_instance=fail\nmessage.sts.single_instance=spec.replicas is 2\ninvariant.pvc.bound=unknown\nmessage.pvc.bound=no pvcs input\nlimitation.wal_archive=off\nowner=alex\n";

    #[test]
    fn a_literal_old_file_reads_and_rewrites_with_its_foreign_keys() {
        let f = StateFile::parse(OLD_FORMAT.as_bytes(), "contract.status").unwrap();
        let rec = ContractStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.verdict, ContractVerdict::Fail);
        assert_eq!(rec.ids(InvariantStatus::Fail), ["sts.single_instance"]);
        assert_eq!(rec.ids(InvariantStatus::Unknown), ["pvc.bound"]);
        assert_eq!(rec.messages["pvc.bound"], "no pvcs input");
        assert_eq!(rec.limitations["wal_archive"], LimitationStatus::Off);
        let mut again = f.clone();
        record::write(&mut again, &rec).unwrap();
        assert_eq!(
            again.render(),
            "# kept\ncontract_status=FAIL\nchecked_at=2026-02-05T12:00:00Z\ninvariant_count=3\nfailed=sts.single_instance\nunknown=pvc.bound\nowner=alex\ninvariant.conf.max_wal_size=pass\ninvariant.pvc.bound=unknown\ninvariant.sts.single_instance=fail\nmessage.pvc.bound=no pvcs input\nmessage.sts.single_instance=spec.replicas is 2\nlimitation.wal_archive=off\n"
        );
        assert_eq!(ContractStatusRecord::from_file(&again).unwrap(), rec);
    }

    #[test]
    fn every_validation_names_file_line_and_key() {
        let base = "contract_status=PASS\nchecked_at=2026-02-05T12:00:00Z\n";
        let cases: &[(&str, &str)] = &[
            ("checked_at=2026-02-05T12:00:00Z\n", "contract.status: missing key \"contract_status\""),
            ("contract_status=MAYBE\n", "contract.status:1: key \"contract_status\": \"MAYBE\" is not PASS, FAIL or UNKNOWN"),
            ("+invariant.sts.x=broken\n", "contract.status:3: key \"invariant.sts.x\": \"broken\" is not pass, fail, unknown or not_applicable"),
            ("+limitation.pitr=maybe\n", "contract.status:3: key \"limitation.pitr\": \"maybe\" is not off, on or unverified"),
            ("+invariant.a=fail\n", "contract.status:1: key \"contract_status\": says PASS, but what it lists makes it FAIL"),
            ("+failed=a\n", "contract.status:1: key \"contract_status\": says PASS"),
            ("+invariant.a=pass\ninvariant_count=2\n", "contract.status:4: key \"invariant_count\": says 2, but 1 invariants are listed"),
            ("+invariant.a=pass\nunknown=a\n", "contract.status:1: key \"contract_status\": says PASS, but what it lists makes it UNKNOWN"),
            ("+invariant_count=lots\n", ""),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let text = match text.strip_prefix('+') {
                Some(rest) => format!("{base}{rest}"),
                None => text.to_string(),
            };
            let f = StateFile::parse(text.as_bytes(), "contract.status").unwrap();
            match ContractStatusRecord::from_file(&f) {
                Ok(_) if want.is_empty() => {}
                Ok(_) => wrong.push(format!("{text:?} read, expected {want:?}")),
                Err(e) if !want.is_empty() && e.to_string().starts_with(want) => {}
                Err(e) => wrong.push(format!("{text:?}: {e:?} should start with {want:?}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
