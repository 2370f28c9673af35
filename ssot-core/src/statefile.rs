//! The `key=value` state-file codec.
//!
//! State files are what the seed's shell scripts wrote (`wal_status=OK`):
//! UTF-8, one `key=value` a line, `#` comments and blank lines allowed.
//! [`StateFile`] keeps every line it does not own, so a rewrite preserves
//! comments and keys written by other tools, in their order.
//!
//! Rules, chosen so that a damaged file fails loudly instead of being half-read:
//! * a key is `[A-Za-z0-9_.-]+`; whitespace around key and value is trimmed;
//! * the value is everything after the first `=` (it may itself contain `=`);
//! * a line that is neither blank, a comment, nor `key=value` is an error;
//! * a key that appears twice is an error (which one would be the truth?);
//! * invalid UTF-8 is an error naming the line.
//!
//! ```
//! use ssot_core::statefile::StateFile;
//! let mut f = StateFile::parse(b"# written by hand\nwal_status=OK\nowner=alex\n", "wal.status")?;
//! f.set("wal_status", "NEAR_LIMIT")?;
//! assert_eq!(f.render(), "# written by hand\nwal_status=NEAR_LIMIT\nowner=alex\n");
//! # Ok::<(), ssot_core::Error>(())
//! ```

pub mod record;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// A comment or blank line, kept verbatim.
    Verbatim(String),
    Pair {
        key: String,
        value: String,
        /// 1-based line number in the parsed text; 0 for keys set later.
        line: usize,
    },
}

/// A parsed `key=value` state file that remembers where it came from.
///
/// Parsing is linear in the file's size, and key lookups are O(1): a file of
/// many keys cannot make ssot slow.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateFile {
    path: String,
    lines: Vec<Line>,
    /// Key → index into `lines`.
    index: HashMap<String, usize>,
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

impl StateFile {
    /// An empty state file that will be reported as `path` in errors.
    pub fn new(path: impl Into<String>) -> Self {
        StateFile {
            path: path.into(),
            lines: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Parses `bytes`; `path` is used in error messages.
    pub fn parse(bytes: &[u8], path: &str) -> Result<Self> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            Error::Syntax {
                path: path.to_string(),
                line,
                message: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            }
        })?;
        let mut lines = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                lines.push(Line::Verbatim(raw.trim_end_matches('\r').to_string()));
                continue;
            }
            let syntax = |message: String| Error::Syntax {
                path: path.to_string(),
                line: n,
                message,
            };
            let (key, value) = trimmed
                .split_once('=')
                .ok_or_else(|| syntax(format!("expected key=value, found \"{trimmed}\"")))?;
            let key = key.trim();
            if !valid_key(key) {
                return Err(syntax(format!(
                    "invalid key \"{key}\" (allowed: letters, digits, '_', '.', '-')"
                )));
            }
            if let Some(&at) = index.get(key) {
                let first = match &lines[at] {
                    Line::Pair { line, .. } => *line,
                    Line::Verbatim(_) => 0,
                };
                return Err(syntax(format!(
                    "duplicate key \"{key}\" (first on line {first})"
                )));
            }
            index.insert(key.to_string(), lines.len());
            lines.push(Line::Pair {
                key: key.to_string(),
                value: value.trim().to_string(),
                line: n,
            });
        }
        Ok(StateFile {
            path: path.to_string(),
            lines,
            index,
        })
    }

    /// The path this file reports in errors.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The 1-based line number and value of `key`, if present.
    pub fn entry(&self, key: &str) -> Option<(usize, &str)> {
        match self.lines.get(*self.index.get(key)?)? {
            Line::Pair { value, line, .. } => Some((*line, value.as_str())),
            Line::Verbatim(_) => None,
        }
    }

    /// The value of `key`, or [`Error::MissingKey`].
    pub fn require(&self, key: &str) -> Result<&str> {
        self.get(key).ok_or_else(|| Error::MissingKey {
            path: self.path.clone(),
            key: key.to_string(),
        })
    }

    /// Parses the value of a required `key` with `FromStr`, naming file, line
    /// and key on failure.
    pub fn parse_required<T>(&self, key: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.parse_optional(key)?.ok_or_else(|| Error::MissingKey {
            path: self.path.clone(),
            key: key.to_string(),
        })
    }

    /// Parses the value of `key` if present.
    pub fn parse_optional<T>(&self, key: &str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.entry(key) {
            None => Ok(None),
            Some((line, value)) => value.parse().map(Some).map_err(|e: T::Err| {
                self.invalid(key, line, format!("invalid value \"{value}\": {e}"))
            }),
        }
    }

    /// Parses an RFC 3339 timestamp under `key`, if present.
    pub fn parse_time(&self, key: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        match self.entry(key) {
            None => Ok(None),
            Some((line, v)) => crate::time::parse_timestamp(v)
                .map(Some)
                .map_err(|m| self.invalid(key, line, format!("\"{v}\" is {m}"))),
        }
    }

    /// Parses a required RFC 3339 timestamp under `key`.
    pub fn require_time(&self, key: &str) -> Result<chrono::DateTime<chrono::Utc>> {
        self.parse_time(key)?.ok_or_else(|| Error::MissingKey {
            path: self.path.clone(),
            key: key.to_string(),
        })
    }

    /// Parses a finite number in `[min, max]` under `key`, if present.
    pub fn parse_f64_in(&self, key: &str, min: f64, max: f64) -> Result<Option<f64>> {
        match self.entry(key) {
            None => Ok(None),
            Some((line, v)) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && (min..=max).contains(&x) => Ok(Some(x)),
                Ok(_) => Err(self.invalid(
                    key,
                    line,
                    format!("\"{v}\" is outside the range {min} to {max}"),
                )),
                Err(_) => Err(self.invalid(key, line, format!("\"{v}\" is not a number"))),
            },
        }
    }

    /// Parses `key` as one of `choices`, if present.
    pub fn parse_choice<'c>(&self, key: &str, choices: &[&'c str]) -> Result<Option<&'c str>> {
        match self.entry(key) {
            None => Ok(None),
            Some((line, v)) => choices
                .iter()
                .find(|c| **c == v)
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    self.invalid(
                        key,
                        line,
                        format!("\"{v}\" is not one of {}", choices.join(", ")),
                    )
                }),
        }
    }

    /// An [`Error::InvalidValue`] for `key` at `line` of this file.
    pub fn invalid(&self, key: &str, line: usize, message: String) -> Error {
        Error::InvalidValue {
            path: self.path.clone(),
            line,
            key: key.to_string(),
            message,
        }
    }

    /// Sets `key` to `value`, in place if it exists, else appended.
    /// Values must not contain line breaks or NUL; surrounding whitespace is trimmed.
    pub fn set(&mut self, key: &str, value: impl fmt::Display) -> Result<()> {
        let value = value.to_string();
        if !valid_key(key) {
            return Err(self.invalid(
                key,
                0,
                "is not a valid key (letters, digits, '_', '.', '-')".into(),
            ));
        }
        if value.contains(['\n', '\r', '\0']) {
            return Err(self.invalid(key, 0, "the value contains a line break or NUL".into()));
        }
        let value = value.trim().to_string();
        if let Some(Line::Pair { value: v, .. }) = self
            .index
            .get(key)
            .copied()
            .and_then(|i| self.lines.get_mut(i))
        {
            *v = value;
            return Ok(());
        }
        self.index.insert(key.to_string(), self.lines.len());
        self.lines.push(Line::Pair {
            key: key.to_string(),
            value,
            line: 0,
        });
        Ok(())
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &str) {
        if self.index.contains_key(key) {
            self.lines
                .retain(|l| !matches!(l, Line::Pair { key: k, .. } if k == key));
            self.reindex();
        }
    }

    /// Removes every key that starts with `prefix` (used for owned key
    /// families such as `reason.1`, `reason.2`, ...).
    pub fn remove_prefix(&mut self, prefix: &str) {
        self.lines
            .retain(|l| !matches!(l, Line::Pair { key: k, .. } if k.starts_with(prefix)));
        self.reindex();
    }

    fn reindex(&mut self) {
        self.index = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match l {
                Line::Pair { key, .. } => Some((key.clone(), i)),
                Line::Verbatim(_) => None,
            })
            .collect();
    }

    /// The keys that start with `prefix`, with the rest of each key, in file order.
    pub fn family<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.pairs()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|rest| (rest, v)))
    }

    /// All keys in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().filter_map(|l| match l {
            Line::Pair { key, .. } => Some(key.as_str()),
            Line::Verbatim(_) => None,
        })
    }

    /// All `(key, value)` pairs in file order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines.iter().filter_map(|l| match l {
            Line::Pair { key, value, .. } => Some((key.as_str(), value.as_str())),
            Line::Verbatim(_) => None,
        })
    }

    /// The file's text, every line terminated by `\n`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            match l {
                Line::Verbatim(s) => out.push_str(s),
                Line::Pair { key, value, .. } => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(value);
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_unknown_keys_comments_and_order() {
        let text = "# ssot wal status\n\nowner=alex\nwal_status=OK\nnote=a=b=c\n";
        let mut f = StateFile::parse(text.as_bytes(), "wal.status").unwrap();
        assert_eq!(f.render(), text);
        f.set("wal_status", "ERROR").unwrap();
        f.set("new_key", 42).unwrap();
        assert_eq!(
            f.render(),
            "# ssot wal status\n\nowner=alex\nwal_status=ERROR\nnote=a=b=c\nnew_key=42\n"
        );
        let again = StateFile::parse(f.render().as_bytes(), "wal.status").unwrap();
        assert_eq!(again.get("note"), Some("a=b=c"));
        assert_eq!(again.get("owner"), Some("alex"));
    }

    #[test]
    fn whitespace_and_crlf_are_tolerated() {
        let f = StateFile::parse(b"  wal_status = OK \r\nx=1\r\n", "s").unwrap();
        assert_eq!(f.get("wal_status"), Some("OK"));
        assert_eq!(f.get("x"), Some("1"));
    }

    #[test]
    fn malformed_input_names_file_and_line() {
        let cases: &[(&[u8], usize, &str)] = &[
            (b"a=1\nno equals sign\n", 2, "expected key=value"),
            (b"a=1\n=value\n", 2, "invalid key"),
            (b"a b=1\n", 1, "invalid key"),
            (
                b"a=1\nb=2\na=3\n",
                3,
                "duplicate key \"a\" (first on line 1)",
            ),
            (b"a=1\nb=\xff\xfe\n", 2, "invalid UTF-8"),
        ];
        for (input, line, needle) in cases {
            let err = StateFile::parse(input, "wal.status").unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with(&format!("wal.status:{line}: ")),
                "{msg:?} should name line {line}"
            );
            assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
        }
    }

    #[test]
    fn typed_access_names_key_and_line() {
        let f = StateFile::parse(b"a=1\nwal_size=lots\n", "wal.status").unwrap();
        assert_eq!(f.parse_required::<u64>("a").unwrap(), 1);
        let err = f.parse_required::<u64>("wal_size").unwrap_err().to_string();
        assert_eq!(
            err,
            "wal.status:2: key \"wal_size\": invalid value \"lots\": invalid digit found in string"
        );
        let err = f.parse_required::<u64>("missing").unwrap_err().to_string();
        assert_eq!(err, "wal.status: missing key \"missing\"");
        assert_eq!(f.parse_optional::<u64>("missing").unwrap(), None);
    }

    #[test]
    fn set_rejects_line_breaks_and_bad_keys() {
        let mut f = StateFile::new("x");
        assert!(f.set("k", "a\nb").is_err());
        assert!(f.set("k", "a\rb").is_err());
        assert!(f.set("bad key", "v").is_err());
        assert!(f.set("", "v").is_err());
    }

    #[test]
    fn remove_prefix_drops_a_key_family_only() {
        let mut f = StateFile::parse(b"reason.1=a\nreasonable=keep\nreason.2=b\n", "s").unwrap();
        f.remove_prefix("reason.");
        assert_eq!(f.render(), "reasonable=keep\n");
    }
}
