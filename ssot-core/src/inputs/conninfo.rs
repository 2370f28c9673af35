//! libpq connection strings, read as libpq reads them, so that ssot can say
//! which server it talks to without ever writing a secret.
//!
//! Two forms (PostgreSQL docs, "Connection Strings"):
//! * keyword/value: `host=/run/pg port = 5432 password='a b\'c'` — spaces
//!   around `=`, values in single quotes with `\` escapes, or unquoted up to
//!   whitespace (with `\` escapes);
//! * URI: `postgresql://user:secret@host1:5432,host2/db?sslpassword=x&...`
//!   — percent-encoded, with query parameters that may carry any keyword.
//!
//! [`ConnInfo::display`] keeps only `host`, `port`, `dbname` and `user`:
//! what an operator needs to know which server, and never a password, an
//! `sslpassword` or anything else. [`ConnInfo::secrets`] lists the values
//! that must never appear anywhere ssot writes, for [`super::redact`].

/// The parts of a connection string ssot may show, and the secrets it may not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnInfo {
    /// `host` (or the URI's hosts, comma-separated).
    pub host: Option<String>,
    /// `port` (or the URI's ports, comma-separated).
    pub port: Option<String>,
    /// `dbname`.
    pub dbname: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// Every secret value (`password`, `sslpassword`), as given and decoded.
    secrets: Vec<String>,
    /// Every keyword and its (decoded) value, in order; a later one wins.
    params: Vec<(String, String)>,
}

/// The keywords whose values are secrets.
const SECRET_KEYS: [&str; 2] = ["password", "sslpassword"];

impl ConnInfo {
    /// Parses `dsn`; `None` when it is not a connection string libpq would
    /// accept (an unterminated quote, a keyword without `=`).
    pub fn parse(dsn: &str) -> Option<ConnInfo> {
        let d = dsn.trim();
        if let Some(rest) = d
            .strip_prefix("postgresql://")
            .or_else(|| d.strip_prefix("postgres://"))
        {
            parse_uri(rest)
        } else {
            parse_keywords(d)
        }
    }

    fn set(&mut self, key: &str, value: String) {
        self.params.push((key.to_string(), value.clone()));
        match key {
            "host" | "hostaddr" if self.host.is_none() || key == "host" => self.host = Some(value),
            "port" => self.port = Some(value),
            "dbname" => self.dbname = Some(value),
            "user" => self.user = Some(value),
            k if SECRET_KEYS.contains(&k) => self.secrets.push(value),
            _ => {}
        }
    }

    /// The server as ssot shows it: `host=... port=... dbname=... user=...`
    /// (only those given, values quoted as libpq would read them back).
    pub fn display(&self) -> String {
        let parts: Vec<String> = [
            ("host", &self.host),
            ("port", &self.port),
            ("dbname", &self.dbname),
            ("user", &self.user),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", quote(v))))
        .collect();
        if parts.is_empty() {
            "(libpq defaults)".into()
        } else {
            parts.join(" ")
        }
    }

    /// The secret values, longest first (so a longer one is replaced whole).
    pub fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = self
            .secrets
            .iter()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        s.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s.dedup();
        s
    }
}

/// How to give a connection string to a libpq program (`psql`) so that no
/// secret is on its command line, where every local user can read it
/// (`/proc/PID/cmdline`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handoff {
    /// No secret: the connection string as it is.
    Plain(String),
    /// The whole connection, secrets included, as the service `name` of a
    /// service file with `content` (written private, given by
    /// `PGSERVICEFILE`); the command line says only `service=name`.
    Service {
        /// The service's name.
        name: String,
        /// The service file.
        content: String,
    },
    /// The string already names a service of its own: the password goes in
    /// `PGPASSWORD` (readable only by the same user), the rest on the line.
    Password {
        /// The connection string without its password.
        conninfo: String,
        /// The password.
        password: String,
    },
}

/// [`Handoff`] for `dsn`; an error says why it cannot be passed safely
/// (without echoing it).
pub fn handoff(dsn: &str) -> std::result::Result<Handoff, String> {
    let info = ConnInfo::parse(dsn)
        .ok_or_else(|| "the connection string cannot be parsed (as libpq reads it)".to_string())?;
    if info.secrets.is_empty() {
        return Ok(Handoff::Plain(dsn.to_string()));
    }
    // The last value of each keyword, in first-seen order.
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in &info.params {
        match params.iter_mut().find(|(pk, _)| pk == k) {
            Some(p) => p.1 = v.clone(),
            None => params.push((k.clone(), v.clone())),
        }
    }
    let is_secret = |k: &str| SECRET_KEYS.contains(&k);
    if params.iter().any(|(k, _)| k == "service") {
        if params.iter().any(|(k, _)| k == "sslpassword") {
            return Err("an sslpassword together with service=: put it in the service file".into());
        }
        let password = params
            .iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let conninfo = params
            .iter()
            .filter(|(k, _)| !is_secret(k))
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect::<Vec<_>>()
            .join(" ");
        return Ok(Handoff::Password { conninfo, password });
    }
    let mut content = String::from("[ssot_probe]\n");
    for (k, v) in &params {
        if v.contains(['\n', '\r'])
            || v.ends_with(char::is_whitespace)
            || v.starts_with(char::is_whitespace)
        {
            return Err(format!("the value of {k} cannot be written to a service file (a line break or surrounding spaces)"));
        }
        content.push_str(&format!("{k}={v}\n"));
    }
    Ok(Handoff::Service {
        name: "ssot_probe".into(),
        content,
    })
}

/// A value quoted for a keyword/value string when it needs it.
fn quote(v: &str) -> String {
    if !v.is_empty() && !v.contains(|c: char| c.is_whitespace() || c == '\'' || c == '\\') {
        return v.to_string();
    }
    let mut out = String::from("'");
    for c in v.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// libpq's `conninfo_parse`.
fn parse_keywords(s: &str) -> Option<ConnInfo> {
    let mut info = ConnInfo::default();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Some(info);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return None;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        let mut raw = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next()? {
                    '\\' => {
                        let c = chars.next()?;
                        raw.push('\\');
                        raw.push(c);
                        value.push(c);
                    }
                    '\'' => break,
                    c => {
                        raw.push(c);
                        value.push(c);
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                raw.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        raw.push(n);
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        if SECRET_KEYS.contains(&key.as_str()) && raw != value {
            info.secrets.push(raw);
        }
        info.set(&key, value);
    }
}

/// Percent-decoding, as libpq's `conninfo_uri_decode`; `None` on a bad escape.
fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// libpq's `conninfo_uri_parse`, after the scheme.
fn parse_uri(rest: &str) -> Option<ConnInfo> {
    let mut info = ConnInfo::default();
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (before_query, None),
    };
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            match userinfo.split_once(':') {
                Some((u, p)) => {
                    info.secrets.push(p.to_string());
                    info.set("password", decode(p)?);
                    if !u.is_empty() {
                        info.set("user", decode(u)?);
                    }
                }
                None if !userinfo.is_empty() => info.set("user", decode(userinfo)?),
                None => {}
            }
            hosts
        }
        None => authority,
    };
    let (mut names, mut ports) = (Vec::new(), Vec::new());
    for h in hosts.split(',').filter(|h| !h.is_empty()) {
        let (name, port) = if let Some(v6) = h.strip_prefix('[') {
            let (addr, after) = v6.split_once(']')?;
            (
                addr.to_string(),
                after.strip_prefix(':').map(str::to_string),
            )
        } else {
            match h.rsplit_once(':') {
                Some((n, p)) => (decode(n)?, Some(p.to_string())),
                None => (decode(h)?, None),
            }
        };
        names.push(name);
        if let Some(p) = port {
            ports.push(p);
        }
    }
    if !names.is_empty() {
        info.set("host", names.join(","));
    }
    if !ports.is_empty() {
        info.set("port", ports.join(","));
    }
    if let Some(p) = path.filter(|p| !p.is_empty()) {
        info.set("dbname", decode(p)?);
    }
    for pair in query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=')?;
        let key = decode(k)?;
        if SECRET_KEYS.contains(&key.as_str()) {
            info.secrets.push(v.to_string());
        }
        info.set(&key, decode(v)?);
    }
    Some(info)
}

/// How ssot names the server `dsn` anywhere it writes or prints:
/// [`ConnInfo::display`], or a fixed text when `dsn` cannot be parsed (it is
/// then never echoed, as it may hold a secret ssot cannot find).
pub fn mask_dsn(dsn: &str) -> String {
    ConnInfo::parse(dsn)
        // On one line: a quoted newline or ESC in a value reaches terminals.
        .map(|c| crate::evidence::one_line(&c.display()))
        .unwrap_or_else(|| "(a connection string that cannot be parsed)".into())
}

/// `text` (a message that may quote `dsn`) with `dsn` shown as
/// [`mask_dsn`] and every secret of it, wherever it appears, replaced by `***`.
pub fn redact(text: &str, dsn: &str) -> String {
    let d = dsn.trim();
    let mut out = if d.is_empty() {
        text.to_string()
    } else {
        text.replace(d, &mask_dsn(dsn))
    };
    if let Some(info) = ConnInfo::parse(dsn) {
        for secret in info.secrets() {
            out = out.replace(&secret, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_values_are_read_as_libpq_reads_them() {
        let c = ConnInfo::parse(
            "host = /run/postgresql port=5433 dbname='my db' user=o\\'brien password = 'a b\\'c' sslpassword=k3y",
        )
        .unwrap();
        assert_eq!(c.host.as_deref(), Some("/run/postgresql"));
        assert_eq!(c.port.as_deref(), Some("5433"));
        assert_eq!(c.dbname.as_deref(), Some("my db"));
        assert_eq!(c.user.as_deref(), Some("o'brien"));
        assert_eq!(c.secrets(), ["a b\\'c", "a b'c", "k3y"]);
        assert_eq!(
            c.display(),
            "host=/run/postgresql port=5433 dbname='my db' user='o\\'brien'"
        );
        assert!(ConnInfo::parse("password='unterminated").is_none());
        assert!(ConnInfo::parse("host").is_none());
    }

    #[test]
    fn uris_are_read_with_their_query_parameters() {
        let c = ConnInfo::parse(
            "postgresql://us%40er:p%40ss@db1:5432,[::1]:5433/app%20db?sslmode=require&sslpassword=s%20k&password=q",
        )
        .unwrap();
        assert_eq!(c.user.as_deref(), Some("us@er"));
        assert_eq!(c.host.as_deref(), Some("db1,::1"));
        assert_eq!(c.port.as_deref(), Some("5432,5433"));
        assert_eq!(c.dbname.as_deref(), Some("app db"));
        for s in ["p%40ss", "p@ss", "s%20k", "s k", "q"] {
            assert!(c.secrets().contains(&s.to_string()), "{s}");
        }
        assert_eq!(
            ConnInfo::parse("postgres://db/postgres").unwrap().display(),
            "host=db dbname=postgres"
        );
        assert_eq!(ConnInfo::parse("").unwrap().display(), "(libpq defaults)");
    }

    #[test]
    fn secrets_are_handed_over_off_the_command_line() {
        assert_eq!(
            handoff("host=/run/pg user=ssot").unwrap(),
            Handoff::Plain("host=/run/pg user=ssot".into())
        );
        match handoff("postgresql://u:p%40ss@db:5433/app?sslmode=require&sslpassword=k").unwrap() {
            Handoff::Service { name, content } => {
                assert_eq!(name, "ssot_probe");
                assert_eq!(
                    content,
                    "[ssot_probe]\npassword=p@ss\nuser=u\nhost=db\nport=5433\ndbname=app\nsslmode=require\nsslpassword=k\n"
                );
            }
            other => panic!("{other:?}"),
        }
        match handoff("service=prod password='a b'").unwrap() {
            Handoff::Password { conninfo, password } => {
                assert_eq!(
                    (conninfo.as_str(), password.as_str()),
                    ("service=prod", "a b")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(handoff("service=prod sslpassword=x").is_err());
        assert!(handoff("password='x").is_err());
    }

    #[test]
    fn no_secret_is_ever_shown() {
        for (dsn, secret) in [
            ("host=/tmp password = hunter22", "hunter22"),
            ("host=/tmp password='hunter 22'", "hunter 22"),
            ("host=/tmp sslpassword=hunter22", "hunter22"),
            ("postgresql://u:hunter22@h/db", "hunter22"),
            ("postgresql://u@h/db?password=hunter22", "hunter22"),
            ("postgresql://u@h/db?sslpassword=hunter22", "hunter22"),
        ] {
            let shown = mask_dsn(dsn);
            assert!(!shown.contains("hunter"), "{dsn} shown as {shown}");
            let msg = redact(&format!("connect to {dsn} failed: {secret}!"), dsn);
            assert!(!msg.contains("hunter"), "{dsn}: {msg}");
        }
        // What cannot be parsed is never echoed.
        let dsn = "password='hunter22";
        assert!(!mask_dsn(dsn).contains("hunter"));
        assert!(!redact(&format!("bad: {dsn}"), dsn).contains("hunter"));
    }
}
