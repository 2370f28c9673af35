//! `ssot demo`: the whole WAL check → gate cycle on a built-in sandbox.
//!
//! The sandbox is a real directory tree: a PGDATA whose pg_wal holds sparse
//! 16MB segment files (so gigabytes of WAL cost no disk), a backup directory,
//! a state directory and the sandbox's own `ssot.toml`. The real pg_wal
//! scanner, filesystem probe and state store run on it. Only the volume probe
//! is simulated: it presents PGDATA and the backup directory as two separate
//! filesystems (a 20GB SSOT PVC with 6GB of table data, and a 50GB backup
//! disk), counting the sandbox's files as their used space, because a sandbox
//! cannot mount real volumes. Its clock steps through a timeline 20 minutes
//! apart that ends at `now` (the sandbox's gates decide at those times), so
//! the follow-up commands it prints find fresh state; they run with the real
//! probes and the real clock.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use ssot_core::config::{Config, ConfigSource};
use ssot_core::gate::{Decision, Operation};
use ssot_core::host::{
    DirStateStore, FsArtifactRoot, FsWalScanner, PsqlClient, StdFilesystem, SystemClock,
};
use ssot_core::ports::{Clock, VolumeProbe};
use ssot_core::wal::{Level, VolumeStats};
use ssot_core::{json as render_json, Brief, Error, GateRequest, Ports, Result, Ssot};
use ssot_core::{WalCheck, WalCheckRequest};

use crate::cli::Format;

const SEGMENT: u64 = 16 << 20;

/// What the demo simulates, said plainly in its output.
const SIMULATED: &str = "only the volumes: their sizes and device ids (a 20GB SSOT PVC, a separate 50GB backup disk), because a sandbox cannot mount filesystems; and the clock, which steps through the timeline to now; the pg_wal scan, the state files, the decisions and gate.log are real";

/// The file that marks a directory as a demo sandbox the demo built: it
/// may build there again (and replace its `state/` and `ssot.toml`).
const MARKER: &str = ".ssot-demo-sandbox";

/// Checks that `dir` is somewhere the demo may build its sandbox: a new
/// directory (created here), an empty one, or one it built before. Anything
/// else is refused: the demo replaces `DIR/state` and `DIR/ssot.toml`, and
/// must never do that to a real installation (`--dir /opt/ssot`).
fn sandbox_dir(dir: &Path) -> std::result::Result<(), String> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return private_dirs(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
        }
        Err(e) => return Err(format!("{}: {e}", dir.display())),
        Ok(m) if !m.is_dir() => {
            let what = if m.file_type().is_symlink() {
                "is a symbolic link"
            } else {
                "is not a directory"
            };
            return Err(format!(
                "{} {what}: the demo builds its sandbox in a new or empty directory",
                dir.display()
            ));
        }
        Ok(_) => {}
    }
    if dir.join(MARKER).is_file() {
        return Ok(());
    }
    let mut entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if entries.next().is_some() {
        return Err(format!(
            "{} is not empty and is not a sandbox the demo built (no {MARKER}): the demo replaces DIR/state and DIR/ssot.toml, so it only builds in a new or empty directory; give another --dir, or none (a temporary one)",
            dir.display()
        ));
    }
    Ok(())
}

/// Creates `dir` and its missing parents 0750 whatever the umask: the
/// sandbox's state directory lies under them, and ssot trusts no state
/// directory on a path others could write (a umask of 002 makes 0775).
fn private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
        .map(Path::to_path_buf)
        .collect();
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)?;
    for d in missing {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o750))?;
    }
    Ok(())
}

/// The sandbox's clock: each step of the timeline sets it.
#[derive(Clone)]
struct StepClock(std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>);

impl StepClock {
    fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
}

impl Clock for StepClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Mount {
    root: PathBuf,
    device: u64,
    total: u64,
    base_used: u64,
}

/// Simulated volumes: each mount's used space is its base plus the apparent
/// size of the files under it.
struct SandboxVolumes {
    mounts: Vec<Mount>,
}

fn apparent_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => apparent_bytes(&e.path()),
            Ok(m) if m.is_file() => m.len(),
            _ => 0,
        })
        .sum()
}

impl SandboxVolumes {
    fn mount(&self, path: &Path) -> Result<&Mount> {
        let path = fs::canonicalize(path).map_err(|e| Error::io("resolve", path, e))?;
        self.mounts
            .iter()
            .find(|m| path.starts_with(&m.root))
            .ok_or_else(|| Error::Request(format!("{} is outside the sandbox", path.display())))
    }
}

impl VolumeProbe for SandboxVolumes {
    fn volume(&self, path: &Path) -> Result<VolumeStats> {
        let m = self.mount(path)?;
        let used = m.base_used + apparent_bytes(&m.root);
        Ok(VolumeStats::new(m.total, m.total.saturating_sub(used)))
    }

    fn device(&self, path: &Path) -> Result<u64> {
        self.mount(path).map(|m| m.device)
    }
}

/// Makes pg_wal hold exactly `n` sparse segments.
fn set_segments(pg_wal: &Path, n: u64) -> std::io::Result<()> {
    for i in 1..=n {
        let f = File::create(pg_wal.join(format!("00000001{:016X}", i)))?;
        f.set_len(SEGMENT)?;
    }
    for entry in fs::read_dir(pg_wal)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(i) = name.get(8..).and_then(|h| u64::from_str_radix(h, 16).ok()) {
            if name.len() == 24 && i > n {
                fs::remove_file(entry.path())?;
            }
        }
    }
    Ok(())
}

struct Step {
    story: &'static str,
    segments: u64,
    expect_status: Level,
    expect_allowed: bool,
}

const STEPS: [Step; 4] = [
    Step {
        story: "A quiet night: pg_wal holds 6 segments (96MB).",
        segments: 6,
        expect_status: Level::Ok,
        expect_allowed: true,
    },
    Step {
        story: "A bulk load grows pg_wal to 330 segments (5.2GB), past max_wal_size 4GB + wal_keep_size 0.",
        segments: 330,
        expect_status: Level::NearLimit,
        expect_allowed: false,
    },
    Step {
        story: "A checkpoint recycles WAL down to 258 segments (4.03GB): exactly what PostgreSQL keeps \
                by design (max_wal_size 4GB of recycled segments, the one being written and the next), \
                so the status clears at the limit instead of holding NEAR_LIMIT in a normal steady state.",
        segments: 258,
        expect_status: Level::Ok,
        expect_allowed: true,
    },
    Step {
        story: "WAL settles at 64 segments (1GB = min_wal_size).",
        segments: 64,
        expect_status: Level::Ok,
        expect_allowed: true,
    },
];

pub fn run(
    dir: Option<PathBuf>,
    now: Option<DateTime<Utc>>,
    format: Format,
) -> std::result::Result<u8, String> {
    let now = now.unwrap_or_else(|| SystemClock.now());
    let root = match dir {
        Some(d) => {
            sandbox_dir(&d)?;
            d
        }
        None => tempfile::Builder::new()
            .prefix("ssot-demo-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep(),
    };
    let root = fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let pgdata = root.join("pgdata");
    let pg_wal = pgdata.join("pg_wal");
    let dumps = root.join("backup/dumps");
    let snapshots = root.join("backup/snapshots");
    let state_dir = root.join("state");
    let config_file = root.join("ssot.toml");
    let setup = || -> std::io::Result<()> {
        // The sandbox root holds its state directory: nobody else may write it.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&root, fs::Permissions::from_mode(0o750))?;
        File::create(root.join(MARKER))?;
        fs::create_dir_all(pg_wal.join("archive_status"))?;
        fs::create_dir_all(&dumps)?;
        fs::create_dir_all(&snapshots)?;
        if state_dir.exists() {
            fs::remove_dir_all(&state_dir)?;
        }
        private_dirs(&state_dir)?;
        // Last night's dump: its size is the next backup's estimate.
        File::create(dumps.join("ssot_20260204_030000.sql.gz"))?.set_len(300 << 20)
    };
    setup().map_err(|e| format!("cannot build the sandbox in {}: {e}", root.display()))?;

    let volumes = SandboxVolumes {
        mounts: vec![
            Mount {
                root: pgdata.clone(),
                device: 0xd1,
                total: 20 << 30,
                base_used: 6 << 30,
            },
            Mount {
                root: root.join("backup"),
                device: 0xd2,
                total: 50 << 30,
                base_used: 10 << 30,
            },
        ],
    };
    // TOML strings, quoted and escaped by the toml crate.
    let q = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    let toml = format!(
        "# The demo sandbox's configuration: `ssot --config {cfg} ...` works on the sandbox.\n\
         state_dir = {state}\n\n[postgres]\npgdata = {pgdata}\n\n[gate.targets]\n\
         backup = {dumps}\nsnapshot = {snaps}\n\n[retention.backups]\nroot = {dumps}\n\n\
         [retention.snapshots]\nroot = {snaps}\n",
        cfg = config_file.display(),
        state = q(&state_dir),
        pgdata = q(&pgdata),
        dumps = q(&dumps),
        snaps = q(&snapshots),
    );
    let cfg = Config::from_toml_str(&toml, &config_file.display().to_string())
        .map_err(|e| format!("the demo's own configuration is invalid (a bug): {e}"))?;
    // 0644 whatever the umask: ssot reads no configuration others could write.
    fs::write(&config_file, &toml)
        .and_then(|()| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&config_file, fs::Permissions::from_mode(0o644))
        })
        .map_err(|e| format!("cannot write {}: {e}", config_file.display()))?;
    let clock = StepClock(std::sync::Arc::new(std::sync::Mutex::new(now)));
    let ports = Ports {
        wal: Box::new(FsWalScanner),
        volumes: Box::new(volumes),
        fs: Box::new(StdFilesystem),
        state: Box::new(DirStateStore::new(&state_dir)),
        artifacts: Box::new(FsArtifactRoot),
        clock: Box::new(clock.clone()),
        db: Box::new(PsqlClient::default()),
    };
    let ssot = Ssot::with_host(cfg, ports).with_source(ConfigSource::file(&config_file));

    let mut out: Vec<(DateTime<Utc>, &Step, WalCheck, Decision)> = Vec::new();
    let mut as_expected = true;
    for (i, step) in STEPS.iter().enumerate() {
        // 20 minutes apart, the last one at `now`: each check stands alone in
        // the 15-minute growth window, and the state is fresh when the demo ends.
        let at = now - TimeDelta::minutes(20 * (STEPS.len() - 1 - i) as i64);
        set_segments(&pg_wal, step.segments).map_err(|e| format!("cannot write pg_wal: {e}"))?;
        clock.set(at);
        let check = ssot
            .check_wal(&WalCheckRequest::default(), at)
            .map_err(|e| e.to_string())?;
        let decision = ssot
            .gate(&GateRequest::new(Operation::Backup), None)
            .map_err(|e| e.to_string())?;
        as_expected &=
            check.report.status == step.expect_status && decision.allowed == step.expect_allowed;
        out.push((at, step, check, decision));
    }

    // The growth history holds the simulated volume's figures: a real check
    // afterwards must not extrapolate a rate from them.
    let history = state_dir.join(ssot_core::state::WAL_HISTORY);
    fs::remove_file(&history).map_err(|e| format!("cannot remove {}: {e}", history.display()))?;
    let me = std::env::args().next().unwrap_or_else(|| "ssot".into());
    let follow_ups = [
        ("status", "the state files the demo wrote"),
        ("report", "the single view of truth over them"),
        ("wal check", "a real measurement of the sandbox's pg_wal and the real volume under it"),
        ("gate backup", "a real gate: here the backup directory shares PGDATA's real filesystem, so the disk guard denies, as it must"),
    ];
    match format {
        Format::Json => {
            let steps: Vec<_> = out
                .iter()
                .map(|(at, step, check, decision)| {
                    json!({"at": ssot_core::state::timestamp(*at), "story": step.story, "wal": check, "gate": decision})
                })
                .collect();
            println!(
                "{}",
                render_json(&json!({
                    "sandbox": root.display().to_string(),
                    "config": config_file.display().to_string(),
                    "simulated": SIMULATED,
                    "steps": steps,
                    "as_expected": as_expected,
                    "follow_up": follow_ups
                        .iter()
                        .map(|(cmd, _)| format!("{me} --config {} {cmd}", config_file.display()))
                        .collect::<Vec<_>>(),
                }))
            );
        }
        _ => {
            println!(
                "ssot demo: a sandbox with no PostgreSQL, seed defaults and its own ssot.toml."
            );
            println!("  simulated: {SIMULATED}");
            println!(
                "  PGDATA   {}  (simulated 20GB SSOT volume, 6GB of tables)",
                pgdata.display()
            );
            println!(
                "  backups  {}  (simulated separate 50GB volume)",
                dumps.display()
            );
            println!("  state    {}", state_dir.display());
            for (i, (at, step, check, decision)) in out.iter().enumerate() {
                println!();
                println!(
                    "── step {} at {} ──",
                    i + 1,
                    ssot_core::state::timestamp(*at)
                );
                println!("{}", step.story);
                println!("$ ssot wal check");
                print!("{}", indent(&check.to_string()));
                println!("$ ssot gate backup");
                let decision = if i == 0 {
                    decision.to_string()
                } else {
                    Brief(decision).to_string()
                };
                print!("{}", indent(&decision));
            }
            println!();
            println!(
                "Every gate decision is in {}. Follow up with the real probes (nothing simulated from here on):",
                state_dir.join("gate.log").display()
            );
            for (cmd, what) in follow_ups {
                println!("  {me} --config {} {cmd}", config_file.display());
                println!("      # {what}");
            }
        }
    }
    if as_expected {
        Ok(0)
    } else {
        eprintln!("ssot demo: the sandbox did not behave as designed (see above); this is a bug");
        Ok(1)
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}
