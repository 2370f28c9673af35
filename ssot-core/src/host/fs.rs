//! Volume sizes, device ids and target probes.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ports::{Filesystem, PathKind, VolumeProbe};
use crate::wal::VolumeStats;

/// Volume sizes from `statvfs(2)`, device ids from `stat(2)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatvfsVolumes;

impl VolumeProbe for StatvfsVolumes {
    fn volume(&self, path: &Path) -> Result<VolumeStats> {
        let st = nix::sys::statvfs::statvfs(path)
            .map_err(|e| Error::io("statvfs", path, std::io::Error::from(e)))?;
        let frsize = st.fragment_size() as u64;
        Ok(VolumeStats {
            total_bytes: (st.blocks() as u64).saturating_mul(frsize),
            available_bytes: (st.blocks_available() as u64).saturating_mul(frsize),
            free_bytes: Some((st.blocks_free() as u64).saturating_mul(frsize)),
        })
    }

    fn device(&self, path: &Path) -> Result<u64> {
        fs::metadata(path)
            .map(|m| m.dev())
            .map_err(|e| Error::io("stat", path, e))
    }
}

/// Target probes on the local filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFilesystem;

impl Filesystem for StdFilesystem {
    fn kind(&self, path: &Path) -> Result<Option<PathKind>> {
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => Ok(Some(PathKind::Directory)),
            Ok(m) if m.is_file() => Ok(Some(PathKind::File)),
            Ok(_) => Ok(Some(PathKind::Other)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("stat", path, e)),
        }
    }

    fn probe_write(&self, dir: &Path) -> Result<()> {
        let mut f = tempfile::Builder::new()
            .prefix(".ssot-write-probe-")
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a probe file in", dir, e))?;
        f.write_all(b"ssot")
            .and_then(|_| f.as_file().sync_all())
            .map_err(|e| Error::io("write a probe file in", dir, e))?;
        f.close()
            .map_err(|e| Error::io("remove the probe file in", dir, e))
    }

    fn newest_file(&self, dir: &Path) -> Result<Option<(PathBuf, u64)>> {
        let mut best: Option<(std::time::SystemTime, PathBuf, u64)> = None;
        for entry in fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let m = match entry.metadata() {
                Ok(m) => m,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("stat", entry.path(), e)),
            };
            if !m.is_file() {
                continue;
            }
            let mtime = m
                .modified()
                .map_err(|e| Error::io("stat", entry.path(), e))?;
            if best
                .as_ref()
                .is_none_or(|(t, p, _)| (mtime, entry.path()) > (*t, p.clone()))
            {
                best = Some((mtime, entry.path(), m.len()));
            }
        }
        Ok(best.map(|(_, p, n)| (p, n)))
    }

    fn inspect_backup(&self, path: &Path) -> Result<Option<crate::evidence::BackupInspection>> {
        super::inspect::inspect(path).map_err(|e| Error::io("read backup", path, e))
    }

    fn entry_size(&self, path: &Path) -> Result<Option<(PathKind, u64)>> {
        let m = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("stat", path, e)),
        };
        if m.is_file() {
            return Ok(Some((PathKind::File, m.len())));
        }
        if !m.is_dir() {
            return Ok(Some((PathKind::Other, 0)));
        }
        let mut total = 0u64;
        for entry in walkdir::WalkDir::new(path).follow_links(false) {
            let entry = entry.map_err(|e| {
                Error::io(
                    "size",
                    path,
                    e.into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("a directory loop")),
                )
            })?;
            if entry.file_type().is_file() {
                let len = entry
                    .metadata()
                    .map_err(|e| Error::io("stat", entry.path(), std::io::Error::other(e)))?
                    .len();
                total = total.saturating_add(len);
            }
        }
        Ok(Some((PathKind::Directory, total)))
    }

    fn read_input(&self, path: &Path) -> Result<String> {
        super::read_input(path, super::INPUT_MAX)
    }

    fn read_input_max(&self, path: &Path, max: u64) -> Result<String> {
        super::read_input(path, max.min(super::INPUT_MAX))
    }

    fn read_input_bytes(&self, path: &Path) -> Result<Vec<u8>> {
        super::files::read_input_bytes(path, super::INPUT_MAX)
    }

    fn size_followed(&self, path: &Path) -> Result<Option<u64>> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("stat", path, e)),
        }
    }

    fn conf_dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))? {
            let entry = entry.map_err(|e| Error::io("list", dir, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".conf") {
                continue;
            }
            let path = entry.path();
            // PostgreSQL follows symlinks, skips directories and reads
            // everything else (a FIFO too: the reader refuses that).
            match fs::metadata(&path) {
                Ok(m) if !m.is_dir() => files.push(path),
                Ok(_) => {}
                Err(e) => return Err(Error::io("stat", &path, e)),
            }
        }
        // PostgreSQL sorts by name, byte for byte (strcmp).
        files.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        Ok(files)
    }

    fn write_file(&self, path: &Path, contents: &[u8]) -> Result<()> {
        super::write_file_atomic(path, contents)
    }
}
