//! Criterion benchmarks of the pure core: WAL evaluation, the status-file
//! codec, retention planning over 10k / 100k / 1M artifacts (1 and 1,000
//! groups, a GFS + floors + size-budget policy) and report assembly.
//!
//!     cargo bench --bench core                # everything
//!     cargo bench --bench core -- retention   # one family
//!
//! Inputs come from the conformance vectors (`tests/vectors/`) where one
//! fits, so what is timed is what the surfaces are tested on. Results and
//! the machine they were measured on: `benches/RESULTS.md`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use serde_json::Value;

mod common;
use common::{catalog, gfs_policy};
use ssot_core::config::Config;
use ssot_core::report_from_files;
use ssot_core::retention;
use ssot_core::statefile::StateFile;
use ssot_core::wal::{self, WalFacts, WalPolicy};

fn vector(path: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(path);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn now(v: &Value) -> DateTime<Utc> {
    v["now"].as_str().unwrap().parse().unwrap()
}

fn wal_evaluation(c: &mut Criterion) {
    let mut g = c.benchmark_group("wal");
    for name in [
        "01_seed_step2_ok.json",
        "07_slots.json",
        "09_hysteresis_hold.json",
    ] {
        let v = vector(&format!("wal/{name}"));
        let facts: WalFacts = serde_json::from_value(v["facts"].clone()).unwrap();
        let policy: WalPolicy = serde_json::from_value(v["policy"].clone()).unwrap_or_default();
        let t = now(&v);
        g.bench_function(BenchmarkId::new("evaluate", name), |b| {
            b.iter(|| wal::evaluate(black_box(&facts), &policy, t))
        });
    }
    g.finish();
}

fn status_codec(c: &mut Criterion) {
    let v = vector("report/02_healthy_evidence.json");
    let text = v["files"]["backup.status"].as_str().unwrap().to_string();
    let mut g = c.benchmark_group("statefile");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| StateFile::parse(black_box(text.as_bytes()), "backup.status").unwrap())
    });
    let parsed = StateFile::parse(text.as_bytes(), "backup.status").unwrap();
    g.bench_function("render", |b| b.iter(|| black_box(&parsed).render()));
    g.bench_function("set_and_render", |b| {
        b.iter_batched(
            || parsed.clone(),
            |mut f| {
                f.set("last_at", "2026-02-06T03:00:00Z").unwrap();
                f.render()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn retention_plan(c: &mut Criterion) {
    let t0: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    let policy = gfs_policy();
    let mut g = c.benchmark_group("retention_plan");
    g.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        for groups in [1usize, 1000] {
            let arts = catalog(n, groups, t0);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(
                BenchmarkId::new(format!("{groups}_groups"), n),
                &arts,
                // The plan is dropped outside the timing: what is measured is
                // making it (freeing a million decisions is the caller's cost).
                |b, arts| {
                    b.iter_with_large_drop(|| {
                        retention::plan(black_box(arts), &policy, t0).unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

fn report_assembly(c: &mut Criterion) {
    let mut g = c.benchmark_group("report");
    for name in [
        "02_healthy_evidence.json",
        "05_gate_log_corrupt_and_blocked.json",
    ] {
        let v = vector(&format!("report/{name}"));
        let cfg = Config::from_toml_str(v["config"].as_str().unwrap_or(""), name).unwrap();
        let files: BTreeMap<String, String> = serde_json::from_value(v["files"].clone()).unwrap();
        let t = now(&v);
        g.bench_function(BenchmarkId::new("from_files", name), |b| {
            b.iter(|| report_from_files(black_box(&files), v["gate_log"].as_str(), &cfg, t))
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    wal_evaluation,
    status_codec,
    retention_plan,
    report_assembly
);
criterion_main!(benches);
