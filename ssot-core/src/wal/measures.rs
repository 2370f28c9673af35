//! The WAL measurements declared once: [`WalMeasures`] is carried whole by
//! the [`WalReport`](super::WalReport) (`ssot wal check`'s JSON, Python,
//! Rhai), by `wal.status` ([`WalStatusRecord`](crate::state::WalStatusRecord))
//! and by the report's WAL section facts, so a measurement added here
//! appears on each without another edit. Its computation is
//! [`WalMeasures::measured`], its line in `ssot wal check`'s text is in
//! [`TEXT`] (or named in [`TEXT_ELSEWHERE`]); its metric, if any, is
//! declared with the section's others in `report/wal.rs`.
//!
//! Two fields are limits every report sets but a `wal.status` written by an
//! older version may lack (`threshold_pct`, `soft_limit_bytes`): their type
//! is the [`Carry`]'s, a plain value in a report ([`Reported`]) and an
//! `Option` in what is read back ([`Recorded`]). Every other measurement is
//! an `Option` everywhere (`None` when not measured).
//!
//! `wal.status` keeps them in this order after `wal_status` and
//! `checked_at`; a reader goes by key, so a file in the seed's order (which
//! had `checked_at` after `threshold_pct`) reads the same.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};

use super::{WalFacts, WalPolicy, WalSettings};
use crate::num::{pct_floor_2, ser_num, ser_opt_num};
use crate::statefile::record;

/// What a field of [`WalMeasures`] can hold: what its derives need.
pub trait Datum: Debug + Clone + PartialEq + Default + Serialize + DeserializeOwned {}

impl<T: Debug + Clone + PartialEq + Default + Serialize + DeserializeOwned> Datum for T {}

/// How a surface carries the limits every report sets but an older
/// `wal.status` may lack: [`Reported`] or [`Recorded`].
pub trait Carry: Debug + Clone + Copy + PartialEq + Default {
    /// Such a field holding a `T`: `T` or `Option<T>`.
    type Of<T: Datum>: Datum;
    /// Writes a number as every surface does (an integer when integral).
    fn ser_num<S: Serializer>(v: &Self::Of<f64>, s: S) -> Result<S::Ok, S::Error>;
}

/// A report and what is written from it: the limits are always set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reported;

impl Carry for Reported {
    type Of<T: Datum> = T;
    fn ser_num<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        ser_num(v, s)
    }
}

/// `wal.status` as read back, and the report's facts from it: a limit the
/// file does not hold is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Recorded;

impl Carry for Recorded {
    type Of<T: Datum> = Option<T>;
    fn ser_num<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        ser_opt_num(v, s)
    }
}

/// The measurements of a WAL check: a failed measurement leaves all but the
/// limits out.
///
/// Each field serializes under its name in JSON and as a `wal.status` key;
/// a reader of either ignores what it does not know, and a file written
/// before a field existed reads it as `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(bound = "C::Of<f64>: schemars::JsonSchema, C::Of<u64>: schemars::JsonSchema")
)]
pub struct WalMeasures<C: Carry = Reported> {
    /// pg_wal bytes (seed field `wal_size`); absent if the measurement failed.
    pub wal_size: Option<u64>,
    /// WAL segment files in pg_wal.
    pub segment_count: Option<u64>,
    /// `archive_status/*.ready` files.
    pub ready_count: Option<u64>,
    /// Used % of the volume holding pg_wal, rounded down to 0.01 (seed field).
    #[serde(
        serialize_with = "ser_opt_num",
        deserialize_with = "record::opt_percent",
        default
    )]
    pub wal_used_pct: Option<f64>,
    /// The NEAR_LIMIT threshold on `wal_used_pct` (seed field).
    #[serde(serialize_with = "C::ser_num")]
    pub threshold_pct: C::Of<f64>,
    /// Total bytes of the volume holding pg_wal.
    pub volume_total_bytes: Option<u64>,
    /// Available bytes of that volume.
    pub volume_available_bytes: Option<u64>,
    /// What PostgreSQL normally keeps in pg_wal ([`WalSettings::normal_ceiling`]),
    /// the threshold of `wal_over_soft_limit`.
    pub soft_limit_bytes: C::Of<u64>,
    /// pg_wal growth over the window, bytes per second (negative when shrinking).
    #[serde(
        serialize_with = "ser_opt_num",
        deserialize_with = "record::opt_finite",
        default
    )]
    pub wal_growth_bytes_per_second: Option<f64>,
    /// Growth of the volume's used bytes over the window, bytes per second.
    #[serde(
        serialize_with = "ser_opt_num",
        deserialize_with = "record::opt_finite",
        default
    )]
    pub volume_growth_bytes_per_second: Option<f64>,
    /// Predicted seconds until the volume reaches the error threshold at the
    /// current rate; absent when not growing or not enough samples.
    #[serde(
        serialize_with = "ser_opt_num",
        deserialize_with = "record::opt_non_negative",
        default
    )]
    pub seconds_to_error: Option<f64>,
    /// The smallest `safe_wal_size` among the replication slots the check
    /// saw: bytes of WAL that can still be written before a slot is lost
    /// (negative: already past); absent when no slot reports one.
    #[serde(default)]
    pub safe_wal_size_bytes: Option<i64>,
}

/// What the rules derive while they judge, which the measurements report.
pub(super) struct Derived {
    /// pg_wal's growth.
    pub wal: Option<f64>,
    /// The volume's fill rate.
    pub volume: Option<f64>,
    /// Seconds until the volume reaches its error threshold.
    pub seconds_to_error: Option<f64>,
    /// pg_wal's soft limit ([`soft_limit`]).
    pub soft_limit: u64,
}

/// What the rules judge pg_wal's size by, `soft_limit_bytes`: what
/// PostgreSQL normally keeps with these settings and slots.
pub(super) fn soft_limit(facts: &WalFacts) -> u64 {
    WalSettings::normal_ceiling(&facts.settings, &facts.slots)
}

impl WalMeasures {
    /// The measurements of `facts` judged by `policy`, with what the rules
    /// derived.
    pub(super) fn measured(facts: &WalFacts, policy: &WalPolicy, derived: Derived) -> Self {
        let vol = facts.volume;
        WalMeasures {
            wal_size: Some(facts.wal_bytes),
            segment_count: Some(facts.segment_count),
            ready_count: Some(facts.ready_count),
            wal_used_pct: Some(pct_floor_2(vol.used_bytes(), vol.total_bytes)),
            volume_total_bytes: Some(vol.total_bytes),
            volume_available_bytes: Some(vol.available_bytes),
            wal_growth_bytes_per_second: derived.wal,
            volume_growth_bytes_per_second: derived.volume,
            seconds_to_error: derived.seconds_to_error,
            safe_wal_size_bytes: facts.slots.iter().filter_map(|s| s.safe_wal_size).min(),
            ..WalMeasures::unmeasured(policy, derived.soft_limit)
        }
    }

    /// The measurements of a check that could not measure: only the limits.
    pub(super) fn unmeasured(policy: &WalPolicy, soft_limit_bytes: u64) -> Self {
        WalMeasures {
            threshold_pct: policy.volume_near_pct,
            soft_limit_bytes,
            ..WalMeasures::default()
        }
    }
}

/// A line of `ssot wal check`'s text for one measurement: its field and
/// what to print (nothing when it was not measured).
pub type TextLine = (&'static str, fn(&WalMeasures) -> Option<String>);

/// The measurements' own lines in `ssot wal check`'s text, printed after the
/// growth line in this order.
pub const TEXT: &[TextLine] = &[("safe_wal_size_bytes", |m| {
    m.safe_wal_size_bytes.map(|b| match u64::try_from(b) {
        Ok(b) => format!(
            "slots       {} can still be written before a slot is lost",
            crate::num::human_bytes(b)
        ),
        Err(_) => format!(
            "slots       a slot is {} past what it may hold (safe_wal_size {b})",
            crate::num::human_bytes(b.unsigned_abs())
        ),
    })
})];

/// The measurements another line of `ssot wal check`'s text shows, with
/// what only the report has (pg_wal's path, the `df` share, where the
/// settings came from, the samples in the window): each with that line's
/// label.
pub const TEXT_ELSEWHERE: &[(&str, &str)] = &[
    ("wal_size", "pg_wal"),
    ("segment_count", "pg_wal"),
    ("ready_count", "pg_wal"),
    ("wal_used_pct", "volume"),
    ("threshold_pct", "volume"),
    ("volume_total_bytes", "volume"),
    ("volume_available_bytes", "volume"),
    ("soft_limit_bytes", "soft limit"),
    ("wal_growth_bytes_per_second", "growth"),
    ("volume_growth_bytes_per_second", "growth"),
    ("seconds_to_error", "growth"),
];

impl WalMeasures {
    /// The measurements' lines of `ssot wal check`'s text ([`TEXT`]).
    pub fn text_lines(&self) -> Vec<String> {
        TEXT.iter().filter_map(|(_, line)| line(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;
    use crate::state::{write_wal_status, WalStatusRecord};
    use crate::statefile::StateFile;
    use crate::wal::{evaluate, VolumeStats, WalPolicy};

    /// Every measurement's name, as JSON and `wal.status` spell it.
    fn names() -> Vec<String> {
        let Value::Object(m) = serde_json::to_value(<WalMeasures>::default()).unwrap() else {
            panic!("the measurements are an object")
        };
        m.keys().cloned().collect()
    }

    /// The measurements with every one set (to 7, which each accepts).
    fn all_set() -> WalMeasures {
        let m: serde_json::Map<String, Value> =
            names().into_iter().map(|n| (n, json!(7))).collect();
        let all: WalMeasures = serde_json::from_value(Value::Object(m)).unwrap();
        let Value::Object(back) = serde_json::to_value(&all).unwrap() else {
            panic!("an object")
        };
        assert!(back.values().all(|v| *v == json!(7)), "{back:?}");
        all
    }

    fn report_with(m: &WalMeasures) -> crate::wal::WalReport {
        let facts = WalFacts::new(96 << 20, 6, VolumeStats::new(100 << 30, 62 << 30));
        let mut r = evaluate(
            &facts,
            &WalPolicy::default(),
            "2026-02-05T12:00:00Z".parse().unwrap(),
        );
        r.measures = m.clone();
        r
    }

    #[test]
    fn every_measurement_has_a_line_in_the_text_or_is_shown_by_another() {
        let mut covered: Vec<&str> = TEXT.iter().map(|(n, _)| *n).collect();
        covered.extend(TEXT_ELSEWHERE.iter().map(|(n, _)| *n));
        assert_eq!(covered.len(), names().len(), "each is named once");
        let covered: BTreeSet<String> = covered.into_iter().map(String::from).collect();
        assert_eq!(covered, names().into_iter().collect::<BTreeSet<_>>());
        let all = all_set();
        assert_eq!(
            all.text_lines().len(),
            TEXT.len(),
            "every line prints when measured"
        );
        assert!(<WalMeasures>::default().text_lines().is_empty());
        // The line each other one is shown on is there when all are measured.
        let text = report_with(&all).to_string();
        for (n, label) in TEXT_ELSEWHERE {
            assert!(
                text.contains(&format!("\n  {label:<12}")),
                "{n}: no {label:?} line in {text}"
            );
        }
    }

    #[test]
    fn every_measurement_is_in_the_wal_check_json_and_the_text() {
        let r = report_with(&all_set());
        let json = serde_json::to_value(&r).unwrap();
        for n in names() {
            assert_eq!(json[&n], json!(7), "{n} in {json}");
        }
        let back: crate::wal::WalReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        let text = r.to_string();
        for line in all_set().text_lines() {
            assert!(text.contains(&line), "{line:?} in {text}");
        }
    }

    #[test]
    fn every_measurement_is_a_wal_status_key_and_reads_back() {
        let r = report_with(&all_set());
        let mut f = StateFile::parse(b"", "wal.status").unwrap();
        write_wal_status(&mut f, &r).unwrap();
        for n in names() {
            assert_eq!(
                f.entry(&n).map(|(_, v)| v),
                Some("7"),
                "{n} in {}",
                f.render()
            );
        }
        let rec = WalStatusRecord::from_file(&f).unwrap();
        assert_eq!(
            serde_json::to_value(&rec.measures).unwrap(),
            serde_json::to_value(all_set()).unwrap()
        );
        // A file written before any of them existed reads them as absent,
        // and a rewrite without them removes their keys (the limits, which
        // a report always sets, are written whatever they are).
        let old = StateFile::parse(
            b"wal_status=OK\nchecked_at=2026-02-05T12:00:00Z\n",
            "wal.status",
        )
        .unwrap();
        assert_eq!(
            WalStatusRecord::from_file(&old).unwrap().measures,
            WalMeasures::<Recorded>::default()
        );
        let none = <WalMeasures>::default();
        write_wal_status(&mut f, &report_with(&none)).unwrap();
        let none = serde_json::to_value(&none).unwrap();
        for n in names() {
            let kept = f.entry(&n).map(|(_, v)| v.to_string());
            match &none[&n] {
                Value::Null => assert_eq!(kept, None, "{n} left in {}", f.render()),
                v => assert_eq!(kept, Some(v.to_string()), "{n} in {}", f.render()),
            }
        }
    }

    #[test]
    fn safe_wal_size_bytes_is_the_smallest_a_slot_reports() {
        let slot = |name: &str, safe: Option<i64>| crate::wal::ReplicationSlot {
            name: name.into(),
            active: true,
            wal_status: None,
            retained_bytes: None,
            safe_wal_size: safe,
        };
        let derived = || Derived {
            wal: None,
            volume: None,
            seconds_to_error: None,
            soft_limit: 0,
        };
        let policy = WalPolicy::default();
        let mut facts = WalFacts::new(96 << 20, 6, VolumeStats::new(100 << 30, 62 << 30));
        assert_eq!(
            WalMeasures::measured(&facts, &policy, derived()).safe_wal_size_bytes,
            None
        );
        facts.slots = vec![
            slot("a", Some(3 << 30)),
            slot("b", None),
            slot("c", Some(1 << 30)),
        ];
        let m = WalMeasures::measured(&facts, &policy, derived());
        assert_eq!(m.safe_wal_size_bytes, Some(1 << 30));
        assert_eq!(
            m.text_lines(),
            ["slots       1GB can still be written before a slot is lost"]
        );
        facts.slots.push(slot("d", Some(-(16 << 20))));
        let r = evaluate(
            &facts,
            &WalPolicy::default(),
            "2026-02-05T12:00:00Z".parse().unwrap(),
        );
        assert_eq!(r.measures.safe_wal_size_bytes, Some(-(16 << 20)));
        assert!(
            r.to_string().contains(
                "  slots       a slot is 16MB past what it may hold (safe_wal_size -16777216)\n"
            ),
            "{r}"
        );
    }

    #[test]
    fn every_measurement_is_in_the_report_json() {
        let r = report_with(&all_set());
        let mut f = StateFile::parse(b"", "wal.status").unwrap();
        write_wal_status(&mut f, &r).unwrap();
        let files =
            std::collections::BTreeMap::from([(crate::state::WAL_STATUS.to_string(), f.render())]);
        let report = crate::report_from_files(
            &files,
            None,
            &crate::config::Config::default(),
            r.checked_at,
        );
        let json = serde_json::to_value(&report).unwrap();
        let wal = json["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "wal")
            .unwrap_or_else(|| panic!("a wal section in {json}"));
        for n in names() {
            assert_eq!(wal["facts"][&n], json!(7), "{n} in {wal}");
        }
    }
}
