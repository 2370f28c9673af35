//! What a runbook may use of the host, explicit and logged: the `Ssot` it
//! runs over, the clock (or the fixed `--now` of evaluations), its
//! arguments, the log, and running a program with a timeout.

use std::cell::RefCell;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ssot_core::ports::Held;
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

/// Where log lines go (the runbook runs on its own thread: [`crate::run_file`]).
pub type LogSink = Box<dyn Fn(Level, &str) + Send>;

/// The runbook's host: shared by every function the engine calls.
pub struct Host {
    /// The ssot the runbook runs over.
    pub ssot: Ssot,
    /// The fixed time of every evaluation (`--now`), if given. A decision
    /// that authorises work (a gate, an apply) only checks it against the
    /// real clock ([`Ssot::authorizing_now`]).
    pub now: Option<DateTime<Utc>>,
    /// How long one `run(...)` may take; then its whole process group is ended.
    pub command_timeout: Duration,
    /// When the whole runbook must have ended ([`crate::run_file`] sets it
    /// from `Limits::timeout`): a command is ended then too.
    pub deadline: Option<std::time::Instant>,
    /// The most bytes of a command's stdout or stderr kept.
    pub max_output: usize,
    /// Keep every logged line in memory ([`Host::lines`]); off by default:
    /// lines go to the sink as they are logged and are not kept.
    pub keep_lines: bool,
    log: LogSink,
    lines: RefCell<Vec<(Level, String)>>,
}

/// The host as the engine keeps it (in its tag).
#[derive(Clone)]
pub struct HostRef(pub std::rc::Rc<Host>);

impl Host {
    /// A host over `ssot`, logging to `log`.
    pub fn new(ssot: Ssot, now: Option<DateTime<Utc>>, log: LogSink) -> Host {
        Host {
            ssot,
            now,
            command_timeout: Duration::from_secs(6 * 3600),
            deadline: None,
            max_output: 16 << 20,
            keep_lines: false,
            log,
            lines: RefCell::new(Vec::new()),
        }
    }

    /// `--now`, else the clock: the time of evaluations.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(|| self.ssot.now())
    }

    /// Logs a line (and keeps it when `keep_lines`).
    pub fn log(&self, level: Level, message: &str) {
        (self.log)(level, message);
        if self.keep_lines {
            self.lines.borrow_mut().push((level, message.to_string()));
        }
    }

    /// Every line logged so far (only when `keep_lines`).
    pub fn lines(&self) -> Vec<(Level, String)> {
        self.lines.borrow().clone()
    }

    /// Runs `argv` under `lock` (if any) with the runbook's timeout and
    /// output cap: [`ssot_core::host::run_holding`], so the command holds the
    /// lock, runs in its own process group, gets the signals `ssot run` gets,
    /// and its whole group ends at the timeout.
    pub fn run(
        &self,
        lock: Option<&Held>,
        argv: &[String],
    ) -> Result<ssot_core::host::Finished, ssot_core::host::ExecFailure> {
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let opts = ssot_core::host::RunOptions {
            timeout: Some(left.map_or(self.command_timeout, |l| l.min(self.command_timeout))),
            max_output: self.max_output,
            ..ssot_core::host::RunOptions::default()
        };
        ssot_core::host::run_holding(lock, argv, &opts)
    }
}
