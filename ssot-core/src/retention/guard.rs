//! Which directories retention may work in.
//!
//! Retention deletes; pointed at the wrong directory it deletes the system.
//! Before anything is listed, [`check_root`] refuses an artifact root that
//!
//! | rule | refuses a root that |
//! |---|---|
//! | `root_is_filesystem_root` | is `/` |
//! | `root_holds_state_dir` | is or contains ssot's state directory |
//! | `root_inside_state_dir` | lies inside the state directory |
//! | `root_holds_pgdata` / `root_inside_pgdata` | is, contains or lies inside PGDATA |
//! | `root_holds_pg_wal` / `root_inside_pg_wal` | is, contains or lies inside pg_wal |
//! | `root_holds_config` | contains ssot's configuration file |
//!
//! and [`is_protected`] keeps every entry that is (or contains) one of those
//! paths out of a plan, whatever the root. Both compare file identities
//! (device and inode of a path and of each of its ancestors, gathered by the
//! host as a [`Lineage`]), so a symlinked spelling or a bind mount of the
//! same directory is recognised. A protected path that does not exist yet
//! is judged by where it would be created.

use serde::{Deserialize, Serialize};

/// A file's identity: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileId {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

/// A path and the identities of it and its ancestors, up to `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lineage {
    /// The path, absolute, with symlinks in its existing part resolved.
    pub path: String,
    /// Whether the path itself exists; if not, `ids` start at its nearest existing ancestor.
    pub exists: bool,
    /// Identities from the path (or its nearest existing ancestor) up to `/`, last.
    pub ids: Vec<FileId>,
    /// Where the path lies in the filesystem that holds it, from the mount
    /// table: that filesystem's device (`major:minor`) and the path from its
    /// root. Two paths of one filesystem reached through different mounts (a
    /// bind mount of PGDATA's parent elsewhere) share a source prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<MountSource>,
    /// The sources of the mounts below the path (what a target that holds
    /// a mount point also holds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts_below: Vec<MountSource>,
}

/// A path's place in the filesystem that holds it (see [`Lineage::source`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MountSource {
    /// The filesystem's device, `major:minor` as in `/proc/self/mountinfo`.
    pub device: String,
    /// The path from that filesystem's root.
    pub path: String,
}

impl MountSource {
    /// True when `self` is `other` or lies below it (same filesystem).
    pub fn within(&self, other: &MountSource) -> bool {
        self.device == other.device
            && std::path::Path::new(&self.path).starts_with(std::path::Path::new(&other.path))
    }
}

impl Lineage {
    /// The identity of the path itself, if it exists.
    pub fn id(&self) -> Option<FileId> {
        self.exists.then(|| self.ids.first().copied()).flatten()
    }

    /// True when the path is `/`.
    pub fn is_filesystem_root(&self) -> bool {
        self.exists && self.ids.len() == 1
    }

    /// True when the directory `id` is this path or one of its ancestors
    /// (or, for a path not yet created, an ancestor of where it would be).
    pub fn is_within(&self, id: FileId) -> bool {
        self.ids.contains(&id)
    }
}

/// What a protected path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtectedKind {
    /// ssot's state directory.
    StateDir,
    /// PostgreSQL's data directory.
    Pgdata,
    /// pg_wal (resolved through its symlink).
    PgWal,
    /// ssot's configuration file.
    Config,
}

impl ProtectedKind {
    /// Rule-id fragment and description.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            ProtectedKind::StateDir => ("state_dir", "ssot's state directory"),
            ProtectedKind::Pgdata => ("pgdata", "PGDATA"),
            ProtectedKind::PgWal => ("pg_wal", "pg_wal"),
            ProtectedKind::Config => ("config", "ssot's configuration file"),
        }
    }
}

/// A path retention must never touch.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Protected {
    /// What it is.
    pub kind: ProtectedKind,
    /// Where it is.
    pub lineage: Lineage,
}

/// Why a root was refused: the rule and a message naming both paths.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RootRefusal {
    /// The rule id (see the module docs).
    pub rule: String,
    /// What was found.
    pub message: String,
}

impl std::fmt::Display for RootRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (rule {})", self.message, self.rule)
    }
}

/// Checks an artifact root against the protected paths.
pub fn check_root(root: &Lineage, protected: &[Protected]) -> Result<(), RootRefusal> {
    if root.is_filesystem_root() {
        return Err(RootRefusal {
            rule: "root_is_filesystem_root".into(),
            message: format!(
                "refusing artifact root {}: it is the filesystem root",
                root.path
            ),
        });
    }
    let Some(root_id) = root.id() else {
        return Ok(()); // listing it will fail and say so
    };
    for p in protected {
        let (frag, what) = p.kind.names();
        if p.lineage.is_within(root_id) {
            let how = if p.lineage.id() == Some(root_id) {
                "is"
            } else if p.lineage.exists {
                "contains"
            } else {
                "would contain"
            };
            return Err(RootRefusal {
                rule: format!("root_holds_{frag}"),
                message: format!(
                    "refusing artifact root {}: it {how} {what} {}",
                    root.path, p.lineage.path
                ),
            });
        }
        if p.kind != ProtectedKind::Config {
            if let Some(pid) = p.lineage.id() {
                if root.is_within(pid) {
                    return Err(RootRefusal {
                        rule: format!("root_inside_{frag}"),
                        message: format!(
                            "refusing artifact root {}: it lies inside {what} {}",
                            root.path, p.lineage.path
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The protected path an entry with identity `id` is, or contains, if any.
pub fn is_protected(id: FileId, protected: &[Protected]) -> Option<&Protected> {
    protected.iter().find(|p| p.lineage.is_within(id))
}

/// How a protected path is named in a warning.
pub fn describe(p: &Protected) -> String {
    format!("{} {}", p.kind.names().1, p.lineage.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> FileId {
        FileId { dev: 1, ino: n }
    }

    fn lineage(path: &str, exists: bool, ids: &[u64]) -> Lineage {
        Lineage {
            source: None,
            mounts_below: Vec::new(),
            path: path.into(),
            exists,
            ids: ids.iter().map(|n| id(*n)).collect(),
        }
    }

    #[test]
    fn every_overlap_is_refused_with_its_rule() {
        // / = 1, /opt = 2, /opt/ssot = 3, /opt/ssot/state = 4, /opt/dumps = 5
        let state = Protected {
            kind: ProtectedKind::StateDir,
            lineage: lineage("/opt/ssot/state", true, &[4, 3, 2, 1]),
        };
        let rule = |root: Lineage| {
            check_root(&root, std::slice::from_ref(&state))
                .err()
                .map(|r| r.rule)
        };
        assert_eq!(
            rule(lineage("/", true, &[1])).as_deref(),
            Some("root_is_filesystem_root")
        );
        assert_eq!(
            rule(lineage("/opt", true, &[2, 1])).as_deref(),
            Some("root_holds_state_dir")
        );
        assert_eq!(
            rule(lineage("/opt/ssot/state", true, &[4, 3, 2, 1])).as_deref(),
            Some("root_holds_state_dir")
        );
        assert_eq!(
            rule(lineage("/opt/ssot/state/sub", true, &[6, 4, 3, 2, 1])).as_deref(),
            Some("root_inside_state_dir")
        );
        assert_eq!(rule(lineage("/opt/dumps", true, &[5, 2, 1])), None);
        // A state directory not created yet is protected where it would be.
        let future = Protected {
            kind: ProtectedKind::StateDir,
            lineage: lineage("/opt/ssot/state", false, &[3, 2, 1]),
        };
        let r = check_root(&lineage("/opt/ssot", true, &[3, 2, 1]), &[future]).unwrap_err();
        assert_eq!(r.rule, "root_holds_state_dir");
        assert!(r.message.contains("would contain"), "{}", r.message);
    }
}
