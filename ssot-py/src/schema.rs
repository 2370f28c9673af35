//! The result classes' attributes, read from the core's JSON Schema
//! (`ssot_core::schema`, derived from the result types): each JSON field is
//! a typed attribute (times as aware datetimes, the core's enums as the str
//! enums of `ssot.enums`, nested objects as immutable records), and the
//! stubs of the result classes are rendered from the same model. Nothing
//! here lists a field: a field added to a core result appears in Python and
//! in the generated stub.

use std::collections::{BTreeMap, BTreeSet};

use pyo3::prelude::*;
use std::ptr::NonNull;
use std::sync::Arc;

use pyo3::intern;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use serde_json::{Map, Value};

use crate::convert;

/// A Python type, as the schema gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `str`.
    Str,
    /// `int`.
    Int,
    /// `float`.
    Float,
    /// `bool`.
    Bool,
    /// An aware UTC `datetime` (`format: date-time`).
    Time,
    /// A `pathlib.Path` (a compatibility choice, see [`PATHS`]).
    Path,
    /// A str enum of `ssot.enums`.
    Enum(String),
    /// A record class of this module.
    Record(String),
    /// `List[T]`.
    List(Box<Ty>),
    /// `Optional[T]`.
    Opt(Box<Ty>),
    /// `Dict[str, T]`.
    Dict(Box<Ty>),
    /// One of several types, chosen by the value of a sibling field: the
    /// schema's `x-selected-by` (that field's name) and each alternative's
    /// `x-when` (its value), as the report's section facts are.
    Select {
        /// The sibling field whose value chooses.
        by: String,
        /// Each value and the type it chooses.
        alts: Vec<(String, Ty)>,
    },
    /// Plain JSON values.
    Any,
}

impl Ty {
    /// The type as the stub spells it.
    pub fn stub(&self) -> String {
        match self {
            Ty::Str => "str".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Time => "datetime".into(),
            Ty::Path => "Path".into(),
            Ty::Enum(n) | Ty::Record(n) => n.clone(),
            Ty::List(t) => format!("List[{}]", t.stub()),
            Ty::Opt(t) => format!("Optional[{}]", t.stub()),
            Ty::Dict(t) => format!("Dict[str, {}]", t.stub()),
            Ty::Select { alts, .. } => {
                let mut names: Vec<String> = alts.iter().map(|(_, t)| t.stub()).collect();
                names.dedup();
                format!("Union[{}]", names.join(", "))
            }
            Ty::Any => "Any".into(),
        }
    }
}

/// One attribute: its name, where it is in the JSON, its type and doc.
#[derive(Debug, Clone)]
pub struct Field {
    /// The attribute's name.
    pub name: String,
    /// The keys leading to it in the JSON (one, or two for a flattened one).
    pub path: Vec<String>,
    /// Its type.
    pub ty: Ty,
    /// Its docstring (the field's doc comment in the core).
    pub doc: String,
}

/// A class's attributes from the schema.
#[derive(Debug, Clone, Default)]
pub struct Class {
    /// The Python name.
    pub name: String,
    /// The docstring (records only: a result class has its own).
    pub doc: String,
    /// Its attributes, in name order.
    pub fields: Vec<Field>,
}

/// Schema definitions named differently in Python (the names the API had).
const RENAMES: &[(&str, &str)] = &[
    ("Level", "WalStatus"),
    ("Reason", "WalReason"),
    ("ContractVerdict", "ContractStatus"),
];

/// Fields given as `pathlib.Path` (as they were before the schema served them).
pub const PATHS: &[(&str, &str)] = &[
    ("WalCheck", "pg_wal"),
    ("RestoreDrillRecorded", "marked_verified"),
];

fn py_name(def: &str) -> String {
    RENAMES
        .iter()
        .find(|(d, _)| *d == def)
        .map_or(def, |(_, p)| p)
        .to_string()
}

/// Every record class and enum met while reading the results' schemas.
#[derive(Debug, Default)]
pub struct Model {
    /// Record classes by Python name.
    pub records: BTreeMap<String, Class>,
    /// The string enums met: Python name → values.
    pub enums: BTreeMap<String, Vec<String>>,
    /// The enum classes `ssot.enums` has.
    known_enums: BTreeSet<String>,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    let a = v?.as_array()?;
    a.iter().map(|x| x.as_str().map(String::from)).collect()
}

/// The values of a string enum's schema (`enum`, or `oneOf` of `const`s).
fn enum_values(s: &Value) -> Option<Vec<String>> {
    if let Some(v) = strings(s.get("enum")) {
        return Some(v);
    }
    let one = s.get("oneOf")?.as_array()?;
    let mut out = Vec::new();
    for x in one {
        if let Some(v) = x.get("const").and_then(Value::as_str) {
            out.push(v.to_string());
        } else {
            out.extend(strings(x.get("enum"))?);
        }
    }
    Some(out)
}

fn doc_of(s: &Value) -> String {
    s.get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

impl Model {
    /// An empty model that knows which enum classes exist.
    pub fn new(known_enums: BTreeSet<String>) -> Self {
        Model {
            known_enums,
            ..Model::default()
        }
    }

    /// The attributes of a result whose JSON is an object, skipping `skip`
    /// (the names the class defines itself) and flattening the objects
    /// named in `flatten` (their fields are attributes too).
    pub fn result(&mut self, schema: &Value, skip: &[&str], flatten: &[&str]) -> Class {
        let defs = schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut class = self.object(schema, &defs, skip);
        for f in flatten {
            let Some(inner) = schema.pointer(&format!("/properties/{f}")) else {
                continue;
            };
            let inner = self.resolve(inner, &defs);
            let nested = self.object(&inner, &defs, skip);
            for mut x in nested.fields {
                if class.fields.iter().all(|c| c.name != x.name) {
                    x.path.insert(0, f.to_string());
                    class.fields.push(x);
                }
            }
        }
        class.fields.sort_by(|a, b| a.name.cmp(&b.name));
        class
    }

    /// The type of a result's JSON as a whole (for one that is a list).
    pub fn whole(&mut self, schema: &Value) -> Ty {
        let defs = schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        self.ty(schema, &defs)
    }

    fn resolve(&self, s: &Value, defs: &Map<String, Value>) -> Value {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            Some(name) => defs.get(name).cloned().unwrap_or(Value::Null),
            None => s.clone(),
        }
    }

    fn object(&mut self, s: &Value, defs: &Map<String, Value>, skip: &[&str]) -> Class {
        let required: BTreeSet<String> = strings(s.get("required"))
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut fields = Vec::new();
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                if skip.contains(&name.as_str()) {
                    continue;
                }
                let mut ty = self.ty(p, defs);
                // A field left out when empty (a list, a map) reads as empty;
                // anything else left out reads as `None`.
                if !required.contains(name) && !matches!(ty, Ty::Opt(_) | Ty::List(_) | Ty::Dict(_))
                {
                    ty = Ty::Opt(Box::new(ty));
                }
                let mut doc = doc_of(p);
                if doc.is_empty() {
                    doc = doc_of(&self.resolve(p, defs));
                }
                fields.push(Field {
                    name: name.clone(),
                    path: vec![name.clone()],
                    ty,
                    doc,
                });
            }
        }
        fields.sort_by(|a, b| a.name.cmp(&b.name));
        Class {
            name: String::new(),
            doc: doc_of(s),
            fields,
        }
    }

    fn ty(&mut self, s: &Value, defs: &Map<String, Value>) -> Ty {
        if let Some(name) = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
        {
            let def = defs.get(name).cloned().unwrap_or(Value::Null);
            let py = py_name(name);
            if let Some(values) = enum_values(&def) {
                if self.known_enums.contains(&py) {
                    self.enums.insert(py.clone(), values);
                    return Ty::Enum(py);
                }
                return Ty::Str;
            }
            if def.get("properties").is_some() {
                if !self.records.contains_key(&py) {
                    // Registered first: a recursive type refers to itself.
                    self.records.insert(py.clone(), Class::default());
                    let mut class = self.object(&def, defs, &[]);
                    class.name = py.clone();
                    self.records.insert(py.clone(), class);
                }
                return Ty::Record(py);
            }
            return self.ty(&def, defs);
        }
        if let (Some(by), Some(alts)) = (
            s.get("x-selected-by").and_then(Value::as_str),
            s.get("anyOf").and_then(Value::as_array),
        ) {
            let mut chosen = Vec::new();
            for alt in alts {
                let Some(when) = alt.get("x-when").and_then(Value::as_str) else {
                    return Ty::Any;
                };
                chosen.push((when.to_string(), self.ty(alt, defs)));
            }
            return Ty::Select {
                by: by.to_string(),
                alts: chosen,
            };
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = s.get(key).and_then(Value::as_array) {
                if enum_values(s).is_some() {
                    return Ty::Str;
                }
                let (null, other): (Vec<&Value>, Vec<&Value>) = alts
                    .iter()
                    .partition(|a| a.get("type").and_then(Value::as_str) == Some("null"));
                return match (null.len(), other.as_slice()) {
                    (1, [one]) => Ty::Opt(Box::new(self.ty(one, defs))),
                    (0, [one]) => self.ty(one, defs),
                    _ => Ty::Any,
                };
            }
        }
        if s.get("enum").is_some() {
            return Ty::Str;
        }
        match s.get("type") {
            Some(Value::Array(types)) => {
                let named: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = named.iter().copied().filter(|t| *t != "null").collect();
                if let [one] = non_null.as_slice() {
                    let mut single = s.clone();
                    single["type"] = Value::from(*one);
                    let t = self.ty(&single, defs);
                    if named.len() > 1 {
                        return Ty::Opt(Box::new(t));
                    }
                    return t;
                }
                Ty::Any
            }
            Some(Value::String(t)) => match t.as_str() {
                "string" if s.get("format").and_then(Value::as_str) == Some("date-time") => {
                    Ty::Time
                }
                "string" => Ty::Str,
                "integer" => Ty::Int,
                "number" => Ty::Float,
                "boolean" => Ty::Bool,
                "array" => match s.get("items") {
                    Some(items) => Ty::List(Box::new(self.ty(items, defs))),
                    None => Ty::List(Box::new(Ty::Any)),
                },
                "object" => match s.get("additionalProperties") {
                    Some(v) if v.is_object() => Ty::Dict(Box::new(self.ty(v, defs))),
                    _ => Ty::Dict(Box::new(Ty::Any)),
                },
                _ => Ty::Any,
            },
            _ => Ty::Any,
        }
    }
}

impl Ty {
    /// True when a value of this type holds a record (which keeps a
    /// reference to the document it is in).
    fn holds_record(&self) -> bool {
        match self {
            Ty::Record(_) => true,
            Ty::List(t) | Ty::Opt(t) | Ty::Dict(t) => t.holds_record(),
            Ty::Select { alts, .. } => alts.iter().any(|(_, t)| t.holds_record()),
            _ => false,
        }
    }
}

/// A value inside a shared, immutable JSON document: what a record and an
/// attribute read from. Records of one result share its document (a plan of
/// 100k artifacts is serialized once, not once per record).
#[derive(Clone)]
pub struct Node {
    root: Arc<Value>,
    at: NonNull<Value>,
}

// SAFETY: `at` points into `root`'s value (or at a `'static` value, see
// `pick`), which is never mutated and lives as long as `root`; `Value` is
// `Send + Sync`.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

impl Node {
    /// The whole document.
    pub fn new(root: Arc<Value>) -> Node {
        let at = NonNull::from(&*root);
        Node { root, at }
    }

    /// The value this node is at.
    pub fn get(&self) -> &Value {
        // SAFETY: see the `Send` impl: `at` is valid while `root` lives.
        unsafe { self.at.as_ref() }
    }

    /// The node at the value `f` finds from this one. `f` must return a
    /// reference into its argument or a `'static` value (the signature
    /// admits nothing else), so the node stays inside the document.
    pub fn pick(&self, f: impl for<'a> FnOnce(&'a Value) -> &'a Value) -> Node {
        let at = NonNull::from(f(self.get()));
        Node {
            root: Arc::clone(&self.root),
            at,
        }
    }
}

/// The value at `node` as the Python value of type `ty`.
pub fn to_py<'py>(py: Python<'py>, node: &Node, ty: &Ty) -> PyResult<Bound<'py, PyAny>> {
    let v = node.get();
    if v.is_null() || !ty.holds_record() {
        return value_to_py(py, v, ty);
    }
    match ty {
        Ty::Opt(t) => to_py(py, node, t),
        Ty::List(t) => match v.as_array() {
            Some(a) => {
                let items: PyResult<Vec<Bound<'py, PyAny>>> = (0..a.len())
                    .map(|i| to_py(py, &node.pick(|v| &v[i]), t))
                    .collect();
                Ok(PyList::new(py, items?)?.into_any())
            }
            None => convert::to_py(py, v),
        },
        Ty::Dict(t) => match v.as_object() {
            Some(m) => {
                let d = PyDict::new(py);
                for k in m.keys() {
                    d.set_item(k, to_py(py, &node.pick(|v| &v[k.as_str()]), t)?)?;
                }
                Ok(d.into_any())
            }
            None => convert::to_py(py, v),
        },
        Ty::Record(name) => record(py, name, node.clone()),
        _ => value_to_py(py, v, ty),
    }
}

/// `v` as the Python value of type `ty`, which holds no record.
fn value_to_py<'py>(py: Python<'py>, v: &Value, ty: &Ty) -> PyResult<Bound<'py, PyAny>> {
    if v.is_null() {
        return Ok(match ty {
            Ty::List(_) => PyList::empty(py).into_any(),
            Ty::Dict(_) => PyDict::new(py).into_any(),
            _ => py.None().into_bound(py),
        });
    }
    match ty {
        Ty::Opt(t) => value_to_py(py, v, t),
        Ty::Float => match v.as_f64() {
            Some(f) => Ok(f.into_pyobject(py)?.into_any()),
            None => convert::to_py(py, v),
        },
        Ty::Time => match v.as_str() {
            Some(s) => match whole_utc_seconds(s) {
                Some(parts) => utc_datetime(py, parts),
                None => {
                    let t = ssot_core::state::parse_timestamp(s)
                        .map_err(pyo3::exceptions::PyValueError::new_err)?;
                    Ok(t.into_pyobject(py)?.into_any())
                }
            },
            None => convert::to_py(py, v),
        },
        Ty::Path => match v.as_str() {
            Some(s) => Ok(std::path::PathBuf::from(s).into_pyobject(py)?.into_any()),
            None => convert::to_py(py, v),
        },
        Ty::Enum(class) => match v.as_str() {
            Some(s) => convert::member(py, class, s),
            None => convert::to_py(py, v),
        },
        Ty::List(t) => match v.as_array() {
            Some(a) => {
                let items: PyResult<Vec<Bound<'py, PyAny>>> =
                    a.iter().map(|x| value_to_py(py, x, t)).collect();
                Ok(PyList::new(py, items?)?.into_any())
            }
            None => convert::to_py(py, v),
        },
        Ty::Dict(t) => match v.as_object() {
            Some(m) => {
                let d = PyDict::new(py);
                for (k, x) in m {
                    d.set_item(k, value_to_py(py, x, t)?)?;
                }
                Ok(d.into_any())
            }
            None => convert::to_py(py, v),
        },
        // Not reached (a record is made by `to_py`): the plain value.
        Ty::Record(_) => convert::to_py(py, v),
        // Not reached (`Attr` chooses the type by the sibling): plain.
        Ty::Select { .. } => convert::to_py(py, v),
        Ty::Str | Ty::Int | Ty::Bool | Ty::Any => scalar(py, v),
    }
}

/// The fields of a time the core writes as `YYYY-MM-DDTHH:MM:SSZ` (whole
/// seconds, UTC), when `s` is exactly that and a valid date and time;
/// anything else (a fraction, an offset, a leap second) is parsed by the
/// core's parser.
fn whole_utc_seconds(s: &str) -> Option<(i32, u8, u8, u8, u8, u8)> {
    let b = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    if b.len() != shape.len()
        || !b.iter().zip(shape).all(|(c, p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c == p,
        })
    {
        return None;
    }
    let n = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |a, c| a * 10 + u32::from(c - b'0'))
    };
    let (y, mo, d) = (n(0, 4), n(5, 7), n(8, 10));
    let (h, mi, se) = (n(11, 13), n(14, 16), n(17, 19));
    // A real calendar date (chrono knows the month lengths), no leap second.
    chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    if h > 23 || mi > 59 || se > 59 || y == 0 {
        return None;
    }
    Some((y as i32, mo as u8, d as u8, h as u8, mi as u8, se as u8))
}

/// An aware UTC `datetime` (`datetime.timezone.utc`, as pyo3's chrono
/// conversion gives), made by one call of the cached class.
fn utc_datetime(
    py: Python<'_>,
    (y, mo, d, h, mi, s): (i32, u8, u8, u8, u8, u8),
) -> PyResult<Bound<'_, PyAny>> {
    static CLASS: pyo3::sync::PyOnceLock<(Py<PyAny>, Py<PyAny>)> = pyo3::sync::PyOnceLock::new();
    let (class, utc) = CLASS.get_or_try_init(py, || -> PyResult<_> {
        let m = py.import("datetime")?;
        Ok((
            m.getattr("datetime")?.unbind(),
            m.getattr("timezone")?.getattr("utc")?.unbind(),
        ))
    })?;
    class.bind(py).call1((y, mo, d, h, mi, s, 0, utc.bind(py)))
}

/// A JSON scalar as its Python value, directly; anything else through
/// [`convert::to_py`].
fn scalar<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.into_pyobject(py)?.into_any(),
            (None, Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, None, Some(f)) => f.into_pyobject(py)?.into_any(),
            (None, None, None) => return convert::to_py(py, v),
        },
        _ => return convert::to_py(py, v),
    })
}

/// The value at `path` in `v` (`null` when absent).
pub fn at<'v>(v: &'v Value, path: &[String]) -> &'v Value {
    static NULL: Value = Value::Null;
    path.iter().try_fold(v, |v, k| v.get(k)).unwrap_or(&NULL)
}

/// A core list a record can be one item of, read one field at a time.
pub struct ItemReader {
    /// The JSON of field `name` of item `index` of `owner` (`None`: no such
    /// field, or left out).
    pub field: fn(&Bound<'_, PyAny>, usize, &str) -> PyResult<Option<Value>>,
    /// The whole item's JSON.
    pub whole: fn(&Bound<'_, PyAny>, usize) -> PyResult<Value>,
}

/// What a record reads its fields from.
enum Source {
    /// A place in a JSON document.
    Json(Node),
    /// Item `index` of the core list `owner` holds, read through `reader`.
    Item {
        owner: Py<PyAny>,
        index: usize,
        reader: &'static ItemReader,
    },
}

/// The base of the record classes: an immutable record of a result's JSON
/// or of an item of a core list; each attribute is converted when read.
#[pyclass(frozen, subclass, module = "ssot", name = "_Record")]
pub struct Record {
    source: Source,
}

impl Record {
    /// The node at `path` in the record.
    fn node(&self, py: Python<'_>, path: &[String]) -> PyResult<Node> {
        match &self.source {
            Source::Json(node) => Ok(node.pick(|v| at(v, path))),
            Source::Item {
                owner,
                index,
                reader,
            } => {
                let Some((first, rest)) = path.split_first() else {
                    return Ok(Node::new(Arc::new((reader.whole)(owner.bind(py), *index)?)));
                };
                let v = (reader.field)(owner.bind(py), *index, first)?.unwrap_or(Value::Null);
                Ok(Node::new(Arc::new(v)).pick(|v| at(v, rest)))
            }
        }
    }
}

#[pymethods]
impl Record {
    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = slf.get_type().name()?;
        let whole = slf.get().node(slf.py(), &[])?;
        // What names a record comes first (an artifact's id, a check's
        // rule), then its other fields in key order.
        const FIRST: [&str; 5] = ["id", "name", "rule", "status", "action"];
        let parts: Vec<String> = whole
            .get()
            .as_object()
            .map(|m| {
                let first = FIRST.iter().filter_map(|k| m.get_key_value(*k));
                let rest = m.iter().filter(|(k, _)| !FIRST.contains(&k.as_str()));
                first
                    .chain(rest)
                    .take(4)
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect()
            })
            .unwrap_or_default();
        Ok(format!("<{} {}>", name, parts.join(" ")))
    }
}

/// The record classes, made once by [`install`], by name.
static RECORDS: pyo3::sync::PyOnceLock<BTreeMap<String, Py<PyType>>> =
    pyo3::sync::PyOnceLock::new();

/// A record of class `name` reading from `source`.
fn make<'py>(py: Python<'py>, name: &str, source: Source) -> PyResult<Bound<'py, PyAny>> {
    let Some(class) = RECORDS.get(py).and_then(|r| r.get(name)) else {
        let whole = Record { source }.node(py, &[])?;
        return convert::to_py(py, whole.get());
    };
    // Made as the base class, then given its record class: a class call
    // (`type.__call__`, argument parsing, `__init__`) costs more than the
    // rest of a record. The record classes add no storage and share the
    // base's deallocator (`record_class`), so Python's own `__class__`
    // assignment accepts the change.
    let obj = Bound::new(py, Record { source })?.into_any();
    obj.setattr(intern!(py, "__class__"), class.bind(py))?;
    Ok(obj)
}

/// A record of class `name` at `node`.
pub fn record<'py>(py: Python<'py>, name: &str, node: Node) -> PyResult<Bound<'py, PyAny>> {
    make(py, name, Source::Json(node))
}

/// A record of class `name` holding the JSON `v`.
pub fn record_owned<'py>(py: Python<'py>, name: &str, v: Value) -> PyResult<Bound<'py, PyAny>> {
    record(py, name, Node::new(Arc::new(v)))
}

/// A record of class `name`: item `index` of the list `owner` holds.
pub fn record_item<'py>(
    owner: &Bound<'py, PyAny>,
    name: &str,
    index: usize,
    reader: &'static ItemReader,
) -> PyResult<Bound<'py, PyAny>> {
    let source = Source::Item {
        owner: owner.clone().unbind(),
        index,
        reader,
    };
    make(owner.py(), name, source)
}

/// Where an attribute's object keeps its JSON: the node at a path in it.
pub type NodeOf = fn(&Bound<'_, PyAny>, &[String]) -> PyResult<Node>;

// A read-only attribute: a field of its object's JSON, converted to its
// type when read. A descriptor (not a `property` over a function): a read
// is one slot call. No doc comment: the class's docstring would shadow the
// `__doc__` getter, which gives each attribute's own doc.
#[pyclass(frozen, module = "ssot", name = "_Field")]
pub struct Attr {
    path: Vec<String>,
    ty: Ty,
    doc: String,
    node_of: NodeOf,
}

#[pymethods]
impl Attr {
    fn __get__(
        slf: &Bound<'_, Self>,
        obj: Option<&Bound<'_, PyAny>>,
        _owner: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            // Read on the class: the descriptor itself (its doc).
            return Ok(slf.clone().into_any().unbind());
        };
        let this = slf.get();
        let node = (this.node_of)(obj, &this.path)?;
        let ty = match &this.ty {
            Ty::Select { by, alts } => {
                // The sibling `by` of the field, in the same object.
                let mut sibling = this.path.clone();
                sibling.pop();
                sibling.push(by.clone());
                let chooser = (this.node_of)(obj, &sibling)?;
                let when = chooser.get().as_str().unwrap_or_default();
                alts.iter()
                    .find(|(w, _)| w == when)
                    .map_or(&Ty::Any, |(_, t)| t)
            }
            ty => ty,
        };
        Ok(to_py(py, &node, ty)?.unbind())
    }

    fn __set__(&self, _obj: &Bound<'_, PyAny>, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(pyo3::exceptions::PyAttributeError::new_err(
            "results are immutable",
        ))
    }

    fn __delete__(&self, _obj: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(pyo3::exceptions::PyAttributeError::new_err(
            "results are immutable",
        ))
    }

    /// The field's doc comment in the core.
    #[getter(__doc__)]
    fn doc(&self) -> &str {
        &self.doc
    }
}

/// The attribute reading field `f` of the JSON `node_of` gives.
pub fn attr<'py>(py: Python<'py>, f: &Field, node_of: NodeOf) -> PyResult<Bound<'py, Attr>> {
    Bound::new(
        py,
        Attr {
            path: f.path.clone(),
            ty: f.ty.clone(),
            doc: f.doc.clone(),
            node_of,
        },
    )
}

fn record_node(obj: &Bound<'_, PyAny>, path: &[String]) -> PyResult<Node> {
    obj.cast::<Record>()?.get().node(obj.py(), path)
}

/// A record class: `ssot.NAME`, a subclass of `_Record` that adds no
/// storage and shares its deallocator, so a record made as a `_Record` can
/// be given it by `__class__` assignment (see [`record`]). A class made by
/// `type()` would have Python's own deallocator, which that assignment
/// refuses. Not subclassable, as the stub's `@final` says.
fn record_class<'py>(base: &Bound<'py, PyType>, name: &str) -> PyResult<Bound<'py, PyType>> {
    use pyo3::ffi;
    let py = base.py();
    // The name must outlive the class (CPython before 3.12 keeps the
    // pointer): one small string per record class, made once per process.
    let full = std::ffi::CString::new(format!("ssot.{name}"))
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    let full: &'static std::ffi::CStr = Box::leak(full.into_boxed_c_str());
    // SAFETY: `base` is a live type object; the slot is read, not changed.
    let dealloc = unsafe { ffi::PyType_GetSlot(base.as_type_ptr(), ffi::Py_tp_dealloc) };
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_tp_dealloc,
            pfunc: dealloc,
        },
        ffi::PyType_Slot {
            slot: 0,
            pfunc: std::ptr::null_mut(),
        },
    ];
    let mut spec = ffi::PyType_Spec {
        name: full.as_ptr(),
        basicsize: 0,
        itemsize: 0,
        flags: ffi::Py_TPFLAGS_DEFAULT as std::os::raw::c_uint,
        slots: slots.as_mut_ptr(),
    };
    let bases = PyTuple::new(py, [base])?;
    // SAFETY: the spec and its slots are valid for the call; the name lives
    // forever; the result is a new reference or NULL with an exception set.
    let cls = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpecWithBases(&mut spec, bases.as_ptr()))
    }?;
    Ok(cls.cast_into::<PyType>()?)
}

/// Makes every record class of `model` (a subclass of `_Record` with one
/// property per field) and adds it to the module.
pub fn install(m: &Bound<'_, PyModule>, model: &Model) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<Record>();
    let mut made = BTreeMap::new();
    for (name, class) in &model.records {
        let cls = record_class(&base, name)?;
        cls.setattr("__doc__", &class.doc)?;
        for f in &class.fields {
            cls.setattr(f.name.as_str(), attr(py, f, record_node)?)?;
        }
        m.add(name.as_str(), &cls)?;
        made.insert(name.clone(), cls.unbind());
    }
    let _ = RECORDS.set(py, made);
    Ok(())
}

/// The stub of a record class.
pub fn record_stub(class: &Class) -> String {
    let mut out = format!(
        "@final\nclass {}:\n{}",
        class.name,
        doc_lines(&class.doc, 4)
    );
    for f in &class.fields {
        out.push_str(&property_stub(f));
    }
    out
}

/// The stub of a property made from a field.
pub fn property_stub(f: &Field) -> String {
    format!(
        "    @property\n    def {}(self) -> {}:\n{}",
        f.name,
        f.ty.stub(),
        doc_lines(&f.doc, 8)
    )
}

/// A docstring, indented, as the stubs write it.
pub fn doc_lines(doc: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let doc = doc.trim();
    if doc.is_empty() {
        return format!("{pad}...\n");
    }
    let mut lines = doc.lines();
    let first = lines.next().unwrap_or_default();
    let rest: Vec<String> = lines
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect();
    if rest.is_empty() {
        format!("{pad}\"\"\"{first}\"\"\"\n")
    } else {
        format!("{pad}\"\"\"{first}\n{}\"\"\"\n", rest.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_second_utc_time_takes_the_short_way() {
        assert_eq!(
            whole_utc_seconds("2024-02-29T23:59:59Z"),
            Some((2024, 2, 29, 23, 59, 59))
        );
        for other in [
            "2023-02-29T00:00:00Z",      // no such day: the core's parser says so
            "2024-01-01T24:00:00Z",      // no such hour
            "2016-12-31T23:59:60Z",      // a leap second
            "2024-01-01T00:00:00.5Z",    // a fraction
            "2024-01-01T00:00:00+01:00", // an offset
            "2024-01-01 00:00:00Z",
            "0000-01-01T00:00:00Z",
            "２024-01-01T00:00:00Z",
        ] {
            assert_eq!(whole_utc_seconds(other), None, "{other}");
        }
    }
}
