//! Writers, appliers and readers on one state directory at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::*;

#[test]
fn writers_appliers_and_readers_at_once_tear_nothing_lose_nothing_delete_once() {
    let sb = Sandbox::build();
    let (keep, delete) = sb.plan();
    let lines_before = state_is_whole(&sb, "before");
    let stop = AtomicBool::new(false);
    let gates = AtomicUsize::new(0);
    let reads = AtomicUsize::new(0);
    let wal_checks = AtomicUsize::new(0);
    let deleted: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let applies = AtomicUsize::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let fail = |m: String| failures.lock().unwrap().push(m);

    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let o = ssot().args(sb.args(&["wal", "check"])).output().unwrap();
                    if code(&o) > 2 {
                        fail(format!("wal check: {}", stderr(&o)));
                    }
                    wal_checks.fetch_add(1, Ordering::Relaxed);
                }
            });
            scope.spawn(|| {
                let mut args = sb.retention("apply");
                args.push("--confirm".into());
                while !stop.load(Ordering::Relaxed) {
                    let o = ssot().args(&args).output().unwrap();
                    match code(&o) {
                        0 => {
                            let v = json(&o);
                            let mut d = deleted.lock().unwrap();
                            d.extend(
                                v["deleted"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|x| x["id"].as_str().or(x.as_str()).unwrap().to_string()),
                            );
                            applies.fetch_add(1, Ordering::Relaxed);
                        }
                        1 => {} // refused: another operation holds the lock
                        c => fail(format!("retention apply exited {c}: {}", stderr(&o))),
                    }
                }
            });
        }
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let o = ssot()
                    .args(sb.gate(&["--format", "json"]))
                    .output()
                    .unwrap();
                if code(&o) > 2 {
                    fail(format!("gate: {}", stderr(&o)));
                } else if serde_json::from_slice::<Value>(&o.stdout).is_err() {
                    fail(format!("gate printed no decision: {}", stdout(&o)));
                }
                gates.fetch_add(1, Ordering::Relaxed);
            }
        });
        scope.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                for cmd in [
                    &["status", "--format", "json"][..],
                    &["report", "--format", "json"][..],
                ] {
                    let o = ssot().args(sb.args(cmd)).output().unwrap();
                    if code(&o) > 2 {
                        fail(format!("{cmd:?}: {}", stderr(&o)));
                        continue;
                    }
                    let text = stdout(&o);
                    if serde_json::from_str::<Value>(&text).is_err() || text.contains("corrupt") {
                        fail(format!("{cmd:?} read a torn or corrupt state: {text}"));
                    }
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        std::thread::sleep(Duration::from_secs(4));
        stop.store(true, Ordering::Relaxed);
    });

    // One uninterrupted apply ends the history, whatever the others managed
    // in the time they had.
    let mut args = sb.retention("apply");
    args.push("--confirm".into());
    let o = ssot().args(&args).output().unwrap();
    assert_eq!(code(&o), 0, "the last apply: {}", stderr(&o));
    deleted.lock().unwrap().extend(
        json(&o)["deleted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string()),
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures[0]
    );
    let lines_after = state_is_whole(&sb, "after");
    let gates = gates.into_inner();
    assert_eq!(
        lines_after - lines_before,
        gates,
        "one gate.log line per gate decision"
    );
    let deleted = deleted.into_inner().unwrap();
    let once: BTreeSet<String> = deleted.iter().cloned().collect();
    assert_eq!(once.len(), deleted.len(), "an artifact was deleted twice");
    assert_eq!(
        once, delete,
        "every planned deletion happened, and only those"
    );
    assert_eq!(names(&sb.many), keep);
    eprintln!(
        "4s: {} wal checks, {} applies, {gates} gates, {} reads, {} deletions",
        wal_checks.into_inner(),
        applies.into_inner(),
        reads.into_inner(),
        deleted.len()
    );
}

/// Issue "runs on the hosts it promises": `gate.log` grew without bound, and
/// the README's logrotate `copytruncate` loses the lines written between the
/// copy and the truncate. ssot rotates it itself, under the state lock: with
/// a 64kB cap and gates deciding from four processes at once, every decision
/// is one whole line in exactly one generation, and the report reads across
/// them.
#[test]
fn gate_log_rotates_under_concurrent_gates_and_loses_no_line() {
    let sb = Sandbox::build();
    let mut toml = fs::read_to_string(sb.config()).unwrap();
    toml.push_str("[gate]\nlog_max_bytes = \"64kB\"\nlog_generations = 100\n");
    fs::write(sb.config(), toml).unwrap();
    let before = state_is_whole(&sb, "before");
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    const EACH: usize = 60;
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..EACH {
                    let o = ssot()
                        .args(sb.gate(&["--format", "json"]))
                        .output()
                        .unwrap();
                    if code(&o) > 2 {
                        failures.lock().unwrap().push(stderr(&o));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    let after = state_is_whole(&sb, "after");
    assert_eq!(after - before, 4 * EACH, "one line per decision, none lost");
    let generations: Vec<String> = names(&sb.state())
        .into_iter()
        .filter(|n| n.starts_with("gate.log."))
        .collect();
    assert!(generations.len() >= 2, "{generations:?}");
    for g in &generations {
        let size = fs::metadata(sb.state().join(g)).unwrap().len();
        assert!(size <= 64 * 1024 + 16 * 1024, "{g} holds {size} bytes");
    }
    // The report counts the decisions of every generation.
    let o = ssot()
        .args(sb.args(&["report", "--format", "json"]))
        .output()
        .unwrap();
    let summary = section_summary(&json(&o), "gates");
    let count = |word: &str| -> usize {
        let (before, _) = summary.split_once(&format!(" {word}")).unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(count("allowed") + count("denied"), after, "{summary}");
}
