//! The values a runbook holds: read-only results, decisions (with the
//! operation lock while allowed), times and durations; and the conversion of
//! script values to the core's request types through `rhai::serde`.

use std::cell::RefCell;
use std::fmt::Display;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use rhai::{Array, Dynamic, EvalAltResult, Map, Position};
use serde::de::DeserializeOwned;
use serde::Serialize;
use ssot_core::gate::Decision as CoreDecision;
use ssot_core::ports::Held;
use ssot_core::units::Span;
use ssot_core::Outcome;

/// A script error at `pos` (the caller's position is filled in by Rhai).
pub fn err(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        message.into().into(),
        Position::NONE,
    ))
}

/// A core error as a script error, with the core's message.
pub fn core_err(e: ssot_core::Error) -> Box<EvalAltResult> {
    err(e.to_string())
}

/// A result of the core: read-only fields (the CLI's JSON), `to_map()`,
/// `to_json()`, `to_string()` (the CLI's text) and `exit_code`.
#[derive(Debug, Clone)]
pub struct SsotResult {
    /// The type's name (`WalCheck`, `RetentionPlan`, ...).
    pub kind: &'static str,
    map: Rc<Dynamic>,
    json: Rc<str>,
    text: Rc<str>,
    /// The CLI's exit code for it.
    pub exit_code: i64,
}

impl SsotResult {
    /// Wraps a core result.
    pub fn new<T: Serialize + Display + Outcome>(
        kind: &'static str,
        v: &T,
    ) -> Result<Self, Box<EvalAltResult>> {
        Ok(SsotResult {
            kind,
            map: Rc::new(rhai::serde::to_dynamic(v)?),
            json: ssot_core::json(v).into(),
            text: v.to_string().into(),
            exit_code: v.exit_code().into(),
        })
    }

    /// A field of the JSON (properties fall back to this indexer).
    pub fn field(&self, name: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        if name == "exit_code" {
            return Ok(self.exit_code.into());
        }
        if let Some(m) = self.map.read_lock::<Map>() {
            if let Some(v) = m.get(name) {
                return Ok(v.clone());
            }
        }
        Err(err(format!("{} has no field \"{name}\"", self.kind)))
    }

    /// The JSON as a map (or array).
    pub fn to_map(&self) -> Dynamic {
        (*self.map).clone()
    }

    /// The CLI's JSON.
    pub fn to_json(&self) -> String {
        self.json.to_string()
    }

    /// The CLI's text.
    pub fn text(&self) -> String {
        self.text.to_string()
    }
}

/// A gate's decision. When it allowed, it holds the operation lock until
/// `release()` or the end of the runbook, and `run(...)` runs a command
/// under it; a denied decision runs nothing.
#[derive(Clone)]
pub struct Decision {
    /// The decision as a result.
    pub result: SsotResult,
    /// The core's decision.
    pub decision: Rc<CoreDecision>,
    /// The operation lock, while held.
    pub lock: Rc<RefCell<Option<Held>>>,
    /// What was asked, and of which `Ssot` (`None`: the runbook's), to
    /// decide again before each command run under it.
    pub origin: Option<(Rc<ssot_core::GateRequest>, Option<Rc<ssot_core::Ssot>>)>,
}

impl Decision {
    /// Wraps a decision and the lock it took, if any.
    pub fn new(d: CoreDecision, lock: Option<Held>) -> Result<Self, Box<EvalAltResult>> {
        Ok(Decision {
            result: SsotResult::new("Decision", &d)?,
            decision: Rc::new(d),
            lock: Rc::new(RefCell::new(lock)),
            origin: None,
        })
    }

    /// True when the lock is held.
    pub fn holds_lock(&self) -> bool {
        self.lock.borrow().is_some()
    }
}

impl std::fmt::Debug for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Decision({})", self.result.text.trim_end())
    }
}

/// A point in time (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Time(pub DateTime<Utc>);

/// A duration (`7d`, `5min`, `90s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub Span);

/// A time argument: a `Time` or an RFC 3339 string.
pub fn time_of(v: &Dynamic) -> Result<DateTime<Utc>, Box<EvalAltResult>> {
    if let Some(t) = v.read_lock::<Time>() {
        return Ok(t.0);
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return ssot_core::state::parse_timestamp(s.as_str()).map_err(err);
    }
    Err(err(format!(
        "a time is a Time (now(), parse_time(...)) or an RFC 3339 string, not {}",
        v.type_name()
    )))
}

/// How deep a script value may nest (an array in an array ...) where ssot
/// walks it: converting it into a request, printing it, comparing it. Deeper
/// is a script error, never a stack overflow.
pub const MAX_DEPTH: usize = 64;

pub fn too_deep() -> Box<EvalAltResult> {
    err(format!(
        "a value nested deeper than {MAX_DEPTH} levels (arrays or maps inside each other) cannot be used here"
    ))
}

/// Fails when `v` nests deeper than [`MAX_DEPTH`]. Walks at most that deep.
pub fn check_depth(v: &Dynamic) -> Result<(), Box<EvalAltResult>> {
    fn walk(v: &Dynamic, left: usize) -> bool {
        if let Some(a) = v.read_lock::<Array>() {
            return left > 0 && a.iter().all(|x| walk(x, left - 1));
        }
        if let Some(m) = v.read_lock::<Map>() {
            return left > 0 && m.values().all(|x| walk(x, left - 1));
        }
        true
    }
    if walk(v, MAX_DEPTH) {
        Ok(())
    } else {
        Err(too_deep())
    }
}

/// `v` with every `Time`, `Duration` and result made plain (strings and
/// maps), as the CLI's JSON would hold them. Values nested deeper than
/// [`MAX_DEPTH`] are an error.
pub fn plain(v: &Dynamic) -> Result<Dynamic, Box<EvalAltResult>> {
    plain_at(v, MAX_DEPTH)
}

fn plain_at(v: &Dynamic, left: usize) -> Result<Dynamic, Box<EvalAltResult>> {
    if let Some(t) = v.read_lock::<Time>() {
        return Ok(ssot_core::state::timestamp(t.0).into());
    }
    if let Some(d) = v.read_lock::<Duration>() {
        return Ok(d.0.to_string().into());
    }
    if let Some(r) = v.read_lock::<SsotResult>() {
        return Ok(r.to_map());
    }
    if let Some(d) = v.read_lock::<Decision>() {
        return Ok(d.result.to_map());
    }
    if let Some(m) = v.read_lock::<Map>() {
        let left = left.checked_sub(1).ok_or_else(too_deep)?;
        return Ok(m
            .iter()
            .map(|(k, x)| Ok((k.clone(), plain_at(x, left)?)))
            .collect::<Result<Map, Box<EvalAltResult>>>()?
            .into());
    }
    if let Some(a) = v.read_lock::<Array>() {
        let left = left.checked_sub(1).ok_or_else(too_deep)?;
        return Ok(a
            .iter()
            .map(|x| plain_at(x, left))
            .collect::<Result<Array, _>>()?
            .into());
    }
    Ok(v.clone())
}

/// A core request type from a script value, through serde: `rhai::serde`
/// reads the script's value as JSON data, which then deserializes as `T`
/// (so `80` fills a float field as the CLI's JSON would).
pub fn from_script<T: DeserializeOwned>(v: &Dynamic, what: &str) -> Result<T, Box<EvalAltResult>> {
    let p = plain(v)?;
    let json: serde_json::Value =
        rhai::serde::from_dynamic(&p).map_err(|e| err(format!("{what}: {e}")))?;
    serde_json::from_value(json).map_err(|e| err(format!("{what}: {e}")))
}
