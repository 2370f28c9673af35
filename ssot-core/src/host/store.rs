//! The state directory on disk: atomic writes under an advisory lock.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::fsutil::{remove_stale_temps, try_lock_file, write_atomic};
use crate::error::{Error, Result};
use crate::gate::LockFacts;
use crate::ports::{Held, StateStore};
use crate::state::StateInput;

const STATE_LOCK: &str = ".ssot.lock";
/// Name of the operation lock file in the state directory.
pub const OPERATION_LOCK: &str = "operation.lock";

/// A state directory on the local filesystem.
///
/// * `lock` takes an exclusive `flock` on `.ssot.lock`, waiting at most
///   `lock_timeout` (default 10 s) so a stuck process cannot hang cron forever.
/// * `write_atomic` writes a temp file in the same directory, fsyncs it,
///   renames it over the target (keeping the old file's mode, else 0644) and
///   fsyncs the directory, so a reader sees the old or the new file, never a torn one.
/// * The operation lock is `operation.lock`, held for the whole of a gated
///   command or a retention apply; its content names the holder.
#[derive(Debug, Clone)]
pub struct DirStateStore {
    dir: PathBuf,
    lock_timeout: Duration,
}

impl DirStateStore {
    /// A store rooted at `dir` (created on the first lock).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirStateStore {
            dir: dir.into(),
            lock_timeout: Duration::from_secs(10),
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

    fn ensure_dir(&self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io("create state directory", &self.dir, e))
    }
}

fn read_holder(f: &mut File) -> Option<String> {
    let mut s = String::new();
    f.read_to_string(&mut s).ok()?;
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

impl StateStore for DirStateStore {
    fn location(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    fn read(&self, name: &str) -> StateInput {
        let path = self.location(name);
        match fs::read(self.path(name)) {
            Ok(content) => StateInput::Present { path, content },
            Err(e) if e.kind() == ErrorKind::NotFound => StateInput::Missing { path },
            Err(e) => StateInput::Unreadable {
                path,
                error: e.to_string(),
            },
        }
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
                return Ok(Held::new(file));
            }
            if start.elapsed() >= self.lock_timeout {
                return Err(Error::Locked { path, holder: None });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn write_atomic(&self, _lock: &Held, name: &str, contents: &[u8]) -> Result<()> {
        self.ensure_dir()?;
        write_atomic(&self.dir, name, contents, 0o644)
    }

    fn append_line(&self, _lock: &Held, name: &str, line: &str) -> Result<()> {
        self.ensure_dir()?;
        let path = self.path(name);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        let mut buf = line.trim_end_matches('\n').to_string();
        buf.push('\n');
        f.write_all(buf.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io("append to", &path, e))
    }

    fn operation_lock_state(&self) -> LockFacts {
        let path = self.path(OPERATION_LOCK);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return LockFacts::default(),
            Err(e) => {
                return LockFacts {
                    held_by: None,
                    error: Some(format!("open {}: {e}", path.display())),
                }
            }
        };
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
        Ok(Held::new(file))
    }
}
