//! Every conformance vector in `tests/vectors/` through Rhai: each call is
//! made by a Rhai script, and the result's `to_json()` must equal the
//! vector's exact expected JSON (the same files the Rust and Python suites run).

use std::fs;
use std::path::{Path, PathBuf};

use rhai::{Dynamic, Engine, Scope};
use serde_json::Value;

fn vectors(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "too few {kind} vectors");
    files
}

fn engine() -> Engine {
    let mut e = Engine::new();
    ssot_rhai::register(&mut e);
    e
}

fn dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap()
}

/// Runs `script` with the vector's fields in scope; the JSON it returns.
fn eval(v: &Value, script: &str, name: &str) -> Value {
    let mut scope = Scope::new();
    for (k, x) in v.as_object().unwrap() {
        scope.push(k.as_str(), dynamic(x));
    }
    let out: String = engine()
        .eval_with_scope(&mut scope, script)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"))
}

fn check(kind: &str, script: &str) {
    for path in vectors(kind) {
        let name = format!("{kind}/{}", path.file_name().unwrap().to_string_lossy());
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let got = eval(&v, script, &name);
        assert_eq!(got, v["expected"], "{name}");
    }
}

#[test]
fn wal_vectors_through_rhai() {
    check("wal", "evaluate_wal(facts, policy, now).to_json()");
}

#[test]
fn gate_vectors_through_rhai() {
    check(
        "gate",
        "evaluate_gate(operation, facts, policy, now).to_json()",
    );
}

#[test]
fn retention_vectors_through_rhai() {
    check(
        "retention",
        r#"
        let out = ();
        try {
            out = plan_retention(artifacts, policy, now).to_json();
        } catch (e) {
            out = #{ error: e }.to_json();
        }
        out
        "#,
    );
}

#[test]
fn contract_vectors_through_rhai() {
    check(
        "contract",
        r#"
        let extras = #{};
        if is_def_var("backup_location") { extras.backup_location = backup_location; }
        if is_def_var("backup_target") { extras.backup_target = backup_target; }
        evaluate_contract(inputs, config, now, extras).to_json()
        "#,
    );
}

#[test]
fn report_vectors_through_rhai() {
    check(
        "report",
        r#"
        let log = if is_def_var("gate_log") { gate_log } else { () };
        build_report(files, log, config, now).to_json()
        "#,
    );
}

/// Found by attack: `evaluate_wal` took thresholds `ssot.toml` refuses
/// (1000%) and judged a volume with 1MiB left OK; `evaluate_gate` took a
/// disk floor of 150%. Each is now the error the configuration gives, naming
/// the key. (A NaN does not reach the policy here: Rhai values pass through
/// JSON, where it is null.)
#[test]
fn a_pure_evaluators_policy_is_checked_as_the_configurations_is() {
    let full = "#{wal_bytes: 1073741824, segment_count: 64, volume: #{total_bytes: 107374182400, available_bytes: 1048576}}";
    let now = "\"2026-02-05T12:00:00Z\"";
    let status: String = engine()
        .eval(&format!("evaluate_wal({full}, #{{}}, {now}).status"))
        .unwrap();
    assert_eq!(status, "ERROR");
    for (policy, key) in [
        (
            "#{volume_near_pct: 1000.0, volume_error_pct: 1000.0}",
            "wal.volume_near_pct",
        ),
        ("#{min_free_fraction: 2.0}", "wal.min_free_fraction"),
        ("#{hard_limit_factor: -1.0}", "wal.hard_limit_factor"),
    ] {
        let e = engine()
            .eval::<Dynamic>(&format!("evaluate_wal({full}, {policy}, {now})"))
            .expect_err(policy)
            .to_string();
        assert!(e.contains(key), "{policy}: {e}");
    }
    let facts = "#{wal_status: #{state: \"missing\", path: \"wal.status\"}}";
    let e = engine()
        .eval::<Dynamic>(&format!(
            "evaluate_gate(\"backup\", {facts}, #{{disk: #{{min_free_pct: 150.0}}}}, {now})"
        ))
        .expect_err("a disk floor of 150%")
        .to_string();
    assert!(e.contains("disk.min_free_pct"), "{e}");
}
