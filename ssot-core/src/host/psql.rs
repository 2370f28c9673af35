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

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

fn read_all(mut r: impl Read) -> String {
    let mut buf = Vec::new();
    let _ = r.by_ref().take(64 << 20).read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
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
        let options = format!(
            "-c statement_timeout={}ms",
            self.statement_timeout.as_millis()
        );
        // No secret on psql's command line (every local user can read it):
        // a password travels in a private service file, or in PGPASSWORD.
        let mut env: Vec<(&str, String)> = Vec::new();
        let mut service_file = None;
        let conninfo = match crate::inputs::handoff(dsn).map_err(&fail)? {
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
        let mut child = Command::new(&self.psql)
            // --no-password: a server that asks for a password ssot was not
            // given fails at once instead of prompting on a terminal.
            .args([
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
                &conninfo,
                "--command",
                sql,
            ])
            .env(
                "PGCONNECT_TIMEOUT",
                self.connect_timeout.as_secs().max(1).to_string(),
            )
            .env("PGOPTIONS", options)
            .env("PGAPPNAME", "ssot")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", self.psql.display())))?;
        let out = child
            .stdout
            .take()
            .map(|s| std::thread::spawn(move || read_all(s)));
        let err = child
            .stderr
            .take()
            .map(|s| std::thread::spawn(move || read_all(s)));
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if start.elapsed() > self.deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!(
                        "no answer within {}s (psql was stopped)",
                        self.deadline.as_secs()
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(fail(format!("waiting for psql: {e}"))),
            }
        };
        let join = |h: Option<std::thread::JoinHandle<String>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        let (stdout, stderr) = (join(out), join(err));
        drop(service_file);
        if !status.success() {
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
        Ok(stdout.trim().to_string())
    }
}
