//! A throwaway PostgreSQL cluster for tests: Debian's postgresql 15 (or
//! `SSOT_PG_BIN`) in a temp dir, on a Unix socket only, run as the
//! `postgres` user when the tests run as root, stopped when dropped.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

pub fn pg_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("SSOT_PG_BIN") {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/lib/postgresql/15/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/17/bin",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.join("initdb").exists())
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

pub struct Cluster {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Cluster {
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn socket(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Runs a PostgreSQL tool as the cluster's owner.
    pub fn tool(&self, name: &str, args: &[&str]) -> Output {
        let out = self.try_tool(name, args);
        assert!(
            out.status.success(),
            "{name} {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs a PostgreSQL tool as the cluster's owner; its failure is the caller's to judge.
    pub fn try_tool(&self, name: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(name);
        let cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        self.try_tool_with(cmd, args)
    }

    fn try_tool_with(&self, mut cmd: Command, args: &[&str]) -> Output {
        cmd.args(args)
            .env("PGHOST", self.socket())
            .env("PGUSER", "postgres")
            .env("PGDATABASE", "postgres")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
    }

    pub fn sql(&self, query: &str) -> String {
        let out = self.tool("psql", &["-X", "-AtF,", "-c", query]);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// An initialised, stopped cluster whose PGDATA and pg_wal are the
    /// (empty) directories `prepare` made ready under the cluster's temp
    /// directory, e.g. mount points of small volumes: `prepare(dir)` runs
    /// before `initdb -D dir/data -X dir/wal/pg_wal`.
    pub fn init_on(prepare: impl FnOnce(&std::path::Path)) -> Cluster {
        let c = Cluster::empty();
        prepare(c.dir.path());
        for d in [c.data(), c.dir.path().join("wal")] {
            std::fs::create_dir_all(&d).unwrap();
            c.give(&d);
        }
        let data = c.data().display().to_string();
        let wal = c.dir.path().join("wal/pg_wal").display().to_string();
        c.tool(
            "initdb",
            &[
                "-D",
                &data,
                "-X",
                &wal,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        c
    }

    fn empty() -> Cluster {
        let bin = pg_bin().expect(
            "PostgreSQL server binaries not found (install Debian's postgresql, set SSOT_PG_BIN, or set SSOT_SKIP_PG=1 to skip explicitly)",
        );
        let dir = tempfile::Builder::new()
            .prefix("ssot-pg-")
            .tempdir()
            .unwrap();
        if is_root() {
            let pg = nix::unistd::User::from_name("postgres")
                .unwrap()
                .expect("running as root needs a postgres user to own the cluster");
            nix::unistd::chown(dir.path(), Some(pg.uid), Some(pg.gid)).unwrap();
        }
        Cluster { bin, dir }
    }

    fn init() -> Cluster {
        let c = Cluster::empty();
        let data = c.data().display().to_string();
        c.tool(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        c
    }

    /// An initialised but stopped cluster, for `postgres -C` queries.
    pub fn stopped() -> Cluster {
        Cluster::init()
    }

    /// Starts an initialised cluster on its socket (no TCP).
    pub fn start() -> Cluster {
        Cluster::start_with("")
    }

    /// Starts an initialised cluster on its socket (no TCP) with extra
    /// server options (`-c name=value ...`).
    pub fn start_with(extra: &str) -> Cluster {
        let c = Cluster::init();
        c.start_again(extra);
        c
    }

    /// (Re)starts the cluster's server with `extra` options.
    pub fn start_again(&self, extra: &str) {
        let data = self.data().display().to_string();
        let opts = format!(
            "-k {} -c listen_addresses='' -c max_wal_size=96MB -c min_wal_size=32MB -c fsync=off {extra}",
            self.socket()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.tool(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Starts the server on its socket with no setting on the command line
    /// but the socket's: what it runs is what its configuration files say,
    /// as on a host.
    pub fn start_as_configured(&self) {
        let data = self.data().display().to_string();
        let opts = format!("-k {} -c listen_addresses=''", self.socket());
        let log = self.dir.path().join("server.log").display().to_string();
        self.tool(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
    }

    /// Stops the server now (`-m immediate`), keeping its files.
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.tool("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// The libpq connection string of the server's socket.
    pub fn dsn(&self) -> String {
        format!("host={} user=postgres dbname=postgres", self.socket())
    }

    /// A PostgreSQL tool as the cluster's owner, started in the background.
    pub fn spawn_tool(&self, name: &str, args: &[&str]) -> std::process::Child {
        let exe = self.bin.join(name);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args)
            .env("PGHOST", self.socket())
            .env("PGUSER", "postgres")
            .env("PGDATABASE", "postgres")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"))
    }

    /// Makes `path` (a directory) belong to the cluster's owner, so tools run
    /// as that user can write there.
    pub fn give(&self, path: &std::path::Path) {
        if is_root() {
            let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
            nix::unistd::chown(path, Some(pg.uid), Some(pg.gid)).unwrap();
        }
    }
}

/// Kills a background process when dropped (a test that fails mid-way
/// leaves no pgbench behind).
pub struct Background(pub std::process::Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let _ = cmd
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
