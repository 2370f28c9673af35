//! `retention.status`: the last apply of each retention profile.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::statefile::{record, StateFile};

/// What one profile's last apply recorded (`<profile>.<field>` keys),
/// written and read by the [`record`] format.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetentionRun {
    /// `applied_at`.
    #[serde(default, with = "record::opt_timestamp")]
    pub applied_at: Option<DateTime<Utc>>,
    /// `root`.
    #[serde(default)]
    pub root: Option<String>,
    /// `plan_hash`: the hash applied (the reviewed one when `--plan-hash` was given).
    #[serde(default)]
    pub plan_hash: Option<String>,
    /// `computed_plan_hash`: the hash of the plan this run computed and carried out.
    #[serde(default)]
    pub computed_plan_hash: Option<String>,
    /// `kept`.
    #[serde(default)]
    pub kept: Option<u64>,
    /// `deleted`.
    #[serde(default)]
    pub deleted: Option<u64>,
    /// `kept_bytes`.
    #[serde(default)]
    pub kept_bytes: Option<u64>,
    /// `freed_bytes`.
    #[serde(default)]
    pub freed_bytes: Option<u64>,
    /// `verified_kept`.
    #[serde(default)]
    pub verified_kept: Option<u64>,
    /// `deleted_ids`: the ids this run deleted, escaped, comma separated.
    #[serde(default)]
    pub deleted_ids: Option<String>,
    /// `warning_count`.
    #[serde(default)]
    pub warning_count: Option<u64>,
    /// `warning.N`, in the order of N. Other keys under `warning.` are
    /// another tool's and read as nothing, as they always did (no gate reads
    /// this file; the report must not call it corrupt over them).
    #[serde(rename = "warning", default, deserialize_with = "numbered_lines")]
    pub warnings: Vec<String>,
}

/// The `N` lines of a `warning.N` family in the order of N; a key whose
/// segment is not a number, or that has no value of its own, is skipped.
fn numbered_lines<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    struct Lines;
    impl<'de> serde::de::Visitor<'de> for Lines {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("warning.N lines")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut m: A,
        ) -> std::result::Result<Self::Value, A::Error> {
            let mut numbered = Vec::new();
            while let Some(key) = m.next_key::<String>()? {
                let line: Option<String> = m.next_value()?;
                if let (Ok(n), Some(line)) = (key.parse::<u64>(), line) {
                    numbered.push((n, line));
                }
            }
            numbered.sort_by_key(|(n, _)| *n);
            Ok(numbered.into_iter().map(|(_, line)| line).collect())
        }
    }
    d.deserialize_map(Lines)
}

/// `retention.status`: each profile's last apply, by profile name. Keys
/// without a dot, or under names that are not profiles, read as profiles
/// that record nothing (every field absent, other tools' keys ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RetentionStatusRecord {
    /// Runs by profile name.
    pub profiles: BTreeMap<String, RetentionRun>,
}

impl RetentionStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        record::read(f)
    }
}

/// What a finished apply writes for its profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRunWrite<'a> {
    /// The profile.
    pub profile: &'a str,
    /// The resolved root.
    pub root: &'a str,
    /// The hash the user applied (the reviewed one with `--plan-hash`).
    pub plan_hash: &'a str,
    /// The hash of the plan this run computed and carried out.
    pub computed_plan_hash: &'a str,
    /// Totals of the plan.
    pub summary: &'a crate::retention::Summary,
    /// Ids deleted by this run.
    pub deleted_ids: &'a [String],
    /// The plan's warnings.
    pub warnings: &'a [String],
}

/// Writes one profile's run into `retention.status`, replacing that
/// profile's keys and keeping everything else. Values are single lines.
pub fn write_retention_run(
    f: &mut StateFile,
    w: &RetentionRunWrite,
    now: DateTime<Utc>,
) -> Result<()> {
    let line = |s: &str| s.replace(['\n', '\r', '\0'], " ");
    let run = RetentionRun {
        applied_at: Some(now),
        root: Some(line(w.root)),
        plan_hash: Some(w.plan_hash.to_string()),
        computed_plan_hash: Some(w.computed_plan_hash.to_string()),
        kept: Some(w.summary.kept as u64),
        deleted: Some(w.summary.deleted as u64),
        kept_bytes: Some(w.summary.kept_bytes),
        freed_bytes: Some(w.summary.freed_bytes),
        verified_kept: Some(w.summary.verified_kept as u64),
        deleted_ids: Some(line(
            &w.deleted_ids
                .iter()
                .map(|id| id.escape_debug().to_string())
                .collect::<Vec<_>>()
                .join(","),
        )),
        warning_count: Some(w.warnings.len() as u64),
        warnings: w.warnings.iter().map(|s| line(s)).collect(),
    };
    record::write(f, &BTreeMap::from([(w.profile, run)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ssot 0.x wrote for two profiles, with another tool's keys.
    const OLD_FORMAT: &str = "# kept\nbackups.applied_at=2026-02-05T03:00:00Z\nbackups.root=/b\nbackups.plan_hash=abc\nbackups.computed_plan_hash=abc\nbackups.kept=3\nbackups.deleted=1\nbackups.kept_bytes=300\nbackups.freed_bytes=100\nbackups.verified_kept=1\nbackups.deleted_ids=a\\nb,c\nbackups.warning_count=2\nbackups.warning.1=one\nbackups.warning.2=two\nbackups.note=by hand\nsnapshots.applied_at=2026-02-04T03:00:00Z\nsnapshots.kept=7\nowner=alex\n";

    #[test]
    fn a_literal_old_file_reads() {
        let f = StateFile::parse(OLD_FORMAT.as_bytes(), "retention.status").unwrap();
        let rec = RetentionStatusRecord::from_file(&f).unwrap();
        let b = &rec.profiles["backups"];
        assert_eq!(b.root.as_deref(), Some("/b"));
        assert_eq!(
            (b.kept, b.deleted, b.verified_kept),
            (Some(3), Some(1), Some(1))
        );
        assert_eq!(b.warnings, ["one", "two"]);
        assert_eq!(rec.profiles["snapshots"].kept, Some(7));
        assert_eq!(
            rec.profiles["snapshots"]
                .applied_at
                .map(crate::time::timestamp),
            Some("2026-02-04T03:00:00Z".to_string())
        );
    }

    #[test]
    fn a_run_replaces_its_profile_keys_in_place_and_keeps_the_rest() {
        let mut f = StateFile::parse(OLD_FORMAT.as_bytes(), "retention.status").unwrap();
        let summary = crate::retention::Summary {
            kept: 4,
            deleted: 0,
            kept_bytes: 400,
            freed_bytes: 0,
            verified_kept: 2,
            ..Default::default()
        };
        let w = RetentionRunWrite {
            profile: "backups",
            root: "/b\nx",
            plan_hash: "def",
            computed_plan_hash: "def",
            summary: &summary,
            deleted_ids: &[],
            warnings: &["only".to_string()],
        };
        let now = crate::time::parse_timestamp("2026-02-06T03:00:00Z").unwrap();
        write_retention_run(&mut f, &w, now).unwrap();
        assert_eq!(
            f.render(),
            "# kept\nbackups.applied_at=2026-02-06T03:00:00Z\nbackups.root=/b x\nbackups.plan_hash=def\nbackups.computed_plan_hash=def\nbackups.kept=4\nbackups.deleted=0\nbackups.kept_bytes=400\nbackups.freed_bytes=0\nbackups.verified_kept=2\nbackups.deleted_ids=\nbackups.warning_count=1\nbackups.note=by hand\nsnapshots.applied_at=2026-02-04T03:00:00Z\nsnapshots.kept=7\nowner=alex\nbackups.warning.1=only\n"
        );
        let rec = RetentionStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.profiles["backups"].warnings, ["only"]);
        assert_eq!(rec.profiles["snapshots"].kept, Some(7));
    }

    /// `warning.N` reads as the old reader read it: in the order of N, gaps
    /// allowed, other keys under `warning.` ignored.
    #[test]
    fn warnings_read_in_the_order_of_n_and_other_keys_are_ignored() {
        let text = "p.warning.3=c\np.warning.1=a\np.warning.x=no\np.warning.1.y=no\n";
        let f = StateFile::parse(text.as_bytes(), "retention.status").unwrap();
        let rec = RetentionStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.profiles["p"].warnings, ["a", "c"]);
    }

    #[test]
    fn bad_fields_name_file_line_and_key() {
        for (text, want) in [
            (
                "p.kept=lots\n",
                "retention.status:1: key \"p.kept\": invalid value \"lots\"",
            ),
            (
                "p.applied_at=monday\n",
                "retention.status:1: key \"p.applied_at\": \"monday\" is not an RFC 3339",
            ),
            (
                "p.warning_count=x\n",
                "retention.status:1: key \"p.warning_count\": invalid value \"x\"",
            ),
        ] {
            let f = StateFile::parse(text.as_bytes(), "retention.status").unwrap();
            let err = RetentionStatusRecord::from_file(&f)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }
}
