//! `postgresql.conf` with its includes (what the administrator declared) and
//! `postgresql.auto.conf` (what `ALTER SYSTEM` wrote).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// A line of `postgresql.auto.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfLine {
    /// The raw value (possibly quoted).
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// Parses `postgresql.auto.conf` as PostgreSQL reads any configuration
/// file (`name = 'value'` or `name value`, quotes and escapes, `#`
/// comments); the last occurrence wins. Each value is shown quoted, as
/// `ALTER SYSTEM` writes it. An `include` in a text cannot be followed (give
/// the file's path, which is read with its includes).
pub fn parse_auto_conf(text: &str, origin: &str) -> Result<BTreeMap<String, ConfLine>> {
    Ok(auto_conf_lines(
        &parse_postgresql_conf(text, origin)?,
        origin,
    ))
}

/// `postgresql.auto.conf` read with its includes, as the lines the contract
/// names: a setting from an included file says which.
pub fn auto_conf_lines(conf: &PostgresqlConf, origin: &str) -> BTreeMap<String, ConfLine> {
    conf.settings
        .iter()
        .map(|(name, s)| {
            let value = if s.file == origin {
                format!("'{}'", s.value.replace('\'', "''"))
            } else {
                format!("'{}' (from {})", s.value.replace('\'', "''"), s.at())
            };
            (
                name.clone(),
                ConfLine {
                    value,
                    line: s.line,
                },
            )
        })
        .collect()
}

/// A setting as the configuration files PostgreSQL reads set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfSetting {
    /// The value as PostgreSQL reads it (quotes and escapes resolved).
    pub value: String,
    /// The file that set it last.
    pub file: String,
    /// 1-based line in that file.
    pub line: usize,
}

impl ConfSetting {
    /// `file:line`, for evidence.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// `postgresql.conf` with everything it includes, read as PostgreSQL reads
/// it: the last occurrence of a setting wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostgresqlConf {
    /// Every setting, by lower-case name.
    pub settings: BTreeMap<String, ConfSetting>,
    /// The files read, in order.
    pub files: Vec<String>,
}

/// Where [`read_postgresql_conf`] gets the files an `include` names.
pub trait ConfFiles {
    /// The text of `path`; `None` when it does not exist.
    fn read(&self, path: &Path) -> Result<Option<String>>;
    /// The files `include_dir` reads from `dir`: names ending in `.conf`
    /// that do not start with `.`, sorted by name, as full paths.
    fn dir(&self, dir: &Path) -> Result<Vec<PathBuf>>;
}

/// How deep `include`s may nest: PostgreSQL's `CONF_FILE_MAX_DEPTH`.
pub const CONF_MAX_DEPTH: usize = 10;

/// The most files one configuration may read: an `include_dir` that
/// includes itself would otherwise read its files to the 10th power.
pub const CONF_MAX_FILES: usize = 1000;

/// Reads `postgresql.conf` at `path` and, recursively, what its `include`,
/// `include_if_exists` and `include_dir` lines name (relative paths are
/// relative to the including file's directory), as PostgreSQL does. An
/// error names the file and line; a missing `include` or a nesting deeper
/// than [`CONF_MAX_DEPTH`] is an error, as it is for PostgreSQL, which then
/// refuses to start.
pub fn read_postgresql_conf(path: &Path, files: &dyn ConfFiles) -> Result<PostgresqlConf> {
    let mut conf = PostgresqlConf::default();
    let text = files
        .read(path)?
        .ok_or_else(|| Error::input(path.display().to_string(), "does not exist"))?;
    read_into(&mut conf, path, &text, files, 0)?;
    Ok(conf)
}

/// Parses one configuration file's `text` (no includes may be followed:
/// an `include` line is an error naming it). For callers that hold one
/// text, such as the conformance vectors.
pub fn parse_postgresql_conf(text: &str, origin: &str) -> Result<PostgresqlConf> {
    struct NoFiles;
    impl ConfFiles for NoFiles {
        fn read(&self, path: &Path) -> Result<Option<String>> {
            Err(Error::input(
                path.display().to_string(),
                "an include cannot be followed here: give the files' paths",
            ))
        }
        fn dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
            self.read(dir).map(|_| Vec::new())
        }
    }
    let mut conf = PostgresqlConf::default();
    read_into(&mut conf, Path::new(origin), text, &NoFiles, 0)?;
    Ok(conf)
}

fn read_into(
    conf: &mut PostgresqlConf,
    path: &Path,
    text: &str,
    files: &dyn ConfFiles,
    depth: usize,
) -> Result<()> {
    let origin = path.display().to_string();
    if depth > CONF_MAX_DEPTH {
        return Err(Error::input(
            origin,
            format!(
                "includes nest deeper than {CONF_MAX_DEPTH} files (PostgreSQL refuses this too)"
            ),
        ));
    }
    if conf.files.len() >= CONF_MAX_FILES {
        return Err(Error::input(
            origin,
            format!("the configuration includes more than {CONF_MAX_FILES} files"),
        ));
    }
    conf.files.push(origin.clone());
    let base = path.parent().unwrap_or(Path::new("."));
    for (i, raw) in text.lines().enumerate() {
        let Some((name, value)) = conf_line(raw).map_err(|m| Error::input_at(&origin, i + 1, m))?
        else {
            continue;
        };
        let target = || {
            let p = Path::new(&value);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        // A file or directory an include names that cannot be read is an
        // error at the include's line.
        let at_line = |e: Error| Error::input_at(&origin, i + 1, e.to_string());
        match name.as_str() {
            "include" | "include_if_exists" => {
                let file = target();
                match files.read(&file).map_err(at_line)? {
                    Some(t) => read_into(conf, &file, &t, files, depth + 1)?,
                    None if name == "include_if_exists" => {}
                    None => {
                        return Err(Error::input_at(
                            &origin,
                            i + 1,
                            format!("includes {}, which does not exist", file.display()),
                        ))
                    }
                }
            }
            "include_dir" => {
                for file in files.dir(&target()).map_err(at_line)? {
                    let t = files.read(&file).map_err(at_line)?.unwrap_or_default();
                    read_into(conf, &file, &t, files, depth + 1)?;
                }
            }
            _ => {
                conf.settings.insert(
                    name,
                    ConfSetting {
                        value,
                        file: origin.clone(),
                        line: i + 1,
                    },
                );
            }
        }
    }
    Ok(())
}

/// One line of a configuration file: `None` for a blank or comment line,
/// else the lower-case name and the value with quotes and escapes resolved
/// (`name = value`, the `=` optional, `#` starts a comment).
fn conf_line(raw: &str) -> std::result::Result<Option<(String, String)>, String> {
    let line = raw.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || !c.is_ascii()))
        .unwrap_or(line.len());
    let name = &line[..name_end];
    // PostgreSQL's lexer: a name is an identifier (a letter or `_`, then
    // letters, digits, `_`), or one `prefix.name` of two (found by attack:
    // `foo.bar.baz`, `a.` and `a.1b` are syntax errors there).
    let parts: Vec<&str> = name.split('.').collect();
    let identifier = |p: &&str| !p.is_empty() && !p.starts_with(|c: char| c.is_ascii_digit());
    if parts.len() > 2 || !parts.iter().all(identifier) {
        return Err(format!(
            "expected a setting name, found \"{}\"",
            shorten(line.trim_end())
        ));
    }
    let mut rest = line[name_end..].trim_start();
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start();
    }
    let (value, after) = if let Some(quoted) = rest.strip_prefix('\'') {
        unquote(quoted).ok_or_else(|| format!("{name}: the quoted value is not closed"))?
    } else {
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '#')
            .unwrap_or(rest.len());
        let token = &rest[..end];
        if !token.is_empty() && !unquoted_token(token) {
            return Err(format!(
                "{name}: \"{}\" is not a value PostgreSQL can read unquoted (a syntax error)",
                shorten(token)
            ));
        }
        (token.to_string(), &rest[end..])
    };
    if value.is_empty() && !rest.starts_with('\'') {
        return Err(format!("{name}: no value"));
    }
    if value.len() > VALUE_MAX {
        return Err(format!(
            "{name}: a value of {} bytes, more than the {VALUE_MAX} any setting ssot checks can hold",
            value.len()
        ));
    }
    let after = after.trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err(format!(
            "{}: unexpected \"{}\" after the value",
            shorten(name),
            shorten(after)
        ));
    }
    Ok(Some((name.to_ascii_lowercase(), value)))
}

/// The body of a single-quoted value (after the opening quote): the value
/// as PostgreSQL's `GUC_scanstr` reads it (`''`, `\b \f \n \r \t`, octal
/// `\d{1,3}`, any other `\x` is `x`; the value ends at a NUL, as a C
/// string does) and what follows the closing quote.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut out: Vec<u8> = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                out.push(b'\'');
                i += 2;
            }
            b'\'' => {
                let end = out.iter().position(|b| *b == 0).unwrap_or(out.len());
                out.truncate(end);
                return Some((String::from_utf8_lossy(&out).into_owned(), &s[i + 1..]));
            }
            b'\\' => {
                let next = *bytes.get(i + 1)?;
                i += 2;
                match next {
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'0'..=b'7' => {
                        let mut v = u32::from(next - b'0');
                        for _ in 0..2 {
                            match bytes.get(i) {
                                Some(d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push((v & 0xff) as u8);
                    }
                    other => out.push(other),
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// The longest value read (no WAL or archive setting comes near it): a
/// larger one would be copied into every record and message.
const VALUE_MAX: usize = 64 << 10;

/// At most 80 characters of `text`, for a message.
fn shorten(text: &str) -> String {
    let mut out: String = crate::evidence::one_line(text).chars().take(80).collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// Whether an unquoted value is one token of PostgreSQL's configuration
/// lexer: an integer (with unit letters), a real (without), or an unquoted
/// string. `4.0GB` is not one: PostgreSQL refuses it as a syntax error.
fn unquoted_token(v: &str) -> bool {
    let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    // {DIGIT}+ or 0x{HEXDIGIT}+, then unit letters.
    let integer = {
        let (rest, n) = match unsigned.strip_prefix("0x") {
            Some(h) => {
                let n = h.bytes().take_while(u8::is_ascii_hexdigit).count();
                (&h[n..], n)
            }
            None => {
                let n = unsigned.bytes().take_while(u8::is_ascii_digit).count();
                (&unsigned[n..], n)
            }
        };
        n > 0 && rest.bytes().all(|b| b.is_ascii_alphabetic())
    };
    // {DIGIT}*"."{DIGIT}* with an optional exponent, and no unit.
    let real = {
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(p) => (&unsigned[..p], Some(&unsigned[p + 1..])),
            None => (unsigned, None),
        };
        let exp_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
        mantissa.split_once('.').is_some_and(|(a, b)| {
            (a.is_empty() || digits(a))
                && (b.is_empty() || digits(b))
                && !(a.is_empty() && b.is_empty())
        }) && exp_ok
    };
    let string = v
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c) || !c.is_ascii());
    integer || real || string
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_conf_quotes_and_comments() {
        let t = "# Do not edit this file manually!\nwal_keep_size = '1GB'\narchive_command = 'cp %p /a#b/%f' # set by ALTER SYSTEM\n";
        let c = parse_auto_conf(t, "auto.conf").unwrap();
        assert_eq!(c["wal_keep_size"].value, "'1GB'");
        assert_eq!(c["wal_keep_size"].line, 2);
        assert_eq!(c["archive_command"].value, "'cp %p /a#b/%f'");
    }

    /// Files in memory, for the include tests.
    struct Mem(BTreeMap<&'static str, &'static str>);
    impl ConfFiles for Mem {
        fn read(&self, path: &Path) -> Result<Option<String>> {
            Ok(self.0.get(path.to_str().unwrap()).map(|t| t.to_string()))
        }
        fn dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
            let prefix = format!("{}/", dir.display());
            Ok(self
                .0
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|n| n.ends_with(".conf") && !n.starts_with('.') && !n.contains('/'))
                .map(|n| PathBuf::from(format!("{prefix}{n}")))
                .collect())
        }
    }

    #[test]
    fn postgresql_conf_as_postgresql_reads_it() {
        let files = Mem(BTreeMap::from([
            (
                "/etc/postgresql/15/main/postgresql.conf",
                "data_directory = '/var/lib/postgresql/15/main'\n\
                 max_wal_size = 1GB  # the default\n\
                 Wal_Keep_Size 0\n\
                 include_dir = 'conf.d'\n\
                 include_if_exists = '/nowhere.conf'\n\
                 include 'last.conf'\n",
            ),
            (
                "/etc/postgresql/15/main/conf.d/10-wal.conf",
                "max_wal_size = '4GB'\n",
            ),
            (
                "/etc/postgresql/15/main/conf.d/20-more.conf",
                "min_wal_size='1GB'\n",
            ),
            (
                "/etc/postgresql/15/main/conf.d/.hidden.conf",
                "max_wal_size = 9GB\n",
            ),
            (
                "/etc/postgresql/15/main/conf.d/notes.txt",
                "max_wal_size = 9GB\n",
            ),
            (
                "/etc/postgresql/15/main/last.conf",
                "archive_command = 'cp ''%p'' /a\\\\b # not a comment'\n",
            ),
        ]));
        let c = read_postgresql_conf(Path::new("/etc/postgresql/15/main/postgresql.conf"), &files)
            .unwrap();
        assert_eq!(c.settings["max_wal_size"].value, "4GB");
        assert_eq!(
            c.settings["max_wal_size"].at(),
            "/etc/postgresql/15/main/conf.d/10-wal.conf:1"
        );
        assert_eq!(c.settings["wal_keep_size"].value, "0");
        assert_eq!(c.settings["min_wal_size"].value, "1GB");
        assert_eq!(
            c.settings["archive_command"].value,
            "cp '%p' /a\\b # not a comment"
        );
        assert_eq!(c.files.len(), 4, "{:?}", c.files);
    }

    /// Found by attack: `archive_mode = '\157n'` is `on` to PostgreSQL, and
    /// ssot read `157n` and passed the contract.
    #[test]
    fn quoted_values_are_read_as_guc_scanstr_reads_them() {
        for (text, value) in [
            ("archive_mode = '\\157n'\n", "on"),
            ("max_wal_size='\\064GB'\n", "4GB"),
            ("x = 'a\\tb'\n", "a\tb"),
            ("x = 'it''s'\n", "it's"),
            ("x = '\\q'\n", "q"),
            ("wal_keep_size = '\\0'\n", ""),
            ("x = 'ab\\0cd'\n", "ab"),
            ("max_wal_size = 0x10\n", "0x10"),
            ("max_wal_size = +4GB\n", "+4GB"),
            ("x = 4096.4\n", "4096.4"),
            ("x = en_US.UTF-8\n", "en_US.UTF-8"),
        ] {
            let c = parse_postgresql_conf(text, "pg.conf").unwrap();
            let (_, got) = c.settings.iter().next().unwrap();
            assert_eq!(got.value, value, "{text:?}");
        }
    }

    #[test]
    fn a_conf_postgresql_would_refuse_is_an_error_naming_the_line() {
        for (text, why) in [
            ("max_wal_size = '4GB\n", "not closed"),
            ("max_wal_size = 4GB extra\n", "unexpected"),
            ("= 4GB\n", "setting name"),
            ("max_wal_size =\n", "no value"),
            ("include 'missing.conf'\n", "cannot be followed"),
            // Found by attack: PostgreSQL's lexer refuses these unquoted.
            ("max_wal_size = 4.0GB\n", "syntax error"),
            ("max_wal_size = 4e0GB\n", "syntax error"),
            ("max_wal_size = .004TB\n", "syntax error"),
            ("data_directory = /var/lib/postgresql\n", "syntax error"),
        ] {
            let e = parse_postgresql_conf(text, "pg.conf")
                .unwrap_err()
                .to_string();
            assert!(e.contains(why) && e.contains("pg.conf"), "{text:?}: {e}");
        }
        let missing = Mem(BTreeMap::from([(
            "/c/pg.conf",
            "\n\ninclude 'gone.conf'\n",
        )]));
        let e = read_postgresql_conf(Path::new("/c/pg.conf"), &missing)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/c/pg.conf") && e.contains("3") && e.contains("/c/gone.conf"),
            "{e}"
        );
        // A file that includes itself nests until PostgreSQL's limit.
        let looping = Mem(BTreeMap::from([("/c/pg.conf", "include 'pg.conf'\n")]));
        let e = read_postgresql_conf(Path::new("/c/pg.conf"), &looping)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nest deeper than 10"), "{e}");
    }
}
