//! What a runbook may use of the host, explicit and logged: the `Ssot` it
//! runs over, the clock (or the fixed `--now`), its arguments, the log, and
//! running a program with a timeout.

use std::cell::RefCell;
use std::io::Read;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ssot_core::Ssot;

/// Log levels of a runbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `print`: the runbook's output (the CLI writes it to stdout).
    Output,
    /// `log_info`.
    Info,
    /// `log_warn`.
    Warn,
    /// `log_error`.
    Error,
}

impl Level {
    /// `info`, `warn`, `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Output => "output",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Where log lines go.
pub type LogSink = Box<dyn Fn(Level, &str)>;

/// The runbook's host: shared by every function the engine calls.
pub struct Host {
    /// The ssot the runbook runs over.
    pub ssot: Ssot,
    /// The fixed time of every evaluation (`--now`), if given.
    pub now: Option<DateTime<Utc>>,
    /// How long one `run(...)` may take.
    pub command_timeout: Duration,
    /// The most bytes of a command's stdout or stderr kept.
    pub max_output: usize,
    log: LogSink,
    lines: RefCell<Vec<(Level, String)>>,
}

/// The host as the engine keeps it (in its tag).
#[derive(Clone)]
pub struct HostRef(pub Rc<Host>);

impl Host {
    /// A host over `ssot`, logging to `log`.
    pub fn new(ssot: Ssot, now: Option<DateTime<Utc>>, log: LogSink) -> Host {
        Host {
            ssot,
            now,
            command_timeout: Duration::from_secs(6 * 3600),
            max_output: 16 << 20,
            log,
            lines: RefCell::new(Vec::new()),
        }
    }

    /// `--now`, else the clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(|| self.ssot.now())
    }

    /// Logs a line (and keeps it: `lines()`).
    pub fn log(&self, level: Level, message: &str) {
        (self.log)(level, message);
        self.lines.borrow_mut().push((level, message.to_string()));
    }

    /// Every line logged so far.
    pub fn lines(&self) -> Vec<(Level, String)> {
        self.lines.borrow().clone()
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutput {
    /// Exit code; `-1` when killed by a signal.
    pub code: i64,
    /// Standard output (at most `max_output` bytes, lossy UTF-8).
    pub stdout: String,
    /// Standard error (likewise).
    pub stderr: String,
    /// Seconds it ran.
    pub duration: f64,
}

/// Reads `r` into `out` (at most `max` bytes kept; reading goes on past the
/// cap so the writer never blocks on a full pipe) until end of file.
fn read_capped(mut r: impl Read, max: usize, out: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut o) = out.lock() {
                    let room = max.saturating_sub(o.len());
                    o.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
    }
}

/// How long output is still collected after the command exited: a daemon
/// it started (`pg_ctl start` without `--log`) may keep the pipes open.
const DRAIN: Duration = Duration::from_millis(500);

/// Runs `program` with `args` (no shell), waiting at most `timeout`; a
/// command still running then is killed and reported as an error.
pub fn run_command(
    program: &str,
    args: &[String],
    timeout: Duration,
    max_output: usize,
) -> Result<CommandOutput, String> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let (out, err) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let readers = [
        child.stdout.take().map(|s| {
            let o = out.clone();
            std::thread::spawn(move || read_capped(s, max_output, o))
        }),
        child.stderr.take().map(|s| {
            let e = err.clone();
            std::thread::spawn(move || read_capped(s, max_output, e))
        }),
    ];
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not finish within {}s and was killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    // Wait for the pipes to close, but not for a daemon that inherited them.
    let exited = Instant::now();
    for r in readers.into_iter().flatten() {
        while !r.is_finished() && exited.elapsed() < DRAIN {
            std::thread::sleep(Duration::from_millis(5));
        }
        if r.is_finished() {
            let _ = r.join();
        }
    }
    let text = |b: &Arc<Mutex<Vec<u8>>>| {
        b.lock()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .unwrap_or_default()
    };
    Ok(CommandOutput {
        code: status.code().map(i64::from).unwrap_or(-1),
        stdout: text(&out),
        stderr: text(&err),
        duration: start.elapsed().as_secs_f64(),
    })
}
