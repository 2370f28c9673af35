//! Runs the shared conformance vectors in `tests/vectors/` (at the workspace
//! root) against the Rust core. The Python and Rhai suites run the same files.
//!
//! A WAL vector is `{description, now, policy, facts, expected: {status,
//! reasons: [{rule, level, held}], fields: {name: value}}}`; a gate vector is
//! `{description, operation, now, policy, facts, expected: {allowed, failed,
//! passed}}` where `failed`/`passed` are the rule ids in decision order.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use ssot_core::gate::{self, GateFacts, GatePolicy, Operation};
use ssot_core::wal::{self, WalFacts, WalPolicy};

fn vector_files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected at least 10 {kind} vectors in {}",
        dir.display()
    );
    files
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

#[test]
fn wal_vectors() {
    for path in vector_files("wal") {
        let v = load(&path);
        let name = path.file_name().unwrap().to_string_lossy();
        let policy: WalPolicy = serde_json::from_value(v["policy"].clone()).unwrap();
        let facts: WalFacts = serde_json::from_value(v["facts"].clone())
            .unwrap_or_else(|e| panic!("{name}: facts: {e}"));
        let now = v["now"].as_str().unwrap().parse().unwrap();
        let report = wal::evaluate(&facts, &policy, now);
        let got = serde_json::to_value(&report).unwrap();
        let exp = &v["expected"];
        assert_eq!(got["status"], exp["status"], "{name}: status");
        let reasons: Vec<Value> = got["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| serde_json::json!({"rule": r["rule"], "level": r["level"], "held": r["held"]}))
            .collect();
        assert_eq!(&Value::Array(reasons), &exp["reasons"], "{name}: reasons");
        for (field, want) in exp["fields"].as_object().unwrap() {
            assert!(
                same_number(&got[field], want),
                "{name}: field {field}: got {} want {want}",
                got[field]
            );
        }
    }
}

#[test]
fn gate_vectors() {
    for path in vector_files("gate") {
        let v = load(&path);
        let name = path.file_name().unwrap().to_string_lossy();
        let policy: GatePolicy = serde_json::from_value(v["policy"].clone()).unwrap();
        let facts: GateFacts = serde_json::from_value(v["facts"].clone())
            .unwrap_or_else(|e| panic!("{name}: facts: {e}"));
        let op: Operation = v["operation"].as_str().unwrap().parse().unwrap();
        let now = v["now"].as_str().unwrap().parse().unwrap();
        let d = gate::evaluate(op, &facts, &policy, now);
        let exp = &v["expected"];
        assert_eq!(
            d.allowed,
            exp["allowed"].as_bool().unwrap(),
            "{name}: allowed; {:?}",
            d.reasons
        );
        let rules = |passed: bool| -> Vec<String> {
            d.reasons
                .iter()
                .filter(|c| c.passed == passed)
                .map(|c| c.rule.clone())
                .collect()
        };
        let want = |key: &str| -> Vec<String> {
            exp[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(rules(false), want("failed"), "{name}: failed checks");
        assert_eq!(rules(true), want("passed"), "{name}: passed checks");
    }
}
