//! Artifact roots on the local filesystem.
//!
//! A root is resolved and checked once, then opened once
//! (`O_DIRECTORY|O_NOFOLLOW`) and its (device, inode) compared with what
//! was checked. From then on nothing is resolved by path: every listing,
//! rename, unlink and rmdir is relative to that descriptor (`*at` calls), and
//! a directory artifact is walked and removed through descriptors, never
//! crossing into another filesystem or a mount. Exchanging the root, or any
//! directory above it, for a look-alike tree after the plan changes nothing:
//! the open descriptor still names the tree that was planned.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, renameat, renameat2, AtFlags, OFlag, RenameFlags};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use sha2::{Digest, Sha256};

use super::fsutil::{self, limit_text, untrusted, OpenError};
use crate::error::{Error, Result};
use crate::ports::{ArtifactRoot, Held, OpenRoot};
use crate::retention::guard::{FileId, Lineage};
use crate::retention::source::{EntryKind, MarkerContent, RootEntry};
use crate::retention::validate_id;

/// Hidden name of the retention journal inside a root.
pub const JOURNAL: &str = crate::state::StateFileName::RetentionJournal.as_str();
/// Hidden name of the lock file inside a root.
pub const LOCK: &str = crate::state::StateFileName::RetentionLock.as_str();
pub use crate::retention::journal::TRASH_PREFIX;
/// The largest `.parent` marker read; a larger one is unreadable (the
/// artifact is then kept with everything it might depend on).
const MARKER_MAX: u64 = 64 << 10;
/// The largest journal read.
const JOURNAL_MAX: u64 = 1 << 30;
/// The deepest directory artifact walked: each level holds one descriptor.
/// A deeper one is kept (it cannot be removed through descriptors).
const MAX_DEPTH: usize = 200;

/// [`ArtifactRoot`] on the local filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsArtifactRoot;

fn io_err(e: Errno) -> std::io::Error {
    std::io::Error::from(e)
}

fn file_id(st: &FileStat) -> FileId {
    FileId {
        dev: st.st_dev,
        ino: st.st_ino,
    }
}

fn kind_of(st: &FileStat) -> EntryKind {
    match SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT {
        SFlag::S_IFLNK => EntryKind::Symlink,
        SFlag::S_IFDIR => EntryKind::Directory,
        SFlag::S_IFREG => EntryKind::File,
        _ => EntryKind::Other,
    }
}

fn describe(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Symlink => "a symbolic link",
        EntryKind::Directory => "a directory",
        EntryKind::File => "a regular file",
        EntryKind::Other => "a special file",
    }
}

/// `lstat` relative to `dir`; `None` when the name does not exist.
fn stat_at(dir: impl AsFd, name: &OsStr) -> std::io::Result<Option<FileStat>> {
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(io_err(e)),
    }
}

/// Opens the directory `name` in `dir`, never through a link and never
/// into a mount: `openat2(RESOLVE_NO_XDEV)` fails with `EXDEV` when `name` is
/// a mount point — a bind mount of the same filesystem too, which device
/// numbers cannot tell. (Kernels before 5.6 have no openat2: `openat`, and
/// the device comparison and the mount table are the guard there.)
fn open_dir_at(dir: impl AsFd, name: &OsStr) -> nix::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let how = nix::fcntl::OpenHow::new().flags(flags).resolve(
        nix::fcntl::ResolveFlag::RESOLVE_NO_XDEV | nix::fcntl::ResolveFlag::RESOLVE_NO_SYMLINKS,
    );
    match nix::fcntl::openat2(dir.as_fd(), name, how) {
        Err(Errno::ENOSYS) => openat(dir, name, flags, Mode::empty()),
        other => other,
    }
}

/// True when the entry `name` of `dir` is a mount point (a bind-mounted file
/// or directory): `openat2(O_PATH, RESOLVE_NO_XDEV)` refuses to cross it.
fn is_mount_point(dir: impl AsFd, name: &OsStr) -> bool {
    let how = nix::fcntl::OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(nix::fcntl::ResolveFlag::RESOLVE_NO_XDEV);
    matches!(
        nix::fcntl::openat2(dir.as_fd(), name, how),
        Err(Errno::EXDEV)
    )
}

fn mount_point_error(path: PathBuf) -> Error {
    Error::UnsafeFile {
        path,
        problem: "is a mount point (a bind mount?): retention never crosses into a mount; the rest is left in place".into(),
    }
}

/// The names in the directory `dir` (not `.` or `..`), read through a
/// descriptor of its own so `dir`'s offset is untouched.
pub(super) fn names_in(dir: impl AsFd) -> std::io::Result<Vec<OsString>> {
    let mut d = Dir::openat(
        dir,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err)?;
    let mut out = Vec::new();
    for entry in d.iter() {
        let entry = entry.map_err(io_err)?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            out.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(out)
}

/// One line of `/proc/self/mountinfo`.
struct MountEntry {
    /// The filesystem's device, `major:minor`.
    device: String,
    /// The directory of that filesystem mounted here.
    root: PathBuf,
    /// Where it is mounted.
    point: PathBuf,
}

/// This process's mount table (`/proc/self/mountinfo`), in its order (a
/// later mount on the same point is on top).
fn mount_table() -> std::io::Result<Vec<MountEntry>> {
    let text = fs::read_to_string("/proc/self/mountinfo")?;
    let path = |field: &str| PathBuf::from(OsString::from_vec(unescape_octal(field)));
    Ok(text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f.len() >= 5).then(|| MountEntry {
                device: f[2].to_string(),
                root: path(f[3]),
                point: path(f[4]),
            })
        })
        .collect())
}

/// The mount points of this process's mount namespace.
fn mount_points() -> std::io::Result<Vec<PathBuf>> {
    Ok(mount_table()?.into_iter().map(|m| m.point).collect())
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Where the existing, resolved `path` lies in the filesystem that holds
/// it: the device of the mount with the longest mount point above it, and
/// that mount's root joined with the rest of the path.
fn mount_source(path: &Path) -> Option<(String, PathBuf)> {
    let mut best: Option<(usize, String, PathBuf)> = None;
    for m in mount_table().ok()? {
        let Ok(rest) = path.strip_prefix(&m.point) else {
            continue;
        };
        let depth = m.point.components().count();
        // The last of equally deep mounts is the one on top.
        if best.as_ref().is_none_or(|(d, _, _)| depth >= *d) {
            best = Some((depth, m.device, m.root.join(rest)));
        }
    }
    best.map(|(_, dev, p)| (dev, p))
}

/// The sources (device and root) of the mounts strictly below `path`.
fn mounts_under(path: &Path) -> Vec<crate::retention::guard::MountSource> {
    mount_table()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m.point != path && m.point.starts_with(path))
        .map(|m| crate::retention::guard::MountSource {
            device: m.device,
            path: m.root.display().to_string(),
        })
        .collect()
}

/// The first mount point at or below `path`, if any.
fn mount_within(path: &Path, mounts: &[PathBuf]) -> Option<PathBuf> {
    mounts.iter().find(|m| m.starts_with(path)).cloned()
}

/// Where the open directory `fd` is now, by the kernel's account.
fn current_path(fd: &OwnedFd) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()
}

/// Why a directory tree cannot be removed through descriptors without
/// leaving its filesystem, if it cannot: a mount point at or below it, a
/// subdirectory on another device, more than [`MAX_DEPTH`] levels.
fn tree_blocker(dir: &OwnedFd, dev: u64, depth: usize) -> std::io::Result<Option<String>> {
    if depth > MAX_DEPTH {
        return Ok(Some(format!(
            "it is deeper than {MAX_DEPTH} levels: kept, never walked"
        )));
    }
    for name in names_in(dir)? {
        let Some(st) = stat_at(dir, &name)? else {
            continue;
        };
        if kind_of(&st) != EntryKind::Directory {
            if is_mount_point(dir, &name) {
                return Ok(Some(format!(
                    "it holds a mount ({} is a mount point): kept, retention never crosses into a mount",
                    Path::new(&name).display()
                )));
            }
            continue;
        }
        if st.st_dev != dev {
            return Ok(Some(format!(
                "it holds a mount ({} is on another filesystem): kept, retention never crosses into a mount",
                Path::new(&name).display()
            )));
        }
        let sub = match open_dir_at(dir, &name) {
            Ok(f) => f,
            Err(Errno::ENOENT) => continue,
            Err(Errno::EXDEV) => {
                return Ok(Some(format!(
                    "it holds a mount ({} is a mount point): kept, retention never crosses into a mount",
                    Path::new(&name).display()
                )))
            }
            Err(e) => return Err(io_err(e)),
        };
        if let Some(why) = tree_blocker(&sub, dev, depth + 1)? {
            return Ok(Some(why));
        }
    }
    Ok(None)
}

/// Sums the sizes of the regular files below `dir`, never following links
/// and never leaving device `dev`.
fn tree_size(dir: &OwnedFd, dev: u64, depth: usize) -> std::io::Result<u64> {
    let mut total = 0u64;
    if depth > MAX_DEPTH {
        return Ok(total);
    }
    for name in names_in(dir)? {
        let Some(st) = stat_at(dir, &name)? else {
            continue;
        };
        match kind_of(&st) {
            EntryKind::File => total = total.saturating_add(st.st_size.max(0) as u64),
            EntryKind::Directory if st.st_dev == dev => match open_dir_at(dir, &name) {
                Ok(sub) => total = total.saturating_add(tree_size(&sub, dev, depth + 1)?),
                Err(Errno::ENOENT) | Err(Errno::EXDEV) => {}
                Err(e) => return Err(io_err(e)),
            },
            _ => {}
        }
    }
    Ok(total)
}

/// Removes everything below the open directory `dir`, through descriptors;
/// refuses (before removing anything further) a subdirectory on another
/// device than `dev`.
fn empty_tree(dir: &OwnedFd, dev: u64, depth: usize, shown: &Path) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::UnsafeFile {
            path: shown.to_path_buf(),
            problem: format!("is deeper than {MAX_DEPTH} levels: left in place"),
        });
    }
    for name in names_in(dir).map_err(|e| Error::io("list", shown, e))? {
        let path = shown.join(&name);
        let Some(st) = stat_at(dir, &name).map_err(|e| Error::io("stat", &path, e))? else {
            continue;
        };
        if kind_of(&st) == EntryKind::Directory {
            if st.st_dev != dev {
                return Err(Error::UnsafeFile {
                    path,
                    problem: "is on another filesystem (a mount): retention never crosses into it; the rest is left in place".into(),
                });
            }
            let sub = match open_dir_at(dir, &name) {
                Ok(f) => f,
                Err(Errno::ENOENT) => continue,
                Err(Errno::EXDEV) => return Err(mount_point_error(path)),
                Err(e) => return Err(Error::io("open", &path, io_err(e))),
            };
            let sub_st = fstat(&sub).map_err(|e| Error::io("stat", &path, io_err(e)))?;
            if file_id(&sub_st) != file_id(&st) {
                return Err(Error::UnsafeFile {
                    path,
                    problem: "changed while it was being removed: left in place".into(),
                });
            }
            empty_tree(&sub, dev, depth + 1, &path)?;
            match unlinkat(dir, name.as_os_str(), UnlinkatFlags::RemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(Error::io("remove", &path, io_err(e))),
            }
        } else {
            if is_mount_point(dir, &name) {
                return Err(mount_point_error(path));
            }
            match unlinkat(dir, name.as_os_str(), UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(Error::io("remove", &path, io_err(e))),
            }
        }
    }
    Ok(())
}

/// The short hidden name an entry is renamed to before removal.
fn trash_candidate(id: &str, n: u32) -> String {
    let h = Sha256::digest(id.as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if n == 0 {
        format!("{TRASH_PREFIX}{hex}")
    } else {
        format!("{TRASH_PREFIX}{hex}-{n}")
    }
}

impl FsArtifactRoot {
    fn scratch_remove(dir: &Path, marker: &str) -> Result<()> {
        let Some((fd, marked)) = open_marked(dir, marker)? else {
            return Ok(());
        };
        if !marked {
            return Err(unmarked(dir, marker));
        }
        let st = fstat(&fd).map_err(|e| Error::io("stat", dir, io_err(e)))?;
        let mounts = mount_points().map_err(|e| Error::io("read", "/proc/self/mountinfo", e))?;
        let at = current_path(&fd).unwrap_or_else(|| dir.to_path_buf());
        if let Some(m) = mounts.iter().find(|m| m.starts_with(&at) && **m != at) {
            return Err(Error::UnsafeFile {
                path: dir.to_path_buf(),
                problem: format!("holds a mount ({}): left in place", m.display()),
            });
        }
        // Everything but the marker first: a run killed half way still
        // finds its marker and finishes.
        for name in names_in(&fd).map_err(|e| Error::io("list", dir, e))? {
            if name == OsStr::new(marker) {
                continue;
            }
            let Some(est) =
                stat_at(&fd, &name).map_err(|e| Error::io("stat", dir.join(&name), e))?
            else {
                continue;
            };
            let shown = dir.join(&name);
            if kind_of(&est) == EntryKind::Directory {
                if est.st_dev != st.st_dev {
                    return Err(Error::UnsafeFile {
                        path: shown,
                        problem: "is on another filesystem (a mount): left in place".into(),
                    });
                }
                let sub = match open_dir_at(&fd, &name) {
                    Ok(sub) => sub,
                    Err(Errno::EXDEV) => return Err(mount_point_error(shown)),
                    Err(e) => return Err(Error::io("open", &shown, io_err(e))),
                };
                empty_tree(&sub, st.st_dev, 1, &shown)?;
                unlinkat(&fd, name.as_os_str(), UnlinkatFlags::RemoveDir)
                    .map_err(|e| Error::io("remove", &shown, io_err(e)))?;
            } else {
                if is_mount_point(&fd, &name) {
                    return Err(mount_point_error(shown));
                }
                unlinkat(&fd, name.as_os_str(), UnlinkatFlags::NoRemoveDir)
                    .map_err(|e| Error::io("remove", &shown, io_err(e)))?;
            }
        }
        unlinkat(&fd, marker, UnlinkatFlags::NoRemoveDir)
            .map_err(|e| Error::io("remove", dir.join(marker), io_err(e)))?;
        let parent = dir.parent().unwrap_or(Path::new("/"));
        let name = dir.file_name().unwrap_or_default();
        let pfd = nix::fcntl::open(
            parent,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", parent, io_err(e)))?;
        // Only the directory that was emptied: rmdir fails on anything else
        // that is not empty, and the identity is compared first.
        match stat_at(&pfd, name).map_err(|e| Error::io("stat", dir, e))? {
            Some(now) if file_id(&now) == file_id(&st) => {
                match unlinkat(&pfd, name, UnlinkatFlags::RemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => Ok(()),
                    Err(e) => Err(Error::io("remove", dir, io_err(e))),
                }
            }
            _ => Ok(()),
        }
    }
}

impl ArtifactRoot for FsArtifactRoot {
    fn prepare_scratch(
        &self,
        dir: &Path,
        marker: &str,
        content: &str,
        owner: Option<&str>,
    ) -> Result<()> {
        let (fd, _) = match open_marked(dir, marker)? {
            Some((_, true)) => {
                // A drill that was killed: its own leftovers go first.
                Self::scratch_remove(dir, marker)?;
                return self.prepare_scratch(dir, marker, content, owner);
            }
            Some(_) => return Err(unmarked(dir, marker)),
            None => {
                use std::os::unix::fs::DirBuilderExt;
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| Error::io("create", dir, e))?;
                open_marked(dir, marker)?.ok_or_else(|| {
                    Error::io("open", dir, std::io::Error::from(ErrorKind::NotFound))
                })?
            }
        };
        let f = openat(
            &fd,
            marker,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map_err(|e| Error::io("create", dir.join(marker), io_err(e)))?;
        let mut f = File::from(f);
        f.write_all(content.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io("write", dir.join(marker), e))?;
        if let Some(user) = owner {
            let u = nix::unistd::User::from_name(user)
                .map_err(|e| Error::io("look up user", dir, io_err(e)))?
                .ok_or_else(|| {
                    Error::Request(format!("no user {user} to give {} to", dir.display()))
                })?;
            nix::unistd::fchown(&fd, Some(u.uid), Some(u.gid))
                .map_err(|e| Error::io("chown", dir, io_err(e)))?;
        }
        Ok(())
    }

    fn remove_scratch(&self, dir: &Path, marker: &str) -> Result<()> {
        Self::scratch_remove(dir, marker)
    }

    fn resolve(&self, root: &Path) -> Result<PathBuf> {
        let r = fs::canonicalize(root).map_err(|e| Error::io("resolve artifact root", root, e))?;
        if !r.is_dir() {
            return Err(Error::UnsafeFile {
                path: r,
                problem: "is not a directory: an artifact root is one".into(),
            });
        }
        Ok(r)
    }

    fn lineage(&self, path: &Path) -> Result<Lineage> {
        let abs = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| Error::io("resolve", path, e))?
                .join(path)
        };
        // The nearest existing ancestor, resolved; the rest is appended as written.
        let mut existing = abs.as_path();
        let mut rest: Vec<&OsStr> = Vec::new();
        let canon = loop {
            match fs::canonicalize(existing) {
                Ok(c) => break c,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    rest.push(existing.file_name().unwrap_or_default());
                    existing = existing.parent().unwrap_or(Path::new("/"));
                }
                Err(e) => return Err(Error::io("resolve", existing, e)),
            }
        };
        let mut ids = Vec::new();
        let mut cur = Some(canon.as_path());
        while let Some(p) = cur {
            use std::os::unix::fs::MetadataExt;
            let m = fs::metadata(p).map_err(|e| Error::io("stat", p, e))?;
            ids.push(FileId {
                dev: m.dev(),
                ino: m.ino(),
            });
            cur = p.parent();
        }
        let mut full = canon.clone();
        for part in rest.iter().rev() {
            full.push(part);
        }
        let source = mount_source(&canon).map(|(device, at)| {
            let mut p = at;
            for part in rest.iter().rev() {
                p.push(part);
            }
            crate::retention::guard::MountSource {
                device,
                path: p.display().to_string(),
            }
        });
        let mounts_below = if rest.is_empty() {
            mounts_under(&canon)
        } else {
            Vec::new()
        };
        Ok(Lineage {
            source,
            mounts_below,
            path: full.display().to_string(),
            exists: rest.is_empty(),
            ids,
        })
    }

    fn open(&self, root: &Path) -> Result<Box<dyn OpenRoot + Send + Sync>> {
        let dir = nix::fcntl::open(
            root,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ELOOP | Errno::ENOTDIR => Error::UnsafeFile {
                path: root.to_path_buf(),
                problem: "is not a directory (a symbolic link?): an artifact root is opened only as itself".into(),
            },
            e => Error::io("open artifact root", root, io_err(e)),
        })?;
        let st = fstat(&dir).map_err(|e| Error::io("stat", root, io_err(e)))?;
        Ok(Box::new(FsOpenRoot {
            dir,
            path: root.to_path_buf(),
            id: file_id(&st),
        }))
    }
}

/// Opens `dir` (never through a link) and says whether it carries the
/// regular file `marker`.
fn open_marked(dir: &Path, marker: &str) -> Result<Option<(OwnedFd, bool)>> {
    let fd = match nix::fcntl::open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(Errno::ELOOP) | Err(Errno::ENOTDIR) => {
            return Err(Error::UnsafeFile {
                path: dir.to_path_buf(),
                problem: "is not a directory (a symbolic link?): a drill works only in a directory it created".into(),
            })
        }
        Err(e) => return Err(Error::io("open", dir, io_err(e))),
    };
    let marked = stat_at(&fd, OsStr::new(marker))
        .map_err(|e| Error::io("stat", dir.join(marker), e))?
        .is_some_and(|st| kind_of(&st) == EntryKind::File);
    Ok(Some((fd, marked)))
}

fn unmarked(dir: &Path, marker: &str) -> Error {
    Error::UnsafeFile {
        path: dir.to_path_buf(),
        problem: format!(
            "exists and carries no {marker}: a drill only ever stops and removes a cluster in a directory it created itself; choose another scratch, or remove it by hand"
        ),
    }
}

/// An artifact root held open: every operation is relative to `dir`.
#[derive(Debug)]
struct FsOpenRoot {
    dir: OwnedFd,
    /// The path it was opened at, for messages only.
    path: PathBuf,
    id: FileId,
}

impl FsOpenRoot {
    fn shown(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    fn sync(&self) -> Result<()> {
        nix::unistd::fsync(&self.dir)
            .map_err(|e| Error::io("fsync directory", &self.path, io_err(e)))
    }

    /// Opens the regular file `name` in the root: never through a link,
    /// never blocking, never anything but a regular file.
    fn open_file(
        &self,
        name: &str,
        flags: OFlag,
        mode: u32,
    ) -> std::result::Result<File, OpenError> {
        let fd = match openat(
            &self.dir,
            name,
            flags | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(mode),
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Err(OpenError::NotFound),
            Err(Errno::ELOOP) => {
                return Err(OpenError::Refused(fsutil::refusal("a symbolic link")))
            }
            Err(Errno::EISDIR) => return Err(OpenError::Refused(fsutil::refusal("a directory"))),
            Err(Errno::ENXIO) | Err(Errno::ENODEV) => {
                return Err(OpenError::Refused(fsutil::refusal("not a regular file")))
            }
            Err(e) => return Err(OpenError::Io(io_err(e))),
        };
        let f = File::from(fd);
        let meta = f.metadata().map_err(OpenError::Io)?;
        if !meta.file_type().is_file() {
            return Err(OpenError::Refused(fsutil::refusal(fsutil::describe(
                meta.file_type(),
            ))));
        }
        Ok(f)
    }

    /// Opens (creating with exactly `mode`) a file ssot keeps in the root; an
    /// existing one must be ssot's to trust.
    fn open_kept(&self, name: &str, access: OFlag, mode: u32) -> Result<File> {
        match self.open_file(name, access | OFlag::O_CREAT | OFlag::O_EXCL, mode) {
            Ok(f) => {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(fs::Permissions::from_mode(mode))
                    .map_err(|e| Error::io("open", self.shown(name), e))?;
                return Ok(f);
            }
            Err(OpenError::Io(e)) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into_error("open", &self.shown(name))),
        }
        let f = self
            .open_file(name, access, 0)
            .map_err(|e| e.into_error("open", &self.shown(name)))?;
        let meta = f
            .metadata()
            .map_err(|e| Error::io("stat", self.shown(name), e))?;
        if let Some(problem) = untrusted(&meta) {
            return Err(Error::UnsafeFile {
                path: self.shown(name),
                problem,
            });
        }
        Ok(f)
    }

    /// Reads a `.parent` or `.tags` marker: bounded, never through a link, never blocking.
    fn read_marker(&self, name: &str) -> MarkerContent {
        let mut f = match self.open_file(name, OFlag::O_RDONLY, 0) {
            Ok(f) => f,
            Err(OpenError::Refused(why)) => return MarkerContent::Unreadable(why),
            Err(OpenError::NotFound) => return MarkerContent::Unreadable("vanished".into()),
            Err(OpenError::Io(e)) => return MarkerContent::Unreadable(e.to_string()),
        };
        match fsutil::read_capped(&mut f, MARKER_MAX) {
            Ok(Some(bytes)) => match String::from_utf8(bytes) {
                Ok(s) => MarkerContent::Text(s),
                Err(_) => MarkerContent::Unreadable("is not UTF-8 text".into()),
            },
            Ok(None) => {
                MarkerContent::Unreadable(format!("is larger than {}", limit_text(MARKER_MAX)))
            }
            Err(e) => MarkerContent::Unreadable(e.to_string()),
        }
    }

    /// Why the directory entry `name` cannot be deleted safely now, if it cannot.
    fn directory_blocker(
        &self,
        name: &OsStr,
        st: &FileStat,
        mounts: &[PathBuf],
    ) -> Result<Option<String>> {
        let shown = self.shown(name);
        let sub = match open_dir_at(&self.dir, name) {
            Ok(f) => f,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::EXDEV) => {
                return Ok(Some(
                    "it is a mount point: kept, retention never deletes a mount".into(),
                ))
            }
            Err(e) => return Err(Error::io("open", &shown, io_err(e))),
        };
        // Where the kernel says the directory is (the root may have moved
        // since it was opened), else where it was opened.
        let at = current_path(&sub).unwrap_or_else(|| shown.clone());
        if let Some(m) = mount_within(&at, mounts) {
            return Ok(Some(format!(
                "it holds a mount ({}): kept, retention never crosses into a mount",
                m.display()
            )));
        }
        tree_blocker(&sub, st.st_dev, 1).map_err(|e| Error::io("walk", &shown, e))
    }
}

impl OpenRoot for FsOpenRoot {
    fn id(&self) -> FileId {
        self.id
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn list(&self) -> Result<Vec<RootEntry>> {
        let mounts = mount_points().unwrap_or_default();
        let mut out = Vec::new();
        for raw in names_in(&self.dir).map_err(|e| Error::io("list", &self.path, e))? {
            let (name, name_is_utf8) = match raw.to_str() {
                Some(n) => (n.to_string(), true),
                None => (String::from_utf8_lossy(raw.as_bytes()).into_owned(), false),
            };
            let Some(st) =
                stat_at(&self.dir, &raw).map_err(|e| Error::io("stat", self.shown(&raw), e))?
            else {
                continue;
            };
            let kind = kind_of(&st);
            let artifact_dir =
                kind == EntryKind::Directory && name_is_utf8 && !name.starts_with('.');
            let artifact_entry = name_is_utf8 && !name.starts_with('.');
            let (size_bytes, held) = if artifact_entry && is_mount_point(&self.dir, &raw) {
                (
                    st.st_size.max(0) as u64,
                    Some("it is a mount point: kept, retention never deletes a mount".to_string()),
                )
            } else if artifact_dir {
                let held = self.directory_blocker(&raw, &st, &mounts)?;
                let size = match open_dir_at(&self.dir, &raw) {
                    Ok(sub) => tree_size(&sub, st.st_dev, 1)
                        .map_err(|e| Error::io("size", self.shown(&raw), e))?,
                    Err(Errno::ENOENT) => continue,
                    Err(Errno::EXDEV) => 0,
                    Err(e) => return Err(Error::io("open", self.shown(&raw), io_err(e))),
                };
                (size, held)
            } else {
                (st.st_size.max(0) as u64, None)
            };
            let modified = DateTime::<Utc>::from_timestamp(st.st_mtime, st.st_mtime_nsec as u32)
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
            let content = (kind == EntryKind::File
                && name_is_utf8
                && (name.ends_with(".parent")
                    || name.ends_with(".tags")
                    || name.ends_with(".verified")))
            .then(|| self.read_marker(&name));
            out.push(RootEntry {
                name,
                name_is_utf8,
                kind,
                size_bytes,
                modified,
                content,
                file_id: Some(file_id(&st)),
                held,
                sha256: None,
            });
        }
        Ok(out)
    }

    fn checksum(&self, name: &str) -> Result<Option<String>> {
        validate_id(name)?;
        super::inspect::checksum_at(&self.dir, OsStr::new(name))
            .map_err(|e| Error::io("read", self.shown(name), e))
    }

    fn trash_name(&self, id: &str) -> Result<String> {
        for n in 0..1000 {
            let name = trash_candidate(id, n);
            match stat_at(&self.dir, OsStr::new(&name)) {
                Ok(None) => return Ok(name),
                Ok(Some(_)) => continue, // taken (by someone else's entry): never reused
                Err(e) => return Err(Error::io("stat", self.shown(&name), e)),
            }
        }
        Err(Error::UnsafeFile {
            path: self.path.clone(),
            problem: format!("has no free trash name for {id}: remove the .ssot-trash-* entries no journal names"),
        })
    }

    fn removable(&self, name: &str) -> Result<Option<String>> {
        validate_id(name)?;
        let os = OsStr::new(name);
        let Some(st) =
            stat_at(&self.dir, os).map_err(|e| Error::io("stat", self.shown(name), e))?
        else {
            return Ok(None);
        };
        if is_mount_point(&self.dir, os) {
            return Ok(Some("it is a mount point: never deleted".into()));
        }
        match kind_of(&st) {
            EntryKind::Symlink => Ok(Some("symlink: not followed".into())),
            EntryKind::Other => Ok(Some(format!(
                "{}: never deleted",
                describe(EntryKind::Other)
            ))),
            EntryKind::File => Ok(None),
            EntryKind::Directory => {
                let mounts =
                    mount_points().map_err(|e| Error::io("read", "/proc/self/mountinfo", e))?;
                self.directory_blocker(os, &st, &mounts)
            }
        }
    }

    fn remove(&self, name: &str, sidecars: &[String], trash: &str) -> Result<()> {
        validate_id(name)?;
        if !trash.starts_with(TRASH_PREFIX) || trash.contains('/') {
            return Err(Error::Request(format!("{trash} is not a trash name")));
        }
        // Every sidecar must be a regular file (or gone) before anything moves:
        // an entry is never half-handled.
        for s in sidecars {
            validate_id(s)?;
            match stat_at(&self.dir, OsStr::new(s))
                .map_err(|e| Error::io("stat", self.shown(s), e))?
            {
                None => {}
                Some(st) if kind_of(&st) == EntryKind::File => {}
                Some(st) => {
                    return Err(Error::UnsafeFile {
                        path: self.shown(s),
                        problem: format!(
                            "the marker {}; {name} is left in place",
                            fsutil::refusal(describe(kind_of(&st)))
                        ),
                    })
                }
            }
        }
        let os = OsStr::new(name);
        match stat_at(&self.dir, os).map_err(|e| Error::io("stat", self.shown(name), e))? {
            None => {}
            Some(st) if kind_of(&st) == EntryKind::Symlink => {
                return Err(Error::UnsafeFile {
                    path: self.shown(name),
                    problem: "is a symbolic link: retention never deletes through a link".into(),
                })
            }
            Some(_) => {
                match renameat2(
                    &self.dir,
                    os,
                    &self.dir,
                    trash,
                    RenameFlags::RENAME_NOREPLACE,
                ) {
                    Ok(()) => {}
                    // A filesystem without RENAME_NOREPLACE (NFS): the name was
                    // free when chosen and the root is locked; check once more.
                    Err(Errno::EINVAL)
                        if stat_at(&self.dir, OsStr::new(trash)).is_ok_and(|s| s.is_none()) =>
                    {
                        renameat(&self.dir, os, &self.dir, trash)
                            .map_err(|e| Error::io("move to trash", self.shown(name), io_err(e)))?
                    }
                    Err(e) => return Err(Error::io("move to trash", self.shown(name), io_err(e))),
                }
                self.sync()?;
            }
        }
        for s in sidecars {
            match unlinkat(&self.dir, s.as_str(), UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => {}
                Err(e) => return Err(Error::io("remove", self.shown(s), io_err(e))),
            }
        }
        self.remove_trash(trash)?;
        self.sync()
    }

    fn cleanup(&self) -> Result<()> {
        // Temp files of journal rewrites killed half way (under the root lock).
        let mut removed = false;
        for raw in names_in(&self.dir).map_err(|e| Error::io("list", &self.path, e))? {
            let Some(name) = raw.to_str() else { continue };
            let ours = name.ends_with(".tmp")
                && name
                    .strip_prefix('.')
                    .is_some_and(|rest| rest.starts_with(JOURNAL));
            let is_file = stat_at(&self.dir, &raw)
                .ok()
                .flatten()
                .is_some_and(|st| kind_of(&st) == EntryKind::File);
            if ours && is_file {
                match unlinkat(&self.dir, name, UnlinkatFlags::NoRemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => removed = true,
                    Err(e) => return Err(Error::io("remove", self.shown(name), io_err(e))),
                }
            }
        }
        if removed {
            self.sync()?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<Held> {
        let f = self.open_kept(LOCK, OFlag::O_RDWR, fsutil::LOCK_MODE)?;
        match fs2::FileExt::try_lock_exclusive(&f) {
            Ok(()) => Ok(Held::from_file(f)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Err(Error::Locked {
                path: self.shown(LOCK),
                holder: None,
            }),
            Err(e) => Err(Error::io("lock", self.shown(LOCK), e)),
        }
    }

    fn read_journal(&self) -> Result<String> {
        let path = self.shown(JOURNAL);
        // The journal decides what a resumed apply removes: trusted like state.
        let mut f = match self.open_file(JOURNAL, OFlag::O_RDONLY, 0) {
            Ok(f) => f,
            Err(OpenError::NotFound) => return Ok(String::new()),
            Err(e) => return Err(e.into_error("read", &path)),
        };
        let meta = f.metadata().map_err(|e| Error::io("stat", &path, e))?;
        if let Some(problem) = untrusted(&meta) {
            return Err(Error::UnsafeFile { path, problem });
        }
        let bytes = fsutil::read_capped(&mut f, JOURNAL_MAX)
            .map_err(|e| Error::io("read", &path, e))?
            .ok_or_else(|| Error::UnsafeFile {
                path: path.clone(),
                problem: format!("is larger than {}", limit_text(JOURNAL_MAX)),
            })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn append_journal(&self, line: &str) -> Result<()> {
        let mut f = self.open_kept(
            JOURNAL,
            OFlag::O_WRONLY | OFlag::O_APPEND,
            fsutil::FILE_MODE,
        )?;
        let mut buf = line.trim_end_matches('\n').to_string();
        buf.push('\n');
        f.write_all(buf.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io("append to", self.shown(JOURNAL), e))
    }

    fn rewrite_journal(&self, content: &str) -> Result<()> {
        let tmp = format!(".{JOURNAL}.{}.tmp", std::process::id());
        let mut f = match self.open_file(
            &tmp,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
            fsutil::FILE_MODE,
        ) {
            Ok(f) => f,
            Err(e) => return Err(e.into_error("create temp file", &self.shown(&tmp))),
        };
        let written = {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(fsutil::FILE_MODE))
                .and_then(|_| f.write_all(content.as_bytes()))
                .and_then(|_| f.sync_all())
        };
        if let Err(e) = written {
            let _ = unlinkat(&self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
            return Err(Error::io("write", self.shown(&tmp), e));
        }
        renameat(&self.dir, tmp.as_str(), &self.dir, JOURNAL)
            .map_err(|e| Error::io("rename into", self.shown(JOURNAL), io_err(e)))?;
        self.sync()
    }
}

impl FsOpenRoot {
    /// Removes the trash entry `trash` (a file, or a directory walked through
    /// descriptors without leaving its filesystem); `Ok` if already gone.
    fn remove_trash(&self, trash: &str) -> Result<()> {
        let os = OsStr::new(trash);
        let shown = self.shown(trash);
        let Some(st) = stat_at(&self.dir, os).map_err(|e| Error::io("stat", &shown, e))? else {
            return Ok(());
        };
        match kind_of(&st) {
            EntryKind::Directory => {
                let sub = match open_dir_at(&self.dir, os) {
                    Ok(f) => f,
                    Err(Errno::ENOENT) => return Ok(()),
                    Err(Errno::EXDEV) => return Err(mount_point_error(shown)),
                    Err(e) => return Err(Error::io("open", &shown, io_err(e))),
                };
                let mounts =
                    mount_points().map_err(|e| Error::io("read", "/proc/self/mountinfo", e))?;
                let at = current_path(&sub).unwrap_or_else(|| shown.clone());
                if let Some(m) = mount_within(&at, &mounts) {
                    return Err(Error::UnsafeFile {
                        path: shown,
                        problem: format!(
                            "holds a mount ({}): retention never crosses into a mount; unmount it, then run apply again",
                            m.display()
                        ),
                    });
                }
                empty_tree(&sub, st.st_dev, 1, &shown)?;
                match unlinkat(&self.dir, os, UnlinkatFlags::RemoveDir) {
                    Ok(()) | Err(Errno::ENOENT) => Ok(()),
                    Err(e) => Err(Error::io("remove", &shown, io_err(e))),
                }
            }
            _ => match unlinkat(&self.dir, os, UnlinkatFlags::NoRemoveDir) {
                Ok(()) | Err(Errno::ENOENT) => Ok(()),
                Err(e) => Err(Error::io("remove", &shown, io_err(e))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_read_back() {
        assert_eq!(unescape_octal(r"/a\040b\011c\134d"), b"/a b\tc\\d");
        assert_eq!(unescape_octal(r"/x\04"), b"/x\\04");
        assert!(mount_within(Path::new("/srv/a"), &[PathBuf::from("/srv/ab")]).is_none());
        assert!(mount_within(Path::new("/srv/a"), &[PathBuf::from("/srv/a/b")]).is_some());
    }
}
