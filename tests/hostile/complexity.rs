//! Inputs sized to expose super-linear work (point 6; point 5's codec test
//! is in `state_files`). No speed is measured: a quadratic algorithm on these
//! inputs does not finish within the hang limit, a linear one finishes at once.

use std::fmt::Write as _;
use std::fs;

use super::*;

/// A catalog of `n` artifacts, each the parent of the next (a 20k chain took
/// 6.5 s and a 200k chain more than 20 s to check for cycles).
fn chain(n: usize) -> String {
    let mut s = String::from("[");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(1_700_000_000 + i as i64, 0)
            .unwrap()
            .to_rfc3339();
        let parent = if i == 0 {
            "null".to_string()
        } else {
            format!("\"a{}\"", i - 1)
        };
        let _ = write!(s, r#"{{"id":"a{i}","created_at":"{t}","parent":{parent}}}"#);
    }
    s.push(']');
    s
}

/// Point 6: cycle detection on a 200k-long parent chain finishes.
#[test]
fn a_long_parent_chain_is_checked_in_linear_time() {
    let w = World::new();
    let catalog = w.path("chain.json");
    fs::write(&catalog, chain(200_000)).unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&catalog),
        "--keep-last",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(
        v["summary"]["kept"], 200_000,
        "keeping the newest keeps its whole chain of parents"
    );
}

/// Point 6: a cycle is still found, and named.
#[test]
fn a_parent_cycle_is_named() {
    let w = World::new();
    let catalog = w.path("cycle.json");
    fs::write(
        &catalog,
        r#"[{"id":"a","created_at":"2026-01-01T00:00:00Z","parent":"c"},
            {"id":"b","created_at":"2026-01-02T00:00:00Z","parent":"a"},
            {"id":"c","created_at":"2026-01-03T00:00:00Z","parent":"b"},
            {"id":"d","created_at":"2026-01-04T00:00:00Z","parent":"c"}]"#,
    )
    .unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&catalog),
        "--keep-last",
        "1",
    ]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("is part of a parent cycle"),
        "{}",
        stderr(&o)
    );
}

/// Point 6: the cycle search looks each artifact's parent up at most once,
/// on chains, on cycles and on trees alike.
#[test]
fn the_cycle_search_does_linear_work() {
    use ssot_core::retention::first_cycle;
    let n = 10_000;
    let count = |parent: &dyn Fn(usize) -> Option<usize>| {
        let mut calls = 0;
        let found = first_cycle(n, |i| {
            calls += 1;
            parent(i)
        });
        (found, calls)
    };
    // A chain pointing down: the worst case for a walk from every node.
    let (found, calls) = count(&|i| i.checked_sub(1));
    assert_eq!(found, None);
    assert!(calls <= n, "{calls} parent lookups for {n} artifacts");
    // One long cycle.
    let (found, calls) = count(&|i| Some((i + 1) % n));
    assert!(found.is_some());
    assert!(calls <= n, "{calls} lookups");
    // A star: everything's parent is 0.
    let (found, calls) = count(&|i| (i != 0).then_some(0));
    assert_eq!(found, None);
    assert!(calls <= n, "{calls} lookups");
}
