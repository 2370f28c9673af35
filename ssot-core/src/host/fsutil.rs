//! Small filesystem primitives shared by the host adapters.
//!
//! Every file ssot owns (state records, logs, locks, journals, markers) is
//! opened through [`open_owned`]: the last path component is never followed
//! if it is a symbolic link (`O_NOFOLLOW`), the open never blocks (a FIFO
//! would otherwise hang it: `O_NONBLOCK`), and what was opened must be a
//! regular file. Reads are capped ([`read_capped`]), so `/dev/zero` or a
//! runaway file cannot exhaust memory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::libc;

use crate::error::{Error, Result};

/// Why a file ssot owns could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// It does not exist.
    NotFound,
    /// It is something ssot refuses to use: a symlink, a FIFO, a directory, ...
    Refused(String),
    /// Any other I/O error.
    Io(io::Error),
}

impl OpenError {
    /// The error as an [`Error`] for `path`, with `op` naming the operation.
    pub(crate) fn into_error(self, op: &'static str, path: &Path) -> Error {
        match self {
            OpenError::NotFound => Error::io(op, path, io::Error::from(ErrorKind::NotFound)),
            OpenError::Refused(problem) => Error::UnsafeFile {
                path: path.to_path_buf(),
                problem,
            },
            OpenError::Io(e) => Error::io(op, path, e),
        }
    }
}

/// What a non-regular file type is, for messages.
pub(crate) fn describe(ft: fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// The message for a refused file type.
pub(crate) fn refusal(kind: &str) -> String {
    if kind == "a symbolic link" {
        "is a symbolic link; ssot never reads or writes its own files through a link".into()
    } else {
        format!("is {kind}, not a regular file")
    }
}

/// Opens a file ssot owns without following a symlink in its last component
/// and without blocking, and checks that it is a regular file.
pub(crate) fn open_owned(
    path: &Path,
    opts: &mut OpenOptions,
) -> std::result::Result<File, OpenError> {
    open_regular(path, opts, false)
}

/// Opens a regular file without blocking; `follow` says whether a symlink in
/// the last component is followed (a Kubernetes ConfigMap mounts files as links).
pub(crate) fn open_regular(
    path: &Path,
    opts: &mut OpenOptions,
    follow: bool,
) -> std::result::Result<File, OpenError> {
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    opts.custom_flags(nofollow | libc::O_NONBLOCK | libc::O_CLOEXEC);
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(OpenError::NotFound),
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ELOOP) => OpenError::Refused(refusal("a symbolic link")),
                Some(libc::EISDIR) => OpenError::Refused(refusal("a directory")),
                // O_WRONLY|O_NONBLOCK on a FIFO without a reader, or a device without one.
                Some(libc::ENXIO) | Some(libc::ENODEV) => OpenError::Refused(
                    fs::symlink_metadata(path)
                        .map(|m| refusal(describe(m.file_type())))
                        .unwrap_or_else(|_| refusal("not a regular file")),
                ),
                _ => OpenError::Io(e),
            });
        }
    };
    let meta = file.metadata().map_err(OpenError::Io)?;
    if !meta.file_type().is_file() {
        return Err(OpenError::Refused(refusal(describe(meta.file_type()))));
    }
    Ok(file)
}

/// Reads at most `max` bytes; `Ok(None)` when the file holds more.
pub(crate) fn read_capped(f: &mut File, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    f.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}

/// Reads the last `max` bytes of a line-oriented file, starting at a line
/// boundary; the flag says whether earlier lines were left out.
pub(crate) fn read_tail(f: &mut File, max: u64) -> io::Result<(Vec<u8>, bool)> {
    let len = f.metadata()?.len();
    if len <= max {
        let mut buf = Vec::new();
        f.take(max).read_to_end(&mut buf)?;
        return Ok((buf, false));
    }
    f.seek(SeekFrom::Start(len - max))?;
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    // Drop the partial first line.
    let start = buf
        .iter()
        .position(|b| *b == b'\n')
        .map_or(buf.len(), |p| p + 1);
    buf.drain(..start);
    Ok((buf, true))
}

/// A human size limit for messages (`1MiB`).
pub(crate) fn limit_text(max: u64) -> String {
    crate::num::human_bytes(max)
        .replace("B", "iB")
        .replace("kiB", "KiB")
}

/// fsyncs a directory, so a rename or unlink in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Replaces `dir/name` atomically: temp file in `dir`, fsync, rename, fsync of
/// `dir`. The new file keeps the old one's mode (else `default_mode`). A
/// symlink at `dir/name` is replaced by the new file, never written through.
pub(crate) fn write_atomic(
    dir: &Path,
    name: &str,
    contents: &[u8],
    default_mode: u32,
) -> Result<()> {
    write_atomic_all(dir, &[(name, contents)], default_mode)
}

/// [`write_atomic`] for several files of `dir` with one directory fsync:
/// each temp file is written and fsynced, then each is renamed over its
/// target in order, then `dir` is fsynced once. A crash leaves every file
/// old or new (whole); on return all are durable.
pub(crate) fn write_atomic_all(
    dir: &Path,
    files: &[(&str, &[u8])],
    default_mode: u32,
) -> Result<()> {
    let mut ready = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let target = dir.join(name);
        let mode = fs::symlink_metadata(&target)
            .ok()
            .filter(|m| m.file_type().is_file())
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(default_mode);
        // tempfile creates with O_CREAT|O_EXCL: it never opens an existing path.
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
        ready.push((tmp, target));
    }
    for (tmp, target) in ready {
        tmp.persist(&target)
            .map_err(|e| Error::io("rename into", &target, e.error))?;
    }
    sync_dir(dir)
}

/// Appends one line to `path` (created if absent) and fsyncs it; never
/// through a symlink, never to anything but a regular file.
pub(crate) fn append_line(path: &Path, line: &str) -> Result<()> {
    let mut f = open_owned(path, OpenOptions::new().create(true).append(true))
        .map_err(|e| e.into_error("open", path))?;
    let mut buf = line.trim_end_matches('\n').to_string();
    buf.push('\n');
    f.write_all(buf.as_bytes())
        .and_then(|_| f.sync_data())
        .map_err(|e| Error::io("append to", path, e))
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

/// Opens (creating) the lock file `path` — never through a symlink, never
/// anything but a regular file — and tries an exclusive `flock` without
/// waiting: the file and whether the lock was taken (false: someone else holds it).
pub(crate) fn try_lock_file(path: &PathBuf, read: bool) -> Result<(File, bool)> {
    let file = open_owned(
        path,
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(read)
            .write(true),
    )
    .map_err(|e| e.into_error("open lock", path))?;
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok((file, false)),
        Err(e) => Err(Error::io("lock", path, e)),
    }
}
