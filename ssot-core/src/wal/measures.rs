//! The WAL measurements declared once: [`WalMeasures`] is carried whole by
//! the [`WalReport`](super::WalReport) (`ssot wal check`'s JSON, Python,
//! Rhai), by `wal.status` ([`WalStatusRecord`](crate::state::WalStatusRecord))
//! and by the report's WAL section facts, so a measurement added here
//! appears on each without another edit. Its computation is
//! [`WalMeasures::measured`], its line in `ssot wal check`'s text is in
//! [`TEXT`]; its metric, if any, is declared with the section's others in
//! `report/wal.rs`.
//!
//! The measurements the seed's `wal.status` layout already placed (the
//! sizes, counts and the used %) stay fields of their own: that file's
//! key order is kept byte for byte. These are written after them.

use serde::{Deserialize, Serialize};

use super::WalFacts;
use crate::num::ser_opt_num;
use crate::statefile::record;

/// The measurements of a WAL check beyond the seed's layout, each `None`
/// when not measured (a failed measurement leaves them all out).
///
/// Each field serializes under its name in JSON and as a `wal.status` key;
/// a reader of either ignores what it does not know, and a file written
/// before a field existed reads it as `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WalMeasures {
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

/// The rates the rules derive while they judge, which the measurements report.
pub(super) struct Rates {
    /// pg_wal's growth.
    pub wal: Option<f64>,
    /// The volume's fill rate.
    pub volume: Option<f64>,
    /// Seconds until the volume reaches its error threshold.
    pub seconds_to_error: Option<f64>,
}

impl WalMeasures {
    /// The measurements of `facts`, with the rates the rules derived.
    pub(super) fn measured(facts: &WalFacts, rates: Rates) -> Self {
        WalMeasures {
            wal_growth_bytes_per_second: rates.wal,
            volume_growth_bytes_per_second: rates.volume,
            seconds_to_error: rates.seconds_to_error,
            safe_wal_size_bytes: facts.slots.iter().filter_map(|s| s.safe_wal_size).min(),
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

/// The measurements the text's growth line already shows (with the samples
/// in the window, which only the report has).
pub const TEXT_ELSEWHERE: [&str; 3] = [
    "wal_growth_bytes_per_second",
    "volume_growth_bytes_per_second",
    "seconds_to_error",
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
        let Value::Object(m) = serde_json::to_value(WalMeasures::default()).unwrap() else {
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
        covered.extend(TEXT_ELSEWHERE);
        let covered: BTreeSet<String> = covered.into_iter().map(String::from).collect();
        assert_eq!(covered, names().into_iter().collect::<BTreeSet<_>>());
        let all = all_set();
        assert_eq!(
            all.text_lines().len(),
            TEXT.len(),
            "every line prints when measured"
        );
        assert!(WalMeasures::default().text_lines().is_empty());
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
        assert_eq!(rec.measures, all_set());
        // A file written before any of them existed reads them as absent,
        // and a rewrite without them removes their keys.
        let old = StateFile::parse(
            b"wal_status=OK\nchecked_at=2026-02-05T12:00:00Z\n",
            "wal.status",
        )
        .unwrap();
        assert_eq!(
            WalStatusRecord::from_file(&old).unwrap().measures,
            WalMeasures::default()
        );
        write_wal_status(&mut f, &report_with(&WalMeasures::default())).unwrap();
        for n in names() {
            assert!(f.entry(&n).is_none(), "{n} left in {}", f.render());
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
        let rates = || Rates {
            wal: None,
            volume: None,
            seconds_to_error: None,
        };
        let mut facts = WalFacts::new(96 << 20, 6, VolumeStats::new(100 << 30, 62 << 30));
        assert_eq!(
            WalMeasures::measured(&facts, rates()).safe_wal_size_bytes,
            None
        );
        facts.slots = vec![
            slot("a", Some(3 << 30)),
            slot("b", None),
            slot("c", Some(1 << 30)),
        ];
        let m = WalMeasures::measured(&facts, rates());
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
        assert_eq!(r.safe_wal_size_bytes, Some(-(16 << 20)));
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
