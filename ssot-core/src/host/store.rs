//! The state directory on disk: atomic writes under an advisory lock.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::fsutil::{
    self, limit_text, open_trusted, read_capped, remove_stale_temps, try_lock_file, write_atomic,
    write_atomic_all, OpenError, FILE_MODE,
};
use crate::error::{Error, Result};
use crate::gate::LockFacts;
use crate::ports::{Held, StateStore};
use crate::state::{self, StateInput};

const STATE_LOCK: &str = state::StateFileName::StateLock.as_str();
/// Name of the operation lock file in the state directory.
pub const OPERATION_LOCK: &str = state::StateFileName::OperationLock.as_str();
/// The most of a lock file's holder text that is read.
const HOLDER_MAX: u64 = 4096;

/// A state directory on the local filesystem.
///
/// * `lock` takes an exclusive `flock` on `.ssot.lock`, waiting at most
///   `lock_timeout` (default 10 s) so a stuck process cannot hang cron forever.
/// * `write_atomic` writes a temp file in the same directory, fsyncs it,
///   renames it over the target (keeping the old file's mode, else 0644) and
///   fsyncs the directory, so a reader sees the old or the new file, never a torn one.
/// * The operation lock is `operation.lock`, held for the whole of a gated
///   command or a retention apply; its content names the holder.
/// * Every file in the directory is opened without following a symlink and
///   without blocking, must be a regular file, and is read up to a size limit
///   ([`state::size_limit`]): a symlinked, FIFO or oversized record reads as
///   [`StateInput::Invalid`], and a symlinked lock or log is an error, so ssot
///   never writes through a link or hangs on a FIFO.
/// * Nothing anyone else could have written is trusted (like sshd's
///   StrictModes): the directory, the path to it and every file read must be
///   owned by root or the running user and not writable by group or others;
///   otherwise a record reads as [`StateInput::Invalid`] naming the file,
///   its owner and mode, and a lock or log is an [`Error::UnsafeFile`]. ssot
///   creates the directory 0750, its files 0640 and its locks 0600, whatever
///   the umask.
#[derive(Debug, Clone)]
pub struct DirStateStore {
    dir: PathBuf,
    lock_timeout: Duration,
    /// Why the directory cannot be trusted, once checked.
    untrusted: std::sync::OnceLock<Option<String>>,
}

impl DirStateStore {
    /// A store rooted at `dir` (created on the first lock).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirStateStore {
            dir: dir.into(),
            lock_timeout: Duration::from_secs(10),
            untrusted: std::sync::OnceLock::new(),
        }
    }

    /// Changes how long [`StateStore::lock`] waits.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Creates the directory if it is absent; a dangling symlink, or a path
    /// that is not a directory, is an error that says so.
    fn ensure_dir(&self) -> Result<()> {
        let dir = &self.dir;
        if dir.as_os_str().is_empty() {
            return Err(Error::UnsafeFile {
                path: dir.clone(),
                problem: "the state directory path is empty".into(),
            });
        }
        match fs::symlink_metadata(dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(m) if m.file_type().is_symlink() => match fs::metadata(dir) {
                Ok(t) if t.is_dir() => Ok(()),
                Ok(t) => Err(Error::UnsafeFile {
                    path: dir.clone(),
                    problem: format!(
                        "the state directory is a symbolic link to {}, not to a directory",
                        fsutil::describe(t.file_type())
                    ),
                }),
                Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::UnsafeFile {
                    path: dir.clone(),
                    problem: format!(
                        "the state directory is a symbolic link to {}, which does not exist",
                        fs::read_link(dir)
                            .map(|t| t.display().to_string())
                            .unwrap_or_else(|_| "?".into())
                    ),
                }),
                Err(e) => Err(Error::io("stat", dir, e)),
            },
            Ok(m) => Err(Error::UnsafeFile {
                path: dir.clone(),
                problem: format!(
                    "the state directory is {}, not a directory",
                    fsutil::describe(m.file_type())
                ),
            }),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fsutil::create_dir(dir).map_err(|e| Error::io("create state directory", dir, e))
            }
            Err(e) => Err(Error::io("stat", dir, e)),
        }?;
        match self.dir_problem() {
            Some(problem) => Err(Error::UnsafeFile {
                path: dir.clone(),
                problem,
            }),
            None => Ok(()),
        }
    }

    /// Why the (existing) directory cannot be trusted, checked once.
    fn dir_problem(&self) -> Option<String> {
        self.untrusted
            .get_or_init(|| fsutil::untrusted_dir(&self.dir))
            .clone()
            .map(|p| format!("the state directory {p}"))
    }

    /// Opens `name` for reading, or says why not (a file, or a directory,
    /// that ssot may not trust is [`StateInput::Invalid`]).
    /// The tail of one file: at most `max_bytes`, and whether it was cut.
    fn read_tail_of(&self, name: &str, max_bytes: u64) -> (StateInput, bool) {
        let mut f = match self.open_read(name) {
            Ok(f) => f,
            Err(input) => return (input, false),
        };
        let path = self.location(name);
        match fsutil::read_tail(&mut f, max_bytes) {
            Ok((content, truncated)) => (StateInput::Present { path, content }, truncated),
            Err(e) => (
                StateInput::Unreadable {
                    path,
                    error: e.to_string(),
                },
                false,
            ),
        }
    }

    fn open_read(&self, name: &str) -> std::result::Result<File, StateInput> {
        let path = self.location(name);
        let f = open_trusted(&self.path(name)).map_err(|e| match e {
            OpenError::NotFound => StateInput::Missing { path: path.clone() },
            OpenError::Refused(problem) => StateInput::Invalid {
                path: path.clone(),
                problem,
            },
            OpenError::Io(e) => StateInput::Unreadable {
                path: path.clone(),
                error: e.to_string(),
            },
        })?;
        match self.dir_problem() {
            Some(problem) => Err(StateInput::Invalid { path, problem }),
            None => Ok(f),
        }
    }
}

/// The most rotated generations of a log ([`StateStore::rotate`]).
const MAX_GENERATIONS: u32 = 100;
/// The holder text of a lock file, bounded.
fn read_holder(f: &mut File) -> Option<String> {
    let buf = match read_capped(f, HOLDER_MAX) {
        Ok(Some(b)) => b,
        _ => return None,
    };
    let s = String::from_utf8_lossy(&buf).trim().to_string();
    (!s.is_empty()).then_some(s)
}

impl StateStore for DirStateStore {
    fn location(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn read(&self, name: &str) -> StateInput {
        let mut f = match self.open_read(name) {
            Ok(f) => f,
            Err(input) => return input,
        };
        let path = self.location(name);
        let max = state::size_limit(name);
        match read_capped(&mut f, max) {
            Ok(Some(content)) => StateInput::Present { path, content },
            Ok(None) => StateInput::Invalid {
                path,
                problem: format!(
                    "is larger than {}, more than ssot ever writes there",
                    limit_text(max)
                ),
            },
            Err(e) => StateInput::Unreadable {
                path,
                error: e.to_string(),
            },
        }
    }

    fn read_tail(&self, name: &str, max_bytes: u64) -> (StateInput, bool) {
        let (input, mut truncated) = self.read_tail_of(name, max_bytes);
        // Just rotated (under the lock a reader does not take), the log may
        // not exist yet while its generations do.
        let missing = matches!(input, StateInput::Missing { .. });
        let (path, mut content) = match input {
            StateInput::Present { path, content } => (path, content),
            StateInput::Missing { path } => (path, Vec::new()),
            other => return (other, truncated),
        };
        // A rotated log: what is missing from the tail comes from the
        // generations before it (`name.1`, `name.2`, …), oldest first.
        // A gap (a rotation cut short by a crash) is passed over, not an end.
        let mut found = false;
        for generation in 1..=MAX_GENERATIONS {
            if truncated || content.len() as u64 >= max_bytes {
                break;
            }
            let older = format!("{name}.{generation}");
            match self.read_tail_of(&older, max_bytes - content.len() as u64) {
                (
                    StateInput::Present {
                        content: mut before,
                        ..
                    },
                    cut,
                ) => {
                    before.extend_from_slice(&content);
                    content = before;
                    truncated = cut;
                    found = true;
                }
                (StateInput::Missing { .. }, _) => {}
                (other, _) => return (other, false),
            }
        }
        if missing && !found {
            return (StateInput::Missing { path }, false);
        }
        (StateInput::Present { path, content }, truncated)
    }

    fn rotate(&self, _lock: &Held, name: &str, max_bytes: u64, generations: u32) -> Result<bool> {
        let current = self.path(name);
        match fs::symlink_metadata(&current) {
            Ok(m) if m.is_file() && m.len() >= max_bytes => {}
            // Missing, small, or not a regular file (append_line refuses that).
            _ => return Ok(false),
        }
        let generations = generations.clamp(1, MAX_GENERATIONS);
        // Generations beyond the configured count (it was lowered) go.
        for g in generations + 1..=MAX_GENERATIONS {
            let old = self.path(&format!("{name}.{g}"));
            match fs::remove_file(&old) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove the old generation", &old, e)),
            }
        }
        // rename(2) moves a name, never what a symlink points to, and
        // replaces the oldest generation's name in one step.
        for g in (1..generations).rev() {
            let from = self.path(&format!("{name}.{g}"));
            let to = self.path(&format!("{name}.{}", g + 1));
            match fs::rename(&from, &to) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    let what = format!("{} to {}", from.display(), to.display());
                    return Err(Error::io("rotate", what, e));
                }
            }
        }
        let first = self.path(&format!("{name}.1"));
        fs::rename(&current, &first).map_err(|e| Error::io("rotate", &current, e))?;
        fsutil::sync_dir(&self.dir)?;
        Ok(true)
    }

    fn lock(&self) -> Result<Held> {
        self.ensure_dir()?;
        let path = self.path(STATE_LOCK);
        let start = Instant::now();
        loop {
            let (file, taken) = try_lock_file(&path, false)?;
            if taken {
                // Every atomic write here happens under this lock: a temp
                // file still present belongs to a writer that was killed.
                remove_stale_temps(&self.dir, "")?;
                return Ok(Held::from_file(file));
            }
            if start.elapsed() >= self.lock_timeout {
                return Err(Error::Locked { path, holder: None });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn write_atomic(&self, _lock: &Held, name: &str, contents: &[u8]) -> Result<()> {
        self.ensure_dir()?;
        write_atomic(&self.dir, name, contents, FILE_MODE)
    }

    fn write_atomic_all(&self, _lock: &Held, files: &[(&str, &[u8])]) -> Result<()> {
        self.ensure_dir()?;
        write_atomic_all(&self.dir, files, FILE_MODE)
    }

    fn append_line(&self, _lock: &Held, name: &str, line: &str) -> Result<()> {
        self.ensure_dir()?;
        fsutil::append_line(&self.path(name), line)
    }

    fn operation_lock_state(&self) -> LockFacts {
        let path = self.path(OPERATION_LOCK);
        let mut file = match open_trusted(&path) {
            Ok(f) => f,
            Err(OpenError::NotFound) => return LockFacts::default(),
            Err(e) => {
                return LockFacts {
                    held_by: None,
                    error: Some(e.into_error("open", &path).to_string()),
                }
            }
        };
        if let Some(problem) = self.dir_problem() {
            return LockFacts {
                held_by: None,
                error: Some(format!("{}: {problem}", self.dir.display())),
            };
        }
        match fs2::FileExt::try_lock_shared(&file) {
            Ok(()) => {
                let _ = fs2::FileExt::unlock(&file);
                LockFacts::default()
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => LockFacts {
                held_by: Some(
                    read_holder(&mut file)
                        .unwrap_or_else(|| format!("{} is locked", path.display())),
                ),
                error: None,
            },
            Err(e) => LockFacts {
                held_by: None,
                error: Some(format!("lock {}: {e}", path.display())),
            },
        }
    }

    fn try_operation_lock(&self, holder: &str) -> Result<Held> {
        self.ensure_dir()?;
        let path = self.path(OPERATION_LOCK);
        let (mut file, taken) = try_lock_file(&path, true)?;
        if !taken {
            return Err(Error::Locked {
                holder: read_holder(&mut file),
                path,
            });
        }
        file.set_len(0)
            .and_then(|_| file.write_all(holder.as_bytes()))
            .and_then(|_| file.sync_data())
            .map_err(|e| Error::io("write lock holder", &path, e))?;
        Ok(Held::from_file(file))
    }

    fn update_operation_lock(&self, lock: &Held, holder: &str) -> Result<()> {
        let path = self.path(OPERATION_LOCK);
        let Some(file) = lock.file() else {
            return Ok(());
        };
        let mut f = file;
        f.set_len(0)
            .and_then(|_| std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0)))
            .and_then(|_| f.write_all(holder.as_bytes()))
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io("write lock holder", &path, e))
    }
}
