//! PostgreSQL GUC values with their exact semantics, so that a declared
//! `4GB`, a container argument `-c max_wal_size=4096` and a `pg_settings` row
//! `max_wal_size,4096,MB` compare equal.
//!
//! * Memory settings: units `B kB MB GB TB`; a bare number counts in the
//!   setting's base unit (`MB` for `max_wal_size`), or in the `pg_settings.unit`
//!   column when one is given (`8kB`, `16MB`, `MB`).
//! * Time settings: units `us ms s min h d`; a bare number counts in the base
//!   unit (`s` for `checkpoint_timeout`) or the unit column.
//! * `-1` means unset/unlimited/disabled; `0` is a value like any other
//!   (for `archive_timeout` it also means disabled, for `wal_keep_size` "keep none").
//! * Values may be quoted (`'on'`, `'cp %p /x/%f'`, with `''` for a quote);
//!   booleans and enums compare case-insensitively (`on`, `true`, `yes`, `1` are one value).

use std::fmt;

use crate::error::{Error, Result};
use crate::units::{ByteSize, Setting, Span};

/// How a setting's value is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GucKind {
    /// A size; the base unit in bytes.
    Memory(u64),
    /// A duration; the base unit in microseconds.
    Time(u64),
    /// `on`/`off`.
    Bool,
    /// An enum (`archive_mode`: `off`/`on`/`always`; `wal_level`).
    Enum,
    /// Free text (`archive_command`, `primary_conninfo`).
    Text,
}

/// The kind of a setting ssot knows; unknown settings compare as text.
pub fn kind_of(name: &str) -> GucKind {
    match name {
        "max_wal_size" | "min_wal_size" | "wal_keep_size" | "max_slot_wal_keep_size" => {
            GucKind::Memory(1 << 20)
        }
        "wal_segment_size" => GucKind::Memory(1),
        "checkpoint_timeout" | "archive_timeout" => GucKind::Time(1_000_000),
        "hot_standby" | "fsync" => GucKind::Bool,
        "archive_mode" | "wal_level" => GucKind::Enum,
        _ => GucKind::Text,
    }
}

/// A typed setting value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GucValue {
    /// A size in bytes.
    Bytes(u64),
    /// A duration in microseconds.
    Micros(u64),
    /// `-1`.
    Unset,
    /// A boolean, normalised to `on`/`off`, or an enum value, lower-cased.
    Word(String),
    /// Text, unquoted.
    Text(String),
}

impl fmt::Display for GucValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GucValue::Bytes(b) => write!(f, "{}", ByteSize::from_bytes(*b)),
            GucValue::Micros(us) => write!(f, "{}", Span::from_micros(*us)),
            GucValue::Unset => f.write_str("-1"),
            GucValue::Word(w) => f.write_str(w),
            GucValue::Text(t) => write!(f, "'{t}'"),
        }
    }
}

/// Removes one level of quoting: `'a''b'` → `a'b`, `"x"` → `x`; others are trimmed.
pub fn unquote(raw: &str) -> String {
    let t = raw.trim();
    if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        return t[1..t.len() - 1].replace("''", "'").replace("\\'", "'");
    }
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        return t[1..t.len() - 1].to_string();
    }
    t.to_string()
}

/// Parses `raw` (as written in an argument, a config file or `pg_settings.setting`)
/// for setting `name`; `unit_column` is `pg_settings.unit` when the value comes from there.
pub fn parse(name: &str, raw: &str, unit_column: Option<&str>) -> Result<GucValue> {
    let v = unquote(raw);
    let err = |m: String| Error::Input(format!("{name} = {raw:?}: {m}"));
    let unit = unit_column.map(str::trim).filter(|u| !u.is_empty());
    match kind_of(name) {
        GucKind::Memory(base) => {
            let default = match unit {
                Some(u) => ByteSize::unit_multiplier(u).map_err(|e| err(e.to_string()))?,
                None => base,
            };
            match ByteSize::parse_setting(&v, default).map_err(|e| err(e.to_string()))? {
                Setting::Unset => Ok(GucValue::Unset),
                Setting::Value(b) => Ok(GucValue::Bytes(b.bytes())),
            }
        }
        GucKind::Time(base) => {
            let default = match unit {
                Some(u) => Span::unit_multiplier(u).map_err(|e| err(e.to_string()))?,
                None => base,
            };
            match Span::parse_setting(&v, default).map_err(|e| err(e.to_string()))? {
                Setting::Unset => Ok(GucValue::Unset),
                Setting::Value(s) => Ok(GucValue::Micros(s.as_micros())),
            }
        }
        GucKind::Bool => match v.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" | "1" | "t" | "y" => Ok(GucValue::Word("on".into())),
            "off" | "false" | "no" | "0" | "f" | "n" => Ok(GucValue::Word("off".into())),
            other => Err(err(format!("\"{other}\" is not a boolean"))),
        },
        GucKind::Enum => {
            let w = v.to_ascii_lowercase();
            // archive_mode accepts the boolean spellings too.
            let w = match (name, w.as_str()) {
                ("archive_mode", "true" | "yes" | "1") => "on".to_string(),
                ("archive_mode", "false" | "no" | "0") => "off".to_string(),
                _ => w,
            };
            Ok(GucValue::Word(w))
        }
        GucKind::Text => Ok(GucValue::Text(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_args_and_runtime_agree() {
        let gb4 = GucValue::Bytes(4 << 30);
        assert_eq!(parse("max_wal_size", "4GB", None).unwrap(), gb4);
        assert_eq!(
            parse("max_wal_size", "4096", None).unwrap(),
            gb4,
            "bare number in MB"
        );
        assert_eq!(parse("max_wal_size", "4096", Some("MB")).unwrap(), gb4);
        assert_eq!(parse("max_wal_size", "'4GB'", None).unwrap(), gb4);
        assert_eq!(
            parse("wal_keep_size", "0", Some("MB")).unwrap(),
            GucValue::Bytes(0)
        );
        assert_eq!(
            parse("max_slot_wal_keep_size", "-1", Some("MB")).unwrap(),
            GucValue::Unset
        );
        assert_eq!(
            parse("checkpoint_timeout", "5min", None).unwrap(),
            GucValue::Micros(300_000_000)
        );
        assert_eq!(
            parse("checkpoint_timeout", "300", Some("s")).unwrap(),
            GucValue::Micros(300_000_000)
        );
        assert_eq!(
            parse("wal_segment_size", "16777216", Some("B")).unwrap(),
            GucValue::Bytes(16 << 20)
        );
        // Old-style 8kB-unit rows.
        assert_eq!(
            parse("max_wal_size", "131072", Some("8kB")).unwrap(),
            GucValue::Bytes(1 << 30)
        );
        assert_eq!(
            parse("archive_mode", "'on'", None).unwrap(),
            GucValue::Word("on".into())
        );
        assert_eq!(
            parse("archive_mode", "TRUE", None).unwrap(),
            GucValue::Word("on".into())
        );
        assert_eq!(
            parse("archive_command", "'cp %p /a/''x''/%f'", None).unwrap(),
            GucValue::Text("cp %p /a/'x'/%f".into())
        );
        assert_eq!(
            parse("max_wal_size", "4GB", None).unwrap().to_string(),
            "4GB"
        );
        assert!(parse("max_wal_size", "4 gigs", None).is_err());
        assert!(
            parse("checkpoint_timeout", "5m", None).is_err(),
            "m is not a PostgreSQL unit"
        );
    }
}
