//! The disk guard (seed: "Предпроверки перед бэкапом", STAGE 15.3 disk guard).
//!
//! Before a backup, snapshot or restore writes to a target directory, the
//! guard checks that the target exists, is a writable directory, lies on a
//! different filesystem (device id) from the SSOT volumes (PGDATA and, when
//! it is elsewhere, pg_wal), and keeps both a percentage and an absolute
//! amount of free space *after* the operation's estimated size.
//!
//! [`guard`] is pure: the facts come from [`crate::ports::Filesystem`] and
//! [`crate::ports::VolumeProbe`].

use serde::{Deserialize, Serialize};

use crate::check::{Check, GateCheck};
use crate::num::{human_bytes, pct, pct_floor_2};
use crate::units::ByteSize;
use crate::wal::VolumeStats;

/// What was found at the target path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct TargetFacts {
    /// The target as given.
    pub path: String,
    /// The path exists (after following symlinks).
    pub exists: bool,
    /// It is a directory.
    pub is_dir: bool,
    /// Why a probe file could not be created and removed there; `None` when it could.
    pub write_error: Option<String>,
    /// Device id of the filesystem holding it.
    pub device: Option<u64>,
    /// Size of that filesystem.
    pub volume: Option<VolumeStats>,
    /// Why `device`/`volume` could not be read, if they could not.
    pub probe_error: Option<String>,
}

/// A volume that backups must never land on (PGDATA, pg_wal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedVolume {
    /// `PGDATA` or `pg_wal`.
    pub label: String,
    /// Its path.
    pub path: String,
    /// Its device id, if it could be read.
    #[serde(default)]
    pub device: Option<u64>,
    /// Why the device id could not be read.
    #[serde(default)]
    pub error: Option<String>,
}

/// Facts for one disk-guard evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskFacts {
    /// The target directory.
    pub target: TargetFacts,
    /// The SSOT volumes the target must be separate from; empty when PGDATA is unknown.
    #[serde(default)]
    pub protected: Vec<ProtectedVolume>,
    /// Bytes the operation is expected to write.
    #[serde(default)]
    pub estimated_bytes: u64,
    /// Where the estimate came from (`--estimate`, newest file in the target, ...).
    #[serde(default)]
    pub estimate_source: String,
    /// The identities of the target and its ancestors (see
    /// [`crate::retention::guard`]); with `protected_paths`, a target that is,
    /// holds or lies inside PGDATA, pg_wal or the state directory is refused
    /// whatever the devices (a separate PGDATA mount shares no device with its parent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_lineage: Option<crate::retention::guard::Lineage>,
    /// The paths a target must never be, hold or lie inside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_paths: Vec<crate::retention::guard::Protected>,
}

/// Free-space floors that must hold after the operation (seed: "X% или X GiB").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskPolicy {
    /// Minimum % of the target volume that must stay available.
    pub min_free_pct: f64,
    /// Minimum bytes that must stay available.
    pub min_free_bytes: ByteSize,
}

impl Default for DiskPolicy {
    fn default() -> Self {
        DiskPolicy {
            min_free_pct: 10.0,
            min_free_bytes: ByteSize::gib(1),
        }
    }
}

impl DiskPolicy {
    /// Checks the policy; the message names the key.
    pub fn validate(&self) -> crate::Result<()> {
        if !(self.min_free_pct.is_finite() && (0.0..100.0).contains(&self.min_free_pct)) {
            return Err(crate::Error::key(
                "disk.min_free_pct",
                "must be in [0, 100)",
            ));
        }
        Ok(())
    }
}

/// Why `target` overlaps a protected path (is, holds, or lies inside it),
/// by file identity; `None` when it does not.
pub fn overlap(
    target: &crate::retention::guard::Lineage,
    protected: &[crate::retention::guard::Protected],
) -> Option<String> {
    for p in protected {
        let what = crate::retention::guard::describe(p);
        if let Some(tid) = target.id() {
            if p.lineage.is_within(tid) {
                let how = if p.lineage.id() == Some(tid) {
                    "is"
                } else {
                    "holds"
                };
                return Some(format!(
                    "target {} {how} {what}: writing there could destroy it",
                    target.path
                ));
            }
        }
        if let Some(pid) = p.lineage.id() {
            if target.is_within(pid) {
                return Some(format!(
                    "target {} lies inside {what}: writing there could destroy it",
                    target.path
                ));
            }
        }
        // A mount below the target that shows PGDATA (or a part of it).
        if let Some(ps) = &p.lineage.source {
            if let Some(m) = target
                .mounts_below
                .iter()
                .find(|m| ps.within(m) || m.within(ps))
            {
                return Some(format!(
                    "target {} holds a mount of {} on {}, which is or holds {what}: writing there could destroy it",
                    target.path, m.path, m.device
                ));
            }
        }
        // The same directories reached through another mount (a bind mount).
        if let (Some(t), Some(ps)) = (&target.source, &p.lineage.source) {
            if target.exists && ps.within(t) {
                return Some(format!(
                    "target {} holds {what} (through a mount: both are {} on {}): writing there could destroy it",
                    target.path, ps.path, ps.device
                ));
            }
            if p.lineage.exists && t.within(ps) {
                return Some(format!(
                    "target {} lies inside {what} (through a mount: {} on {}): writing there could destroy it",
                    target.path, t.path, t.device
                ));
            }
        }
    }
    None
}

/// How many of the newest backups in a target size the next one.
pub const ESTIMATE_FROM: usize = 5;

/// The size the next backup into a target is expected to have: the largest
/// of the [`ESTIMATE_FROM`] newest entries that are backups — matching
/// `pattern` when one is given (read in UTC), never a hidden entry, a
/// sidecar marker (`.verified`, `.pinned`, ...) or a partial one
/// (`.partial`, `.tmp`). The entry named, or `None` when there is none.
pub fn estimate_from_entries(
    entries: &[crate::retention::source::RootEntry],
    pattern: Option<&str>,
) -> Option<(String, u64)> {
    use crate::retention::source::{time_from_name, EntryKind, MARKERS};
    let mut backups: Vec<_> = entries
        .iter()
        .filter(|e| e.name_is_utf8 && matches!(e.kind, EntryKind::File | EntryKind::Directory))
        .filter(|e| !e.name.starts_with('.'))
        .filter(|e| !MARKERS.iter().any(|m| e.name.ends_with(m)))
        .filter(|e| !(e.name.ends_with(".partial") || e.name.ends_with(".tmp")))
        .filter(|e| pattern.is_none_or(|p| time_from_name(&e.name, p, chrono_tz::UTC).is_some()))
        .collect();
    backups.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| a.name.cmp(&b.name))
    });
    backups
        .into_iter()
        .take(ESTIMATE_FROM)
        .max_by(|a, b| {
            a.size_bytes
                .cmp(&b.size_bytes)
                .then_with(|| b.name.cmp(&a.name))
        })
        .map(|e| (e.name.clone(), e.size_bytes))
}

/// `separate_filesystem`: the target is on another filesystem than each
/// protected path (PGDATA, pg_wal, the state directory); failed when none is known.
fn separate_filesystem_checks(facts: &DiskFacts, device: u64, checks: &mut Vec<Check>) {
    let t = &facts.target;
    if facts.protected.is_empty() {
        checks.push(Check::fail(
            GateCheck::SeparateFilesystem,
            format!(
                "cannot prove target {} is off the SSOT volume: PGDATA is unknown (give pgdata or set postgres.pgdata)",
                t.path
            ),
        ));
    }
    for p in &facts.protected {
        checks.push(match (p.device, &p.error) {
            (Some(d), None) if d != device => Check::pass(
                GateCheck::SeparateFilesystem,
                format!(
                    "target {} (device {device}) is on a different filesystem from {} {} (device {d})",
                    t.path, p.label, p.path
                ),
            ),
            (Some(d), None) => Check::fail(
                GateCheck::SeparateFilesystem,
                format!(
                    "target {} is on the same filesystem as {} {} (device {d}): backups must never live on the SSOT volume",
                    t.path, p.label, p.path
                ),
            ),
            (_, err) => Check::fail(
                GateCheck::SeparateFilesystem,
                format!(
                    "cannot read the device of {} {}: {}",
                    p.label,
                    p.path,
                    err.as_deref().unwrap_or("unknown")
                ),
            ),
        });
    }
}

/// `free_space_pct` and `free_space_bytes`: what the target volume keeps
/// available after the estimated write.
fn free_space_checks(
    facts: &DiskFacts,
    policy: &DiskPolicy,
    volume: VolumeStats,
    checks: &mut Vec<Check>,
) {
    let est = facts.estimated_bytes;
    let after = volume.available_bytes.saturating_sub(est);
    let short_by_estimate = est > volume.available_bytes;
    let est_note = if facts.estimate_source.is_empty() {
        format!("after writing {}", human_bytes(est))
    } else {
        format!(
            "after writing {} ({})",
            human_bytes(est),
            facts.estimate_source
        )
    };
    let after_pct = pct_floor_2(after, volume.total_bytes);
    let pct_ok = !short_by_estimate
        && volume.total_bytes > 0
        && after as f64 * 100.0 >= policy.min_free_pct * volume.total_bytes as f64;
    checks.push(Check::new(
        GateCheck::FreeSpacePct,
        pct_ok,
        format!(
            "target volume keeps {} available {est_note}, minimum {}",
            pct(after_pct),
            pct(policy.min_free_pct)
        ),
    ));
    let floor = policy.min_free_bytes.bytes();
    checks.push(Check::new(
        GateCheck::FreeSpaceBytes,
        !short_by_estimate && after >= floor,
        format!(
            "target volume keeps {} available after writing {}, minimum {}",
            human_bytes(after),
            human_bytes(est),
            human_bytes(floor)
        ),
    ));
}

/// Runs the disk guard; every check it made is returned, passed or not.
pub fn guard(facts: &DiskFacts, policy: &DiskPolicy) -> Vec<Check> {
    let t = &facts.target;
    let mut checks = Vec::new();
    if !t.exists {
        checks.push(Check::fail(
            GateCheck::TargetExists,
            format!("target {} does not exist", t.path),
        ));
        return checks;
    }
    if !t.is_dir {
        checks.push(Check::fail(
            GateCheck::TargetIsDirectory,
            format!("target {} is not a directory", t.path),
        ));
        return checks;
    }
    checks.push(Check::pass(
        GateCheck::TargetExists,
        format!("target {} is a directory", t.path),
    ));
    checks.push(match &t.write_error {
        None => Check::pass(
            GateCheck::TargetWritable,
            format!("target {} is writable", t.path),
        ),
        Some(e) => Check::fail(
            GateCheck::TargetWritable,
            format!("target {} is not writable: {e}", t.path),
        ),
    });

    let (device, volume) = match (t.device, t.volume, &t.probe_error) {
        (Some(d), Some(v), None) => (d, v),
        (_, _, err) => {
            checks.push(Check::fail(
                GateCheck::TargetVolume,
                format!(
                    "cannot read the filesystem of target {}: {}",
                    t.path,
                    err.as_deref().unwrap_or("no device or size reported")
                ),
            ));
            return checks;
        }
    };

    separate_filesystem_checks(facts, device, &mut checks);

    if let Some(lineage) = &facts.target_lineage {
        checks.push(match overlap(lineage, &facts.protected_paths) {
            Some(why) => Check::fail(GateCheck::TargetOutsideProtected, why),
            None => Check::pass(
                GateCheck::TargetOutsideProtected,
                format!(
                    "target {} neither is, holds nor lies inside PGDATA, pg_wal or the state directory",
                    t.path
                ),
            ),
        });
    }

    free_space_checks(facts, policy, volume, &mut checks);
    checks
}

/// What to do when the disk-guard check `rule` fails for `op`'s target.
pub fn advice(rule: &GateCheck, op: &str) -> String {
    match rule {
        GateCheck::TargetExists | GateCheck::TargetIsDirectory => format!(
            "create the {op} target directory (owned by the user the {op} runs as), or set gate.targets.{op} to one that exists"
        ),
        GateCheck::TargetWritable => format!(
            "let the user the {op} runs as write to its target (owner or mode), or set gate.targets.{op} to a directory it can write"
        ),
        GateCheck::SeparateFilesystem | GateCheck::TargetOutsideProtected => format!(
            "point gate.targets.{op} at a volume other than PGDATA's, pg_wal's and the state directory's: a copy on the same volume dies with it"
        ),
        _ => format!(
            "free space on the {op} target's volume (apply retention), or point gate.targets.{op} at a volume with room"
        ),
    }
}
