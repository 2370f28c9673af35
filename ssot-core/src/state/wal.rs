//! `wal.status`, `wal.history` and `wal.settings`.

use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{timestamp, StateInput};
use crate::error::{Error, Result};
use crate::statefile::StateFile;
use crate::units::{ByteSize, Setting};
use crate::wal::{rule_level, Level, PreviousStatus, WalReport, WalSample, WalSettings};

/// `wal.status`, every field typed and checked.
///
/// Only `wal_status` and `checked_at` are required (the seed's shell scripts
/// wrote little more); every other key ssot owns is validated when present:
/// numbers must be numbers in their range (`wal_used_pct` in 0..=100, the
/// available bytes no more than the total), `active_rules` must name known
/// rules and agree with `wal_status` (the worst rule's level), and the
/// `reason.N` lines are read by their numbers — a count in the file never
/// drives a loop or an allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct WalStatusRecord {
    /// `wal_status`.
    pub status: Level,
    /// `checked_at`.
    pub checked_at: DateTime<Utc>,
    /// `wal_size`: bytes in pg_wal; absent when the measurement failed.
    pub wal_size: Option<u64>,
    /// `wal_used_pct`: used % of the volume holding pg_wal (0..=100).
    pub wal_used_pct: Option<f64>,
    /// `threshold_pct`: the NEAR_LIMIT threshold (0..=100).
    pub threshold_pct: Option<f64>,
    /// `segment_count`.
    pub segment_count: Option<u64>,
    /// `ready_count`.
    pub ready_count: Option<u64>,
    /// `volume_total_bytes`.
    pub volume_total_bytes: Option<u64>,
    /// `volume_available_bytes` (never more than the total).
    pub volume_available_bytes: Option<u64>,
    /// `soft_limit_bytes`.
    pub soft_limit_bytes: Option<u64>,
    /// `wal_growth_bytes_per_second`.
    pub wal_growth_bytes_per_second: Option<f64>,
    /// `volume_growth_bytes_per_second`.
    pub volume_growth_bytes_per_second: Option<f64>,
    /// `seconds_to_error` (≥ 0).
    pub seconds_to_error: Option<f64>,
    /// `active_rules` (comma separated rule ids).
    pub active_rules: Vec<String>,
    /// `reason.N` lines, in the order of N.
    pub reasons: Vec<String>,
    /// `volume.<key>.used_pct`: each other volume the cluster writes, by key.
    pub volumes: Vec<(String, f64)>,
}

impl WalStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let (line, s) = f.entry("wal_status").ok_or_else(|| Error::MissingKey {
            path: f.path().into(),
            key: "wal_status".into(),
        })?;
        let status = Level::from_str(s).map_err(|_| {
            f.invalid(
                "wal_status",
                line,
                format!("unknown WAL status \"{s}\" (expected OK, GROWING, NEAR_LIMIT or ERROR)"),
            )
        })?;
        let checked_at = f.require_time("checked_at")?;
        let u = |k: &str| f.parse_optional::<u64>(k);
        let rate = |k: &str| f.parse_f64_in(k, f64::MIN, f64::MAX);
        let rec = WalStatusRecord {
            status,
            checked_at,
            wal_size: u("wal_size")?,
            wal_used_pct: f.parse_f64_in("wal_used_pct", 0.0, 100.0)?,
            threshold_pct: f.parse_f64_in("threshold_pct", 0.0, 100.0)?,
            segment_count: u("segment_count")?,
            ready_count: u("ready_count")?,
            volume_total_bytes: u("volume_total_bytes")?,
            volume_available_bytes: u("volume_available_bytes")?,
            soft_limit_bytes: u("soft_limit_bytes")?,
            wal_growth_bytes_per_second: rate("wal_growth_bytes_per_second")?,
            volume_growth_bytes_per_second: rate("volume_growth_bytes_per_second")?,
            seconds_to_error: f.parse_f64_in("seconds_to_error", 0.0, f64::MAX)?,
            active_rules: Vec::new(),
            reasons: read_reasons(f)?,
            volumes: read_volumes(f)?,
        };
        if let (Some(total), Some((line, _))) =
            (rec.volume_total_bytes, f.entry("volume_available_bytes"))
        {
            if rec.volume_available_bytes.is_some_and(|a| a > total) {
                return Err(f.invalid(
                    "volume_available_bytes",
                    line,
                    format!("more than volume_total_bytes {total}"),
                ));
            }
        }
        let Some((line, rules)) = f.entry("active_rules") else {
            return Ok(rec);
        };
        let mut active_rules = Vec::new();
        let mut worst = Level::Ok;
        for r in rules.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let level = rule_level(r).ok_or_else(|| {
                f.invalid("active_rules", line, format!("unknown WAL rule \"{r}\""))
            })?;
            worst = worst.max(level);
            active_rules.push(r.to_string());
        }
        if worst != rec.status {
            return Err(f.invalid(
                "active_rules",
                line,
                format!(
                    "the active rules make the status {worst}, but wal_status says {}",
                    rec.status
                ),
            ));
        }
        // Each reason line ("LEVEL rule: message") names an active rule at
        // its level: a line that does not is not one ssot wrote (and the
        // startup gate, which leaves the probe's rules out, must not be led
        // to drop a line that names something else).
        for (i, reason) in rec.reasons.iter().enumerate() {
            let fits = reason_rule(reason).is_some_and(|(level, rule)| {
                active_rules.iter().any(|r| r == rule)
                    && rule_level(rule).is_some_and(|l| l.as_str() == level)
            });
            if !fits {
                let key = format!("reason.{}", i + 1);
                let line = f.entry(&key).map_or(0, |(l, _)| l);
                return Err(f.invalid(
                    &key,
                    line,
                    "does not name one of active_rules at its level (\"LEVEL rule: message\")"
                        .into(),
                ));
            }
        }
        Ok(WalStatusRecord {
            active_rules,
            ..rec
        })
    }

    /// The hysteresis input for the next evaluation.
    pub fn previous(&self) -> PreviousStatus {
        PreviousStatus {
            status: self.status,
            active_rules: self.active_rules.clone(),
        }
    }
}

/// The `reason.N` lines in the order of N; `reason_count`, when present,
/// must equal how many there are and N must run from 1 without gaps.
/// The level and rule a `reason.N` line names: `"LEVEL rule: message"`.
pub fn reason_rule(line: &str) -> Option<(&str, &str)> {
    let (level, rest) = line.split_once(' ')?;
    Some((level, rest.split_once(':')?.0))
}

fn read_volumes(f: &StateFile) -> Result<Vec<(String, f64)>> {
    let mut out = Vec::new();
    for (rest, _) in f.family("volume.") {
        let key = format!("volume.{rest}");
        let line = f.entry(&key).map_or(0, |(l, _)| l);
        let Some(name) = rest.strip_suffix(".used_pct") else {
            return Err(f.invalid(&key, line, "a volume key is volume.<name>.used_pct".into()));
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(f.invalid(&key, line, "a volume name is letters, digits and _".into()));
        }
        let pct = f.parse_f64_in(&key, 0.0, 100.0)?.unwrap_or_default();
        out.push((name.to_string(), pct));
    }
    Ok(out)
}

fn read_reasons(f: &StateFile) -> Result<Vec<String>> {
    let mut numbered: Vec<(u64, &str)> = Vec::new();
    for (rest, v) in f.family("reason.") {
        let n = rest
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                let key = format!("reason.{rest}");
                let line = f.entry(&key).map_or(0, |(l, _)| l);
                f.invalid(
                    &key,
                    line,
                    "a reason key is reason.N with N = 1, 2, ...".into(),
                )
            })?;
        numbered.push((n, v));
    }
    numbered.sort_by_key(|(n, _)| *n);
    if let Some(((n, _), i)) = numbered.iter().zip(1u64..).find(|((n, _), i)| n != i) {
        let key = format!("reason.{n}");
        let line = f.entry(&key).map_or(0, |(l, _)| l);
        return Err(f.invalid(&key, line, format!("reason.{i} is missing before it")));
    }
    if let Some((line, v)) = f.entry("reason_count") {
        let count: u64 = v
            .parse()
            .map_err(|_| f.invalid("reason_count", line, format!("\"{v}\" is not a count")))?;
        if count != numbered.len() as u64 {
            return Err(f.invalid(
                "reason_count",
                line,
                format!(
                    "says {count}, but the file holds {} reason line(s)",
                    numbered.len()
                ),
            ));
        }
    }
    Ok(numbered.into_iter().map(|(_, v)| v.to_string()).collect())
}

fn set_opt(f: &mut StateFile, key: &str, v: Option<String>) -> Result<()> {
    match v {
        Some(v) => f.set(key, v),
        None => {
            f.remove(key);
            Ok(())
        }
    }
}

/// Writes `report` into `file` (the previous `wal.status`, or an empty one),
/// replacing the keys ssot owns and keeping all others.
pub fn write_wal_status(file: &mut StateFile, report: &WalReport) -> Result<()> {
    let num = |v: f64| {
        if v.fract() == 0.0 {
            format!("{}", v as i64)
        } else {
            format!("{v:.2}")
        }
    };
    file.set("wal_status", report.status)?;
    set_opt(file, "wal_used_pct", report.wal_used_pct.map(num))?;
    set_opt(file, "wal_size", report.wal_size.map(|v| v.to_string()))?;
    file.set("threshold_pct", num(report.threshold_pct))?;
    file.set("checked_at", timestamp(report.checked_at))?;
    set_opt(
        file,
        "segment_count",
        report.segment_count.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "ready_count",
        report.ready_count.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "volume_total_bytes",
        report.volume_total_bytes.map(|v| v.to_string()),
    )?;
    set_opt(
        file,
        "volume_available_bytes",
        report.volume_available_bytes.map(|v| v.to_string()),
    )?;
    file.set("soft_limit_bytes", report.soft_limit_bytes)?;
    set_opt(
        file,
        "wal_growth_bytes_per_second",
        report.wal_growth_bytes_per_second.map(num),
    )?;
    set_opt(
        file,
        "volume_growth_bytes_per_second",
        report.volume_growth_bytes_per_second.map(num),
    )?;
    set_opt(file, "seconds_to_error", report.seconds_to_error.map(num))?;
    file.remove_prefix("volume.");
    for v in &report.volumes {
        file.set(&format!("volume.{}.used_pct", v.key), num(v.used_pct))?;
    }
    file.set("active_rules", report.active_rules().join(","))?;
    file.remove_prefix("reason.");
    file.set("reason_count", report.reasons.len())?;
    for (i, r) in report.reasons.iter().enumerate() {
        // A message quotes outside text (libpq's, a path): control
        // characters are escaped so it stays one line of the file.
        file.set(
            &format!("reason.{}", i + 1),
            format!(
                "{} {}: {}",
                r.level,
                r.rule,
                crate::evidence::one_line(&r.message)
            ),
        )?;
    }
    Ok(())
}

/// Parses `wal.history` (one JSON [`WalSample`] a line).
pub fn parse_wal_history(input: &StateInput) -> Result<Vec<WalSample>> {
    let file = match input {
        StateInput::Missing { .. } => return Ok(Vec::new()),
        StateInput::Unreadable { path, error } => {
            return Err(Error::Unreadable {
                path: path.clone(),
                error: error.clone(),
            })
        }
        StateInput::Invalid { path, problem } => {
            return Err(Error::UnsafeFile {
                path: path.into(),
                problem: problem.clone(),
            })
        }
        StateInput::Present { path, content } => (path, content),
    };
    let text = std::str::from_utf8(file.1).map_err(|e| Error::Syntax {
        path: file.0.clone(),
        line: 1,
        message: format!("invalid UTF-8: {e}"),
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Syntax {
                path: file.0.clone(),
                line: i + 1,
                message: format!("not a WAL sample: {e}"),
            })
        })
        .collect()
}

/// Renders `wal.history`.
pub fn render_wal_history(samples: &[WalSample]) -> String {
    samples
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default() + "\n")
        .collect()
}

/// Reads `wal.settings` (keys `max_wal_size`, `min_wal_size`, `wal_keep_size`,
/// `wal_segment_size`, `max_slot_wal_keep_size`, `archive_mode`), PostgreSQL
/// units; absent keys keep the value from `defaults`.
pub fn parse_wal_settings(f: &StateFile, defaults: &WalSettings) -> Result<WalSettings> {
    let mut s = defaults.clone();
    let size = |key: &str| -> Result<Option<ByteSize>> {
        match f.entry(key) {
            None => Ok(None),
            Some((line, v)) => ByteSize::parse(v)
                .map(Some)
                .map_err(|e| f.invalid(key, line, e.to_string())),
        }
    };
    if let Some(v) = size("max_wal_size")? {
        s.max_wal_size = v;
    }
    if let Some(v) = size("min_wal_size")? {
        s.min_wal_size = v;
    }
    if let Some(v) = size("wal_keep_size")? {
        s.wal_keep_size = v;
    }
    if let Some(v) = size("wal_segment_size")? {
        s.wal_segment_size = v;
    }
    if let Some((line, v)) = f.entry("max_slot_wal_keep_size") {
        s.max_slot_wal_keep_size = match ByteSize::parse_setting(v, 1 << 20)
            .map_err(|e| f.invalid("max_slot_wal_keep_size", line, e.to_string()))?
        {
            Setting::Unset => None,
            Setting::Value(b) => Some(b),
        };
    }
    if let Some((line, v)) = f.entry("archive_mode") {
        s.archive_mode = match v {
            "on" | "always" | "true" => true,
            "off" | "false" | "" => false,
            other => {
                return Err(f.invalid(
                    "archive_mode",
                    line,
                    format!("\"{other}\" is not on, off or always"),
                ))
            }
        };
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report with every field of `wal.status` set, two volumes and two
    /// reasons (one message with a line break, escaped on write).
    fn report() -> WalReport {
        serde_json::from_value(serde_json::json!({
            "status": "ERROR",
            "checked_at": "2026-02-05T12:00:00Z",
            "wal_size": 1_073_741_824u64,
            "segment_count": 64,
            "ready_count": 3,
            "wal_used_pct": 91.25,
            "threshold_pct": 80.0,
            "volume_total_bytes": 10_000_000_000u64,
            "volume_available_bytes": 875_000_000u64,
            "soft_limit_bytes": 1_140_850_688u64,
            "wal_growth_bytes_per_second": 1234.5678,
            "volume_growth_bytes_per_second": -2.0,
            "seconds_to_error": 3600.0,
            "samples_in_window": 5,
            "volumes": [
                {"key": "pgdata", "holds": "PGDATA /d", "total_bytes": 100, "available_bytes": 50, "used_pct": 50.0},
                {"key": "tablespace_16384", "holds": "tablespace", "total_bytes": 300, "available_bytes": 200, "used_pct": 33.33},
            ],
            "reasons": [
                {"rule": "volume_used_error", "level": "ERROR", "message": "volume 91.25% used\nover 90%"},
                {"rule": "wal_growing", "level": "GROWING", "message": "pg_wal is over its soft limit"},
            ],
        }))
        .unwrap()
    }

    /// The layout ssot 0.x wrote: the record reads it and writes it back byte
    /// for byte (an upgrade must not make a gate deny), keeping foreign keys.
    const OLD_FORMAT: &str = "# kept\nowner=alex\nwal_status=ERROR\nwal_used_pct=91.25\nwal_size=1073741824\nthreshold_pct=80\nchecked_at=2026-02-05T12:00:00Z\nsegment_count=64\nready_count=3\nvolume_total_bytes=10000000000\nvolume_available_bytes=875000000\nsoft_limit_bytes=1140850688\nwal_growth_bytes_per_second=1234.57\nvolume_growth_bytes_per_second=-2\nseconds_to_error=3600\nvolume.pgdata.used_pct=50\nvolume.tablespace_16384.used_pct=33.33\nactive_rules=volume_used_error,wal_growing\nreason_count=2\nreason.1=ERROR volume_used_error: volume 91.25% used\\nover 90%\nreason.2=GROWING wal_growing: pg_wal is over its soft limit\n";

    #[test]
    fn the_report_is_written_in_the_old_layout_and_reads_back() {
        let mut f = StateFile::parse(b"# kept\nowner=alex\n", "wal.status").unwrap();
        write_wal_status(&mut f, &report()).unwrap();
        assert_eq!(f.render(), OLD_FORMAT);
        let rec = WalStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.status, Level::Error);
        assert_eq!(rec.wal_used_pct, Some(91.25));
        assert_eq!(rec.wal_growth_bytes_per_second, Some(1234.57));
        assert_eq!(rec.volume_growth_bytes_per_second, Some(-2.0));
        assert_eq!(
            rec.volumes,
            vec![
                ("pgdata".to_string(), 50.0),
                ("tablespace_16384".to_string(), 33.33)
            ]
        );
        assert_eq!(rec.active_rules, vec!["volume_used_error", "wal_growing"]);
        assert_eq!(rec.reasons.len(), 2);
        assert_eq!(
            rec.reasons[0],
            "ERROR volume_used_error: volume 91.25% used\\nover 90%"
        );
    }

    #[test]
    fn a_literal_old_file_reads_and_a_rewrite_keeps_foreign_keys_in_place() {
        let old = StateFile::parse(OLD_FORMAT.as_bytes(), "wal.status").unwrap();
        let rec = WalStatusRecord::from_file(&old).unwrap();
        assert_eq!(rec.checked_at.to_rfc3339(), "2026-02-05T12:00:00+00:00");
        assert_eq!(rec.wal_size, Some(1_073_741_824));
        assert_eq!(rec.soft_limit_bytes, Some(1_140_850_688));
        assert_eq!(rec.seconds_to_error, Some(3600.0));
        // Rewriting with fewer reasons and no growth: the owned keys change,
        // foreign ones and comments stay where they were.
        let mut f = old.clone();
        let mut r = report();
        r.reasons.truncate(1);
        r.status = Level::Error;
        r.wal_growth_bytes_per_second = None;
        r.volumes.clear();
        write_wal_status(&mut f, &r).unwrap();
        let text = f.render();
        assert!(
            text.starts_with("# kept\nowner=alex\nwal_status=ERROR\n"),
            "{text}"
        );
        assert!(!text.contains("wal_growth_bytes_per_second"), "{text}");
        assert!(!text.contains("volume.pgdata"), "{text}");
        assert!(!text.contains("reason.2"), "{text}");
        assert!(text.ends_with("active_rules=volume_used_error\nreason_count=1\nreason.1=ERROR volume_used_error: volume 91.25% used\\nover 90%\n"), "{text}");
        WalStatusRecord::from_file(&f).unwrap();
    }

    #[test]
    fn every_validation_names_file_line_and_key() {
        let base = "wal_status=OK\nchecked_at=2026-02-05T12:00:00Z\n";
        let cases: &[(&str, &str)] = &[
            ("", "wal.status: missing key \"wal_status\""),
            ("wal_status=OK\n", "wal.status: missing key \"checked_at\""),
            ("wal_status=OK\nchecked_at=2026-02-05T12:00:00Z\nwal_status2=x\n", ""),
            (
                "wal_status=BAD\nchecked_at=2026-02-05T12:00:00Z\n",
                "wal.status:1: key \"wal_status\": unknown WAL status \"BAD\" (expected OK, GROWING, NEAR_LIMIT or ERROR)",
            ),
            (
                "wal_status=OK\nchecked_at=yesterday\n",
                "wal.status:2: key \"checked_at\": \"yesterday\" is not an RFC 3339 timestamp",
            ),
            ("+wal_size=banana\n", "wal.status:3: key \"wal_size\": invalid value \"banana\": invalid digit found in string"),
            ("+wal_used_pct=-5\n", "wal.status:3: key \"wal_used_pct\": \"-5\" is outside the range 0 to 100"),
            ("+threshold_pct=x\n", "wal.status:3: key \"threshold_pct\": \"x\" is not a number"),
            ("+seconds_to_error=-1\n", "wal.status:3: key \"seconds_to_error\": \"-1\" is outside the range 0 to"),
            ("+wal_growth_bytes_per_second=inf\n", "wal.status:3: key \"wal_growth_bytes_per_second\": \"inf\" is outside the range"),
            (
                "+volume_total_bytes=10\nvolume_available_bytes=11\n",
                "wal.status:4: key \"volume_available_bytes\": more than volume_total_bytes 10",
            ),
            ("+active_rules=nope\n", "wal.status:3: key \"active_rules\": unknown WAL rule \"nope\""),
            (
                "+active_rules=volume_used_error\n",
                "wal.status:3: key \"active_rules\": the active rules make the status ERROR, but wal_status says OK",
            ),
            ("+reason.2=x\n", "wal.status:3: key \"reason.2\": reason.1 is missing before it"),
            ("+reason.0=x\n", "wal.status:3: key \"reason.0\": a reason key is reason.N with N = 1, 2, ..."),
            ("+reason.x=x\n", "wal.status:3: key \"reason.x\": a reason key is reason.N with N = 1, 2, ..."),
            ("+reason.1=x\nreason_count=2\n", "wal.status:4: key \"reason_count\": says 2, but the file holds 1 reason line(s)"),
            ("+reason_count=many\n", "wal.status:3: key \"reason_count\": \"many\" is not a count"),
            (
                "+active_rules=\nreason.1=ERROR volume_used_error: x\n",
                "wal.status:4: key \"reason.1\": does not name one of active_rules at its level",
            ),
            ("+volume.pg-data.used_pct=1\n", "wal.status:3: key \"volume.pg-data"),
            ("+volume.pgdata.used_pct=101\n", "wal.status:3: key \"volume.pgdata.used_pct\": \"101\" is outside the range 0 to 100"),
            ("+volume.pgdata=1\n", "wal.status"),
        ];
        let mut wrong = Vec::new();
        for (text, want) in cases {
            let text = match text.strip_prefix('+') {
                Some(rest) => format!("{base}{rest}"),
                None => text.to_string(),
            };
            let f = StateFile::parse(text.as_bytes(), "wal.status").unwrap();
            match WalStatusRecord::from_file(&f) {
                Ok(_) if want.is_empty() => {}
                Ok(_) => wrong.push(format!("{text:?} read, expected {want:?}")),
                Err(e) if !want.is_empty() && e.to_string().starts_with(want) => {}
                Err(e) => wrong.push(format!("{text:?}: {e:?} should start with {want:?}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
