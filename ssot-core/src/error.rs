//! The one error type of `ssot-core`.
//!
//! Every variant says *what* failed and *where* (file, line, key) so that the
//! message alone tells an operator what to fix. Bad input is always an `Err`,
//! never a panic.

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
    /// A key that must be present is absent.
    #[error("{path}: missing key \"{key}\"")]
    MissingKey {
        /// The file that lacks the key.
        path: String,
        /// The key.
        key: String,
    },
    /// A key is present but its value is not acceptable.
    #[error("{path}:{line}: key \"{key}\": {message}")]
    InvalidValue {
        /// The file that holds the value.
        path: String,
        /// 1-based line number of the key.
        line: usize,
        /// The key.
        key: String,
        /// What is wrong with the value.
        message: String,
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
    /// The configuration file is invalid.
    #[error("config {origin}: {message}")]
    Config {
        /// Where the configuration came from.
        origin: String,
        /// What is wrong, including the key where known.
        message: String,
    },
    /// An I/O operation on a path failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `scan`, `lock`, ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
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
    /// A lock is held by somebody else.
    #[error("{path} is locked by another process{holder}", holder = holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote into the lock file, if anything.
        holder: Option<String>,
    },
    /// Evidence offered to be recorded is refused: it is not what it claims
    /// to be (a snapshot as a backup, a backup file that is not there, a size
    /// that does not match, impossible times).
    #[error("evidence refused: {0}")]
    EvidenceRefused(String),
    /// Input given to an evaluation is unusable (e.g. a JSON vector is malformed).
    #[error("invalid input: {0}")]
    Input(String),
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
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
