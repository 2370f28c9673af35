//! Replays every committed fuzz corpus input (`fuzz/corpus/<target>/`) and
//! every crash reproducer (`fuzz/artifacts/<target>/`, if any) through the
//! same functions the fuzz targets call, in an ordinary test run: what the
//! fuzzer found once stays found, with no fuzzing toolchain needed.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::fs;
use std::path::Path;

/// A fuzz target: what it does with one input.
type Target = fn(&[u8]);

#[test]
fn every_corpus_input_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let targets: [(&str, Target); 5] = [
        ("statefile", harness::statefile),
        ("config", harness::config),
        ("inputs", harness::inputs),
        ("units", harness::units),
        ("catalog", harness::catalog),
    ];
    for (name, run) in targets {
        let mut n = 0;
        for dir in ["corpus", "artifacts"] {
            let Ok(entries) = fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for e in entries {
                let path = e.unwrap().path();
                let data = fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{name}: {} panics", path.display());
                n += 1;
            }
        }
        assert!(n > 0, "{name}: no corpus committed");
    }
}
