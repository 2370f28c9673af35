//! `wal.status`, `wal.history` and `wal.settings`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{de, Deserialize, Deserializer, Serialize};

use super::StateInput;
use crate::error::{Error, Result};
use crate::statefile::{record, StateFile};
use crate::units::{ByteSize, Setting};
use crate::wal::{
    Carry, Level, PreviousStatus, Recorded, Reported, WalMeasures, WalReport, WalRule, WalSample,
    WalSettings,
};

/// `wal.status`: the [`WalReport`] as the state file keeps it, written and
/// read by the [`record`] format (one layout, one type).
///
/// The record is the report's projection that the seed's scripts read, so
/// it differs from [`WalReport`] where the file's keys do: `wal_status` is
/// the report's `status`; a reason is one line `reason.N=LEVEL rule: message`
/// (value, threshold and unit live in the report only); `active_rules` and
/// `reason_count` are derived from the reasons; each other volume keeps only
/// `volume.<key>.used_pct`; `samples_in_window` and `df_used_pct` are not kept.
///
/// Written from a report ([`WalStatusRecord::from_report`], every limit
/// set: [`Reported`]) and read back ([`WalStatusRecord::from_file`], the
/// default [`Recorded`]: a limit the file lacks is `None`).
///
/// Only `wal_status` and `checked_at` are required (the seed's shell scripts
/// wrote little more); every other key ssot owns is validated when present:
/// numbers must be numbers in their range (`wal_used_pct` in 0..=100, the
/// available bytes no more than the total), `active_rules` must name known
/// rules and agree with `wal_status` (the worst rule's level), and the
/// `reason.N` lines are read by their numbers — a count in the file never
/// drives a loop or an allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct WalStatusRecord<C: Carry = Recorded> {
    /// `wal_status`.
    #[serde(rename = "wal_status", deserialize_with = "wal_level")]
    pub status: Level,
    /// `checked_at`.
    #[serde(with = "record::timestamp")]
    pub checked_at: DateTime<Utc>,
    /// The report's [`WalMeasures`], each under its own key (no prefix:
    /// [`record::INLINE`]): `wal_size`, `wal_used_pct` (0..=100),
    /// `threshold_pct` (0..=100), `volume_available_bytes` (never more than
    /// `volume_total_bytes`), ...
    #[serde(rename = "", default)]
    pub measures: WalMeasures<C>,
    /// `volume.<key>.used_pct`: each other volume the cluster writes, by key.
    #[serde(rename = "volume", default, with = "volume_map")]
    pub volumes: Vec<(String, f64)>,
    /// `active_rules` (comma separated rule ids).
    #[serde(default, with = "record::comma_list")]
    pub active_rules: Vec<String>,
    /// `reason_count`: how many `reason.N` lines there are (checked on read).
    #[serde(default, deserialize_with = "count")]
    pub reason_count: Option<u64>,
    /// `reason.N` lines, in the order of N.
    #[serde(rename = "reason", default)]
    pub reasons: Vec<String>,
}

fn wal_level<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Level, D::Error> {
    let s = <&str>::deserialize(d)?;
    Level::from_str(s).map_err(|_| {
        de::Error::custom(format!(
            "unknown WAL status \"{s}\" (expected OK, GROWING, NEAR_LIMIT or ERROR)"
        ))
    })
}

fn count<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    Option::<&str>::deserialize(d)?
        .map(|v| {
            v.parse()
                .map_err(|_| de::Error::custom(format!("\"{v}\" is not a count")))
        })
        .transpose()
}

/// `volume.<key>.used_pct`, in the report's order.
mod volume_map {
    use serde::de::{self, MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Used {
        #[serde(deserialize_with = "crate::statefile::record::percent")]
        used_pct: f64,
    }

    /// A volume key: letters, digits and `_`.
    struct Name(String);

    impl<'de> Deserialize<'de> for Name {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let name = String::deserialize(d)?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(de::Error::custom("a volume name is letters, digits and _"));
            }
            Ok(Name(name))
        }
    }

    pub fn serialize<S: Serializer>(v: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(v.len()))?;
        for (name, used_pct) in v {
            m.serialize_entry(
                name,
                &Used {
                    used_pct: *used_pct,
                },
            )?;
        }
        m.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Vec<(String, f64)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("volume.<name>.used_pct keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                // The format offers each name once, in file order.
                let mut out = Vec::new();
                while let Some((Name(name), used)) = m.next_entry::<Name, Used>()? {
                    out.push((name, used.used_pct));
                }
                Ok(out)
            }
        }
        d.deserialize_map(InOrder)
    }
}

impl WalStatusRecord<Reported> {
    /// The record of `report`: what `wal.status` keeps of it.
    pub fn from_report(report: &WalReport) -> Result<Self> {
        let rule = |r: &crate::wal::Reason| {
            record::scalar_string(&r.rule).map_err(|e| Error::InvalidValue {
                path: super::WAL_STATUS.into(),
                line: 0,
                key: "active_rules".into(),
                message: e.to_string(),
            })
        };
        let mut active_rules = Vec::new();
        let mut reasons = Vec::new();
        for r in &report.reasons {
            let id = rule(r)?;
            // A message quotes outside text (libpq's, a path): control
            // characters are escaped so it stays one line of the file.
            reasons.push(format!(
                "{} {id}: {}",
                r.level,
                crate::evidence::one_line(&r.message)
            ));
            active_rules.push(id);
        }
        Ok(WalStatusRecord {
            status: report.status,
            checked_at: report.checked_at,
            measures: report.measures.clone(),
            volumes: report
                .volumes
                .iter()
                .map(|v| (v.key.clone(), v.used_pct))
                .collect(),
            active_rules,
            reason_count: Some(reasons.len() as u64),
            reasons,
        })
    }
}

impl WalStatusRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        let rec: WalStatusRecord = record::read(f)?;
        rec.validate(f)?;
        Ok(rec)
    }

    /// The checks beyond each key's own: `threshold_pct` a percentage (its
    /// type is the [`Carry`]'s, which a file reads with no range), the
    /// available bytes within the total, `reason_count` equal to the lines,
    /// and — when `active_rules` is there — known rules whose worst level is
    /// `wal_status`, each reason line naming one of them at its level. `f`
    /// gives the lines to name.
    pub fn validate(&self, f: &StateFile) -> Result<()> {
        let line = |key: &str| f.entry(key).map_or(0, |(l, _)| l);
        if let Some((at, v)) = f.entry("threshold_pct") {
            record::percent(de::value::BorrowedStrDeserializer::<record::RecordError>::new(v))
                .map_err(|e| f.invalid("threshold_pct", at, e.to_string()))?;
        }
        if let Some(count) = self.reason_count {
            if count != self.reasons.len() as u64 {
                return Err(f.invalid(
                    "reason_count",
                    line("reason_count"),
                    format!(
                        "says {count}, but the file holds {} reason line(s)",
                        self.reasons.len()
                    ),
                ));
            }
        }
        if let (Some(total), Some(available)) = (
            self.measures.volume_total_bytes,
            self.measures.volume_available_bytes,
        ) {
            if available > total {
                return Err(f.invalid(
                    "volume_available_bytes",
                    line("volume_available_bytes"),
                    format!("more than volume_total_bytes {total}"),
                ));
            }
        }
        if f.entry("active_rules").is_none() {
            return Ok(());
        }
        self.validate_rules(f, line("active_rules"))
    }

    fn validate_rules(&self, f: &StateFile, line: usize) -> Result<()> {
        let mut worst = Level::Ok;
        for r in &self.active_rules {
            let rule = WalRule::from_str(r).map_err(|_| {
                f.invalid("active_rules", line, format!("unknown WAL rule \"{r}\""))
            })?;
            worst = worst.max(rule.level());
        }
        if worst != self.status {
            return Err(f.invalid(
                "active_rules",
                line,
                format!(
                    "the active rules make the status {worst}, but wal_status says {}",
                    self.status
                ),
            ));
        }
        // Each reason line ("LEVEL rule: message") names an active rule at
        // its level: a line that does not is not one ssot wrote (and the
        // startup gate, which leaves the probe's rules out, must not be led
        // to drop a line that names something else).
        for (i, reason) in self.reasons.iter().enumerate() {
            let fits = reason_rule(reason).is_some_and(|(level, rule)| {
                self.active_rules.iter().any(|r| r == rule)
                    && WalRule::from_str(rule).is_ok_and(|r| r.level().as_str() == level)
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
        Ok(())
    }

    /// The hysteresis input for the next evaluation.
    pub fn previous(&self) -> PreviousStatus {
        PreviousStatus {
            status: self.status,
            active_rules: self.rules(),
        }
    }

    /// `active_rules` as rules (a record that was read has only known ones:
    /// [`WalStatusRecord::from_file`] refuses any other).
    pub fn rules(&self) -> Vec<WalRule> {
        self.active_rules
            .iter()
            .filter_map(|r| WalRule::from_str(r).ok())
            .collect()
    }
}

/// The level and rule a `reason.N` line names: `"LEVEL rule: message"`.
pub fn reason_rule(line: &str) -> Option<(&str, &str)> {
    let (level, rest) = line.split_once(' ')?;
    Some((level, rest.split_once(':')?.0))
}

/// Writes `report` into `file` (the previous `wal.status`, or an empty one),
/// replacing the keys ssot owns and keeping all others.
pub fn write_wal_status(file: &mut StateFile, report: &WalReport) -> Result<()> {
    record::write(file, &WalStatusRecord::from_report(report)?)
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

/// `wal.settings`: the WAL settings the source of truth declared (the
/// contract report's `declared_wal`) and when, written and read by the
/// [`record`] format. Values keep PostgreSQL's spelling (`4GB`, `-1`) as
/// declared; each is validated on read, and [`WalSettingsRecord::settings`]
/// gives the [`WalSettings`] they make. A key not declared is not written:
/// a rewrite leaves the file's own value of it (and other tools' keys) in place.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WalSettingsRecord {
    /// `archive_mode`: `on`, `always` or `true` (on); `off`, `false` or
    /// empty (off); written `on` or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "on_off")]
    pub archive_mode: Option<bool>,
    /// `checkpoint_timeout`, as declared (not read by ssot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_timeout: Option<String>,
    /// `max_slot_wal_keep_size`: a size (bare numbers in MB) or `-1`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "setting"
    )]
    pub max_slot_wal_keep_size: Option<String>,
    /// `max_wal_size`: a size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "size"
    )]
    pub max_wal_size: Option<String>,
    /// `min_wal_size`: a size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "size"
    )]
    pub min_wal_size: Option<String>,
    /// `source`: where the settings were declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `wal_keep_size`: a size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "size"
    )]
    pub wal_keep_size: Option<String>,
    /// `wal_segment_size`: a size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "size"
    )]
    pub wal_segment_size: Option<String>,
    /// `checked_at`: when they were declared.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "record::opt_timestamp"
    )]
    pub checked_at: Option<DateTime<Utc>>,
}

fn size<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let v = <&str>::deserialize(d)?;
    ByteSize::parse(v).map_err(de::Error::custom)?;
    Ok(Some(v.to_string()))
}

fn setting<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    let v = <&str>::deserialize(d)?;
    ByteSize::parse_setting(v, 1 << 20).map_err(de::Error::custom)?;
    Ok(Some(v.to_string()))
}

/// `archive_mode` as PostgreSQL spells it.
mod on_off {
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn parse(v: &str) -> Result<bool, String> {
        match v {
            "on" | "always" | "true" => Ok(true),
            "off" | "false" | "" => Ok(false),
            other => Err(format!("\"{other}\" is not on, off or always")),
        }
    }

    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(on) => s.serialize_str(if *on { "on" } else { "off" }),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        parse(<&str>::deserialize(d)?)
            .map(Some)
            .map_err(de::Error::custom)
    }
}

impl WalSettingsRecord {
    /// Reads the record; every problem names file, line and key.
    pub fn from_file(f: &StateFile) -> Result<Self> {
        record::read(f)
    }

    /// The record of the declared settings (the contract report's
    /// `declared_wal`, PostgreSQL spellings by name) at `at`.
    pub fn from_declared(
        declared: &std::collections::BTreeMap<String, String>,
        at: DateTime<Utc>,
    ) -> Result<Self> {
        let mut r = WalSettingsRecord {
            checked_at: Some(at),
            ..Default::default()
        };
        for (name, v) in declared {
            let text = Some(v.clone());
            match name.as_str() {
                "archive_mode" => {
                    r.archive_mode =
                        Some(on_off::parse(v).map_err(|message| Error::InvalidValue {
                            path: super::WAL_SETTINGS.into(),
                            line: 0,
                            key: name.clone(),
                            message,
                        })?)
                }
                "checkpoint_timeout" => r.checkpoint_timeout = text,
                "max_slot_wal_keep_size" => r.max_slot_wal_keep_size = text,
                "max_wal_size" => r.max_wal_size = text,
                "min_wal_size" => r.min_wal_size = text,
                "source" => r.source = text,
                "wal_keep_size" => r.wal_keep_size = text,
                "wal_segment_size" => r.wal_segment_size = text,
                other => {
                    return Err(Error::InvalidValue {
                        path: super::WAL_SETTINGS.into(),
                        line: 0,
                        key: other.into(),
                        message: "is not a WAL setting wal.settings keeps".into(),
                    })
                }
            }
        }
        Ok(r)
    }

    /// The settings the record declares; those it does not keep the value
    /// from `defaults`.
    pub fn settings(&self, defaults: &WalSettings) -> Result<WalSettings> {
        let mut s = defaults.clone();
        let size = |key: &str, v: &Option<String>| -> Result<Option<ByteSize>> {
            v.as_deref()
                .map(|v| ByteSize::parse(v).map_err(|e| invalid(key, e.to_string())))
                .transpose()
        };
        if let Some(v) = size("max_wal_size", &self.max_wal_size)? {
            s.max_wal_size = v;
        }
        if let Some(v) = size("min_wal_size", &self.min_wal_size)? {
            s.min_wal_size = v;
        }
        if let Some(v) = size("wal_keep_size", &self.wal_keep_size)? {
            s.wal_keep_size = v;
        }
        if let Some(v) = size("wal_segment_size", &self.wal_segment_size)? {
            s.wal_segment_size = v;
        }
        if let Some(v) = &self.max_slot_wal_keep_size {
            s.max_slot_wal_keep_size = match ByteSize::parse_setting(v, 1 << 20)
                .map_err(|e| invalid("max_slot_wal_keep_size", e.to_string()))?
            {
                Setting::Unset => None,
                Setting::Value(b) => Some(b),
            };
        }
        if let Some(on) = self.archive_mode {
            s.archive_mode = on;
        }
        Ok(s)
    }
}

fn invalid(key: &str, message: String) -> Error {
    Error::InvalidValue {
        path: super::WAL_SETTINGS.into(),
        line: 0,
        key: key.into(),
        message,
    }
}

/// Reads `wal.settings` (keys `max_wal_size`, `min_wal_size`, `wal_keep_size`,
/// `wal_segment_size`, `max_slot_wal_keep_size`, `archive_mode`), PostgreSQL
/// units; absent keys keep the value from `defaults`.
pub fn parse_wal_settings(f: &StateFile, defaults: &WalSettings) -> Result<WalSettings> {
    WalSettingsRecord::from_file(f)?.settings(defaults)
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

    /// The layout ssot 0.x wrote (the seed's keys first, `checked_at` after
    /// `threshold_pct`): the record reads it as it reads [`NEW_FORMAT`] (an
    /// upgrade must not make a gate deny), keeping foreign keys.
    const OLD_FORMAT: &str = "# kept\nowner=alex\nwal_status=ERROR\nwal_used_pct=91.25\nwal_size=1073741824\nthreshold_pct=80\nchecked_at=2026-02-05T12:00:00Z\nsegment_count=64\nready_count=3\nvolume_total_bytes=10000000000\nvolume_available_bytes=875000000\nsoft_limit_bytes=1140850688\nwal_growth_bytes_per_second=1234.57\nvolume_growth_bytes_per_second=-2\nseconds_to_error=3600\nvolume.pgdata.used_pct=50\nvolume.tablespace_16384.used_pct=33.33\nactive_rules=volume_used_error,wal_growing\nreason_count=2\nreason.1=ERROR volume_used_error: volume 91.25% used\\nover 90%\nreason.2=GROWING wal_growing: pg_wal is over its soft limit\n";

    /// What ssot writes now: the same keys and values as [`OLD_FORMAT`],
    /// with the measurements in [`WalMeasures`]' order after `wal_status`
    /// and `checked_at` (the measurements are declared once, for the JSON
    /// too). The order is not part of the format: every reader (ssot's, the
    /// seed's scripts) goes by key, and a rewrite keeps an existing key
    /// where it is.
    const NEW_FORMAT: &str = "# kept\nowner=alex\nwal_status=ERROR\nchecked_at=2026-02-05T12:00:00Z\nwal_size=1073741824\nsegment_count=64\nready_count=3\nwal_used_pct=91.25\nthreshold_pct=80\nvolume_total_bytes=10000000000\nvolume_available_bytes=875000000\nsoft_limit_bytes=1140850688\nwal_growth_bytes_per_second=1234.57\nvolume_growth_bytes_per_second=-2\nseconds_to_error=3600\nvolume.pgdata.used_pct=50\nvolume.tablespace_16384.used_pct=33.33\nactive_rules=volume_used_error,wal_growing\nreason_count=2\nreason.1=ERROR volume_used_error: volume 91.25% used\\nover 90%\nreason.2=GROWING wal_growing: pg_wal is over its soft limit\n";

    #[test]
    fn the_report_is_written_with_every_old_key_and_value_and_reads_back() {
        let mut f = StateFile::parse(b"# kept\nowner=alex\n", "wal.status").unwrap();
        write_wal_status(&mut f, &report()).unwrap();
        // Byte for byte in the new order; the same lines as the old layout.
        assert_eq!(f.render(), NEW_FORMAT);
        let lines = |t: &str| {
            let mut l: Vec<String> = t.lines().map(String::from).collect();
            l.sort();
            l
        };
        assert_eq!(lines(NEW_FORMAT), lines(OLD_FORMAT));
        let rec = WalStatusRecord::from_file(&f).unwrap();
        assert_eq!(rec.status, Level::Error);
        assert_eq!(rec.measures.wal_used_pct, Some(91.25));
        assert_eq!(rec.measures.wal_growth_bytes_per_second, Some(1234.57));
        assert_eq!(rec.measures.volume_growth_bytes_per_second, Some(-2.0));
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
        assert_eq!(rec.measures.wal_size, Some(1_073_741_824));
        assert_eq!(rec.measures.threshold_pct, Some(80.0));
        assert_eq!(rec.measures.soft_limit_bytes, Some(1_140_850_688));
        assert_eq!(rec.measures.seconds_to_error, Some(3600.0));
        // The old layout reads exactly as the new one does.
        let new = StateFile::parse(NEW_FORMAT.as_bytes(), "wal.status").unwrap();
        assert_eq!(rec, WalStatusRecord::from_file(&new).unwrap());
        // Rewriting with fewer reasons and no growth: the owned keys change,
        // foreign ones and comments stay where they were.
        let mut f = old.clone();
        let mut r = report();
        r.reasons.truncate(1);
        r.status = Level::Error;
        r.measures.wal_growth_bytes_per_second = None;
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
            ("+threshold_pct=101\n", "wal.status:3: key \"threshold_pct\": \"101\" is outside the range 0 to 100"),
            ("+threshold_pct=NaN\n", "wal.status:3: key \"threshold_pct\": \"NaN\" is outside the range 0 to 100"),
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

    /// `wal.settings` as ssot 0.x wrote it, from the same declared settings.
    #[test]
    fn wal_settings_are_written_as_before_and_read_back() {
        let at = crate::time::parse_timestamp("2026-02-05T04:00:00Z").unwrap();
        let declared: std::collections::BTreeMap<String, String> = [
            ("max_wal_size", "4GB"),
            ("min_wal_size", "1GB"),
            ("checkpoint_timeout", "5min"),
            ("max_slot_wal_keep_size", "-1"),
            ("archive_mode", "off"),
            ("source", "sts.yaml"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        // A key no longer declared (wal_keep_size) keeps the file's value,
        // as it always did.
        let mut f = StateFile::parse(b"# kept\nwal_keep_size=1GB\n", "wal.settings").unwrap();
        crate::state::write_wal_settings(&mut f, &declared, at).unwrap();
        assert_eq!(
            f.render(),
            "# kept\nwal_keep_size=1GB\narchive_mode=off\ncheckpoint_timeout=5min\nmax_slot_wal_keep_size=-1\nmax_wal_size=4GB\nmin_wal_size=1GB\nsource=sts.yaml\nchecked_at=2026-02-05T04:00:00Z\n"
        );
        let rec = WalSettingsRecord::from_file(&f).unwrap();
        assert_eq!(rec.checked_at, Some(at));
        let s = rec.settings(&WalSettings::default()).unwrap();
        assert_eq!(s.max_wal_size, ByteSize::gib(4));
        assert_eq!(s.wal_keep_size, ByteSize::gib(1));
        assert_eq!(s.max_slot_wal_keep_size, None);
        assert!(!s.archive_mode);
        let old = StateFile::parse(
            b"archive_mode=always\nmax_slot_wal_keep_size=10\nwal_segment_size=32MB\nowner=x\n",
            "wal.settings",
        )
        .unwrap();
        let s = parse_wal_settings(&old, &WalSettings::default()).unwrap();
        assert!(s.archive_mode);
        assert_eq!(s.max_slot_wal_keep_size, Some(ByteSize::mib(10)));
        assert_eq!(s.wal_segment_size, ByteSize::mib(32));
        assert_eq!(s.max_wal_size, ByteSize::gib(4), "absent: the default");
        let mut bad = declared.clone();
        bad.insert("shared_buffers".into(), "1GB".into());
        assert!(WalSettingsRecord::from_declared(&bad, at).is_err());
    }

    #[test]
    fn wal_settings_errors_name_file_line_and_key() {
        let cases: &[(&str, &str)] = &[
            (
                "max_wal_size=4 gigs\n",
                "wal.settings:1: key \"max_wal_size\": ",
            ),
            (
                "x=1\nwal_keep_size=-1\n",
                "wal.settings:2: key \"wal_keep_size\": ",
            ),
            (
                "max_slot_wal_keep_size=-2\n",
                "wal.settings:1: key \"max_slot_wal_keep_size\": ",
            ),
            (
                "archive_mode=maybe\n",
                "wal.settings:1: key \"archive_mode\": \"maybe\" is not on, off or always",
            ),
            (
                "checked_at=soon\n",
                "wal.settings:1: key \"checked_at\": \"soon\" is not",
            ),
        ];
        for (text, want) in cases {
            let f = StateFile::parse(text.as_bytes(), "wal.settings").unwrap();
            let err = parse_wal_settings(&f, &WalSettings::default())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
            let err = WalSettingsRecord::from_file(&f).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }
}
