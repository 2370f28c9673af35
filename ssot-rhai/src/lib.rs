//! # ssot-rhai
//!
//! Rhai runbooks for ssot: [`register`] installs the ssot API into a
//! `rhai::Engine` (one `#[export_module]` per concern: wal, gate, retention,
//! contract, evidence, report, time, host), [`engine`] builds the restricted
//! engine `ssot run` uses, [`run_file`] runs a runbook and [`check_file`]
//! compiles one. The API is the core's: each function converts its map
//! arguments to a core request through `rhai::serde`, calls
//! [`ssot_core::Ssot`] and returns a read-only result.
//!
//! **Gates cannot be skipped.** `gate(op, options)` takes the operation lock
//! when it allows and returns a decision whose `run(program, args)` runs a
//! command under that lock ([`ssot_core::host::run_holding`]: the command
//! inherits the lock, runs in its own process group, gets the signals
//! `ssot run` gets, and its group ends at the timeout); when it denies, it
//! throws the decision, which stops the runbook (exit 124) unless the script
//! catches it with `try`/`catch` — a callback that would swallow it (`sort`,
//! `dedup` comparers) passes it on. A decision authorises work, so it is made
//! at the real time: a `now` option or `--now` is only checked against the
//! clock ([`ssot_core::Ssot::authorizing_now`]). The plain `run(...)` refuses
//! any command that names a gated program in any word
//! ([`ssot_core::gated`]: `pg_dump`, `pg_restore`, `pg_ctl`, ..., also
//! through `sh -c`, `env`, `runuser`, `su -c`).
//!
//! **Safety.** No module imports (unless enabled), no `eval`, limits on
//! operations, call depth, expression depth, string/array/map sizes, value
//! nesting where ssot walks a value ([`MAX_DEPTH`]), the runbook's size
//! ([`ssot_core::host::RUNBOOK_MAX`]), and a wall-clock timeout that counts
//! compiling and is checked between operations. [`run_file`] runs the
//! runbook on its own thread with a large stack, so a deeply nested value
//! cannot overflow it. Every script error names the file, line and column.

mod api;
pub mod host;
mod types;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult, Module, ParseError, Position, Scope, AST};

pub use host::{Host, Level};
pub use ssot_core::gated::GATED_PROGRAMS;
pub use types::{Decision, SsotResult, Time, MAX_DEPTH};

/// The stack of the thread a runbook runs on: Rhai clones, drops and sizes
/// nested values recursively, and a value may nest as deep as
/// `Limits::max_array_size` allows. Reserved, not used: untouched pages
/// cost nothing.
pub const RUNBOOK_STACK: usize = 1 << 30;

/// `ssot run`'s exit codes that are ssot's own, as for `gate -- COMMAND`.
pub mod exit {
    /// An uncaught gate denial stopped the runbook.
    pub const GATE_DENIED: u8 = ssot_core::exit::GATE_DENIED;
    /// A script error (syntax, runtime error, a limit, the timeout): the runbook gave no verdict.
    pub const SCRIPT_ERROR: u8 = ssot_core::exit::GATE_NO_VERDICT;
}

/// What a runbook may spend.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Rhai operations (each AST node evaluated counts one).
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_levels: usize,
    /// Expression nesting (statements, functions).
    pub max_expr_depth: (usize, usize),
    /// Bytes in one string.
    pub max_string_size: usize,
    /// Items in one array.
    pub max_array_size: usize,
    /// Entries in one map.
    pub max_map_size: usize,
    /// Wall-clock time of the whole runbook, checked between operations
    /// (a running command has its own timeout: [`Host::command_timeout`]).
    pub timeout: Duration,
    /// Whether `import "file"` may load modules (from the runbook's directory).
    pub allow_imports: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 50_000_000,
            max_call_levels: 64,
            max_expr_depth: (64, 32),
            max_string_size: 16 << 20,
            max_array_size: 1_000_000,
            max_map_size: 100_000,
            timeout: Duration::from_secs(6 * 3600),
            allow_imports: false,
        }
    }
}

/// Installs the ssot API into `engine`: the modules, the result types and
/// their getters. The functions that act on a state directory find it
/// through the engine's tag, which [`engine`] sets.
pub fn register(engine: &mut Engine) {
    let mut m = Module::new();
    rhai::combine_with_exported_module!(&mut m, "time", api::time_api);
    rhai::combine_with_exported_module!(&mut m, "result", api::result_api);
    rhai::combine_with_exported_module!(&mut m, "wal", api::wal_api);
    rhai::combine_with_exported_module!(&mut m, "gate", api::gate_api);
    rhai::combine_with_exported_module!(&mut m, "retention", api::retention_api);
    rhai::combine_with_exported_module!(&mut m, "contract", api::contract_api);
    rhai::combine_with_exported_module!(&mut m, "evidence", api::evidence_api);
    rhai::combine_with_exported_module!(&mut m, "report", api::report_api);
    rhai::combine_with_exported_module!(&mut m, "host", api::host_api);
    rhai::combine_with_exported_module!(&mut m, "strict", api::strict_api);
    engine.register_global_module(m.into());
    engine.register_type_with_name::<SsotResult>("Result");
    engine.register_type_with_name::<Decision>("Decision");
    engine.register_type_with_name::<Time>("Time");
    engine.register_type_with_name::<types::Duration>("Duration");
}

/// The restricted engine of a runbook over `host`; its timeout counts from
/// `started`. Deeply nested values are cloned and dropped recursively by
/// Rhai: run it on a thread with a large stack, as [`run_file`] does.
pub fn engine(host: Rc<Host>, limits: &Limits, dir: Option<&Path>, started: Instant) -> Engine {
    let mut e = Engine::new();
    register(&mut e);
    e.set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth.0, limits.max_expr_depth.1)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_modules(if limits.allow_imports { 16 } else { 0 })
        .set_fail_on_invalid_map_property(true)
        .disable_symbol("eval");
    if limits.allow_imports {
        let base = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        e.set_module_resolver(TrustedModules { base });
    } else {
        e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    }
    let timeout = limits.timeout;
    e.on_progress(move |_| (started.elapsed() > timeout).then(|| Dynamic::from(Timeout(timeout))));
    let (info, debug) = (host.clone(), host.clone());
    e.on_print(move |s| info.log(Level::Output, s));
    e.on_debug(move |s, _, _| debug.log(Level::Info, s));
    e.set_default_tag(Dynamic::from(host::HostRef(host)));
    e
}

#[derive(Clone)]
struct Timeout(Duration);

/// `import "name"` with `--allow-imports`: `name.rhai` in the runbook's own
/// directory, read as the runbook itself is ([`ssot_core::host::read_runbook`]:
/// a regular bounded file that nobody else could have written).
struct TrustedModules {
    base: PathBuf,
}

impl rhai::ModuleResolver for TrustedModules {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<rhai::Shared<Module>, Box<EvalAltResult>> {
        let fail = |m: String| {
            Box::new(EvalAltResult::ErrorInModule(
                path.into(),
                Box::new(EvalAltResult::ErrorRuntime(m.into(), pos)),
                pos,
            ))
        };
        let rel = Path::new(path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(fail(format!(
                "{path}: a module is a name in the runbook's own directory"
            )));
        }
        let mut file = self.base.join(rel);
        if file.extension().is_none() {
            file.set_extension("rhai");
        }
        let text = ssot_core::host::read_runbook(&file).map_err(|e| fail(e.to_string()))?;
        let mut ast = engine
            .compile(text)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.into(), e.into(), pos)))?;
        ast.set_source(file.display().to_string());
        let m = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(path.into(), e, pos)))?;
        Ok(m.into())
    }
}

/// A script error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The runbook.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

fn at(file: &str, pos: Position, message: String) -> ScriptError {
    ScriptError {
        file: file.into(),
        line: pos.line(),
        column: pos.position(),
        message,
    }
}

fn parse_error(file: &str, e: ParseError) -> ScriptError {
    at(
        file,
        e.position(),
        format!("syntax error: {}", e.err_type()),
    )
}

/// How a runbook ended.
#[derive(Debug)]
pub enum Ending {
    /// It ran to its end (exit 0) or called `exit(code)`.
    Exit(u8),
    /// A gate denied and the script did not catch it; the decision's text.
    Denied(String),
    /// A script error, or a limit, or the timeout.
    Error(ScriptError),
    /// `ssot run` was sent this signal while a command ran: the signal was
    /// forwarded to the command's process group, and the runbook stopped.
    Signal(i32),
}

impl Ending {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Ending::Exit(c) => *c,
            Ending::Denied(_) => exit::GATE_DENIED,
            Ending::Error(_) => exit::SCRIPT_ERROR,
            // As a shell reports a command killed by a signal.
            Ending::Signal(sig) => u8::try_from(128 + sig).unwrap_or(exit::SCRIPT_ERROR),
        }
    }
}

/// Compiles `path` with the runbook engine, without running it.
pub fn check_file(path: &Path) -> Result<(), ScriptError> {
    let file = path.display().to_string();
    let text = read(path)?;
    let mut e = Engine::new();
    register(&mut e);
    let limits = Limits::default();
    e.set_max_expr_depths(limits.max_expr_depth.0, limits.max_expr_depth.1)
        .disable_symbol("eval");
    e.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
    e.compile(&text)
        .map(|_| ())
        .map_err(|err| parse_error(&file, err))
}

/// Reads a runbook as ssot reads its own files: a regular file only (a FIFO
/// is refused at once), bounded, UTF-8, owned by root or the running user
/// and not writable by others ([`ssot_core::host::read_runbook`]).
fn read(path: &Path) -> Result<String, ScriptError> {
    ssot_core::host::read_runbook(path).map_err(|e| ScriptError {
        file: path.display().to_string(),
        line: None,
        column: None,
        message: format!("cannot run it: {e}"),
    })
}

/// The innermost error of a chain of function calls, with the outermost
/// position that has a line (where the runbook called into it).
fn innermost(e: &EvalAltResult) -> (&EvalAltResult, Position) {
    let mut cur = e;
    let mut pos = e.position();
    while let EvalAltResult::ErrorInFunctionCall(_, _, inner, p) = cur {
        if pos.is_none() {
            pos = *p;
        }
        cur = inner;
    }
    if pos.is_none() {
        pos = cur.position();
    }
    (cur, pos)
}

/// A finished [`run_file`]: how the runbook ended, and its host back (none
/// when the runbook's thread could not hand it back: a timeout while
/// compiling, or a panic).
pub struct Ran {
    /// How it ended.
    pub ending: Ending,
    /// The host it ran over.
    pub host: Option<Host>,
}

enum Progress {
    Compiled,
    Done(Ending, Option<Box<Host>>),
}

/// Runs the runbook `path` over `host`, with `args` in the scope as the
/// constant map `args`, on its own thread ([`RUNBOOK_STACK`]). The timeout
/// counts from now, compiling included: a runbook that compiles longer than
/// its timeout is abandoned (its thread ends when the compiler returns).
pub fn run_file(path: &Path, host: Host, limits: &Limits, args: BTreeMap<String, String>) -> Ran {
    let started = Instant::now();
    let mut host = host;
    host.deadline = started.checked_add(limits.timeout);
    let file = path.display().to_string();
    let (tx, rx) = mpsc::channel();
    let cancelled = Arc::new(AtomicBool::new(false));
    let worker = {
        let (path, limits, cancelled) = (path.to_path_buf(), limits.clone(), cancelled.clone());
        std::thread::Builder::new()
            .name("runbook".into())
            .stack_size(RUNBOOK_STACK)
            .spawn(move || {
                let host = Rc::new(host);
                let text = match read(&path) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = tx.send(Progress::Done(Ending::Error(e), None));
                        return;
                    }
                };
                let engine = engine(host.clone(), &limits, path.parent(), started);
                let file = path.display().to_string();
                let ast = engine.compile(&text);
                let _ = tx.send(Progress::Compiled);
                if cancelled.load(Ordering::SeqCst) {
                    return;
                }
                let ending = match ast {
                    Ok(ast) => run_ast(&engine, &ast, &host, &file, args),
                    Err(e) => Ending::Error(parse_error(&file, e)),
                };
                drop(engine);
                let host = Rc::try_unwrap(host).ok().map(Box::new);
                let _ = tx.send(Progress::Done(ending, host));
            })
    };
    if let Err(e) = worker {
        return Ran {
            ending: Ending::Error(at(
                &file,
                Position::NONE,
                format!("cannot start the runbook's thread: {e}"),
            )),
            host: None,
        };
    }
    let lost = || {
        Ending::Error(at(
            &file,
            Position::NONE,
            "the runbook's thread failed".into(),
        ))
    };
    match rx.recv_timeout(limits.timeout.saturating_sub(started.elapsed())) {
        Ok(Progress::Compiled) => {}
        Ok(Progress::Done(ending, host)) => {
            return Ran {
                ending,
                host: host.map(|h| *h),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            cancelled.store(true, Ordering::SeqCst);
            return Ran {
                ending: Ending::Error(at(
                    &file,
                    Position::NONE,
                    format!(
                        "the runbook did not even compile within its timeout ({}s) and was abandoned",
                        limits.timeout.as_secs()
                    ),
                )),
                host: None,
            };
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Ran {
                ending: lost(),
                host: None,
            }
        }
    }
    match rx.recv() {
        Ok(Progress::Done(ending, host)) => Ran {
            ending,
            host: host.map(|h| *h),
        },
        _ => Ran {
            ending: lost(),
            host: None,
        },
    }
}

/// Evaluates a compiled runbook.
fn run_ast(
    engine: &Engine,
    ast: &AST,
    host: &Rc<Host>,
    file: &str,
    args: BTreeMap<String, String>,
) -> Ending {
    let args: rhai::Map = args
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let mut scope = Scope::new();
    scope.push_constant("args", args);
    let result = engine.run_ast_with_scope(&mut scope, ast);
    // The locks a runbook holds end with it.
    drop(scope);
    let Err(e) = result else {
        return Ending::Exit(0);
    };
    let (inner, pos) = innermost(&e);
    match inner {
        EvalAltResult::ErrorTerminated(v, _) => {
            if let Some(x) = v.read_lock::<api::Exit>() {
                return Ending::Exit(u8::try_from(x.0).unwrap_or(exit::SCRIPT_ERROR));
            }
            if let Some(sig) = v.read_lock::<api::Interrupted>() {
                return Ending::Signal(sig.0);
            }
            if let Some(t) = v.read_lock::<Timeout>() {
                return Ending::Error(at(
                    file,
                    pos,
                    format!(
                        "the runbook ran longer than its timeout ({}s) and was stopped",
                        t.0.as_secs()
                    ),
                ));
            }
            Ending::Error(at(file, pos, "terminated".into()))
        }
        EvalAltResult::ErrorRuntime(v, _) if v.is::<Decision>() => {
            let text = v
                .read_lock::<Decision>()
                .map(|d| d.result.text())
                .unwrap_or_default();
            host.log(
                Level::Error,
                &format!(
                    "{file}:{}: a gate denied and the runbook did not handle it; it stops",
                    pos.line().unwrap_or(0)
                ),
            );
            Ending::Denied(text)
        }
        EvalAltResult::ErrorRuntime(v, _) => {
            Ending::Error(at(file, pos, format!("runtime error: {v}")))
        }
        other => Ending::Error(at(file, pos, other.to_string())),
    }
}
