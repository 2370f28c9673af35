//! Evidence: backups, restore drills and DR drills as recorded facts
//! (seed: STAGE 8 restore drill, "restore as a fact, not a possibility";
//! seed 004 DR plan: RTO 15 min, RPO 5 min, quarterly drills).
//!
//! `ssot evidence ...` records into `backup.status`, `restore_drill.status`
//! and `dr_drill.status` through the `record_*` functions here; the report
//! judges them with the `*_section` functions. Both are pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::time::timestamp;
use crate::units::Span;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A directory.
    Directory,
    /// A regular file.
    File,
    /// Anything else that exists (a symlink where links are not followed, a FIFO, a device).
    Other,
}

/// Limits and targets for evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidencePolicy {
    /// The RPO backups are held to: the oldest acceptable newest complete backup.
    pub backup_max_age: Span,
    /// Oldest acceptable passed restore drill.
    pub restore_drill_max_age: Span,
    /// Oldest acceptable DR drill.
    pub dr_drill_max_age: Span,
    /// DR target: incident start to service restored (seed 004: 15 min).
    pub rto_target: Span,
    /// DR target: data lost, newest before the incident minus newest after restore (seed 004: 5 min).
    pub rpo_target: Span,
    /// A complete backup smaller than this share of the smallest of the
    /// recent complete backups of its kind is implausible (a dump that lost
    /// its data): see `size_drop`.
    pub size_drop_ratio: f64,
    /// `refuse` (default) or `warn` for an implausibly small backup.
    pub size_drop: SizeDrop,
    /// How long a passed restore drill keeps a backup verified (its
    /// `.verified` marker expires then and no longer counts for `min_verified`).
    pub verified_for: Span,
}

impl Default for EvidencePolicy {
    fn default() -> Self {
        EvidencePolicy {
            backup_max_age: Span::hours(25),
            restore_drill_max_age: Span::days(31),
            dr_drill_max_age: Span::days(92),
            rto_target: Span::mins(15),
            rpo_target: Span::mins(5),
            size_drop_ratio: 0.1,
            size_drop: SizeDrop::Refuse,
            verified_for: Span::days(35),
        }
    }
}

/// How a backup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BackupResult {
    /// Whole and usable.
    Complete,
    /// Interrupted.
    Partial,
    /// Failed.
    Failed,
}

impl BackupResult {
    /// `complete`, `partial`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupResult::Complete => "complete",
            BackupResult::Partial => "partial",
            BackupResult::Failed => "failed",
        }
    }
}

impl std::str::FromStr for BackupResult {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "complete" | "ok" | "pass" => Ok(BackupResult::Complete),
            "partial" => Ok(BackupResult::Partial),
            "failed" | "fail" => Ok(BackupResult::Failed),
            other => Err(Error::InvalidName {
                what: "backup result",
                value: other.into(),
                message: "expected complete, partial or failed".into(),
            }),
        }
    }
}

/// What reading a backup whole found (see
/// [`crate::ports::Filesystem::inspect_backup`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupInspection {
    /// A regular file, a directory, or anything else (a link, a special file: never followed).
    #[serde(skip)]
    pub kind: PathKind,
    /// Bytes read (a directory: its regular files summed).
    pub size_bytes: u64,
    /// SHA-256 of the content, hex (a directory: of its file list; see `host::inspect`).
    pub sha256: String,
    /// `custom`, `tar`, `gzip`, `gzip plain`, `plain`, `directory dump`, `directory` or `unknown`.
    pub format: String,
    /// Why the content is not a whole backup of its format, if it is not.
    pub problem: Option<String>,
    /// How the format was checked, if it was.
    pub checked_by: Option<String>,
    /// What could not be checked, and why.
    pub notes: Vec<String>,
}

/// The SHA-256 of `data`, hex: the checksum `evidence backup` records for a
/// file backup holding `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The kinds of backup `evidence backup --kind` accepts. A snapshot is not
/// one (seed STAGE 7), whatever it is called. Its serde name and
/// [`BackupKind::as_str`] are what `backup.status` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum BackupKind {
    /// `pg_dump`'s output (an archive pg_restore reads, or a plain script).
    #[serde(rename = "dump")]
    Dump,
    /// `pg_basebackup`.
    #[serde(rename = "basebackup")]
    Basebackup,
    /// pgBackRest.
    #[serde(rename = "pgbackrest")]
    Pgbackrest,
    /// Barman.
    #[serde(rename = "barman")]
    Barman,
    /// WAL-G.
    #[serde(rename = "wal-g")]
    WalG,
    /// pg_probackup.
    #[serde(rename = "pg_probackup")]
    PgProbackup,
    /// restic.
    #[serde(rename = "restic")]
    Restic,
    /// Borg.
    #[serde(rename = "borg")]
    Borg,
}

impl BackupKind {
    /// Every kind, in the order the refusal lists them.
    pub const ALL: [BackupKind; 8] = [
        BackupKind::Dump,
        BackupKind::Basebackup,
        BackupKind::Pgbackrest,
        BackupKind::Barman,
        BackupKind::WalG,
        BackupKind::PgProbackup,
        BackupKind::Restic,
        BackupKind::Borg,
    ];

    /// The name `--kind` takes and `backup.status` records.
    pub const fn as_str(self) -> &'static str {
        match self {
            BackupKind::Dump => "dump",
            BackupKind::Basebackup => "basebackup",
            BackupKind::Pgbackrest => "pgbackrest",
            BackupKind::Barman => "barman",
            BackupKind::WalG => "wal-g",
            BackupKind::PgProbackup => "pg_probackup",
            BackupKind::Restic => "restic",
            BackupKind::Borg => "borg",
        }
    }

    /// The formats a backup of this kind may have, when ssot knows them
    /// ([`DUMP_FORMATS`] for a dump); `None`: any format it reads whole.
    pub const fn formats(self) -> Option<&'static [&'static str]> {
        match self {
            BackupKind::Dump => Some(&DUMP_FORMATS),
            _ => None,
        }
    }
}

impl std::fmt::Display for BackupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A recorded kind (`backup.status` keeps it as text) names this kind.
impl PartialEq<BackupKind> for String {
    fn eq(&self, other: &BackupKind) -> bool {
        self == other.as_str()
    }
}

impl std::str::FromStr for BackupKind {
    type Err = Error;
    /// The kind named `kind`; any spelling of a snapshot is refused with the
    /// seed's reason, and an unknown kind with the list of known ones (both
    /// [`Error::EvidenceRefused`]).
    fn from_str(kind: &str) -> Result<Self> {
        if kind.to_ascii_lowercase().contains("snap") {
            return Err(Error::EvidenceRefused(format!(
                "kind {kind:?}: a snapshot is not a backup (seed STAGE 7: it is a storage fact, not a copy of the data); record backups only"
            )));
        }
        BackupKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| {
                let known: Vec<&str> = BackupKind::ALL.iter().map(|k| k.as_str()).collect();
                Error::EvidenceRefused(format!(
                    "kind {kind:?} is not a backup kind ssot knows: one of {}",
                    known.join(", ")
                ))
            })
    }
}

/// The formats a `dump` (pg_dump's output) may have: an archive pg_restore
/// reads, or a plain script (possibly gzip'd).
pub const DUMP_FORMATS: [&str; 5] = ["custom", "tar", "directory dump", "plain", "gzip plain"];

/// What to do when a backup is much smaller than the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeDrop {
    /// Refuse to record it as complete (the default).
    #[default]
    Refuse,
    /// Record it, with a warning.
    Warn,
}

/// A backup that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupEvidence {
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// When it started, if known.
    pub started_at: Option<DateTime<Utc>>,
    /// The artifact (file name or id).
    pub artifact: String,
    /// Where it was written (directory or URI).
    pub location: String,
    /// Outcome.
    pub result: BackupResult,
    /// Size, if known.
    pub size_bytes: Option<u64>,
    /// `dump` (pg_dump), `basebackup`, ...
    pub kind: BackupKind,
    /// Who ran it.
    pub recorded_by: String,
    /// Whether the location was on a different filesystem from every
    /// protected volume (PGDATA, pg_wal, the state directory), if checked.
    pub separate_from_pgdata: Option<bool>,
    /// SHA-256 of its content, measured when it was recorded (local backups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The format recognised, and how it was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// What was worth saying but did not refuse it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

pub(crate) fn no_breaks(field: &str, v: &str) -> Result<()> {
    if v.contains(['\n', '\r', '\0']) {
        return Err(Error::EvidenceRefused(format!(
            "{field} must not contain a line break"
        )));
    }
    Ok(())
}

pub(crate) fn duration_of(start: Option<DateTime<Utc>>, end: DateTime<Utc>) -> Result<Option<i64>> {
    match start {
        None => Ok(None),
        Some(s) if s > end => Err(Error::EvidenceRefused(format!(
            "started_at {} is after finished_at {}",
            timestamp(s),
            timestamp(end)
        ))),
        Some(s) => Ok(Some(
            (crate::time::whole_seconds(end) - crate::time::whole_seconds(s)).num_seconds(),
        )),
    }
}

/// Checks a backup's claims that need no I/O: a snapshot is not a backup
/// (seed STAGE 7), fields are single lines, it did not finish before it started.
pub fn validate_backup(e: &BackupEvidence) -> Result<()> {
    for (f, v) in [
        ("artifact", &e.artifact),
        ("location", &e.location),
        ("recorded_by", &e.recorded_by),
    ] {
        no_breaks(f, v)?;
    }
    duration_of(e.started_at, e.finished_at).map(drop)
}

/// The [`BackupKind`] named `kind`: any spelling of a snapshot is refused
/// with the seed's reason, an unknown kind with the list of known ones.
pub fn check_kind(kind: &str) -> Result<BackupKind> {
    kind.parse()
}

/// Judges what reading a complete backup found, against the sizes of the
/// recent complete backups of its kind: `Err` refuses it, `Ok` carries
/// warnings. Empty is always refused; a broken format too.
pub fn judge_backup(
    shown: &str,
    kind: &BackupKind,
    inspection: &BackupInspection,
    earlier_sizes: &[u64],
    policy: &EvidencePolicy,
) -> Result<Vec<String>> {
    let mut warnings = inspection.notes.clone();
    if inspection.size_bytes == 0 {
        return Err(Error::EvidenceRefused(format!(
            "{shown} is empty: an empty file is never a backup"
        )));
    }
    if let Some(problem) = &inspection.problem {
        return Err(Error::EvidenceRefused(format!(
            "{shown} is not a whole {} backup: {problem}",
            inspection.format
        )));
    }
    if kind
        .formats()
        .is_some_and(|f| !f.contains(&inspection.format.as_str()))
    {
        return Err(Error::EvidenceRefused(format!(
            "{shown} is not a pg_dump archive or script (its content is {}): a failed `pg_dump | gzip` writes exactly such a file; record a dump, or give the --kind it is",
            match inspection.format.as_str() {
                "gzip" => "gzip of something else",
                "unknown" => "not a format ssot knows",
                other => other,
            }
        )));
    }
    if let Some(&smallest) = earlier_sizes.iter().min() {
        let floor = smallest as f64 * policy.size_drop_ratio;
        if (inspection.size_bytes as f64) < floor {
            let text = format!(
                "{shown} holds {}, less than {} of the smallest recent complete backup ({}): implausibly small (evidence.size_drop_ratio)",
                crate::num::human_bytes(inspection.size_bytes),
                crate::num::pct(policy.size_drop_ratio * 100.0),
                crate::num::human_bytes(smallest)
            );
            match policy.size_drop {
                SizeDrop::Refuse => {
                    return Err(Error::EvidenceRefused(format!(
                        "{text}; set evidence.size_drop = \"warn\" to record such backups with a warning"
                    )))
                }
                SizeDrop::Warn => warnings.push(text),
            }
        }
    }
    Ok(warnings)
}

/// Escapes control characters (a line break becomes `\n`) and bounds the
/// text to [`NOTES_MAX`] characters, so any tool output can be a note.
pub fn sanitize_notes(notes: &str) -> String {
    let trimmed = notes.trim_end();
    match trimmed.char_indices().nth(NOTES_MAX) {
        Some((cut, _)) => format!("{} …(cut)", one_line(&trimmed[..cut])),
        None => one_line(trimmed),
    }
}

/// `text` with every control character escaped (`\n`, `\u{1b}`), so it stays
/// one line of a state file whatever tool output it quotes.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The longest note kept (characters).
pub const NOTES_MAX: usize = 2000;

/// What `ssot verify` found for one recorded backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BackupCheck {
    /// The artifact.
    pub artifact: String,
    /// Where it was recorded.
    pub location: String,
    /// `ok`, `failed` or `not_checked` (a remote location).
    pub result: &'static str,
    /// What is wrong, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A restore drill that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RestoreDrillEvidence {
    /// When it finished.
    pub finished_at: DateTime<Utc>,
    /// When it started, if known.
    pub started_at: Option<DateTime<Utc>>,
    /// The backup artifact restored.
    pub artifact: String,
    /// Whether the restored database came up and checked out.
    pub passed: bool,
    /// Who ran it.
    pub recorded_by: String,
    /// Free text (control characters escaped, bounded: [`sanitize_notes`]).
    pub notes: String,
    /// On a pass: until when the backup counts as verified.
    pub verified_until: Option<DateTime<Utc>>,
    /// On a pass: the SHA-256 of the backup the drill restored (its
    /// recorded checksum, still matching), which a `.verified` marker must
    /// name; `None` for a remote backup.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// A DR drill: an incident simulated at `t0` and recovered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrDrillEvidence {
    /// What was simulated ("loss of the primary DB instance").
    pub scenario: String,
    /// T0: when the incident started.
    pub t0: DateTime<Utc>,
    /// When the critical function was restored.
    pub restored_at: DateTime<Utc>,
    /// Newest data that existed before the incident.
    pub newest_data_before: DateTime<Utc>,
    /// Newest data present after the restore.
    pub newest_data_after: DateTime<Utc>,
    /// Who ran it.
    pub recorded_by: String,
}

/// Measured RTO/RPO against the targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DrOutcome {
    /// `restored_at − t0`, seconds.
    pub rto_seconds: i64,
    /// `newest_data_before − newest_data_after`, seconds (0 when nothing was lost).
    pub rpo_seconds: i64,
    /// RTO target, seconds.
    pub rto_target_seconds: i64,
    /// RPO target, seconds.
    pub rpo_target_seconds: i64,
    /// Both within target.
    pub passed: bool,
}

/// Computes a DR drill's RTO and RPO; errors on impossible times.
pub fn dr_outcome(e: &DrDrillEvidence, policy: &EvidencePolicy) -> Result<DrOutcome> {
    if e.restored_at < e.t0 {
        return Err(Error::EvidenceRefused(format!(
            "restored_at {} is before the incident start t0 {}",
            timestamp(e.restored_at),
            timestamp(e.t0)
        )));
    }
    // From the times as `dr_drill.status` keeps them (whole seconds), so the
    // record's RTO and RPO agree with its own times when read back.
    let s = crate::time::whole_seconds;
    let rto = (s(e.restored_at) - s(e.t0)).num_seconds();
    let rpo = (s(e.newest_data_before) - s(e.newest_data_after))
        .num_seconds()
        .max(0);
    let (rto_t, rpo_t) = (
        policy.rto_target.as_secs() as i64,
        policy.rpo_target.as_secs() as i64,
    );
    Ok(DrOutcome {
        rto_seconds: rto,
        rpo_seconds: rpo,
        rto_target_seconds: rto_t,
        rpo_target_seconds: rpo_t,
        passed: rto <= rto_t && rpo <= rpo_t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backup_kind_round_trips_through_its_name_serde_and_display() {
        for kind in BackupKind::ALL {
            let name = kind.as_str();
            assert_eq!(name.parse::<BackupKind>().unwrap(), kind);
            assert_eq!(check_kind(name).unwrap(), kind);
            assert!(name.to_string() == kind);
            assert!(name.to_uppercase() != kind);
            assert_eq!(kind.to_string(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name, "{kind:?}");
            assert_eq!(
                serde_json::from_value::<BackupKind>(name.into()).unwrap(),
                kind
            );
        }
        assert_eq!(BackupKind::Dump.formats(), Some(&DUMP_FORMATS[..]));
        assert!(BackupKind::ALL[1..].iter().all(|k| k.formats().is_none()));
    }

    #[test]
    fn a_snapshot_and_an_unknown_kind_are_refused() {
        for snap in ["snapshot", "VolumeSnapshot", "zfs-snap"] {
            let e = check_kind(snap).unwrap_err();
            assert!(matches!(e, Error::EvidenceRefused(_)), "{snap}");
            assert!(
                e.to_string().contains("a snapshot is not a backup"),
                "{snap}"
            );
        }
        let e = check_kind("Dump").unwrap_err().to_string();
        assert!(
            e.contains("kind \"Dump\" is not a backup kind ssot knows: one of dump, basebackup, pgbackrest, barman, wal-g, pg_probackup, restic, borg"),
            "{e}"
        );
    }
}
