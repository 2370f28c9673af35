//! Stage claims backed by evidence that is not evidence (issue 8: one
//! reader per state file).

use std::fs;

use super::*;

/// `gate.log` read by the stage check dropped corrupt lines silently and
/// counted a decision dated after now: a denial "in the future" backed the
/// claim that the stop-factor was exercised.
#[test]
fn a_future_dated_denial_does_not_back_a_claim() {
    let w = World::new();
    let config = w.path("ssot.toml");
    fs::write(
        &config,
        "[[stages]]\nid = \"8\"\ntitle = \"Backup gate\"\nstatus = \"COMPLETE\"\n\
         criteria = [\"gate_denied:backup\"]\n",
    )
    .unwrap();
    w.write_state(
        "gate.log",
        "{\"operation\":\"backup\",\"allowed\":false,\"decided_at\":\"2026-02-05T13:00:00Z\",\"reasons\":[]}\n",
    );
    let o = w.ssot(&["--config", s(&config), "stages", "check"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("gate.log has no backup denial"),
        "{}",
        stdout(&o)
    );
}

/// A `fresh:` criterion on a file ssot does not judge by a timestamp was
/// accepted and then judged against whatever the file held (here: a line
/// file read as `key=value`); the registry is now refused when it is read,
/// naming the criterion.
#[test]
fn a_fresh_criterion_on_an_untimed_file_is_refused() {
    let w = World::new();
    let config = w.path("ssot.toml");
    fs::write(
        &config,
        "[[stages]]\nid = \"2\"\ntitle = \"State\"\nstatus = \"COMPLETE\"\n\
         criteria = [\"fresh:active_pvc.list\"]\n",
    )
    .unwrap();
    w.write_state("active_pvc.list", "trading/data-trading-postgres-0\n");
    let o = w.ssot(&["--config", s(&config), "stages", "check"]);
    assert_eq!(code(&o), 3, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("unknown criterion \"fresh:active_pvc.list\""),
        "{}",
        stderr(&o)
    );
}
