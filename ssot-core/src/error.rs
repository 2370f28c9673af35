//! The one error type of `ssot-core`: one variant per kind of failure, each
//! carrying what failed and where (file, line, key, artifact) as fields, so a
//! binding can map each kind to its own exception with those details.
//!
//! Every message says *what* failed and *where*, so that the message alone
//! tells an operator what to fix. Bad input is always an `Err`, never a panic.
//! Messages name the inputs by their request field names (`statefulset`,
//! `target`), never by a command-line flag: surfaces add their own hints.

use std::path::PathBuf;

/// Everything that can go wrong in `ssot-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A state file line could not be parsed.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// The file that holds the line.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// A key that must be present in a state file is absent.
    #[error("{path}: missing key \"{key}\"")]
    MissingKey {
        /// The file that lacks the key.
        path: String,
        /// The key.
        key: String,
    },
    /// A state file key is present but its value is not acceptable.
    #[error("{path}:{line}: key \"{key}\": {message}")]
    InvalidValue {
        /// The file that holds the value.
        path: String,
        /// 1-based line number of the key (0 for a value being written).
        line: usize,
        /// The key.
        key: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A state file exists but could not be read.
    #[error("cannot read {path}: {error}")]
    Unreadable {
        /// The file.
        path: String,
        /// The error.
        error: String,
    },
    /// A state file ssot could not read is not overwritten by a record.
    #[error("{source}; fix or move {path} away before recording into it (ssot never overwrites a state file it cannot read)")]
    NotOverwritten {
        /// The file.
        path: String,
        /// Why it could not be read.
        #[source]
        source: Box<Error>,
    },
    /// A file ssot owns is something it refuses to use (a symlink, a FIFO,
    /// a directory, a file too large to be what ssot wrote).
    #[error("{path}: {problem}", path = path.display())]
    UnsafeFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A value with a unit (`4GB`, `5min`) could not be parsed.
    #[error("invalid {what} \"{input}\": {message}")]
    Unit {
        /// What was being parsed (a size, a duration).
        what: &'static str,
        /// The offending input.
        input: String,
        /// What is wrong and which spellings are accepted.
        message: String,
    },
    /// A value of a named kind (an operation, a WAL status, a time zone, a
    /// plan hash, a name pattern) is not one ssot knows.
    #[error("invalid {what} \"{value}\": {message}")]
    InvalidName {
        /// What kind of value it is.
        what: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        message: String,
    },
    /// The configuration file is invalid.
    #[error("config {origin}: {}{message}", key.as_deref().map(|k| format!("{k} ")).unwrap_or_default())]
    Config {
        /// Where the configuration came from.
        origin: String,
        /// The key, where one is to blame.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A policy or configuration key has a value that cannot work (set in
    /// code, or before it is placed in a configuration file).
    #[error("{key} {message}")]
    PolicyKey {
        /// The key (`wal.volume_near_pct`, `retention.backups.pattern`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An input file (a tool's output, a catalog) is not in the expected
    /// format. The message says where; `line` and `column` say it again as data.
    #[error("{origin}: {message}")]
    InputFile {
        /// The input (a path, `-` for stdin, or the field it came in).
        origin: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A request is incomplete or contradictory (apply without a directory, ...).
    #[error("{0}")]
    Request(String),
    /// A request lacks an input that has no default here (a backup location
    /// when no `gate.targets.backup` is configured, ...).
    #[error("{message}")]
    NotGiven {
        /// The request field that would have supplied it (`location`, `dir`).
        field: &'static str,
        /// What is missing, and what else could have supplied it.
        message: String,
    },
    /// An artifact cannot be planned or deleted safely (an id with a path
    /// separator or a control character, an id that appears twice).
    #[error("artifact \"{id}\": {message}", id = id.escape_debug())]
    Artifact {
        /// The artifact's id.
        id: String,
        /// What is wrong with it.
        message: String,
    },
    /// Artifacts' parents form a cycle: the dependency chain never ends.
    #[error("artifact {id} is part of a parent cycle: the dependency chain never ends")]
    ParentCycle {
        /// An artifact on the cycle.
        id: String,
    },
    /// A retention profile that is not configured.
    #[error("no retention profile \"{name}\" (configured: {})", known.join(", "))]
    UnknownProfile {
        /// The profile asked for.
        name: String,
        /// The profiles configured.
        known: Vec<String>,
    },
    /// Evidence offered to be recorded is refused: it is not what it claims
    /// to be (a snapshot as a backup, a backup file that is not there, a size
    /// that does not match, impossible times).
    #[error("evidence refused: {0}")]
    EvidenceRefused(String),
    /// An I/O operation on a path failed.
    #[error("{op} {path}: {source}", path = path.display())]
    Io {
        /// What was being done (`read`, `write`, `scan`, `lock`, ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A caller gave a time (`now`) for a decision that authorises work (a
    /// gate, a hold, an apply), and it is not the real time: such decisions
    /// use the real clock, and a given time farther from it than
    /// `gate.max_clock_skew` is refused rather than silently replaced.
    #[error("now: {operation} authorises work and uses the real clock; the given time {given} is {off} {direction} the real clock ({real}), more than gate.max_clock_skew ({max_skew}): leave the time out (it is only for read-only evaluations)",
        given = crate::time::timestamp(*given), real = crate::time::timestamp(*real),
        off = crate::time::human_secs((*given - *real).num_seconds().unsigned_abs() as f64),
        direction = if given > real { "ahead of" } else { "behind" })]
    ClockRefused {
        /// What was asked (`gate backup`, `retention apply`).
        operation: String,
        /// The time the caller gave.
        given: chrono::DateTime<chrono::Utc>,
        /// The real time.
        real: chrono::DateTime<chrono::Utc>,
        /// The tolerated difference.
        max_skew: crate::units::Span,
    },
    /// A lock is held by somebody else.
    #[error("{path} is locked by another process{holder}", path = path.display(), holder = holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote into the lock file, if anything.
        holder: Option<String>,
    },
}

impl Error {
    /// Builds an [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Builds an [`Error::InputFile`] without a position.
    pub fn input(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InputFile {
            origin: origin.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// Builds an [`Error::InputFile`] from a JSON error: `not JSON at line L
    /// column C: <what serde_json says>`, the position also as fields.
    pub fn json(origin: impl Into<String>, e: &serde_json::Error) -> Self {
        let (line, column) = (e.line(), e.column());
        let text = e.to_string();
        let text = text
            .strip_suffix(&format!(" at line {line} column {column}"))
            .unwrap_or(&text);
        Error::InputFile {
            origin: origin.into(),
            line: Some(line),
            column: Some(column),
            message: format!("not JSON at line {line} column {column}: {text}"),
        }
    }

    /// Builds an [`Error::InputFile`] at a line.
    pub fn input_at(origin: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Error::InputFile {
            origin: origin.into(),
            line: Some(line),
            column: None,
            message: format!("line {line}: {}", message.into()),
        }
    }

    /// Builds an [`Error::PolicyKey`].
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::PolicyKey {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Error {
    /// The exit code of a failure: `2` for refused evidence (a verdict on
    /// what was offered), `3` for everything else (no verdict was reached).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::EvidenceRefused(_) => crate::exit::CRITICAL,
            _ => crate::exit::NO_VERDICT,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::units::UnitError> for Error {
    fn from(e: crate::units::UnitError) -> Self {
        Error::Unit {
            what: e.what,
            input: e.input,
            message: e.message,
        }
    }
}
