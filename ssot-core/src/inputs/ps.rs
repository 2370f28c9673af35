//! `ps -eo args` and `ps aux` output.

use serde::Serialize;

/// One process, from `ps -eo args` or `ps aux`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// The command line.
    pub command: String,
    /// 1-based line in the input, for evidence.
    pub line: usize,
}

impl Process {
    /// The PostgreSQL process title after `postgres:` (e.g. `archiver`,
    /// `15/main: archiver last was ...`), if this is a PostgreSQL backend.
    fn pg_title(&self) -> Option<&str> {
        let c = self.command.trim_start();
        c.strip_prefix("postgres:").map(str::trim)
    }

    /// True for a PostgreSQL auxiliary process whose title names `role`
    /// (`archiver`, `walsender`, `walreceiver`).
    pub fn is_pg(&self, role: &str) -> bool {
        self.pg_title().is_some_and(|t| {
            t.split(|c: char| c.is_whitespace() || c == ':')
                .any(|w| w == role)
        })
    }
}

/// Parses `ps -eo args` (header `COMMAND`) or `ps aux` (header `USER PID ...
/// COMMAND`, the command from the 11th column on).
pub fn parse_processes(text: &str) -> Vec<Process> {
    let mut lines = text.lines().enumerate().peekable();
    let mut aux = false;
    if let Some((_, first)) = lines.peek() {
        let f = first.trim_start();
        if f.starts_with("USER") && f.contains("COMMAND") {
            aux = true;
            lines.next();
        } else if f.trim() == "COMMAND" || f.trim() == "ARGS" {
            lines.next();
        }
    }
    lines
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let command = if aux {
                let mut rest = l.trim_start();
                for _ in 0..10 {
                    rest = rest.trim_start();
                    rest = rest
                        .find(char::is_whitespace)
                        .map(|p| &rest[p..])
                        .unwrap_or("");
                }
                rest.trim().to_string()
            } else {
                l.trim().to_string()
            };
            Process {
                command,
                line: i + 1,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_from_ps_aux_and_ps_args() {
        let aux = "USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n\
                   postgres       1  0.0  0.1 213456 29000 ?        Ss   10:00   0:00 postgres -c max_wal_size=4GB\n\
                   postgres      70  0.0  0.0 213600  6000 ?        Ss   10:00   0:00 postgres: archiver failed on 000000010000000000000003\n";
        let p = parse_processes(aux);
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[1].command,
            "postgres: archiver failed on 000000010000000000000003"
        );
        assert!(p[1].is_pg("archiver"));
        assert!(!p[0].is_pg("archiver"));
        let args = parse_processes("COMMAND\npostgres: 15/main: archiver \npostgres: walsender repl 10.0.0.2(5432) streaming 0/3000148\n");
        assert!(args[0].is_pg("archiver"), "Debian's cluster-named titles");
        assert!(args[1].is_pg("walsender"));
        assert_eq!(args[0].line, 2);
    }
}
