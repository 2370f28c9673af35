//! Renderings of a [`Report`]: a table for people, the Prometheus text
//! exposition format for node_exporter's textfile collector, and a
//! Kubernetes ConfigMap marker for kube-state-metrics.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::metrics::{self, Metric};
use super::{Report, Verdict};
use crate::time::timestamp;

/// The version in `ssot_build_info`: this crate's, fixed at compile time.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A compact table, worst first: what a person reads in five seconds. The
/// first line is the report's headline (what is wrong and what to do); each
/// section that is not OK says what to do before its details.
pub fn text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.headline);
    let _ = writeln!(
        s,
        "ssot report {} — {}",
        timestamp(r.generated_at),
        r.verdict
    );
    for sec in r.worst_first() {
        let _ = writeln!(
            s,
            "  {:<8}  {:<13}  {}",
            sec.status.as_str(),
            sec.name.as_str(),
            sec.summary
        );
        if sec.status != Verdict::Ok {
            if let Some(a) = &sec.action {
                let _ = writeln!(s, "  {:<8}  {:<13}    do: {a}", "", "");
            }
            for d in sec.details.iter().take(4) {
                let _ = writeln!(s, "  {:<8}  {:<13}    - {d}", "", "");
            }
            if sec.details.len() > 4 {
                let _ = writeln!(
                    s,
                    "  {:<8}  {:<13}    - ... {} more (in the JSON rendering)",
                    "",
                    "",
                    sec.details.len() - 4
                );
            }
        }
    }
    s
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// The Prometheus text exposition format: every metric `ssot_`-prefixed,
/// base units, HELP and TYPE once per family, statuses as labelled gauges
/// (1 for the current status).
pub fn prometheus(r: &Report) -> String {
    let all = metrics::samples(r);
    // Group by family, keeping first-appearance order.
    let mut order: Vec<&str> = Vec::new();
    let mut families: BTreeMap<&str, Vec<&Metric>> = BTreeMap::new();
    for m in &all {
        if !families.contains_key(m.spec.name) {
            order.push(m.spec.name);
        }
        families.entry(m.spec.name).or_default().push(m);
    }
    let mut out = String::new();
    for name in order {
        let ms = &families[name];
        let spec = ms[0].spec;
        let _ = writeln!(
            out,
            "# HELP ssot_{name} {}",
            spec.help.replace('\\', "\\\\").replace('\n', "\\n")
        );
        let _ = writeln!(out, "# TYPE ssot_{name} {}", spec.kind.as_str());
        for m in ms {
            if m.labels.is_empty() {
                let _ = writeln!(out, "ssot_{name} {}", number(m.value));
            } else {
                let labels: Vec<String> = spec
                    .labels
                    .iter()
                    .zip(&m.labels)
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = writeln!(
                    out,
                    "ssot_{name}{{{}}} {}",
                    labels.join(","),
                    number(m.value)
                );
            }
        }
    }
    out
}

fn yaml_str(v: &str) -> String {
    // A JSON string is a valid YAML double-quoted scalar.
    serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into())
}

/// A ConfigMap manifest carrying the verdict and the restore-drill marker the
/// seed's Grafana reads through kube-state-metrics (`ssot-restore-drill`).
/// Label values are limited to what Kubernetes accepts; times go in `data`.
pub fn configmap(r: &Report, name: &str, namespace: &str) -> String {
    let drill = match r.restore_drill.get("result").map(String::as_str) {
        Some("pass") => "passed",
        Some("fail") => "failed",
        _ => "none",
    };
    let mut s = String::new();
    let _ = writeln!(s, "apiVersion: v1");
    let _ = writeln!(s, "kind: ConfigMap");
    let _ = writeln!(s, "metadata:");
    let _ = writeln!(s, "  name: {}", yaml_str(name));
    let _ = writeln!(s, "  namespace: {}", yaml_str(namespace));
    let _ = writeln!(s, "  labels:");
    let _ = writeln!(s, "    app.kubernetes.io/managed-by: ssot");
    let _ = writeln!(s, "    ssot.io/verdict: {}", r.verdict.as_str());
    let _ = writeln!(s, "    ssot.io/restore-drill: {drill}");
    let _ = writeln!(s, "data:");
    let _ = writeln!(s, "  verdict: {}", yaml_str(r.verdict.as_str()));
    let _ = writeln!(s, "  headline: {}", yaml_str(&r.headline));
    let _ = writeln!(
        s,
        "  generated_at: {}",
        yaml_str(&timestamp(r.generated_at))
    );
    for (k, v) in &r.restore_drill {
        let _ = writeln!(s, "  restore_drill_{k}: {}", yaml_str(v));
    }
    for sec in &r.sections {
        let _ = writeln!(
            s,
            "  section_{}: {}",
            sec.name,
            yaml_str(&format!("{} {}", sec.status, sec.summary))
        );
    }
    s
}
