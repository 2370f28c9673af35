//! The programs that perform a gated operation (a backup, a snapshot, a
//! restore, a startup), and the search of a command line for them.
//!
//! A runbook's plain `run(...)` refuses any command that names one of
//! [`GATED_PROGRAMS`] in *any* word — the program itself, or an argument of a
//! wrapper (`env`, `nice`, `timeout`, `runuser`, `su -c`, `xargs`, `sudo`),
//! or a word inside a shell string (`sh -c "pg_dump db | gzip > f"`) — and
//! `psql` when it reads SQL from a file or a pipe (`-f`, `--file`, `\i`, `<`,
//! `|`), which is how plain-format dumps are restored. Such work runs only
//! through an allowed decision (`decision.run(...)`).
//!
//! The search is over the literal words (quotes and backslashes removed), so
//! it catches gated work however it is naturally written; it is a guard, not
//! a sandbox: a program that builds the name at run time (`$X`, a script
//! file) is not seen. Runbooks are trusted code, which is why ssot refuses to
//! run one that others could have written (see the runbook owner check).

/// Every program whose run is a gated operation, with what it does. One list:
/// the runbook guard, the docs and the tests all read it.
pub const GATED_PROGRAMS: &[(&str, &str)] = &[
    ("pg_dump", "backup: dumps a database"),
    ("pg_dumpall", "backup: dumps a cluster"),
    ("pg_basebackup", "backup: copies a cluster"),
    ("pg_receivewal", "backup: streams WAL"),
    ("pg_recvlogical", "backup: streams logical changes"),
    ("pg_restore", "restore: loads a dump"),
    ("pg_rewind", "restore: rewinds a data directory"),
    ("pg_resetwal", "restore: rewrites the WAL control data"),
    ("pg_upgrade", "restore: rewrites a data directory"),
    ("pg_ctl", "startup: starts, stops, promotes a server"),
    ("postgres", "startup: the server itself"),
    ("postmaster", "startup: the server itself (old name)"),
    ("pg_ctlcluster", "startup: Debian's wrapper of pg_ctl"),
    (
        "pg_createcluster",
        "startup: Debian's initdb and configuration",
    ),
    ("pg_dropcluster", "restore: Debian's removal of a cluster"),
    ("pg_upgradecluster", "restore: Debian's pg_upgrade wrapper"),
    ("pg_backupcluster", "backup: Debian's backup wrapper"),
    ("pg_restorecluster", "restore: Debian's restore wrapper"),
    ("pg_virtualenv", "startup: Debian's throwaway cluster"),
];

/// `psql` restores when it reads SQL from a file or a pipe.
const PSQL: &str = "psql";

/// Names that are also common words of a command line (`psql -d postgres`,
/// `runuser -u postgres`): a program only where a command starts — the
/// program itself, after a wrapper (`env`, `sudo`, `--`, ...), at the start
/// of a shell string or after `;`, `|`, `&`, `(` in one — or as a path
/// (`/usr/lib/postgresql/15/bin/postgres`).
const AMBIGUOUS: [&str; 2] = ["postgres", "postmaster"];

/// Programs that run the command given after them.
const WRAPPERS: [&str; 17] = [
    "--", "exec", "env", "nice", "nohup", "setsid", "sudo", "doas", "xargs", "command", "time",
    "stdbuf", "ionice", "chrt", "taskset", "chroot", "builtin",
];

/// A gated program found in a command line, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatedUse {
    /// The program's name (`pg_dump`, or `psql` reading a script).
    pub program: String,
    /// The word of the command line it was found in (0 is the program).
    pub word: usize,
    /// What it does.
    pub what: &'static str,
}

impl std::fmt::Display for GatedUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.word == 0 {
            write!(f, "{} ({})", self.program, self.what)
        } else {
            write!(
                f,
                "{} ({}), named in word {} of the command",
                self.program, self.what, self.word
            )
        }
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// A piece of a word: the text, and whether a command starts there.
struct Token<'a> {
    text: &'a str,
    command: bool,
}

/// Splits a word at whitespace and shell punctuation. A command starts at
/// the first piece when `starts` (the word is the program, or follows a
/// wrapper) or when the word is a shell string (it holds whitespace), and
/// after `;`, `|`, `&`, `(`, `` ` ``, `$` or a line break, and after a
/// `NAME=value` that starts one.
fn tokens(word: &str, starts: bool) -> Vec<Token<'_>> {
    let shell = word.contains(char::is_whitespace);
    let mut out = Vec::new();
    let mut command = starts || shell;
    let mut begin = None;
    for (i, c) in word.char_indices() {
        let separator = matches!(c, ';' | '|' | '&' | '(' | ')' | '`' | '$' | '\n');
        let split =
            separator || c.is_whitespace() || matches!(c, '<' | '>' | '{' | '}' | ',' | '!');
        match (split, begin) {
            (false, None) => begin = Some(i),
            (true, Some(b)) => {
                let text = &word[b..i];
                let assignment = text.contains('=') && !text.starts_with('-');
                out.push(Token { text, command });
                command = command && assignment;
                begin = None;
            }
            _ => {}
        }
        if separator {
            command = true;
        }
    }
    if let Some(b) = begin {
        out.push(Token {
            text: &word[b..],
            command,
        });
    }
    out
}

/// Whether one token of psql's arguments asks it to read a script.
fn reads_script(token: &str) -> bool {
    token == "--file"
        || token.starts_with("--file=")
        || token.starts_with("\\i")
        || (token.starts_with('-') && !token.starts_with("--") && token[1..].contains('f'))
}

/// The first gated program `argv` would run, if any (see the module docs).
pub fn gated_program(argv: &[String]) -> Option<GatedUse> {
    let cleaned: Vec<String> = argv
        .iter()
        .map(|w| {
            w.chars()
                .filter(|c| !matches!(c, '\'' | '"' | '\\'))
                .collect()
        })
        .collect();
    let mut psql_at = None;
    let mut starts = true;
    for (i, w) in cleaned.iter().enumerate() {
        for t in tokens(w, starts) {
            // `FOO=x pg_dump`, `--file=/x/pg_dump`: each part may name a program.
            for (j, part) in t.text.split('=').enumerate() {
                let name = basename(part);
                let at_command = (t.command && j == 0) || part.contains('/');
                if let Some((p, what)) = GATED_PROGRAMS
                    .iter()
                    .find(|(p, _)| *p == name && (at_command || !AMBIGUOUS.contains(p)))
                {
                    return Some(GatedUse {
                        program: (*p).to_string(),
                        word: i,
                        what,
                    });
                }
                if name == PSQL && psql_at.is_none() {
                    psql_at = Some(i);
                }
            }
        }
        let b = basename(w);
        starts = WRAPPERS.contains(&b) || (starts && w.contains('=') && !w.starts_with('-'));
    }
    let at = psql_at?;
    // psql reads a script: an option, or (inside a shell string) a pipe or a redirect.
    let by_option = argv
        .iter()
        .flat_map(|w| w.split_whitespace())
        .any(reads_script);
    let by_shell = argv.iter().any(|w| w.contains('<') || w.contains('|'));
    (by_option || by_shell).then(|| GatedUse {
        program: PSQL.to_string(),
        word: at,
        what: "restore: psql reading SQL from a file or a pipe",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(argv: &[&str]) -> Option<String> {
        let v: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        gated_program(&v).map(|g| g.program)
    }

    #[test]
    fn gated_programs_are_found_in_every_word() {
        let cases: &[&[&str]] = &[
            &["pg_dump", "db"],
            &["/usr/lib/postgresql/15/bin/pg_dump", "db"],
            &["sh", "-c", "pg_dump db | gzip > /b/f.gz"],
            &["bash", "-c", "set -e; pg_dump db>f"],
            &["dash", "-c", "exec pg_dumpall"],
            &["env", "PGHOST=/tmp", "pg_dump", "db"],
            &["nice", "-n", "10", "pg_basebackup", "-D", "x"],
            &["timeout", "60", "pg_restore", "f"],
            &["runuser", "-u", "postgres", "--", "pg_ctl", "start"],
            &["su", "postgres", "-c", "pg_ctl -D /d start"],
            &["xargs", "pg_dump"],
            &[
                "sudo",
                "-u",
                "postgres",
                "pg_ctlcluster",
                "15",
                "main",
                "start",
            ],
            &["pg_receivewal", "-D", "x"],
            &["sh", "-c", "p'g'_du\"mp\" db"],
            &["sh", "-c", "$(command -v pg_dump) db"],
            &["postgres", "-D", "/d"],
            &["/usr/lib/postgresql/15/bin/postgres", "-D", "/d"],
            &["sh", "-c", "cd /d && postgres -D ."],
            &["env", "LANG=C", "postgres", "-D", "/d"],
            &["runuser", "-u", "postgres", "--", "postgres", "-D", "/d"],
            &["sh", "-c", "PGDATA=/d postmaster"],
        ];
        for argv in cases {
            assert!(found(argv).is_some(), "{argv:?} runs a gated program");
        }
    }

    #[test]
    fn psql_is_gated_when_it_reads_a_script() {
        for argv in [
            &["psql", "-f", "dump.sql"][..],
            &["psql", "--file=dump.sql"],
            &["psql", "-qf", "dump.sql"],
            &["sh", "-c", "gunzip -c f.gz | psql db"],
            &["sh", "-c", "psql db < dump.sql"],
            &["psql", "-c", "\\i dump.sql"],
        ] {
            assert_eq!(found(argv).as_deref(), Some("psql"), "{argv:?}");
        }
        for argv in [
            &["psql", "-c", "select 1"][..],
            &[
                "psql",
                "-At",
                "-d",
                "postgres",
                "-c",
                "select count(*) from t",
            ],
            &["psql", "--username", "postgres", "-c", "select 1"],
        ] {
            assert_eq!(found(argv), None, "{argv:?} only queries");
        }
    }

    #[test]
    fn ordinary_commands_are_not_gated() {
        for argv in [
            &["rm", "-f", "/var/backups/pg_dump/x.dump"][..],
            &["ls", "/srv/pg_dumps"],
            &["gzip", "-t", "f.gz"],
            &["sh", "-c", "du -sb /var/lib/postgresql"],
            &[
                "runuser",
                "-u",
                "postgres",
                "--",
                "ls",
                "/var/lib/postgresql",
            ],
            &["su", "postgres", "-c", "id"],
            &["sh", "-c", "echo the postgres user"],
            &["createdb", "-O", "postgres", "app"],
        ] {
            assert_eq!(found(argv), None, "{argv:?}");
        }
    }
}
