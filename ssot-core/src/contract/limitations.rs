//! The declared limitations (seed ARCHITECTURE SIGNATURE), each checked to
//! really be off.

use super::archive::ARCHIVE_ARGS;
use super::guc;
use super::{process_lines, ContractConfig, ContractInputs, Limitation, LimitationStatus};
use crate::inputs::{Mount, Replicas};

fn limitation(name: &str, on: Vec<String>, off: Vec<String>, none: &str) -> Limitation {
    let (status, evidence, message) = if !on.is_empty() {
        (
            LimitationStatus::On,
            on.clone(),
            format!("declared off, but {}", on.join("; ")),
        )
    } else if !off.is_empty() {
        (
            LimitationStatus::Off,
            off.clone(),
            "confirmed off".to_string(),
        )
    } else {
        (LimitationStatus::Unverified, vec![], none.to_string())
    };
    Limitation {
        name: name.into(),
        status,
        evidence,
        message,
    }
}

pub(super) fn limitations(inputs: &ContractInputs, contract: &ContractConfig) -> Vec<Limitation> {
    let sts = inputs.statefulset.as_ref();
    let ps = inputs.processes.as_ref();
    let mut out = Vec::new();
    let declared = |n: &str| contract.declared_limitations.iter().any(|l| l == n);

    // WAL archive.
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let Some(s) = sts {
        let args: Vec<String> = ARCHIVE_ARGS
            .iter()
            .filter_map(|a| s.value.settings.get(*a))
            .map(|a| format!("{} in {}", a.arg, s.origin))
            .collect();
        if args.is_empty() {
            off.push(format!("no archive args in {}", s.origin))
        } else {
            on.extend(args)
        }
    }
    if let Some(p) = ps {
        let arch: Vec<String> = process_lines(p, |x| x.is_pg("archiver"));
        if arch.is_empty() {
            off.push(format!("no archiver process in {}", p.origin))
        } else {
            on.extend(arch)
        }
    }
    if let Some((v, at)) = rt_word(inputs, "archive_mode") {
        if v == "off" {
            off.push(format!("archive_mode = off ({at})"))
        } else {
            on.push(format!("archive_mode = {v} ({at})"))
        }
    }
    let archive_on = !on.is_empty();
    let archive_off_confirmed = on.is_empty() && !off.is_empty();
    if declared("wal_archive") {
        out.push(limitation(
            "wal_archive",
            on,
            off,
            "not verified: give the statefulset, processes or settings input",
        ));
    }

    // PITR: impossible without a WAL archive; contradicted by a recovery setup.
    if declared("pitr") {
        out.push(pitr(inputs, archive_on, archive_off_confirmed));
    }

    // pg_basebackup: no base backup running or recorded.
    if declared("pg_basebackup") {
        out.push(pg_basebackup(inputs));
    }

    // Offsite backup: the recorded backup location is local.
    if declared("offsite_backup") {
        out.push(offsite_backup(inputs));
    }

    // HA / replication: one replica, no walsender/walreceiver, no slots, no primary_conninfo.
    if declared("ha_replication") {
        out.push(ha_replication(inputs));
    }

    // SLA/RPO/RTO: a promise is not an observable fact.
    if declared("sla_rpo_rto") {
        out.push(limitation(
            "sla_rpo_rto",
            vec![],
            vec![],
            "declared only: no observable fact can show that a guarantee is or is not in force; DR drills measure RTO/RPO as goals, never as guarantees",
        ));
    }

    // Filesystem quota on the backup target.
    if declared("fs_quota") {
        out.push(fs_quota(inputs));
    }

    out
}

/// A runtime setting's value (unquoted, lowercase) and where it was read.
fn rt_word(inputs: &ContractInputs, name: &str) -> Option<(String, String)> {
    let r = inputs.settings.as_ref()?.value.get(name)?;
    Some((guc::unquote(&r.setting).to_ascii_lowercase(), r.at.clone()))
}

/// `pitr`: impossible without a WAL archive; contradicted by a recovery setup.
fn pitr(inputs: &ContractInputs, archive_on: bool, archive_off_confirmed: bool) -> Limitation {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for n in [
        "restore_command",
        "recovery_target_time",
        "recovery_target_lsn",
        "recovery_target_xid",
        "recovery_target_name",
    ] {
        if let Some((v, at)) = rt_word(inputs, n) {
            if !v.is_empty() {
                on.push(format!("{n} = {v} ({at})"));
            }
        }
    }
    if archive_on {
        on.push("a WAL archive is configured (see wal_archive)".into());
    }
    if on.is_empty() && archive_off_confirmed {
        off.push("no WAL archive (see wal_archive), and PITR needs one".into());
    }
    limitation(
        "pitr",
        on,
        off,
        "not verified: give the settings input and the statefulset or processes input",
    )
}

/// `pg_basebackup`: no base backup running or recorded.
fn pg_basebackup(inputs: &ContractInputs) -> Limitation {
    let ps = inputs.processes.as_ref();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let Some(p) = ps {
        let hits: Vec<String> = process_lines(p, |x| {
            x.command
                .split_whitespace()
                .next()
                .is_some_and(|c| c.ends_with("pg_basebackup"))
        });
        if hits.is_empty() {
            off.push(format!("no pg_basebackup process in {}", p.origin))
        } else {
            on.extend(hits)
        }
    }
    limitation(
        "pg_basebackup",
        on,
        off,
        "not verified: give the processes input",
    )
}

/// `offsite_backup`: the recorded backup location is local.
fn offsite_backup(inputs: &ContractInputs) -> Limitation {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let Some(loc) = &inputs.backup_location {
        let l = &loc.value;
        let remote = l.contains("://") || (l.contains(':') && !l.starts_with('/'));
        if remote {
            on.push(format!("backup location {l} ({})", loc.origin))
        } else {
            off.push(format!("backup location {l} is local ({})", loc.origin))
        }
    }
    limitation(
        "offsite_backup",
        on,
        off,
        "not verified: no backup recorded (ssot evidence backup)",
    )
}

/// `ha_replication`: one replica, no walsender/walreceiver, no slots, no primary_conninfo.
fn ha_replication(inputs: &ContractInputs) -> Limitation {
    let sts = inputs.statefulset.as_ref();
    let ps = inputs.processes.as_ref();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let Some(s) = sts {
        let line = format!("spec.replicas = {} ({})", s.value.replicas, s.origin);
        match s.value.replicas {
            Replicas::Count(n) if n > 1 => on.push(line),
            Replicas::Count(_) => off.push(line),
            Replicas::Invalid(_) => {} // proves neither
        }
    }
    if let Some(p) = ps {
        let hits: Vec<String> =
            process_lines(p, |x| x.is_pg("walsender") || x.is_pg("walreceiver"));
        if hits.is_empty() {
            off.push(format!("no walsender or walreceiver in {}", p.origin))
        } else {
            on.extend(hits)
        }
    }
    if let Some(sl) = &inputs.slots {
        if sl.value.is_empty() {
            off.push(format!("no replication slots ({})", sl.origin))
        } else {
            on.push(format!(
                "replication slots {} ({})",
                sl.value
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                sl.origin
            ))
        }
    }
    if let Some(Ok(l)) = inputs.live.as_ref().map(|l| &l.value) {
        if l.in_recovery {
            on.push(format!(
                "pg_is_in_recovery() is true ({}): this server is a standby",
                l.server
            ))
        } else {
            off.push(format!(
                "pg_is_in_recovery() is false ({}): a primary",
                l.server
            ))
        }
    }
    if let Some((v, at)) = rt_word(inputs, "primary_conninfo") {
        if v.is_empty() {
            off.push(format!("primary_conninfo is empty ({at}): not a standby"))
        } else {
            on.push(format!("primary_conninfo is set ({at}): this is a standby"))
        }
    }
    limitation(
        "ha_replication",
        on,
        off,
        "not verified: give the statefulset, processes, slots or settings input",
    )
}

/// `fs_quota`: no quota option on the filesystem holding the backup target.
fn fs_quota(inputs: &ContractInputs) -> Limitation {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    if let (Some(m), Some(target)) = (&inputs.mounts, &inputs.backup_target) {
        let mp = m
            .value
            .iter()
            .filter(|m| {
                *target == m.point
                    || target.starts_with(&format!("{}/", m.point.trim_end_matches('/')))
                    || m.point == "/"
            })
            .max_by_key(|m| m.point.len());
        if let Some(Mount { point, options }) = mp {
            let q: Vec<&str> = options
                .split(',')
                .filter(|o| o.contains("quota") || o.starts_with("prjquota"))
                .collect();
            if q.is_empty() {
                off.push(format!(
                    "{point} (holding {target}) has no quota options ({})",
                    m.origin
                ))
            } else {
                on.push(format!(
                    "{point} (holding {target}) is mounted with {} ({})",
                    q.join(","),
                    m.origin
                ))
            }
        }
    }
    limitation(
        "fs_quota",
        on,
        off,
        "not verified: give the mounts input (/proc/mounts)",
    )
}
