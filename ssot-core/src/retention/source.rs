//! Artifacts from a directory listing (the `--dir` source). Pure: the
//! listing comes from [`crate::ports::ArtifactRoot`].
//!
//! Conventions, for an artifact root such as `/opt/ssot-backup/dumps`:
//!
//! * every entry (file or directory) is an artifact whose id is its name;
//!   names starting with `.` are ssot's own (journal, trash) or hidden and
//!   are skipped; symlinks and special files are skipped with a warning
//!   (retention never follows or deletes through a link);
//! * a name ending in `.partial` or `.tmp` is a **partial** artifact;
//! * the creation time comes from the name when it matches `pattern`
//!   (strftime, e.g. `ssot_%Y%m%d_%H%M%S.sql.gz`, read in the policy's time
//!   zone, matched after a `.partial`/`.tmp` suffix is removed), else from the
//!   entry's modification time;
//! * sidecar markers next to an artifact `N` (deleted together with it):
//!   `N.verified` (a restore drill passed), `N.pinned` (never delete),
//!   `N.failed` (known broken), `N.parent` (its content is the id of the
//!   artifact `N` depends on), `N.used` (its modification time is `N`'s last use,
//!   for least-recently-used eviction). A marker whose artifact is absent is
//!   reported and ignored.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Artifact, ArtifactState};

/// What an entry of an artifact root is (from `lstat`, never following links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A socket, FIFO or device.
    Other,
}

/// One entry of an artifact root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RootEntry {
    /// The entry's name.
    pub name: String,
    /// Its kind.
    pub kind: EntryKind,
    /// Apparent size; for a directory, the sum over its files (links not followed).
    pub size_bytes: u64,
    /// Modification time.
    pub modified: DateTime<Utc>,
    /// Content of a small `.parent` marker, if this is one.
    pub content: Option<String>,
}

/// Sidecar marker suffixes.
pub const MARKERS: [&str; 5] = [".verified", ".pinned", ".failed", ".parent", ".used"];

/// Artifacts found in a root, with their sidecars and what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// The artifacts.
    pub artifacts: Vec<Artifact>,
    /// Sidecar marker names per artifact id (removed with it).
    pub sidecars: BTreeMap<String, Vec<String>>,
    /// Skipped entries and other notes.
    pub warnings: Vec<String>,
}

fn marker_of(name: &str) -> Option<(&str, &str)> {
    MARKERS
        .iter()
        .find_map(|m| name.strip_suffix(m).map(|stem| (stem, *m)))
        .filter(|(stem, _)| !stem.is_empty())
}

/// Reads a creation time from `name` with a strftime `pattern` in `tz`.
pub fn time_from_name(name: &str, pattern: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(name, pattern)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(name, pattern)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Builds artifacts from a root's entries.
pub fn artifacts_from_entries(entries: &[RootEntry], pattern: Option<&str>, tz: Tz) -> Listing {
    let mut out = Listing::default();
    let by_name: HashMap<&str, &RootEntry> = entries.iter().map(|e| (e.name.as_str(), e)).collect();
    let is_artifact = |e: &RootEntry| {
        !e.name.starts_with('.')
            && matches!(e.kind, EntryKind::File | EntryKind::Directory)
            && !marker_of(&e.name).is_some_and(|(stem, _)| by_name.contains_key(stem))
    };
    let mut sorted: Vec<&RootEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for e in &sorted {
        if e.name.starts_with('.') {
            continue;
        }
        match e.kind {
            EntryKind::Symlink => {
                out.warnings.push(format!(
                    "{} is a symlink: skipped, retention never follows or deletes links",
                    e.name
                ));
                continue;
            }
            EntryKind::Other => {
                out.warnings
                    .push(format!("{} is not a file or directory: skipped", e.name));
                continue;
            }
            _ => {}
        }
        if let Some((stem, marker)) = marker_of(&e.name) {
            match by_name.get(stem) {
                Some(a) if is_artifact(a) => {
                    out.sidecars
                        .entry(stem.to_string())
                        .or_default()
                        .push(e.name.clone());
                }
                _ => out.warnings.push(format!(
                    "{} is a {marker} marker, but there is no artifact {stem}: ignored",
                    e.name
                )),
            }
            continue;
        }
        let (base, partial) = match e
            .name
            .strip_suffix(".partial")
            .or_else(|| e.name.strip_suffix(".tmp"))
        {
            Some(b) => (b, true),
            None => (e.name.as_str(), false),
        };
        let created_at = match pattern.and_then(|p| time_from_name(base, p, tz)) {
            Some(t) => t,
            None => {
                if pattern.is_some() {
                    out.warnings.push(format!(
                        "{} does not match the name pattern: its modification time is used",
                        e.name
                    ));
                }
                e.modified
            }
        };
        let mut a = Artifact::new(e.name.clone(), created_at);
        a.size_bytes = Some(e.size_bytes);
        a.kind = Some(
            if e.kind == EntryKind::Directory {
                "directory"
            } else {
                "file"
            }
            .into(),
        );
        if partial {
            a.state = ArtifactState::Partial;
        }
        out.artifacts.push(a);
    }
    for a in &mut out.artifacts {
        for marker in out.sidecars.get(&a.id).into_iter().flatten() {
            let m = &by_name[marker.as_str()];
            match marker_of(marker).map(|(_, m)| m) {
                Some(".verified") => a.verified = true,
                Some(".pinned") => a.pinned = true,
                Some(".failed") => a.state = ArtifactState::Failed,
                Some(".used") => a.last_used_at = Some(m.modified),
                Some(".parent") => {
                    let p = m.content.as_deref().unwrap_or("").trim().to_string();
                    if p.is_empty() {
                        out.warnings
                            .push(format!("{marker} is empty: no parent recorded"));
                    } else {
                        a.parent = Some(p);
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: EntryKind) -> RootEntry {
        RootEntry {
            name: name.into(),
            kind,
            size_bytes: 10,
            modified: "2026-02-01T00:00:00Z".parse().unwrap(),
            content: None,
        }
    }

    #[test]
    fn conventions() {
        let mut parent = entry("layer2.parent", EntryKind::File);
        parent.content = Some("layer1\n".into());
        let entries = vec![
            entry("ssot_20260204_030000.sql.gz", EntryKind::File),
            entry("ssot_20260204_030000.sql.gz.verified", EntryKind::File),
            entry("ssot_20260205_030000.sql.gz.partial", EntryKind::File),
            entry("notes.txt", EntryKind::File),
            entry("layer1", EntryKind::Directory),
            entry("layer1.pinned", EntryKind::File),
            entry("layer2", EntryKind::Directory),
            parent,
            entry("gone.verified", EntryKind::File),
            entry("link", EntryKind::Symlink),
            entry(".ssot-retention.journal", EntryKind::File),
        ];
        let utc: Tz = "UTC".parse().unwrap();
        let l = artifacts_from_entries(&entries, Some("ssot_%Y%m%d_%H%M%S.sql.gz"), utc);
        let ids: Vec<&str> = l.artifacts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "layer1",
                "layer2",
                "notes.txt",
                "ssot_20260204_030000.sql.gz",
                "ssot_20260205_030000.sql.gz.partial"
            ]
        );
        let get = |id: &str| l.artifacts.iter().find(|a| a.id == id).unwrap();
        let dump = get("ssot_20260204_030000.sql.gz");
        assert!(dump.verified);
        assert_eq!(
            dump.created_at,
            "2026-02-04T03:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let partial = get("ssot_20260205_030000.sql.gz.partial");
        assert_eq!(partial.state, ArtifactState::Partial);
        assert_eq!(
            partial.created_at,
            "2026-02-05T03:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(get("layer1").pinned);
        assert_eq!(get("layer2").parent.as_deref(), Some("layer1"));
        assert_eq!(
            get("notes.txt").created_at,
            "2026-02-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            l.sidecars["ssot_20260204_030000.sql.gz"],
            ["ssot_20260204_030000.sql.gz.verified"]
        );
        let w = l.warnings.join("\n");
        assert!(
            w.contains("gone.verified is a .verified marker, but there is no artifact gone"),
            "{w}"
        );
        assert!(w.contains("link is a symlink"), "{w}");
        assert!(w.contains("notes.txt does not match"), "{w}");
    }

    #[test]
    fn name_times_use_the_policy_time_zone() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let t = time_from_name(
            "trend_generator_backup_20260704_030000.tar.gz",
            "trend_generator_backup_%Y%m%d_%H%M%S.tar.gz",
            berlin,
        );
        assert_eq!(t, Some("2026-07-04T01:00:00Z".parse().unwrap()));
        assert_eq!(
            time_from_name("daily-2026-07-04", "daily-%Y-%m-%d", berlin),
            Some("2026-07-03T22:00:00Z".parse().unwrap())
        );
        assert_eq!(time_from_name("other", "daily-%Y-%m-%d", berlin), None);
    }
}
