//! State that anyone could have planted is not trusted (issue "Gates that
//! hold on every surface"): under `umask 000` ssot created a 0777 state
//! directory and 0666 files; a user who could write there planted
//! `wal_status=OK` / `contract_status=PASS` and root's `gate startup -- CMD`
//! ran CMD, or held the lock's `flock` and denied every gate. Like sshd's
//! StrictModes: owned by root or the running user, not writable by group or
//! others, else the gate denies naming the file and its mode or owner.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;

use super::*;

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// ssot run with `umask 000`.
fn with_umask_000(args: &[&str]) -> Output {
    let mut c = ssot();
    c.args(args);
    // SAFETY: umask is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut c, || {
            nix::sys::stat::umask(nix::sys::stat::Mode::empty());
            Ok(())
        });
    }
    c.output().unwrap()
}

#[test]
fn ssot_creates_its_files_private_whatever_the_umask() {
    let w = World::new();
    let state = w.path("fresh/state");
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let o = with_umask_000(&["--state", s(&state), "wal", "check", "--pgdata", s(&pgdata)]);
    assert!(code(&o) <= 2, "{}", stderr(&o));
    let o = with_umask_000(&["--state", s(&state), "gate", "startup", "--", "true"]);
    assert!(code(&o) == 124, "{}", stderr(&o));
    assert_eq!(mode(&state), 0o750, "the state directory");
    assert_eq!(
        mode(&w.path("fresh")),
        0o750,
        "a directory it created on the way"
    );
    for (f, m) in [
        ("wal.status", 0o640),
        ("wal.history", 0o640),
        ("gate.log", 0o640),
        (".ssot.lock", 0o600),
        ("operation.lock", 0o600),
    ] {
        assert_eq!(mode(&state.join(f)), m, "{f}");
    }
}

/// A planted `wal.status` and `contract.status` that others could write
/// (0666): root's gate used to allow and run the command.
#[test]
fn state_others_can_write_is_not_trusted() {
    let w = World::new();
    w.healthy();
    for f in ["wal.status", "contract.status"] {
        fs::set_permissions(w.state.join(f), fs::Permissions::from_mode(0o666)).unwrap();
    }
    let ran = w.path("ran");
    let o = w.ssot(&["gate", "startup", "--", "touch", s(&ran)]);
    assert_eq!(code(&o), 124, "{}", stderr(&o));
    assert!(!ran.exists());
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    let m = denial(&d, "wal_status_corrupt");
    assert!(
        m.contains("wal.status") && m.contains("writable by its group and others (mode 0666)"),
        "{m}"
    );
    assert!(denial(&d, "contract_status_corrupt").contains("mode 0666"));
    // status and report flag it.
    let o = w.ssot(&["status"]);
    assert!(stdout(&o).contains("mode 0666"), "{}", stdout(&o));
    let o = w.ssot(&["report"]);
    assert_eq!(code(&o), 2);
    assert!(stdout(&o).contains("mode 0666"), "{}", stdout(&o));
    // Group-writable alone is enough to distrust it.
    fs::set_permissions(
        w.state.join("wal.status"),
        fs::Permissions::from_mode(0o660),
    )
    .unwrap();
    let (_, d) = w.gate_json("startup");
    assert!(denial(&d, "wal_status_corrupt").contains("writable by its group (mode 0660)"));
}

/// A state directory others can write (0777, or the umask-000 one): they
/// could replace any file in it. Every file in it is untrusted.
#[test]
fn a_state_directory_others_can_write_is_not_trusted() {
    let w = World::new();
    w.healthy();
    fs::set_permissions(&w.state, fs::Permissions::from_mode(0o777)).unwrap();
    let ran = w.path("ran");
    let o = w.ssot(&["gate", "startup", "--", "touch", s(&ran)]);
    assert!(code(&o) == 124 || code(&o) == 125, "{}", stderr(&o));
    assert!(!ran.exists());
    assert!(
        stderr(&o).contains("the state directory") && stderr(&o).contains("mode 0777"),
        "{}",
        stderr(&o)
    );
    // A directory on the way that others can write, not sticky: they could swap the state directory.
    fs::set_permissions(&w.state, fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(&w.root, fs::Permissions::from_mode(0o777)).unwrap();
    let o = w.ssot(&["gate", "startup"]);
    assert_eq!(
        code(&o),
        2,
        "no decision can be recorded there: {}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(&format!("lies under {}", w.root.display()))
            && stderr(&o).contains("mode 0777"),
        "{}",
        stderr(&o)
    );
    // The same with the sticky bit (as /tmp): trusted.
    fs::set_permissions(&w.root, fs::Permissions::from_mode(0o1777)).unwrap();
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "{d:#}");
}

/// A file owned by another (unprivileged) user is not trusted, whatever its mode.
#[test]
fn state_owned_by_another_user_is_not_trusted() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: chown needs root");
        return;
    }
    let w = World::new();
    w.healthy();
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    nix::unistd::chown(&w.state.join("wal.status"), Some(nobody.uid), None).unwrap();
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1);
    let m = denial(&d, "wal_status_corrupt");
    assert!(
        m.contains("is owned by nobody") && m.contains("neither root nor the user ssot runs as"),
        "{m}"
    );
    // Root's own files are trusted by any user; this is the reverse: a root
    // ssot never trusts nobody's file, and the gate log is refused likewise.
    nix::unistd::chown(
        &w.state.join("wal.status"),
        Some(nix::unistd::Uid::from_raw(0)),
        None,
    )
    .unwrap();
    fs::write(w.state.join("gate.log"), "").unwrap();
    nix::unistd::chown(&w.state.join("gate.log"), Some(nobody.uid), None).unwrap();
    let o = w.ssot(&["gate", "startup"]);
    assert_eq!(
        code(&o),
        2,
        "the decision cannot be recorded: {}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("gate.log") && stderr(&o).contains("owned by nobody"));
}

/// Another user could `flock` a readable lock file and deny every gate.
/// Lock files are 0600 now (and an old 0644 one of ours is tightened).
#[test]
fn nobody_else_can_hold_the_locks() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED: needs root to run a command as nobody");
        return;
    }
    let w = World::new();
    w.healthy();
    fs::set_permissions(&w.state, fs::Permissions::from_mode(0o755)).unwrap();
    let lock = w.state.join("operation.lock");
    fs::write(&lock, "").unwrap();
    fs::set_permissions(&lock, fs::Permissions::from_mode(0o644)).unwrap();
    let (c, _) = w.gate_json("startup");
    assert_eq!(c, 0);
    let o = w.ssot(&["gate", "startup", "--", "true"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(mode(&lock), 0o600, "an old lock file of ours is tightened");
    let o = Command::new("runuser")
        .args(["-u", "nobody", "--", "flock", "-n", s(&lock), "true"])
        .output()
        .unwrap();
    assert!(
        !o.status.success(),
        "nobody could take ssot's lock: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(fs::metadata(&lock).unwrap().uid(), 0);
}

/// `contract_status=PASS` with `failed=` or `unknown=` listed is corrupt,
/// not PASS (the summaries were not read).
#[test]
fn a_pass_that_lists_failures_is_corrupt() {
    let w = World::new();
    w.healthy();
    let now = real_now();
    for extra in ["failed=sts.single_instance\n", "unknown=pvc.bound\n"] {
        w.write_state(
            "contract.status",
            &format!("contract_status=PASS\nchecked_at={now}\n{extra}"),
        );
        let (c, d) = w.gate_json("startup");
        assert_eq!(c, 1, "{extra}");
        assert!(
            denial(&d, "contract_status_corrupt").contains("says PASS"),
            "{extra}: {d:#}"
        );
    }
    // With its invariants, the lists must match them.
    w.write_state(
        "contract.status",
        &format!("contract_status=FAIL\nchecked_at={now}\ninvariant.a=fail\ninvariant.b=pass\nfailed=b\n"),
    );
    let (_, d) = w.gate_json("startup");
    assert!(denial(&d, "contract_status_corrupt").contains("lists b, but the invariants say a"));
}

/// The configuration sets what the gates accept (`gate.wal_max_age` ...):
/// one that others could write made a 2-hour-old status "fresh".
#[test]
fn a_configuration_others_can_write_is_not_read() {
    let w = World::new();
    let old = real_ago(2 * 3600);
    w.write_state("wal.status", &format!("wal_status=OK\nchecked_at={old}\n"));
    w.write_state(
        "contract.status",
        &format!("contract_status=PASS\nchecked_at={}\n", real_now()),
    );
    let cfg = w.path("age.toml");
    fs::write(&cfg, "[gate]\nwal_max_age = \"36500d\"\n").unwrap();
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o666)).unwrap();
    let o = w.ssot(&["--config", s(&cfg), "gate", "startup"]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("mode 0666"), "{}", stderr(&o));
    let o = run_bounded_env(
        &["--state", s(&w.state), "gate", "startup"],
        "SSOT_CONFIG",
        s(&cfg),
    );
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    // Its own, not writable by others: read (and then the stale status passes its 36500d).
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    let o = w.ssot(&["--config", s(&cfg), "gate", "startup"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

fn run_bounded_env(args: &[&str], k: &str, v: &str) -> Output {
    let o = ssot().env(k, v).args(args).output().unwrap();
    Output {
        status: o.status,
        stdout: o.stdout,
        stderr: o.stderr,
    }
}
