//! Scans pg_wal the way `pg_ls_waldir()` does.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ports::{WalScan, WalScanner};

/// Scans `<pgdata>/pg_wal` on the local filesystem.
///
/// Counts exactly what `pg_ls_waldir()` lists: entries directly in pg_wal
/// whose name does not start with `.`, that `stat()` (following symlinks)
/// reports as regular files. An entry that disappears between the directory
/// listing and its `stat` was recycled by a checkpoint: it is skipped and
/// counted in [`WalScan::vanished`], never an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsWalScanner;

/// True for a WAL segment file name: 24 upper-case hex digits.
pub fn is_segment_name(name: &str) -> bool {
    name.len() == 24
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

impl WalScanner for FsWalScanner {
    fn resolve(&self, pgdata: &Path) -> Result<PathBuf> {
        let link = pgdata.join("pg_wal");
        fs::canonicalize(&link).map_err(|e| Error::io("resolve", &link, e))
    }

    fn scan(&self, pgdata: &Path) -> Result<WalScan> {
        let dir = self.resolve(pgdata)?;
        let mut scan = WalScan::new(dir.clone());
        let entries = fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => {
                    scan.wal_bytes += m.len();
                    if is_segment_name(&name) {
                        scan.segment_count += 1;
                    }
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => scan.vanished += 1,
                Err(e) => return Err(Error::io("stat", &path, e)),
            }
        }
        let status = dir.join("archive_status");
        match fs::read_dir(&status) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io("list", &status, e))?;
                    if !entry.file_name().to_string_lossy().ends_with(".ready") {
                        continue;
                    }
                    match fs::metadata(entry.path()) {
                        Ok(m) if m.is_file() => scan.ready_count += 1,
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::NotFound => scan.vanished += 1,
                        Err(e) => return Err(Error::io("stat", entry.path(), e)),
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("list", &status, e)),
        }
        Ok(scan)
    }
}
