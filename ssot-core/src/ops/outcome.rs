//! Outcomes: every result knows its exit code, so the verdict → code
//! mapping is written once, here, for every surface.

use serde::Serialize;

use super::results::{
    BackupRecorded, ConfigView, DrDrillRecorded, RestoreDrillRecorded, RetentionPlanned,
    StageChecks, StatusView, VerifyOutcome,
};
use super::{ApplyOutcome, WalCheck};
use crate::contract::{ContractReport, ContractVerdict};
use crate::decision::Decision;
use crate::report::Report;
use crate::wal::{Level, WalReport};

/// Exit codes: 0–2 are verdicts, 3 is "no verdict" (the monitoring-plugins
/// UNKNOWN), and `gate OP -- COMMAND` reserves 124–127 for ssot's own
/// outcomes, as `timeout(1)` and `env(1)` do, so they are not mistaken for
/// the command's.
pub mod exit {
    /// OK, allowed, applied, recorded.
    pub const OK: u8 = 0;
    /// A warning: GROWING/NEAR_LIMIT, denied, DEGRADED, refused, inconsistent.
    pub const WARNING: u8 = 1;
    /// ERROR, could not evaluate (a denial), DOWN, evidence refused.
    pub const CRITICAL: u8 = 2;
    /// A usage error or an I/O failure that produced no verdict.
    pub const NO_VERDICT: u8 = 3;
    /// With a COMMAND: the gate denied; the command was not run.
    pub const GATE_DENIED: u8 = 124;
    /// With a COMMAND: the gate could not be evaluated (or ssot failed); the command was not run.
    pub const GATE_NO_VERDICT: u8 = 125;
    /// With a COMMAND: the gate allowed, but the command could not be executed.
    pub const CANNOT_EXECUTE: u8 = 126;
    /// With a COMMAND: the gate allowed, but the command was not found.
    pub const NOT_FOUND: u8 = 127;

    /// The name of an exit code, for surfaces that show outcomes as words:
    /// `ok`, `warning`, `critical`, `no_verdict`, or `gate_denied`,
    /// `gate_no_verdict`, `cannot_execute`, `not_found`.
    pub const fn name(code: u8) -> &'static str {
        match code {
            OK => "ok",
            WARNING => "warning",
            CRITICAL => "critical",
            GATE_DENIED => "gate_denied",
            GATE_NO_VERDICT => "gate_no_verdict",
            CANNOT_EXECUTE => "cannot_execute",
            NOT_FOUND => "not_found",
            _ => "no_verdict",
        }
    }

    /// A gate that could not be evaluated denies: `2`, or with a command `125`.
    pub const fn gate_failed(with_command: bool) -> u8 {
        if with_command {
            GATE_NO_VERDICT
        } else {
            CRITICAL
        }
    }
}

/// A result that is a verdict: its exit code.
pub trait Outcome {
    /// 0 OK / allowed, 1 a warning / denied / DEGRADED, 2 ERROR / DOWN.
    fn exit_code(&self) -> u8;
}

fn warn_if(b: bool) -> u8 {
    if b {
        exit::WARNING
    } else {
        exit::OK
    }
}

/// A failed measurement (no `wal_size`) is critical whatever the status says.
impl Outcome for WalReport {
    fn exit_code(&self) -> u8 {
        if self.measures.wal_size.is_none() {
            return exit::CRITICAL;
        }
        match self.status {
            Level::Ok => exit::OK,
            Level::Growing | Level::NearLimit => exit::WARNING,
            Level::Error => exit::CRITICAL,
        }
    }
}

impl Outcome for WalCheck {
    fn exit_code(&self) -> u8 {
        self.report.exit_code()
    }
}

impl Outcome for Decision {
    fn exit_code(&self) -> u8 {
        warn_if(!self.allowed)
    }
}

impl Outcome for RetentionPlanned {
    fn exit_code(&self) -> u8 {
        warn_if(self.plan.refused.is_some() || !self.plan.warnings.is_empty())
    }
}

impl Outcome for ApplyOutcome {
    fn exit_code(&self) -> u8 {
        warn_if(self.refused.is_some())
    }
}

impl Outcome for ContractReport {
    fn exit_code(&self) -> u8 {
        warn_if(self.status == ContractVerdict::Fail)
    }
}

impl Outcome for StageChecks {
    fn exit_code(&self) -> u8 {
        warn_if(self.0.iter().any(|c| !c.consistent))
    }
}

impl Outcome for BackupRecorded {
    fn exit_code(&self) -> u8 {
        exit::OK
    }
}

impl Outcome for RestoreDrillRecorded {
    fn exit_code(&self) -> u8 {
        exit::OK
    }
}

/// A recorded backup that is gone, changed or broken is a warning (1).
impl Outcome for VerifyOutcome {
    fn exit_code(&self) -> u8 {
        warn_if(self.failed > 0)
    }
}

impl Outcome for DrDrillRecorded {
    fn exit_code(&self) -> u8 {
        warn_if(!self.outcome.passed)
    }
}

impl Outcome for Report {
    fn exit_code(&self) -> u8 {
        self.verdict.exit_code()
    }
}

impl Outcome for StatusView {
    fn exit_code(&self) -> u8 {
        exit::OK
    }
}

impl Outcome for ConfigView {
    fn exit_code(&self) -> u8 {
        exit::OK
    }
}

/// Pretty JSON, as every surface prints it.
pub fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The same pretty JSON as [`json`] and a newline, written to `w` as it is
/// produced: a plan of a million artifacts is never held as one string.
pub fn write_json<T: Serialize + ?Sized, W: std::io::Write>(
    mut w: W,
    v: &T,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, v)?;
    w.write_all(b"\n")?;
    w.flush()
}
