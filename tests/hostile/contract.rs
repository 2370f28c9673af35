//! The architecture contract fed hostile StatefulSets and GUC values
//! (points 8, 13 and 14).

use std::fs;

use serde_json::{json as j, Value};

use super::common::pg::Cluster;
use super::*;

fn sts() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/contract/sts-clean.json"
    );
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// `contract check --statefulset` on `doc` (plus `extra` flags); the report.
fn check(w: &World, doc: &Value, extra: &[&str]) -> (i32, Value) {
    let f = w.path("sts.json");
    fs::write(&f, doc.to_string()).unwrap();
    let mut args = vec![
        "contract",
        "check",
        "--statefulset",
        s(&f),
        "--format",
        "json",
    ];
    args.extend(extra);
    let o = w.ssot(&args);
    assert_ne!(o.status.code(), Some(101), "panicked: {}", stderr(&o));
    (
        code(&o),
        if o.stdout.is_empty() {
            Value::Null
        } else {
            json(&o)
        },
    )
}

/// `contract check` on a host's `postgresql.conf` with `--pgdata`, as JSON,
/// without `--now` (the check records, at the real time).
fn host_check(w: &World, conf: &std::path::Path, pgdata: &std::path::Path) -> std::process::Output {
    ssot()
        .args(["--state", s(&w.state)])
        .args(["contract", "check", "--postgresql-conf", s(conf)])
        .args(["--pgdata", s(pgdata), "--format", "json"])
        .output()
        .unwrap()
}

/// The ids of the invariants with `status` (any status: `None`) in a
/// contract report.
fn ids<'a>(r: &'a Value, status: Option<&str>) -> Vec<&'a str> {
    r["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| status.is_none_or(|s| i["status"] == s))
        .map(|i| i["id"].as_str().unwrap())
        .collect()
}

fn invariant<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {r:#}"))
}

fn limitation<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["limitations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap()
}

/// Point 8: `spec.replicas = 18446744073709551615` with a volumeClaimTemplate
/// panicked ("capacity overflow"); `1e8` exhausted memory. Never one allocation per replica.
#[test]
fn a_huge_replica_count_allocates_nothing_per_replica() {
    let w = World::new();
    for replicas in [j!(18446744073709551615u64), j!(100_000_000)] {
        let mut doc = sts();
        doc["spec"]["replicas"] = replicas.clone();
        let (c, r) = check(&w, &doc, &[]);
        assert_eq!(c, 1, "{replicas}");
        assert_eq!(invariant(&r, "sts.single_instance")["status"], "fail");
        let ev = invariant(&r, "pvc.pgdata_active");
        assert_eq!(ev["status"], "unknown", "no active_pvc.list given");
    }
}

/// Point 13: `spec.replicas` of `2.0`, `"3"` or `-1` used to pass
/// `sts.single_instance`; only a JSON integer ≥ 0 is a count.
#[test]
fn replicas_that_are_not_a_whole_number_fail_single_instance() {
    let w = World::new();
    for bad in [j!(2.0), j!("3"), j!(-1), j!(true)] {
        let mut doc = sts();
        doc["spec"]["replicas"] = bad.clone();
        let (c, r) = check(&w, &doc, &[]);
        assert_eq!(c, 1, "{bad}");
        let i = invariant(&r, "sts.single_instance");
        assert_eq!(i["status"], "fail", "{bad}: {i:#}");
        assert!(
            i["message"]
                .as_str()
                .unwrap()
                .contains("not a whole number"),
            "{i:#}"
        );
    }
    let mut doc = sts();
    doc["spec"]["replicas"] = j!(1);
    assert_eq!(
        invariant(&check(&w, &doc, &[]).1, "sts.single_instance")["status"],
        "pass"
    );
}

/// Point 13: a container that starts PostgreSQL through `env`, a shell,
/// `exec`, an absolute path or an entrypoint wrapper is read for archive
/// settings — `/usr/bin/env bash -c "exec postgres -c archive_mode=on"` used
/// to pass `sts.archive_disabled` and report the WAL archive confirmed off.
#[test]
fn the_postgres_invocation_is_found_through_wrappers() {
    let w = World::new();
    // (command, extra args before the fixture's `-c max_wal_size=4GB ...`, whether
    // those args reach PostgreSQL: after `sh -c SCRIPT` they are the script's `$0 $1 ...`).
    let wrapped: Vec<(Value, Value, bool)> = vec![
        (j!(["/usr/bin/env", "bash", "-c", "exec postgres -c archive_mode=on"]), j!([]), false),
        (j!(["sh", "-ec"]), j!(["chown -R postgres /d; exec /usr/lib/postgresql/15/bin/postgres -c 'archive_command=cp %p /a/%f'"]), false),
        (j!(["docker-entrypoint.sh"]), j!(["postgres", "-c", "archive_mode=on"]), true),
        (j!(["gosu", "postgres", "postgres", "-carchive_mode=on"]), j!([]), true),
        (j!(["tini", "--", "/usr/local/bin/postgres", "--archive-timeout=60"]), j!([]), true),
        (j!(["bash", "-c", "pg_ctl start -D /d -o \"-c archive_mode=always\" && sleep infinity"]), j!([]), false),
        (j!([]), j!(["-c", "archive_mode=on"]), true),
        (j!(["sh", "/docker-entrypoint.sh", "postgres", "-c", "archive_mode=on"]), j!([]), true),
    ];
    for (command, args, reach_postgres) in wrapped {
        let mut doc = sts();
        let c = &mut doc["spec"]["template"]["spec"]["containers"][0];
        c["command"] = command.clone();
        let mut all = args.as_array().unwrap().clone();
        all.extend(c["args"].as_array().unwrap().iter().cloned());
        c["args"] = Value::Array(all);
        let (_, r) = check(&w, &doc, &[]);
        let i = invariant(&r, "sts.archive_disabled");
        assert_eq!(i["status"], "fail", "{command} {args}: {i:#}");
        assert_eq!(limitation(&r, "wal_archive")["status"], "on", "{command}");
        let want = if reach_postgres { "pass" } else { "fail" };
        assert_eq!(
            invariant(&r, "sts.max_wal_size")["status"],
            want,
            "{command} {args}: the WAL settings are read from PostgreSQL's own arguments only"
        );
    }
}

/// Point 14: values PostgreSQL rounds are compared the way PostgreSQL stores
/// them — `1536kB` is 2 (MB), `29.5s` is 30 (s), `30.1GB` is 30822 (MB) —
/// so a runtime that says so is no drift.
#[test]
fn rounded_values_are_not_drift() {
    let w = World::new();
    let cfg = w.path("ssot.toml");
    fs::write(
        &cfg,
        "[contract]\nmax_wal_size = \"30.1GB\"\nmin_wal_size = \"1536kB\"\ncheckpoint_timeout = \"29.5s\"\n",
    )
    .unwrap();
    let mut doc = sts();
    doc["spec"]["template"]["spec"]["containers"][0]["args"] = j!([
        "-c",
        "max_wal_size=30.1GB",
        "-c",
        "min_wal_size=1536kB",
        "-c",
        "wal_keep_size=0",
        "-c",
        "checkpoint_timeout=29.5s"
    ]);
    let settings = w.path("settings.csv");
    fs::write(
        &settings,
        "max_wal_size,30822,MB\nmin_wal_size,2,MB\nwal_keep_size,0,MB\ncheckpoint_timeout,30,s\narchive_mode,off,\n",
    )
    .unwrap();
    let (_, r) = check(&w, &doc, &["--config", s(&cfg), "--settings", s(&settings)]);
    for id in [
        "sts.max_wal_size",
        "sts.min_wal_size",
        "sts.checkpoint_timeout",
        "runtime.max_wal_size",
        "runtime.min_wal_size",
        "runtime.checkpoint_timeout",
    ] {
        assert_eq!(
            invariant(&r, id)["status"],
            "pass",
            "{id}: {:#}",
            invariant(&r, id)
        );
    }
}

/// Point 14: a value PostgreSQL refuses is invalid, naming the range — in
/// the StatefulSet args and in the declared contract alike.
#[test]
fn values_postgresql_refuses_are_invalid() {
    let w = World::new();
    for (arg, needle) in [
        ("max_wal_size=0", "0 MB is outside the valid range for parameter \"max_wal_size\" (2 .. 2147483647)"),
        ("max_wal_size=2048TB", "Value exceeds integer range."),
        ("max_wal_size=1gb", "Valid units for this parameter are"),
        ("max_wal_size='4GB'", "invalid value for parameter \"max_wal_size\": \"'4GB'\""),
        ("checkpoint_timeout=2d", "172800 s is outside the valid range for parameter \"checkpoint_timeout\" (30 .. 86400)"),
        ("checkpoint_timeout=29s", "(30 .. 86400)"),
        ("checkpoint_timeout=1.5", "2 s is outside the valid range"),
        ("checkpoint_timeout=30sec", "invalid value for parameter \"checkpoint_timeout\": \"30sec\""),
        ("checkpoint_timeout=1h30min", "invalid value"),
    ] {
        let mut doc = sts();
        let name = arg.split('=').next().unwrap();
        doc["spec"]["template"]["spec"]["containers"][0]["args"] = j!([
            "-c", "max_wal_size=4GB", "-c", "min_wal_size=1GB", "-c", "wal_keep_size=0",
            "-c", "checkpoint_timeout=5min", "-c", arg
        ]);
        let (_, r) = check(&w, &doc, &[]);
        let i = invariant(&r, &format!("sts.{name}"));
        assert_eq!(i["status"], "fail", "{arg}");
        assert!(i["message"].as_str().unwrap().contains(needle), "{arg}: {i:#}");
    }
    let cfg = w.path("ssot.toml");
    for (key, value, needle) in [
        ("max_wal_size", "0", "(2 .. 2147483647)"),
        ("max_wal_size", "2048TB", "Value exceeds integer range"),
        ("checkpoint_timeout", "2d", "(30 .. 86400)"),
        ("checkpoint_timeout", "29s", "(30 .. 86400)"),
        (
            "checkpoint_timeout",
            "1.5",
            "2 s is outside the valid range",
        ),
        ("checkpoint_timeout", "30sec", "unknown unit \"sec\""),
        ("checkpoint_timeout", "1h30min", "unknown unit"),
        ("max_wal_size", "1gb", "unknown unit \"gb\""),
    ] {
        fs::write(&cfg, format!("[contract]\n{key} = \"{value}\"\n")).unwrap();
        let o = w.ssot(&["--config", s(&cfg), "config", "show"]);
        assert_eq!(code(&o), 3, "{key} = {value}");
        let e = stderr(&o);
        assert!(
            e.contains(key) && e.contains(needle),
            "{key} = {value}: {e}"
        );
    }
}

/// Point 14: ssot's reading of GUC values equals PostgreSQL's own, checked
/// against the server on this machine with `postgres -C`.
#[test]
fn guc_values_are_read_as_the_real_postgresql_reads_them() {
    if std::env::var("SSOT_SKIP_PG").as_deref() == Ok("1") {
        eprintln!("SKIPPED explicitly (SSOT_SKIP_PG=1)");
        return;
    }
    let pg = Cluster::stopped();
    let data = pg.data().display().to_string();
    let cases: &[(&str, &[&str])] = &[
        (
            "max_wal_size",
            &[
                "4GB",
                "1536kB",
                "30.1GB",
                "0",
                "2048TB",
                "1gb",
                "010",
                "0x10",
                "08",
                "1e3",
                "'4GB'",
                " 4 GB ",
                "2",
                "-1",
                "2147483647",
                "2147483648",
                "1.5",
                "1.5GB",
                "4096",
                "3MB",
                "1TB",
                "0.5MB",
                "1e400",
                "nan",
                "inf",
                "+8",
                "1e-3GB",
                "4 G B",
                "4GBs",
            ],
        ),
        (
            "checkpoint_timeout",
            &[
                "5min",
                "29.5s",
                "2d",
                "29s",
                "1.5",
                "30sec",
                "1h30min",
                "300",
                "30",
                "86400",
                "1d",
                "0.5min",
                "30000ms",
                "30.5",
                "31.5",
                "1h",
                "45000000us",
                "0x1E",
                "5m",
            ],
        ),
        ("wal_keep_size", &["0", "-1", "1GB", "512kB", "100"]),
        ("max_slot_wal_keep_size", &["-1", "-2", "10GB", "0"]),
        (
            "archive_timeout",
            &["0", "60", "1min", "1073741823", "1073741824"],
        ),
        (
            "archive_mode",
            &[
                "on", "off", "always", "ON", "true", "yes", "1", "0", "tru", "maybe",
            ],
        ),
        (
            "fsync",
            &["on", "of", "o", "t", "TRUE", "Yes", "n", "1", "2", "false"],
        ),
        (
            "wal_level",
            &[
                "replica",
                "minimal",
                "logical",
                "archive",
                "hot_standby",
                "HOT_STANDBY",
                "full",
            ],
        ),
    ];
    let mut checked = 0;
    for (name, values) in cases {
        for v in *values {
            let o = pg.try_tool(
                "postgres",
                &["-D", &data, "-C", name, "-c", &format!("{name}={v}")],
            );
            let pg_says: Option<String> = o
                .status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string());
            let ours = ssot_core::contract::guc::parse_value(name, v);
            match (&pg_says, &ours) {
                (None, Err(_)) => {}
                (Some(shown), Ok(val)) => {
                    let ours_shown = match val {
                        ssot_core::contract::guc::GucValue::Int { value, .. } => value.to_string(),
                        other => other.to_string(),
                    };
                    assert_eq!(&ours_shown, shown, "{name}={v}: PostgreSQL stores {shown}");
                }
                (None, Ok(val)) => panic!(
                    "{name}={v}: PostgreSQL refuses it ({}), ssot accepts {val:?}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                (Some(shown), Err(e)) => {
                    panic!("{name}={v}: PostgreSQL accepts it as {shown}, ssot refuses: {e}")
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 80);
}

/// A host's postgresql.conf is read with its includes, so an include can
/// point anywhere: at a FIFO (a read would block forever), at a directory,
/// at itself (nesting), or at a directory that includes itself (10 levels of
/// every file: exponential). Each is an error naming the file, promptly.
#[test]
fn hostile_includes_in_postgresql_conf_fail_promptly() {
    let w = World::new();
    let dir = w.path("etc");
    fs::create_dir(&dir).unwrap();
    let fifo = dir.join("pipe.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let loops = dir.join("loop.d");
    fs::create_dir(&loops).unwrap();
    for i in 0..20 {
        fs::write(loops.join(format!("{i:02}.conf")), "include_dir = '.'\n").unwrap();
    }
    // Wide, not deep: 20 files each including 20 each including 20.
    for (d, next) in [
        ("a.d", Some("../b.d")),
        ("b.d", Some("../c.d")),
        ("c.d", None),
    ] {
        fs::create_dir(dir.join(d)).unwrap();
        for i in 0..20 {
            let text = next.map_or("port = 5432\n".to_string(), |n| {
                format!("include_dir = '{n}'\n")
            });
            fs::write(dir.join(d).join(format!("{i:02}.conf")), text).unwrap();
        }
    }
    // A sparse 32MiB file behind a symlink (found by attack: the size was
    // the symlink's, and the file was read whole).
    let big = w.path("big.bin");
    fs::File::create(&big).unwrap().set_len(32 << 20).unwrap();
    std::os::unix::fs::symlink(&big, dir.join("big.conf")).unwrap();
    for (text, why) in [
        ("include 'big.conf'\n", "more than the 16 MiB"),
        ("include 'pipe.conf'\n", "pipe.conf: is not a regular file"),
        ("include 'loop.d'\n", "loop.d: is not a regular file"),
        ("include 'postgresql.conf'\n", "nest deeper than 10"),
        ("include_dir 'loop.d'\n", "nest deeper than 10"),
        ("include_dir 'a.d'\n", "more than 1000 files"),
    ] {
        let conf = dir.join("postgresql.conf");
        fs::write(&conf, text).unwrap();
        let o = w.ssot(&["contract", "check", "--postgresql-conf", s(&conf)]);
        // A FAIL naming the problem, recorded (see the test below).
        assert_eq!(code(&o), 1, "{text}: {}", stderr(&o));
        assert!(stdout(&o).contains(why), "{text}: {}", stdout(&o));
        let rec = fs::read_to_string(w.state.join("contract.status")).unwrap();
        assert!(rec.contains("failed=inputs.readable"), "{text}: {rec}");
        assert!(rec.contains(why), "{text}: {rec}");
    }
}

/// Found by review: a `contract check` whose inputs could not be read
/// exited 3 and recorded nothing, so the last PASS stood for up to 25 hours
/// (`gate.contract_max_age`) while the configuration it vouched for was
/// broken. The check now records a FAIL (`inputs.readable`) naming the file
/// and the problem, and the gates that want the contract deny.
#[test]
fn a_check_that_cannot_read_its_inputs_replaces_the_last_pass() {
    let w = World::new();
    let now = real_now();
    w.write_state("wal.status", &format!("wal_status=OK\nchecked_at={now}\n"));
    w.write_state(
        "contract.status",
        &format!(
            "contract_status=PASS\nchecked_at={now}\nfailed=\nunknown=\ninvariant.conf.max_wal_size=pass\n"
        ),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "the recorded PASS allows: {d:#}");
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    let conf = data.join("postgresql.conf");
    fs::write(&conf, "max_wal_size = 4GB\ninclude 'tuning.conf'\n").unwrap();
    let o = host_check(&w, &conf, &data);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["status"], "FAIL", "{r:#}");
    let inv = invariant(&r, "inputs.readable");
    assert_eq!(inv["status"], "fail", "{inv:#}");
    let msg = inv["message"].as_str().unwrap();
    assert!(
        msg.contains("tuning.conf") && msg.contains("does not exist"),
        "{msg}"
    );
    let rec = fs::read_to_string(w.state.join("contract.status")).unwrap();
    assert!(rec.starts_with("contract_status=FAIL\n"), "{rec}");
    assert!(rec.contains("tuning.conf"), "{rec}");
    for op in ["startup", "restore"] {
        let (c, d) = w.gate_json(op);
        assert_eq!(c, 1, "{op}: {d:#}");
        assert!(
            denied_rules(&d).contains(&"contract_pass".to_string()),
            "{op}: {d:#}"
        );
    }
    // A caller's mistake is not a verdict: nothing recorded over the FAIL.
    let o = ssot()
        .args(["--state", s(&w.state)])
        .args(["contract", "check", "--settings", "-", "--processes", "-"])
        .output()
        .unwrap();
    assert!(code(&o) >= 2, "{}", stderr(&o));
    let again = fs::read_to_string(w.state.join("contract.status")).unwrap();
    assert_eq!(again, rec);
    // Readable again: the next check records what holds.
    fs::write(data.join("tuning.conf"), "min_wal_size = 1GB\n").unwrap();
    let o = host_check(&w, &conf, &data);
    let r = json(&o);
    assert!(!ids(&r, None).contains(&"inputs.readable"), "{r:#}");
    assert_eq!(
        invariant(&r, "conf.max_wal_size")["status"],
        "pass",
        "{r:#}"
    );
}

/// Found by attack: on a host, a `contract check` while PostgreSQL is down
/// (exactly when the startup gate runs) can only say UNKNOWN for what a
/// running server shows, and the gated unit then never started. Startup
/// allows when only `runtime.*`/`processes.*` are unknown and the declared
/// side holds; anything else unknown still denies, and restore wants PASS.
#[test]
fn a_host_that_is_down_may_start_on_its_declared_contract() {
    let w = World::new();
    let now = real_now();
    w.write_state("wal.status", &format!("wal_status=OK\nchecked_at={now}\n"));
    let record = |unknown: &[&str], pass: &[&str]| {
        let mut t = format!(
            "contract_status=UNKNOWN\nchecked_at={now}\nfailed=\nunknown={}\n",
            unknown.join(",")
        );
        for id in unknown {
            t.push_str(&format!(
                "invariant.{id}=unknown\nmessage.{id}=not checked\n"
            ));
        }
        for id in pass {
            t.push_str(&format!("invariant.{id}=pass\n"));
        }
        t
    };
    let declared = [
        "conf.max_wal_size",
        "conf.min_wal_size",
        "volume.pgdata_declared",
    ];
    w.write_state(
        "contract.status",
        &record(
            &[
                "processes.no_archiver",
                "runtime.max_wal_size",
                "runtime.reachable",
            ],
            &declared,
        ),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "{d:#}");
    let (c, d) = w.gate_json("restore");
    assert_eq!(c, 1, "{d:#}");
    assert!(
        denied_rules(&d).contains(&"contract_pass".to_string()),
        "{d:#}"
    );
    // The declared side unknown: no start.
    w.write_state(
        "contract.status",
        &record(
            &["conf.max_wal_size", "runtime.max_wal_size"],
            &declared[1..],
        ),
    );
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 1, "{d:#}");
}

/// Found by attack: `--postgresql-conf postgresql.conf` given relative, from
/// inside PGDATA, read its directory as "" and failed
/// `volume.pgdata_declared`. The path is made absolute first.
#[test]
fn a_relative_postgresql_conf_names_its_real_directory() {
    let w = World::new();
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("postgresql.conf"), "max_wal_size = 4GB\n").unwrap();
    let o = ssot()
        .current_dir(&data)
        .args(["--state", s(&w.state), "--now", NOW])
        .args(["contract", "check", "--postgresql-conf", "postgresql.conf"])
        .args(["--pgdata", s(&data), "--format", "json"])
        .output()
        .unwrap();
    assert!(code(&o) <= 1, "{}", stderr(&o));
    let r = json(&o);
    let inv = invariant(&r, "volume.pgdata_declared");
    assert_eq!(inv["status"], "pass", "{inv:#}");
}

/// Found by review: a comment in Latin-1 (PostgreSQL takes any bytes in a
/// comment) made the whole check fail as "not UTF-8"; and a
/// `postgresql.auto.conf` that is a directory or a FIFO read as absent, so
/// ALTER SYSTEM drift could hide behind it. The first reads; the second is a
/// FAIL naming the file.
#[test]
fn a_latin1_comment_reads_and_an_auto_conf_that_is_no_file_fails() {
    let w = World::new();
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    let conf = data.join("postgresql.conf");
    let mut text = b"# r\xe9glages du serveur\nmax_wal_size = 4GB # \xe9\n".to_vec();
    text.extend_from_slice(b"archive_mode = off\n");
    fs::write(&conf, text).unwrap();
    let run = || {
        let o = host_check(&w, &conf, &data);
        assert!(code(&o) <= 1, "{}", stderr(&o));
        json(&o)
    };
    let r = run();
    assert_eq!(
        invariant(&r, "conf.max_wal_size")["status"],
        "pass",
        "{r:#}"
    );
    assert_eq!(
        invariant(&r, "conf.archive_disabled")["status"],
        "pass",
        "{r:#}"
    );
    let auto = data.join("postgresql.auto.conf");
    fs::create_dir(&auto).unwrap();
    let r = run();
    let inv = invariant(&r, "inputs.readable");
    assert_eq!(inv["status"], "fail", "{inv:#}");
    let msg = inv["message"].as_str().unwrap();
    assert!(
        msg.contains("postgresql.auto.conf") && msg.contains("not a regular file"),
        "{msg}"
    );
    fs::remove_dir(&auto).unwrap();
    nix::unistd::mkfifo(&auto, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let r = run();
    assert_eq!(invariant(&r, "inputs.readable")["status"], "fail", "{r:#}");
}

/// Found by review: `--auto-conf FILE` refused an `include` in it (it was
/// read as a text), while the same file found in the data directory was
/// followed. Given as a file, it is read with its includes, from a relative
/// path too, and drift in the included file names that file.
#[test]
fn an_auto_conf_given_as_a_file_follows_its_includes() {
    let w = World::new();
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("postgresql.conf"), "max_wal_size = 4GB\n").unwrap();
    fs::write(data.join("postgresql.auto.conf"), "include 'more.conf'\n").unwrap();
    fs::write(data.join("more.conf"), "max_wal_size = '64GB'\n").unwrap();
    let o = ssot()
        .current_dir(&data)
        .args(["--state", s(&w.state)])
        .args(["contract", "check", "--postgresql-conf", "postgresql.conf"])
        .args(["--auto-conf", "postgresql.auto.conf"])
        .args(["--pgdata", s(&data), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let r = json(&o);
    let inv = invariant(&r, "auto_conf.no_wal_override");
    assert_eq!(inv["status"], "fail", "{r:#}");
    assert!(inv.to_string().contains("more.conf"), "{inv:#}");
    assert!(!ids(&r, None).contains(&"inputs.readable"), "{r:#}");
}

/// Found by review: `volume.pgdata_declared` compared the directories as
/// text, so a PGDATA reached through a symbolic link (Debian's
/// /var/lib/postgresql/15/main linked to a mounted volume) failed against
/// the configuration's `data_directory` naming the real one. Directories
/// are compared as the host resolves them; another directory still fails.
#[test]
fn a_pgdata_behind_a_symlink_is_the_declared_data_directory() {
    let w = World::new();
    let real = w.path("volume/main");
    fs::create_dir_all(&real).unwrap();
    let link = w.path("main");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let etc = w.path("etc");
    fs::create_dir(&etc).unwrap();
    let conf = etc.join("postgresql.conf");
    let check = |data_directory: &std::path::Path| {
        fs::write(
            &conf,
            format!("data_directory = '{}'\n", data_directory.display()),
        )
        .unwrap();
        let o = host_check(&w, &conf, &link);
        assert!(code(&o) <= 1, "{}", stderr(&o));
        invariant(&json(&o), "volume.pgdata_declared").clone()
    };
    let inv = check(&real);
    assert_eq!(inv["status"], "pass", "{inv:#}");
    let other = w.path("other");
    fs::create_dir(&other).unwrap();
    let inv = check(&other);
    assert_eq!(inv["status"], "fail", "{inv:#}");
}

/// Found by attack: `max_wal_sise = 1GB` in postgresql.conf stops
/// PostgreSQL 15 at its next start ("unrecognized configuration
/// parameter"), yet the declared side passed. The names are checked against
/// PostgreSQL 15's own list when the data directory's `PG_VERSION` says 15
/// (a stopped server), or the live probe's `pg_settings`; a dotted name is an
/// extension's placeholder. Another version without a probe cannot be
/// checked, and that unknown alone does not keep a server from starting.
#[test]
fn an_unknown_parameter_name_fails_the_host_contract() {
    let w = World::new();
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    fs::write(data.join("PG_VERSION"), "15\n").unwrap();
    fs::write(data.join("postgresql.auto.conf"), "# ALTER SYSTEM\n").unwrap();
    let conf = data.join("postgresql.conf");
    fs::write(
        &conf,
        "max_wal_size = 4GB\nMin_Wal_Size = 1GB\nwal_keep_size = 0\ncheckpoint_timeout = 5min\n\
         archive_mode = off\nmax_wal_sise = 1GB\npg_stat_statements.max = 100\n\
         DateStyle = 'iso, mdy'\ntimezone = 'Etc/UTC'\nsort_mem = 4096\nseed = 0\n",
    )
    .unwrap();
    let r = json(&host_check(&w, &conf, &data));
    let inv = invariant(&r, "conf.parameters_known");
    assert_eq!(inv["status"], "fail", "{inv:#}");
    let msg = inv["message"].as_str().unwrap();
    assert!(msg.contains("postgresql.conf:6 max_wal_sise"), "{msg}");
    // Found by the package check: pg_settings spells DateStyle and TimeZone
    // in mixed case; names compare case-insensitively. A second attack: old
    // aliases and settings hidden from pg_settings that PostgreSQL accepts.
    for known in [
        "pg_stat_statements",
        "min_wal_size",
        "datestyle",
        "timezone",
        "sort_mem",
        "seed",
    ] {
        assert!(!msg.to_lowercase().contains(known), "{known}: {msg}");
    }
    assert!(msg.contains("PG_VERSION"), "{msg}");
    // Fixed: it passes.
    fs::write(
        &conf,
        fs::read_to_string(&conf)
            .unwrap()
            .replace("max_wal_sise = 1GB\n", ""),
    )
    .unwrap();
    let r = json(&host_check(&w, &conf, &data));
    assert_eq!(
        invariant(&r, "conf.parameters_known")["status"],
        "pass",
        "{r:#}"
    );
    // PostgreSQL 16, stopped: not checkable; the startup gate still allows
    // when the rest of the declared side holds.
    fs::write(data.join("PG_VERSION"), "16\n").unwrap();
    let r = json(&host_check(&w, &conf, &data));
    let inv = invariant(&r, "conf.parameters_known");
    assert_eq!(inv["status"], "unknown", "{inv:#}");
    assert!(
        inv["message"].as_str().unwrap().contains("live probe"),
        "{inv:#}"
    );
    assert_eq!(r["status"], "UNKNOWN", "{r:#}");
    let unknown: Vec<&str> = ids(&r, Some("unknown"))
        .into_iter()
        .filter(|id| !id.starts_with("runtime.") && !id.starts_with("processes."))
        .collect();
    assert_eq!(unknown, ["conf.parameters_known"], "{r:#}");
    let now = real_now();
    w.write_state("wal.status", &format!("wal_status=OK\nchecked_at={now}\n"));
    let (c, d) = w.gate_json("startup");
    assert_eq!(c, 0, "{d:#}");
}

/// Found by attack: a FIFO nobody writes to, given as `--settings`, hung the
/// check forever in `open` (the old PASS stood), and `--settings /dev/zero`
/// was read up to the general 1 GiB input limit. A writer-less FIFO now
/// reads as empty at once and a contract input is bounded at 64 MiB: both
/// are a recorded FAIL naming the file. A pipe with a writer (`<(...)`) is
/// still read to its end.
#[test]
fn a_fifo_or_an_endless_device_as_a_contract_input_is_a_prompt_fail() {
    let w = World::new();
    let fifo = w.path("settings.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    // A second attack: an empty read confirmed "no archiver" (--processes)
    // and /dev/ptmx never answered. A process or mount list is never empty;
    // a character device is refused unopened.
    for (flag, input) in [
        ("--settings", s(&fifo)),
        ("--settings", "/dev/zero"),
        ("--settings", "/dev/ptmx"),
        ("--processes", s(&fifo)),
        ("--mounts", s(&fifo)),
        ("--slots", "/dev/ptmx"),
    ] {
        let o = w.ssot(&["contract", "check", flag, input, "--format", "json"]);
        assert_eq!(code(&o), 1, "{flag} {input}: {}", stderr(&o));
        let r = json(&o);
        let inv = invariant(&r, "inputs.readable");
        assert_eq!(inv["status"], "fail", "{flag} {input}: {inv:#}");
        assert!(inv["message"].as_str().unwrap().contains(input), "{inv:#}");
    }
    for args in [
        vec!["wal", "check", "--slots", "/dev/ptmx"],
        vec!["retention", "plan", "--catalog", "/dev/ptmx"],
    ] {
        let o = w.ssot(&args);
        assert!(
            (0..=3).contains(&code(&o)) && (stderr(&o) + &stdout(&o)).contains("character device"),
            "{args:?}: {} {}",
            code(&o),
            stderr(&o)
        );
    }
    // A pipe with a writer is read whole.
    let settings = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/contract/settings-clean.csv"
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "\"$0\" --state \"$1\" --now {NOW} contract check --settings <(cat {settings}) --format json"
        ))
        .arg(env!("CARGO_BIN_EXE_ssot"))
        .arg(&w.state)
        .output()
        .unwrap();
    assert!(code(&o) <= 1, "{}", stderr(&o));
    let r = json(&o);
    assert!(!ids(&r, None).contains(&"inputs.readable"), "{r:#}");
    assert_eq!(
        invariant(&r, "runtime.max_wal_size")["status"],
        "pass",
        "{r:#}"
    );
}

/// A second attack: names PostgreSQL's lexer rejects (`foo.bar.baz`, `a.`,
/// `a..b`, `a.1b`) passed as extension placeholders; PostgreSQL will not
/// start on them. They are a syntax error naming the line (a recorded FAIL).
#[test]
fn a_name_postgresql_cannot_lex_is_a_syntax_error() {
    let w = World::new();
    let data = w.path("data");
    fs::create_dir(&data).unwrap();
    let conf = data.join("postgresql.conf");
    for bad in ["foo.bar.baz = 1", "a. = 1", "a..b = 1", "a.1b = 1"] {
        fs::write(&conf, format!("max_wal_size = 4GB\n{bad}\n")).unwrap();
        let r = json(&host_check(&w, &conf, &data));
        let inv = invariant(&r, "inputs.readable");
        assert_eq!(inv["status"], "fail", "{bad}: {inv:#}");
        assert!(
            inv["message"]
                .as_str()
                .unwrap()
                .contains("expected a setting name"),
            "{bad}: {inv:#}"
        );
    }
    fs::write(
        &conf,
        "max_wal_size = 4GB\nauto_explain.log_min_duration = 3\n",
    )
    .unwrap();
    let r = json(&host_check(&w, &conf, &data));
    assert_eq!(
        invariant(&r, "conf.max_wal_size")["status"],
        "pass",
        "{r:#}"
    );
}
