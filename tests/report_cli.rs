//! Contract, evidence, stages and the single view of truth, through the CLI.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use chrono::Timelike;
use std::process::Command;

use serde_json::Value;

mod common;
use common::{code, json, run};

const NOW: &str = "2026-02-05T12:00:00Z";

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/contract")
        .join(name)
        .display()
        .to_string()
}

/// promtool is required (CI installs Debian's prometheus); SSOT_SKIP_PROMTOOL=1 skips explicitly.
fn promtool_check(text: &str) {
    if std::env::var("SSOT_SKIP_PROMTOOL").as_deref() == Ok("1") {
        eprintln!("SKIPPED promtool explicitly");
        return;
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool not found: install Debian's prometheus (scripts/install-test-deps) or set SSOT_SKIP_PROMTOOL=1");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct World {
    _tmp: tempfile::TempDir,
    _targets: tempfile::TempDir,
    root: PathBuf,
    /// Backup and snapshot targets, on another filesystem than PGDATA.
    targets: PathBuf,
    cfg: String,
}

impl World {
    fn p(&self, rel: &str) -> String {
        self.root.join(rel).display().to_string()
    }

    fn t(&self, rel: &str) -> String {
        self.targets.join(rel).display().to_string()
    }

    fn ssot(&self, args: &[&str]) -> std::process::Output {
        let st = self.p("state");
        let mut all = vec!["--state", st.as_str(), "--config", self.cfg.as_str()];
        all.extend(args);
        run(&all)
    }

    /// A world whose every report section can be OK: a PGDATA with WAL,
    /// backup and snapshot targets on another filesystem (/dev/shm), a restore
    /// runbook, a metrics file, and a registry pointing at them.
    fn new() -> Option<World> {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let shm = Path::new("/dev/shm");
        if fs::metadata(shm).ok()?.dev() == fs::metadata(tmp.path()).ok()?.dev() {
            return None;
        }
        let targets_dir = tempfile::tempdir_in(shm).ok()?;
        let targets = targets_dir.path().to_path_buf();
        let root = tmp.path().to_path_buf();
        for d in ["state", "pgdata/pg_wal/archive_status", "textfile"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for d in ["backups", "snapshots"] {
            fs::create_dir_all(targets.join(d)).unwrap();
        }
        for n in 1..=4 {
            File::create(root.join(format!("pgdata/pg_wal/00000001{n:016X}")))
                .unwrap()
                .set_len(16 << 20)
                .unwrap();
        }
        fs::write(root.join("RESTORE.md"), "1. gunzip -c dump | psql\n").unwrap();
        fs::copy(
            fixture("active_pvc.list"),
            root.join("state/active_pvc.list"),
        )
        .unwrap();
        let cfg = root.join("ssot.toml");
        let r = root.display();
        let t = targets.display();
        fs::write(
            &cfg,
            format!(
                r#"[postgres]
pgdata = "{r}/pgdata"

[wal]
volume_near_pct = 100
volume_error_pct = 100
min_free_bytes = 0

[disk]
min_free_pct = 0
min_free_bytes = 0

[gate.targets]
backup = "{t}/backups"
snapshot = "{t}/snapshots"

[retention.backups]
root = "{t}/backups"

[retention.snapshots]
root = "{t}/snapshots"
pattern = "snap_%Y%m%d_%H%M%S"

[[stages]]
id = "5"
title = "WAL archive disabled"
status = "COMPLETE"
final = true
criteria = ["invariant:sts.archive_disabled", "invariant:processes.no_archiver", "limitation_off:wal_archive"]

[[stages]]
id = "7"
title = "WAL as stop-factor"
status = "COMPLETE"
final = true
criteria = ["fresh:wal.status", "gate_used:backup", "gate_denied:backup"]

[[stages]]
id = "8"
title = "Backup / restore drills"
status = "IMPLEMENTED"
criteria = ["backup", "file:{r}/RESTORE.md", "restore_drill:passed"]

[[stages]]
id = "10"
title = "Observability"
status = "IMPLEMENTED"
criteria = ["file:{r}/textfile/ssot.prom"]
"#
            ),
        )
        .unwrap();
        Some(World {
            _tmp: tmp,
            _targets: targets_dir,
            root,
            targets,
            cfg: cfg.display().to_string(),
        })
    }

    fn report(&self, now: &str) -> (i32, Value) {
        let o = self.ssot(&["report", "--format", "json", "--now", now]);
        (code(&o), json(&o))
    }

    /// The report at the real time (it then sees the decisions the gates
    /// made at the real time, a moment after the day's `now`).
    fn report_now(&self) -> (i32, Value) {
        let o = self.ssot(&["report", "--format", "json"]);
        (code(&o), json(&o))
    }
}

fn section<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

#[test]
fn an_empty_state_directory_is_down_and_says_why_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path().display().to_string();
    let o = run(&["report", "--state", &st, "--now", NOW]);
    assert_eq!(code(&o), 2);
    let text = String::from_utf8_lossy(&o.stdout);
    // The first line says what is wrong and what to do; then the table, worst first.
    assert!(
        text.starts_with(&format!(
            "DOWN: wal: WAL state unknown: {st}/wal.status is missing; every data operation is gated off — do: run `ssot wal check` on a schedule (every minute)"
        )),
        "the headline first:\n{text}"
    );
    assert!(
        text.contains("\nssot report 2026-02-05T12:00:00Z — DOWN\n  DOWN      wal"),
        "worst first:\n{text}"
    );
    let o = run(&["report", "--state", &st, "--now", NOW, "--format", "json"]);
    assert_eq!(
        json(&o)["headline"].as_str(),
        text.lines().next(),
        "the JSON carries the same headline"
    );
    assert!(text.contains("wal.status is missing"), "{text}");
    let o = run(&[
        "report",
        "--state",
        &st,
        "--now",
        NOW,
        "--format",
        "prometheus",
    ]);
    assert_eq!(code(&o), 2);
    let prom = String::from_utf8(o.stdout).unwrap();
    assert!(
        prom.contains("ssot_verdict{verdict=\"DOWN\"} 1\n"),
        "{prom}"
    );
    promtool_check(&prom);
    // No stage registry by default: nothing to check, and the text says how to add one.
    let o = run(&["stages", "check", "--state", &st, "--now", NOW]);
    assert_eq!(code(&o), 0);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with(
            "stages: no stage registry configured: declare your stages as [[stages]] tables"
        ),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The seed's registry (the example configuration) against nothing:
    // every claim it cannot back is reported.
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/config/seed.toml");
    let o = run(&[
        "stages", "check", "--config", seed, "--state", &st, "--now", NOW, "--format", "json",
    ]);
    assert_eq!(code(&o), 1);
    let checks = json(&o);
    let checks = checks.as_array().unwrap();
    assert!(checks.len() >= 14);
    assert!(
        checks.iter().all(|c| c["consistent"] == false),
        "nothing backs any claim in an empty state dir"
    );
    let stage8 = checks.iter().find(|c| c["id"] == "8").unwrap();
    assert_eq!(stage8["claimed"], "IMPLEMENTED");
    assert!(stage8["missing"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m.as_str().unwrap().starts_with("restore_drill:passed")));
    // Only `report` takes the report formats.
    let o = run(&["status", "--state", &st, "--format", "prometheus"]);
    assert_eq!(code(&o), 3, "a usage error gives no verdict");
}

#[test]
fn a_healthy_world_reports_ok_and_degrades_for_the_right_reasons() {
    let Some(w) = World::new() else {
        eprintln!("SKIPPED: /dev/shm is not a separate filesystem here");
        return;
    };
    let f = fixture;
    // The day runs at the real time: its gates decide by the real clock, so
    // the state they judge is written now, and every time is relative to now.
    let t = chrono::Utc::now().with_nanosecond(0).unwrap();
    let at = |offset_min: i64| {
        (t + chrono::TimeDelta::minutes(offset_min))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let now = at(0);
    let now = now.as_str();
    let dump = (t - chrono::TimeDelta::hours(9))
        .format("ssot_%Y%m%d_%H%M%S.sql.gz")
        .to_string();
    let dump = dump.as_str();
    // The stop-factor exercised: before any WAL check, a backup is denied.
    let o = w.ssot(&["gate", "backup"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("wal_status_missing"));
    assert_eq!(code(&w.ssot(&["wal", "check", "--now", now])), 0);
    let auto = w.p("auto.conf");
    fs::write(&auto, "# nothing set by ALTER SYSTEM\n").unwrap();
    let o = w.ssot(&[
        "contract",
        "check",
        "--now",
        now,
        "--statefulset",
        &f("sts-clean.json"),
        "--settings",
        &f("settings-clean.csv"),
        "--processes",
        &f("ps-args-clean.txt"),
        "--pvcs",
        &f("pvcs-clean.json"),
        "--auto-conf",
        &auto,
        "--slots",
        &f("active_pvc.list"),
    ]);
    assert_eq!(
        code(&o),
        1,
        "a slot list in the wrong format is an input that cannot be read: a recorded FAIL"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("inputs.readable")
            && String::from_utf8_lossy(&o.stdout).contains("active_pvc.list"),
        "the FAIL names the file"
    );
    let empty_slots = w.p("slots.csv");
    fs::write(&empty_slots, "").unwrap();
    let o = w.ssot(&[
        "contract",
        "check",
        "--now",
        now,
        "--statefulset",
        &f("sts-clean.json"),
        "--settings",
        &f("settings-clean.csv"),
        "--processes",
        &f("ps-args-clean.txt"),
        "--pvcs",
        &f("pvcs-clean.json"),
        "--auto-conf",
        &auto,
        "--slots",
        &empty_slots,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(json(&o)["status"], "PASS");
    let settings = fs::read_to_string(w.root.join("state/wal.settings")).unwrap();
    assert!(settings.contains("max_wal_size=4GB\n"), "{settings}");

    let dump_bytes = common::plain_dump(200);
    fs::write(w.targets.join("backups").join(dump), &dump_bytes).unwrap();
    let o = w.ssot(&["gate", "backup"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let o = w.ssot(&[
        "evidence",
        "backup",
        "--artifact",
        dump,
        "--finished",
        &at(-530),
        "--started",
        &at(-540),
        "--now",
        now,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let backup = fs::read_to_string(w.root.join("state/backup.status")).unwrap();
    assert!(
        backup.contains(&format!("last_complete_size_bytes={}\n", dump_bytes.len())),
        "size read from the artifact: {backup}"
    );
    assert!(
        backup.contains("last_complete_duration_seconds=600\n"),
        "{backup}"
    );
    assert!(
        backup.contains("last_complete_separate_from_pgdata=yes\n"),
        "{backup}"
    );
    // A snapshot is never a backup.
    let o = w.ssot(&[
        "evidence",
        "backup",
        "--artifact",
        "snap",
        "--kind",
        "snapshot",
        "--now",
        now,
    ]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("a snapshot is not a backup"));

    let o = w.ssot(&[
        "evidence",
        "restore-drill",
        "--artifact",
        dump,
        "--result",
        "pass",
        "--mark-verified",
        &w.t("backups"),
        "--now",
        now,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        w.targets.join(format!("backups/{dump}.verified")).exists(),
        "the retention marker is written"
    );
    fs::create_dir(
        w.targets.join("snapshots").join(
            (t - chrono::TimeDelta::hours(12))
                .format("snap_%Y%m%d_%H%M%S")
                .to_string(),
        ),
    )
    .unwrap();
    for profile in ["backups", "snapshots"] {
        let o = w.ssot(&["retention", "apply", "--profile", profile, "--confirm"]);
        assert_eq!(
            code(&o),
            0,
            "{profile}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let o = w.ssot(&[
        "report",
        "--now",
        now,
        "--format",
        "prometheus",
        "--output",
        &w.p("textfile/ssot.prom"),
    ]);
    let prom = fs::read_to_string(w.root.join("textfile/ssot.prom")).unwrap();
    promtool_check(&prom);
    assert!(
        prom.contains(&format!(
            "ssot_backup_last_complete_size_bytes {}\n",
            dump_bytes.len()
        )),
        "{prom}"
    );
    assert!(prom.contains("ssot_wal_size_bytes 67108864\n"), "{prom}");
    assert!(
        prom.contains("ssot_stage_consistent{stage=\"8\",claimed=\"IMPLEMENTED\"} 1\n"),
        "{prom}"
    );
    let _ = o;

    let (c, r) = w.report_now();
    let not_ok: Vec<String> = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] != "OK")
        .map(|s| format!("{}: {}", s["name"], s["summary"]))
        .collect();
    assert_eq!(not_ok, Vec::<String>::new());
    assert_eq!((c, r["verdict"].as_str().unwrap()), (0, "OK"));
    assert!(
        r["headline"]
            .as_str()
            .unwrap()
            .starts_with("OK: nothing to do"),
        "{}",
        r["headline"]
    );
    assert_eq!(
        section(&r, "stages")["summary"],
        "all 4 stage claims are backed by evidence"
    );

    let cm = w.ssot(&["report", "--now", now, "--format", "configmap"]);
    let cm = String::from_utf8_lossy(&cm.stdout).to_string();
    assert!(
        cm.contains("  name: \"ssot-restore-drill\"\n  namespace: \"default\"\n"),
        "{cm}"
    );
    assert!(cm.contains("    ssot.io/restore-drill: passed\n"), "{cm}");
    assert!(
        cm.contains(&format!("  restore_drill_artifact: \"{dump}\"\n")),
        "{cm}"
    );

    // A day and a half later the backup is stale and WAL was not re-checked: degraded and down.
    let (c, r) = w.report(&at(35 * 60));
    assert_eq!(c, 2);
    assert_eq!(section(&r, "wal")["status"], "DOWN");
    assert_eq!(section(&r, "backup")["status"], "DEGRADED");
    assert!(section(&r, "backup")["summary"]
        .as_str()
        .unwrap()
        .contains("is 1d19h50min old, more than the backup RPO 25h"));

    // A DR drill that misses its RTO is reported with figures.
    let o = w.ssot(&[
        "evidence",
        "dr-drill",
        "--scenario",
        "loss of the primary DB instance",
        "--t0",
        &at(-120),
        "--restored-at",
        &at(-100),
        "--newest-before",
        &at(-121),
        "--newest-after",
        &at(-123),
        "--now",
        now,
    ]);
    assert_eq!(code(&o), 1);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "DR drill \"loss of the primary DB instance\": RTO 20min (target 15min), RPO 2min (target 5min): FAIL\n");
    let (c, r) = w.report_now();
    assert_eq!(c, 1);
    assert!(section(&r, "dr_drill")["summary"]
        .as_str()
        .unwrap()
        .contains("missed its targets: RTO 20min (target 15min), RPO 2min (target 5min)"));
}

#[test]
fn contract_check_exit_codes_and_the_startup_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let st = tmp.path().join("state").display().to_string();
    // Failures: exit 1, and the startup gate denies.
    let o = run(&[
        "contract",
        "check",
        "--state",
        &st,
        "--now",
        NOW,
        "--statefulset",
        &fixture("sts-archive-on.json"),
    ]);
    assert_eq!(code(&o), 1);
    // Unknowns only: exit 0 (the command lists them) but startup denies.
    let o = run(&[
        "contract",
        "check",
        "--state",
        &st,
        "--now",
        NOW,
        "--statefulset",
        &fixture("sts-clean.json"),
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 0);
    assert_eq!(json(&o)["status"], "UNKNOWN");
    fs::write(
        tmp.path().join("state/wal.status"),
        format!("wal_status=OK\nchecked_at={}\n", common::real_now()),
    )
    .unwrap();
    // The contract was checked at NOW, long ago: the gate (at the real time)
    // finds it stale as well as UNKNOWN; record it again at the real time.
    let o = run(&[
        "contract",
        "check",
        "--state",
        &st,
        "--statefulset",
        &fixture("sts-clean.json"),
    ]);
    assert_eq!(code(&o), 0);
    let o = run(&["gate", "startup", "--state", &st, "--format", "json"]);
    assert_eq!(code(&o), 1);
    let g = json(&o);
    assert_eq!(g["reasons"][0]["rule"], "contract_pass");
    assert!(g["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("UNKNOWN"));
    // An unreadable or malformed input: a recorded FAIL (exit 1), naming
    // the file and where.
    let o = run(&[
        "contract",
        "check",
        "--state",
        &st,
        "--statefulset",
        "/nonexistent/sts.json",
    ]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout).contains("/nonexistent/sts.json"));
    let rec = fs::read_to_string(Path::new(&st).join("contract.status")).unwrap();
    assert!(rec.starts_with("contract_status=FAIL\n"), "{rec}");
    let bad = tmp.path().join("bad.json");
    fs::write(&bad, "{\n  \"kind\": \"StatefulSet\",\n  oops\n}").unwrap();
    let o = run(&[
        "contract",
        "check",
        "--state",
        &st,
        "--statefulset",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stdout);
    assert!(
        err.contains("bad.json: not JSON at line 3 column 3"),
        "{err}"
    );
}

/// Neutral names by default; the seed's names and stage registry are an
/// example configuration that `ssot config show` accepts as printed.
#[test]
fn the_defaults_are_neutral_and_the_seed_is_an_example_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("none.toml");
    fs::write(&none, "").unwrap();
    let o = run(&["config", "show", "--config", none.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("\nstatefulset = \"postgres\"\nnamespace = \"default\"\n"),
        "{text}"
    );
    assert!(
        text.contains("\nconfigmap_namespace = \"default\"\n"),
        "{text}"
    );
    assert!(!text.contains("trading"), "{text}");
    assert!(!text.contains("[[stages]]"), "{text}");

    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/config/seed.toml");
    let o = run(&["config", "show", "--config", seed, "--format", "json"]);
    assert_eq!(code(&o), 0);
    let cfg = json(&o);
    assert_eq!(cfg["contract"]["statefulset"], "trading-postgres");
    assert_eq!(cfg["contract"]["namespace"], "trading");
    assert_eq!(cfg["report"]["configmap_namespace"], "trading");
    let ids: Vec<&str> = cfg["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "3.3", "3.4", "4", "5", "6", "7", "8", "9", "10", "15.2", "15.3", "16"]
    );
    // The seed's thresholds are the defaults: the example changes only names.
    assert_eq!(cfg["contract"]["max_wal_size"], "4GB");
}
