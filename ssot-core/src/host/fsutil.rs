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
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
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

/// The mode of the files ssot writes into its state directory (and the
/// journals it keeps beside artifacts), whatever the umask.
pub(crate) const FILE_MODE: u32 = 0o640;
/// The mode of ssot's lock files: nobody else may even open them, since an
/// `flock` needs only a read descriptor.
pub(crate) const LOCK_MODE: u32 = 0o600;
/// The mode of the directories ssot creates, whatever the umask.
pub(crate) const DIR_MODE: u32 = 0o750;

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(
            || format!("uid {uid}"),
            |u| format!("{} (uid {uid})", u.name),
        )
}

/// Why a file or directory is not ssot's own to trust: owned by neither
/// root nor the user ssot runs as. Like sshd's StrictModes.
fn foreign_owner(meta: &fs::Metadata) -> Option<String> {
    let euid = nix::unistd::geteuid().as_raw();
    let uid = meta.uid();
    (uid != 0 && uid != euid).then(|| {
        format!(
            "is owned by {}, neither root nor the user ssot runs as ({}): ssot trusts only its own files",
            user_name(uid),
            user_name(euid)
        )
    })
}

/// Why a file is writable by someone it must not be: `mask` is the mode
/// bits that must be clear (`0o022`: group and others).
fn writable_by_others(meta: &fs::Metadata, mask: u32) -> Option<String> {
    let mode = meta.mode() & 0o7777;
    let who = match (mode & mask & 0o020 != 0, mode & mask & 0o002 != 0) {
        (true, true) => "its group and others",
        (true, false) => "its group",
        (false, true) => "others",
        (false, false) => return None,
    };
    Some(format!(
        "is writable by {who} (mode {mode:04o}), so anyone there could have written it: ssot trusts only files nobody else can write (chmod go-w)"
    ))
}

/// Why ssot must not trust a file of its state (or a directory holding it):
/// owned by neither root nor the running user, or writable by group or
/// others. `None`: it may be trusted.
pub(crate) fn untrusted(meta: &fs::Metadata) -> Option<String> {
    foreign_owner(meta).or_else(|| writable_by_others(meta, 0o022))
}

/// [`untrusted`] for code ssot runs (a runbook): owned by root or the
/// running user and not writable by others. A group-writable checkout (umask
/// 002, a user private group) is accepted: the group is the owner's own.
pub(crate) fn untrusted_code(meta: &fs::Metadata) -> Option<String> {
    foreign_owner(meta).or_else(|| writable_by_others(meta, 0o002))
}

/// Why the directories on the way to `path` (as given and as resolved
/// through symlinks) cannot be trusted: each must be owned by root or the
/// running user and have none of the write bits in `mask` unless it is
/// sticky (`/tmp`); otherwise someone else could swap what lies below.
/// `place` words the message (`lies in`, `lies under`).
fn untrusted_ancestors(path: &Path, mask: u32, place: &str) -> Option<String> {
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let resolved = fs::canonicalize(path).unwrap_or_else(|_| absolute.clone());
    for p in [&absolute, &resolved] {
        for ancestor in p.ancestors().skip(1) {
            let Ok(m) = fs::metadata(ancestor) else {
                continue;
            };
            let sticky = m.mode() & 0o1000 != 0;
            let problem = foreign_owner(&m)
                .or_else(|| (!sticky).then(|| writable_by_others(&m, mask)).flatten());
            if let Some(problem) = problem {
                return Some(format!(
                    "{place} {}, which {problem}: whoever can write there could replace it",
                    ancestor.display()
                ));
            }
        }
    }
    None
}

/// Why the directories on the way to `file` cannot be trusted for code ssot
/// runs: as [`untrusted_code`], not writable by others unless sticky.
pub(crate) fn untrusted_code_path(file: &Path) -> Option<String> {
    untrusted_ancestors(file, 0o002, "lies in")
}

/// Why the directory `dir`, or the path to it, cannot be trusted: `dir`
/// itself as [`untrusted`], and every directory on the way to it not
/// writable by group or others unless sticky.
pub(crate) fn untrusted_dir(dir: &Path) -> Option<String> {
    let meta = match fs::metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("cannot be checked: {e}")),
    };
    if let Some(p) = untrusted(&meta) {
        return Some(format!("(the directory) {p}"));
    }
    untrusted_ancestors(dir, 0o022, "lies under")
}

/// Opens a file ssot keeps (a lock, a log), creating it with `mode` — exactly
/// `mode`, whatever the umask — if it does not exist. An existing one must
/// pass [`untrusted`]; a lock file of ours is tightened to [`LOCK_MODE`].
pub(crate) fn open_kept(
    path: &Path,
    mode: u32,
    configure: impl Fn(&mut OpenOptions) -> &mut OpenOptions,
) -> std::result::Result<File, OpenError> {
    let mut create = OpenOptions::new();
    configure(&mut create).create_new(true).mode(mode);
    match open_owned(path, &mut create) {
        Ok(f) => {
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(OpenError::Io)?;
            return Ok(f);
        }
        Err(OpenError::Io(e)) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let mut existing = OpenOptions::new();
    let f = open_owned(path, configure(&mut existing))?;
    let meta = f.metadata().map_err(OpenError::Io)?;
    if let Some(problem) = untrusted(&meta) {
        return Err(OpenError::Refused(problem));
    }
    if mode == LOCK_MODE
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && meta.mode() & 0o077 != 0
    {
        f.set_permissions(fs::Permissions::from_mode(LOCK_MODE))
            .map_err(OpenError::Io)?;
    }
    Ok(f)
}

/// Opens a file of ssot's state for reading ([`open_owned`]) and refuses it
/// unless it may be trusted ([`untrusted`]).
pub(crate) fn open_trusted(path: &Path) -> std::result::Result<File, OpenError> {
    let f = open_owned(path, OpenOptions::new().read(true))?;
    let meta = f.metadata().map_err(OpenError::Io)?;
    match untrusted(&meta) {
        Some(problem) => Err(OpenError::Refused(problem)),
        None => Ok(f),
    }
}

/// Creates the directory `dir` (and missing parents) with [`DIR_MODE`],
/// whatever the umask.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    for a in dir.ancestors() {
        if a.as_os_str().is_empty() || fs::symlink_metadata(a).is_ok() {
            break;
        }
        missing.push(a.to_path_buf());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    for d in missing {
        fs::set_permissions(&d, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
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
        // An existing file keeps its mode, less any write bit for group or
        // others (and set-id bits): a rewrite never perpetuates a hole.
        let mode = fs::symlink_metadata(&target)
            .ok()
            .filter(|m| m.file_type().is_file())
            .map(|m| m.permissions().mode() & 0o755)
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

/// Appends one line to `path` (created [`FILE_MODE`] if absent) and fsyncs
/// it; never through a symlink, never to anything but a regular file, never
/// to a file ssot may not trust ([`untrusted`]).
pub(crate) fn append_line(path: &Path, line: &str) -> Result<()> {
    let mut f =
        open_kept(path, FILE_MODE, |o| o.append(true)).map_err(|e| e.into_error("open", path))?;
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
    let file = open_kept(path, LOCK_MODE, |o| o.read(read).write(true))
        .map_err(|e| e.into_error("open lock", path))?;
    match fs2::FileExt::try_lock_exclusive(&file) {
        Ok(()) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::WouldBlock => Ok((file, false)),
        Err(e) => Err(Error::io("lock", path, e)),
    }
}
