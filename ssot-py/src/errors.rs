//! The one mapping of the core's errors to Python exceptions. The classes
//! live in `ssot/errors.py` (so they can subclass both `SsotError` and
//! `ValueError`/`OSError`); each gets the variant's details as attributes.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use ssot_core::Error;

/// An attribute of an exception.
enum A {
    S(Option<String>),
    N(Option<usize>),
    I(Option<i32>),
    L(Vec<String>),
    /// An aware UTC `datetime`.
    T(chrono::DateTime<chrono::Utc>),
    /// A `timedelta`.
    D(std::time::Duration),
}

fn s(v: impl ToString) -> A {
    A::S(Some(v.to_string()))
}

/// An instance of `ssot.errors.<class>` with `message` and `attrs` as keyword arguments.
fn raise(class: &str, message: String, attrs: &[(&str, A)]) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<PyErr> {
            let cls = py.import("ssot.errors")?.getattr(class)?;
            let kwargs = PyDict::new(py);
            for (k, v) in attrs {
                match v {
                    A::S(x) => kwargs.set_item(*k, x.clone())?,
                    A::N(x) => kwargs.set_item(*k, *x)?,
                    A::I(x) => kwargs.set_item(*k, *x)?,
                    A::L(x) => kwargs.set_item(*k, x.clone())?,
                    A::T(x) => kwargs.set_item(*k, *x)?,
                    A::D(x) => kwargs.set_item(*k, *x)?,
                }
            }
            let exc = cls.call((message.clone(),), Some(&kwargs))?;
            Ok(PyErr::from_value(exc))
        };
        build().unwrap_or_else(|e| {
            PyRuntimeError::new_err(format!("{message} (and ssot.errors.{class} failed: {e})"))
        })
    })
}

/// The Python exception for a core error.
pub fn to_py(e: Error) -> PyErr {
    let m = e.to_string();
    match e {
        Error::Syntax { path, line, .. } => raise(
            "StateFileSyntaxError",
            m,
            &[("path", s(path)), ("line", A::N(Some(line)))],
        ),
        Error::MissingKey { path, key } => {
            raise("MissingKeyError", m, &[("path", s(path)), ("key", s(key))])
        }
        Error::InvalidValue {
            path, line, key, ..
        } => raise(
            "InvalidValueError",
            m,
            &[
                ("path", s(path)),
                ("key", s(key)),
                ("line", A::N(Some(line))),
            ],
        ),
        Error::Unreadable { path, error } => {
            let (strerror, errno) = os_error(&error);
            raise(
                "UnreadableError",
                m,
                &[
                    ("path", s(path)),
                    ("errno", A::I(errno)),
                    ("strerror", s(strerror)),
                ],
            )
        }
        Error::NotOverwritten { path, .. } => raise("NotOverwrittenError", m, &[("path", s(path))]),
        Error::UnsafeFile { path, problem } => raise(
            "UnsafeFileError",
            m,
            &[("path", s(path.display())), ("problem", s(problem))],
        ),
        Error::Unit { what, input, .. } => {
            raise("UnitError", m, &[("what", s(what)), ("value", s(input))])
        }
        Error::InvalidName { what, value, .. } => raise(
            "InvalidNameError",
            m,
            &[("what", s(what)), ("value", s(value))],
        ),
        Error::Config { origin, key, .. } => raise(
            "ConfigError",
            m,
            &[("origin", s(origin)), ("key", A::S(key))],
        ),
        Error::PolicyKey { key, .. } => raise("PolicyKeyError", m, &[("key", s(key))]),
        Error::InputFile {
            origin,
            line,
            column,
            ..
        } => raise(
            "InputFileError",
            m,
            &[
                ("origin", s(origin)),
                ("line", A::N(line)),
                ("column", A::N(column)),
            ],
        ),
        Error::Request(_) => raise("RequestError", m, &[]),
        Error::ClockRefused {
            operation,
            given,
            real,
            max_skew,
        } => raise(
            "ClockRefusedError",
            m,
            &[
                ("operation", s(operation)),
                ("given", A::T(given)),
                ("real", A::T(real)),
                (
                    "max_skew",
                    A::D(std::time::Duration::from_secs_f64(max_skew.as_secs_f64())),
                ),
            ],
        ),
        Error::NotGiven { field, .. } => raise("NotGivenError", m, &[("field", s(field))]),
        Error::Artifact { id, .. } => raise("ArtifactError", m, &[("id", s(id))]),
        Error::ParentCycle { id } => raise("ParentCycleError", m, &[("id", s(id))]),
        Error::UnknownProfile { name, known } => raise(
            "UnknownProfileError",
            m,
            &[("name", s(name)), ("known", A::L(known))],
        ),
        Error::EvidenceRefused(_) => raise("EvidenceRefused", m, &[]),
        Error::Io { op, path, source } => {
            use std::io::ErrorKind as K;
            // The class Python raises for the kind (FileNotFoundError for
            // ENOENT, ...), each also an `SsotIOError`.
            let class = match source.kind() {
                K::NotFound => "SsotFileNotFoundError",
                K::PermissionDenied => "SsotPermissionError",
                K::AlreadyExists => "SsotFileExistsError",
                K::IsADirectory => "SsotIsADirectoryError",
                K::NotADirectory => "SsotNotADirectoryError",
                _ => "SsotIOError",
            };
            let (strerror, _) = os_error(&source.to_string());
            raise(
                class,
                m,
                &[
                    ("op", s(op)),
                    ("path", s(path.display())),
                    ("errno", A::I(source.raw_os_error())),
                    ("strerror", s(strerror)),
                ],
            )
        }
        Error::Locked { path, holder } => raise(
            "LockedError",
            m,
            &[("path", s(path.display())), ("holder", A::S(holder))],
        ),
        other => raise("SsotError", other.to_string(), &[]),
    }
}

/// An I/O error's text without the ` (os error N)` that Rust appends for an
/// OS error, and that N: Python's `strerror` and `errno`. The core keeps
/// some errors as text (a state file it could not read); this reads back
/// what the text carries, nothing more.
fn os_error(text: &str) -> (String, Option<i32>) {
    if let Some(open) = text.rfind(" (os error ") {
        if let Some(n) = text[open + " (os error ".len()..]
            .strip_suffix(')')
            .and_then(|n| n.parse().ok())
        {
            return (text[..open].to_string(), Some(n));
        }
    }
    (text.to_string(), None)
}

/// A request that could not be read from the Python values given.
pub fn bad_request(what: &str, message: &str) -> PyErr {
    raise("RequestError", format!("{what}: {message}"), &[])
}

/// Maps a core `Result`.
pub trait OrPy<T> {
    /// The value, or the Python exception for the error.
    fn or_py(self) -> PyResult<T>;
}

impl<T> OrPy<T> for ssot_core::Result<T> {
    fn or_py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A sample of each core error kind, by the name of its exception class:
/// lets the test suite check the mapping above for every kind, including
/// those only a broken state directory produces.
#[pyfunction]
pub fn _raise_core_error(kind: &str) -> PyResult<()> {
    use std::path::PathBuf;
    let e = match kind {
        "StateFileSyntaxError" => Error::Syntax {
            path: "wal.status".into(),
            line: 3,
            message: "expected key=value".into(),
        },
        "MissingKeyError" => Error::MissingKey {
            path: "wal.status".into(),
            key: "checked_at".into(),
        },
        "InvalidValueError" => Error::InvalidValue {
            path: "wal.status".into(),
            line: 2,
            key: "wal_status".into(),
            message: "unknown status".into(),
        },
        "UnreadableError" => Error::Unreadable {
            path: "wal.status".into(),
            error: std::io::Error::from_raw_os_error(13).to_string(),
        },
        "NotOverwrittenError" => Error::NotOverwritten {
            path: "backup.status".into(),
            source: Box::new(Error::MissingKey {
                path: "backup.status".into(),
                key: "last_at".into(),
            }),
        },
        "UnsafeFileError" => Error::UnsafeFile {
            path: PathBuf::from("wal.status"),
            problem: "is a symbolic link".into(),
        },
        "UnitError" => Error::Unit {
            what: "size",
            input: "4gb".into(),
            message: "valid units are B, kB, MB, GB, TB".into(),
        },
        "InvalidNameError" => Error::InvalidName {
            what: "operation",
            value: "bakup".into(),
            message: "expected snapshot, backup, restore or startup".into(),
        },
        "ConfigError" => Error::Config {
            origin: "ssot.toml".into(),
            key: Some("wal.volume_near_pct".into()),
            message: "must not exceed wal.volume_error_pct".into(),
        },
        "PolicyKeyError" => Error::key("retention.backups.pattern", "is not a date pattern"),
        "InputFileError" => Error::InputFile {
            origin: "catalog.json".into(),
            line: Some(4),
            column: Some(7),
            message: "not JSON".into(),
        },
        "RequestError" => Error::Request("apply needs a directory".into()),
        "ClockRefusedError" => Error::ClockRefused {
            operation: "gate backup".into(),
            given: "2026-02-05T12:00:00Z".parse().unwrap_or_default(),
            real: "2026-02-05T17:00:00Z".parse().unwrap_or_default(),
            max_skew: ssot_core::units::Span::mins(1),
        },
        "NotGivenError" => Error::NotGiven {
            field: "location",
            message: "no backup location".into(),
        },
        "ArtifactError" => Error::Artifact {
            id: "../x".into(),
            message: "the id contains a path separator".into(),
        },
        "ParentCycleError" => Error::ParentCycle { id: "a".into() },
        "UnknownProfileError" => Error::UnknownProfile {
            name: "nightly".into(),
            known: vec!["backups".into(), "snapshots".into()],
        },
        "EvidenceRefused" => Error::EvidenceRefused("a snapshot is not a backup".into()),
        "SsotIOError" => Error::io(
            "write",
            "/opt/ssot/state",
            std::io::Error::from_raw_os_error(5),
        ),
        "SsotFileNotFoundError" => Error::io(
            "read",
            "/etc/ssot.toml",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ),
        "SsotPermissionError" => Error::io(
            "write",
            "/opt/ssot/state/wal.status",
            std::io::Error::from_raw_os_error(13),
        ),
        "SsotFileExistsError" => Error::io(
            "create",
            "/opt/ssot/state/x",
            std::io::Error::from_raw_os_error(17),
        ),
        "SsotIsADirectoryError" => Error::io(
            "read",
            "/opt/ssot/state",
            std::io::Error::from_raw_os_error(21),
        ),
        "SsotNotADirectoryError" => Error::io(
            "scan",
            "/etc/passwd/x",
            std::io::Error::from_raw_os_error(20),
        ),
        "LockedError" => Error::Locked {
            path: PathBuf::from("/opt/ssot/state/operation.lock"),
            holder: Some("backup by pid 42".into()),
        },
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "no sample of {other}"
            )))
        }
    };
    Err(to_py(e))
}
