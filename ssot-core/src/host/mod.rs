//! std implementations of [`crate::ports`]: the only I/O in `ssot-core`.
//!
//! Policy modules never import this module; [`crate::service`] receives
//! these adapters as trait objects, so tests can swap any of them for a fake.

mod artifacts;
mod fs;
mod fsutil;
mod store;
mod walscan;

pub use artifacts::{FsArtifactRoot, JOURNAL};
pub use fs::{StatvfsVolumes, StdFilesystem};
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
