//! Growth rates judged over meaningful spans only (point 15).

use std::fs;

use super::*;

/// Used bytes of the real volume holding `path`, as `wal check` measures them.
fn used_bytes(path: &Path) -> u64 {
    let st = nix::sys::statvfs::statvfs(path).unwrap();
    let frsize = st.fragment_size() as u64;
    (st.blocks() as u64 - st.blocks_available() as u64) * frsize
}

/// A sandbox PGDATA, a config that leaves only the time-to-full rules to
/// fire, and a growth history of two samples `ago` seconds back, each
/// showing the volume `grown` bytes emptier than it is now.
fn sandbox(w: &World, ago: &[f64], grown: u64) -> (PathBuf, PathBuf) {
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        "[wal]\nvolume_near_pct = 100\nvolume_error_pct = 100\nmin_free_bytes = 0\n",
    )
    .unwrap();
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    let used = used_bytes(&pgdata);
    let history: String = ago
        .iter()
        .map(|a| {
            let at = now - chrono::TimeDelta::microseconds((a * 1e6) as i64);
            format!(
                "{{\"at\":\"{}\",\"wal_bytes\":0,\"volume_used_bytes\":{}}}\n",
                at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                used.saturating_sub(grown)
            )
        })
        .collect();
    w.write_state("wal.history", &history);
    (pgdata, cfg)
}

/// `wal check` with a growth history `ago` seconds back; its JSON.
fn check_with_history(ago: &[f64]) -> serde_json::Value {
    let w = World::new();
    let grown = used_bytes(&w.root).min(10 << 30) / 2;
    let (pgdata, cfg) = sandbox(&w, ago, grown);
    json(&wal_check(&w, &cfg, &pgdata))
}

/// `wal check --format json` of the sandbox.
fn wal_check(w: &World, cfg: &Path, pgdata: &Path) -> Output {
    w.ssot(&[
        "--config",
        s(cfg),
        "wal",
        "check",
        "--pgdata",
        s(pgdata),
        "--format",
        "json",
    ])
}

/// Point 15: several `wal check`s within one second during heavy writes
/// gave a false `time_to_error` ERROR: a fill rate extrapolated from a
/// sub-second span. A rate is judged only over `wal.rate_min_span` (5min).
#[test]
fn a_sub_second_span_is_not_a_rate() {
    let v = check_with_history(&[0.6, 0.3]);
    assert_eq!(v["status"], "OK", "{v:#}");
    assert!(v["seconds_to_error"].is_null(), "{v:#}");
    assert!(v["volume_growth_bytes_per_second"].is_null());
    assert_eq!(v["samples_in_window"], 3);
}

/// Point 15: over a span of at least `wal.rate_min_span`, the rate is judged.
#[test]
fn a_meaningful_span_is_a_rate() {
    let v = check_with_history(&[600.0, 300.0]);
    assert!(v["seconds_to_error"].as_f64().is_some(), "{v:#}");
    let rate = v["volume_growth_bytes_per_second"].as_f64().unwrap();
    assert!(rate > 0.0, "{v:#}");
}

/// A `wal.history` of 44,000 samples inside the growth window (the 4MiB
/// read bound allows it): the pairwise slope once needed ~1e9 pairs and
/// `wal check` aborted on memory, every run after. The slope now works on a
/// bounded subset; the check finishes, and the history is trimmed again.
#[test]
fn a_huge_history_is_bounded_work() {
    let w = World::new();
    let (pgdata, cfg) = sandbox(&w, &[], 0);
    let now: chrono::DateTime<chrono::Utc> = NOW.parse().unwrap();
    let used = used_bytes(&pgdata);
    let history: String = (1..=44_000i64)
        .map(|i| {
            let at = now - chrono::TimeDelta::milliseconds(i * 13);
            format!(
                "{{\"at\":\"{}\",\"wal_bytes\":16777216,\"volume_used_bytes\":{}}}\n",
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                used.saturating_sub(i as u64 * 1000)
            )
        })
        .collect();
    assert!(history.len() < 4 << 20);
    w.write_state("wal.history", &history);
    let o = wal_check(&w, &cfg, &pgdata);
    assert!(code(&o) <= 2, "{}{}", stdout(&o), stderr(&o));
    let v = json(&o);
    assert!(v["samples_in_window"].as_u64().unwrap() > 1000, "{v:#}");
    let kept = fs::read_to_string(w.state.join("wal.history")).unwrap();
    assert!(kept.lines().count() <= 120, "{}", kept.lines().count());
}
