//! The live probe's client: `psql`, as a subprocess.
//!
//! Why `psql` and not a client crate: it is wherever PostgreSQL is (the
//! server's own package, every postgres container image); it speaks every
//! libpq connection string, URI, service file, `.pgpass` and `PGSSL*`
//! setting exactly as the operator's own `psql` does; its answer is parsed
//! by the same code as the `psql` output ssot already reads from files; and
//! it needs no async runtime in ssot. Its bounds: `connect_timeout` (libpq),
//! `statement_timeout` (server side), and a deadline after which the process
//! is killed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::{supervise, Supervision, Unsupervised};
use crate::error::{Error, Result};
use crate::inputs::mask_dsn;
use crate::ports::Database;

/// `psql` with timeouts.
#[derive(Debug, Clone)]
pub struct PsqlClient {
    /// The `psql` program (`psql` on `PATH` unless configured).
    pub psql: PathBuf,
    /// libpq `connect_timeout`.
    pub connect_timeout: Duration,
    /// Server-side `statement_timeout`.
    pub statement_timeout: Duration,
    /// After this the `psql` process is killed.
    pub deadline: Duration,
}

impl Default for PsqlClient {
    fn default() -> Self {
        PsqlClient {
            psql: PathBuf::from("psql"),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(20),
        }
    }
}

/// The most bytes of `psql`'s answer (and of its complaint) kept: an answer
/// longer than this is refused, never read cut.
const ANSWER_MAX: usize = 64 << 20;

/// What `psql` is handed for a DSN: the connection string without its
/// secret, and what carries the secret (an environment variable, a private
/// service file that lives as long as this).
struct Handed {
    conninfo: String,
    env: Vec<(&'static str, String)>,
    _service_file: Option<tempfile::NamedTempFile>,
}

/// No secret on psql's command line (every local user can read it): a
/// password travels in a private service file, or in PGPASSWORD.
fn hand_off(dsn: &str, fail: &impl Fn(String) -> Error) -> Result<Handed> {
    let mut env = Vec::new();
    let mut service_file = None;
    let conninfo = match crate::inputs::handoff(dsn).map_err(fail)? {
        crate::inputs::Handoff::Plain(c) => c,
        crate::inputs::Handoff::Password { conninfo, password } => {
            env.push(("PGPASSWORD", password));
            conninfo
        }
        crate::inputs::Handoff::Service { name, content } => {
            let mut f = tempfile::Builder::new()
                .prefix(".ssot-pg-service.")
                .tempfile()
                .map_err(|e| fail(format!("cannot write a private service file: {e}")))?;
            std::io::Write::write_all(&mut f, content.as_bytes())
                .map_err(|e| fail(format!("cannot write a private service file: {e}")))?;
            env.push(("PGSERVICEFILE", f.path().display().to_string()));
            service_file = Some(f);
            format!("service={name}")
        }
    };
    Ok(Handed {
        conninfo,
        env,
        _service_file: service_file,
    })
}

impl PsqlClient {
    /// `psql` asked `sql` over `handed`, with the timeouts in its environment.
    fn command(&self, handed: &Handed, sql: &str) -> Command {
        let options = format!(
            "-c statement_timeout={}ms",
            self.statement_timeout.as_millis()
        );
        let mut cmd = Command::new(&self.psql);
        // --no-password: a server that asks for a password ssot was not
        // given fails at once instead of prompting on a terminal.
        cmd.args([
            "--no-psqlrc",
            "--no-password",
            "--no-align",
            "--tuples-only",
            "--quiet",
        ])
        .args([
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
            &handed.conninfo,
            "--command",
            sql,
        ])
        .env(
            "PGCONNECT_TIMEOUT",
            self.connect_timeout.as_secs().max(1).to_string(),
        )
        .env("PGOPTIONS", options)
        .env("PGAPPNAME", "ssot")
        .envs(handed.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd
    }
}

impl Database for PsqlClient {
    fn query_value(&self, dsn: &str, sql: &str) -> Result<String> {
        let server = mask_dsn(dsn);
        // The server's words and the DSN reach terminals and logs: control
        // characters (an ESC from a hostile server, a quoted newline in the
        // DSN) are escaped onto one line.
        let fail = |m: String| {
            Error::Request(crate::evidence::one_line(&format!(
                "PostgreSQL at {server}: {m}"
            )))
        };
        let handed = hand_off(dsn, &fail)?;
        // In ssot's own process group (a Ctrl-C reaches it too), killed at
        // the deadline.
        let how = Supervision {
            own_group: false,
            timeout: Some(self.deadline),
            grace: None,
            max_output: ANSWER_MAX,
        };
        let (done, status) = supervise(self.command(&handed, sql), &how, |_| {}).map_err(|e| {
            fail(match e {
                Unsupervised::Spawn(e) => format!("cannot run {}: {e}", self.psql.display()),
                Unsupervised::Wait(e) => format!("waiting for psql: {e}"),
            })
        })?;
        drop(handed);
        if done.timed_out {
            return Err(fail(format!(
                "no answer within {}s (psql was stopped)",
                self.deadline.as_secs()
            )));
        }
        if !status.success() {
            let stderr = String::from_utf8_lossy(&done.stderr);
            let why = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(fail(if why.is_empty() {
                format!("psql exited {status}")
            } else {
                why
            }));
        }
        if done.stdout_truncated {
            return Err(fail(format!(
                "psql's answer is longer than {} MiB",
                ANSWER_MAX >> 20
            )));
        }
        Ok(String::from_utf8_lossy(&done.stdout).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Instant;

    use super::*;

    /// A `psql` that runs `body` (a shell script).
    fn fake(dir: &std::path::Path, name: &str, body: &str) -> PsqlClient {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        PsqlClient {
            psql: path,
            deadline: Duration::from_secs(1),
            ..PsqlClient::default()
        }
    }

    #[test]
    fn psql_answers_complains_or_is_stopped_at_its_deadline() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let pid = dir.join("pid");
        let clients = [
            fake(dir, "answers", "echo ' 42 '"),
            fake(dir, "complains", "echo 'FATAL:  no such role' >&2; exit 2"),
            fake(dir, "silent", "exit 3"),
            fake(
                dir,
                "hangs",
                &format!("echo $$ > {}; exec sleep 30", pid.display()),
            ),
        ];
        let dsn = "host=/nowhere";
        assert_eq!(clients[0].query_value(dsn, "select 1").unwrap(), "42");
        let e = clients[1]
            .query_value(dsn, "select 1")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(": FATAL:  no such role"), "{e}");
        let e = clients[2]
            .query_value(dsn, "select 1")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with(": psql exited exit status: 3"), "{e}");
        let start = Instant::now();
        let e = clients[3]
            .query_value(dsn, "select 1")
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("no answer within 1s (psql was stopped)"), "{e}");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
        let pid: i32 = std::fs::read_to_string(&pid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err();
        assert!(gone, "psql {pid} still runs after its deadline");
    }
}
