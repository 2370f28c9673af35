//! The programs that perform a gated operation (a backup, a snapshot, a
//! restore, a startup), and the search of a command line for them.
//!
//! A runbook's plain `run(...)` refuses any command that *runs* one of them
//! anywhere a command starts: the program itself; after a wrapper that runs
//! the command given to it (`env`, `nice`, `timeout`, `sudo`, `runuser --`,
//! `xargs`, `nohup`, ...); inside a shell string (the argument of `-c`:
//! `sh -c "pg_dump db | gzip > f"`, `su postgres -c "pg_ctl start"`) at its
//! start or after `|`, `;`, `&&`, `||`, `&`, `(`, `$(` or a backquote; and
//! `psql` when it reads SQL from a file or a pipe (`-f`, `--file`, `\i`,
//! `\copy … from`, `… | psql`, `psql < f`), which is how plain-format dumps
//! are restored. Such work runs only through an allowed decision
//! (`decision.run(...)`). Naming a program is not running it: `echo
//! "pg_dump done"`, `which pg_dump`, `psql -d postgres` and `docker exec
//! postgres psql` are ordinary commands.
//!
//! Shell strings are read as a shell reads them (quotes, backslashes,
//! operators), so gated work is found however it is naturally written; it
//! is a guard, not a sandbox: a program that builds the name at run time
//! (`$X`, a script file) is not seen. Runbooks are trusted code, which is why
//! ssot refuses to run one that others could have written.

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

/// Programs whose run is gated only with one of these verbs (a word of
/// their command after the program): listing and checking stay ordinary.
pub const GATED_VERBS: &[(&str, &[&str], &str)] = &[
    (
        "pgbackrest",
        &["backup", "restore", "expire", "stanza-delete"],
        "backup/restore: pgBackRest",
    ),
    (
        "barman",
        &["backup", "recover", "delete"],
        "backup/restore: Barman",
    ),
    (
        "barman-cloud-backup",
        &[],
        "backup: Barman to a cloud store",
    ),
    (
        "barman-cloud-restore",
        &[],
        "restore: Barman from a cloud store",
    ),
    (
        "wal-g",
        &["backup-push", "backup-fetch", "delete"],
        "backup/restore: WAL-G",
    ),
    (
        "pg_probackup",
        &["backup", "restore", "delete"],
        "backup/restore: pg_probackup",
    ),
    (
        "pg_checksums",
        &["--enable", "-e", "--disable", "-d"],
        "restore: rewrites a data directory's checksums",
    ),
    (
        "systemctl",
        &["start", "restart", "try-restart", "reload-or-restart"],
        "startup: a PostgreSQL unit",
    ),
    (
        "service",
        &["start", "restart"],
        "startup: a PostgreSQL service",
    ),
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
                "{} ({}), run by word {} of the command",
                self.program, self.what, self.word
            )
        }
    }
}

/// Programs that run the command given after them.
const WRAPPERS: &[&str] = &[
    "exec",
    "env",
    "nice",
    "nohup",
    "setsid",
    "sudo",
    "doas",
    "xargs",
    "command",
    "time",
    "stdbuf",
    "ionice",
    "chrt",
    "taskset",
    "chroot",
    "builtin",
    "timeout",
    "runuser",
    "flock",
    "unshare",
    "nsenter",
    "setpriv",
    "caffeinate",
];

/// Options of those wrappers that take a value in the next word.
const VALUE_OPTIONS: &[&str] = &[
    "-u", "-g", "-G", "-n", "-s", "-k", "-I", "-a", "-d", "-P", "-L", "-E", "-c", "-p", "-C", "-D",
    "-w", "-U", "--user", "--group",
];

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// A piece of a shell string: a word (quotes and escapes resolved) or an
/// operator (`|`, `||`, `&&`, `;`, `&`, `(`, `)`, `$(`, `` ` ``, `<`, `>`, a line break).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Word(String),
    Op(&'static str),
}

/// Reads `s` as a POSIX shell splits a command line.
fn shell_pieces(s: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, out: &mut Vec<Piece>| {
        if *in_word {
            out.push(Piece::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                word.push(n);
                            }
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            c if c.is_whitespace() && c != '\n' => flush(&mut word, &mut in_word, &mut out),
            '\n' | ';' | '(' | ')' | '`' | '<' | '>' => {
                flush(&mut word, &mut in_word, &mut out);
                out.push(Piece::Op(match c {
                    '\n' | ';' => ";",
                    '(' => "(",
                    ')' => ")",
                    '`' => "`",
                    '<' => "<",
                    _ => ">",
                }));
            }
            '|' | '&' => {
                flush(&mut word, &mut in_word, &mut out);
                let double = chars.next_if_eq(&c).is_some();
                out.push(Piece::Op(match (c, double) {
                    ('|', false) => "|",
                    ('|', true) => "||",
                    ('&', false) => "&",
                    _ => "&&",
                }));
            }
            '$' if chars.peek() == Some(&'(') => {
                flush(&mut word, &mut in_word, &mut out);
                chars.next();
                out.push(Piece::Op("$("));
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut out);
    out
}

/// One simple command: its words, whether its stdin comes from a pipe, and
/// whether it has an input redirection.
struct Simple {
    words: Vec<String>,
    piped_in: bool,
    redirected_in: bool,
}

/// The simple commands of a shell string.
fn simple_commands(s: &str) -> Vec<Simple> {
    let mut out = vec![Simple {
        words: Vec::new(),
        piped_in: false,
        redirected_in: false,
    }];
    let mut after_redirect = false;
    for p in shell_pieces(s) {
        let cur = out.last_mut().expect("never empty");
        match p {
            Piece::Word(w) => {
                if after_redirect {
                    after_redirect = false; // the redirection's target
                } else {
                    cur.words.push(w);
                }
            }
            Piece::Op("<") => {
                cur.redirected_in = true;
                after_redirect = true;
            }
            Piece::Op(">") => after_redirect = true,
            Piece::Op(op) => out.push(Simple {
                words: Vec::new(),
                piped_in: op == "|",
                redirected_in: false,
            }),
        }
    }
    out
}

/// Whether `w` is a wrapper's option value we should skip (a number or a
/// duration: `nice -n 10`, `timeout 60`, `timeout 5m`).
fn looks_like_a_value(w: &str) -> bool {
    let digits = w.trim_end_matches(['s', 'm', 'h', 'd']);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// The command a simple command runs, through wrappers: the index of its
/// first word that is a program, and every program it reaches.
fn programs(words: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        // Leading assignments (`PGHOST=/x pg_dump`) are not the program.
        if w.contains('=') && !w.starts_with('-') && !w.starts_with('/') {
            i += 1;
            continue;
        }
        out.push(i);
        if !WRAPPERS.contains(&basename(w)) {
            break;
        }
        // Skip the wrapper's options and their values to the command it runs.
        i += 1;
        while i < words.len() {
            let o = &words[i];
            if o == "--" {
                i += 1;
                break;
            }
            if o.starts_with('-') {
                i += if VALUE_OPTIONS.contains(&o.as_str()) {
                    2
                } else {
                    1
                };
            } else if looks_like_a_value(o) || (o.contains('=') && !o.starts_with('/')) {
                i += 1;
            } else {
                break;
            }
        }
    }
    out
}

/// Whether psql's arguments make it read a script: `-f`, `--file`, a
/// `-c`/`--command` whose SQL is `\i`, `\ir` or `\copy … from`.
fn psql_reads_a_script(args: &[String]) -> bool {
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let is_cmd = a == "-c" || a == "--command" || a.starts_with("--command=");
        if a == "--file" || a.starts_with("--file=") {
            return true;
        }
        if a.starts_with('-') && !a.starts_with("--") {
            // A cluster of short options: `f` before any option that takes the rest.
            for c in a[1..].chars() {
                if c == 'f' {
                    return true;
                }
                if "cdhpUvPLoTRF".contains(c) {
                    break;
                }
            }
        }
        let sql = if let Some(v) = a.strip_prefix("--command=") {
            Some(v)
        } else if is_cmd || a.starts_with("-c") && a.len() > 2 {
            if a.len() > 2 && a.starts_with("-c") {
                Some(&a[2..])
            } else {
                it.peek().map(|s| s.as_str())
            }
        } else {
            None
        };
        if let Some(sql) = sql {
            let t = sql.trim_start();
            let lower = t.to_ascii_lowercase();
            if t.starts_with("\\i") || (lower.starts_with("\\copy") && lower.contains(" from ")) {
                return true;
            }
        }
    }
    false
}

fn gated_name(name: &str, rest: &[String]) -> Option<(String, &'static str)> {
    if let Some((p, what)) = GATED_PROGRAMS.iter().find(|(p, _)| *p == name) {
        return Some(((*p).to_string(), what));
    }
    let (p, verbs, what) = GATED_VERBS.iter().find(|(p, _, _)| *p == name)?;
    let service = matches!(*p, "systemctl" | "service");
    let verb = verbs.is_empty() || rest.iter().any(|w| verbs.contains(&w.as_str()));
    let postgres_unit = !service || rest.iter().any(|w| basename(w).starts_with("postgresql"));
    (verb && postgres_unit).then(|| ((*p).to_string(), *what))
}

/// Looks through one simple command (`words`, whose word `at` of the argv
/// they came from) and any shell string in it.
fn search(
    words: &[String],
    piped: bool,
    redirected: bool,
    at: usize,
    depth: usize,
) -> Option<GatedUse> {
    for &i in &programs(words) {
        let name = basename(&words[i]);
        let rest = &words[i + 1..];
        if let Some((program, what)) = gated_name(name, rest) {
            return Some(GatedUse {
                program,
                word: if depth == 0 { i } else { at },
                what,
            });
        }
        if name == "psql" && (piped || redirected || psql_reads_a_script(rest)) {
            return Some(GatedUse {
                program: "psql".into(),
                word: if depth == 0 { i } else { at },
                what: "restore: psql reading SQL from a file or a pipe",
            });
        }
    }
    // The argument of a `-c`-style option is a shell string (`sh -c`, `su -c`,
    // `bash -ec`, `ssh host cmd` is out of reach).
    if depth < 8 {
        for (i, w) in words.iter().enumerate().skip(1) {
            let prev = &words[i - 1];
            let shell_arg = prev.starts_with('-') && !prev.starts_with("--") && prev.ends_with('c');
            if shell_arg || prev == "--command" {
                let at = if depth == 0 { i } else { at };
                for s in simple_commands(w) {
                    if let Some(g) = search(&s.words, s.piped_in, s.redirected_in, at, depth + 1) {
                        return Some(g);
                    }
                }
            }
        }
    }
    None
}

/// The first gated program `argv` would run, if any (see the module docs).
pub fn gated_program(argv: &[String]) -> Option<GatedUse> {
    search(argv, false, false, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(argv: &[&str]) -> Option<String> {
        let v: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        gated_program(&v).map(|g| g.program)
    }

    #[test]
    fn gated_programs_are_found_wherever_a_command_starts() {
        let cases: &[&[&str]] = &[
            &["pg_dump", "db"],
            &["/usr/lib/postgresql/15/bin/pg_dump", "db"],
            &["sh", "-c", "pg_dump db | gzip > /b/f.gz"],
            &["bash", "-c", "set -e; pg_dump db>f"],
            &["bash", "-ec", "cd /x && exec pg_dumpall"],
            &["dash", "-c", "exec pg_dumpall"],
            &["env", "PGHOST=/tmp", "pg_dump", "db"],
            &["nice", "-n", "10", "pg_basebackup", "-D", "x"],
            &["timeout", "60", "pg_restore", "f"],
            &["timeout", "-s", "TERM", "5m", "pg_restore", "f"],
            &["runuser", "-u", "postgres", "--", "pg_ctl", "start"],
            &["su", "postgres", "-c", "pg_ctl -D /d start"],
            &["xargs", "pg_dump"],
            &["xargs", "-I", "{}", "pg_dump", "{}"],
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
            &["sh", "-c", "x=`pg_dump db`"],
            &["postgres", "-D", "/d"],
            &["/usr/lib/postgresql/15/bin/postgres", "-D", "/d"],
            &["sh", "-c", "cd /d && postgres -D ."],
            &["env", "LANG=C", "postgres", "-D", "/d"],
            &["runuser", "-u", "postgres", "--", "postgres", "-D", "/d"],
            &["sh", "-c", "PGDATA=/d postmaster"],
            &["sh", "-c", "nohup sh -c 'pg_ctl start' &"],
            &["systemctl", "start", "postgresql@15-main"],
            &["systemctl", "restart", "postgresql"],
            &["service", "postgresql", "start"],
            &["pgbackrest", "--stanza=main", "backup"],
            &["wal-g", "backup-push", "/d"],
            &["barman", "recover", "pg", "latest", "/d"],
            &["pg_checksums", "--enable", "-D", "/d"],
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
            &["psql", "-c", "\\copy t from /tmp/t.csv"],
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
            &["psql", "-c", "select 'a' || 'b'"],
            &["psql", "-c", "select 1 where 1 < 2"],
            &["psql", "-Atc", "select 1", "-F", "|"],
            &["sh", "-c", "psql -Atc 'select 1' | wc -l"],
            &[
                "sh",
                "-c",
                "psql -c \"select 'a' || 'b' where 1 < 2\" 2>&1 | logger -t ssot",
            ],
            &[
                "psql",
                "postgresql://postgres@localhost/postgres",
                "-c",
                "select 1",
            ],
            &["psql", "-c", "\\copy t to /tmp/t.csv"],
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
            &["echo", "pg_dump finished"],
            &["logger", "-t", "ssot", "pg_dump of trading finished"],
            &["grep", "pg_dump", "/var/log/syslog"],
            &["which", "pg_dump"],
            &["test", "-x", "/usr/lib/postgresql/15/bin/pg_dump"],
            &[
                "docker", "exec", "postgres", "psql", "-U", "postgres", "-c", "select 1",
            ],
            &["du", "-sh", "/var/lib/postgres"],
            &["curl", "https://hooks.example/postgres"],
            &["sudo", "-u", "postgres", "psql", "-c", "select 1"],
            &["pgbackrest", "--stanza=main", "info", "--output=json"],
            &["systemctl", "status", "postgresql"],
            &["systemctl", "restart", "nginx"],
            &["pg_checksums", "--check", "-D", "/d"],
        ] {
            assert_eq!(found(argv), None, "{argv:?}");
        }
    }
}
