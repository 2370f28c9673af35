//! Running a gated command with the operation lock.

use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};

use crate::error::Error;
use crate::ports::Held;

/// Why [`exec_holding`] returned (it returns only when the exec failed).
#[derive(Debug)]
pub enum ExecFailure {
    /// The program was not found.
    NotFound(String),
    /// The program exists but could not be executed (permissions, format, ...).
    CannotExecute(String),
    /// The lock could not be handed over.
    Lock(Error),
}

impl ExecFailure {
    /// `127` not found, `126` cannot execute, `125` the lock could not be handed over.
    pub fn exit_code(&self) -> u8 {
        match self {
            ExecFailure::NotFound(_) => crate::exit::NOT_FOUND,
            ExecFailure::CannotExecute(_) => crate::exit::CANNOT_EXECUTE,
            ExecFailure::Lock(_) => crate::exit::GATE_NO_VERDICT,
        }
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
    match e.kind() {
        std::io::ErrorKind::NotFound => ExecFailure::NotFound(format!("{program}: {e}")),
        _ => ExecFailure::CannotExecute(format!("{program}: {e}")),
    }
}
