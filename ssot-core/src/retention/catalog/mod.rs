//! Catalog formats: the listings of the backup tools people already run,
//! read as [`Artifact`]s, and the tool's own commands to delete what a plan
//! deletes.
//!
//! A format is one [`CatalogFormat`] variant and one adapter file
//! implementing [`CatalogAdapter`]: `parse` turns the tool's listing into
//! artifacts (pure, no I/O, a clear error for bad input), and
//! `delete_commands` renders the argv of the tool's delete command for the
//! ids a reviewed plan deletes. The native format (`ssot`, a JSON array of
//! artifacts) has no commands: ssot deletes its own artifacts.
//!
//! Order of use: [`CatalogFormat::parse`] on the listing, then
//! [`crate::retention::plan`], then [`CatalogFormat::delete_commands`] with
//! the plan's deleted ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Artifact;
use crate::error::{Error, Result};

pub mod restic;

/// What one catalog format knows: how to read its listing, how to delete.
pub trait CatalogAdapter {
    /// Reads the tool's listing `text` (from `origin`, for the messages).
    fn parse(text: &str, origin: &str) -> Result<Vec<Artifact>>;
    /// The tool's commands (argv) that delete `ids`, in order. Empty when
    /// `ids` is.
    fn delete_commands(ids: &[&str]) -> Vec<Vec<String>>;
}

/// The format of a catalog (`--catalog-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogFormat {
    /// ssot's own: a JSON array of [`Artifact`]s; ssot applies the plan.
    #[default]
    Ssot,
    /// `restic snapshots --json`; deleted with `restic forget ID…`
    /// (see [`restic`]).
    Restic,
}

impl CatalogFormat {
    /// Every format, in the order the help lists them.
    pub const ALL: [CatalogFormat; 2] = [CatalogFormat::Ssot, CatalogFormat::Restic];

    /// The name (`ssot`, `restic`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CatalogFormat::Ssot => "ssot",
            CatalogFormat::Restic => "restic",
        }
    }

    /// True for ssot's own format, the one ssot applies itself.
    pub const fn is_native(self) -> bool {
        matches!(self, CatalogFormat::Ssot)
    }

    /// The artifacts in `text`, a listing in this format read from `origin`.
    pub fn parse(self, text: &str, origin: &str) -> Result<Vec<Artifact>> {
        match self {
            CatalogFormat::Ssot => {
                serde_json::from_str::<Vec<Artifact>>(text).map_err(|e| Error::InputFile {
                    origin: origin.into(),
                    line: Some(e.line()),
                    column: Some(e.column()),
                    message: format!("not a JSON array of artifacts: {e}"),
                })
            }
            CatalogFormat::Restic => restic::Restic::parse(text, origin),
        }
    }

    /// The tool's commands that delete `ids` (none for the native format).
    pub fn delete_commands(self, ids: &[&str]) -> Vec<Vec<String>> {
        match self {
            CatalogFormat::Ssot => Vec::new(),
            CatalogFormat::Restic => restic::Restic::delete_commands(ids),
        }
    }
}

impl fmt::Display for CatalogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CatalogFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CatalogFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| Error::InvalidName {
                what: "catalog format",
                value: s.into(),
                message: format!(
                    "expected one of {}",
                    CatalogFormat::ALL.map(CatalogFormat::as_str).join(", ")
                ),
            })
    }
}

/// `argv` as one line a POSIX shell reads back as the same words: a word of
/// safe characters as is, any other in single quotes.
pub fn shell_word(w: &str) -> String {
    let safe = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+-,".contains(&b));
    if safe {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Renders `commands` for an operator to paste: a comment binding them to
/// `plan_hash`, then each command, its words wrapped `per_line` after the
/// first two with ` \` continuations so that lines stay readable.
pub fn render_commands(commands: &[Vec<String>], plan_hash: &str) -> String {
    use std::fmt::Write as _;
    if commands.is_empty() {
        return String::new();
    }
    let per_line = 3;
    let mut s = format!("# ssot plan {plan_hash}: run only if this plan is the one you reviewed\n");
    for argv in commands {
        let words: Vec<String> = argv.iter().map(|w| shell_word(w)).collect();
        let head = words.len().min(2);
        s.push_str(&words[..head].join(" "));
        for chunk in words[head..].chunks(per_line) {
            let _ = write!(s, " \\\n    {}", chunk.join(" "));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_is_named_once_and_parsed_back() {
        for f in CatalogFormat::ALL {
            assert_eq!(f.as_str().parse::<CatalogFormat>().unwrap(), f);
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        let e = "borg".parse::<CatalogFormat>().unwrap_err().to_string();
        assert!(e.contains("\"borg\"") && e.contains("ssot, restic"), "{e}");
    }

    #[test]
    fn words_are_quoted_only_when_a_shell_would_split_them() {
        let cases = [
            ("abc123", "abc123"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("$(rm -rf /)", "'$(rm -rf /)'"),
            ("--stanza=main", "--stanza=main"),
        ];
        for (word, quoted) in cases {
            assert_eq!(shell_word(word), quoted, "{word:?}");
        }
    }

    #[test]
    fn commands_are_bound_to_the_plan_hash_and_wrapped() {
        let argv: Vec<String> = ["restic", "forget", "a", "b", "c", "d"]
            .map(String::from)
            .to_vec();
        let s = render_commands(&[argv], "f00d");
        assert_eq!(
            s,
            "# ssot plan f00d: run only if this plan is the one you reviewed\n\
             restic forget \\\n    a b c \\\n    d\n"
        );
        assert_eq!(render_commands(&[], "f00d"), "");
        assert!(CatalogFormat::Ssot.delete_commands(&["a"]).is_empty());
    }
}
