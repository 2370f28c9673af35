//! The report's evidence sections: backups, restore drills, DR drills.

use chrono::{DateTime, Utc};

use super::{Metric, Section, Verdict};
use crate::evidence::{BackupResult, EvidencePolicy};
use crate::num::{human_bytes, human_secs};
use crate::state::{
    load_trusted, timestamp, BackupStatusRecord, DrDrillRecord, Freshness, Record,
    RestoreDrillRecord, StateInput, Trust, Untrusted,
};

/// How each evidence file is written again: the action when it is missing,
/// stale or unreadable.
const RECORD: [(&str, &str); 3] = [
    ("backup", "take a backup through the gate (`ssot gate backup -- COMMAND`) and record it with `ssot evidence backup`"),
    ("restore_drill", "restore the newest backup into a scratch instance (the restore_drill.rhai runbook does it) and record it with `ssot evidence restore-drill`"),
    ("dr_drill", "run a DR drill and record it with `ssot evidence dr-drill`"),
];

fn record_action(name: &str) -> String {
    RECORD
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, a)| a)
        .to_string()
}

/// What a report section can show of an evidence record: the record (fresh
/// or not) and why it is not fresh; a DEGRADED section when the file is
/// unreadable, refused or corrupt; `None` when it is absent.
enum Loaded<R> {
    Record(R, Option<Untrusted>),
    Absent,
    Broken(Section),
}

fn load<R: Record>(
    input: &StateInput,
    name: &str,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Loaded<R> {
    match load_trusted::<R>(input, freshness, now) {
        Trust::Fresh { record, .. } | Trust::Undated(record) => Loaded::Record(record, None),
        Trust::Dated { record, why } => Loaded::Record(record, Some(why)),
        Trust::Absent(Untrusted::Missing(_)) => Loaded::Absent,
        // Evidence is recorded into the file (earlier keys kept): one that
        // cannot be read is refused by the next record, so the action says
        // to repair it first (found by attack).
        Trust::Absent(u) => {
            let summary = match &u {
                Untrusted::Corrupt(e) => format!("corrupt: {e}"),
                other => other.to_string(),
            };
            Loaded::Broken(
                Section::new(name, Verdict::Degraded, summary).with_action(super::repair_then(
                    &u,
                    &record_action(name),
                    false,
                )),
            )
        }
    }
}

/// The backup section: the newest complete backup's age against the backup
/// RPO (`freshness.backup`), on a filesystem known to be separate from PGDATA.
pub fn backup_section(input: &StateInput, freshness: &Freshness, now: DateTime<Utc>) -> Section {
    let (rec, dated) = match load::<BackupStatusRecord>(input, "backup", freshness, now) {
        Loaded::Record(r, d) => (r, d),
        Loaded::Absent => {
            return Section::new("backup", Verdict::Degraded, "no backup recorded (ssot evidence backup ...): data loss on a failure of the database volume would be total")
                .with_action(record_action("backup"))
        }
        Loaded::Broken(s) => return s,
    };
    let Some(b) = rec.last_complete else {
        let last = rec.last_result.map(BackupResult::as_str).unwrap_or("?");
        return Section::new(
            "backup",
            Verdict::Degraded,
            format!("no complete backup recorded (last attempt: {last})"),
        )
        .with_action(record_action("backup"));
    };
    let age = (now - b.at).num_seconds();
    let artifact = &b.artifact;
    let mut s = match dated {
        Some(Untrusted::FutureDated { .. }) => Section::new(
            "backup",
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is dated in the future ({})",
                timestamp(b.at)
            ),
        )
        .with_action(
            "check the clock (timedatectl; NTP) of the host that recorded it, then take a backup",
        ),
        Some(_) => Section::new(
            "backup",
            Verdict::Degraded,
            format!(
                "newest complete backup {artifact} is {} old, more than the backup RPO {}",
                human_secs(age as f64),
                freshness.backup
            ),
        )
        .with_action(record_action("backup")),
        None => Section::new(
            "backup",
            Verdict::Ok,
            format!(
                "newest complete backup {artifact} is {} old (backup RPO {})",
                human_secs(age.max(0) as f64),
                freshness.backup
            ),
        ),
    };
    if let (Some(r), Some(last)) = (rec.last_result, &rec.last) {
        if r != BackupResult::Complete {
            s.raise(
                Verdict::Degraded,
                &format!(
                    "the latest backup attempt ended {} at {}",
                    r.as_str(),
                    timestamp(last.at)
                ),
                Some("find why the latest backup failed (its job's log) and run it again".into()),
            );
        }
    }
    match b.separate_from_pgdata {
        Some(true) => {}
        Some(false) => s.raise(
            Verdict::Degraded,
            "the newest complete backup is on the same filesystem as PGDATA, pg_wal or the state directory",
            Some("point gate.targets.backup at another volume and take a backup there: a backup on PGDATA's volume dies with it".into()),
        ),
        None => s.raise(
            Verdict::Degraded,
            "the newest complete backup's filesystem is unknown: it is not proven to be off the SSOT volume",
            Some("record backups with PGDATA known (`ssot evidence backup --pgdata DIR`, or postgres.pgdata set) so that their filesystem is checked".into()),
        ),
    }
    s.details.push(format!("location {}", b.location));
    if let Some(bytes) = b.size_bytes {
        s.details.push(format!("size {}", human_bytes(bytes)));
        s.metrics.push(Metric::new(
            "backup_last_complete_size_bytes",
            "Size of the newest complete backup",
            bytes as f64,
        ));
    }
    s.metrics.push(Metric::new(
        "backup_last_complete_timestamp_seconds",
        "Time of the newest complete backup",
        b.at.timestamp() as f64,
    ));
    s.metrics.push(Metric::new(
        "backup_age_seconds",
        "Age of the newest complete backup",
        age.max(0) as f64,
    ));
    s
}

/// The restore-drill section: the last passed drill's age and the newest verified backup.
pub fn restore_drill_section(
    input: &StateInput,
    freshness: &Freshness,
    now: DateTime<Utc>,
) -> Section {
    let (rec, dated) = match load::<RestoreDrillRecord>(input, "restore_drill", freshness, now) {
        Loaded::Record(r, d) => (r, d),
        Loaded::Absent => {
            return Section::new(
                "restore_drill",
                Verdict::Degraded,
                "no restore drill recorded: recoverability is not proven",
            )
            .with_action(record_action("restore_drill"))
        }
        Loaded::Broken(s) => return s,
    };
    let mut s = match &rec.last_pass {
        None => Section::new(
            "restore_drill",
            Verdict::Degraded,
            "no restore drill has passed",
        )
        .with_action(record_action("restore_drill")),
        Some((at, artifact)) => {
            let age = (now - *at).num_seconds();
            let mut s = match dated {
                Some(Untrusted::FutureDated { .. }) => Section::new(
                    "restore_drill",
                    Verdict::Degraded,
                    format!(
                        "last passed drill ({artifact}) is dated in the future ({})",
                        timestamp(*at)
                    ),
                )
                .with_action("check the clock (timedatectl; NTP) of the host that recorded it, then run a restore drill"),
                Some(_) => Section::new(
                    "restore_drill",
                    Verdict::Degraded,
                    format!(
                        "last passed drill ({artifact}) is {} old, more than {}",
                        human_secs(age as f64),
                        freshness.restore_drill
                    ),
                )
                .with_action(record_action("restore_drill")),
                None => Section::new("restore_drill", Verdict::Ok, format!("last passed drill restored {artifact} {} ago; newest verified backup {artifact}", human_secs(age.max(0) as f64))),
            };
            s.metrics.push(Metric::new(
                "restore_drill_last_pass_timestamp_seconds",
                "Time of the last passed restore drill",
                at.timestamp() as f64,
            ));
            s
        }
    };
    if rec.last_passed == Some(false) {
        let problem = format!(
            "the latest drill FAILED at {} ({})",
            rec.last_drill_at
                .map(timestamp)
                .unwrap_or_else(|| "?".into()),
            rec.last_artifact.as_deref().unwrap_or("?")
        );
        s.raise(
            Verdict::Degraded,
            &problem,
            Some("find why the latest restore drill failed before relying on that backup, then run the drill again".into()),
        );
        // Failures first.
        if let Some(p) = s.details.pop() {
            s.details.insert(0, p);
        }
    }
    if !rec.verified_artifacts.is_empty() {
        let each: Vec<String> = rec
            .verified_artifacts
            .iter()
            .zip(rec.verified_until.iter().chain(std::iter::repeat(&None)))
            .map(|(a, until)| match until {
                Some(u) if *u > now => format!("{a} (until {})", timestamp(*u)),
                Some(u) => format!("{a} (expired {})", timestamp(*u)),
                None => format!("{a} (no expiry recorded)"),
            })
            .collect();
        s.details.push(format!(
            "verified artifacts, newest first: {}",
            each.join(", ")
        ));
    }
    s
}

/// The DR-drill section: measured RTO/RPO against the targets. Without any
/// drill it is informational: the architecture declares no SLA/RPO/RTO.
pub fn dr_drill_section(
    input: &StateInput,
    freshness: &Freshness,
    policy: &EvidencePolicy,
    now: DateTime<Utc>,
) -> Section {
    let (rec, dated) = match load::<DrDrillRecord>(input, "dr_drill", freshness, now) {
        Loaded::Record(r, d) => (r, d),
        Loaded::Absent => {
            return Section::new(
                "dr_drill",
                Verdict::Ok,
                format!("no DR drill recorded: RTO/RPO unmeasured (targets RTO {}, RPO {}; no SLA is declared)", policy.rto_target, policy.rpo_target),
            )
        }
        Loaded::Broken(s) => return s,
    };
    let (rto, rpo) = (rec.rto_seconds, rec.rpo_seconds);
    let figures = format!(
        "RTO {} (target {}), RPO {} (target {})",
        rto.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rto_target,
        rpo.map(|v| human_secs(v as f64))
            .unwrap_or_else(|| "?".into()),
        policy.rpo_target
    );
    let met = rto.is_some_and(|v| v <= policy.rto_target.as_secs())
        && rpo.is_some_and(|v| v <= policy.rpo_target.as_secs());
    let age = (now - rec.last_drill_at).num_seconds();
    let scenario = &rec.scenario;
    let mut s = if !met {
        Section::new(
            "dr_drill",
            Verdict::Degraded,
            format!("DR drill \"{scenario}\" missed its targets: {figures}"),
        )
        .with_action("shorten the recovery path (or revisit evidence.rto_target and rpo_target), then run the DR drill again")
    } else if let Some(Untrusted::FutureDated { .. }) = dated {
        Section::new(
            "dr_drill",
            Verdict::Degraded,
            format!(
                "last DR drill is dated in the future ({}); it met {figures}",
                timestamp(rec.last_drill_at)
            ),
        )
        .with_action(
            "check the clock (timedatectl; NTP) of the host that recorded it, then run a DR drill",
        )
    } else if dated.is_some() {
        Section::new(
            "dr_drill",
            Verdict::Degraded,
            format!(
                "last DR drill is {} old, more than {}; it met {figures}",
                human_secs(age as f64),
                freshness.dr_drill
            ),
        )
        .with_action(record_action("dr_drill"))
    } else {
        Section::new(
            "dr_drill",
            Verdict::Ok,
            format!("DR drill \"{scenario}\" met its targets: {figures}"),
        )
    };
    if let Some(v) = rto {
        s.metrics.push(Metric::new(
            "dr_drill_rto_seconds",
            "Measured RTO of the last DR drill",
            v as f64,
        ));
    }
    if let Some(v) = rpo {
        s.metrics.push(Metric::new(
            "dr_drill_rpo_seconds",
            "Measured RPO of the last DR drill",
            v as f64,
        ));
    }
    s.metrics.push(Metric::new(
        "dr_drill_last_timestamp_seconds",
        "Time of the last DR drill",
        rec.last_drill_at.timestamp() as f64,
    ));
    s
}
