//! Records as `key=value` lines: a serde format over [`StateFile`].
//!
//! A state record is a Rust type that derives `Serialize` and `Deserialize`;
//! [`write()`] writes it into a file and [`read`] reads it back, so a record has
//! one layout and no hand-kept reader/writer pair. The layout:
//!
//! * a struct's fields are keys; a nested struct or map adds a dotted segment
//!   (`volume.pgdata.used_pct`), so a map key holds no `.`;
//! * a list is numbered from 1 (`reason.1`, `reason.2`); on read, every
//!   number must be there, from 1 without gaps (a gap or `reason.0` is an
//!   error naming the key); numbers are read from the keys, never from a
//!   count, so a file drives no loop beyond its own lines;
//! * an `Option` that is `None` writes no key (and removes the old one);
//!   a missing key reads as `None`; an `Option` of a list or map is not
//!   supported (a list is simply empty);
//! * integers print plain, floats as integers when integral, else with two
//!   decimals (`91.25`, `3600`); unit enum variants print their serde name;
//! * reading ignores keys the record does not declare (other tools' keys),
//!   and [`write()`] replaces only the keys the record owns: a scalar field's
//!   key in place, a list's or map's family (`reason.*`) removed and appended;
//!   a struct field, or an entry of a top-level map (`<profile>.*`), owns its
//!   fields one by one the same way, so other entries and keys stay;
//! * a struct field renamed to [`INLINE`] (`#[serde(rename = "")]`) adds no
//!   segment: its struct's fields are keys of the enclosing node, so a
//!   struct declared once (the WAL measurements) is a record's keys as it
//!   is a JSON object's keys under `#[serde(flatten)]` (which this format
//!   cannot read: flatten buffers every value, and here numbers are text);
//! * a struct field renamed to a prefix ending in `_`
//!   (`#[serde(rename = "last_")]`) is inlined with that prefix: its
//!   struct's fields are the keys `last_at`, `last_artifact` of the
//!   enclosing node (as [`INLINE`] is, with an empty prefix). Its keys are
//!   those that start with the prefix, less the enclosing struct's own
//!   fields (`last_result`) and the keys of a longer prefix beside it
//!   (`last_complete_`); an `Option` of it is `Some` when there is any.
//!   A key under the prefix that is no field of its struct is otherwise
//!   ignored, but it alone still makes the `Option` `Some`, so the record
//!   then lacks its required keys and the file fails closed (`last_note=x`
//!   without `last_at`): a key under ssot's own prefix is taken as ssot's,
//!   perhaps mistyped, not as another tool's. The field needs
//!   `#[serde(default)]`;
//! * a list under [`joined`] writes item N's fields as `field.N_<name>`
//!   (`recent.1_at`) instead of `field.N.<name>`.
//!
//! Every error names the file, the line and the key; validators that need
//! more than one field run on the typed value after [`read`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use ssot_core::statefile::{record, StateFile};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Status {
//!     wal_status: String,
//!     wal_size: Option<u64>,
//!     #[serde(rename = "reason", default)]
//!     reasons: Vec<String>,
//! }
//!
//! let mut f = StateFile::parse(b"owner=alex\n", "wal.status")?;
//! let s = Status { wal_status: "OK".into(), wal_size: Some(4096), reasons: vec!["a".into()] };
//! record::write(&mut f, &s)?;
//! assert_eq!(f.render(), "owner=alex\nwal_status=OK\nwal_size=4096\nreason.1=a\n");
//! assert_eq!(record::read::<Status>(&f)?, s);
//! # Ok::<(), ssot_core::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, Impossible, Serialize};
use serde::Deserialize;

use super::{Line, StateFile};
use crate::error::Error;

/// An error inside the format, located (file, line, key) before it leaves
/// [`read`] or [`write()`].
#[derive(Debug)]
pub enum RecordError {
    /// A message about the value being read or written.
    Message(String),
    /// A required field is absent (the field name, relative to its node).
    Missing(String),
    /// An error already naming its file, line and key.
    Located(Error),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Message(m) => f.write_str(m),
            RecordError::Missing(k) => write!(f, "missing key \"{k}\""),
            RecordError::Located(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RecordError {}

impl de::Error for RecordError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        RecordError::Message(msg.to_string())
    }
    fn missing_field(field: &'static str) -> Self {
        RecordError::Missing(field.to_string())
    }
}

impl ser::Error for RecordError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        RecordError::Message(msg.to_string())
    }
}

type R<T> = std::result::Result<T, RecordError>;

fn child_key(parent: &str, segment: &str) -> String {
    if parent.is_empty() {
        segment.to_string()
    } else {
        format!("{parent}.{segment}")
    }
}

/// The key of `segment` below a node: dotted, or appended as is when the
/// node's key already ends in its own separator (`bare`: a prefixed field
/// `last_`, a [`joined`] item `recent.1_`).
fn join_key(parent: &str, bare: bool, segment: &str) -> String {
    if bare {
        format!("{parent}{segment}")
    } else {
        child_key(parent, segment)
    }
}

/// Whether a struct field's name is a key prefix (`last_`): its struct's
/// fields are keys of the enclosing node, each prefixed with the name.
fn is_prefix(name: &str) -> bool {
    name.len() > 1 && name.ends_with('_')
}

/// Formats a float as every state file does: an integer when integral, else
/// two decimals.
pub fn format_f64(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

// ---- writing ----

/// What one field wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `None` or a unit: no key.
    Absent,
    /// One key, the field's own.
    Scalar,
    /// A family of `field.*` keys (a list, map or struct), replaced whole.
    Family,
    /// A struct (or the top-level map) whose fields were recorded one by one.
    Merged,
}

#[derive(Default)]
struct Out {
    pairs: Vec<(String, String)>,
    /// The keys a rewrite owns, in order: each key (or family prefix), its
    /// shape, and the range of `pairs` it wrote.
    fields: Vec<(String, Shape, std::ops::Range<usize>)>,
}

struct Ser<'a> {
    key: String,
    out: &'a mut Out,
    /// Inside [`dotted_map`]: map keys may hold `.`.
    dotted: bool,
    /// A struct here owns its fields one by one (the top level, and structs
    /// below it); anything else is a family replaced whole.
    merge: bool,
    /// The key ends in its own separator: children are appended to it
    /// without a dot (a prefixed field, a joined item).
    bare: bool,
    /// Inside [`joined`]: each item's key is `field.N_`.
    joined: bool,
}

impl Ser<'_> {
    fn leaf(self, value: String) -> R<Shape> {
        if self.key.is_empty() {
            return Err(RecordError::Message(
                "a record is a struct or a map, not a single value".into(),
            ));
        }
        self.out.pairs.push((self.key, value));
        Ok(Shape::Scalar)
    }
    fn unsupported(what: &str) -> RecordError {
        RecordError::Message(format!("{what} cannot be written as key=value"))
    }
}

macro_rules! ser_display {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> R<Shape> {
            self.leaf(v.to_string())
        })*
    };
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = Shape;
    type Error = RecordError;
    type SerializeSeq = SeqSer<'a>;
    type SerializeTuple = SeqSer<'a>;
    type SerializeTupleStruct = SeqSer<'a>;
    type SerializeTupleVariant = Impossible<Shape, RecordError>;
    type SerializeMap = MapSer<'a>;
    type SerializeStruct = StructSer<'a>;
    type SerializeStructVariant = Impossible<Shape, RecordError>;

    ser_display!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_char: char, serialize_str: &str);

    fn serialize_f32(self, v: f32) -> R<Shape> {
        self.leaf(format_f64(f64::from(v)))
    }
    fn serialize_f64(self, v: f64) -> R<Shape> {
        self.leaf(format_f64(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> R<Shape> {
        Err(Self::unsupported("bytes"))
    }
    fn serialize_none(self) -> R<Shape> {
        Ok(Shape::Absent)
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R<Shape> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R<Shape> {
        Ok(Shape::Absent)
    }
    fn serialize_unit_struct(self, _: &'static str) -> R<Shape> {
        Ok(Shape::Absent)
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> R<Shape> {
        self.leaf(variant.to_string())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> R<Shape> {
        v.serialize(Ser {
            dotted: name == DOTTED,
            joined: name == JOINED,
            ..self
        })
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R<Shape> {
        Err(Self::unsupported("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> R<SeqSer<'a>> {
        Ok(SeqSer { ser: self, n: 0 })
    }
    fn serialize_tuple(self, _: usize) -> R<SeqSer<'a>> {
        Ok(SeqSer { ser: self, n: 0 })
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> R<SeqSer<'a>> {
        Ok(SeqSer { ser: self, n: 0 })
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeTupleVariant> {
        Err(Self::unsupported("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> R<MapSer<'a>> {
        Ok(MapSer {
            ser: self,
            next: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> R<StructSer<'a>> {
        Ok(StructSer { ser: self })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeStructVariant> {
        Err(Self::unsupported("an enum variant with data"))
    }
}

struct SeqSer<'a> {
    ser: Ser<'a>,
    n: u64,
}

impl SeqSer<'_> {
    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> R<()> {
        self.n += 1;
        let mut key = join_key(&self.ser.key, self.ser.bare, &self.n.to_string());
        if self.ser.joined {
            key.push('_');
        }
        v.serialize(Ser {
            key,
            out: self.ser.out,
            dotted: false,
            merge: false,
            bare: self.ser.joined,
            joined: false,
        })
        .map(drop)
    }
}

impl ser::SerializeSeq for SeqSer<'_> {
    type Ok = Shape;
    type Error = RecordError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> R<()> {
        self.element(v)
    }
    fn end(self) -> R<Shape> {
        Ok(Shape::Family)
    }
}

impl ser::SerializeTuple for SeqSer<'_> {
    type Ok = Shape;
    type Error = RecordError;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> R<()> {
        self.element(v)
    }
    fn end(self) -> R<Shape> {
        Ok(Shape::Family)
    }
}

impl ser::SerializeTupleStruct for SeqSer<'_> {
    type Ok = Shape;
    type Error = RecordError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> R<()> {
        self.element(v)
    }
    fn end(self) -> R<Shape> {
        Ok(Shape::Family)
    }
}

struct MapSer<'a> {
    ser: Ser<'a>,
    next: Option<String>,
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = Shape;
    type Error = RecordError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> R<()> {
        let k = scalar_string(key)?;
        if !super::valid_key(&k) || (!self.ser.dotted && k.contains('.')) {
            return Err(RecordError::Message(format!(
                "\"{k}\" cannot be a key segment (letters, digits, '_', '-')"
            )));
        }
        self.next = Some(k);
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> R<()> {
        let k = self
            .next
            .take()
            .ok_or_else(|| RecordError::Message("a map value without a key".into()))?;
        let key = join_key(&self.ser.key, self.ser.bare, &k);
        // The top-level map's entries are owned one by one (as a struct's
        // fields are); a map below is a family.
        let merge = self.ser.merge && self.ser.key.is_empty();
        let start = self.ser.out.pairs.len();
        let shape = v.serialize(Ser {
            key: key.clone(),
            out: self.ser.out,
            dotted: false,
            merge,
            bare: false,
            joined: false,
        })?;
        if merge && shape != Shape::Merged {
            let end = self.ser.out.pairs.len();
            self.ser.out.fields.push((key, shape, start..end));
        }
        Ok(())
    }
    fn end(self) -> R<Shape> {
        Ok(if self.ser.merge && self.ser.key.is_empty() {
            Shape::Merged
        } else {
            Shape::Family
        })
    }
}

struct StructSer<'a> {
    ser: Ser<'a>,
}

impl ser::SerializeStruct for StructSer<'_> {
    type Ok = Shape;
    type Error = RecordError;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, name: &'static str, v: &T) -> R<()> {
        let merge = self.ser.merge;
        let (key, bare) = if name == INLINE {
            (self.ser.key.clone(), self.ser.bare)
        } else {
            let key = join_key(&self.ser.key, self.ser.bare, name);
            (key, is_prefix(name))
        };
        let start = self.ser.out.pairs.len();
        let shape = v.serialize(Ser {
            key: key.clone(),
            out: self.ser.out,
            dotted: false,
            merge,
            bare,
            joined: false,
        })?;
        if merge && shape != Shape::Merged {
            let end = self.ser.out.pairs.len();
            self.ser.out.fields.push((key, shape, start..end));
        }
        Ok(())
    }
    fn end(self) -> R<Shape> {
        Ok(if self.ser.merge {
            Shape::Merged
        } else {
            Shape::Family
        })
    }
}

/// `value` as the one string a state file would hold for it (a string as
/// is, a number formatted as in every state file, a unit enum variant by its
/// serde name). An error for lists, maps and structs.
pub fn scalar_string<T: ?Sized + Serialize>(value: &T) -> R<String> {
    let mut out = Out::default();
    let shape = value.serialize(Ser {
        key: "_".into(),
        out: &mut out,
        dotted: false,
        merge: false,
        bare: false,
        joined: false,
    })?;
    match (shape, out.pairs.pop()) {
        (Shape::Scalar, Some((_, v))) => Ok(v),
        _ => Err(RecordError::Message("not a single value".into())),
    }
}

fn located(path: &str, key: &str, bare: bool, line: usize, e: RecordError) -> Error {
    match e {
        RecordError::Located(e) => e,
        RecordError::Missing(field) => Error::MissingKey {
            path: path.into(),
            key: join_key(key, bare, &field),
        },
        RecordError::Message(message) => Error::InvalidValue {
            path: path.into(),
            line,
            key: key.into(),
            message,
        },
    }
}

/// Writes `record` into `file`: every key the record owns is replaced (a
/// scalar in place, a family removed and appended, a `None` removed); every
/// other line is kept, in its place.
pub fn write<T: Serialize>(file: &mut StateFile, record: &T) -> crate::error::Result<()> {
    let mut out = Out::default();
    record
        .serialize(Ser {
            key: String::new(),
            out: &mut out,
            dotted: false,
            merge: true,
            bare: false,
            joined: false,
        })
        .map_err(|e| located(file.path(), "", false, 0, e))?;
    for (name, shape, range) in out.fields {
        match shape {
            Shape::Merged => {}
            Shape::Absent => file.remove(&name),
            Shape::Scalar => file.set(&name, &out.pairs[range.start].1)?,
            Shape::Family => {
                file.remove_prefix(&format!("{name}."));
                for (k, v) in &out.pairs[range] {
                    file.set(k, v)?;
                }
            }
        }
    }
    Ok(())
}

// ---- reading ----

#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    /// The key below the node being read.
    rest: &'a str,
    value: &'a str,
    line: usize,
}

/// A node of the key tree: its own value (`leaf`) and the keys below it.
struct Node<'a> {
    path: &'a str,
    key: String,
    leaf: Option<Entry<'a>>,
    children: Vec<Entry<'a>>,
    top: bool,
    /// Inside [`dotted_map`]: each key below is one entry, dots and all.
    dotted: bool,
    /// The key ends in its own separator (`last_`, `recent.1_`): it is
    /// present when any key is below it, and names its children without a dot.
    bare: bool,
    /// Inside [`joined`]: the keys below are `N_<field>`, grouped by `N`.
    joined: bool,
}

impl<'a> Node<'a> {
    /// The line errors about this node name: its own, else its first child's.
    fn line(&self) -> usize {
        self.leaf
            .or_else(|| self.children.first().copied())
            .map_or(0, |e| e.line)
    }

    /// The children grouped by their first segment, in file order (linear).
    fn groups(&self) -> Vec<(&'a str, Node<'a>)> {
        let mut index: HashMap<&'a str, usize> = HashMap::new();
        let mut out: Vec<(&'a str, Node<'a>)> = Vec::new();
        let separator = if self.joined { '_' } else { '.' };
        for e in &self.children {
            // `split` tells a key with nothing after its dot (`wal_status.`,
            // another tool's key) from the node's own key (`wal_status`):
            // the former is a child with an empty rest, never the leaf.
            let (segment, tail, split) = match e.rest.split_once(separator) {
                Some((segment, tail)) if !self.dotted => (segment, tail, true),
                _ => (e.rest, "", false),
            };
            let at = *index.entry(segment).or_insert_with(|| {
                let mut key = join_key(&self.key, self.bare, segment);
                if self.joined {
                    key.push('_');
                }
                out.push((
                    segment,
                    Node {
                        path: self.path,
                        key,
                        leaf: None,
                        children: Vec::new(),
                        top: false,
                        dotted: false,
                        bare: self.joined,
                        joined: false,
                    },
                ));
                out.len() - 1
            });
            let entry = Entry { rest: tail, ..*e };
            if !split {
                out[at].1.leaf = Some(entry);
            } else {
                out[at].1.children.push(entry);
            }
        }
        out
    }

    fn value(&self) -> R<Entry<'a>> {
        self.leaf.ok_or_else(|| {
            RecordError::Located(Error::MissingKey {
                path: self.path.into(),
                key: self.key.clone(),
            })
        })
    }

    fn locate(&self, e: RecordError) -> RecordError {
        RecordError::Located(located(self.path, &self.key, self.bare, self.line(), e))
    }

    /// The list under this node: `key.N` from 1 without gaps, in order of N.
    fn list(&self) -> R<Vec<Node<'a>>> {
        let name = self.key.rsplit('.').next().unwrap_or_default();
        let mut numbered = Vec::new();
        for (segment, node) in self.groups() {
            match segment.parse::<u64>() {
                Ok(n) if n >= 1 => numbered.push((n, node)),
                _ if self.joined => {
                    return Err(node.locate(RecordError::Message(format!(
                        "a {name} key is {name}.N_<field> with N = 1, 2, ..."
                    ))))
                }
                _ => {
                    return Err(node.locate(RecordError::Message(format!(
                        "a {name} key is {name}.N with N = 1, 2, ..."
                    ))))
                }
            }
        }
        numbered.sort_by_key(|(n, _)| *n);
        if let Some(((_, node), i)) = numbered.iter().zip(1u64..).find(|((n, _), i)| n != i) {
            return Err(node.locate(RecordError::Message(format!(
                "{}.{i} is missing before it",
                self.key
            ))));
        }
        Ok(numbered.into_iter().map(|(_, node)| node).collect())
    }
}

macro_rules! de_parse {
    ($($method:ident => $visit:ident: $ty:ty),*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
            let e = self.value()?;
            let v: $ty = e.value.parse().map_err(|err| {
                RecordError::Message(format!("invalid value \"{}\": {err}", e.value))
            })?;
            visitor.$visit(v)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Node<'de> {
    type Error = RecordError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        match self.leaf {
            Some(e) if self.children.is_empty() => visitor.visit_borrowed_str(e.value),
            _ => self.deserialize_map(visitor),
        }
    }

    de_parse!(deserialize_bool => visit_bool: bool, deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16, deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64, deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16, deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64, deserialize_char => visit_char: char);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        let e = self.value()?;
        let v: f64 = e
            .value
            .parse()
            .map_err(|_| RecordError::Message(format!("\"{}\" is not a number", e.value)))?;
        visitor.visit_f64(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_borrowed_str(self.value()?.value)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        if self.leaf.is_some() || (self.bare && !self.children.is_empty()) {
            visitor.visit_some(self)
        } else {
            visitor.visit_none()
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> R<V::Value> {
        visitor.visit_newtype_struct(Node {
            dotted: name == DOTTED,
            joined: name == JOINED,
            ..self
        })
    }
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        let items = self.list()?;
        visitor.visit_seq(Items {
            items: items.into_iter(),
        })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> R<V::Value> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> R<V::Value> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        let groups = self.groups();
        visitor.visit_map(Groups {
            groups: groups.into_iter(),
            value: None,
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let mut groups = self.groups();
        if self.top {
            // Other tools' keys are theirs: not offered, not checked.
            groups.retain(|(segment, _)| fields.contains(segment));
        }
        if fields.contains(&INLINE) {
            // The inlined struct reads the same keys (it picks its own).
            groups.push((
                INLINE,
                Node {
                    path: self.path,
                    key: self.key.clone(),
                    leaf: None,
                    children: self.children.clone(),
                    top: self.top,
                    dotted: false,
                    bare: self.bare,
                    joined: false,
                },
            ));
        }
        for prefix in fields.iter().copied().filter(|f| is_prefix(f)) {
            // A prefixed field reads the keys that start with its name,
            // without it (`last_at` is `at` of `last_`).
            // A key that is one of the struct's own fields, or under a
            // longer prefix (`last_complete_` beside `last_`), is not its.
            groups.retain(|(segment, _)| *segment != prefix);
            let theirs = |key: &str| {
                fields.contains(&key.split('.').next().unwrap_or(key))
                    || fields
                        .iter()
                        .any(|f| f.len() > prefix.len() && is_prefix(f) && key.starts_with(f))
            };
            let children: Vec<Entry<'de>> = self
                .children
                .iter()
                .filter(|e| !theirs(e.rest))
                .filter_map(|e| {
                    let rest = e.rest.strip_prefix(prefix)?;
                    Some(Entry { rest, ..*e })
                })
                .collect();
            if !children.is_empty() {
                groups.push((
                    prefix,
                    Node {
                        path: self.path,
                        key: join_key(&self.key, self.bare, prefix),
                        leaf: None,
                        children,
                        top: false,
                        dotted: false,
                        bare: true,
                        joined: false,
                    },
                ));
            }
        }
        visitor
            .visit_map(Groups {
                groups: groups.into_iter(),
                value: None,
            })
            .map_err(|e| match e {
                RecordError::Missing(field) => RecordError::Located(Error::MissingKey {
                    path: self.path.into(),
                    key: join_key(&self.key, self.bare, &field),
                }),
                other => other,
            })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let value = de::value::BorrowedStrDeserializer::<RecordError>::new(self.value()?.value);
        visitor.visit_enum(value)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
}

struct Items<'a> {
    items: std::vec::IntoIter<Node<'a>>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = RecordError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let (path, key, bare, line) = (node.path, node.key.clone(), node.bare, node.line());
        seed.deserialize(node)
            .map(Some)
            .map_err(|e| RecordError::Located(located(path, &key, bare, line, e)))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Groups<'a> {
    groups: std::vec::IntoIter<(&'a str, Node<'a>)>,
    value: Option<Node<'a>>,
}

impl<'de> MapAccess<'de> for Groups<'de> {
    type Error = RecordError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some((segment, node)) = self.groups.next() else {
            return Ok(None);
        };
        let key = de::value::BorrowedStrDeserializer::<RecordError>::new(segment);
        let k = seed.deserialize(key).map_err(|e| node.locate(e))?;
        self.value = Some(node);
        Ok(Some(k))
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        let node = self
            .value
            .take()
            .ok_or_else(|| RecordError::Message("a map value without a key".into()))?;
        let (path, key, bare, line) = (node.path, node.key.clone(), node.bare, node.line());
        seed.deserialize(node)
            .map_err(|e| RecordError::Located(located(path, &key, bare, line, e)))
    }
}

/// Reads a record from `file`. Keys the record does not declare are
/// ignored; every error names the file, the line and the key.
pub fn read<'a, T: Deserialize<'a>>(file: &'a StateFile) -> crate::error::Result<T> {
    let children = file
        .lines
        .iter()
        .filter_map(|l| match l {
            Line::Pair { key, value, line } => Some(Entry {
                rest: key,
                value,
                line: *line,
            }),
            Line::Verbatim(_) => None,
        })
        .collect();
    let top = Node {
        path: &file.path,
        key: String::new(),
        leaf: None,
        children,
        top: true,
        dotted: false,
        bare: false,
        joined: false,
    };
    T::deserialize(top).map_err(|e| located(&file.path, "", false, 0, e))
}

// ---- field helpers for `#[serde(with = ...)]` ----

/// The newtype name by which [`dotted_map`] tells the format its keys may hold dots.
const DOTTED: &str = "$ssot::record::dotted_map";

/// The newtype name by which [`joined`] tells the format its items' keys
/// are `field.N_<name>`.
const JOINED: &str = "$ssot::record::joined";

/// The field name (`#[serde(rename = "")]`) of a struct field whose fields
/// are written and read without a key segment of their own.
pub const INLINE: &str = "";

/// A map of single values whose keys may hold `.`
/// (`invariant.sts.single_instance=pass`): every key below the field is one
/// entry, in key order.
pub mod dotted_map {
    use std::collections::BTreeMap;
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Visitor};
    use serde::{Serialize, Serializer};

    /// Writes each entry as `field.<key>=<value>`.
    pub fn serialize<S: Serializer, K: Serialize, V: Serialize>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(super::DOTTED, m)
    }

    /// Reads every `field.<key>=<value>`.
    pub fn deserialize<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    {
        struct Dotted<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for Dotted<K, V> {
            type Value = BTreeMap<K, V>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("keys below the field")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                BTreeMap::deserialize(d)
            }
        }
        d.deserialize_newtype_struct(super::DOTTED, Dotted(PhantomData))
    }
}

/// A list of structs whose item N's fields are keys `field.N_<name>`
/// (`recent.1_at`, `recent.1_artifact`) rather than `field.N.<name>`: the
/// layout of files whose item keys carry a suffix. Numbering, gaps and
/// errors are a list's; the keys below an item read as its fields
/// (a key without `_` after its number is an item's own value, which a
/// struct ignores). Also readable as a map from `N` to the item, for a
/// record that reads its numbers itself.
pub mod joined {
    use std::marker::PhantomData;

    use serde::de::{Deserialize, Deserializer, Visitor};
    use serde::{Serialize, Serializer};

    /// Writes item N's fields as `field.N_<name>`.
    pub fn serialize<S: Serializer, T: Serialize + ?Sized>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(super::JOINED, v)
    }

    /// Reads the items (or whatever `T` reads from them: a list, a map by `N`).
    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct Joined<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Joined<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("field.N_<name> keys")
            }
            fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
                T::deserialize(d)
            }
        }
        d.deserialize_newtype_struct(super::JOINED, Joined(PhantomData))
    }
}

/// A float in `[min, max]` read from its text, with the messages every
/// state file uses.
fn f64_in(v: &str, min: f64, max: f64) -> std::result::Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(x),
        Ok(_) => Err(format!("\"{v}\" is outside the range {min} to {max}")),
        Err(_) => Err(format!("\"{v}\" is not a number")),
    }
}

/// A number as a state file holds it (text) or as JSON does, kept as text
/// so [`f64_in`] judges both with the same messages.
struct NumberText(String);

impl<'de> Deserialize<'de> for NumberText {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = NumberText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<NumberText, E> {
                Ok(NumberText(v.to_string()))
            }
        }
        d.deserialize_any(Text)
    }
}

fn opt_f64_in<'de, D: de::Deserializer<'de>>(
    d: D,
    min: f64,
    max: f64,
) -> std::result::Result<Option<f64>, D::Error> {
    Option::<NumberText>::deserialize(d)?
        .map(|v| f64_in(&v.0, min, max).map_err(de::Error::custom))
        .transpose()
}

/// `Option<f64>` in 0..=100 (a percentage).
pub fn opt_percent<'de, D: de::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    opt_f64_in(d, 0.0, 100.0)
}

/// `f64` in 0..=100 (a percentage).
pub fn percent<'de, D: de::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v = <&str>::deserialize(d)?;
    f64_in(v, 0.0, 100.0).map_err(de::Error::custom)
}

/// `Option<f64>`, finite (a rate, possibly negative).
pub fn opt_finite<'de, D: de::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    opt_f64_in(d, f64::MIN, f64::MAX)
}

/// `Option<f64>`, finite and ≥ 0 (a duration in seconds).
pub fn opt_non_negative<'de, D: de::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    opt_f64_in(d, 0.0, f64::MAX)
}

/// An RFC 3339 timestamp, written in UTC with whole seconds.
pub mod timestamp {
    use chrono::{DateTime, Utc};
    use serde::{de, Deserialize, Deserializer, Serializer};

    /// Writes `t` as every state file does.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::timestamp(*t))
    }

    /// Reads an RFC 3339 timestamp (any offset).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let v = <&str>::deserialize(d)?;
        crate::time::parse_timestamp(v).map_err(|m| de::Error::custom(format!("\"{v}\" is {m}")))
    }
}

/// [`timestamp`] for an `Option`.
pub mod opt_timestamp {
    use chrono::{DateTime, Utc};
    use serde::{de, Deserialize, Deserializer, Serializer};

    /// Writes `t` as every state file does, or no key.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&crate::time::timestamp(*t)),
            None => s.serialize_none(),
        }
    }

    /// Reads an RFC 3339 timestamp (any offset) if the key is there.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<&str>::deserialize(d)?
            .map(|v| {
                crate::time::parse_timestamp(v)
                    .map_err(|m| de::Error::custom(format!("\"{v}\" is {m}")))
            })
            .transpose()
    }
}

/// A value written by its serde name and read with `FromStr`, whose error
/// message is the one the file's error gives.
pub mod from_str {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `v` by its serde name.
    pub fn serialize<S: Serializer, T: Serialize>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    /// Reads `v` with `FromStr`.
    pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr,
        T::Err: Display,
    {
        <&str>::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

/// [`dotted_map`] whose values are read with `FromStr` (each error names
/// its own key and line).
pub mod dotted_map_from_str {
    use std::collections::BTreeMap;
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    struct Parsed<T>(T);

    impl<'de, T: FromStr> Deserialize<'de> for Parsed<T>
    where
        T::Err: Display,
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::from_str::deserialize(d).map(Parsed)
        }
    }

    /// Writes each entry as `field.<key>=<serde name>`.
    pub fn serialize<S: Serializer, V: Serialize>(
        m: &BTreeMap<String, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        super::dotted_map::serialize(m, s)
    }

    /// Reads every `field.<key>=<value>`, each value with `FromStr`.
    pub fn deserialize<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: FromStr,
        V::Err: Display,
    {
        let m: BTreeMap<String, Parsed<V>> = super::dotted_map::deserialize(d)?;
        Ok(m.into_iter().map(|(k, Parsed(v))| (k, v)).collect())
    }
}

/// A list written as one comma-separated value (`active_rules=a,b`); empty
/// items and surrounding spaces are dropped on read.
pub mod comma_list {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the items joined by `,`.
    pub fn serialize<S: Serializer>(items: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&items.join(","))
    }

    /// Reads the items; no key (only other tools' keys below it, such as
    /// `failed.note`) is no items.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(Option::<&str>::deserialize(d)?
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(String::from)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        used_pct: f64,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rec {
        name: String,
        count: Option<u64>,
        ratio: f64,
        #[serde(default)]
        item: Vec<String>,
        #[serde(default)]
        volume: BTreeMap<String, Inner>,
    }

    fn rec() -> Rec {
        Rec {
            name: "x".into(),
            count: Some(3),
            ratio: 0.126,
            item: vec!["a".into(), "b=c".into()],
            volume: [("pgdata".to_string(), Inner { used_pct: 50.0 })].into(),
        }
    }

    #[test]
    fn a_record_round_trips_in_the_documented_layout() {
        let mut f = StateFile::new("r");
        write(&mut f, &rec()).unwrap();
        assert_eq!(
            f.render(),
            "name=x\ncount=3\nratio=0.13\nitem.1=a\nitem.2=b=c\nvolume.pgdata.used_pct=50\n"
        );
        let back: Rec = read(&f).unwrap();
        assert_eq!(back.item, rec().item);
        assert_eq!(back.volume, rec().volume);
        assert_eq!(back.ratio, 0.13);
    }

    #[test]
    fn a_rewrite_replaces_owned_keys_and_keeps_the_rest() {
        let mut f = StateFile::parse(b"# c\nitem.7=old\nname=y\nother=1\ncount=9\n", "r").unwrap();
        let mut r = rec();
        r.count = None;
        r.volume.clear();
        write(&mut f, &r).unwrap();
        assert_eq!(
            f.render(),
            "# c\nname=x\nother=1\nratio=0.13\nitem.1=a\nitem.2=b=c\n"
        );
    }

    #[test]
    fn read_errors_name_file_line_and_key() {
        let cases: &[(&[u8], &str)] = &[
            (b"ratio=1\n", "r: missing key \"name\""),
            (b"name=x\n", "r: missing key \"ratio\""),
            (
                b"name=x\nratio=1\ncount=-1\n",
                "r:3: key \"count\": invalid value \"-1\"",
            ),
            (
                b"name=x\nratio=z\n",
                "r:2: key \"ratio\": \"z\" is not a number",
            ),
            (
                b"name=x\nratio=1\nitem.2=a\n",
                "r:3: key \"item.2\": item.1 is missing before it",
            ),
            (
                b"name=x\nratio=1\nitem.01x=a\n",
                "r:3: key \"item.01x\": a item key is item.N",
            ),
            (
                b"name=x\nratio=1\nvolume.a.b=1\n",
                "r: missing key \"volume.a.used_pct\"",
            ),
        ];
        for (text, want) in cases {
            let f = StateFile::parse(text, "r").unwrap();
            let err = read::<Rec>(&f).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
        let f = StateFile::parse(b"name=x\nratio=1\nforeign.1=a\nname.x=1\n", "r").unwrap();
        assert_eq!(read::<Rec>(&f).unwrap().name, "x");
        // A trailing dot is another key, never the field (nor a list item).
        let f = StateFile::parse(b"name=x\nratio=1\nname.=y\nitem.1=a\nitem.1.=b\n", "r").unwrap();
        let r = read::<Rec>(&f).unwrap();
        assert_eq!(
            (r.name.as_str(), r.item.as_slice()),
            ("x", ["a".to_string()].as_slice())
        );
        let f = StateFile::parse(b"name.=y\nratio=1\n", "r").unwrap();
        assert!(read::<Rec>(&f)
            .unwrap_err()
            .to_string()
            .starts_with("r: missing key \"name\""));
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Item {
        at: u64,
        #[serde(default)]
        size: Option<u64>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Prefixed {
        #[serde(rename = "last_", default, skip_serializing_if = "Option::is_none")]
        last: Option<Item>,
        #[serde(
            rename = "last_done_",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        done: Option<Item>,
        last_result: String,
        #[serde(rename = "recent", default, with = "joined")]
        recent: Vec<Item>,
    }

    fn prefixed() -> Prefixed {
        let item = |at, size| Item { at, size };
        Prefixed {
            last: Some(item(2, None)),
            done: Some(item(1, Some(7))),
            last_result: "ok".into(),
            recent: vec![item(1, Some(7)), item(0, None)],
        }
    }

    #[test]
    fn prefixed_fields_and_joined_items_round_trip() {
        let mut f = StateFile::parse(b"# c\nowner=x\n", "r").unwrap();
        write(&mut f, &prefixed()).unwrap();
        let text = "# c\nowner=x\nlast_at=2\nlast_done_at=1\nlast_done_size=7\nlast_result=ok\nrecent.1_at=1\nrecent.1_size=7\nrecent.2_at=0\n";
        assert_eq!(f.render(), text);
        assert_eq!(read::<Prefixed>(&f).unwrap(), prefixed());
        // A rewrite replaces a prefixed field's keys one by one, in place
        // (a `None` one removed), and the joined family whole.
        let mut r = prefixed();
        r.last = Some(Item {
            at: 3,
            size: Some(9),
        });
        r.done = None;
        r.recent.truncate(1);
        write(&mut f, &r).unwrap();
        assert_eq!(
            f.render(),
            "# c\nowner=x\nlast_at=3\nlast_done_at=1\nlast_done_size=7\nlast_result=ok\nlast_size=9\nrecent.1_at=1\nrecent.1_size=7\n"
        );
        r.done = Some(Item {
            at: 1,
            size: Some(7),
        });
        assert_eq!(read::<Prefixed>(&f).unwrap(), r);
        // No key under a prefix: `None`; read as a map by N, joined items
        // give their numbers.
        let f = StateFile::parse(b"last_result=ok\nrecent.2_at=5\nrecent.x=1\n", "r").unwrap();
        #[derive(Deserialize)]
        struct ByNumber {
            #[serde(with = "joined")]
            recent: BTreeMap<String, BTreeMap<String, String>>,
        }
        let m = read::<ByNumber>(&f).unwrap().recent;
        assert_eq!(m.keys().collect::<Vec<_>>(), ["2", "x"]);
        assert_eq!(m["2"]["at"], "5");
        let f = StateFile::parse(b"last_result=ok\n", "r").unwrap();
        let r = read::<Prefixed>(&f).unwrap();
        assert_eq!((r.last, r.done, r.recent), (None, None, Vec::new()));
    }

    #[test]
    fn prefixed_and_joined_errors_name_their_keys() {
        let cases: &[(&[u8], &str)] = &[
            (
                b"last_result=ok\nlast_size=3\n",
                "r: missing key \"last_at\"",
            ),
            (
                b"last_result=ok\nlast_done_at=x\n",
                "r:2: key \"last_done_at\": invalid value \"x\"",
            ),
            (
                b"last_result=ok\nrecent.1_size=1\n",
                "r: missing key \"recent.1_at\"",
            ),
            (
                b"last_result=ok\nrecent.1_at=1\nrecent.1_size=z\n",
                "r:3: key \"recent.1_size\": invalid value \"z\"",
            ),
            (
                b"last_result=ok\nrecent.2_at=1\n",
                "r:2: key \"recent.2_\": recent.1 is missing before it",
            ),
            (
                b"last_result=ok\nrecent.1.at=1\n",
                "r:2: key \"recent.1.at_\": a recent key is recent.N_<field>",
            ),
            (
                b"last_result=ok\nrecent.0_at=1\n",
                "r:2: key \"recent.0_\": a recent key is recent.N_<field>",
            ),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let f = StateFile::parse(text, "r").unwrap();
            match read::<Prefixed>(&f) {
                Err(e) if e.to_string().starts_with(want) => {}
                other => wrong.push(format!(
                    "{:?}: {other:?}, want {want:?}",
                    String::from_utf8_lossy(text)
                )),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // Another struct's keys that share the prefix are not its fields.
        let f = StateFile::parse(b"last_result=ok\nlast_at=1\nlast_other=z\n", "r").unwrap();
        assert_eq!(
            read::<Prefixed>(&f).unwrap().last,
            Some(Item { at: 1, size: None })
        );
    }

    #[test]
    fn scalars_format_as_state_files_do() {
        assert_eq!(scalar_string(&3600.0f64).unwrap(), "3600");
        assert_eq!(scalar_string(&1234.5678f64).unwrap(), "1234.57");
        assert_eq!(
            scalar_string(&crate::wal::Level::NearLimit).unwrap(),
            "NEAR_LIMIT"
        );
        assert!(scalar_string(&vec![1u8]).is_err());
    }
}
