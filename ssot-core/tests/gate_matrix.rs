//! The gate's fail-closed matrix: every way state can be untrustworthy, for
//! every operation that reads it, denies with its own reason.

use chrono::{DateTime, TimeDelta, Utc};
use ssot_core::disk::{DiskFacts, ProtectedVolume, TargetFacts};
use ssot_core::gate::{evaluate, GateFacts, GatePolicy, LockFacts, Operation};
use ssot_core::state::StateInput;
use ssot_core::wal::VolumeStats;

const GIB: u64 = 1 << 30;

fn now() -> DateTime<Utc> {
    "2026-02-05T12:00:00Z".parse().unwrap()
}

fn ts(offset_secs: i64) -> String {
    ssot_core::state::timestamp(now() + TimeDelta::seconds(offset_secs))
}

fn present(path: &str, text: String) -> StateInput {
    StateInput::Present {
        path: path.into(),
        content: text.into_bytes(),
    }
}

fn wal_file(status: &str, offset_secs: i64) -> StateInput {
    present(
        "/s/wal.status",
        format!("wal_status={status}\nchecked_at={}\n", ts(offset_secs)),
    )
}

fn contract_file(verdict: &str, offset_secs: i64) -> StateInput {
    present(
        "/s/contract.status",
        format!(
            "contract_status={verdict}\nchecked_at={}\n",
            ts(offset_secs)
        ),
    )
}

fn good_disk() -> DiskFacts {
    DiskFacts {
        target: TargetFacts {
            path: "/backup/dumps".into(),
            exists: true,
            is_dir: true,
            write_error: None,
            device: Some(2),
            volume: Some(VolumeStats {
                total_bytes: 100 * GIB,
                available_bytes: 50 * GIB,
                free_bytes: None,
            }),
            probe_error: None,
        },
        protected: vec![ProtectedVolume {
            label: "PGDATA".into(),
            path: "/pgdata".into(),
            device: Some(1),
            error: None,
        }],
        estimated_bytes: GIB,
        estimate_source: "given estimate".into(),
        target_lineage: None,
        protected_paths: Vec::new(),
    }
}

fn good() -> GateFacts {
    GateFacts {
        wal_status: wal_file("OK", -60),
        contract_status: Some(contract_file("PASS", -3600)),
        disk: Some(good_disk()),
        lock: LockFacts::default(),
        liveness: None,
    }
}

struct Case {
    name: &'static str,
    op: Operation,
    facts: GateFacts,
    /// The one rule expected to fail, and a phrase its message must contain.
    denied_by: Option<(&'static str, &'static str)>,
}

fn with(f: impl FnOnce(&mut GateFacts)) -> GateFacts {
    let mut g = good();
    f(&mut g);
    g
}

fn disk(f: impl FnOnce(&mut DiskFacts)) -> GateFacts {
    with(|g| f(g.disk.as_mut().unwrap()))
}

/// Every operation: all good, and each state file or the lock failing.
fn state_cases() -> Vec<Case> {
    let mut cases = vec![];
    for op in Operation::ALL {
        cases.push(Case {
            name: "all good",
            op,
            facts: good(),
            denied_by: None,
        });
        cases.extend(wal_status_cases(op));
        cases.extend(lock_cases(op));
    }
    cases
}

/// `op` with `wal.status` missing, unreadable, corrupt, stale, future-dated or not OK.
fn wal_status_cases(op: Operation) -> Vec<Case> {
    vec![
        Case {
            name: "wal.status missing",
            op,
            facts: with(|g| g.wal_status = StateInput::Missing { path: "/s/wal.status".into() }),
            denied_by: Some(("wal_status_missing", "/s/wal.status is missing: run `ssot wal check` first")),
        },
        Case {
            name: "wal.status unreadable",
            op,
            facts: with(|g| {
                g.wal_status = StateInput::Unreadable {
                    path: "/s/wal.status".into(),
                    error: "Permission denied (os error 13)".into(),
                }
            }),
            denied_by: Some(("wal_status_unreadable", "/s/wal.status is unreadable: Permission denied")),
        },
        Case {
            name: "wal.status with a garbage line",
            op,
            facts: with(|g| g.wal_status = present("/s/wal.status", format!("wal_status=OK\n%%%\nchecked_at={}\n", ts(0)))),
            denied_by: Some(("wal_status_corrupt", "/s/wal.status is corrupt: /s/wal.status:2: expected key=value")),
        },
        Case {
            name: "wal.status with the seed's old FAIL value",
            op,
            facts: with(|g| g.wal_status = wal_file("FAIL", 0)),
            denied_by: Some(("wal_status_corrupt", "key \"wal_status\": unknown WAL status \"FAIL\"")),
        },
        Case {
            name: "wal.status without checked_at",
            op,
            facts: with(|g| g.wal_status = present("/s/wal.status", "wal_status=OK\n".into())),
            denied_by: Some(("wal_status_corrupt", "missing key \"checked_at\"")),
        },
        Case {
            name: "wal.status with a malformed checked_at",
            op,
            facts: with(|g| g.wal_status = present("/s/wal.status", "wal_status=OK\nchecked_at=yesterday\n".into())),
            denied_by: Some(("wal_status_corrupt", "/s/wal.status:2: key \"checked_at\": \"yesterday\" is not an RFC 3339 timestamp")),
        },
        Case {
            name: "wal.status with a duplicated key",
            op,
            facts: with(|g| g.wal_status = present("/s/wal.status", format!("wal_status=OK\nwal_status=ERROR\nchecked_at={}\n", ts(0)))),
            denied_by: Some(("wal_status_corrupt", "duplicate key \"wal_status\"")),
        },
        Case {
            name: "wal.status 10 min + 1 s old",
            op,
            facts: with(|g| g.wal_status = wal_file("OK", -601)),
            denied_by: Some(("wal_status_stale", "is stale: checked_at 2026-02-05T11:49:59Z is 10min1s old, more than the allowed 10min")),
        },
        Case {
            name: "wal.status 2 min in the future",
            op,
            facts: with(|g| g.wal_status = wal_file("OK", 120)),
            denied_by: Some(("wal_status_future_dated", "is future-dated: checked_at 2026-02-05T12:02:00Z is 2min ahead of now")),
        },
        Case {
            name: "WAL GROWING",
            op,
            facts: with(|g| g.wal_status = wal_file("GROWING", 0)),
            denied_by: Some(("wal_status_ok", "WAL status is GROWING, operations need OK")),
        },
        Case {
            name: "WAL NEAR_LIMIT",
            op,
            facts: with(|g| g.wal_status = wal_file("NEAR_LIMIT", 0)),
            denied_by: Some(("wal_status_ok", "WAL status is NEAR_LIMIT")),
        },
        Case {
            name: "WAL ERROR",
            op,
            facts: with(|g| g.wal_status = wal_file("ERROR", 0)),
            denied_by: Some(("wal_status_ok", "WAL status is ERROR")),
        },
    ]
}

/// `op` with the operation lock held or unknown.
fn lock_cases(op: Operation) -> Vec<Case> {
    vec![
        Case {
            name: "another operation holds the lock",
            op,
            facts: with(|g| {
                g.lock.held_by = Some("backup by pid 42 since 2026-02-05T11:59:00Z".into())
            }),
            denied_by: Some((
                "operation_lock",
                "another operation holds the lock: backup by pid 42",
            )),
        },
        Case {
            name: "the lock state is unknown",
            op,
            facts: with(|g| {
                g.lock.error = Some("open /s/operation.lock: Permission denied".into())
            }),
            denied_by: Some(("operation_lock", "cannot determine the operation lock")),
        },
    ]
}

/// Operations that write to a target: the disk guard at each boundary.
fn target_cases() -> Vec<Case> {
    use Operation::*;
    let mut cases = vec![];
    for op in [Snapshot, Backup, Restore] {
        cases.extend([
            Case {
                name: "no target configured",
                op,
                facts: with(|g| g.disk = None),
                denied_by: Some(("target_configured", "no target directory")),
            },
            Case {
                name: "target missing",
                op,
                facts: disk(|d| d.target.exists = false),
                denied_by: Some(("target_exists", "target /backup/dumps does not exist")),
            },
            Case {
                name: "target is a file",
                op,
                facts: disk(|d| d.target.is_dir = false),
                denied_by: Some(("target_is_directory", "is not a directory")),
            },
            Case {
                name: "target not writable",
                op,
                facts: disk(|d| d.target.write_error = Some("Read-only file system".into())),
                denied_by: Some(("target_writable", "is not writable: Read-only file system")),
            },
            Case {
                name: "target volume unreadable",
                op,
                facts: disk(|d| {
                    d.target.volume = None;
                    d.target.probe_error = Some("statvfs: Input/output error".into())
                }),
                denied_by: Some(("target_volume", "cannot read the filesystem of target")),
            },
            Case {
                name: "target on the SSOT volume",
                op,
                facts: disk(|d| d.target.device = Some(1)),
                denied_by: Some(("separate_filesystem", "same filesystem as PGDATA /pgdata")),
            },
            Case {
                name: "PGDATA device unknown",
                op,
                facts: disk(|d| {
                    d.protected[0].device = None;
                    d.protected[0].error = Some("No such file or directory".into())
                }),
                denied_by: Some(("separate_filesystem", "cannot read the device of PGDATA")),
            },
            Case {
                name: "PGDATA not given at all",
                op,
                facts: disk(|d| d.protected.clear()),
                denied_by: Some(("separate_filesystem", "PGDATA is unknown")),
            },
            Case {
                name: "estimate leaves under 10% (but over 1GiB)",
                op,
                facts: disk(|d| d.estimated_bytes = 40 * GIB + 1),
                denied_by: Some(("free_space_pct", "minimum 10%")),
            },
        ]);
        // Free-space boundaries exactly: 10% of 100GiB = 10GiB must remain.
        let mut at = good();
        at.disk.as_mut().unwrap().estimated_bytes = 40 * GIB;
        cases.push(Case {
            name: "estimate leaves exactly 10%",
            op,
            facts: at,
            denied_by: None,
        });
        // A small volume where the 1GiB floor binds before 10% does.
        let small = |est: u64| {
            disk(move |d| {
                d.target.volume = Some(VolumeStats {
                    total_bytes: 5 * GIB,
                    available_bytes: 3 * GIB,
                    free_bytes: None,
                });
                d.estimated_bytes = est;
            })
        };
        cases.push(Case {
            name: "exactly the 1GiB floor remains",
            op,
            facts: small(2 * GIB),
            denied_by: None,
        });
        cases.push(Case {
            name: "1 byte under the 1GiB floor",
            op,
            facts: small(2 * GIB + 1),
            denied_by: Some(("free_space_bytes", "minimum 1GB")),
        });
    }
    cases
}

/// Operations that read contract.status: each way it fails.
fn contract_cases() -> Vec<Case> {
    use Operation::*;
    let mut cases = vec![];
    for op in [Restore, Startup] {
        cases.extend([
            Case {
                name: "contract.status not read",
                op,
                facts: with(|g| g.contract_status = None),
                denied_by: Some(("contract_status_missing", "run `ssot contract check` first")),
            },
            Case {
                name: "contract.status missing",
                op,
                facts: with(|g| {
                    g.contract_status = Some(StateInput::Missing {
                        path: "/s/contract.status".into(),
                    })
                }),
                denied_by: Some(("contract_status_missing", "/s/contract.status is missing")),
            },
            Case {
                name: "contract.status unreadable",
                op,
                facts: with(|g| {
                    g.contract_status = Some(StateInput::Unreadable {
                        path: "/s/contract.status".into(),
                        error: "Is a directory (os error 21)".into(),
                    })
                }),
                denied_by: Some(("contract_status_unreadable", "Is a directory")),
            },
            Case {
                name: "contract.status corrupt",
                op,
                facts: with(|g| g.contract_status = Some(contract_file("MAYBE", 0))),
                denied_by: Some((
                    "contract_status_corrupt",
                    "\"MAYBE\" is not PASS, FAIL or UNKNOWN",
                )),
            },
            Case {
                name: "contract.status stale",
                op,
                facts: with(|g| g.contract_status = Some(contract_file("PASS", -(25 * 3600 + 1)))),
                denied_by: Some(("contract_status_stale", "more than the allowed 25h")),
            },
            Case {
                name: "contract.status future-dated",
                op,
                facts: with(|g| g.contract_status = Some(contract_file("PASS", 3600))),
                denied_by: Some(("contract_status_future_dated", "1h ahead of now")),
            },
            Case {
                name: "contract fails",
                op,
                facts: with(|g| g.contract_status = Some(contract_file("FAIL", 0))),
                denied_by: Some(("contract_pass", "architecture contract fails")),
            },
            Case {
                name: "contract unknown",
                op,
                facts: with(|g| g.contract_status = Some(contract_file("UNKNOWN", 0))),
                denied_by: Some(("contract_pass", "architecture contract is UNKNOWN")),
            },
        ]);
    }
    cases
}

#[test]
fn fail_closed_matrix() {
    use Operation::*;
    let mut cases = vec![];
    cases.extend(state_cases());
    cases.extend(target_cases());
    cases.extend(contract_cases());
    // Operations that do not read a file are not affected by it.
    cases.push(Case {
        name: "backup ignores the contract",
        op: Backup,
        facts: with(|g| g.contract_status = Some(contract_file("FAIL", 0))),
        denied_by: None,
    });
    cases.push(Case {
        name: "startup needs no target",
        op: Startup,
        facts: with(|g| g.disk = None),
        denied_by: None,
    });

    let policy = GatePolicy::default();
    assert!(cases.len() > 100, "matrix has {} cases", cases.len());
    for c in &cases {
        let d = evaluate(c.op, &c.facts, &policy, now());
        let failed: Vec<_> = d.denials().collect();
        match c.denied_by {
            None => assert!(
                d.allowed,
                "{} / {}: expected allowed, got {:?}",
                c.op, c.name, failed
            ),
            Some((rule, phrase)) => {
                assert!(!d.allowed, "{} / {}: expected denied", c.op, c.name);
                assert_eq!(
                    failed.len(),
                    1,
                    "{} / {}: exactly one failed check, got {:?}",
                    c.op,
                    c.name,
                    failed
                );
                assert_eq!(failed[0].rule, rule, "{} / {}", c.op, c.name);
                assert!(
                    failed[0].message.contains(phrase),
                    "{} / {}: {:?} should contain {:?}",
                    c.op,
                    c.name,
                    failed[0].message,
                    phrase
                );
                // Failed checks come first so a reader sees them at once.
                assert!(!d.reasons[0].passed, "{} / {}", c.op, c.name);
            }
        }
    }
}

#[test]
fn boundaries_of_freshness_are_inclusive() {
    let policy = GatePolicy::default();
    for (offset, allowed) in [(-600, true), (-601, false), (60, true), (61, false)] {
        let facts = GateFacts {
            wal_status: wal_file("OK", offset),
            ..good()
        };
        let d = evaluate(Operation::Backup, &facts, &policy, now());
        assert_eq!(
            d.allowed,
            allowed,
            "offset {offset}: {:?}",
            d.denials().collect::<Vec<_>>()
        );
    }
}

#[test]
fn estimate_larger_than_available_space_fails_both_floors() {
    let facts = disk(|d| d.estimated_bytes = 51 * GIB);
    let d = evaluate(Operation::Backup, &facts, &GatePolicy::default(), now());
    let rules: Vec<_> = d.denials().map(|c| c.rule.as_str()).collect();
    assert_eq!(rules, ["free_space_pct", "free_space_bytes"]);
}

#[test]
fn decision_serializes_with_the_documented_fields() {
    let d = evaluate(Operation::Backup, &good(), &GatePolicy::default(), now());
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["allowed"], true);
    assert_eq!(v["operation"], "backup");
    let reasons = v["reasons"].as_array().unwrap();
    assert!(reasons
        .iter()
        .all(|r| r["rule"].is_string() && r["message"].is_string() && r["passed"].is_boolean()));
}
