//! Secrets and special files (issue "Gates that hold on every surface"):
//! DSN passwords in every spelling libpq accepts reached `wal.status`, the
//! report, the ConfigMap and `config show`; `psql` could prompt for a
//! password; `report --output` replaced a FIFO, a device or a symlink.

use std::fs;
use std::os::unix::fs::FileTypeExt;

use super::*;

/// Every spelling of a secret libpq accepts, each with a server that is not
/// there (so the probe fails and its error is recorded too).
fn dsns(w: &World) -> Vec<String> {
    let sock = w.path("no-server");
    let host = s(&sock);
    vec![
        format!("host={host} user=ssot password = hunter2x dbname=app"),
        format!("host={host} user=ssot password='hunter2x is long' dbname=app"),
        format!("host={host} user=ssot sslpassword=hunter2x dbname=app"),
        format!("host = '{host}' password=hunter2x"),
        "postgresql://ssot:hunter2x@/app?host=/nonexistent/dir".to_string(),
        "postgresql://ssot@/app?host=/nonexistent/dir&sslpassword=hunter2x".to_string(),
        "postgresql://ssot@/app?host=/nonexistent/dir&password=hunter2x".to_string(),
    ]
}

fn no_secret_in(what: &str, text: &str) {
    assert!(
        !text.contains("hunter2x") && !text.contains("hunter2x%20is"),
        "{what} shows the password: {text}"
    );
}

#[test]
fn no_password_reaches_anything_ssot_writes_or_prints() {
    let w = World::new();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    for dsn in dsns(&w) {
        let o = w.ssot(&[
            "wal",
            "check",
            "--pgdata",
            s(&pgdata),
            "--dsn",
            &dsn,
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 2, "{dsn}: {}", stderr(&o));
        no_secret_in("wal check", &stdout(&o));
        no_secret_in("wal check's stderr", &stderr(&o));
        let v = json(&o);
        assert_eq!(v["reasons"][0]["rule"], "postgres_unreachable", "{dsn}");
        no_secret_in(
            "wal.status",
            &fs::read_to_string(w.state.join("wal.status")).unwrap(),
        );
        for format in ["json", "text", "prometheus", "configmap"] {
            let o = w.ssot(&["report", "--dsn", &dsn, "--format", format]);
            no_secret_in(&format!("report --format {format}"), &stdout(&o));
        }
        let o = w.ssot(&["contract", "check", "--dsn", &dsn]);
        no_secret_in("contract check", &stdout(&o));
        no_secret_in(
            "contract.status",
            &fs::read_to_string(w.state.join("contract.status")).unwrap_or_default(),
        );
        let cfg = w.path("ssot.toml");
        fs::write(&cfg, format!("[postgres]\ndsn = {}\n", toml_string(&dsn))).unwrap();
        for format in ["text", "json"] {
            let o = w.ssot(&["--config", s(&cfg), "config", "show", "--format", format]);
            assert_eq!(code(&o), 0, "{}", stderr(&o));
            no_secret_in("config show", &stdout(&o));
        }
    }
    let log = fs::read_to_string(w.state.join("gate.log")).unwrap_or_default();
    no_secret_in("gate.log", &log);
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The server is named by host, port, dbname and user, as libpq reads them.
#[test]
fn the_server_is_named_without_its_secrets() {
    let w = World::new();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let dsn = format!(
        "host={} port=5433 user=o\\'brien password='a b' dbname='my db'",
        s(&w.path("nope"))
    );
    let o = w.ssot(&[
        "wal",
        "check",
        "--pgdata",
        s(&pgdata),
        "--dsn",
        &dsn,
        "--format",
        "json",
    ]);
    let m = json(&o)["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        m.contains(&format!(
            "host={} port=5433 dbname='my db' user='o\\'brien'",
            s(&w.path("nope"))
        )),
        "{m}"
    );
    assert!(!m.contains("password") && !m.contains("a b"), "{m}");
}

/// `psql` runs with `--no-password` (a server that wants a password ssot
/// was not given fails at once instead of prompting on a terminal), and no
/// secret is on its command line, which every local user can read in
/// `/proc/PID/cmdline`: it travels in a private service file.
#[test]
fn psql_never_prompts_and_never_carries_a_secret_on_its_command_line() {
    let w = World::new();
    let bin = w.path("bin");
    fs::create_dir(&bin).unwrap();
    let seen = w.path("psql-saw");
    let fake = bin.join("psql");
    fs::write(
        &fake,
        format!(
            "#!/bin/sh\n{{ printf 'ARG %s\\n' \"$@\"; echo \"FILE $PGSERVICEFILE $(stat -c %a \"$PGSERVICEFILE\")\"; cat \"$PGSERVICEFILE\"; }} > {}\necho 'no password supplied' >&2\nexit 2\n",
            seen.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let pgdata = w.path("pgdata");
    fs::create_dir_all(pgdata.join("pg_wal")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for dsn in [
        "host=/x user=ssot password=hunter2x sslpassword=k3yk3yk3y",
        "postgresql://ssot:hunter2x@/app?host=/x&sslpassword=k3yk3yk3y",
    ] {
        let o = ssot()
            .env("PATH", &path)
            .args([
                "--state",
                s(&w.state),
                "wal",
                "check",
                "--pgdata",
                s(&pgdata),
                "--dsn",
                dsn,
            ])
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        let saw = fs::read_to_string(&seen).unwrap();
        let args: Vec<&str> = saw.lines().filter_map(|l| l.strip_prefix("ARG ")).collect();
        assert!(
            args.contains(&"--no-password"),
            "psql was started without --no-password: {saw}"
        );
        for a in &args {
            assert!(
                !a.contains("hunter2x") && !a.contains("k3yk3y"),
                "a secret on psql's command line: {a}"
            );
        }
        assert!(args.contains(&"service=ssot_probe"), "{saw}");
        assert!(
            saw.contains("FILE ") && saw.contains(" 600\n"),
            "a private service file: {saw}"
        );
        assert!(
            saw.contains("password=hunter2x\n") && saw.contains("sslpassword=k3yk3yk3y\n"),
            "the secrets still reach psql: {saw}"
        );
    }
    // The real psql reads the service file: its error names the host that came through it.
    if std::process::Command::new("psql")
        .arg("--version")
        .output()
        .is_ok()
    {
        let sock = w.path("no-server");
        let o = w.ssot(&[
            "wal",
            "check",
            "--pgdata",
            s(&pgdata),
            "--dsn",
            &format!("host={} password=hunter2x", s(&sock)),
            "--format",
            "json",
        ]);
        let m = json(&o)["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(m.contains(&format!("{}/.s.PGSQL", s(&sock))), "{m}");
    }
}

/// `report --output` used to replace whatever was at the path with a regular
/// file: a FIFO, a symlink (a file elsewhere), a device node (as root,
/// `--output /dev/null` would replace the real one).
#[test]
fn report_output_writes_only_a_regular_file_or_a_new_path() {
    let w = World::new();
    let fifo = w.path("out.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let target = victim(&w.root);
    let link = w.path("out.link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mut cases = vec![(fifo.clone(), "a FIFO"), (link.clone(), "a symbolic link")];
    let dev = w.path("null");
    let made_device = nix::sys::stat::mknod(
        &dev,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .is_ok();
    if made_device {
        cases.push((dev.clone(), "a character device"));
    }
    for (path, what) in &cases {
        let o = w.ssot(&["report", "--format", "prometheus", "--output", s(path)]);
        assert_eq!(code(&o), 3, "{what}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(s(path)) && stderr(&o).contains(what),
            "{what}: {}",
            stderr(&o)
        );
    }
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_victim_intact(&target);
    if made_device {
        assert!(fs::symlink_metadata(&dev)
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // A new path and an existing regular file are written.
    let out = w.path("ssot.prom");
    for _ in 0..2 {
        let o = w.ssot(&["report", "--format", "prometheus", "--output", s(&out)]);
        assert!(code(&o) <= 2, "{}", stderr(&o));
        assert!(fs::read_to_string(&out).unwrap().contains("ssot_"));
    }
}
