//! An in-memory host: one small filesystem (directories and files with
//! apparent sizes and mtimes, on "mounts" with device ids and capacities)
//! behind every port, so whole `Ssot` operations run without touching disk,
//! the way quinn-proto tests a connection without a socket.
//!
//! Faults are injected by name: [`World::crash_after_trash`] makes the
//! artifact root "crash" right after its Nth move to the trash (the entry is
//! left under its trash name, as a real crash between rename and unlink would
//! leave it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use ssot_core::config::Config;
use ssot_core::gate::LockFacts;
use ssot_core::ports::{
    ArtifactRoot, Clock, Database, Filesystem, Held, OpenRoot, PathKind, StateStore, VolumeProbe,
    WalScan, WalScanner,
};
use ssot_core::retention::guard::{FileId, Lineage};
use ssot_core::retention::journal::TRASH_PREFIX;
use ssot_core::retention::source::{EntryKind, MarkerContent, RootEntry};
use ssot_core::state::StateInput;
use ssot_core::wal::VolumeStats;
use ssot_core::{Error, Ports, Result, Ssot};

const JOURNAL: &str = ".ssot-retention.journal";

#[derive(Debug, Clone)]
enum Node {
    Dir {
        ino: u64,
    },
    File {
        ino: u64,
        data: Vec<u8>,
        /// Apparent size (a sparse WAL segment is 16MB with no data).
        size: u64,
        mtime: DateTime<Utc>,
    },
}

impl Node {
    fn ino(&self) -> u64 {
        match self {
            Node::Dir { ino } | Node::File { ino, .. } => *ino,
        }
    }
}

#[derive(Debug, Clone)]
struct Mount {
    at: PathBuf,
    dev: u64,
    total: u64,
}

#[derive(Debug, Default)]
struct Inner {
    nodes: BTreeMap<PathBuf, Node>,
    mounts: Vec<Mount>,
    next_ino: u64,
    op_lock: Option<String>,
    crash_after_trash: Option<usize>,
    trash_moves: usize,
    server: Option<std::result::Result<String, String>>,
    disk_full: bool,
    /// The world's clock (every `Ssot` over it reads it).
    now: Option<DateTime<Utc>>,
}

/// The shared in-memory filesystem; every port is a handle on it.
#[derive(Debug, Clone, Default)]
pub struct World(Arc<Mutex<Inner>>);

fn ancestors(p: &Path) -> impl Iterator<Item = &Path> {
    p.ancestors().skip(1)
}

impl World {
    pub fn new() -> World {
        let w = World::default();
        w.inner().mounts.push(Mount {
            at: "/".into(),
            dev: 1,
            total: 100 << 30,
        });
        w.mkdir("/");
        w
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A filesystem of `total` bytes mounted at `at` (its own device).
    pub fn mount(&self, at: &str, dev: u64, total: u64) {
        self.mkdir(at);
        self.inner().mounts.push(Mount {
            at: at.into(),
            dev,
            total,
        });
    }

    /// `mkdir -p`.
    pub fn mkdir(&self, path: &str) {
        let mut i = self.inner();
        let p = PathBuf::from(path);
        let mut chain: Vec<PathBuf> = ancestors(&p).map(Path::to_path_buf).collect();
        chain.reverse();
        chain.push(p);
        for d in chain {
            if !i.nodes.contains_key(&d) {
                i.next_ino += 1;
                let ino = i.next_ino;
                i.nodes.insert(d, Node::Dir { ino });
            }
        }
    }

    /// Writes a file of apparent `size` (content `data`), creating its directory.
    pub fn file_sized(&self, path: &str, data: &[u8], size: u64, mtime: DateTime<Utc>) {
        let p = PathBuf::from(path);
        if let Some(d) = p.parent() {
            self.mkdir(&d.display().to_string());
        }
        let mut i = self.inner();
        let ino = match i.nodes.get(&p) {
            Some(n) => n.ino(),
            None => {
                i.next_ino += 1;
                i.next_ino
            }
        };
        i.nodes.insert(
            p,
            Node::File {
                ino,
                data: data.to_vec(),
                size,
                mtime,
            },
        );
    }

    /// Writes `text` as the file `path` (a state file by hand, say).
    pub fn write_text(&self, path: &str, text: &str, mtime: DateTime<Utc>) {
        self.file_sized(path, text.as_bytes(), text.len() as u64, mtime);
    }

    pub fn read(&self, path: &str) -> Option<String> {
        match self.inner().nodes.get(Path::new(path)) {
            Some(Node::File { data, .. }) => Some(String::from_utf8_lossy(data).into_owned()),
            _ => None,
        }
    }

    pub fn exists(&self, path: &str) -> bool {
        self.inner().nodes.contains_key(Path::new(path))
    }

    /// Names directly in `dir`, sorted.
    pub fn names(&self, dir: &str) -> Vec<String> {
        let i = self.inner();
        children(&i, Path::new(dir))
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    /// Makes pg_wal under `pgdata` hold exactly `n` 16MB segments.
    pub fn set_segments(&self, pgdata: &str, n: u64) {
        let dir = format!("{pgdata}/pg_wal");
        self.mkdir(&dir);
        self.inner().nodes.retain(|p, _| {
            !(p.parent() == Some(Path::new(&dir))
                && p.extension().is_none()
                && p.file_name().is_some_and(|f| f.len() == 24))
        });
        for s in 1..=n {
            self.file_sized(
                &format!("{dir}/00000001{s:016X}"),
                b"",
                16 << 20,
                DateTime::<Utc>::UNIX_EPOCH,
            );
        }
    }

    /// What the live server answers to a probe: its JSON, or why it fails
    /// (`None`: there is no server at all).
    pub fn set_server(&self, answer: Option<std::result::Result<String, String>>) {
        self.inner().server = answer;
    }

    /// Every write fails with ENOSPC while `full` (the state directory's
    /// filesystem is full); reads go on.
    pub fn set_disk_full(&self, full: bool) {
        self.inner().disk_full = full;
    }

    /// The artifact root fails right after its `n`th move to the trash.
    pub fn crash_after_trash(&self, n: Option<usize>) {
        let mut i = self.inner();
        i.crash_after_trash = n;
        i.trash_moves = 0;
    }

    /// Sets the world's clock: the real time of every `Ssot` over it (a
    /// gate, a hold, an apply decide at it).
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.inner().now = Some(now);
    }

    /// An `Ssot` over this world with `config` (its `state_dir` is the
    /// state directory), the world's clock set to `now`.
    pub fn ssot(&self, config: Config, now: DateTime<Utc>) -> Ssot {
        self.set_now(now);
        let ports = Ports {
            wal: Box::new(self.clone()),
            volumes: Box::new(self.clone()),
            fs: Box::new(self.clone()),
            state: Box::new(MemState {
                world: self.clone(),
                dir: PathBuf::from(&config.state_dir),
            }),
            artifacts: Box::new(self.clone()),
            clock: Box::new(self.clone()),
            db: Box::new(self.clone()),
        };
        Ssot::with_host(config, ports)
    }
}

impl Clock for World {
    fn now(&self) -> DateTime<Utc> {
        self.inner().now.unwrap_or_default()
    }
}

/// The usual world of the tests: PGDATA on a 20GB volume (device 10) with
/// 6GB of tables, backups on a separate 50GB volume (device 20) with an empty
/// `/backup/dumps`, the state directory `/opt/ssot/state`; and the
/// configuration naming them.
pub fn standard_world(t0: DateTime<Utc>) -> (World, Config) {
    let w = World::new();
    w.mount("/pgdata", 10, 20 << 30);
    w.file_sized("/pgdata/base/tables", b"", 6 << 30, t0);
    w.mount("/backup", 20, 50 << 30);
    w.mkdir("/backup/dumps");
    w.mkdir("/opt/ssot/state");
    let cfg = Config::from_toml_str(
        "state_dir = \"/opt/ssot/state\"\n[postgres]\npgdata = \"/pgdata\"\n\
         [gate.targets]\nbackup = \"/backup/dumps\"\n",
        "test",
    )
    .expect("the test configuration is valid");
    (w, cfg)
}

fn children<'a>(i: &'a Inner, dir: &'a Path) -> impl Iterator<Item = (&'a PathBuf, &'a Node)> {
    i.nodes
        .range(dir.to_path_buf()..)
        .skip_while(move |(p, _)| p.as_path() == dir)
        .take_while(move |(p, _)| p.starts_with(dir))
        .filter(move |(p, _)| p.parent() == Some(dir))
}

fn under<'a>(i: &'a Inner, dir: &'a Path) -> impl Iterator<Item = (&'a PathBuf, &'a Node)> {
    i.nodes
        .range(dir.to_path_buf()..)
        .take_while(move |(p, _)| p.starts_with(dir))
}

fn not_found(op: &'static str, p: &Path) -> Error {
    Error::io(op, p, std::io::Error::from(std::io::ErrorKind::NotFound))
}

fn mount_of<'a>(i: &'a Inner, p: &Path) -> &'a Mount {
    i.mounts
        .iter()
        .filter(|m| p.starts_with(&m.at))
        .max_by_key(|m| m.at.as_os_str().len())
        .expect("/ is mounted")
}

fn apparent(i: &Inner, p: &Path) -> u64 {
    under(i, p)
        .map(|(_, n)| match n {
            Node::File { size, .. } => *size,
            Node::Dir { .. } => 0,
        })
        .sum()
}

fn remove_tree(i: &mut Inner, p: &Path) {
    i.nodes.retain(|q, _| !q.starts_with(p));
}

impl WalScanner for World {
    fn resolve(&self, pgdata: &Path) -> Result<PathBuf> {
        let d = pgdata.join("pg_wal");
        match self.inner().nodes.get(&d) {
            Some(Node::Dir { .. }) => Ok(d),
            _ => Err(not_found("resolve", &d)),
        }
    }

    fn scan(&self, pgdata: &Path) -> Result<WalScan> {
        let dir = WalScanner::resolve(self, pgdata)?;
        let i = self.inner();
        let mut scan = WalScan::new(dir.clone());
        for (p, n) in children(&i, &dir) {
            let name = p.file_name().unwrap().to_string_lossy();
            if let (Node::File { size, .. }, false) = (n, name.starts_with('.')) {
                scan.wal_bytes += size;
                if ssot_core::host::is_segment_name(&name) {
                    scan.segment_count += 1;
                }
            }
        }
        scan.ready_count = children(&i, &dir.join("archive_status"))
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "ready"))
            .count() as u64;
        Ok(scan)
    }

    /// The world has no links: a tablespace is a directory under
    /// `pg_tblspc` (put a mount on it to give it its own volume).
    fn tablespaces(&self, pgdata: &Path) -> Result<Vec<(String, PathBuf)>> {
        let i = self.inner();
        Ok(children(&i, &pgdata.join("pg_tblspc"))
            .filter(|(_, n)| matches!(n, Node::Dir { .. }))
            .map(|(p, _)| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    p.clone(),
                )
            })
            .collect())
    }
}

impl VolumeProbe for World {
    fn volume(&self, path: &Path) -> Result<VolumeStats> {
        let i = self.inner();
        if !i.nodes.contains_key(path) {
            return Err(not_found("statvfs", path));
        }
        let m = mount_of(&i, path);
        // Files on a nested mount belong to it, not to this one.
        let nested: u64 = i
            .mounts
            .iter()
            .filter(|n| n.at != m.at && n.at.starts_with(&m.at))
            .map(|n| apparent(&i, &n.at))
            .sum();
        let used = apparent(&i, &m.at) - nested;
        Ok(VolumeStats::new(m.total, m.total.saturating_sub(used)))
    }

    fn device(&self, path: &Path) -> Result<u64> {
        let i = self.inner();
        if !i.nodes.contains_key(path) {
            return Err(not_found("stat", path));
        }
        Ok(mount_of(&i, path).dev)
    }
}

impl Filesystem for World {
    fn kind(&self, path: &Path) -> Result<Option<PathKind>> {
        Ok(self.inner().nodes.get(path).map(|n| match n {
            Node::Dir { .. } => PathKind::Directory,
            Node::File { .. } => PathKind::File,
        }))
    }

    fn probe_write(&self, dir: &Path) -> Result<()> {
        match self.inner().nodes.get(dir) {
            Some(Node::Dir { .. }) => Ok(()),
            _ => Err(not_found("probe", dir)),
        }
    }

    fn newest_file(&self, dir: &Path) -> Result<Option<(PathBuf, u64)>> {
        let i = self.inner();
        Ok(children(&i, dir)
            .filter_map(|(p, n)| match n {
                Node::File { size, mtime, .. } => Some((mtime, p.clone(), *size)),
                Node::Dir { .. } => None,
            })
            .max()
            .map(|(_, p, s)| (p, s)))
    }

    fn entry_size(&self, path: &Path) -> Result<Option<(PathKind, u64)>> {
        let i = self.inner();
        Ok(i.nodes.get(path).map(|n| match n {
            Node::Dir { .. } => (PathKind::Directory, apparent(&i, path)),
            Node::File { size, .. } => (PathKind::File, *size),
        }))
    }

    fn inspect_backup(&self, path: &Path) -> Result<Option<ssot_core::evidence::BackupInspection>> {
        let i = self.inner();
        Ok(i.nodes.get(path).map(|n| {
            let (kind, size_bytes, sha) = match n {
                Node::Dir { .. } => (PathKind::Directory, apparent(&i, path), String::new()),
                Node::File { data, size, .. } => {
                    (PathKind::File, *size, ssot_core::evidence::sha256_hex(data))
                }
            };
            ssot_core::evidence::BackupInspection {
                kind,
                size_bytes,
                sha256: sha,
                // The in-memory world models whole pg_dump archives.
                format: if kind == PathKind::File {
                    "custom"
                } else {
                    "directory"
                }
                .into(),
                problem: None,
                checked_by: Some("the in-memory world".into()),
                notes: Vec::new(),
            }
        }))
    }

    fn read_input(&self, path: &Path) -> Result<String> {
        self.read(&path.display().to_string())
            .ok_or_else(|| not_found("read", path))
    }

    fn size_followed(&self, path: &Path) -> Result<Option<u64>> {
        Ok(self
            .read(&path.display().to_string())
            .map(|t| t.len() as u64))
    }

    fn conf_dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        if !self.exists(&dir.display().to_string()) {
            return Err(not_found("list", dir));
        }
        Ok(self
            .names(&dir.display().to_string())
            .into_iter()
            .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
            .map(|n| dir.join(n))
            .filter(|p| self.read(&p.display().to_string()).is_some())
            .collect())
    }

    fn write_file(&self, path: &Path, contents: &[u8]) -> Result<()> {
        let parent_is_dir = path
            .parent()
            .is_some_and(|d| matches!(self.inner().nodes.get(d), Some(Node::Dir { .. })));
        if !parent_is_dir {
            return Err(not_found("write", path));
        }
        if self.inner().disk_full {
            return Err(Error::io(
                "write",
                path,
                std::io::Error::from_raw_os_error(28), // ENOSPC
            ));
        }
        self.file_sized(
            &path.display().to_string(),
            contents,
            contents.len() as u64,
            DateTime::<Utc>::UNIX_EPOCH,
        );
        Ok(())
    }
}

/// The state directory, in the world.
pub struct MemState {
    world: World,
    dir: PathBuf,
}

/// Releases the in-memory operation lock when dropped.
struct OpLock(World);

impl Drop for OpLock {
    fn drop(&mut self) {
        self.0.inner().op_lock = None;
    }
}

impl StateStore for MemState {
    fn location(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn read(&self, name: &str) -> StateInput {
        let path = self.location(name);
        match self.world.inner().nodes.get(Path::new(&path)) {
            None => StateInput::Missing { path },
            Some(Node::Dir { .. }) => StateInput::Invalid {
                path,
                problem: "is a directory".into(),
            },
            Some(Node::File { data, .. }) => StateInput::Present {
                path,
                content: data.clone(),
            },
        }
    }

    fn read_tail(&self, name: &str, _max_bytes: u64) -> (StateInput, bool) {
        (self.read(name), false)
    }

    fn lock(&self) -> Result<Held> {
        self.world.mkdir(&self.dir.display().to_string());
        Ok(Held::new(()))
    }

    fn write_atomic(&self, _lock: &Held, name: &str, contents: &[u8]) -> Result<()> {
        self.world.write_file(&self.dir.join(name), contents)
    }

    fn append_line(&self, _lock: &Held, name: &str, line: &str) -> Result<()> {
        let mut text = self.world.read(&self.location(name)).unwrap_or_default();
        text.push_str(line);
        text.push('\n');
        self.world.write_file(&self.dir.join(name), text.as_bytes())
    }

    fn rotate(&self, _lock: &Held, name: &str, max_bytes: u64, generations: u32) -> Result<bool> {
        let text = match self.world.read(&self.location(name)) {
            Some(t) if t.len() as u64 >= max_bytes => t,
            _ => return Ok(false),
        };
        for g in (1..generations).rev() {
            if let Some(older) = self.world.read(&self.location(&format!("{name}.{g}"))) {
                self.world.write_file(
                    &self.dir.join(format!("{name}.{}", g + 1)),
                    older.as_bytes(),
                )?;
            }
        }
        self.world
            .write_file(&self.dir.join(format!("{name}.1")), text.as_bytes())?;
        self.world.write_file(&self.dir.join(name), b"")?;
        Ok(true)
    }

    fn operation_lock_state(&self) -> LockFacts {
        LockFacts {
            held_by: self.world.inner().op_lock.clone(),
            error: None,
        }
    }

    fn try_operation_lock(&self, holder: &str) -> Result<Held> {
        let mut i = self.world.inner();
        if let Some(h) = &i.op_lock {
            return Err(Error::Locked {
                path: self.dir.join("operation.lock"),
                holder: Some(h.clone()),
            });
        }
        i.op_lock = Some(holder.into());
        Ok(Held::new(OpLock(self.world.clone())))
    }

    fn update_operation_lock(&self, _lock: &Held, holder: &str) -> Result<()> {
        self.world.inner().op_lock = Some(holder.into());
        Ok(())
    }
}

impl Database for World {
    fn query_value(&self, dsn: &str, _sql: &str) -> Result<String> {
        match self.inner().server.clone() {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(why)) => Err(Error::Request(format!("PostgreSQL at {dsn}: {why}"))),
            None => Err(Error::Request(format!(
                "PostgreSQL at {dsn}: connection refused (no server in this world)"
            ))),
        }
    }
}

impl ArtifactRoot for World {
    fn resolve(&self, root: &Path) -> Result<PathBuf> {
        match self.inner().nodes.get(root) {
            Some(Node::Dir { .. }) => Ok(root.to_path_buf()),
            Some(_) => Err(Error::UnsafeFile {
                path: root.into(),
                problem: "is not a directory: an artifact root is one".into(),
            }),
            None => Err(not_found("resolve artifact root", root)),
        }
    }

    fn lineage(&self, path: &Path) -> Result<Lineage> {
        let i = self.inner();
        let existing = path
            .ancestors()
            .find(|a| i.nodes.contains_key(*a))
            .unwrap_or(Path::new("/"));
        let ids = existing
            .ancestors()
            .map(|a| FileId {
                dev: mount_of(&i, a).dev,
                ino: i.nodes[a].ino(),
            })
            .collect();
        Ok(Lineage {
            source: None,
            mounts_below: Vec::new(),
            path: path.display().to_string(),
            exists: existing == path,
            ids,
        })
    }

    fn prepare_scratch(
        &self,
        dir: &Path,
        marker: &str,
        content: &str,
        _owner: Option<&str>,
    ) -> Result<()> {
        if self.inner().nodes.contains_key(dir)
            && !self.inner().nodes.contains_key(&dir.join(marker))
        {
            return Err(Error::UnsafeFile {
                path: dir.into(),
                problem: format!("exists and carries no {marker}"),
            });
        }
        self.mkdir(&dir.display().to_string());
        self.write_file(&dir.join(marker), content.as_bytes())
    }

    fn remove_scratch(&self, dir: &Path, marker: &str) -> Result<()> {
        let mut i = self.inner();
        if !i.nodes.contains_key(dir) {
            return Ok(());
        }
        if !i.nodes.contains_key(&dir.join(marker)) {
            return Err(Error::UnsafeFile {
                path: dir.into(),
                problem: format!("carries no {marker}"),
            });
        }
        remove_tree(&mut i, dir);
        Ok(())
    }

    fn open(&self, root: &Path) -> Result<Box<dyn OpenRoot + Send + Sync>> {
        let id = self.lineage(root)?.ids[0];
        Ok(Box::new(MemRoot {
            world: self.clone(),
            root: root.to_path_buf(),
            id,
        }))
    }
}

/// An open root of the in-memory world (paths never change under it here).
struct MemRoot {
    world: World,
    root: PathBuf,
    id: FileId,
}

impl World {
    fn mem_list(&self, root: &Path) -> Result<Vec<RootEntry>> {
        let i = self.inner();
        Ok(children(&i, root)
            .map(|(p, n)| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                let (kind, size_bytes, modified, content) = match n {
                    Node::Dir { .. } => (
                        EntryKind::Directory,
                        apparent(&i, p),
                        DateTime::<Utc>::UNIX_EPOCH,
                        None,
                    ),
                    Node::File {
                        data, size, mtime, ..
                    } => (
                        EntryKind::File,
                        *size,
                        *mtime,
                        (name.ends_with(".parent")
                            || name.ends_with(".tags")
                            || name.ends_with(".verified"))
                        .then(|| MarkerContent::Text(String::from_utf8_lossy(data).into_owned())),
                    ),
                };
                RootEntry {
                    name,
                    name_is_utf8: true,
                    kind,
                    size_bytes,
                    modified,
                    content,
                    file_id: Some(FileId {
                        dev: mount_of(&i, p).dev,
                        ino: n.ino(),
                    }),
                    held: None,
                    sha256: None,
                }
            })
            .collect())
    }

    fn mem_trash_name(&self, root: &Path, id: &str) -> Result<String> {
        let i = self.inner();
        (0..)
            .map(|n| format!("{TRASH_PREFIX}{}-{n}", id.len()))
            .find(|t| !i.nodes.contains_key(&root.join(t)))
            .ok_or_else(|| Error::Request("no trash name".into()))
    }

    fn mem_remove(&self, root: &Path, name: &str, sidecars: &[String], trash: &str) -> Result<()> {
        let mut i = self.inner();
        let from = root.join(name);
        let to = root.join(trash);
        let moved: Vec<(PathBuf, Node)> = under(&i, &from)
            .map(|(p, n)| (p.clone(), n.clone()))
            .collect();
        if !moved.is_empty() {
            remove_tree(&mut i, &from);
            for (p, n) in moved {
                let rel = p.strip_prefix(&from).unwrap().to_path_buf();
                i.nodes.insert(to.join(rel), n);
            }
            i.trash_moves += 1;
            if i.crash_after_trash == Some(i.trash_moves) {
                return Err(Error::io(
                    "remove",
                    &to,
                    std::io::Error::other("simulated crash after the move to the trash"),
                ));
            }
        }
        for s in sidecars {
            remove_tree(&mut i, &root.join(s));
        }
        remove_tree(&mut i, &to);
        Ok(())
    }

    fn mem_cleanup(&self, _root: &Path) -> Result<()> {
        Ok(())
    }

    fn mem_lock(&self, _root: &Path) -> Result<Held> {
        Ok(Held::new(()))
    }

    fn mem_read_journal(&self, root: &Path) -> Result<String> {
        Ok(self
            .read(&root.join(JOURNAL).display().to_string())
            .unwrap_or_default())
    }

    fn mem_append_journal(&self, root: &Path, line: &str) -> Result<()> {
        let mut text = self.mem_read_journal(root)?;
        text.push_str(line);
        text.push('\n');
        self.write_file(&root.join(JOURNAL), text.as_bytes())
    }

    fn mem_rewrite_journal(&self, root: &Path, content: &str) -> Result<()> {
        self.write_file(&root.join(JOURNAL), content.as_bytes())
    }
}

impl OpenRoot for MemRoot {
    fn id(&self) -> FileId {
        self.id
    }
    fn path(&self) -> &Path {
        &self.root
    }
    fn list(&self) -> Result<Vec<RootEntry>> {
        self.world.mem_list(&self.root)
    }
    fn trash_name(&self, id: &str) -> Result<String> {
        self.world.mem_trash_name(&self.root, id)
    }
    fn removable(&self, _name: &str) -> Result<Option<String>> {
        Ok(None)
    }
    fn checksum(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .world
            .inspect_backup(&self.root.join(name))?
            .filter(|i| i.kind == PathKind::File)
            .map(|i| i.sha256))
    }
    fn remove(&self, name: &str, sidecars: &[String], trash: &str) -> Result<()> {
        self.world.mem_remove(&self.root, name, sidecars, trash)
    }
    fn cleanup(&self) -> Result<()> {
        self.world.mem_cleanup(&self.root)
    }
    fn lock(&self) -> Result<Held> {
        self.world.mem_lock(&self.root)
    }
    fn read_journal(&self) -> Result<String> {
        self.world.mem_read_journal(&self.root)
    }
    fn append_journal(&self, line: &str) -> Result<()> {
        self.world.mem_append_journal(&self.root, line)
    }
    fn rewrite_journal(&self, content: &str) -> Result<()> {
        self.world.mem_rewrite_journal(&self.root, content)
    }
}
