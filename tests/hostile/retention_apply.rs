//! Reviewed plans across interruptions (point 4) and plan-hash prefixes (point 19).

use std::fs;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::*;

/// `n` files named by creation time, one a minute, the newest at NOW.
fn build(dir: &Path, n: u32) {
    fs::create_dir_all(dir).unwrap();
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    for i in 0..n {
        let t = now - chrono::TimeDelta::minutes(i as i64);
        fs::write(dir.join(t.format("a_%Y%m%d_%H%M%S").to_string()), "x").unwrap();
    }
}

fn retention(w: &World, dir: &Path, cmd: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "retention",
        cmd,
        "--dir",
        s(dir),
        "--pattern",
        "a_%Y%m%d_%H%M%S",
        "--keep-last",
        "3",
        "--format",
        "json",
    ];
    args.extend(extra);
    w.ssot(&args)
}

/// Point 4: a reviewed `apply --plan-hash H` killed after its first deletion
/// is resumed with H, and re-applying H afterwards is a no-op (exit 0) — it
/// used to be refused as "the plan changed", because the resumed run
/// recorded the recomputed hash instead of H.
#[test]
fn a_completed_reviewed_plan_is_a_no_op_after_a_resumed_run() {
    let mut interrupted = 0;
    for trial in 0..12 {
        let w = World::new();
        let dir = w.path("dumps");
        build(&dir, 400);
        let h = json(&retention(&w, &dir, "plan", &[]))["plan_hash"]
            .as_str()
            .unwrap()
            .to_string();
        let journal = dir.join(".ssot-retention.journal");
        let mut args: Vec<String> = [
            "--state",
            s(&w.state),
            "retention",
            "apply",
            "--dir",
            s(&dir),
            "--pattern",
            "a_%Y%m%d_%H%M%S",
            "--keep-last",
            "3",
            "--plan-hash",
            &h,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.push("--format".into());
        args.push("json".into());
        let mut child = ssot()
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill as soon as the journal records a finished deletion.
        let start = Instant::now();
        let killed = loop {
            if child.try_wait().unwrap().is_some() {
                break false;
            }
            let j = fs::read_to_string(&journal).unwrap_or_default();
            if j.contains(r#""event":"deleted""#) {
                child.kill().unwrap();
                child.wait().unwrap();
                break !fs::read_to_string(&journal)
                    .unwrap_or_default()
                    .contains(r#""event":"complete""#);
            }
            assert!(start.elapsed() < HANG, "apply hung");
            std::thread::sleep(Duration::from_micros(200));
        };
        if !killed {
            continue;
        }
        interrupted += 1;
        let resumed = retention(&w, &dir, "apply", &["--plan-hash", &h]);
        assert_eq!(
            code(&resumed),
            0,
            "trial {trial}: resume: {}",
            stdout(&resumed)
        );
        assert_eq!(json(&resumed)["resumed"], h.as_str(), "trial {trial}");
        let again = retention(&w, &dir, "apply", &["--plan-hash", &h]);
        assert_eq!(
            code(&again),
            0,
            "trial {trial}: re-applying the completed reviewed plan: {}",
            stdout(&again)
        );
        assert!(json(&again)["deleted"].as_array().unwrap().is_empty());
        let status = fs::read_to_string(w.state.join("retention.status")).unwrap();
        assert!(
            status.contains(&format!("default.plan_hash={h}\n")),
            "{status}"
        );
        let left = fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count();
        assert_eq!(left, 3, "trial {trial}: the plan's end state");
    }
    eprintln!("{interrupted} of 12 reviewed applies were killed mid-run, resumed and re-applied");
    assert!(
        interrupted >= 3,
        "only {interrupted} trials were interrupted mid-run"
    );
}

/// Point 19: `--plan-hash` takes a unique prefix of at least 12 hex digits;
/// a shorter one is incomplete, said so, instead of "the plan changed".
#[test]
fn a_plan_hash_prefix_is_accepted_or_called_incomplete() {
    let w = World::new();
    let dir = w.path("dumps");
    build(&dir, 6);
    let h = json(&retention(&w, &dir, "plan", &[]))["plan_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let o = retention(&w, &dir, "apply", &["--plan-hash", &h[..8]]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("the plan hash is incomplete: give at least 12"),
        "{}",
        stderr(&o)
    );
    let o = retention(&w, &dir, "apply", &["--plan-hash", &h[..12].to_uppercase()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(json(&o)["deleted"].as_array().unwrap().len(), 3);
    let o = retention(&w, &dir, "apply", &["--plan-hash", "not-a-hash-at-all"]);
    assert_eq!(code(&o), 3);
}
