//! ssot tried as a new user would (points 17, 19 and 20).

use std::fs;
use std::process::Command;

use super::*;

/// Point 17: the demo dated its last step an hour in the future, so the
/// `status`/`report`/`gate` it invited said FUTURE/DOWN. Its timeline ends at
/// now, and every follow-up command it prints works as printed.
#[test]
fn the_demos_follow_up_commands_work_as_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sandbox");
    let o = run_bounded(&["demo", "--dir", s(&dir)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("simulated: only the volumes"), "{out}");
    let bin = bin();
    let follow_ups: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(&bin))
        .collect();
    assert!(
        follow_ups.len() >= 4,
        "the demo prints its follow-up commands:\n{out}"
    );
    for line in follow_ups {
        let r = Command::new("sh")
            .args(["-c", line])
            .env_remove("SSOT_STATE_DIR")
            .env_remove("SSOT_CONFIG")
            .env_remove("PGDATA")
            .output()
            .unwrap();
        let text = format!("{}{}", stdout(&r), stderr(&r));
        let c = code(&r);
        assert!(c <= 2, "`{line}` gave no verdict (exit {c}):\n{text}");
        for bad in ["FUTURE", "future-dated", "ssot: error"] {
            assert!(!text.contains(bad), "`{line}` says {bad}:\n{text}");
        }
        if line.ends_with(" report") {
            assert_ne!(c, 2, "the sandbox's report is not DOWN:\n{text}");
        }
    }
}

/// Point 19: `--format` help lists `prometheus|configmap` only on `report`.
#[test]
fn format_help_lists_only_what_the_command_takes() {
    let o = run_bounded(&["wal", "check", "--help"]);
    assert!(!stdout(&o).contains("prometheus"), "{}", stdout(&o));
    let o = run_bounded(&["report", "--help"]);
    assert!(stdout(&o).contains("prometheus") && stdout(&o).contains("configmap"));
}

/// Point 19: `evidence ... --by` shows one default, not two.
#[test]
fn by_has_one_default() {
    let o = run_bounded(&["evidence", "backup", "--help"]);
    let help = stdout(&o);
    let by = help
        .split("--by")
        .nth(1)
        .unwrap()
        .split("\n      --")
        .next()
        .unwrap();
    assert_eq!(by.matches("default").count(), 1, "{by}");
    assert!(!by.contains("[env: USER"), "{by}");
}

/// Point 19: `demo --state` was accepted and ignored.
#[test]
fn the_demo_refuses_state_and_config() {
    for flag in ["--state", "--config"] {
        let o = run_bounded(&[flag, "/tmp/x", "demo"]);
        assert_eq!(code(&o), 3, "{flag}");
        assert!(
            stderr(&o).contains("it takes no --state or --config"),
            "{}",
            stderr(&o)
        );
    }
}

/// Point 19: every policy flag has help text.
#[test]
fn every_policy_flag_has_help_text() {
    let o = run_bounded(&["retention", "plan", "--help"]);
    let help = stdout(&o);
    let lines: Vec<&str> = help.lines().collect();
    for flag in [
        "--keep-last",
        "--keep-hourly",
        "--keep-daily",
        "--keep-weekly",
        "--keep-monthly",
        "--keep-yearly",
        "--min-keep",
        "--min-verified",
        "--partial-grace",
        "--max-delete",
    ] {
        let i = lines
            .iter()
            .position(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} not in the help"));
        let same_line = lines[i]
            .trim_start()
            .split_once("  ")
            .map(|(_, d)| d.trim());
        let next = lines.get(i + 1).map(|l| l.trim()).unwrap_or("");
        let described = same_line.is_some_and(|d| !d.is_empty())
            || (!next.is_empty() && !next.starts_with('-'));
        assert!(described, "{flag} has no help text:\n{help}");
    }
}

/// Point 19: errors speak plainly: no Rust debug output, TOML errors keep
/// their lines, a bad `--now` names the expected format.
#[test]
fn errors_speak_plainly() {
    let w = World::new();
    let dep = w.path("dep.json");
    fs::write(&dep, r#"{"kind": "Deployment"}"#).unwrap();
    let o = w.ssot(&["contract", "check", "--statefulset", s(&dep)]);
    // Inputs that cannot be read are a recorded FAIL (inputs.readable).
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stdout(&o).contains(r#"kind is "Deployment""#),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("Some("), "{}", stdout(&o));

    let cfg = w.path("ssot.toml");
    fs::write(&cfg, "[wal]\nvolume_near_pct = \"eighty\"\n").unwrap();
    let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
    let e = stderr(&o);
    assert!(
        e.lines().count() >= 4,
        "TOML's snippet is kept on its lines:\n{e}"
    );
    assert!(
        e.contains("volume_near_pct = \"eighty\"") && e.contains('^'),
        "{e}"
    );

    let o = run_bounded(&["--now", "yesterday", "status"]);
    let e = stderr(&o);
    assert!(e.contains("expected e.g. 2026-02-05T12:00:00Z"), "{e}");
    assert!(!e.contains("premature end of input"), "{e}");
}

/// Point 19: an empty state directory silently meant the current directory.
#[test]
fn an_empty_state_directory_is_refused() {
    let w = World::new();
    let cfg = w.path("ssot.toml");
    fs::write(&cfg, "state_dir = \"\"\n").unwrap();
    let o = run_bounded(&["--config", s(&cfg), "status"]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("state_dir must not be empty"),
        "{}",
        stderr(&o)
    );
    let o = run_bounded(&["--state", "", "status"]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("must not be empty"), "{}", stderr(&o));
}

fn repo_file(rel: &str) -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap_or_default()
}

/// Point 20: the README says near the top how to get `ssot` on PATH; the
/// declared licenses ship; no placeholder repository URL.
#[test]
fn a_new_user_can_install_it() {
    let readme = repo_file("README.md");
    let top: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    assert!(top.contains("cargo install --locked --path ."), "{top}");
    let manifest = repo_file("Cargo.toml");
    assert!(manifest.contains("license = \"MIT OR Apache-2.0\""));
    assert!(repo_file("LICENSE-MIT").contains("Permission is hereby granted"));
    assert!(repo_file("LICENSE-APACHE").contains("Apache License"));
    assert!(
        !manifest.contains("example.invalid"),
        "placeholder repository URL"
    );
}

/// `ssot demo --dir DIR` deleted `DIR/state` and overwrote `DIR/ssot.toml`:
/// on `/opt/ssot` the production timer then measured the sandbox's pg_wal.
/// The demo builds only in a new or empty directory, or one it built.
#[test]
fn the_demo_never_builds_over_a_real_installation() {
    let tmp = tempfile::tempdir().unwrap();
    let opt = tmp.path().join("opt-ssot");
    fs::create_dir_all(opt.join("state")).unwrap();
    fs::write(opt.join("state/wal.status"), "wal_status=ERROR\n").unwrap();
    fs::write(
        opt.join("ssot.toml"),
        "[postgres]\npgdata = \"/var/lib/postgresql/15/main\"\n",
    )
    .unwrap();
    let o = run_bounded(&["demo", "--dir", s(&opt)]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(opt.join("state/wal.status")).unwrap(),
        "wal_status=ERROR\n"
    );
    assert!(fs::read_to_string(opt.join("ssot.toml"))
        .unwrap()
        .contains("/var/lib/postgresql/15/main"));
    // A file is refused too; a new, an empty and its own earlier sandbox are fine.
    let file = tmp.path().join("f");
    fs::write(&file, "").unwrap();
    assert_eq!(code(&run_bounded(&["demo", "--dir", s(&file)])), 3);
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    for dir in [tmp.path().join("new"), empty.clone(), empty] {
        let o = run_bounded(&["demo", "--dir", s(&dir)]);
        assert_eq!(code(&o), 0, "{}: {}", dir.display(), stderr(&o));
    }
}

/// Under umask 002 (ordinary users on Debian, Ubuntu, Fedora) or 000 the
/// demo built a group-writable sandbox that its own trust check refused.
#[test]
fn the_demo_works_whatever_the_umask() {
    let tmp = tempfile::tempdir().unwrap();
    for (mask, dir) in [(0o002, "u002/a/b"), (0o000, "u000")] {
        let dir = tmp.path().join(dir);
        let mut c = ssot();
        c.args(["demo", "--dir", s(&dir)]);
        // SAFETY: umask is async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut c, move || {
                nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
                Ok(())
            });
        }
        let o = c.output().unwrap();
        assert_eq!(code(&o), 0, "umask {mask:03o}: {}", stderr(&o));
        let cfg = dir.join("ssot.toml");
        let o = run_bounded(&["--config", s(&cfg), "status"]);
        assert_eq!(code(&o), 0, "umask {mask:03o}: {}", stderr(&o));
    }
}

/// Issue "runs on the hosts it promises": the documentation's example
/// ssot.toml (docs/src/configuration.md, once the README's) must work as
/// printed. A `[gate.targets]` table overriding one key used to drop the
/// others; backups landed where retention did not prune; the documented
/// backup commands wrote names the default pattern never matched.
#[test]
fn the_readmes_example_configuration_works_as_printed() {
    let config_page = repo_file("docs/src/configuration.md");
    let (_, after) = config_page
        .split_once("Example `/opt/ssot/ssot.toml`")
        .expect("the configuration page has its example configuration");
    let toml = after
        .split_once("```toml\n")
        .and_then(|(_, t)| t.split_once("```"))
        .map(|(t, _)| t)
        .expect("a toml block");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("ssot.toml");
    fs::write(&cfg, toml).unwrap();
    let o = run_bounded(&["--config", s(&cfg), "config", "show", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let c = json(&o);
    let c = if c.get("config").is_some() {
        &c["config"]
    } else {
        &c
    };
    let targets = &c["gate"]["targets"];
    assert_eq!(targets["backup"], "/mnt/backup/dumps", "{c:#}");
    assert_eq!(targets["restore"], "/mnt/restore-scratch");
    assert_eq!(targets["snapshot"], "/opt/ssot-backup/snapshots", "kept");
    let backups = &c["retention"]["backups"];
    assert_eq!(
        backups["root"], targets["backup"],
        "retention prunes where backups land"
    );
    // The documented gated backup commands (README and book) write names the
    // pattern matches.
    let pattern = backups["pattern"].as_str().unwrap();
    let mut docs = repo_file("README.md");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src");
    for page in fs::read_dir(&book).expect("docs/src") {
        docs.push_str(&fs::read_to_string(page.unwrap().path()).unwrap());
    }
    let written: Vec<&str> = docs
        .lines()
        .filter(|l| l.contains("pg_dump") && l.contains("$(date"))
        .collect();
    assert!(!written.is_empty());
    for line in written {
        let (_, name) = line.rsplit_once('/').unwrap();
        let name = name.trim_end_matches('\'').trim_end_matches('`');
        let name = name.replace("$(date -u +%Y%m%d_%H%M%S)", "%Y%m%d_%H%M%S");
        assert_eq!(name, pattern, "{line}");
    }
}
