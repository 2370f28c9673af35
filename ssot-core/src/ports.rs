//! The traits through which facts enter the core.
//!
//! Policy code never touches the clock, the filesystem or the environment;
//! [`crate::Ssot`] gathers facts through these traits and hands them to
//! the pure evaluators. [`crate::host`] implements them with std, nix and
//! fs2; tests and the demo implement them with fakes.

use std::any::Any;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::gate::LockFacts;
use crate::retention::guard::{FileId, Lineage};
use crate::retention::source::RootEntry;
use crate::state::StateInput;
use crate::wal::VolumeStats;

/// The wall clock.
pub trait Clock {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// What a pg_wal scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalScan {
    /// pg_wal after resolving symlinks: the directory on the volume that really holds WAL.
    pub dir: PathBuf,
    /// Sum of the sizes of regular, non-hidden files directly in pg_wal.
    pub wal_bytes: u64,
    /// How many of those are WAL segments (24 hex digits).
    pub segment_count: u64,
    /// `archive_status/*.ready` files.
    pub ready_count: u64,
    /// Entries that vanished between listing and `stat` (recycled by a checkpoint); skipped.
    pub vanished: u64,
}

impl WalScan {
    /// An empty scan of `dir`, to add entries to.
    pub fn new(dir: PathBuf) -> Self {
        WalScan {
            dir,
            wal_bytes: 0,
            segment_count: 0,
            ready_count: 0,
            vanished: 0,
        }
    }
}

/// Measures pg_wal.
pub trait WalScanner {
    /// Where `<pgdata>/pg_wal` really is (through a symlink, if any), without scanning it.
    fn resolve(&self, pgdata: &Path) -> Result<PathBuf>;
    /// Scans `<pgdata>/pg_wal`.
    fn scan(&self, pgdata: &Path) -> Result<WalScan>;
    /// The tablespaces: each entry of `<pgdata>/pg_tblspc` (its name, the
    /// tablespace's OID) with the directory its link resolves to. An empty
    /// list when there is no `pg_tblspc`.
    fn tablespaces(&self, pgdata: &Path) -> Result<Vec<(String, PathBuf)>>;
}

/// Reads filesystem sizes and device ids.
pub trait VolumeProbe {
    /// Size of the filesystem holding `path` (`statvfs`).
    fn volume(&self, path: &Path) -> Result<VolumeStats>;
    /// Device id of the filesystem holding `path` (`stat().st_dev`, following symlinks).
    fn device(&self, path: &Path) -> Result<u64>;
}

pub use crate::evidence::PathKind;

/// Inspects target directories.
pub trait Filesystem {
    /// What `path` is, following symlinks; `Ok(None)` when it does not exist.
    fn kind(&self, path: &Path) -> Result<Option<PathKind>>;
    /// Proves `dir` writable by creating and removing a probe file in it.
    fn probe_write(&self, dir: &Path) -> Result<()>;
    /// The most recently modified regular file directly in `dir`, with its size.
    fn newest_file(&self, dir: &Path) -> Result<Option<(PathBuf, u64)>>;
    /// What `path` itself is (a symlink is not followed) and its apparent
    /// size: a file's length, a directory's files summed. `Ok(None)` when absent.
    fn entry_size(&self, path: &Path) -> Result<Option<(PathKind, u64)>>;
    /// Reads the backup at `path` whole (a symlink is not followed): its
    /// size, SHA-256 and whether its format holds together to the end.
    /// `Ok(None)` when nothing is there.
    fn inspect_backup(&self, path: &Path) -> Result<Option<crate::evidence::BackupInspection>>;
    /// Reads an input file a user named (`-` is standard input): anything
    /// readable, including a pipe, bounded in size, UTF-8.
    fn read_input(&self, path: &Path) -> Result<String>;
    /// [`Filesystem::read_input`] bounded to `max` bytes (a contract input
    /// is small; `/dev/zero` must not be read to the general limit). By
    /// default, the general read, then refused when longer.
    fn read_input_max(&self, path: &Path, max: u64) -> Result<String> {
        let text = self.read_input(path)?;
        if text.len() as u64 > max {
            return Err(crate::error::Error::UnsafeFile {
                path: path.into(),
                problem: format!("is larger than {max} bytes"),
            });
        }
        Ok(text)
    }
    /// Reads a configuration file PostgreSQL reads, as bytes (PostgreSQL
    /// takes any bytes in a comment), bounded as [`Filesystem::read_input`].
    /// By default, [`Filesystem::read_input`]'s text.
    fn read_input_bytes(&self, path: &Path) -> Result<Vec<u8>> {
        self.read_input(path).map(String::into_bytes)
    }
    /// The size of what `path` names, following symlinks (as PostgreSQL
    /// opens a configuration file); `Ok(None)` when absent.
    fn size_followed(&self, path: &Path) -> Result<Option<u64>>;
    /// The files PostgreSQL's `include_dir` reads from `dir`: everything but
    /// directories (symlinks followed, as PostgreSQL does) whose names end
    /// in `.conf` and do not start with `.`, sorted by name.
    fn conf_dir(&self, dir: &Path) -> Result<Vec<PathBuf>>;
    /// Replaces `path` atomically (temp file, fsync, rename, fsync of the
    /// directory). Only a regular file or a new path: anything else at
    /// `path` (a symlink, a FIFO, a device) is refused, never replaced or
    /// written through.
    fn write_file(&self, path: &Path, contents: &[u8]) -> Result<()>;
}

/// Proof that a lock is held; dropping it releases the lock.
///
/// A lock on a file (an `flock`) is held by its open file description: when
/// [`Held::file`] is kept open across `exec` (see [`crate::host::exec_holding`]),
/// the lock lives exactly as long as the command (and any child it hands the
/// descriptor to) keeps it.
pub struct Held {
    file: Option<File>,
    _guard: Option<Box<dyn Any + Send>>,
}

impl Held {
    /// Wraps whatever keeps the lock alive (a fake's guard, a mutex guard, ...).
    pub fn new(inner: impl Any + Send) -> Self {
        Held {
            file: None,
            _guard: Some(Box::new(inner)),
        }
    }

    /// A lock held through a locked file.
    pub fn from_file(file: File) -> Self {
        Held {
            file: Some(file),
            _guard: None,
        }
    }

    /// The locked file, when the lock is a file lock.
    pub fn file(&self) -> Option<&File> {
        self.file.as_ref()
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

/// The state directory.
pub trait StateStore {
    /// How the file `name` is shown to people (its full path).
    fn location(&self, name: &str) -> String;
    /// Reads `name` (at most [`crate::state::size_limit`] bytes); never
    /// fails, the outcome is in the [`StateInput`].
    fn read(&self, name: &str) -> StateInput;
    /// Reads the last `max_bytes` of the line-oriented file `name` (a log),
    /// starting at a line boundary; the flag is true when earlier lines were left out.
    fn read_tail(&self, name: &str, max_bytes: u64) -> (StateInput, bool);
    /// Takes the state directory's exclusive advisory lock (waits a bounded time).
    fn lock(&self) -> Result<Held>;
    /// Replaces `name` atomically: temp file, fsync, rename, fsync of the directory.
    /// The caller proves it holds the lock by passing the guard.
    fn write_atomic(&self, lock: &Held, name: &str, contents: &[u8]) -> Result<()>;
    /// Replaces several files, each atomically (a reader sees each file old
    /// or new, never torn); durable together on return. A store may batch the
    /// directory fsync; by default the files are written one by one.
    fn write_atomic_all(&self, lock: &Held, files: &[(&str, &[u8])]) -> Result<()> {
        files
            .iter()
            .try_for_each(|(name, contents)| self.write_atomic(lock, name, contents))
    }
    /// Appends one line to `name` and fsyncs it.
    fn append_line(&self, lock: &Held, name: &str, line: &str) -> Result<()>;
    /// Rotates the log `name` when it holds `max_bytes` or more: `name.N-1`
    /// becomes `name.N` (the oldest beyond `generations` is dropped), …,
    /// `name` becomes `name.1`, under `lock` so no append is lost or torn.
    /// Returns whether it rotated.
    fn rotate(&self, lock: &Held, name: &str, max_bytes: u64, generations: u32) -> Result<bool>;
    /// Who holds the operation lock now, without taking it.
    fn operation_lock_state(&self) -> LockFacts;
    /// Takes the operation lock without waiting, recording `holder` in it;
    /// [`crate::Error::Locked`] when someone else has it.
    fn try_operation_lock(&self, holder: &str) -> Result<Held>;
    /// Rewrites the holder text of an operation lock this process holds
    /// (e.g. to add the pid of the command running under it).
    fn update_operation_lock(&self, lock: &Held, holder: &str) -> Result<()>;
}

/// A directory whose entries are artifacts (backups, snapshots, cache layers).
///
/// Deletion is confined to the root: names are validated (no `/`, no `..`,
/// no control characters), links are never followed or deleted through, and
/// an entry is first renamed to a short hidden trash name (atomic, never
/// replacing anything) that the caller records in its journal first, so a
/// crash leaves it either intact or in the trash, never half-deleted under
/// its own name — and recovery removes only trash the journal names.
pub trait ArtifactRoot {
    /// The root as resolved (symlinks in the root path itself are resolved once).
    fn resolve(&self, root: &Path) -> Result<PathBuf>;
    /// The identities of `path` (or, if it does not exist, of its nearest
    /// existing ancestor) and of each ancestor up to `/`.
    fn lineage(&self, path: &Path) -> Result<Lineage>;
    /// Opens the resolved root once, never through a symbolic link. Every
    /// later step goes through the handle: nothing is resolved by path again.
    fn open(&self, root: &Path) -> Result<Box<dyn OpenRoot + Send + Sync>>;
    /// Creates the directory `dir` for a restore drill's throwaway cluster
    /// (its parent must exist), writes `content` into its `marker` file and
    /// gives it to `owner` (a user name) when one is given. An existing `dir`
    /// is refused unless it carries `marker`: a drill only ever works in a
    /// directory it created itself.
    fn prepare_scratch(
        &self,
        dir: &Path,
        marker: &str,
        content: &str,
        owner: Option<&str>,
    ) -> Result<()>;
    /// Removes `dir` and everything below it, through descriptors and never
    /// into another filesystem, only if it carries `marker` (see
    /// [`ArtifactRoot::prepare_scratch`]); `Ok` when it is already gone.
    fn remove_scratch(&self, dir: &Path, marker: &str) -> Result<()>;
}

/// An artifact root held open (see [`ArtifactRoot::open`]).
pub trait OpenRoot {
    /// The (device, inode) of what was opened.
    fn id(&self) -> FileId;
    /// The path it was opened at (for messages).
    fn path(&self) -> &Path;
    /// One level of entries, by `lstat`; directory sizes summed without
    /// following links or leaving the filesystem; a directory that holds a
    /// mount (or is too deep to walk) says so in `held`.
    fn list(&self) -> Result<Vec<RootEntry>>;
    /// The SHA-256 of the entry `name` read whole (a directory: of its file
    /// list), as `evidence backup` measures it; `None` for anything else.
    fn checksum(&self, name: &str) -> Result<Option<String>>;
    /// A hidden trash name for `id` that nothing in the root uses now.
    fn trash_name(&self, id: &str) -> Result<String>;
    /// Why the entry `name` cannot be deleted safely now (a symlink, a
    /// special file, a directory holding a mount), or `None`: it can be, or it is gone.
    fn removable(&self, name: &str) -> Result<Option<String>>;
    /// Deletes the entry `name` (through the trash name `trash`) and its
    /// `sidecars`; `Ok` if already gone. Refuses before moving anything when a
    /// sidecar is not a regular file.
    fn remove(&self, name: &str, sidecars: &[String], trash: &str) -> Result<()>;
    /// Removes leftovers of interrupted journal rewrites.
    fn cleanup(&self) -> Result<()>;
    /// An exclusive lock on the root for one apply at a time.
    fn lock(&self) -> Result<Held>;
    /// The root's retention journal (empty if none).
    fn read_journal(&self) -> Result<String>;
    /// Appends one line to the journal and fsyncs it.
    fn append_journal(&self, line: &str) -> Result<()>;
    /// Replaces the journal's content atomically (used to compact it).
    fn rewrite_journal(&self, content: &str) -> Result<()>;
}

/// A PostgreSQL server to ask. Connecting and querying are bounded in time:
/// a server that is down or refuses is an `Err` naming why within seconds.
pub trait Database {
    /// Runs `sql`, which returns one row of one column, on the server `dsn`
    /// (a libpq connection string or URI) and returns that value as text.
    fn query_value(&self, dsn: &str, sql: &str) -> Result<String>;
}
