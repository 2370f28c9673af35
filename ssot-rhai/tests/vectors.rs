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
