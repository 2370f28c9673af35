//! Python values → the core's serde types, and back. Nothing here decides
//! anything: Python values are first made plain (the JSON the CLI reads:
//! times as RFC 3339, durations as `"7d"`, paths as strings), then
//! deserialized by the core types' own serde `Deserialize` ([`crate::depy`]),
//! so a dict loaded from a JSON file and the same values typed in Python mean
//! the same. Results go back through pythonize.

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyMemoryView, PyString, PyTuple};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{depy, errors};

/// How deep lists, tuples and dicts may nest in a value passed to ssot:
/// deeper is a `RequestError`, never a crash (a conversion recurses).
pub const MAX_DEPTH: usize = 64;

fn too_deep(what: &str) -> PyErr {
    errors::bad_request(
        what,
        &format!("the value nests lists, tuples or dicts deeper than {MAX_DEPTH} levels"),
    )
}

/// `v` with every datetime, timedelta, path and ssot result made plain.
/// Values nested deeper than [`MAX_DEPTH`] are a `RequestError`.
pub fn plain<'py>(v: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    plain_at(v, MAX_DEPTH, "value")
}

/// [`plain`], naming the argument `what` when it nests too deep.
fn plain_for<'py>(v: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    plain_at(v, MAX_DEPTH, what)
}

fn plain_at<'py>(v: &Bound<'py, PyAny>, left: usize, what: &str) -> PyResult<Bound<'py, PyAny>> {
    let py = v.py();
    if v.is_none() || v.is_instance_of::<PyString>() {
        return Ok(v.clone());
    }
    // bool, int, float: unchanged (bool before int: it is one).
    if v.is_instance_of::<pyo3::types::PyBool>()
        || v.is_instance_of::<pyo3::types::PyInt>()
        || v.is_instance_of::<pyo3::types::PyFloat>()
    {
        return Ok(v.clone());
    }
    let datetime = py.import("datetime")?;
    if v.is_instance(&datetime.getattr("datetime")?)? {
        return Ok(PyString::new(py, &rfc3339(v)?).into_any());
    }
    if v.is_instance(&datetime.getattr("timedelta")?)? {
        return Ok(PyString::new(py, &duration(v)?).into_any());
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let left = left.checked_sub(1).ok_or_else(|| too_deep(what))?;
        let out = PyDict::new(py);
        // Over a copy of its items: making a value plain runs the caller's
        // code (`to_dict`, `__fspath__`, a mapping's `items`), which may
        // change this dict, and pyo3 panics when a dict it walks changes size.
        for item in d.items().iter() {
            let (k, x): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
            if !k.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(format!(
                    "dict keys must be strings, not {}",
                    k.get_type().name()?
                )));
            }
            out.set_item(k, plain_at(&x, left, what)?)?;
        }
        return Ok(out.into_any());
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let left = left.checked_sub(1).ok_or_else(|| too_deep(what))?;
        let items: PyResult<Vec<Bound<'py, PyAny>>> =
            v.try_iter()?.map(|x| plain_at(&x?, left, what)).collect();
        return Ok(PyList::new(py, items?)?.into_any());
    }
    if v.is_instance(&py.import("os")?.getattr("PathLike")?)? {
        return py.import("os")?.call_method1("fspath", (v,));
    }
    // An integer that is no `int` (numpy's `int64`, anything with
    // `__index__`), as the wheel read it before depy: its `int`.
    if v.get_type().hasattr(intern!(py, "__index__"))? {
        return py.import("operator")?.getattr("index")?.call1((v,));
    }
    // Any other mapping or sequence (a `MappingProxyType`, a `deque`, a
    // custom `Sequence`), as the stubs' `Mapping` and `Sequence` promise:
    // read as a dict or a list (bytes are not a list of ints here).
    let abc = py.import("collections.abc")?;
    if v.is_instance(&abc.getattr("Mapping")?)? {
        let left = left.checked_sub(1).ok_or_else(|| too_deep(what))?;
        let out = PyDict::new(py);
        for item in v.call_method0("items")?.try_iter()? {
            let (k, x): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item?.extract()?;
            if !k.is_instance_of::<PyString>() {
                return Err(PyTypeError::new_err(format!(
                    "dict keys must be strings, not {}",
                    k.get_type().name()?
                )));
            }
            out.set_item(k, plain_at(&x, left, what)?)?;
        }
        return Ok(out.into_any());
    }
    if v.is_instance(&abc.getattr("Sequence")?)?
        && !v.is_instance_of::<PyBytes>()
        && !v.is_instance_of::<PyByteArray>()
        && !v.is_instance_of::<PyMemoryView>()
    {
        let left = left.checked_sub(1).ok_or_else(|| too_deep(what))?;
        let items: PyResult<Vec<Bound<'py, PyAny>>> =
            v.try_iter()?.map(|x| plain_at(&x?, left, what)).collect();
        return Ok(PyList::new(py, items?)?.into_any());
    }
    if v.hasattr("to_dict")? {
        // One level down: a `to_dict` that gives back its own object (or
        // another with a `to_dict`, forever) ends at the limit, not in a
        // stack overflow (found by attack: a segfault).
        let left = left.checked_sub(1).ok_or_else(|| too_deep(what))?;
        return plain_at(&v.call_method0("to_dict")?, left, what);
    }
    Err(PyTypeError::new_err(format!(
        "cannot pass a {} to ssot: give str, int, float, bool, None, datetime, timedelta, a path, a list or a dict",
        v.get_type().name()?
    )))
}

/// An aware datetime as RFC 3339; a naive one is refused (a `RequestError`:
/// ssot never guesses which zone a time without one meant).
fn rfc3339(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.getattr("tzinfo")?.is_none() || v.call_method0("utcoffset")?.is_none() {
        return Err(errors::bad_request(
            "time",
            &format!(
                "naive datetime {}: ssot needs an aware one (e.g. datetime.now(timezone.utc)) or an RFC 3339 string",
                v.str()?
            ),
        ));
    }
    // In UTC it must still be a datetime Python can hold, or a result that
    // gives it back fails after the work was done (found by attack).
    let utc = v
        .py()
        .import("datetime")?
        .getattr("timezone")?
        .getattr("utc")?;
    if v.call_method1("astimezone", (utc,)).is_err() {
        return Err(errors::bad_request(
            "time",
            &format!("{} is outside the years 1-9999 once in UTC", v.str()?),
        ));
    }
    v.call_method1("isoformat", ("T",))?.extract()
}

/// A timedelta as the largest unit that divides it: `7d`, `36h`, `90min`, `45s`.
fn duration(v: &Bound<'_, PyAny>) -> PyResult<String> {
    let days: i64 = v.getattr("days")?.extract()?;
    let secs: i64 = v.getattr("seconds")?.extract()?;
    let micros: i64 = v.getattr("microseconds")?.extract()?;
    if days < 0 {
        return Err(errors::bad_request(
            "duration",
            &format!(
                "negative duration {}: ssot durations are not negative",
                v.str()?
            ),
        ));
    }
    if micros != 0 {
        return Err(errors::bad_request(
            "duration",
            &format!(
                "duration {} has a fraction of a second: give whole seconds",
                v.str()?
            ),
        ));
    }
    let total = days * 86_400 + secs;
    Ok(match total {
        t if t % 86_400 == 0 => format!("{}d", t / 86_400),
        t if t % 3_600 == 0 => format!("{}h", t / 3_600),
        t if t % 60 == 0 => format!("{}min", t / 60),
        t => format!("{t}s"),
    })
}

/// A time argument: an aware datetime or an RFC 3339 string.
pub fn time(v: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let text: String = if v.is_instance_of::<PyString>() {
        v.extract()?
    } else {
        plain(v)?.extract().map_err(|_| {
            PyTypeError::new_err("a time is an aware datetime or an RFC 3339 string")
        })?
    };
    let t =
        ssot_core::state::parse_timestamp(&text).map_err(|e| errors::bad_request("time", &e))?;
    use chrono::Datelike;
    if !(1..=9999).contains(&t.year()) {
        return Err(errors::bad_request(
            "time",
            &format!("{text} is outside the years 1-9999 a Python datetime holds, once in UTC"),
        ));
    }
    Ok(t)
}

/// The member of the enum `ssot.enums.<class>` whose value is `value` (the
/// core's spelling): results give enums, not strings.
/// Members are looked up once, then served from a cache (a plan of 100k
/// artifacts gives 200k of them).
pub fn member<'py>(py: Python<'py>, class: &str, value: &str) -> PyResult<Bound<'py, PyAny>> {
    static MEMBERS: pyo3::sync::PyOnceLock<Py<PyDict>> = pyo3::sync::PyOnceLock::new();
    let cache = MEMBERS
        .get_or_init(py, || PyDict::new(py).unbind())
        .bind(py);
    let key = (class, value).into_pyobject(py)?;
    if let Some(m) = cache.get_item(&key)? {
        return Ok(m);
    }
    let m = py.import("ssot.enums")?.getattr(class)?.call1((value,))?;
    cache.set_item(key, &m)?;
    Ok(m)
}

/// `now` if given, else the clock.
pub fn now_or(
    v: Option<&Bound<'_, PyAny>>,
    clock: impl FnOnce() -> DateTime<Utc>,
) -> PyResult<DateTime<Utc>> {
    match v {
        Some(v) if !v.is_none() => time(v),
        _ => Ok(clock()),
    }
}

/// Deserializes a core type from a Python value. Plain data (what
/// `json.load` gives) is read as it is, by the core type's own
/// `Deserialize` ([`depy`]); anything else (a datetime, a timedelta, a path,
/// a result) is made plain first. Values nested deeper than [`MAX_DEPTH`]
/// are a `RequestError`.
pub fn from_py<T: DeserializeOwned>(v: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    match depy::from_plain::<T>(v, MAX_DEPTH) {
        Ok(x) => return Ok(x),
        Err(depy::Error::TooDeep) => return Err(too_deep(what)),
        Err(_) => {}
    }
    let p = plain_for(v, what)?;
    depy::from_plain::<T>(&p, MAX_DEPTH).map_err(|e| match e {
        depy::Error::TooDeep => too_deep(what),
        e => errors::bad_request(what, &e.to_string()),
    })
}

/// A core value as plain Python (dicts, lists, str, int, float): the CLI's JSON.
pub fn to_py<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A path argument (`str` or `os.PathLike`) as a string.
pub fn path(v: &Bound<'_, PyAny>) -> PyResult<std::path::PathBuf> {
    let s: String = plain(v)?.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "a path is a str or an os.PathLike, not {}",
            v.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok(s.into())
}
