//! Reading a backup whole: its size, its SHA-256 (streamed) and whether its
//! format holds together to the end (see [`crate::evidence::BackupInspection`]).
//!
//! | format | recognised by | checked by |
//! |---|---|---|
//! | `custom` | `PGDMP` at the start | `pg_restore --list` and `pg_restore --file=/dev/null` (every data block read), when `pg_restore` is on `PATH` |
//! | `directory` | a directory holding `toc.dat` | the same |
//! | `tar` | `ustar` at offset 257 | every member read to its end (the `tar` crate); `pg_restore --list` when on `PATH` |
//! | `gzip` | `1f 8b` | decoded to the end (`flate2`): a truncated or corrupt stream fails its CRC or length |
//! | `plain` | `-- PostgreSQL database dump` | its last lines must say `PostgreSQL database dump complete` (also inside gzip) |
//!
//! A directory's checksum is the SHA-256 of one line per regular file,
//! in name order: its path relative to the directory, its size and its own
//! SHA-256. Links and special files are named but not followed.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use sha2::{Digest, Sha256};

use super::process::{supervise, Supervision, Unsupervised};
use crate::evidence::BackupInspection;
use crate::ports::PathKind;

/// The deepest directory backup walked.
const MAX_DEPTH: usize = 200;
/// How much decoded text is kept to find a plain dump's closing line.
const TAIL: usize = 4096;
const PLAIN_START: &[u8] = b"--\n-- PostgreSQL database dump";
const PLAIN_END: &[u8] = b"PostgreSQL database dump complete";

/// A reader that hashes and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    head: Vec<u8>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if self.head.len() < 512 {
            let want = (512 - self.head.len()).min(n);
            self.head.extend_from_slice(&buf[..want]);
        }
        Ok(n)
    }
}

/// A sink that keeps the last [`TAIL`] bytes and the first few.
#[derive(Default)]
struct Tail {
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl io::Write for Tail {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.head.len() < PLAIN_START.len() {
            let want = (PLAIN_START.len() - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..want]);
        }
        self.tail.extend_from_slice(buf);
        if self.tail.len() > 2 * TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `pg_restore` on `PATH`, if there is one.
fn pg_restore() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("pg_restore"))
        .find(|p| p.is_file())
}

/// The most bytes of `pg_restore`'s complaint kept (its first line is used).
const COMPLAINT_MAX: usize = 1 << 20;

/// Runs `pg_restore ARGS PATH` (through the host's one supervisor, with no
/// time limit: reading a large archive through takes what it takes); the
/// first line of its complaint when it fails.
fn run_pg_restore(bin: &Path, args: &[&str], target: &Path) -> Option<String> {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let how = Supervision {
        own_group: false,
        timeout: None,
        grace: None,
        max_output: COMPLAINT_MAX,
    };
    match supervise(cmd, &how, |_| {}) {
        Ok((_, status)) if status.success() => None,
        Ok((done, status)) => {
            let err = String::from_utf8_lossy(&done.stderr);
            let line = err.lines().next().unwrap_or("").trim();
            Some(format!(
                "pg_restore {} failed ({}): {}",
                args.join(" "),
                status,
                line.chars().take(300).collect::<String>()
            ))
        }
        Err(Unsupervised::Spawn(e) | Unsupervised::Wait(e)) => {
            Some(format!("pg_restore could not run: {e}"))
        }
    }
}

/// Checks a pg_dump archive (custom or directory) with `pg_restore`.
fn check_with_pg_restore(target: &Path, out: &mut BackupInspection) {
    match pg_restore() {
        None => out
            .notes
            .push("pg_restore is not on PATH: the archive was not read through".into()),
        Some(bin) => {
            out.problem = run_pg_restore(&bin, &["--list"], target)
                .or_else(|| run_pg_restore(&bin, &["--file=/dev/null"], target));
            out.checked_by = Some("pg_restore --list and --file=/dev/null".into());
        }
    }
}

fn inspect_file(path: &Path, f: File) -> io::Result<BackupInspection> {
    let mut r = Hashing {
        inner: io::BufReader::with_capacity(1 << 20, f),
        hasher: Sha256::new(),
        bytes: 0,
        head: Vec::new(),
    };
    // Sniff the start without consuming more than the format check needs.
    let mut first = [0u8; 512];
    let mut got = 0;
    while got < first.len() {
        let n = r.read(&mut first[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    let start = &first[..got];
    let mut out = BackupInspection {
        kind: PathKind::File,
        size_bytes: 0,
        sha256: String::new(),
        format: "unknown".into(),
        problem: None,
        checked_by: None,
        notes: Vec::new(),
    };
    let rest = io::Read::chain(io::Cursor::new(start.to_vec()), &mut r);
    if start.starts_with(b"PGDMP") {
        out.format = "custom".into();
        drain(rest)?;
    } else if start.len() >= 262 && &start[257..262] == b"ustar" {
        out.format = "tar".into();
        let mut archive = tar::Archive::new(rest);
        let walked = (|| -> io::Result<u64> {
            let mut members = 0;
            for entry in archive.entries()? {
                let mut entry = entry?;
                let want = entry.header().size()?;
                let read = io::copy(&mut entry, &mut io::sink())?;
                if read != want {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("a member holds {read} of its {want} bytes"),
                    ));
                }
                members += 1;
            }
            Ok(members)
        })();
        out.checked_by = Some("every tar member read to its end".into());
        if let Err(e) = walked {
            out.problem = Some(format!("the tar archive is truncated or corrupt: {e}"));
        }
        drain(archive.into_inner())?;
    } else if start.starts_with(&[0x1f, 0x8b]) {
        out.format = "gzip".into();
        let mut dec = flate2::read::MultiGzDecoder::new(rest);
        let mut tail = Tail::default();
        out.checked_by = Some("gzip decoded to its end".into());
        match io::copy(&mut dec, &mut tail) {
            Ok(_) => {
                if tail.head.starts_with(PLAIN_START) {
                    out.format = "gzip plain".into();
                    if !contains(&tail.tail, PLAIN_END) {
                        out.problem = Some(
                            "the plain dump inside does not end with \"PostgreSQL database dump complete\": it was cut short".into(),
                        );
                    }
                }
            }
            Err(e) => out.problem = Some(format!("the gzip stream is truncated or corrupt: {e}")),
        }
        drain(dec.into_inner())?;
    } else if start.starts_with(PLAIN_START) {
        out.format = "plain".into();
        let mut tail = Tail::default();
        io::copy(&mut { rest }, &mut tail)?;
        out.checked_by = Some("its closing line".into());
        if !contains(&tail.tail, PLAIN_END) {
            out.problem = Some(
                "the plain dump does not end with \"PostgreSQL database dump complete\": it was cut short".into(),
            );
        }
    } else {
        drain(rest)?;
    }
    out.size_bytes = r.bytes;
    out.sha256 = hex(r.hasher.finalize());
    if out.format == "custom" && out.problem.is_none() {
        check_with_pg_restore(path, &mut out);
    } else if out.format == "tar" && out.problem.is_none() {
        check_with_pg_restore(path, &mut out);
        if out.checked_by.is_some() {
            out.checked_by = Some(
                "every tar member read to its end, and pg_restore --list and --file=/dev/null"
                    .into(),
            );
        }
    }
    Ok(out)
}

/// Streams `r` through SHA-256: (bytes, hex digest).
fn sha_of(mut r: impl Read) -> io::Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            return Ok((n, hex(h.finalize())));
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
}

fn drain(mut r: impl Read) -> io::Result<()> {
    io::copy(&mut r, &mut io::sink()).map(drop)
}

fn io_err(e: Errno) -> io::Error {
    io::Error::from(e)
}

/// Opens the regular file `name` in `dir` for reading, never through a link.
fn open_file_at(dir: &OwnedFd, name: &std::ffi::OsStr) -> io::Result<File> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map(File::from)
    .map_err(io_err)
}

/// Opens the directory `name` in `dir`, never through a link.
fn open_subdir(dir: &OwnedFd, name: &std::ffi::OsStr) -> io::Result<OwnedFd> {
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err)
}

/// The SHA-256 of the tree below `dir` (see the module docs) and the bytes of its files.
fn tree_checksum(dir: &OwnedFd) -> io::Result<(String, u64)> {
    let mut lines = Sha256::new();
    let mut total = 0;
    hash_tree(dir, Path::new(""), 1, &mut lines, &mut total)?;
    Ok((hex(lines.finalize()), total))
}

/// Hashes the tree below `dir` (see the module docs) through descriptors.
fn hash_tree(
    dir: &OwnedFd,
    rel: &Path,
    depth: usize,
    lines: &mut Sha256,
    total: &mut u64,
) -> io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(io::Error::other(format!("deeper than {MAX_DEPTH} levels")));
    }
    let mut names = super::artifacts::names_in(dir)?;
    names.sort();
    for name in names {
        let st = fstatat(dir, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW).map_err(io_err)?;
        let here = rel.join(&name);
        match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
            SFlag::S_IFREG => {
                let (n, sum) = sha_of(open_file_at(dir, &name)?)?;
                *total = total.saturating_add(n);
                lines.update(format!("{} {n} {sum}\n", here.display()));
            }
            SFlag::S_IFDIR => {
                let fd = open_subdir(dir, &name)?;
                lines.update(format!("{}/\n", here.display()));
                hash_tree(&fd, &here, depth + 1, lines, total)?;
            }
            _ => lines.update(format!("{} (not a regular file)\n", here.display())),
        }
    }
    Ok(())
}

/// Reads the backup at `path` whole; `Ok(None)` when nothing is there. A
/// symlink or a special file is [`PathKind::Other`], never followed.
pub(crate) fn inspect(path: &Path) -> io::Result<Option<BackupInspection>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_file() {
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
            .open(path)?;
        return inspect_file(path, f).map(Some);
    }
    if !meta.is_dir() {
        return Ok(Some(BackupInspection {
            kind: PathKind::Other,
            size_bytes: 0,
            sha256: String::new(),
            format: "unknown".into(),
            problem: None,
            checked_by: None,
            notes: Vec::new(),
        }));
    }
    let dir = nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err)?;
    Ok(Some(inspect_dir(path, &dir)?))
}

/// [`inspect`] for an open directory.
pub(crate) fn inspect_dir(path: &Path, dir: &OwnedFd) -> io::Result<BackupInspection> {
    let (sha256, total) = tree_checksum(dir)?;
    let mut out = BackupInspection {
        kind: PathKind::Directory,
        size_bytes: total,
        sha256,
        format: "directory".into(),
        problem: None,
        checked_by: None,
        notes: Vec::new(),
    };
    let has_toc = fstatat(dir.as_fd(), "toc.dat", AtFlags::AT_SYMLINK_NOFOLLOW).is_ok();
    if has_toc {
        out.format = "directory dump".into();
        check_with_pg_restore(path, &mut out);
    }
    Ok(out)
}

/// The SHA-256 of the entry `name` of `dir` as [`inspect`] computes it,
/// through descriptors (a file, or a directory's tree); `None` for anything
/// else or when it is gone.
pub(crate) fn checksum_at(dir: &OwnedFd, name: &std::ffi::OsStr) -> io::Result<Option<String>> {
    let st = match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(io_err(e)),
    };
    match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFREG => Ok(Some(sha_of(open_file_at(dir, name)?)?.1)),
        SFlag::S_IFDIR => Ok(Some(tree_checksum(&open_subdir(dir, name)?)?.0)),
        _ => Ok(None),
    }
}
