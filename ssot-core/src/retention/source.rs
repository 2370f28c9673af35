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
//!   for least-recently-used eviction), `N.tags` (`N`'s tags, one a line, for
//!   `keep_tags`). A marker whose artifact is absent is reported and ignored.

use std::collections::{BTreeMap, HashMap};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::guard::{self, FileId, Protected};
use super::restic::go_local_to_utc;
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

impl EntryKind {
    fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "a regular file",
            EntryKind::Directory => "a directory",
            EntryKind::Symlink => "a symbolic link",
            EntryKind::Other => "a special file",
        }
    }
}

/// What was read from a `.parent` marker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerContent {
    /// Its text.
    Text(String),
    /// Why it could not be read (too large, not UTF-8, an I/O error).
    Unreadable(String),
}

/// One entry of an artifact root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RootEntry {
    /// The entry's name (lossily decoded when not UTF-8; see `name_is_utf8`).
    pub name: String,
    /// False when the name is not valid UTF-8: such an entry is never touched.
    #[serde(default = "yes")]
    pub name_is_utf8: bool,
    /// Its kind.
    pub kind: EntryKind,
    /// Apparent size; for a directory, the sum over its files (links not followed).
    pub size_bytes: u64,
    /// Modification time.
    pub modified: DateTime<Utc>,
    /// Content of a `.parent` marker, if this is one.
    #[serde(default)]
    pub content: Option<MarkerContent>,
    /// Device and inode, to recognise protected directories.
    #[serde(default)]
    pub file_id: Option<FileId>,
    /// Why the entry cannot be deleted safely (a directory that holds a
    /// mount, one too deep to walk): the artifact is kept with this reason.
    #[serde(default)]
    pub held: Option<String>,
    /// SHA-256 of the entry's content (a directory: of its file list), read
    /// only for an artifact that has a `.verified` marker.
    #[serde(default)]
    pub sha256: Option<String>,
}

fn yes() -> bool {
    true
}

/// Sidecar marker suffixes.
pub const MARKERS: [&str; 6] = [
    ".verified",
    ".pinned",
    ".failed",
    ".parent",
    ".used",
    ".tags",
];

/// A sidecar marker ssot writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `N.verified`: a restore drill of `N` passed.
    Verified,
}

impl Marker {
    /// The suffix, one of [`MARKERS`].
    pub const fn suffix(self) -> &'static str {
        match self {
            Marker::Verified => ".verified",
        }
    }
}

/// What a `.verified` marker says: the checksum of the backup the drill
/// restored, and until when that proof counts. A marker without these (or
/// expired, or naming another checksum than the artifact's) counts for
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedMarker {
    /// SHA-256 of the artifact when the drill passed.
    pub sha256: String,
    /// When the drill passed.
    pub verified_at: DateTime<Utc>,
    /// Until when it counts for `min_verified`.
    pub expires_at: DateTime<Utc>,
}

impl VerifiedMarker {
    /// The marker's text.
    pub fn render(&self) -> String {
        format!(
            "sha256={}\nverified_at={}\nexpires_at={}\n",
            self.sha256,
            crate::time::timestamp(self.verified_at),
            crate::time::timestamp(self.expires_at)
        )
    }

    /// Reads a marker's text; why it says nothing usable otherwise.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut sha256 = None;
        let mut verified_at = None;
        let mut expires_at = None;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim();
            match k.trim() {
                "sha256" => sha256 = Some(v.to_string()),
                "verified_at" => verified_at = crate::time::parse_timestamp(v).ok(),
                "expires_at" => expires_at = crate::time::parse_timestamp(v).ok(),
                _ => {}
            }
        }
        match (sha256, verified_at, expires_at) {
            (Some(sha256), Some(verified_at), Some(expires_at))
                if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Ok(VerifiedMarker {
                    sha256,
                    verified_at,
                    expires_at,
                })
            }
            _ => Err("has no checksum and expiry (sha256=, verified_at=, expires_at=): it proves nothing; run a restore drill to verify the backup again".into()),
        }
    }
}

/// What `restore_drill.status` says about drilled backups: the record a
/// `.verified` marker must point to. A marker is written by a recorded
/// drill; one that no recorded drill backs (hand-written, copied, or left
/// after a later drill failed) counts for nothing, and the record's expiry
/// caps the marker's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillProofs {
    /// The record was read: each backup whose last drill passed.
    Read(BTreeMap<String, DrillPass>),
    /// No drill is recorded (the file is missing; the text says where).
    Missing(String),
    /// The record cannot be trusted (the text names the file and the
    /// problem): no marker can be checked, so every marked artifact is kept.
    Unreadable(String),
}

/// A passed drill of one backup, as `restore_drill.status` records it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DrillPass {
    /// Until when the pass counts (`None`: recorded before expiries existed).
    pub until: Option<DateTime<Utc>>,
    /// The SHA-256 of the content the drill restored (`None`: not recorded).
    pub sha256: Option<String>,
}

/// The name of `marker` for the artifact `id`, which must be a valid id
/// (see [`crate::retention::validate_id`]): the name the listing reads back
/// as that artifact's marker.
pub fn marker_name(id: &str, marker: Marker) -> crate::Result<String> {
    super::validate_id(id)?;
    Ok(format!("{id}{}", marker.suffix()))
}

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

fn marker_of(name: &str) -> Option<(&str, &'static str)> {
    MARKERS
        .iter()
        .find_map(|m| name.strip_suffix(m).map(|stem| (stem, *m)))
        .filter(|(stem, _)| !stem.is_empty())
}

/// Why a name cannot be handled safely (deleted, journalled, recorded), if it cannot.
pub fn unhandled_name(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        Some("contains a control character (a line break, a tab, ...)")
    } else {
        None
    }
}

/// Checks a strftime `pattern` for entry names: every specifier must be
/// valid and the pattern must recover at least a date (a name written with
/// it reads back to the same day).
pub fn validate_pattern(pattern: &str) -> crate::Result<()> {
    let invalid = |message: &str| crate::Error::InvalidName {
        what: "strftime pattern",
        value: pattern.into(),
        message: message.into(),
    };
    if StrftimeItems::new(pattern).any(|i| matches!(i, Item::Error)) {
        return Err(invalid("it has an unknown or incomplete % specifier"));
    }
    let sample = NaiveDate::from_ymd_opt(2001, 2, 3)
        .and_then(|d| d.and_hms_opt(4, 5, 6))
        .unwrap_or_default();
    // A specifier the naive sample cannot render (`%z`, `%Z`: no offset)
    // makes formatting fail: that is an invalid pattern, never a panic.
    let mut name = String::new();
    if std::fmt::Write::write_fmt(&mut name, format_args!("{}", sample.format(pattern))).is_err() {
        return Err(invalid(
            "it has a specifier a name cannot hold (a time-zone offset such as %z or %Z): names are read in the policy's timezone",
        ));
    }
    let back = NaiveDateTime::parse_from_str(&name, pattern)
        .map(|t| t.date())
        .or_else(|_| NaiveDate::parse_from_str(&name, pattern));
    match back {
        Ok(d) if d == sample.date() => Ok(()),
        _ => Err(invalid(
            "it cannot recover a date from a name: it needs at least a year, month and day (e.g. ssot_%Y%m%d_%H%M%S.sql.gz)",
        )),
    }
}

/// Reads a creation time from `name` with a strftime `pattern` in `tz`. A
/// local time in a DST gap or overlap resolves the way `keep_within` does
/// (Go's rules, as restic): in a gap it moves forward by the gap, in an
/// overlap it takes the later instant.
pub fn time_from_name(name: &str, pattern: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(name, pattern)
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(name, pattern)
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    go_local_to_utc(naive, tz)
}

/// The parent id a `.parent` marker names, or why it names none for sure.
fn parent_from_marker(content: Option<&MarkerContent>) -> std::result::Result<String, String> {
    let text = match content {
        Some(MarkerContent::Text(t)) => t,
        Some(MarkerContent::Unreadable(why)) => return Err(format!("is unreadable: {why}")),
        None => return Err("was not read".into()),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        [] => Err("is empty".into()),
        [one] => match super::validate_id(one) {
            Ok(()) => Ok(one.to_string()),
            Err(e) => Err(format!("does not name an artifact: {e}")),
        },
        more => Err(format!("is ambiguous: it names {} artifacts", more.len())),
    }
}

/// The entries retention may handle: not hidden, a UTF-8 name it can
/// handle, not (holding) a protected path; the others are warned about.
fn usable_entries<'a>(
    entries: &'a [RootEntry],
    protected: &[Protected],
    warnings: &mut Vec<String>,
) -> Vec<&'a RootEntry> {
    let mut usable: Vec<&RootEntry> = Vec::new();
    for e in entries {
        if e.name.starts_with('.') {
            continue;
        }
        if !e.name_is_utf8 {
            warnings.push(format!(
                "{} has a name that is not valid UTF-8: skipped, never deleted (rename it to let retention handle it)",
                e.name.escape_debug()
            ));
            continue;
        }
        if let Some(why) = unhandled_name(&e.name) {
            warnings.push(format!(
                "\"{}\" {why}: skipped, never deleted (rename it to let retention handle it)",
                e.name.escape_debug()
            ));
            continue;
        }
        if let Some(p) = e.file_id.and_then(|id| guard::is_protected(id, protected)) {
            warnings.push(format!(
                "{} is or holds {}: never listed, never deleted",
                e.name,
                guard::describe(p)
            ));
            continue;
        }
        usable.push(e);
    }
    usable
}

/// The artifact an entry is: its time from its name (`pattern`, else its
/// modification time), size, kind, hold, and whether it is partial.
fn artifact_of(
    e: &RootEntry,
    pattern: Option<&str>,
    tz: Tz,
    warnings: &mut Vec<String>,
) -> Artifact {
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
                warnings.push(format!(
                    "{} does not match the name pattern: its modification time is used",
                    e.name
                ));
            }
            e.modified
        }
    };
    let mut a = Artifact::new(e.name.clone(), created_at);
    a.size_bytes = Some(e.size_bytes);
    a.held = e.held.clone();
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
    a
}

/// A `.verified` marker counts (the artifact is verified) only when it
/// parses, has not expired, names the artifact's checksum, and a passed
/// restore drill of that content is recorded and still counts; otherwise a
/// warning says why (and an unreadable drill record holds the artifact).
#[allow(clippy::too_many_arguments)]
fn verified_marker(
    a: &mut Artifact,
    marker: &str,
    m: &RootEntry,
    entry: Option<&RootEntry>,
    drills: &DrillProofs,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) {
    let proof = match m.content.as_ref() {
        Some(MarkerContent::Text(t)) => VerifiedMarker::parse(t),
        Some(MarkerContent::Unreadable(why)) => Err(format!("is unreadable: {why}")),
        None => Err("was not read".into()),
    };
    match proof {
        Err(why) => warnings.push(format!(
            "{marker} {why}: {} is not counted as verified",
            a.id
        )),
        Ok(v) if v.expires_at <= now => warnings.push(format!(
            "{marker} expired at {}: {} is not counted as verified (run a restore drill again)",
            crate::time::timestamp(v.expires_at),
            a.id
        )),
        Ok(v) if entry.and_then(|e| e.sha256.as_deref()) != Some(v.sha256.as_str()) => {
            warnings.push(format!(
                "{marker} names another checksum than {}'s content: the backup changed since its drill; not counted as verified",
                a.id
            ))
        }
        Ok(_) => match drills {
            DrillProofs::Read(passed) => match passed.get(&a.id) {
                None => warnings.push(format!(
                    "{marker}: no passed restore drill of {} is recorded: not counted as verified (a marker counts only for a drill ssot recorded)",
                    a.id
                )),
                Some(DrillPass { until: None, .. }) => warnings.push(format!(
                    "{marker}: the recorded drill of {} has no expiry: not counted as verified (run a restore drill again)",
                    a.id
                )),
                Some(DrillPass { until: Some(until), .. }) if *until <= now => {
                    warnings.push(format!(
                        "{marker}: the recorded drill of {} counted until {}: not counted as verified (run a restore drill again)",
                        a.id,
                        crate::time::timestamp(*until)
                    ))
                }
                Some(DrillPass { sha256, .. })
                    if sha256.is_none()
                        || entry.and_then(|e| e.sha256.as_deref())
                            != sha256.as_deref() =>
                {
                    warnings.push(format!(
                        "{marker}: {}'s content is not what its recorded drill restored (restore_drill.status {}): not counted as verified",
                        a.id,
                        if sha256.is_none() { "has no checksum for it" } else { "names another checksum" }
                    ))
                }
                Some(_) => a.verified = true,
            },
            DrillProofs::Missing(why) => warnings.push(format!(
                "{marker}: no restore drill is recorded ({why}): {} is not counted as verified",
                a.id
            )),
            DrillProofs::Unreadable(why) => {
                warnings.push(format!(
                    "{marker} cannot be checked against the drill record ({why}): {} is kept",
                    a.id
                ));
                a.held = Some(format!(
                    "its .verified marker cannot be checked: {why}"
                ));
            }
        },
    }
}

/// What an artifact's markers say: `.verified` (checked against the drill
/// record), `.pinned`, `.failed`, `.used`, `.tags` and `.parent`; a marker
/// that cannot be read keeps the artifact, with a warning.
fn apply_markers(
    a: &mut Artifact,
    markers: &[String],
    by_name: &HashMap<&str, &RootEntry>,
    drills: &DrillProofs,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) {
    for marker in markers {
        let m = by_name[marker.as_str()];
        match marker_of(marker).map(|(_, m)| m) {
            Some(".verified") => {
                let entry = by_name.get(a.id.as_str()).copied();
                verified_marker(a, marker, m, entry, drills, now, warnings);
            }
            Some(".pinned") => a.pinned = true,
            Some(".failed") => a.state = ArtifactState::Failed,
            Some(".used") => a.last_used_at = Some(m.modified),
            Some(".tags") => match m.content.as_ref() {
                Some(MarkerContent::Text(t)) => {
                    a.tags = t
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from)
                        .collect();
                }
                other => {
                    let why = match other {
                        Some(MarkerContent::Unreadable(why)) => why.as_str(),
                        _ => "was not read",
                    };
                    warnings.push(format!(
                        "{marker} {why}: {} is kept as if pinned (a keep_tags rule might want it)",
                        a.id
                    ));
                    a.pinned = true;
                }
            },
            Some(".parent") => match parent_from_marker(m.content.as_ref()) {
                Ok(p) => a.parent = Some(p),
                Err(why) => {
                    warnings.push(format!(
                        "{marker} {why}: {} is kept, with every artifact it might depend on",
                        a.id
                    ));
                    a.parent_unknown = true;
                }
            },
            _ => {}
        }
    }
}

/// Builds artifacts from a root's entries at `now` (a `.verified` marker
/// counts only until its expiry, and only for the checksum it names).
/// Entries that are, or contain, a
/// `protected` path are never listed; an entry that cannot be handled
/// safely (a name that is not UTF-8 or holds a control character, a marker
/// that is not a regular file) is skipped with a warning and never deleted.
pub fn artifacts_from_entries(
    entries: &[RootEntry],
    pattern: Option<&str>,
    tz: Tz,
    protected: &[Protected],
    drills: &DrillProofs,
    now: DateTime<Utc>,
) -> Listing {
    let mut out = Listing::default();
    let usable = usable_entries(entries, protected, &mut out.warnings);
    let by_name: HashMap<&str, &RootEntry> = usable.iter().map(|e| (e.name.as_str(), *e)).collect();
    let is_artifact_entry =
        |e: &RootEntry| matches!(e.kind, EntryKind::File | EntryKind::Directory);
    // An entry is a marker when its stem names an artifact entry.
    let marker_stem = |e: &RootEntry| -> Option<(String, &'static str)> {
        let (stem, m) = marker_of(&e.name)?;
        let target = by_name.get(stem)?;
        is_artifact_entry(target).then(|| (stem.to_string(), m))
    };
    // Artifacts whose markers cannot be trusted: never deleted.
    let mut unhandleable: BTreeMap<String, String> = BTreeMap::new();
    let mut sorted = usable.clone();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    for e in &sorted {
        if let Some((stem, marker)) = marker_stem(e) {
            if e.kind == EntryKind::File {
                out.sidecars.entry(stem).or_default().push(e.name.clone());
            } else {
                unhandleable.entry(stem.clone()).or_insert_with(|| {
                    format!(
                        "its {marker} marker {} is {}, not a regular file",
                        e.name,
                        e.kind.describe()
                    )
                });
            }
            continue;
        }
        if let Some((stem, marker)) = marker_of(&e.name) {
            if !by_name.contains_key(stem) {
                out.warnings.push(format!(
                    "{} is a {marker} marker, but there is no artifact {stem}: ignored",
                    e.name
                ));
                continue;
            }
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
        let a = artifact_of(e, pattern, tz, &mut out.warnings);
        out.artifacts.push(a);
    }
    for (id, why) in &unhandleable {
        out.warnings.push(format!(
            "{id}: {why}: skipped, never deleted, with its markers (fix the marker to let retention handle it)"
        ));
    }
    // An artifact whose markers cannot be trusted is kept (never deleted),
    // and one whose `.parent` marker cannot be read might depend on any
    // other: everything it might need is kept too.
    for a in &mut out.artifacts {
        if let Some(why) = unhandleable.get(&a.id) {
            a.held = Some(format!("{why}: kept, with its markers"));
            a.parent_unknown |= why.contains(".parent marker");
        }
    }
    for id in unhandleable.keys() {
        out.sidecars.remove(id);
    }
    for a in &mut out.artifacts {
        let markers = out
            .sidecars
            .get(&a.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        apply_markers(a, markers, &by_name, drills, now, &mut out.warnings);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, kind: EntryKind) -> RootEntry {
        RootEntry {
            name: name.into(),
            name_is_utf8: true,
            kind,
            size_bytes: 10,
            modified: "2026-02-01T00:00:00Z".parse().unwrap(),
            content: None,
            file_id: None,
            held: None,
            sha256: None,
        }
    }

    /// A drill record naming `id` as passed with content `sha256`, counting until `until`.
    fn drilled_with(id: &str, until: &str, sha256: &str) -> DrillProofs {
        DrillProofs::Read(BTreeMap::from([(
            id.to_string(),
            DrillPass {
                until: Some(until.parse().unwrap()),
                sha256: Some(sha256.into()),
            },
        )]))
    }

    /// [`drilled_with`] the content of [`marked_dump`].
    fn drilled(id: &str, until: &str) -> DrillProofs {
        drilled_with(id, until, &"cd".repeat(32))
    }

    /// A dump with a well-formed marker (right checksum, expiry after now),
    /// listed against `drills`.
    fn marked_dump(drills: &DrillProofs) -> Listing {
        let mut dump = entry("d.sql.gz", EntryKind::File);
        dump.sha256 = Some("cd".repeat(32));
        let mut m = entry("d.sql.gz.verified", EntryKind::File);
        m.content = Some(MarkerContent::Text(format!(
            "sha256={}\nverified_at=2026-02-04T04:00:00Z\nexpires_at=2099-01-01T00:00:00Z\n",
            "cd".repeat(32)
        )));
        let utc: Tz = "UTC".parse().unwrap();
        artifacts_from_entries(
            &[dump, m],
            None,
            utc,
            &[],
            drills,
            "2026-02-05T12:00:00Z".parse().unwrap(),
        )
    }

    /// A marker counts only for a passed drill ssot recorded, until the
    /// record's expiry (not the marker's); an unreadable record keeps the
    /// marked artifact.
    #[test]
    fn a_marker_counts_only_for_a_recorded_drill() {
        let l = marked_dump(&drilled("d.sql.gz", "2026-03-01T00:00:00Z"));
        assert!(l.artifacts[0].verified, "{:?}", l.warnings);

        let l = marked_dump(&drilled("other.sql.gz", "2026-03-01T00:00:00Z"));
        assert!(!l.artifacts[0].verified);
        assert!(
            l.warnings[0].contains("no passed restore drill of d.sql.gz"),
            "{:?}",
            l.warnings
        );

        // The marker says 2099; the record says the pass ended yesterday.
        let l = marked_dump(&drilled("d.sql.gz", "2026-02-04T12:00:00Z"));
        assert!(!l.artifacts[0].verified);
        assert!(
            l.warnings[0].contains("counted until 2026-02-04T12:00:00Z"),
            "{:?}",
            l.warnings
        );

        let l = marked_dump(&DrillProofs::Read(BTreeMap::from([(
            "d.sql.gz".to_string(),
            DrillPass {
                until: None,
                sha256: Some("cd".repeat(32)),
            },
        )])));
        assert!(!l.artifacts[0].verified);
        assert!(l.warnings[0].contains("no expiry"), "{:?}", l.warnings);

        // The marker and the content agree, but the drill restored other
        // content: the backup was swapped and its marker rewritten.
        let l = marked_dump(&drilled_with(
            "d.sql.gz",
            "2026-03-01T00:00:00Z",
            &"ef".repeat(32),
        ));
        assert!(!l.artifacts[0].verified);
        assert!(
            l.warnings[0].contains("not what its recorded drill restored"),
            "{:?}",
            l.warnings
        );

        let l = marked_dump(&DrillProofs::Missing(
            "/s/restore_drill.status is missing".into(),
        ));
        assert!(!l.artifacts[0].verified);
        assert!(l.artifacts[0].held.is_none());
        assert!(
            l.warnings[0].contains("no restore drill is recorded"),
            "{:?}",
            l.warnings
        );

        let l = marked_dump(&DrillProofs::Unreadable(
            "/s/restore_drill.status: corrupt".into(),
        ));
        assert!(!l.artifacts[0].verified);
        let held = l.artifacts[0].held.as_deref().unwrap_or_default();
        assert!(held.contains("/s/restore_drill.status: corrupt"), "{held}");
    }

    #[test]
    fn conventions() {
        let mut parent = entry("layer2.parent", EntryKind::File);
        parent.content = Some(MarkerContent::Text("layer1\n".into()));
        let mut dump = entry("ssot_20260204_030000.sql.gz", EntryKind::File);
        dump.sha256 = Some("ab".repeat(32));
        let entries = vec![
            dump,
            {
                let mut m = entry("ssot_20260204_030000.sql.gz.verified", EntryKind::File);
                m.content = Some(MarkerContent::Text(format!(
                    "sha256={}\nverified_at=2026-02-04T04:00:00Z\nexpires_at=2026-03-01T00:00:00Z\n",
                    "ab".repeat(32)
                )));
                m
            },
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
        let l = artifacts_from_entries(
            &entries,
            Some("ssot_%Y%m%d_%H%M%S.sql.gz"),
            utc,
            &[],
            &drilled_with(
                "ssot_20260204_030000.sql.gz",
                "2026-03-10T00:00:00Z",
                &"ab".repeat(32),
            ),
            "2026-02-05T12:00:00Z".parse().unwrap(),
        );
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
