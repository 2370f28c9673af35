//! What each fuzz target does with its input, as plain functions: the
//! `fuzz_targets/` call them under libFuzzer, and the main test suite
//! (`tests/fuzz_corpus.rs`) replays every committed corpus file through them,
//! so a crash found once stays fixed.
//!
//! Each function must return normally for *any* input: parsers answer with an
//! error, never a panic; what parses must survive a round trip.

use std::str::FromStr;

use ssot_core::config::Config;
use ssot_core::retention::{self, Artifact, RetentionPolicy};
use ssot_core::statefile::StateFile;

/// The status-file codec: parse; what parses renders and parses back the same.
pub fn statefile(data: &[u8]) {
    if let Ok(f) = StateFile::parse(data, "fuzz.status") {
        let text = f.render();
        let again =
            StateFile::parse(text.as_bytes(), "fuzz.status").expect("a rendered file parses");
        assert_eq!(again.render(), text, "render is stable");
    }
}

/// The configuration parser (TOML, defaults, validation).
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = Config::from_toml_str(text, "fuzz.toml") {
            let _ = c.wal.clone();
        }
    }
}

/// The inputs the contract reads: the first byte picks the parser.
pub fn inputs(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    use ssot_core::inputs;
    match which % 7 {
        0 => drop(inputs::parse_statefulset(text, "sts.json", "postgres")),
        1 => drop(inputs::parse_pg_settings(text, "pg_settings")),
        2 => drop(inputs::parse_processes(text)),
        3 => drop(inputs::parse_auto_conf(text, "postgresql.auto.conf")),
        4 => drop(inputs::parse_slots(text, "slots")),
        5 => drop(inputs::parse_mounts(text)),
        _ => drop(inputs::parse_live(text, "fuzz")),
    }
}

/// Sizes, durations, restic durations, GUC values.
pub fn units(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(b) = ssot_core::units::ByteSize::from_str(text) {
        let shown = b.to_string();
        assert_eq!(
            ssot_core::units::ByteSize::from_str(&shown).ok(),
            Some(b),
            "{shown}"
        );
    }
    if let Ok(s) = ssot_core::units::Span::from_str(text) {
        let shown = s.to_string();
        assert_eq!(
            ssot_core::units::Span::from_str(&shown).ok(),
            Some(s),
            "{shown}"
        );
    }
    if let Ok(d) = retention::ResticDuration::from_str(text) {
        let shown = d.to_string();
        assert_eq!(
            retention::ResticDuration::from_str(&shown).ok(),
            Some(d),
            "{shown}"
        );
    }
    if let Some((name, value)) = text.split_once('=') {
        let _ = ssot_core::contract::guc::parse_value(name, value);
    }
}

/// A retention catalog (JSON) planned under a GFS policy with floors and a
/// budget: an error or a plan, and a plan keeps the floors.
pub fn catalog(data: &[u8]) {
    let Ok(artifacts) = serde_json::from_slice::<Vec<Artifact>>(data) else {
        return;
    };
    let policy: RetentionPolicy = serde_json::from_value(serde_json::json!({
        "keep_last": 2, "keep_daily": 3, "keep_weekly": 2, "keep_within": "2d",
        "min_keep": 1, "min_verified": 1, "max_total_size": "1MB", "timezone": "Europe/Berlin"
    }))
    .expect("the fuzz policy is valid");
    let now = chrono::DateTime::from_timestamp(1_770_000_000, 0).expect("a valid time");
    if let Ok(plan) = retention::plan(&artifacts, &policy, now) {
        assert_eq!(plan.decisions.len(), artifacts.len());
        let json = serde_json::to_string(&plan).expect("a plan serializes");
        assert!(json.contains(&plan.plan_hash));
    }
}
