//! Reading the configuration file and the input files a user names.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::Path;

use super::fsutil::{limit_text, open_regular, read_capped, OpenError};
use crate::error::{Error, Result};

/// The largest configuration file read.
pub const CONFIG_MAX: u64 = 1 << 20;
/// The largest input file read (a `kubectl get ... -o json`, a catalog).
pub const INPUT_MAX: u64 = 1 << 30;
/// The largest runbook read: far above any real runbook (the examples are a
/// few KiB), and small enough that compiling the worst one is quick (Rhai's
/// parser is superlinear in, e.g., the cases of one `switch`).
pub const RUNBOOK_MAX: u64 = 256 << 10;

/// Reads the configuration file: a regular file (through symlinks, as a
/// ConfigMap mounts it), UTF-8, at most [`CONFIG_MAX`], owned by root or the
/// running user and not writable by others (it sets what the gates accept,
/// `gate.wal_max_age` among them). `Ok(None)` when it does not exist and
/// `required` is false.
pub fn read_config(path: &Path, required: bool) -> Result<Option<String>> {
    read_text(path, "configuration file", CONFIG_MAX, required, false)
}

/// Reads a runbook, which is code ssot runs with the operation lock: a
/// regular file (through symlinks; a FIFO or a device is refused without
/// blocking), UTF-8, at most [`RUNBOOK_MAX`], owned by root or the running
/// user and not writable by others (a group-writable checkout under umask
/// 002 is accepted; state files must not be group-writable), in directories
/// nobody else can write either.
pub fn read_runbook(path: &Path) -> Result<String> {
    read_text(path, "runbook", RUNBOOK_MAX, true, true).map(Option::unwrap_or_default)
}

fn read_text(
    path: &Path,
    what: &str,
    max: u64,
    required: bool,
    code: bool,
) -> Result<Option<String>> {
    let op = if code {
        "read runbook"
    } else {
        "read configuration"
    };
    let mut f = match open_regular(path, OpenOptions::new().read(true), true) {
        Ok(f) => f,
        Err(OpenError::NotFound) if !required => return Ok(None),
        Err(OpenError::NotFound) => {
            return Err(Error::io(
                op,
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ))
        }
        Err(e) => return Err(e.into_error(op, path)),
    };
    let meta = f.metadata().map_err(|e| Error::io(op, path, e))?;
    let problem = super::fsutil::untrusted_code(&meta).or_else(|| {
        code.then(|| super::fsutil::untrusted_code_path(path))
            .flatten()
    });
    if let Some(problem) = problem {
        return Err(Error::UnsafeFile {
            path: path.into(),
            problem,
        });
    }
    let bytes = read_capped(&mut f, max)
        .map_err(|e| Error::io(op, path, e))?
        .ok_or_else(|| Error::UnsafeFile {
            path: path.into(),
            problem: format!("is larger than {}, too large for a {what}", limit_text(max)),
        })?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| Error::UnsafeFile {
            path: path.into(),
            problem: format!(
                "is not UTF-8 text (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        })
}

/// Reads an input file the user named (`-` is stdin): anything readable,
/// including a pipe (`<(kubectl ...)`), at most `max` bytes of UTF-8, so
/// `/dev/zero` cannot exhaust memory.
pub fn read_input(path: &Path, max: u64) -> Result<String> {
    let what = path.display().to_string();
    let bytes = read_input_bytes(path, max)?;
    String::from_utf8(bytes).map_err(|e| Error::UnsafeFile {
        path: what.into(),
        problem: format!(
            "is not UTF-8 text (at byte {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Reads a file a user named (`-` is standard input) as bytes, up to `max`.
pub fn read_input_bytes(path: &Path, max: u64) -> Result<Vec<u8>> {
    let what = path.display().to_string();
    let bytes = if path == Path::new("-") {
        read_capped_from(std::io::stdin().lock(), max).map_err(|e| Error::io("read", "stdin", e))?
    } else {
        let f = open_input(path).map_err(|e| Error::io("read", path, e))?;
        read_capped_from(f, max).map_err(|e| Error::io("read", path, e))?
    };
    bytes.ok_or_else(|| Error::UnsafeFile {
        path: what.into(),
        problem: format!("is larger than {}", limit_text(max)),
    })
}

/// Opens a named input without waiting for a writer: a FIFO nobody writes
/// to would block `open` forever. Opened non-blocking, then read blocking:
/// a pipe with a writer (`<(kubectl ...)`) is read to its end, and one with
/// none reads as empty at once (POSIX: no writer is end of file).
fn open_input(path: &Path) -> std::io::Result<File> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    // A character device is no input, and is not even opened (some act on
    // open): /dev/zero never ends and /dev/ptmx never answers (found by
    // attack). The caller's own terminal or pipe reaches ssot as `-` or as
    // /dev/stdin, /dev/fd/N, /proc/self/fd/N.
    if std::fs::metadata(path)?.file_type().is_char_device() && !is_own_descriptor(path) {
        return Err(std::io::Error::other(
            "is a character device, not a file or a pipe: give a file, `-` or <(command)",
        ));
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)?;
    let flags =
        OFlag::from_bits_truncate(fcntl(&f, FcntlArg::F_GETFL).map_err(std::io::Error::from)?);
    fcntl(&f, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK)).map_err(std::io::Error::from)?;
    Ok(f)
}

/// `/dev/stdin`, `/dev/fd/N`, `/proc/self/fd/N`: a descriptor the caller
/// opened for ssot (its terminal, its pipe).
fn is_own_descriptor(path: &Path) -> bool {
    path == Path::new("/dev/stdin")
        || path.starts_with("/dev/fd/")
        || path.starts_with("/proc/self/fd/")
}

fn read_capped_from(r: impl Read, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    r.take(max.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}
