//! Artifact roots on the local filesystem.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use walkdir::WalkDir;

use super::fsutil::{remove_stale_temps, sync_dir, try_lock_file, write_atomic};
use crate::error::{Error, Result};
use crate::ports::{ArtifactRoot, Held};
use crate::retention::source::{EntryKind, RootEntry};
use crate::retention::validate_id;

/// Hidden name of the retention journal inside a root.
pub const JOURNAL: &str = ".ssot-retention.journal";
const LOCK: &str = ".ssot-retention.lock";
const TRASH_PREFIX: &str = ".ssot-trash-";

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
                    total += e.metadata().map(|m| m.len()).unwrap_or(0);
                }
            }
            Err(e)
                if e.io_error()
                    .is_some_and(|io| io.kind() == ErrorKind::NotFound) => {}
            Err(e) => return Err(Error::Input(format!("cannot size {}: {e}", path.display()))),
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

impl ArtifactRoot for FsArtifactRoot {
    fn resolve(&self, root: &Path) -> Result<PathBuf> {
        let r = fs::canonicalize(root).map_err(|e| Error::io("resolve artifact root", root, e))?;
        if !r.is_dir() {
            return Err(Error::Input(format!(
                "artifact root {} is not a directory",
                r.display()
            )));
        }
        Ok(r)
    }

    fn list(&self, root: &Path) -> Result<Vec<RootEntry>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(root).map_err(|e| Error::io("list", root, e))? {
            let entry = entry.map_err(|e| Error::io("list", root, e))?;
            let name = match entry.file_name().into_string() {
                Ok(n) => n,
                Err(raw) => {
                    return Err(Error::Input(format!(
                        "{}: entry {raw:?} is not valid UTF-8; rename it before running retention",
                        root.display()
                    )))
                }
            };
            let path = entry.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", &path, e)),
            };
            let kind = kind_of(meta.file_type());
            let size_bytes = match kind {
                EntryKind::Directory => dir_size(&path)?,
                _ => meta.len(),
            };
            let modified: DateTime<Utc> = meta
                .modified()
                .map_err(|e| Error::io("stat", &path, e))?
                .into();
            let content =
                if kind == EntryKind::File && name.ends_with(".parent") && meta.len() <= 4096 {
                    let mut s = String::new();
                    File::open(&path)
                        .and_then(|mut f| f.read_to_string(&mut s))
                        .map_err(|e| Error::io("read", &path, e))?;
                    Some(s)
                } else {
                    None
                };
            out.push(RootEntry {
                name,
                kind,
                size_bytes,
                modified,
                content,
            });
        }
        Ok(out)
    }

    fn remove(&self, root: &Path, name: &str, sidecars: &[String]) -> Result<()> {
        validate_id(name).map_err(Error::Input)?;
        let path = root.join(name);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("stat", &path, e)),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::Input(format!(
                    "refusing to delete {}: it is a symlink",
                    path.display()
                )))
            }
            Ok(_) => {
                let trash = root.join(format!("{TRASH_PREFIX}{name}"));
                remove_entry(&trash)?;
                fs::rename(&path, &trash).map_err(|e| Error::io("move to trash", &path, e))?;
                sync_dir(root)?;
            }
        }
        for s in sidecars {
            validate_id(s).map_err(Error::Input)?;
            let p = root.join(s);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {
                    return Err(Error::Input(format!(
                        "sidecar {} is a directory",
                        p.display()
                    )))
                }
                Ok(_) => fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("stat", &p, e)),
            }
        }
        remove_entry(&root.join(format!("{TRASH_PREFIX}{name}")))?;
        sync_dir(root)
    }

    fn purge_trash(&self, root: &Path) -> Result<Vec<String>> {
        let mut purged = Vec::new();
        for entry in fs::read_dir(root).map_err(|e| Error::io("list", root, e))? {
            let entry = entry.map_err(|e| Error::io("list", root, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(orig) = name.strip_prefix(TRASH_PREFIX) {
                remove_entry(&entry.path())?;
                purged.push(orig.to_string());
            }
        }
        // The journal is compacted by an atomic write under the root lock.
        let temps = remove_stale_temps(root, JOURNAL)?;
        if !purged.is_empty() || !temps.is_empty() {
            sync_dir(root)?;
        }
        Ok(purged)
    }

    fn lock(&self, root: &Path) -> Result<Held> {
        let path = root.join(LOCK);
        match try_lock_file(&path, false)? {
            (f, true) => Ok(Held::new(f)),
            (_, false) => Err(Error::Locked { path, holder: None }),
        }
    }

    fn read_journal(&self, root: &Path) -> Result<String> {
        let path = root.join(JOURNAL);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(s),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    fn append_journal(&self, root: &Path, line: &str) -> Result<()> {
        let path = root.join(JOURNAL);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        f.write_all(format!("{}\n", line.trim_end()).as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io("append to", &path, e))
    }

    fn rewrite_journal(&self, root: &Path, content: &str) -> Result<()> {
        write_atomic(root, JOURNAL, content.as_bytes(), 0o644)
    }
}
