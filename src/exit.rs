//! The exit-code tables shown in `--help`. The codes themselves, and which
//! result gives which, are `ssot_core::exit` and `ssot_core::Outcome`.

pub use ssot_core::exit::{GATE_NO_VERDICT, NO_VERDICT, OK};

/// Shown after `ssot --help`.
pub const TABLE: &str = "\
Exit codes:
  0    OK, allowed, applied, recorded
  1    a warning: GROWING/NEAR_LIMIT, denied, DEGRADED, refused, inconsistent
  2    ERROR, could not evaluate (a denial), DOWN, evidence refused
  3    no verdict: a usage error or an I/O failure (as monitoring plugins' UNKNOWN)
  With `gate OP -- COMMAND`: the command's own status, or 124 denied,
  125 could not evaluate, 126 cannot execute, 127 not found (see `ssot gate --help`).";

/// Shown after `ssot gate --help`.
pub const GATE_TABLE: &str = "\
Exit codes without a command: 0 allowed, 1 denied, 2 could not evaluate (also a denial),
3 a usage error.

With a command (`ssot gate backup -- pg_dump ...`), ssot becomes the command, so its exit
status is the command's own, except for ssot's outcomes, which use reserved codes:
  124  the gate denied: the command was not run
  125  the gate could not be evaluated, or a usage error: the command was not run
  126  the gate allowed, but the command could not be executed
  127  the gate allowed, but the command was not found
A command killed by signal N is reported by the shell as 128+N, as usual.

Signals: once allowed, ssot replaces itself with the command (exec), keeping the
operation lock's descriptor open in it. Every signal sent to the pid reaches the command
directly, as if ssot were not there. The lock is released exactly when the last process
holding its descriptor exits: the command, or a child it started that kept it; so gate
startup is meant to be used without a command (`ssot gate startup && exec postgres ...`).
With --time-limit D ssot stays the command's parent instead: past D the command's whole
process group gets SIGTERM (SIGKILL 10s later) and ssot exits 128+that signal; TERM, INT
and HUP sent to ssot are forwarded to the group.
The gate decides at the real time: --now is refused beyond gate.max_clock_skew (125 here).
The whole table, for every surface: docs/src/gates.md, \"How the gates hold\".";

/// Shown after `ssot run --help`.
pub const RUN_TABLE: &str = "\
Exit codes: the runbook's own `exit(n)` (0–123), 0 when it runs to its end; ssot's own:
  124  a gate denied and the runbook did not catch the denial: it stopped there
  125  a script error (syntax, runtime, a limit, the timeout), with its file, line and column
  128+N  ssot run got signal N (TERM, INT, HUP) while a command ran: the signal was
       forwarded to the command's process group, and ssot run ended by it once the command had
`ssot run --check` exits 0 when the runbook compiles, 125 when it does not.";
