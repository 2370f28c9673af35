//! The result classes' attributes, read from the core's JSON Schema
//! (`ssot_core::schema`, derived from the result types): each JSON field is
//! a typed attribute (times as aware datetimes, the core's enums as the str
//! enums of `ssot.enums`, nested objects as immutable records), and the
//! stubs of the result classes are rendered from the same model. Nothing
//! here lists a field: a field added to a core result appears in Python and
//! in the generated stub.

use std::collections::{BTreeMap, BTreeSet};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
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

/// `v` as the Python value of type `ty`.
pub fn to_py<'py>(py: Python<'py>, v: &Value, ty: &Ty) -> PyResult<Bound<'py, PyAny>> {
    if v.is_null() {
        return Ok(match ty {
            Ty::List(_) => PyList::empty(py).into_any(),
            Ty::Dict(_) => PyDict::new(py).into_any(),
            _ => py.None().into_bound(py),
        });
    }
    match ty {
        Ty::Opt(t) => to_py(py, v, t),
        Ty::Float => match v.as_f64() {
            Some(f) => Ok(f.into_pyobject(py)?.into_any()),
            None => convert::to_py(py, v),
        },
        Ty::Time => match v.as_str() {
            Some(s) => {
                let t = ssot_core::state::parse_timestamp(s)
                    .map_err(pyo3::exceptions::PyValueError::new_err)?;
                Ok(t.into_pyobject(py)?.into_any())
            }
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
                    a.iter().map(|x| to_py(py, x, t)).collect();
                Ok(PyList::new(py, items?)?.into_any())
            }
            None => convert::to_py(py, v),
        },
        Ty::Dict(t) => match v.as_object() {
            Some(m) => {
                let d = PyDict::new(py);
                for (k, x) in m {
                    d.set_item(k, to_py(py, x, t)?)?;
                }
                Ok(d.into_any())
            }
            None => convert::to_py(py, v),
        },
        Ty::Record(name) => record(py, name, v),
        Ty::Str | Ty::Int | Ty::Bool | Ty::Any => scalar(py, v),
    }
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
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .unwrap_or(&Value::Null)
}

/// What a record is made from: its JSON, taken by the record made.
#[pyclass(frozen)]
struct Payload(std::sync::Mutex<Option<Value>>);

/// The base of the record classes: an immutable record holding its JSON
/// object; each attribute is converted from it when read.
#[pyclass(frozen, subclass, module = "ssot", name = "_Record")]
pub struct Record {
    json: Value,
}

#[pymethods]
impl Record {
    #[new]
    fn new(payload: &Bound<'_, Payload>) -> Self {
        let json = payload
            .get()
            .0
            .lock()
            .ok()
            .and_then(|mut v| v.take())
            .unwrap_or(Value::Null);
        Record { json }
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let name = slf.get_type().name()?;
        // What names a record comes first (an artifact's id, a check's
        // rule), then its other fields in key order.
        const FIRST: [&str; 5] = ["id", "name", "rule", "status", "action"];
        let parts: Vec<String> = slf
            .get()
            .json
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
static RECORDS: pyo3::sync::PyOnceLock<BTreeMap<String, Py<PyAny>>> = pyo3::sync::PyOnceLock::new();

fn record<'py>(py: Python<'py>, name: &str, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    record_owned(py, name, v.clone())
}

/// A record of class `name` holding `v`.
pub fn record_owned<'py>(py: Python<'py>, name: &str, v: Value) -> PyResult<Bound<'py, PyAny>> {
    let Some(class) = RECORDS.get(py).and_then(|r| r.get(name)) else {
        return convert::to_py(py, &v);
    };
    let payload = Bound::new(py, Payload(std::sync::Mutex::new(Some(v))))?;
    class.bind(py).call1((payload,))
}

/// A `property` converting the record's field `f` when read.
fn record_property<'py>(py: Python<'py>, f: &Field) -> PyResult<Bound<'py, PyAny>> {
    let (path, ty) = (f.path.clone(), f.ty.clone());
    let get = pyo3::types::PyCFunction::new_closure(
        py,
        None,
        None,
        move |args: &Bound<'_, PyTuple>, _| -> PyResult<Py<PyAny>> {
            let obj = args.get_item(0)?;
            let rec = obj.cast::<Record>()?;
            Ok(to_py(obj.py(), at(&rec.get().json, &path), &ty)?.unbind())
        },
    )?;
    property(py, get.into_any(), &f.doc)
}

/// `property(get, doc=doc)`.
pub fn property<'py>(
    py: Python<'py>,
    get: Bound<'py, PyAny>,
    doc: &str,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("builtins")?
        .getattr("property")?
        .call1((get, py.None(), py.None(), doc))
}

/// Makes every record class of `model` (a subclass of `_Record` with one
/// property per field) and adds it to the module.
pub fn install(m: &Bound<'_, PyModule>, model: &Model) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<Record>();
    let mut made = BTreeMap::new();
    for (name, class) in &model.records {
        let ns = PyDict::new(py);
        ns.set_item("__doc__", &class.doc)?;
        ns.set_item("__module__", "ssot")?;
        ns.set_item("__slots__", PyTuple::empty(py))?;
        for f in &class.fields {
            ns.set_item(&f.name, record_property(py, f)?)?;
        }
        let cls = py
            .import("builtins")?
            .getattr("type")?
            .call1((name, (base.clone(),), ns))?;
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
