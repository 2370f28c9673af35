//! Small filesystem primitives shared by the host adapters.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// fsyncs a directory, so a rename or unlink in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Replaces `dir/name` atomically: temp file in `dir`, fsync, rename, fsync of
/// `dir`. The new file keeps the old one's mode (else `default_mode`).
pub(crate) fn write_atomic(
    dir: &Path,
    name: &str,
    contents: &[u8],
    default_mode: u32,
) -> Result<()> {
    let target = dir.join(name);
    let mode = fs::metadata(&target)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(default_mode);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create temp file in", dir, e))?;
    tmp.write_all(contents)
        .and_then(|_| {
            tmp.as_file()
                .set_permissions(fs::Permissions::from_mode(mode))
        })
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(&target)
        .map_err(|e| Error::io("rename into", &target, e.error))?;
    sync_dir(dir)
}

/// Removes temp files left by [`write_atomic`] runs that were killed:
/// hidden names ending in `.tmp` whose target name starts with `prefix`.
/// Safe only while holding the lock under which such writes happen.
pub(crate) fn remove_stale_temps(dir: &Path, prefix: &str) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let is_ours = name.ends_with(".tmp")
            && name
                .strip_prefix('.')
                .is_some_and(|rest| rest.starts_with(prefix));
        if is_ours && entry.file_type().is_ok_and(|t| t.is_file()) {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed.push(name),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", entry.path(), e)),
            }
        }
    }
    Ok(removed)
}

/// Opens (creating) `path` and tries an exclusive `flock` without waiting:
/// the file and whether the lock was taken (false: someone else holds it).
pub(crate) fn try_lock_file(path: &PathBuf, read: bool) -> Result<(File, bool)> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(read)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open lock", path, e))?;
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok((file, false)),
        Err(e) => Err(Error::io("lock", path, e)),
    }
}
