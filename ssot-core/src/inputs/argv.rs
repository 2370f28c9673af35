//! PostgreSQL's own arguments inside a container's command line.

use std::collections::BTreeMap;

use serde::Serialize;

/// A setting found in the StatefulSet's container command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArgSetting {
    /// The setting name, normalised (`wal-keep-size` → `wal_keep_size`).
    pub name: String,
    /// The raw value.
    pub value: String,
    /// The argument(s) as written, for evidence (`-c max_wal_size=4GB`).
    pub arg: String,
}

/// The basename of a program path.
fn program(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

fn is_shell(word: &str) -> bool {
    matches!(
        program(word),
        "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh" | "busybox"
    )
}

/// Splits a shell script into simple commands at unquoted `;`, `&`, `|`,
/// newlines and parentheses/braces; quotes are kept for [`shlex`].
fn split_commands(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut single, mut double, mut escaped) = (false, false, false);
    for c in script.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if !single => {
                cur.push(c);
                escaped = true;
            }
            '\'' if !double => {
                single = !single;
                cur.push(c);
            }
            '"' if !single => {
                double = !double;
                cur.push(c);
            }
            ';' | '&' | '|' | '\n' | '(' | ')' | '{' | '}' if !single && !double => {
                if !cur.trim().is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// PostgreSQL's own argument lists (`postgres` or `postmaster` first) found
/// in a container's command line: through `env`, `exec`, entrypoint wrappers
/// (`docker-entrypoint.sh`, `gosu`, `su-exec`, `tini`, ... are skipped up to
/// the program), absolute paths, `sh -c`/`bash -c` scripts (each simple
/// command of the script) and `pg_ctl -o "OPTIONS"`. Arguments alone (`-c
/// ...`, as given to the image's entrypoint) are PostgreSQL's.
pub fn postgres_invocations(argv: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    collect_invocations(argv, 0, &mut out);
    if out.is_empty() && argv.first().is_some_and(|a| a.starts_with('-')) {
        let mut v = vec!["postgres".to_string()];
        v.extend(argv.iter().cloned());
        out.push(v);
    }
    out
}

fn collect_invocations(words: &[String], depth: usize, out: &mut Vec<Vec<String>>) {
    if depth > 8 {
        return;
    }
    for (i, w) in words.iter().enumerate() {
        let prog = program(w);
        if matches!(prog, "postgres" | "postmaster")
            && !words
                .get(i + 1)
                .is_some_and(|n| matches!(program(n), "postgres" | "postmaster"))
        {
            // (`gosu postgres postgres -c ...`: the first is the user name.)
            out.push(words[i..].to_vec());
            return;
        }
        if prog == "pg_ctl" || prog == "pg_ctlcluster" {
            let rest = &words[i + 1..];
            for (j, a) in rest.iter().enumerate() {
                let opts = if a == "-o" || a == "--options" {
                    rest.get(j + 1).cloned()
                } else if let Some(v) = a.strip_prefix("--options=") {
                    Some(v.to_string())
                } else {
                    a.strip_prefix("-o")
                        .filter(|v| !v.is_empty())
                        .map(String::from)
                };
                if let Some(opts) = opts {
                    let mut v = vec!["postgres".to_string()];
                    v.extend(
                        shlex::split(&opts)
                            .unwrap_or_else(|| opts.split_whitespace().map(String::from).collect()),
                    );
                    out.push(v);
                }
            }
            return;
        }
        if is_shell(w) {
            // Shell options come first; with `c` among them (`-c`, `-ec`, `-xc`) the
            // script is the first argument after them, else that argument is a script file.
            let rest = &words[i + 1..];
            let mut j = 0;
            let mut has_c = false;
            while let Some(a) = rest.get(j) {
                if a == "--" {
                    j += 1;
                    break;
                }
                if !(a.starts_with('-') || a.starts_with('+')) || a == "-" {
                    break;
                }
                if !a.starts_with("--") && a.contains('c') {
                    has_c = true;
                }
                // `-o OPTION` and `+o OPTION` take an argument.
                if a == "-o" || a == "+o" {
                    j += 1;
                }
                j += 1;
            }
            let script = rest.get(j).filter(|_| has_c);
            if let Some(script) = script {
                for cmd in split_commands(script) {
                    let tokens = shlex::split(&cmd)
                        .unwrap_or_else(|| cmd.split_whitespace().map(String::from).collect());
                    collect_invocations(&tokens, depth + 1, out);
                }
                return;
            }
            // `sh /docker-entrypoint.sh postgres ...`: look further.
        }
    }
}

/// Settings from a container's command and args: every PostgreSQL
/// invocation found ([`postgres_invocations`]), in order; `-c name=value`,
/// `-cname=value` and `--name=value`; the last occurrence of a name wins.
pub fn settings_from_argv(argv: &[String]) -> BTreeMap<String, ArgSetting> {
    let mut out = BTreeMap::new();
    for tokens in postgres_invocations(argv) {
        let mut i = 1;
        while i < tokens.len() {
            let t = &tokens[i];
            let (assignment, arg) = if t == "-c" && i + 1 < tokens.len() {
                i += 1;
                (tokens[i].clone(), format!("-c {}", tokens[i]))
            } else if let Some(rest) = t.strip_prefix("-c").filter(|r| r.contains('=')) {
                (rest.to_string(), t.clone())
            } else if let Some(rest) = t.strip_prefix("--").filter(|r| r.contains('=')) {
                (rest.to_string(), t.clone())
            } else {
                i += 1;
                continue;
            };
            if let Some((name, value)) = assignment.split_once('=') {
                let name = name.trim().replace('-', "_").to_ascii_lowercase();
                out.insert(
                    name.clone(),
                    ArgSetting {
                        name,
                        value: value.to_string(),
                        arg,
                    },
                );
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn args_forms_and_last_one_wins() {
        let s = settings_from_argv(&argv(&[
            "postgres",
            "-c",
            "max_wal_size=1GB",
            "-cmin_wal_size=1GB",
            "--wal-keep-size=0",
            "-c",
            "max_wal_size=4GB",
            "-c",
            "archive_command=cp %p /a/%f",
        ]));
        assert_eq!(s["max_wal_size"].value, "4GB");
        assert_eq!(s["max_wal_size"].arg, "-c max_wal_size=4GB");
        assert_eq!(s["min_wal_size"].arg, "-cmin_wal_size=1GB");
        assert_eq!(s["wal_keep_size"].value, "0");
        assert_eq!(
            s["archive_command"].value, "cp %p /a/%f",
            "argv elements are not split"
        );
        let sh = settings_from_argv(&argv(&[
            "sh",
            "-c",
            "exec postgres -c max_wal_size=4GB -c 'archive_command=cp %p /x/%f'",
        ]));
        assert_eq!(sh["max_wal_size"].value, "4GB");
        assert_eq!(sh["archive_command"].value, "cp %p /x/%f");
    }
}
