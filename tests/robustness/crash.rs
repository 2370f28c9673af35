//! SIGKILL at random points.

use std::process::Stdio;
use std::time::{Duration, Instant};

use super::*;

fn rounds() -> usize {
    std::env::var("SSOT_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

#[test]
fn sigkill_at_random_points_never_tears_state_nor_loses_a_kept_artifact() {
    let sb = Sandbox::build();
    let (keep, delete) = sb.plan();
    assert!(
        keep.len() >= 30 && delete.len() >= 60,
        "the plan deletes most of the 120 dumps"
    );
    let all: BTreeSet<String> = keep.union(&delete).cloned().collect();
    let dump = "ssot_20260204_030000.sql.gz";
    let commands: Vec<(&str, Vec<String>)> = vec![
        ("wal check", sb.args(&["wal", "check"])),
        (
            "evidence backup",
            sb.args(&["evidence", "backup", "--artifact", dump]),
        ),
        ("gated command", sb.gate(&["--", "sh", "-c", "sleep 0.02"])),
        ("retention apply", {
            let mut a = sb.retention("apply");
            a.push("--confirm".into());
            a
        }),
    ];
    if sb.target.is_none() {
        eprintln!("no second filesystem: the gated command is denied (separate_filesystem) and never runs");
    }
    let mut rng = Lcg(0x5eed_cafe);
    let (mut killed, mut finished) = (vec![0usize; commands.len()], vec![0usize; commands.len()]);
    let mut deleted_while_killed = 0;
    for round in 0..rounds() {
        let k = round % commands.len();
        let (what, args) = &commands[k];
        if *what == "retention apply" && names(&sb.many) == keep {
            // Converged: give the next apply work again (a fresh night's root).
            for name in &delete {
                fs::write(sb.many.join(name), plain_dump(10)).unwrap();
            }
        }
        let before = names(&sb.many);
        let mut child = ssot()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Up to ~30ms: most commands are cut somewhere inside their work.
        let delay = Duration::from_micros(500 + rng.below(30_000));
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let c = status.code().expect("not killed by us");
                assert!(c <= 2 || c == 124, "round {round}: {what} exited {c}");
                finished[k] += 1;
                break;
            }
            if start.elapsed() >= delay {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                killed[k] += 1;
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let context = format!("round {round}, after {what}");
        state_is_whole(&sb, &context);
        let now = names(&sb.many);
        assert!(
            now.is_subset(&all),
            "{context}: something appeared in the root: {:?}",
            now.difference(&all)
        );
        let gone: BTreeSet<&String> = all.difference(&now).collect();
        assert!(
            gone.iter().all(|g| delete.contains(*g)),
            "{context}: a kept artifact is gone: {gone:?}"
        );
        if *what == "retention apply" && now.len() < before.len() && now.len() > keep.len() {
            deleted_while_killed += 1;
        }
    }
    // A killed gated command's child (`sleep`) may still hold the operation
    // lock: wait until it is free (however long that takes here), never a
    // fixed time.
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(sb.state().join("operation.lock"))
        .unwrap();
    let waited = Instant::now();
    while fs2::FileExt::try_lock_exclusive(&lock).is_err() {
        assert!(
            waited.elapsed() < HANG,
            "the operation lock was never released"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    fs2::FileExt::unlock(&lock).unwrap();
    // Every command once more, uninterrupted: all converge.
    for (what, args) in &commands {
        let o = ssot().args(args).output().unwrap();
        assert!(code(&o) <= 2, "{what} after the kills: {}", stderr(&o));
    }
    assert_eq!(
        names(&sb.many),
        keep,
        "retention converges to the uninterrupted plan"
    );
    let leftovers: Vec<String> = fs::read_dir(&sb.many)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ssot-trash"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "trash left after convergence: {leftovers:?}"
    );
    state_is_whole(&sb, "after convergence");
    eprintln!(
        "{} rounds: killed {:?}, finished {:?} (wal check, evidence backup, gated command, retention apply); {deleted_while_killed} kills interrupted a retention apply mid-deletion",
        rounds(), killed, finished
    );
    assert!(
        killed.iter().all(|k| *k > 0),
        "every command was really interrupted: {killed:?}"
    );
}
