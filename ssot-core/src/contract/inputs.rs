//! Parsers for the inputs of the contract check, in the exact formats the
//! standard tools print. Every error names the input and where in it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

fn input_err(origin: &str, m: impl Into<String>) -> Error {
    Error::Input(format!("{origin}: {}", m.into()))
}

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

/// `spec.replicas` as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replicas {
    /// A JSON integer ≥ 0 (absent: Kubernetes' default, 1).
    Count(u64),
    /// Anything else (`2.0`, `"3"`, `-1`): what it was, as JSON.
    Invalid(String),
}

impl std::fmt::Display for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Replicas::Count(n) => write!(f, "{n}"),
            Replicas::Invalid(v) => f.write_str(v),
        }
    }
}

/// How many PVC names of a volumeClaimTemplate are listed (one per replica
/// ordinal); more are counted, never allocated.
pub const PVC_NAMES_LISTED: u64 = 16;

/// What the contract needs from `kubectl get sts NAME -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatefulSetFacts {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `spec.replicas` (Kubernetes defaults it to 1).
    pub replicas: Replicas,
    /// The PostgreSQL container's name.
    pub container: String,
    /// Settings from PostgreSQL's own arguments; the last occurrence of a name wins.
    pub settings: BTreeMap<String, ArgSetting>,
    /// PGDATA inside the container.
    pub pgdata: String,
    /// The PVC(s) holding PGDATA, one per replica ordinal, at most
    /// [`PVC_NAMES_LISTED`]; empty if PGDATA is not on a PVC.
    pub pgdata_pvcs: Vec<String>,
    /// Replica ordinals beyond [`PVC_NAMES_LISTED`] whose PVC names were not listed.
    pub pgdata_pvcs_not_listed: u64,
    /// How PGDATA's volume was found, for evidence.
    pub pgdata_volume: String,
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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses `kubectl get sts NAME -o json` (or a List holding StatefulSets; then
/// `want_name` picks one).
pub fn parse_statefulset(text: &str, origin: &str, want_name: &str) -> Result<StatefulSetFacts> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        input_err(
            origin,
            format!("not JSON at line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    let sts = match doc["kind"].as_str() {
        Some("StatefulSet") => &doc,
        Some("List") | Some("StatefulSetList") => {
            let items = doc["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            items
                .iter()
                .find(|i| i["metadata"]["name"] == want_name)
                .or_else(|| (items.len() == 1).then(|| &items[0]))
                .ok_or_else(|| {
                    input_err(
                        origin,
                        format!("no StatefulSet named {want_name} in the list"),
                    )
                })?
        }
        Some(other) => {
            return Err(input_err(
                origin,
                format!("kind is \"{other}\", expected StatefulSet (kubectl get sts NAME -o json)"),
            ))
        }
        None => {
            return Err(input_err(
                origin,
                "has no \"kind\": expected a StatefulSet (kubectl get sts NAME -o json)",
            ))
        }
    };
    let name = sts["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let namespace = sts["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let replicas = match &sts["spec"]["replicas"] {
        Value::Null => Replicas::Count(1),
        Value::Number(n) if n.is_u64() => Replicas::Count(n.as_u64().unwrap_or(1)),
        other => Replicas::Invalid(other.to_string()),
    };
    let pod = &sts["spec"]["template"]["spec"];
    let containers = pod["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let is_pg = |c: &&Value| {
        let n = c["name"].as_str().unwrap_or("");
        let img = c["image"].as_str().unwrap_or("");
        let mut argv = strings(&c["command"]);
        argv.extend(strings(&c["args"]));
        ["postgres", "postgresql", "database", "db"].contains(&n)
            || img.contains("postgres")
            || !postgres_invocations(&argv).is_empty()
    };
    let c = containers.iter().find(is_pg).ok_or_else(|| {
        input_err(
            origin,
            "spec.template.spec.containers has no PostgreSQL container",
        )
    })?;
    let mut argv = strings(&c["command"]);
    argv.extend(strings(&c["args"]));
    let settings = settings_from_argv(&argv);
    let pgdata_from_args = postgres_invocations(&argv)
        .iter()
        .rev()
        .find_map(|inv| inv.windows(2).find(|w| w[0] == "-D").map(|w| w[1].clone()));
    let pgdata = c["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == "PGDATA"))
        .and_then(|e| e["value"].as_str().map(String::from))
        .or(pgdata_from_args)
        .unwrap_or_else(|| "/var/lib/postgresql/data".into());
    let mount = c["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?, m["mountPath"].as_str()?)))
        .filter(|(_, p)| {
            pgdata == *p || pgdata.starts_with(&format!("{}/", p.trim_end_matches('/')))
        })
        .max_by_key(|(_, p)| p.len());
    let mut not_listed = 0;
    let (pgdata_pvcs, pgdata_volume) = match mount {
        None => (Vec::new(), format!("no volumeMount holds PGDATA {pgdata}")),
        Some((vol, path)) => {
            let templates = sts["spec"]["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten();
            if templates.clone().any(|t| t["metadata"]["name"] == vol) {
                // One PVC per replica ordinal; an invalid count still has ordinal 0.
                let n = match replicas {
                    Replicas::Count(n) => n.max(1),
                    Replicas::Invalid(_) => 1,
                };
                not_listed = n.saturating_sub(PVC_NAMES_LISTED);
                (
                    (0..n.min(PVC_NAMES_LISTED))
                        .map(|i| format!("{vol}-{name}-{i}"))
                        .collect(),
                    format!("volumeMount {vol} at {path} from volumeClaimTemplate {vol}"),
                )
            } else {
                let claim = pod["volumes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["name"] == vol)
                    .and_then(|v| v["persistentVolumeClaim"]["claimName"].as_str());
                match claim {
                    Some(c) => (
                        vec![c.to_string()],
                        format!("volumeMount {vol} at {path} from persistentVolumeClaim {c}"),
                    ),
                    None => (
                        Vec::new(),
                        format!("volumeMount {vol} at {path} is not a PersistentVolumeClaim"),
                    ),
                }
            }
        }
    };
    Ok(StatefulSetFacts {
        name,
        namespace,
        replicas,
        container: c["name"].as_str().unwrap_or("").to_string(),
        settings,
        pgdata,
        pgdata_pvcs,
        pgdata_pvcs_not_listed: not_listed,
        pgdata_volume,
    })
}

/// One row of `pg_settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeSetting {
    /// `name`.
    pub name: String,
    /// `setting`.
    pub setting: String,
    /// `unit`, if any.
    pub unit: Option<String>,
    /// Where it was read, for evidence (`settings.csv:12`).
    pub at: String,
}

/// Parses `psql -AtF',' -c "select name,setting,unit from pg_settings"` output,
/// or a JSON array of `{name, setting, unit}` objects. A setting containing
/// the separator is kept whole (the unit is the last column).
pub fn parse_pg_settings(text: &str, origin: &str) -> Result<BTreeMap<String, RuntimeSetting>> {
    let mut out = BTreeMap::new();
    if text.trim_start().starts_with('[') {
        let rows: Vec<Value> = serde_json::from_str(text).map_err(|e| {
            input_err(
                origin,
                format!("not JSON at line {} column {}: {e}", e.line(), e.column()),
            )
        })?;
        for (i, r) in rows.iter().enumerate() {
            let name = r["name"]
                .as_str()
                .ok_or_else(|| input_err(origin, format!("row {}: no \"name\"", i + 1)))?;
            let setting = match &r["setting"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            out.insert(
                name.to_string(),
                RuntimeSetting {
                    name: name.to_string(),
                    setting,
                    unit: r["unit"]
                        .as_str()
                        .filter(|u| !u.is_empty())
                        .map(String::from),
                    at: format!("{origin} row {}", i + 1),
                },
            );
        }
        return Ok(out);
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let sep = if line.contains(',') { ',' } else { '|' };
        let (name, rest) = line.split_once(sep).ok_or_else(|| {
            input_err(
                origin,
                format!("line {}: expected name,setting,unit", i + 1),
            )
        })?;
        let (setting, unit) = rest.rsplit_once(sep).unwrap_or((rest, ""));
        if name.trim() == "name" && setting.trim() == "setting" {
            continue; // a header row
        }
        out.insert(
            name.trim().to_string(),
            RuntimeSetting {
                name: name.trim().to_string(),
                setting: setting.to_string(),
                unit: Some(unit.trim().to_string()).filter(|u| !u.is_empty()),
                at: format!("{origin}:{}", i + 1),
            },
        );
    }
    if out.is_empty() {
        return Err(input_err(origin, "no settings found"));
    }
    Ok(out)
}

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

/// A PersistentVolumeClaim from `kubectl get pvc -o json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pvc {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `status.phase`.
    pub phase: String,
}

/// Parses `kubectl get pvc -o json` (a list or a single claim).
pub fn parse_pvcs(text: &str, origin: &str) -> Result<Vec<Pvc>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        input_err(
            origin,
            format!("not JSON at line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    let items: Vec<&Value> =
        match doc["kind"].as_str() {
            Some("PersistentVolumeClaim") => vec![&doc],
            Some("List") | Some("PersistentVolumeClaimList") => doc["items"]
                .as_array()
                .map(|a| a.iter().collect())
                .unwrap_or_default(),
            Some(other) => {
                return Err(input_err(
                    origin,
                    format!(
                "kind is \"{other}\", expected PersistentVolumeClaimList (kubectl get pvc -o json)"
            ),
                ))
            }
            None => return Err(input_err(
                origin,
                "has no \"kind\": expected a PersistentVolumeClaimList (kubectl get pvc -o json)",
            )),
        };
    Ok(items
        .iter()
        .map(|p| Pvc {
            name: p["metadata"]["name"].as_str().unwrap_or("").to_string(),
            namespace: p["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string(),
            phase: p["status"]["phase"].as_str().unwrap_or("").to_string(),
        })
        .collect())
}

/// Parses `active_pvc.list`: one PVC a line (`name` or `namespace/name`), `#` comments.
pub fn parse_active_pvcs(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// True when `list` names the claim (`name` or `namespace/name`).
pub fn listed(list: &[String], pvc_name: &str, namespace: &str) -> bool {
    list.iter()
        .any(|e| e == pvc_name || *e == format!("{namespace}/{pvc_name}"))
}

/// A line of `postgresql.auto.conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfLine {
    /// The raw value (possibly quoted).
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// Parses `postgresql.auto.conf` (`name = 'value'` lines, `#` comments); the last occurrence wins.
pub fn parse_auto_conf(text: &str, origin: &str) -> Result<BTreeMap<String, ConfLine>> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| input_err(origin, format!("line {}: expected name = value", i + 1)))?;
        // Strip a trailing comment outside quotes.
        let mut in_quote = false;
        let mut end = value.len();
        for (p, ch) in value.char_indices() {
            match ch {
                '\'' => in_quote = !in_quote,
                '#' if !in_quote => {
                    end = p;
                    break;
                }
                _ => {}
            }
        }
        out.insert(
            name.trim().to_ascii_lowercase(),
            ConfLine {
                value: value[..end].trim().to_string(),
                line: i + 1,
            },
        );
    }
    Ok(out)
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

    #[test]
    fn pg_settings_rows_keep_commas_in_values() {
        let t = "max_wal_size,4096,MB\narchive_command,cp %p /a,b/%f,\ncheckpoint_timeout,300,s\n";
        let s = parse_pg_settings(t, "s.csv").unwrap();
        assert_eq!(s["max_wal_size"].unit.as_deref(), Some("MB"));
        assert_eq!(s["archive_command"].setting, "cp %p /a,b/%f");
        assert_eq!(s["archive_command"].unit, None);
        assert_eq!(s["checkpoint_timeout"].at, "s.csv:3");
        let j = parse_pg_settings(
            r#"[{"name":"wal_keep_size","setting":"0","unit":"MB"}]"#,
            "s.json",
        )
        .unwrap();
        assert_eq!(j["wal_keep_size"].setting, "0");
        assert!(parse_pg_settings("garbage\n", "x")
            .unwrap_err()
            .to_string()
            .contains("x: line 1"));
    }

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

    #[test]
    fn auto_conf_quotes_and_comments() {
        let t = "# Do not edit this file manually!\nwal_keep_size = '1GB'\narchive_command = 'cp %p /a#b/%f' # set by ALTER SYSTEM\n";
        let c = parse_auto_conf(t, "auto.conf").unwrap();
        assert_eq!(c["wal_keep_size"].value, "'1GB'");
        assert_eq!(c["wal_keep_size"].line, 2);
        assert_eq!(c["archive_command"].value, "'cp %p /a#b/%f'");
    }
}
