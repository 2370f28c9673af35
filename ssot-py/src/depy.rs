//! A serde `Deserializer` over plain Python values (what `json.load`
//! gives: dict, list, tuple, str, int, float, bool, None): the core's types
//! are read from them by their own `Deserialize`, as from the CLI's JSON.
//!
//! It replaces pythonize on the way in because the input of a plan can be
//! 100k dicts: a dict is walked in place (no lists of its keys and values),
//! a str is borrowed as UTF-8 where Python holds it, and each value is
//! tested for the plain types first. Anything else (a datetime, a path, a
//! result) is refused with [`Error::NotPlain`], and the caller makes the
//! value plain first ([`crate::convert::plain`]).

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// Why a value could not be read.
#[derive(Debug)]
pub enum Error {
    /// A value that is not plain data: make it plain, then read it again.
    NotPlain,
    /// Nested deeper than the limit.
    TooDeep,
    /// What serde (or Python) said.
    Message(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotPlain => f.write_str("not plain data"),
            Error::TooDeep => f.write_str("nested too deep"),
            Error::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Message(msg.to_string())
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Message(e.to_string())
    }
}

/// Reads a `T` from the plain Python value `v`, nested at most `depth`
/// lists, tuples and dicts deep.
pub fn from_plain<T: de::DeserializeOwned>(v: &Bound<'_, PyAny>, depth: usize) -> Result<T, Error> {
    T::deserialize(De { v, left: depth })
}

struct De<'a, 'py> {
    v: &'a Bound<'py, PyAny>,
    left: usize,
}

impl De<'_, '_> {
    fn inner(&self) -> Result<usize, Error> {
        self.left.checked_sub(1).ok_or(Error::TooDeep)
    }
}

impl<'de> de::Deserializer<'de> for De<'_, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let v = self.v;
        if let Ok(s) = v.cast::<PyString>() {
            return visitor.visit_str(&s.to_cow()?);
        }
        if let Ok(d) = v.cast::<PyDict>() {
            let left = self.inner()?;
            let mut items = d.iter();
            let mut map = MapAccess {
                next: &mut items,
                value: None,
                left,
            };
            return visitor.visit_map(&mut map);
        }
        if v.is_none() {
            return visitor.visit_unit();
        }
        // bool before int: a bool is one.
        if let Ok(b) = v.cast::<PyBool>() {
            return visitor.visit_bool(b.is_true());
        }
        if v.is_instance_of::<PyInt>() {
            if let Ok(i) = v.extract::<i64>() {
                return visitor.visit_i64(i);
            }
            if let Ok(u) = v.extract::<u64>() {
                return visitor.visit_u64(u);
            }
            return Err(Error::Message(format!(
                "the integer {} is out of range",
                v.str()?
            )));
        }
        if let Ok(f) = v.cast::<PyFloat>() {
            return visitor.visit_f64(f.value());
        }
        // Read by index, never through `__iter__`: no code of the caller's
        // runs while a dict above is walked (a list subclass whose
        // `__iter__` grew that dict made pyo3 panic: found by attack).
        let seq = if let Ok(l) = v.cast::<PyList>() {
            Some(Seq::List(l.clone()))
        } else if let Ok(t) = v.cast::<PyTuple>() {
            Some(Seq::Tuple(t.clone()))
        } else {
            None
        };
        if let Some(seq) = seq {
            let left = self.inner()?;
            return visitor.visit_seq(SeqAccess {
                seq,
                index: 0,
                left,
            });
        }
        Err(Error::NotPlain)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.v.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // A unit variant is its name; another is `{name: content}`, as in JSON.
        if let Ok(s) = self.v.cast::<PyString>() {
            let s: String = s.to_cow()?.into_owned();
            return visitor.visit_enum(s.into_deserializer());
        }
        if let Ok(d) = self.v.cast::<PyDict>() {
            if d.len() == 1 {
                if let Some((k, x)) = d.iter().next() {
                    let left = self.inner()?;
                    return visitor.visit_enum(EnumAccess {
                        key: k,
                        value: x,
                        left,
                    });
                }
            }
        }
        let _ = (name, variants);
        Err(de::Error::invalid_type(
            de::Unexpected::Other("a value that is neither a name nor a one-key dict"),
            &"an enum",
        ))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct MapAccess<'i, 'py> {
    next: &'i mut pyo3::types::iter::BoundDictIterator<'py>,
    value: Option<Bound<'py, PyAny>>,
    left: usize,
}

impl<'de> de::MapAccess<'de> for &mut MapAccess<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.next.next() else {
            return Ok(None);
        };
        let Ok(key) = k.cast::<PyString>() else {
            return Err(Error::Message(format!(
                "dict keys must be strings, not {}",
                k.get_type().name()?
            )));
        };
        self.value = Some(v);
        seed.deserialize(key.to_cow()?.as_ref().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let v = self
            .value
            .take()
            .ok_or_else(|| Error::Message("a value without its key".into()))?;
        seed.deserialize(De {
            v: &v,
            left: self.left,
        })
    }
}

/// A list or a tuple, read by index.
enum Seq<'py> {
    List(Bound<'py, PyList>),
    Tuple(Bound<'py, PyTuple>),
}

struct SeqAccess<'py> {
    seq: Seq<'py>,
    index: usize,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let i = self.index;
        let item = match &self.seq {
            Seq::List(l) if i < l.len() => l.get_item(i)?,
            Seq::Tuple(t) if i < t.len() => t.get_item(i)?,
            _ => return Ok(None),
        };
        self.index += 1;
        seed.deserialize(De {
            v: &item,
            left: self.left,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        let len = match &self.seq {
            Seq::List(l) => l.len(),
            Seq::Tuple(t) => t.len(),
        };
        Some(len.saturating_sub(self.index))
    }
}

struct EnumAccess<'py> {
    key: Bound<'py, PyAny>,
    value: Bound<'py, PyAny>,
    left: usize,
}

impl<'de, 'py> de::EnumAccess<'de> for EnumAccess<'py> {
    type Error = Error;
    type Variant = VariantAccess<'py>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Error> {
        let key = seed.deserialize(De {
            v: &self.key,
            left: self.left,
        })?;
        Ok((
            key,
            VariantAccess {
                value: self.value,
                left: self.left,
            },
        ))
    }
}

struct VariantAccess<'py> {
    value: Bound<'py, PyAny>,
    left: usize,
}

impl<'de> de::VariantAccess<'de> for VariantAccess<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(De {
            v: &self.value,
            left: self.left,
        })
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(De {
            v: &self.value,
            left: self.left,
        })
    }
    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(
            De {
                v: &self.value,
                left: self.left,
            },
            visitor,
        )
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(
            De {
                v: &self.value,
                left: self.left,
            },
            visitor,
        )
    }
}
