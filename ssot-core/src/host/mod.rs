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
mod process;
mod psql;
mod store;
mod walscan;

pub use artifacts::{FsArtifactRoot, JOURNAL, TRASH_PREFIX};
pub use files::{read_config, read_input, CONFIG_MAX, INPUT_MAX};
pub use fs::{StatvfsVolumes, StdFilesystem};
pub use process::{exec_holding, ExecFailure};
pub use psql::PsqlClient;
pub use store::DirStateStore;
pub use walscan::{is_segment_name, FsWalScanner};

use chrono::{DateTime, Utc};

use crate::ports::Clock;

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
/// of the directory. Mode 0644 unless the file exists with another.
pub fn write_file_atomic(path: &std::path::Path, contents: &[u8]) -> crate::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| crate::Error::Request(format!("{} is not a file path", path.display())))?;
    fsutil::write_atomic(dir, name, contents, 0o644)
}
