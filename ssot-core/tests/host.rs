//! The host adapters against a real filesystem.

use std::fs::{self, File};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ssot_core::host::{DirStateStore, FsWalScanner};
use ssot_core::ports::{StateStore, WalScanner};
use ssot_core::state::StateInput;
use ssot_core::Error;

const SEG: u64 = 16 << 20;

fn segment(dir: &Path, n: u64) -> std::path::PathBuf {
    dir.join(format!("00000001{n:016X}"))
}

/// Creates a full-size segment the way PostgreSQL does: a temp file, sized,
/// then renamed into place, so a visible segment always has its full size.
fn create_segment(dir: &Path, n: u64) {
    let tmp = dir.join(format!(".xlogtemp.{n}"));
    File::create(&tmp).unwrap().set_len(SEG).unwrap();
    fs::rename(&tmp, segment(dir, n)).unwrap();
}

#[test]
fn scan_counts_what_pg_ls_waldir_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let pg_wal = tmp.path().join("pg_wal");
    fs::create_dir_all(pg_wal.join("archive_status")).unwrap();
    for n in 1..=3 {
        create_segment(&pg_wal, n);
    }
    fs::write(
        pg_wal.join("00000002.history"),
        b"1\t0/3000000\tno recovery target\n",
    )
    .unwrap();
    fs::write(pg_wal.join(".hidden"), vec![0u8; 1000]).unwrap(); // skipped, like PostgreSQL
    fs::create_dir(pg_wal.join("subdir")).unwrap(); // not a regular file
    symlink(pg_wal.join("00000002.history"), pg_wal.join("link.history")).unwrap(); // stat follows
    symlink(tmp.path().join("nowhere"), pg_wal.join("dangling")).unwrap(); // vanished-like
    File::create(pg_wal.join("archive_status/000000010000000000000001.ready")).unwrap();
    File::create(pg_wal.join("archive_status/000000010000000000000002.done")).unwrap();

    let scan = FsWalScanner.scan(tmp.path()).unwrap();
    let history_len = fs::metadata(pg_wal.join("00000002.history")).unwrap().len();
    assert_eq!(scan.segment_count, 3);
    assert_eq!(scan.wal_bytes, 3 * SEG + 2 * history_len);
    assert_eq!(scan.ready_count, 1);
    assert_eq!(scan.vanished, 1, "the dangling symlink stats as NotFound");
}

#[test]
fn scan_resolves_a_symlinked_pg_wal() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("walvolume/pg_wal");
    fs::create_dir_all(&real).unwrap();
    create_segment(&real, 1);
    let pgdata = tmp.path().join("pgdata");
    fs::create_dir(&pgdata).unwrap();
    symlink(&real, pgdata.join("pg_wal")).unwrap();
    let scan = FsWalScanner.scan(&pgdata).unwrap();
    assert_eq!(scan.dir, fs::canonicalize(&real).unwrap());
    assert_eq!(scan.wal_bytes, SEG);
}

#[test]
fn scan_of_a_missing_pg_wal_names_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let err = FsWalScanner.scan(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("pg_wal"), "{err}");
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn scan_while_segments_are_created_recycled_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let pg_wal = tmp.path().join("pg_wal");
    fs::create_dir_all(pg_wal.join("archive_status")).unwrap();
    for n in 1..=8 {
        create_segment(&pg_wal, n);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let churn = {
        let stop = stop.clone();
        let rounds = rounds.clone();
        let pg_wal = pg_wal.clone();
        thread::spawn(move || {
            let mut next = 9u64;
            let mut oldest = 1u64;
            while !stop.load(Ordering::Relaxed) {
                create_segment(&pg_wal, next);
                // Recycle: rename the oldest segment to a future name, as a checkpoint does.
                fs::rename(segment(&pg_wal, oldest), segment(&pg_wal, next + 100)).unwrap();
                fs::remove_file(segment(&pg_wal, next + 100)).unwrap();
                File::create(pg_wal.join(format!("archive_status/{next}.ready"))).unwrap();
                let _ = fs::remove_file(pg_wal.join(format!("archive_status/{}.ready", next - 1)));
                next += 1;
                oldest += 1;
                rounds.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    // Scan until the churn has really happened alongside: at least 400 scans
    // and 200 rounds of create/recycle/remove, however the threads are scheduled.
    let mut scans = 0u64;
    while scans < 400 || rounds.load(Ordering::Relaxed) < 200 {
        let s = FsWalScanner
            .scan(tmp.path())
            .expect("a scan during churn must not fail");
        assert_eq!(
            s.wal_bytes,
            s.segment_count * SEG,
            "only whole segments are visible"
        );
        assert!(
            s.segment_count <= 10,
            "at most 8 live segments plus in-flight renames: {s:?}"
        );
        assert!(s.ready_count <= 2);
        scans += 1;
        assert!(
            scans < 1_000_000,
            "the churn thread never got to run ({} rounds)",
            rounds.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
}

#[test]
fn atomic_writes_keep_mode_and_leave_no_temp_files() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStateStore::new(tmp.path().join("state"));
    let lock = store.lock().unwrap();
    store
        .write_atomic(&lock, "wal.status", b"wal_status=OK\n")
        .unwrap();
    let path = tmp.path().join("state/wal.status");
    // New state files are 0640 (and the directory 0750), whatever the umask.
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(
        fs::metadata(tmp.path().join("state"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o750
    );
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    store
        .write_atomic(&lock, "wal.status", b"wal_status=ERROR\n")
        .unwrap();
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        store.read("wal.status"),
        StateInput::Present {
            path: path.display().to_string(),
            content: b"wal_status=ERROR\n".to_vec()
        }
    );
    let leftovers: Vec<_> = fs::read_dir(tmp.path().join("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn reads_report_missing_and_unreadable_distinctly() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStateStore::new(tmp.path());
    assert!(matches!(
        store.read("wal.status"),
        StateInput::Missing { .. }
    ));
    fs::create_dir(tmp.path().join("wal.status")).unwrap();
    match store.read("wal.status") {
        StateInput::Invalid { problem, .. } => {
            assert_eq!(problem, "is a directory, not a regular file")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_state_lock_serializes_read_modify_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.clone();
            thread::spawn(move || {
                let store = DirStateStore::new(&dir);
                for _ in 0..50 {
                    let lock = store.lock().unwrap();
                    let n: u64 = match store.read("counter") {
                        StateInput::Present { content, .. } => {
                            String::from_utf8(content).unwrap().trim().parse().unwrap()
                        }
                        _ => 0,
                    };
                    store
                        .write_atomic(&lock, "counter", format!("{}\n", n + 1).as_bytes())
                        .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(fs::read_to_string(dir.join("counter")).unwrap(), "200\n");
}

#[test]
fn a_held_state_lock_times_out_instead_of_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let a = DirStateStore::new(tmp.path());
    let b = DirStateStore::new(tmp.path()).with_lock_timeout(Duration::from_millis(100));
    let _held = a.lock().unwrap();
    assert!(matches!(b.lock(), Err(Error::Locked { .. })));
}

#[test]
fn operation_lock_names_its_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStateStore::new(tmp.path());
    assert_eq!(store.operation_lock_state().held_by, None);
    let held = store
        .try_operation_lock("backup by pid 1: pg_dump")
        .unwrap();
    assert_eq!(
        store.operation_lock_state().held_by.as_deref(),
        Some("backup by pid 1: pg_dump")
    );
    match store.try_operation_lock("snapshot by pid 2") {
        Err(Error::Locked { holder, .. }) => {
            assert_eq!(holder.as_deref(), Some("backup by pid 1: pg_dump"))
        }
        other => panic!("{other:?}"),
    }
    drop(held);
    assert_eq!(store.operation_lock_state().held_by, None);
    drop(store.try_operation_lock("snapshot by pid 2").unwrap());
}

#[test]
fn temp_files_of_killed_writers_are_removed_under_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".wal.status.Xy12ab.tmp"), "half a file").unwrap();
    fs::write(tmp.path().join("keep.tmp"), "not ours: not hidden").unwrap();
    let store = DirStateStore::new(tmp.path());
    let _lock = store.lock().unwrap();
    assert!(!tmp.path().join(".wal.status.Xy12ab.tmp").exists());
    assert!(tmp.path().join("keep.tmp").exists());
}

fn alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A command run under a held lock inherits it: the lock lives as long as
/// the command and anything it forks, whatever the runner does.
#[test]
fn a_command_run_holding_the_lock_keeps_it_while_anything_it_forked_runs() {
    use ssot_core::host::{run_holding, RunOptions};
    let tmp = tempfile::tempdir().unwrap();
    let store = DirStateStore::new(tmp.path().join("state"));
    let held = store.try_operation_lock("test").unwrap();
    let bg = tmp.path().join("bg.pid");
    let argv: Vec<String> = [
        "sh",
        "-c",
        &format!("sleep 1000 & echo $! > {}", bg.display()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let f = run_holding(Some(&held), &argv, &RunOptions::default()).unwrap();
    assert_eq!(f.code, Some(0));
    drop(held);
    let pid: i32 = fs::read_to_string(&bg).unwrap().trim().parse().unwrap();
    assert!(alive(pid));
    assert!(
        matches!(
            store.try_operation_lock("second"),
            Err(Error::Locked { .. })
        ),
        "the background child of the command holds the lock"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_until("the lock to be free", || {
        store.try_operation_lock("third").is_ok()
    });
}

/// A timeout ends the command's whole process group, not just the command.
#[test]
fn a_timeout_ends_the_whole_group_and_cut_output_says_so() {
    use ssot_core::host::{run_holding, RunOptions};
    let tmp = tempfile::tempdir().unwrap();
    let bg = tmp.path().join("bg.pid");
    let argv: Vec<String> = [
        "sh",
        "-c",
        &format!("sleep 1000 & echo $! > {}; wait", bg.display()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let opts = RunOptions {
        timeout: Some(Duration::from_millis(200)),
        ..RunOptions::default()
    };
    let f = run_holding(None, &argv, &opts).unwrap();
    assert!(f.timed_out && f.code.is_none(), "{f:?}");
    let pid: i32 = fs::read_to_string(&bg).unwrap().trim().parse().unwrap();
    wait_until("the group to end", || !alive(pid));

    let argv: Vec<String> = ["head", "-c", "3000", "/dev/zero"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let opts = RunOptions {
        max_output: 1000,
        ..RunOptions::default()
    };
    let f = run_holding(None, &argv, &opts).unwrap();
    assert!(f.stdout_truncated && f.truncated() && f.stdout.len() == 1000);
    let out = tmp.path().join("dump");
    let opts = RunOptions {
        stdout_file: Some(out.clone()),
        capture: false,
        ..RunOptions::default()
    };
    let argv: Vec<String> = ["echo", "dumped"].iter().map(|s| s.to_string()).collect();
    assert_eq!(run_holding(None, &argv, &opts).unwrap().code, Some(0));
    assert_eq!(fs::read_to_string(&out).unwrap(), "dumped\n");
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
}
