//! Scans pg_wal the way `pg_ls_waldir()` does.

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};

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
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut wal =
            Dir::open(&dir, flags, Mode::empty()).map_err(|e| Error::io("list", &dir, e.into()))?;
        let t = tally_dir(&mut wal, &dir, |name| !name.starts_with(b"."))?;
        scan.wal_bytes = t.bytes;
        scan.segment_count = t.segments;
        scan.vanished = t.vanished;
        let status = dir.join("archive_status");
        match Dir::openat(wal.as_fd(), "archive_status", flags, Mode::empty()) {
            Ok(mut ready) => {
                let t = tally_dir(&mut ready, &status, |name| name.ends_with(b".ready"))?;
                scan.ready_count = t.regular;
                scan.vanished += t.vanished;
            }
            Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(Error::io("list", &status, e.into())),
        }
        Ok(scan)
    }

    fn tablespaces(&self, pgdata: &Path) -> Result<Vec<(String, PathBuf)>> {
        let dir = pgdata.join("pg_tblspc");
        // Only a pg_tblspc that does not exist at all means "no tablespaces";
        // a dangling link or anything unreadable fails the measurement.
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("stat", &dir, e)),
            Ok(_) => {}
        }
        let entries = fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        let not_a_tablespace = |link: &Path, why: &str| Error::UnsafeFile {
            path: link.to_path_buf(),
            problem: format!(
                "{why}: pg_tblspc holds only links named by tablespace OIDs to their directories"
            ),
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(|e| Error::io("list", &dir, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let link = e.path();
            // An OID: 1..=4294967295, written without leading zeros.
            let oid = name
                .parse::<u32>()
                .ok()
                .filter(|o| *o > 0 && o.to_string() == name);
            if oid.is_none() {
                return Err(not_a_tablespace(&link, "its name is not a tablespace OID"));
            }
            let target = fs::canonicalize(&link).map_err(|e| Error::io("resolve", &link, e))?;
            if !target.is_dir() {
                return Err(not_a_tablespace(&link, "it does not lead to a directory"));
            }
            out.push((name, target));
        }
        out.sort();
        Ok(out)
    }
}

/// From this many entries on, pg_wal is stat'ed by several threads.
const PARALLEL_FROM: usize = 4096;

/// What the stat of part of pg_wal found.
#[derive(Default)]
struct Tally {
    regular: u64,
    bytes: u64,
    segments: u64,
    vanished: u64,
}

/// Lists the entries of the open directory `dir` (shown as `path`) whose
/// names `wanted` accepts, then stats each relative to it (fstatat, as du
/// does: no path resolution per entry), split over threads when there are
/// enough entries for it to pay.
fn tally_dir(dir: &mut Dir, path: &Path, wanted: impl Fn(&[u8]) -> bool) -> Result<Tally> {
    let mut names: Vec<CString> = Vec::new();
    for entry in dir.iter() {
        let entry = entry.map_err(|e| Error::io("list", path, e.into()))?;
        if wanted(entry.file_name().to_bytes()) {
            names.push(entry.file_name().to_owned());
        }
    }
    let fd = dir.as_fd();
    let threads = if names.len() >= PARALLEL_FROM {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
    } else {
        1
    };
    let parts: Vec<std::result::Result<Tally, (CString, nix::Error)>> = if threads == 1 {
        vec![tally(fd, &names)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(names.len().div_ceil(threads))
                .map(|part| s.spawn(move || tally(fd, part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut total = Tally::default();
    for part in parts {
        let t = part.map_err(|(name, e)| {
            Error::io(
                "stat",
                path.join(OsStr::from_bytes(name.to_bytes())),
                e.into(),
            )
        })?;
        total.regular += t.regular;
        total.bytes += t.bytes;
        total.segments += t.segments;
        total.vanished += t.vanished;
    }
    Ok(total)
}

/// Stats `names` relative to the directory `dir` (following symlinks, as
/// `pg_ls_waldir()` does); a name that vanished was recycled, not an error.
fn tally(
    dir: BorrowedFd<'_>,
    names: &[CString],
) -> std::result::Result<Tally, (CString, nix::Error)> {
    let mut t = Tally::default();
    for name in names {
        match fstatat(dir, name.as_c_str(), AtFlags::empty()) {
            Ok(st) if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG => {
                t.regular += 1;
                t.bytes += st.st_size as u64;
                if std::str::from_utf8(name.to_bytes()).is_ok_and(is_segment_name) {
                    t.segments += 1;
                }
            }
            Ok(_) => {}
            Err(nix::Error::ENOENT) => t.vanished += 1,
            Err(e) => return Err((name.clone(), e)),
        }
    }
    Ok(t)
}
