//! Helpers shared by the CLI test suites.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// The `ssot` binary, isolated from the developer's real configuration and state.
pub fn ssot() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ssot"));
    c.env_remove("SSOT_STATE_DIR")
        .env_remove("SSOT_CONFIG")
        .env_remove("PGDATA");
    c
}

pub fn run(args: &[&str]) -> Output {
    ssot().args(args).output().unwrap()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

pub fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}
