//! Runs the shared conformance vectors in `tests/vectors/` (at the workspace
//! root) against the Rust core. The Python and Rhai suites run the same files
//! through their bindings, and must produce the same JSON.
//!
//! Each vector is one JSON file: its inputs, `now`, an `expect` summary
//! written by hand from the rules (the status, which checks fail, which
//! artifacts go), and `expected`, the exact JSON the core (and so the CLI's
//! `--format json`) gives for it. The runner checks both: the summary against
//! the rules, the exact JSON against every surface.
//!
//! `SSOT_BLESS=1 cargo test -p ssot-core --test vectors` rewrites `expected`
//! from the code — only for vectors whose hand-written `expect` passes, so a
//! blessed file never records a result the rules contradict.
//!
//! | dir | inputs | `expected` is |
//! |---|---|---|
//! | `wal/` | `facts` (WalFacts), `policy` (WalPolicy) | `wal::evaluate` (`wal check` JSON without the host's notes) |
//! | `gate/` | `operation`, `facts` (GateFacts), `policy` (GatePolicy) | `gate::evaluate` (`gate --format json`) |
//! | `retention/` | `artifacts`, `policy` (RetentionPolicy) | `retention::plan` (`retention plan --format json`), or `{"error": message}` |
//! | `contract/` | `inputs` (ContractRequest of inline texts), `config` (the `[contract]` table), optional `backup_location`, `backup_target` | `contract::evaluate` (`contract check --format json`) |
//! | `report/` | `files` (state file name → content), optional `gate_log`, `config` (ssot.toml text) | `report_from_files` (`report --format json`) |
//!
//! A report vector's `expect` may also give `summaries` (text a section's
//! summary contains), `leads` (text it starts with: a section that is not OK
//! leads with its problem) and `headline` (text the report's first line
//! starts with).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use ssot_core::config::{Config, ContractConfig};
use ssot_core::contract::{self, Sourced};
use ssot_core::gate::{self, GateFacts, GatePolicy, Operation};
use ssot_core::retention::{self, Action, Artifact, RetentionPolicy};
use ssot_core::wal::{self, WalFacts, WalPolicy};
use ssot_core::{parse_contract_inputs, report_from_files, ContractRequest};

/// The keys of a vector file, in the order they are written back.
const KEY_ORDER: [&str; 15] = [
    "description",
    "operation",
    "now",
    "policy",
    "config",
    "facts",
    "artifacts",
    "inputs",
    "backup_location",
    "backup_target",
    "files",
    "gate_log",
    "expect",
    "expected",
    "notes",
];

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
        files.len() >= 5,
        "expected at least 5 {kind} vectors in {}",
        dir.display()
    );
    files
}

fn render(v: &Value) -> String {
    let obj = v.as_object().expect("a vector is an object");
    let mut out = serde_json::Map::new();
    for k in KEY_ORDER {
        if let Some(x) = obj.get(k) {
            out.insert(k.to_string(), x.clone());
        }
    }
    for k in obj.keys() {
        assert!(KEY_ORDER.contains(&k.as_str()), "unknown vector key {k}");
    }
    // serde_json's map is ordered by key; write the keys in KEY_ORDER by hand.
    let mut s = String::from("{\n");
    let n = out.len();
    for (i, k) in KEY_ORDER
        .iter()
        .filter(|k| out.contains_key(**k))
        .enumerate()
    {
        let body = serde_json::to_string_pretty(&out[*k]).unwrap();
        let body = body.replace('\n', "\n  ");
        s.push_str(&format!("  {}: {body}", serde_json::to_string(k).unwrap()));
        s.push_str(if i + 1 < n { ",\n" } else { "\n" });
    }
    s.push_str("}\n");
    s
}

/// Runs every vector of `kind`: `eval` gives the exact JSON and checks the
/// hand-written `expect` summary against it (panicking with the vector's name).
fn run(kind: &str, eval: impl Fn(&str, &Value) -> Value) {
    let bless = std::env::var_os("SSOT_BLESS").is_some();
    for path in vector_files(kind) {
        let name = format!("{kind}/{}", path.file_name().unwrap().to_string_lossy());
        let text = fs::read_to_string(&path).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v["description"].is_string(), "{name}: no description");
        assert!(v["expect"].is_object(), "{name}: no hand-written expect");
        let got = eval(&name, &v);
        if bless {
            v["expected"] = got;
            fs::write(&path, render(&v)).unwrap();
        } else {
            assert!(
                v.get("expected").is_some(),
                "{name}: no expected JSON (run with SSOT_BLESS=1 once the expect summary passes)"
            );
            assert_eq!(
                got,
                v["expected"],
                "{name}: the JSON differs from the vector's\n got: {}",
                serde_json::to_string_pretty(&got).unwrap()
            );
        }
    }
}

fn now(v: &Value) -> chrono::DateTime<chrono::Utc> {
    v["now"]
        .as_str()
        .expect("now")
        .parse()
        .expect("RFC 3339 now")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a == b,
    }
}

#[test]
fn wal_vectors() {
    run("wal", |name, v| {
        let policy: WalPolicy = serde_json::from_value(v["policy"].clone()).unwrap();
        let facts: WalFacts = serde_json::from_value(v["facts"].clone())
            .unwrap_or_else(|e| panic!("{name}: facts: {e}"));
        let got = serde_json::to_value(wal::evaluate(&facts, &policy, now(v))).unwrap();
        let exp = &v["expect"];
        assert_eq!(got["status"], exp["status"], "{name}: status");
        let reasons: Vec<Value> = got["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!({"rule": r["rule"], "level": r["level"], "held": r["held"]}))
            .collect();
        assert_eq!(&Value::Array(reasons), &exp["reasons"], "{name}: reasons");
        for (field, want) in exp["fields"].as_object().unwrap() {
            assert!(
                same_number(&got[field], want),
                "{name}: field {field}: got {} want {want}",
                got[field]
            );
        }
        got
    });
}

#[test]
fn gate_vectors() {
    run("gate", |name, v| {
        let policy: GatePolicy = serde_json::from_value(v["policy"].clone()).unwrap();
        let facts: GateFacts = serde_json::from_value(v["facts"].clone())
            .unwrap_or_else(|e| panic!("{name}: facts: {e}"));
        let op: Operation = v["operation"].as_str().unwrap().parse().unwrap();
        let d = gate::evaluate(op, &facts, &policy, now(v));
        let exp = &v["expect"];
        assert_eq!(
            d.allowed,
            exp["allowed"].as_bool().unwrap(),
            "{name}: allowed; {d}"
        );
        let rules = |passed: bool| -> Vec<String> {
            d.reasons
                .iter()
                .filter(|c| c.passed == passed)
                .map(|c| c.rule.to_string())
                .collect()
        };
        assert_eq!(
            rules(false),
            strings(&exp["failed"]),
            "{name}: failed checks"
        );
        assert_eq!(
            rules(true),
            strings(&exp["passed"]),
            "{name}: passed checks"
        );
        serde_json::to_value(&d).unwrap()
    });
}

#[test]
fn retention_vectors() {
    run("retention", |name, v| {
        let policy: RetentionPolicy = serde_json::from_value(v["policy"].clone())
            .unwrap_or_else(|e| panic!("{name}: policy: {e}"));
        let artifacts: Vec<Artifact> = serde_json::from_value(v["artifacts"].clone())
            .unwrap_or_else(|e| panic!("{name}: artifacts: {e}"));
        let exp = &v["expect"];
        match retention::plan(&artifacts, &policy, now(v)) {
            Err(e) => {
                let want = exp["error_contains"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: unexpected error {e}"));
                assert!(e.to_string().contains(want), "{name}: {e}");
                json!({ "error": e.to_string() })
            }
            Ok(plan) => {
                assert!(exp.get("error_contains").is_none(), "{name}: no error");
                let deleted: Vec<String> = plan
                    .decisions
                    .iter()
                    .filter(|d| d.action == Action::Delete)
                    .map(|d| d.id.clone())
                    .collect();
                let mut want = strings(&exp["delete"]);
                want.sort();
                let mut deleted_sorted = deleted.clone();
                deleted_sorted.sort();
                assert_eq!(deleted_sorted, want, "{name}: deleted; {plan:#?}");
                assert_eq!(
                    plan.refused.is_some(),
                    exp["refused"].as_bool().unwrap_or(false),
                    "{name}: refused {:?}",
                    plan.refused
                );
                if let Some(reasons) = exp["reasons"].as_object() {
                    for (id, want) in reasons {
                        let d = plan.decisions.iter().find(|d| &d.id == id).unwrap();
                        let got: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
                        assert_eq!(got, strings(want), "{name}: reasons of {id}");
                    }
                }
                serde_json::to_value(&plan).unwrap()
            }
        }
    });
}

#[test]
fn contract_vectors() {
    run("contract", |name, v| {
        let cfg: ContractConfig = serde_json::from_value(v["config"].clone())
            .unwrap_or_else(|e| panic!("{name}: config: {e}"));
        let req: ContractRequest = serde_json::from_value(v["inputs"].clone())
            .unwrap_or_else(|e| panic!("{name}: inputs: {e}"));
        let mut inputs =
            parse_contract_inputs(&req, &cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(loc) = v["backup_location"].as_str() {
            inputs.backup_location = Some(Sourced::new(loc.to_string(), "backup.status"));
        }
        inputs.backup_target = v["backup_target"].as_str().map(String::from);
        let report = contract::evaluate(&inputs, &cfg, now(v));
        let exp = &v["expect"];
        assert_eq!(
            report.status.as_str(),
            exp["status"].as_str().unwrap(),
            "{name}: status; {report}"
        );
        for (status, key) in [
            (contract::InvariantStatus::Fail, "failed"),
            (contract::InvariantStatus::Unknown, "unknown"),
            (contract::InvariantStatus::NotApplicable, "not_applicable"),
        ] {
            if exp.get(key).is_some() {
                let got: Vec<String> = report
                    .with_status(status)
                    .map(|i| i.id.to_string())
                    .collect();
                assert_eq!(
                    got,
                    strings(&exp[key]),
                    "{name}: {key} invariants; {report}"
                );
            }
        }
        if exp.get("limitations_on").is_some() {
            let on: Vec<String> = report
                .limitations
                .iter()
                .filter(|l| l.status == contract::LimitationStatus::On)
                .map(|l| l.name.clone())
                .collect();
            assert_eq!(
                on,
                strings(&exp["limitations_on"]),
                "{name}: limitations on"
            );
        }
        serde_json::to_value(&report).unwrap()
    });
}

#[test]
fn report_vectors() {
    run("report", |name, v| {
        let cfg = Config::from_toml_str(v["config"].as_str().unwrap_or(""), name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let files: BTreeMap<String, String> = serde_json::from_value(v["files"].clone())
            .unwrap_or_else(|e| panic!("{name}: files: {e}"));
        let report = report_from_files(&files, v["gate_log"].as_str(), &cfg, now(v));
        let exp = &v["expect"];
        assert_eq!(
            report.verdict.as_str(),
            exp["verdict"].as_str().unwrap(),
            "{name}: verdict; {report}"
        );
        for (section, want) in exp["sections"].as_object().unwrap() {
            let s = report
                .sections
                .iter()
                .find(|s| &s.name == section)
                .unwrap_or_else(|| panic!("{name}: no section {section}"));
            assert_eq!(
                s.status.as_str(),
                want.as_str().unwrap(),
                "{name}: {section}: {}",
                s.summary
            );
            if let Some(text) = exp["summaries"][section].as_str() {
                assert!(s.summary.contains(text), "{name}: {section}: {}", s.summary);
            }
            // A section that is not OK leads with its problem.
            if let Some(text) = exp["leads"][section].as_str() {
                assert!(
                    s.summary.starts_with(text),
                    "{name}: {section}: {}",
                    s.summary
                );
            }
        }
        if let Some(text) = exp["headline"].as_str() {
            assert!(
                report.headline.starts_with(text),
                "{name}: headline: {}",
                report.headline
            );
        }
        let first_line = ssot_core::report::render::text(&report);
        let first_line = first_line.lines().next().unwrap_or_default();
        assert_eq!(first_line, report.headline, "{name}: the text's first line");
        serde_json::to_value(&report).unwrap()
    });
}
