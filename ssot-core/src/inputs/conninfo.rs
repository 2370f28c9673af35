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
        .map(|c| c.display())
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
