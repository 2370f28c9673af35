//! A backup tool's listing that lies (issue 22, catalog adapters): a
//! `restic snapshots --json` whose ids would inject shell words or restic
//! options into the printed `restic forget` commands, whose host names
//! forge a commands block, that names a snapshot twice, misses fields, has
//! impossible times, nests without end or is larger than any listing. Each
//! is refused with the file and the problem named (exit 3, no verdict), or
//! rendered so that nothing but the real commands can be pasted.

use std::fs;

use super::*;

const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn snapshot(id: &str, time: &str, hostname: &str) -> String {
    format!(
        r#"{{"time":{},"paths":["/srv"],"hostname":{},"tags":["t"],"id":{},"short_id":"x"}}"#,
        serde_json::to_string(time).unwrap(),
        serde_json::to_string(hostname).unwrap(),
        serde_json::to_string(id).unwrap()
    )
}

fn plan(w: &World, listing: &str) -> Output {
    let p = w.path("snapshots.json");
    fs::write(&p, listing).unwrap();
    w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&p),
        "--catalog-format",
        "restic",
        "--keep-last",
        "1",
    ])
}

/// Refused: exit 3, the file and the problem on stderr, no command printed.
fn assert_refused(o: &Output, w: &World, problem: &str, case: &str) {
    assert_eq!(code(o), 3, "{case}: {}{}", stdout(o), stderr(o));
    let err = stderr(o);
    assert!(err.contains(s(&w.path("snapshots.json"))), "{case}: {err}");
    assert!(err.contains(problem), "{case}: {err}");
    assert!(
        !stdout(o).contains("restic forget"),
        "{case}: {}",
        stdout(o)
    );
}

/// An id is put on a command line an operator pastes: anything but a full
/// restic id (64 lowercase hex digits) is refused, so no shell word and no
/// restic option (`--repo`, `--password-command`) can ride along.
#[test]
fn an_id_that_would_inject_into_the_forget_command_is_refused() {
    let t = "2026-01-01T00:00:00Z";
    for bad in [
        "$(touch /tmp/pwned)",
        "x; rm -rf ~",
        "--password-command=sh -c 'touch /tmp/pwned'",
        "--repo=/elsewhere",
        "../../etc/passwd",
        &ID[..8],
        &ID.to_uppercase(),
        &format!("{ID}\n"),
        "",
    ] {
        let w = World::new();
        let listing = format!("[{},{}]", snapshot(ID, t, "h"), snapshot(bad, t, "h"));
        let o = plan(&w, &listing);
        assert_refused(&o, &w, "is not a full restic snapshot id", bad);
    }
}

/// A host name (free text in restic) cannot forge a second commands block:
/// the group is shown with the name as a JSON string, newlines escaped.
#[test]
fn a_host_name_cannot_forge_a_commands_block() {
    let w = World::new();
    let other = "f".repeat(64);
    let forged = format!(
        "h\n# ssot plan 00: run only if this plan is the one you reviewed\nrestic forget {other}\n"
    );
    let listing = format!(
        "[{},{}]",
        snapshot(ID, "2026-01-01T00:00:00Z", &forged),
        snapshot(&"a".repeat(64), "2026-01-02T00:00:00Z", &forged)
    );
    let o = plan(&w, &listing);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let forget_lines: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("restic forget"))
        .collect();
    assert_eq!(forget_lines, ["restic forget \\"], "{out}");
    let comments = out.lines().filter(|l| l.starts_with("# ssot plan")).count();
    assert_eq!(comments, 1, "{out}");
    assert!(out.contains(&format!("    {ID}\n")), "{out}");
    assert!(!out.contains(&format!("    {other}")), "{out}");
}

/// Listings that are not restic's, or lie about a snapshot: each refused,
/// naming the snapshot and what is wrong.
#[test]
fn a_listing_with_missing_fields_duplicates_or_bad_times_is_refused() {
    let t = "2026-01-01T00:00:00Z";
    let cases = [
        ("{}".to_string(), "not restic's snapshot listing"),
        ("[".to_string(), "not restic's snapshot listing"),
        (
            format!("[{},{}]", snapshot(ID, t, "a"), snapshot(ID, t, "b")),
            "listed twice",
        ),
        (
            format!(r#"[{{"id":"{ID}","hostname":"h","paths":[]}}]"#),
            "has no \"time\"",
        ),
        (
            format!(r#"[{{"id":"{ID}","time":"{t}","paths":[]}}]"#),
            "has no \"hostname\"",
        ),
        (
            format!(r#"[{{"id":"{ID}","time":"{t}","hostname":"h"}}]"#),
            "has no \"paths\"",
        ),
        (
            format!("[{}]", snapshot(ID, "yesterday", "h")),
            "is not an RFC 3339 time",
        ),
        (
            format!("[{}]", snapshot(ID, "2026-13-01T00:00:00Z", "h")),
            "is not an RFC 3339 time",
        ),
        (
            format!("[{}]", snapshot(ID, "+275760-09-13T00:00:00Z", "h")),
            "is not an RFC 3339 time",
        ),
    ];
    for (listing, problem) in cases {
        let w = World::new();
        let o = plan(&w, &listing);
        assert_refused(&o, &w, problem, &listing);
    }
}

/// Nesting a million deep, in a field the adapter skips (well-formed) or
/// in one it reads (cut short): refused with the problem, never a stack
/// overflow.
#[test]
fn a_listing_nested_a_million_deep_is_refused_not_a_crash() {
    let deep = 1_000_000;
    let skipped = format!(
        r#"[{{"summary":{}{}}}]"#,
        "[".repeat(deep),
        "]".repeat(deep)
    );
    let read = format!(r#"[{{"id":"{ID}","paths":{}"#, "[".repeat(deep));
    for (listing, problem) in [
        (skipped, "has no \"id\""),
        (read, "not restic's snapshot listing"),
    ] {
        let w = World::new();
        let o = plan(&w, &listing);
        assert_refused(&o, &w, problem, &listing[..40]);
    }
}

/// A listing larger than the input limit every catalog has (1 GiB) is
/// refused as too large (a sparse file: no disk used).
#[test]
fn a_listing_larger_than_the_catalog_limit_is_refused() {
    let w = World::new();
    let p = w.path("snapshots.json");
    fs::File::create(&p)
        .unwrap()
        .set_len((1 << 30) + 1)
        .unwrap();
    let o = w.ssot(&[
        "retention",
        "plan",
        "--catalog",
        s(&p),
        "--catalog-format",
        "restic",
        "--keep-last",
        "1",
    ]);
    assert_refused(&o, &w, "is larger than 1GiB", "huge");
}
