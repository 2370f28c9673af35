//! Running a gated command with the operation lock.
//!
//! Two ways, one guarantee — *a gated command never outlives its lock*:
//!
//! * [`exec_holding`] (the CLI's `ssot gate OP -- COMMAND`): ssot replaces
//!   itself with the command, which keeps the lock's descriptor open. There
//!   is no wrapper left: every signal sent to the pid reaches the command.
//! * [`run_holding`] (Rhai's `decision.run`, Python's `Hold.run`, and the
//!   runbooks' plain `run`): the command is a child, and
//!   - it inherits the lock's descriptor, so the lock (an `flock` on one open
//!     file description) lives exactly as long as the command and anything it
//!     forks that keeps the descriptor — even if the runner itself is killed
//!     with SIGKILL;
//!   - it runs in its own process group, and every SIGTERM, SIGINT and SIGHUP
//!     the runner receives while it runs is forwarded to that whole group
//!     ([`Finished::forwarded`] tells the runner to end too);
//!   - a timeout ends the whole group: SIGTERM, then SIGKILL after a grace
//!     period, and SIGKILL again to whatever of the group is left once the
//!     command itself has ended.

use std::io::{IsTerminal, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::libc;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::error::Error;
use crate::ports::Held;

/// Why a command could not be started ([`exec_holding`] returns only then).
#[derive(Debug)]
pub enum ExecFailure {
    /// The program was not found.
    NotFound(String),
    /// The program exists but could not be executed (permissions, format, ...).
    CannotExecute(String),
    /// The lock could not be handed over.
    Lock(Error),
    /// The file the command's output was to go to could not be opened.
    Output(String),
}

impl ExecFailure {
    /// `127` not found, `126` cannot execute (or its output cannot be written),
    /// `125` the lock could not be handed over.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExecFailure::NotFound(_) => crate::exit::NOT_FOUND,
            ExecFailure::CannotExecute(_) => crate::exit::CANNOT_EXECUTE,
            ExecFailure::Lock(_) => crate::exit::GATE_NO_VERDICT,
            ExecFailure::Output(_) => crate::exit::CANNOT_EXECUTE,
        }
    }
}

impl std::fmt::Display for ExecFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecFailure::NotFound(m) => write!(f, "not found: {m}"),
            ExecFailure::CannotExecute(m) => write!(f, "cannot be executed: {m}"),
            ExecFailure::Lock(e) => write!(f, "the operation lock could not be handed over: {e}"),
            ExecFailure::Output(m) => write!(f, "its output cannot be written: {m}"),
        }
    }
}

fn spawn_failure(program: &str, e: std::io::Error) -> ExecFailure {
    match e.kind() {
        std::io::ErrorKind::NotFound => ExecFailure::NotFound(format!("{program}: {e}")),
        _ => ExecFailure::CannotExecute(format!("{program}: {e}")),
    }
}

/// Replaces this process with `argv` (exec), keeping the operation lock's
/// descriptor open in it. The command then runs with this process's pid and
/// holds the lock for exactly as long as it (or a child it hands the
/// descriptor to) runs; every signal sent to the pid reaches the command
/// itself. Returns only if the exec failed.
pub fn exec_holding(lock: Held, argv: &[String]) -> ExecFailure {
    let Some((program, args)) = argv.split_first() else {
        return ExecFailure::NotFound("an empty command".into());
    };
    if let Some(f) = lock.file() {
        // Keep the descriptor open across exec: the command inherits the lock.
        if let Err(e) = fcntl(f, FcntlArg::F_SETFD(FdFlag::empty())) {
            return ExecFailure::Lock(Error::io(
                "keep the operation lock open for",
                program,
                std::io::Error::from(e),
            ));
        }
    }
    // On success exec never returns and no destructor runs: the lock stays held.
    let e = Command::new(program).args(args).exec();
    drop(lock);
    spawn_failure(program, e)
}

/// How [`run_holding`] runs a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// After this long the whole process group is ended; `None`: no limit.
    pub timeout: Option<Duration>,
    /// How long a group sent SIGTERM at the timeout has before SIGKILL.
    pub grace: Duration,
    /// Capture stdout and stderr (each up to `max_output` bytes; reading
    /// goes on past the cap so the command never blocks), else the command
    /// writes to the runner's own.
    pub capture: bool,
    /// Send stdout to this file instead (created or truncated, mode 0600
    /// whatever the umask: a dump holds the database): `pg_dump > FILE`
    /// without a shell. Never through a symlink.
    pub stdout_file: Option<std::path::PathBuf>,
    /// The most bytes of each stream kept when capturing.
    pub max_output: usize,
    /// Give the command this process's stdin (`pg_restore < dump`), unless
    /// it is a terminal: the command runs in its own process group, which a
    /// terminal would stop (SIGTTIN) when it read. Otherwise /dev/null.
    pub inherit_stdin: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: None,
            grace: Duration::from_secs(10),
            capture: true,
            stdout_file: None,
            max_output: 16 << 20,
            inherit_stdin: false,
        }
    }
}

/// How a command run by [`run_holding`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Its exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Its standard output (empty unless captured), at most `max_output` bytes.
    pub stdout: Vec<u8>,
    /// True when stdout was longer than `max_output` and cut there.
    pub stdout_truncated: bool,
    /// Its standard error, likewise.
    pub stderr: Vec<u8>,
    /// True when stderr was cut.
    pub stderr_truncated: bool,
    /// How long it ran.
    pub duration: Duration,
    /// True when the timeout ended it (and its group).
    pub timed_out: bool,
    /// A signal the runner received while the command ran and forwarded to
    /// its group: the runner was asked to stop, and should stop now too.
    pub forwarded: Option<i32>,
}

impl Finished {
    /// True when stdout or stderr was cut at the cap.
    pub fn truncated(&self) -> bool {
        self.stdout_truncated || self.stderr_truncated
    }
}

/// A captured stream: the bytes kept and whether more were dropped.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads `r` into `out` (at most `max` bytes kept; reading goes on past the
/// cap so the writer never blocks on a full pipe) until end of file.
fn read_capped(mut r: impl Read, max: usize, out: Arc<Mutex<Captured>>) {
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Ok(mut o) = out.lock() {
                    let room = max.saturating_sub(o.bytes.len());
                    if n > room {
                        o.truncated = true;
                    }
                    o.bytes.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
    }
}

/// How long output is still collected after the command exited: a daemon
/// it started (`pg_ctl start` without `--log`) may keep the pipes open.
const DRAIN: Duration = Duration::from_millis(500);
/// How often the runner looks at the command, the clock and the signals.
const POLL: Duration = Duration::from_millis(5);

/// Sends `sig` to the whole group, then SIGCONT, as `timeout(1)` does: a
/// stopped process (SIGSTOP, or a read from the terminal in a background
/// group) would otherwise never see the signal until SIGKILL.
fn signal_group(group: Pid, sig: Signal) {
    let _ = killpg(group, sig);
    if sig != Signal::SIGKILL && sig != Signal::SIGCONT {
        let _ = killpg(group, Signal::SIGCONT);
    }
}

/// Runs `argv` (no shell) as a child in its own process group, holding
/// `lock` for it: see the module documentation for what is guaranteed.
/// Returns when the command itself has ended (its background children, if
/// any, keep the lock until they end). `Err` only when it could not start.
pub fn run_holding(
    lock: Option<&Held>,
    argv: &[String],
    opts: &RunOptions,
) -> Result<Finished, ExecFailure> {
    run_holding_then(lock, argv, opts, |_| {})
}

/// [`run_holding`], calling `started` with the command's pid (its process
/// group) as soon as it runs: to name it as the lock's holder, say.
pub fn run_holding_then(
    lock: Option<&Held>,
    argv: &[String],
    opts: &RunOptions,
    started: impl FnOnce(u32),
) -> Result<Finished, ExecFailure> {
    let Some(program) = argv.first() else {
        return Err(ExecFailure::NotFound("an empty command".into()));
    };
    let cmd = holding_command(lock, argv, opts)?;
    let how = Supervision {
        own_group: true,
        timeout: opts.timeout,
        grace: Some(opts.grace),
        max_output: opts.max_output,
    };
    supervise(cmd, &how, started)
        .map(|(f, _)| f)
        .map_err(|e| match e {
            Unsupervised::Spawn(e) => spawn_failure(program, e),
            Unsupervised::Wait(e) => ExecFailure::CannotExecute(format!("{program}: {e}")),
        })
}

/// The command [`run_holding`] runs: `argv` with its stdin, its output
/// (captured, or into [`RunOptions::stdout_file`]) and the lock's
/// descriptor left open across exec.
fn holding_command(
    lock: Option<&Held>,
    argv: &[String],
    opts: &RunOptions,
) -> Result<Command, ExecFailure> {
    let Some((program, args)) = argv.split_first() else {
        return Err(ExecFailure::NotFound("an empty command".into()));
    };
    let mut cmd = Command::new(program);
    let stdin = if opts.inherit_stdin && !std::io::stdin().is_terminal() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    cmd.args(args).stdin(stdin);
    if opts.capture {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    if let Some(path) = &opts.stdout_file {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .and_then(|f| {
                f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
                Ok(f)
            })
            .map_err(|e| ExecFailure::Output(format!("{}: {e}", path.display())))?;
        cmd.stdout(file);
    }
    if let Some(fd) = lock.and_then(Held::file).map(AsRawFd::as_raw_fd) {
        // SAFETY: between fork and exec only fcntl, which is async-signal-safe,
        // is called; it clears close-on-exec on the lock's descriptor in the
        // child alone, so the command inherits the lock.
        unsafe {
            cmd.pre_exec(move || {
                if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    Ok(cmd)
}

/// How [`supervise`] runs a command: the one process-with-timeout loop of
/// the host, for gated commands ([`run_holding`]), `psql` ([`super::PsqlClient`])
/// and `pg_restore` (a backup's check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Supervision {
    /// Run it in its own process group, forward SIGTERM, SIGINT and SIGHUP
    /// to that group while it runs, and end the whole group at the timeout;
    /// else it stays in ssot's group and the timeout ends the process.
    pub own_group: bool,
    /// After this long it is ended; `None`: no limit.
    pub timeout: Option<Duration>,
    /// At the timeout: SIGTERM, then SIGKILL this much later; `None`:
    /// SIGKILL at once.
    pub grace: Option<Duration>,
    /// The most bytes kept of each piped stream (reading goes on past it).
    pub max_output: usize,
}

/// Why [`supervise`] has no [`Finished`].
#[derive(Debug)]
pub(crate) enum Unsupervised {
    /// The command could not be started.
    Spawn(std::io::Error),
    /// It could not be waited for (it was killed and reaped, if possible).
    Wait(std::io::Error),
}

/// Spawns `cmd` (its stdin and stdout/stderr as the caller set them; the
/// piped ones are read, each up to `max_output` bytes) and waits for it
/// under `how`, calling `started` with its pid once it runs. Returns when
/// the command itself has ended, its output collected (a daemon it started
/// that keeps the pipes open is not waited for beyond [`DRAIN`]), with its
/// exit status as the OS said it.
pub(crate) fn supervise(
    mut cmd: Command,
    how: &Supervision,
    started: impl FnOnce(u32),
) -> Result<(Finished, std::process::ExitStatus), Unsupervised> {
    if how.own_group {
        cmd.process_group(0);
    }
    // From here on a TERM/INT/HUP to the runner is counted, not fatal: one
    // that arrives while the command starts is forwarded as soon as it runs.
    let mut forwarding = how.own_group.then(forward::Forwarding::start);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(Unsupervised::Spawn)?;
    let target = Target {
        pid: Pid::from_raw(child.id() as i32),
        group: how.own_group,
    };
    started(child.id());
    let readers = Readers::start(&mut child, how.max_output);
    let waited = wait_for(&mut child, target, how, forwarding.as_mut(), start)?;
    let duration = start.elapsed();
    if waited.timed_out && target.group {
        // Whatever of the group outlived the command (or ignored SIGTERM).
        let _ = killpg(target.pid, Signal::SIGKILL);
    }
    drop(forwarding);
    let ((stdout, stdout_truncated), (stderr, stderr_truncated)) = readers.finish();
    let finished = Finished {
        code: waited.status.code(),
        signal: waited.status.signal(),
        stdout,
        stdout_truncated,
        stderr,
        stderr_truncated,
        duration,
        timed_out: waited.timed_out,
        forwarded: waited.forwarded,
    };
    Ok((finished, waited.status))
}

/// What a supervised command's signals go to: its process group, or the
/// process alone.
#[derive(Debug, Clone, Copy)]
struct Target {
    pid: Pid,
    group: bool,
}

impl Target {
    /// Sends `sig` (to the group: then SIGCONT too, see [`signal_group`]).
    fn signal(self, sig: Signal) {
        if self.group {
            signal_group(self.pid, sig);
        } else {
            let _ = nix::sys::signal::kill(self.pid, sig);
        }
    }
}

/// How the wait ended.
struct Waited {
    status: std::process::ExitStatus,
    timed_out: bool,
    forwarded: Option<i32>,
}

/// Polls `child` until it ends: forwards the signals the runner received,
/// and at the timeout sends SIGTERM (SIGKILL after the grace) or SIGKILL.
fn wait_for(
    child: &mut std::process::Child,
    target: Target,
    how: &Supervision,
    mut forwarding: Option<&mut forward::Forwarding>,
    start: Instant,
) -> Result<Waited, Unsupervised> {
    let mut forwarded = None;
    let mut timed_out = false;
    let mut terminated_at: Option<Instant> = None;
    loop {
        for sig in forwarding
            .as_mut()
            .map(|f| f.received())
            .unwrap_or_default()
        {
            target.signal(sig);
            forwarded = Some(sig as i32);
        }
        match child.try_wait() {
            Ok(Some(status)) => {
                return Ok(Waited {
                    status,
                    timed_out,
                    forwarded,
                })
            }
            Ok(None) => {}
            Err(_) => {
                // Cannot wait (should not happen): end it, then reap.
                target.signal(Signal::SIGKILL);
                let status = child.wait().map_err(Unsupervised::Wait)?;
                return Ok(Waited {
                    status,
                    timed_out,
                    forwarded,
                });
            }
        }
        if let Some(limit) = how.timeout {
            if !timed_out && start.elapsed() >= limit {
                timed_out = true;
                terminated_at = Some(Instant::now());
                target.signal(how.grace.map_or(Signal::SIGKILL, |_| Signal::SIGTERM));
            }
        }
        if let (Some(t), Some(grace)) = (terminated_at, how.grace) {
            if t.elapsed() >= grace {
                terminated_at = None;
                target.signal(Signal::SIGKILL);
            }
        }
        std::thread::sleep(POLL);
    }
}

/// The threads reading a child's piped stdout and stderr.
struct Readers {
    out: Arc<Mutex<Captured>>,
    err: Arc<Mutex<Captured>>,
    threads: [Option<std::thread::JoinHandle<()>>; 2],
}

impl Readers {
    /// Starts reading whichever of `child`'s stdout and stderr are pipes.
    fn start(child: &mut std::process::Child, max: usize) -> Readers {
        let (out, err) = (
            Arc::new(Mutex::new(Captured::default())),
            Arc::new(Mutex::new(Captured::default())),
        );
        let threads = [
            child.stdout.take().map(|s| {
                let o = out.clone();
                std::thread::spawn(move || read_capped(s, max, o))
            }),
            child.stderr.take().map(|s| {
                let e = err.clone();
                std::thread::spawn(move || read_capped(s, max, e))
            }),
        ];
        Readers { out, err, threads }
    }

    /// What was read: waits for the pipes to close, but not for a daemon
    /// that inherited them (at most [`DRAIN`] after the command exited).
    fn finish(self) -> ((Vec<u8>, bool), (Vec<u8>, bool)) {
        let exited = Instant::now();
        for r in self.threads.into_iter().flatten() {
            while !r.is_finished() && exited.elapsed() < DRAIN {
                std::thread::sleep(POLL);
            }
            if r.is_finished() {
                let _ = r.join();
            }
        }
        let take = |c: &Arc<Mutex<Captured>>| {
            c.lock()
                .map(|mut c| (std::mem::take(&mut c.bytes), c.truncated))
                .unwrap_or_default()
        };
        (take(&self.out), take(&self.err))
    }
}

/// Forwarding of SIGTERM, SIGINT and SIGHUP while a command runs.
///
/// While at least one [`Forwarding`] exists, the process counts those
/// signals instead of taking their previous action; each runner forwards
/// what it has not seen yet to its command's group. When the last one ends,
/// the previous actions (the default, Python's handler, ...) are restored
/// exactly. A signal the process ignored (`nohup`) stays ignored and is not
/// forwarded.
mod forward {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    use nix::libc;
    use nix::sys::signal::Signal;

    const SIGNALS: [Signal; 3] = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP];
    static COUNTS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

    /// How many runners forward, and the actions they replaced.
    struct Installed {
        runners: usize,
        previous: [Option<libc::sigaction>; 3],
    }

    static INSTALLED: Mutex<Installed> = Mutex::new(Installed {
        runners: 0,
        previous: [None, None, None],
    });

    extern "C" fn on_signal(sig: libc::c_int) {
        // Async-signal-safe: one atomic increment.
        for (i, s) in SIGNALS.iter().enumerate() {
            if *s as libc::c_int == sig {
                COUNTS[i].fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// One runner's view of the signals.
    pub struct Forwarding {
        seen: [u64; 3],
    }

    impl Forwarding {
        /// Starts counting (installing the handler if no runner has yet).
        pub fn start() -> Forwarding {
            let mut g = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
            if g.runners == 0 {
                for (i, s) in SIGNALS.iter().enumerate() {
                    g.previous[i] = install(*s);
                }
            }
            g.runners += 1;
            Forwarding {
                seen: std::array::from_fn(|i| COUNTS[i].load(Ordering::SeqCst)),
            }
        }

        /// The signals received since the last call (each kind once).
        pub fn received(&mut self) -> Vec<Signal> {
            let mut out = Vec::new();
            for (i, s) in SIGNALS.iter().enumerate() {
                let now = COUNTS[i].load(Ordering::SeqCst);
                if now != self.seen[i] {
                    self.seen[i] = now;
                    out.push(*s);
                }
            }
            out
        }
    }

    impl Drop for Forwarding {
        fn drop(&mut self) {
            let mut g = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
            g.runners = g.runners.saturating_sub(1);
            if g.runners == 0 {
                for (i, s) in SIGNALS.iter().enumerate() {
                    if let Some(prev) = g.previous[i].take() {
                        // SAFETY: restores the action saved by `install`.
                        unsafe { libc::sigaction(*s as libc::c_int, &prev, std::ptr::null_mut()) };
                    }
                }
            }
        }
    }

    /// Installs the counting handler for `sig` unless the process ignores
    /// it; returns the action it replaced.
    fn install(sig: Signal) -> Option<libc::sigaction> {
        // SAFETY: plain sigaction calls with valid pointers; the handler is
        // async-signal-safe.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig as libc::c_int, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                return None;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            new.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut new.sa_mask);
            if libc::sigaction(sig as libc::c_int, &new, &mut old) != 0 {
                return None;
            }
            Some(old)
        }
    }
}

/// Sends `sig` to this process (after a runner forwarded it to its command
/// and restored the process's own action for it): the process then ends, or
/// handles it, as it would have without ssot in between. Returns if it does
/// neither (the signal is handled by the caller, or not a signal).
pub fn reraise(sig: i32) {
    if let Ok(s) = Signal::try_from(sig) {
        let _ = nix::sys::signal::raise(s);
    }
}
