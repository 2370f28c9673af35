//! std implementations of [`crate::ports`]: the only I/O in `ssot-core`.
//!
//! Everything here opens the files ssot owns without following symlinks and
//! without blocking ([`DirStateStore`], [`FsArtifactRoot`]), and reads every
//! file with a size limit.
//!
//! Policy modules never import this module; the internal service layer receives
//! these adapters as trait objects, so tests can swap any of them for a fake.

mod artifacts;
mod files;
mod fs;
mod fsutil;
mod inspect;
#[allow(unsafe_code)]
mod process;
mod psql;
mod store;
mod walscan;

pub use artifacts::{FsArtifactRoot, JOURNAL, TRASH_PREFIX};
pub use files::{read_config, read_input, read_runbook, CONFIG_MAX, INPUT_MAX, RUNBOOK_MAX};
pub use fs::{StatvfsVolumes, StdFilesystem};
pub use process::{
    exec_holding, reraise, run_holding, run_holding_then, ExecFailure, Finished, RunOptions,
};
pub use psql::PsqlClient;
pub use store::DirStateStore;
pub use walscan::{is_segment_name, FsWalScanner};

use chrono::{DateTime, Utc};

use crate::ports::Clock;

/// The environment variables ssot reads, exactly as the CLI reads them
/// (its `--config`, `--state`, `--pgdata` and `--dsn` default to them): every
/// surface builds its [`crate::Ssot`] from the same [`Environment`]
/// ([`crate::Ssot::open_in`]). An empty variable counts as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `SSOT_CONFIG`: the configuration file.
    pub config: Option<std::path::PathBuf>,
    /// `SSOT_STATE_DIR`: the state directory.
    pub state_dir: Option<std::path::PathBuf>,
    /// `PGDATA`: the data directory.
    pub pgdata: Option<std::path::PathBuf>,
    /// `SSOT_DSN`: the server to probe.
    pub dsn: Option<String>,
}

impl Environment {
    /// The variables as this process has them.
    pub fn from_process() -> Environment {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Environment {
            config: var("SSOT_CONFIG").map(Into::into),
            state_dir: var("SSOT_STATE_DIR").map(Into::into),
            pgdata: var("PGDATA").map(Into::into),
            dsn: var("SSOT_DSN").map(|v| v.to_string_lossy().into_owned()),
        }
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same time (`--now`).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Writes `path` atomically: a temp file beside it (hidden, so a Prometheus
/// textfile collector never reads a half-written file), fsync, rename, fsync
/// of the directory. Mode 0644 unless the file exists with another. Only a
/// regular file or a new path is written: a symlink, a FIFO, a device node
/// or a directory at `path` is refused, naming it (as root, `--output
/// /dev/null` must not replace the real one).
pub fn write_file_atomic(path: &std::path::Path, contents: &[u8]) -> crate::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| crate::Error::Request(format!("{} is not a file path", path.display())))?;
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(crate::Error::UnsafeFile {
                path: path.to_path_buf(),
                problem: format!(
                "is {}: ssot writes only a regular file or a new path, and replaces nothing else",
                fsutil::describe(m.file_type())
            ),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(crate::Error::io("stat", path, e)),
    }
    fsutil::write_atomic(dir, name, contents, 0o644)
}
