//! Artifact roots on the local filesystem.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use nix::fcntl::{renameat2, RenameFlags};
use sha2::{Digest, Sha256};
use walkdir::WalkDir;

use super::fsutil::{
    self, limit_text, open_owned, read_capped, remove_stale_temps, sync_dir, try_lock_file,
    write_atomic, OpenError,
};
use crate::error::{Error, Result};
use crate::ports::{ArtifactRoot, Held};
use crate::retention::guard::{FileId, Lineage};
use crate::retention::source::{EntryKind, MarkerContent, RootEntry};
use crate::retention::validate_id;

/// Hidden name of the retention journal inside a root.
pub const JOURNAL: &str = ".ssot-retention.journal";
const LOCK: &str = ".ssot-retention.lock";
pub use crate::retention::journal::TRASH_PREFIX;
/// The largest `.parent` marker read; a larger one is unreadable (the
/// artifact is then kept with everything it might depend on).
const MARKER_MAX: u64 = 64 << 10;
/// The largest journal read.
const JOURNAL_MAX: u64 = 1 << 30;

/// [`ArtifactRoot`] on the local filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsArtifactRoot;

fn kind_of(ft: fs::FileType) -> EntryKind {
    if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_dir() {
        EntryKind::Directory
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

fn dir_size(path: &Path) -> Result<u64> {
    let mut total = 0u64;
    for entry in WalkDir::new(path).follow_links(false) {
        match entry {
            Ok(e) => {
                if e.file_type().is_file() {
                    total = total.saturating_add(e.metadata().map(|m| m.len()).unwrap_or(0));
                }
            }
            Err(e)
                if e.io_error()
                    .is_some_and(|io| io.kind() == ErrorKind::NotFound) => {}
            Err(e) => {
                let p = e.path().unwrap_or(path).to_path_buf();
                let io = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("a directory loop"));
                return Err(Error::io("size", p, io));
            }
        }
    }
    Ok(total)
}

/// Removes a path that is not a symlink: a directory recursively (std's
/// `remove_dir_all` never follows links inside), a file by unlinking.
fn remove_entry(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("stat", path, e)),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path).map_err(|e| Error::io("remove", path, e)),
        Ok(_) => fs::remove_file(path).map_err(|e| Error::io("remove", path, e)),
    }
}

/// Reads a `.parent` or `.tags` marker: bounded, never through a link, never blocking.
fn read_marker(path: &Path) -> MarkerContent {
    let mut f = match open_owned(path, OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(OpenError::Refused(why)) => return MarkerContent::Unreadable(why),
        Err(OpenError::NotFound) => return MarkerContent::Unreadable("vanished".into()),
        Err(OpenError::Io(e)) => return MarkerContent::Unreadable(e.to_string()),
    };
    match read_capped(&mut f, MARKER_MAX) {
        Ok(Some(bytes)) => match String::from_utf8(bytes) {
            Ok(s) => MarkerContent::Text(s),
            Err(_) => MarkerContent::Unreadable("is not UTF-8 text".into()),
        },
        Ok(None) => MarkerContent::Unreadable(format!("is larger than {}", limit_text(MARKER_MAX))),
        Err(e) => MarkerContent::Unreadable(e.to_string()),
    }
}

fn file_id(m: &fs::Metadata) -> FileId {
    FileId {
        dev: m.dev(),
        ino: m.ino(),
    }
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

impl ArtifactRoot for FsArtifactRoot {
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
            let m = fs::metadata(p).map_err(|e| Error::io("stat", p, e))?;
            ids.push(file_id(&m));
            cur = p.parent();
        }
        let mut full = canon.clone();
        for part in rest.iter().rev() {
            full.push(part);
        }
        Ok(Lineage {
            path: full.display().to_string(),
            exists: rest.is_empty(),
            ids,
        })
    }

    fn list(&self, root: &Path) -> Result<Vec<RootEntry>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(root).map_err(|e| Error::io("list", root, e))? {
            let entry = entry.map_err(|e| Error::io("list", root, e))?;
            let raw = entry.file_name();
            let (name, name_is_utf8) = match raw.to_str() {
                Some(n) => (n.to_string(), true),
                None => (String::from_utf8_lossy(raw.as_bytes()).into_owned(), false),
            };
            let path = entry.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", &path, e)),
            };
            let kind = kind_of(meta.file_type());
            let size_bytes = match kind {
                EntryKind::Directory if name_is_utf8 && !name.starts_with('.') => dir_size(&path)?,
                _ => meta.len(),
            };
            let modified: DateTime<Utc> = meta
                .modified()
                .map_err(|e| Error::io("stat", &path, e))?
                .into();
            let content = (kind == EntryKind::File
                && name_is_utf8
                && (name.ends_with(".parent") || name.ends_with(".tags")))
            .then(|| read_marker(&path));
            out.push(RootEntry {
                name,
                name_is_utf8,
                kind,
                size_bytes,
                modified,
                content,
                file_id: Some(file_id(&meta)),
            });
        }
        Ok(out)
    }

    fn trash_name(&self, root: &Path, id: &str) -> Result<String> {
        for n in 0..1000 {
            let name = trash_candidate(id, n);
            match fs::symlink_metadata(root.join(&name)) {
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(name),
                Err(e) => return Err(Error::io("stat", root.join(&name), e)),
                Ok(_) => continue, // taken (by someone else's entry): never reused
            }
        }
        Err(Error::UnsafeFile {
            path: root.to_path_buf(),
            problem: format!("has no free trash name for {id}: remove the .ssot-trash-* entries no journal names"),
        })
    }

    fn remove(&self, root: &Path, name: &str, sidecars: &[String], trash: &str) -> Result<()> {
        validate_id(name)?;
        if !trash.starts_with(TRASH_PREFIX) || trash.contains('/') {
            return Err(Error::Request(format!("{trash} is not a trash name")));
        }
        // Every sidecar must be a regular file (or gone) before anything moves:
        // an entry is never half-handled.
        for s in sidecars {
            validate_id(s)?;
            let p = root.join(s);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_file() => {}
                Ok(m) => {
                    return Err(Error::UnsafeFile {
                        path: p,
                        problem: format!(
                            "the marker {}; {name} is left in place",
                            fsutil::refusal(fsutil::describe(m.file_type()))
                        ),
                    })
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("stat", &p, e)),
            }
        }
        let path = root.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("stat", &path, e)),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::UnsafeFile {
                    path,
                    problem: "is a symbolic link: retention never deletes through a link".into(),
                })
            }
            Ok(_) => {
                let dir = File::open(root).map_err(|e| Error::io("open", root, e))?;
                match renameat2(&dir, name, &dir, trash, RenameFlags::RENAME_NOREPLACE) {
                    Ok(()) => {}
                    // A filesystem without RENAME_NOREPLACE (NFS): the name was
                    // free when chosen and the root is locked; check once more.
                    Err(nix::errno::Errno::EINVAL)
                        if fs::symlink_metadata(root.join(trash))
                            .is_err_and(|e| e.kind() == ErrorKind::NotFound) =>
                    {
                        fs::rename(&path, root.join(trash))
                            .map_err(|e| Error::io("move to trash", &path, e))?
                    }
                    Err(e) => {
                        return Err(Error::io("move to trash", &path, std::io::Error::from(e)))
                    }
                }
                sync_dir(root)?;
            }
        }
        for s in sidecars {
            let p = root.join(s);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &p, e)),
            }
        }
        remove_entry(&root.join(trash))?;
        sync_dir(root)
    }

    fn cleanup(&self, root: &Path) -> Result<()> {
        // The journal is compacted by an atomic write under the root lock.
        if !remove_stale_temps(root, JOURNAL)?.is_empty() {
            sync_dir(root)?;
        }
        Ok(())
    }

    fn lock(&self, root: &Path) -> Result<Held> {
        let path = root.join(LOCK);
        match try_lock_file(&path, false)? {
            (f, true) => Ok(Held::from_file(f)),
            (_, false) => Err(Error::Locked { path, holder: None }),
        }
    }

    fn read_journal(&self, root: &Path) -> Result<String> {
        let path = root.join(JOURNAL);
        // The journal decides what a resumed apply removes: trusted like state.
        let mut f = match fsutil::open_trusted(&path) {
            Ok(f) => f,
            Err(OpenError::NotFound) => return Ok(String::new()),
            Err(e) => return Err(e.into_error("read", &path)),
        };
        let bytes = read_capped(&mut f, JOURNAL_MAX)
            .map_err(|e| Error::io("read", &path, e))?
            .ok_or_else(|| Error::UnsafeFile {
                path: path.clone(),
                problem: format!("is larger than {}", limit_text(JOURNAL_MAX)),
            })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn append_journal(&self, root: &Path, line: &str) -> Result<()> {
        fsutil::append_line(&root.join(JOURNAL), line)
    }

    fn rewrite_journal(&self, root: &Path, content: &str) -> Result<()> {
        write_atomic(root, JOURNAL, content.as_bytes(), fsutil::FILE_MODE)
    }
}
