//! One field of a serializable value, as JSON, without serializing the rest:
//! what a record over a core item (a plan's decision) reads for one
//! attribute. Serializing a whole item per read (or every item up front)
//! costs more than the read: a plan of 100k artifacts is 100k maps whose
//! keys are scattered through memory.
//!
//! The serializer accepts a struct (its fields) or a map (its entries, as a
//! flattened struct gives them); anything else is an error.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};
use serde_json::Value;

/// Why a field could not be picked.
#[derive(Debug)]
pub struct PickError(String);

impl fmt::Display for PickError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PickError {}

impl ser::Error for PickError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PickError(msg.to_string())
    }
}

/// The JSON of field `name` of `v` (`None` when `v` has no such field, or
/// skips it).
pub fn field<T: Serialize + ?Sized>(v: &T, name: &str) -> Result<Option<Value>, PickError> {
    let mut p = Picker { name, out: None };
    v.serialize(&mut p)?;
    Ok(p.out)
}

struct Picker<'n> {
    name: &'n str,
    out: Option<Value>,
}

impl Picker<'_> {
    fn take<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), PickError> {
        if self.out.is_none() && key == self.name {
            self.out = Some(serde_json::to_value(value).map_err(ser::Error::custom)?);
        }
        Ok(())
    }
}

fn not_a_record<T>() -> Result<T, PickError> {
    Err(PickError(
        "not a record: only a struct or a map has fields".into(),
    ))
}

macro_rules! refuse {
    ($($f:ident($($t:ty),*);)*) => {
        $(fn $f(self, $(_: $t),*) -> Result<(), PickError> {
            not_a_record()
        })*
    };
}

impl<'a, 'n> ser::Serializer for &'a mut Picker<'n> {
    type Ok = ();
    type Error = PickError;
    type SerializeSeq = Impossible<(), PickError>;
    type SerializeTuple = Impossible<(), PickError>;
    type SerializeTupleStruct = Impossible<(), PickError>;
    type SerializeTupleVariant = Impossible<(), PickError>;
    type SerializeMap = PickMap<'a, 'n>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), PickError>;

    refuse! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), PickError> {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), PickError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), PickError> {
        not_a_record()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, PickError> {
        not_a_record()
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, PickError> {
        not_a_record()
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, PickError> {
        not_a_record()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, PickError> {
        not_a_record()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, PickError> {
        Ok(PickMap {
            picker: self,
            wanted: false,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, PickError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, PickError> {
        not_a_record()
    }
}

impl ser::SerializeStruct for &mut Picker<'_> {
    type Ok = ();
    type Error = PickError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), PickError> {
        self.take(key, value)
    }
    fn end(self) -> Result<(), PickError> {
        Ok(())
    }
}

/// A map's entries: the value of the entry whose key is the name.
pub struct PickMap<'a, 'n> {
    picker: &'a mut Picker<'n>,
    wanted: bool,
}

impl ser::SerializeMap for PickMap<'_, '_> {
    type Ok = ();
    type Error = PickError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), PickError> {
        self.wanted = self.picker.out.is_none()
            && serde_json::to_value(key)
                .map_err(ser::Error::custom)?
                .as_str()
                == Some(self.picker.name);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), PickError> {
        if std::mem::take(&mut self.wanted) {
            self.picker.out = Some(serde_json::to_value(value).map_err(ser::Error::custom)?);
        }
        Ok(())
    }
    fn end(self) -> Result<(), PickError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Inner {
        depth: u32,
    }

    #[derive(Serialize)]
    struct Outer {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
        #[serde(flatten)]
        inner: Inner,
        tags: Vec<String>,
    }

    fn outer() -> Outer {
        Outer {
            id: "a".into(),
            size: None,
            inner: Inner { depth: 3 },
            tags: vec!["x".into()],
        }
    }

    #[test]
    fn each_field_is_what_the_whole_json_has() {
        let v = outer();
        let whole = serde_json::to_value(&v).unwrap();
        for name in ["id", "size", "depth", "tags", "absent"] {
            assert_eq!(field(&v, name).unwrap(), whole.get(name).cloned(), "{name}");
        }
    }

    #[test]
    fn a_value_that_is_not_a_record_is_an_error() {
        assert!(field(&3u8, "x").is_err());
        assert!(field(&vec![1], "x").is_err());
        assert!(field("text", "x").is_err());
    }
}
