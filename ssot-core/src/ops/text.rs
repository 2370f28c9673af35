//! The text every surface prints: `Display` for each result. Moved here
//! from the CLI so that the CLI, Python and Rhai print the same words.

use std::fmt::{self, Write};
use std::path::Path;

use super::results::{
    is_line_file, parsed, BackupRecorded, ConfigView, DrDrillRecorded, RestoreDrillRecorded,
    RetentionPlanned, StageChecks, StatusView, VerifyOutcome,
};
use super::{ApplyOutcome, WalCheck};
use crate::contract::{ContractReport, InvariantStatus, LimitationStatus};
use crate::decision::Decision;
use crate::num::{human_bytes, human_secs, pct};
use crate::report::Report;
use crate::retention::{Action, RetentionPlan};
use crate::stages::StageCheck;
use crate::state::{parse_timestamp, timestamp, StateInput};
use crate::wal::WalReport;

fn wal_check(c: &WalCheck) -> String {
    wal_text(
        &c.report,
        c.pg_wal.as_deref(),
        Some(&c.settings_source),
        &c.notes,
    )
}

/// A WAL report; `pg_wal` and `source` (of the declared settings) when known.
fn wal_text(
    r: &WalReport,
    pg_wal: Option<&Path>,
    source: Option<&str>,
    notes: &[String],
) -> String {
    let failed = r.measures.wal_size.is_none();
    let mut s = String::new();
    let _ = writeln!(s, "WAL status: {}", r.status);
    if let (Some(size), Some(segs)) = (r.measures.wal_size, r.measures.segment_count) {
        let _ = writeln!(
            s,
            "  pg_wal      {} in {segs} segment(s), {} .ready{}",
            human_bytes(size),
            r.measures.ready_count.unwrap_or(0),
            pg_wal
                .map(|p| format!("  ({})", p.display()))
                .unwrap_or_default()
        );
    }
    if let (Some(p), Some(total), Some(avail)) = (
        r.measures.wal_used_pct,
        r.measures.volume_total_bytes,
        r.measures.volume_available_bytes,
    ) {
        let _ = writeln!(
            s,
            "  volume      {} used{} (near-limit threshold {}), {} available of {}",
            pct(p),
            r.df_used_pct
                .map(|d| format!(", df {}", pct(d)))
                .unwrap_or_default(),
            pct(r.measures.threshold_pct),
            human_bytes(avail),
            human_bytes(total)
        );
    }
    for v in &r.volumes {
        let _ = writeln!(
            s,
            "  volume      {} used{}, {} available of {}: {}",
            pct(v.used_pct),
            v.df_used_pct
                .map(|d| format!(", df {}", pct(d)))
                .unwrap_or_default(),
            human_bytes(v.available_bytes),
            human_bytes(v.total_bytes),
            v.holds
        );
    }
    if !failed {
        let _ = writeln!(
            s,
            "  soft limit  {} (max_wal_size + the larger of wal_keep_size and what active slots retain + {} segments{})",
            human_bytes(r.measures.soft_limit_bytes),
            crate::wal::STEADY_STATE_SEGMENTS,
            source.map(|x| format!(", from {x}")).unwrap_or_default()
        );
    }
    match (
        r.measures.wal_growth_bytes_per_second,
        r.measures.seconds_to_error,
    ) {
        _ if failed => {}
        (Some(rate), ttf) => {
            let _ = writeln!(
                s,
                "  growth      pg_wal {:+.0} B/s over {} samples{}",
                rate,
                r.samples_in_window,
                ttf.map(|t| format!("; volume reaches its error threshold in {}", human_secs(t)))
                    .unwrap_or_default()
            );
        }
        (None, _) => {
            let _ = writeln!(
                s,
                "  growth      not judged yet ({} sample(s) in the window)",
                r.samples_in_window
            );
        }
    }
    for line in r.measures.text_lines() {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(s, "  checked_at  {}", timestamp(r.checked_at));
    if !r.reasons.is_empty() {
        let _ = writeln!(s, "reasons:");
        for reason in &r.reasons {
            let _ = writeln!(
                s,
                "  {:<10}  {}: {}",
                reason.level.as_str(),
                reason.rule,
                reason.message
            );
        }
    }
    for n in notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// `verbose = false` lists only failed checks and counts the passed ones.
fn decision_with(d: &Decision, verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "gate {}: {}",
        d.operation,
        if d.allowed { "ALLOWED" } else { "DENIED" }
    );
    let passed = d.reasons.iter().filter(|c| c.passed).count();
    for c in d.reasons.iter().filter(|c| verbose || !c.passed) {
        let _ = writeln!(
            s,
            "  {} {}: {}",
            if c.passed { "ok  " } else { "DENY" },
            c.rule,
            c.message
        );
    }
    if !verbose && passed > 0 {
        let _ = writeln!(s, "  ok   {passed} other check(s) passed");
    }
    s
}

fn status_text(v: &StatusView) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "state directory {} (now {})",
        v.state_dir,
        timestamp(v.now)
    );
    let now = v.now;
    for (name, input) in &v.files {
        match input {
            StateInput::Missing { .. } => {
                let _ = writeln!(s, "{name}: missing");
            }
            StateInput::Unreadable { error, .. } => {
                let _ = writeln!(s, "{name}: UNREADABLE: {error}");
            }
            StateInput::Invalid { problem, .. } => {
                let _ = writeln!(s, "{name}: REFUSED: {problem}");
            }
            StateInput::Present { path, content } => {
                let _ = writeln!(s, "{name}:");
                let text = String::from_utf8_lossy(content);
                let parsed = parsed(name, path, content);
                if let (false, Err(e)) = (is_line_file(name), &parsed) {
                    let _ = writeln!(s, "  CORRUPT: {e}");
                }
                for line in text
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                {
                    let _ = writeln!(s, "  {line}");
                }
                if let Ok(f) = parsed {
                    if let Some(at) = f.get("checked_at").and_then(|v| parse_timestamp(v).ok()) {
                        let age = (now - at).num_seconds();
                        let _ = writeln!(
                            s,
                            "  (checked {} {})",
                            human_secs(age.unsigned_abs() as f64),
                            if age >= 0 { "ago" } else { "IN THE FUTURE" }
                        );
                    }
                }
            }
        }
    }
    s
}

fn plan_body(p: &RetentionPlan) -> String {
    let mut s = String::new();
    let mut group = None;
    for d in &p.decisions {
        if group != Some(&d.group) {
            let _ = writeln!(s, "group {}:", d.group);
            group = Some(&d.group);
        }
        let _ = writeln!(
            s,
            "  {:<6}  {}  {:>8}  {}  — {}",
            match d.action {
                Action::Keep => "keep",
                Action::Delete => "DELETE",
            },
            timestamp(d.created_at),
            d.size_bytes.map(human_bytes).unwrap_or_else(|| "?".into()),
            d.id,
            d.reasons
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let m = &p.summary;
    let _ = writeln!(
        s,
        "keep {} ({}), delete {} (frees {}), {} verified kept",
        m.kept,
        human_bytes(m.kept_bytes),
        m.deleted,
        human_bytes(m.freed_bytes),
        m.verified_kept
    );
    for w in &p.warnings {
        let _ = writeln!(s, "WARNING: {w}");
    }
    let _ = writeln!(s, "plan_hash {}", p.plan_hash);
    s
}

fn retention_plan(p: &RetentionPlan, profile: &str) -> String {
    let mut s = format!("retention plan ({profile}), as of {}\n", timestamp(p.now));
    s.push_str(&plan_body(p));
    if let Some(r) = &p.refused {
        let _ = writeln!(s, "REFUSED: {r}");
    }
    s
}

fn retention_apply(o: &ApplyOutcome, profile: &str) -> String {
    let mut s = format!(
        "retention apply ({profile}), as of {}\n",
        timestamp(o.plan.now)
    );
    for r in &o.recovered {
        let _ = writeln!(
            s,
            "recovered: finished deleting {r}, left half-done by an interrupted run"
        );
    }
    if let Some(h) = &o.resumed {
        let _ = writeln!(
            s,
            "continuing reviewed plan {h}: this run applies what remains of it"
        );
    }
    s.push_str(&plan_body(&o.plan));
    if o.dry_run {
        let _ = writeln!(s, "DRY RUN: nothing deleted.");
    } else if let Some(r) = &o.refused {
        let _ = writeln!(s, "REFUSED, nothing deleted: {r}");
    } else {
        let _ = writeln!(s, "deleted {}: {}", o.deleted.len(), o.deleted.join(", "));
    }
    s
}

fn contract(r: &ContractReport) -> String {
    let mut s = format!(
        "contract {} at {} ({})\n",
        r.status.as_str(),
        timestamp(r.checked_at),
        r.deployment.as_str()
    );
    let mut inv: Vec<_> = r.invariants.iter().collect();
    inv.sort_by_key(|i| match i.status {
        InvariantStatus::Fail => 0,
        InvariantStatus::Unknown => 1,
        InvariantStatus::Pass => 2,
        InvariantStatus::NotApplicable => 3,
    });
    for i in inv {
        let label = match i.status {
            InvariantStatus::NotApplicable => "N/A".to_string(),
            s => s.as_str().to_uppercase(),
        };
        let _ = writeln!(s, "  {:<7}  {:<27}  {}", label, i.id.as_str(), i.message);
        if i.status == InvariantStatus::Fail {
            for e in &i.evidence {
                let _ = writeln!(s, "  {:<7}  {:<27}    evidence: {e}", "", "");
            }
        }
    }
    let _ = writeln!(s, "declared limitations:");
    for l in &r.limitations {
        let st = match l.status {
            LimitationStatus::Off => "off",
            LimitationStatus::On => "ON",
            LimitationStatus::Unverified => "unverified",
        };
        // A contradiction's message already quotes its evidence.
        let text = if l.status == LimitationStatus::Off {
            format!("{} ({})", l.message, l.evidence.join("; "))
        } else {
            l.message.clone()
        };
        let _ = writeln!(s, "  {:<10}  {:<15}  {text}", st, l.name);
    }
    s
}

fn stages(checks: &[StageCheck]) -> String {
    let mut s = String::new();
    if checks.is_empty() {
        let _ = writeln!(s, "stages: {}", crate::stages::NONE_CONFIGURED);
        return s;
    }
    let bad = checks.iter().filter(|c| !c.consistent).count();
    let _ = writeln!(
        s,
        "stages: {} of {} claims backed by evidence",
        checks.len() - bad,
        checks.len()
    );
    for c in checks {
        let _ = writeln!(
            s,
            "  {:<12}  STAGE {:<5} {:<45}  {}{}",
            if c.consistent {
                "consistent"
            } else {
                "INCONSISTENT"
            },
            c.id,
            c.title,
            c.claimed,
            if c.final_ { " (final)" } else { "" }
        );
        for m in &c.missing {
            let _ = writeln!(s, "  {:<12}    missing: {m}", "");
        }
    }
    s
}

/// A WAL report on its own (from the pure evaluator): where pg_wal is and
/// where the settings came from are not part of it.
impl fmt::Display for WalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&wal_text(self, None, None, &[]))
    }
}

impl fmt::Display for WalCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&wal_check(self))
    }
}

/// Every check of a decision, passed ones included.
impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decision_with(self, true))
    }
}

/// A decision in brief: the failed checks, and how many others passed.
#[derive(Debug, Clone, Copy)]
pub struct Brief<'a>(pub &'a Decision);

impl fmt::Display for Brief<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&decision_with(self.0, false))
    }
}

impl fmt::Display for RetentionPlanned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&retention_plan(&self.plan, &self.profile))?;
        f.write_str(&crate::retention::catalog::render_commands(
            &self.commands,
            &self.plan.plan_hash,
        ))
    }
}

impl fmt::Display for ApplyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&retention_apply(self, &self.profile))
    }
}

impl fmt::Display for ContractReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&contract(self))
    }
}

impl fmt::Display for StageChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&stages(&self.0))
    }
}

impl fmt::Display for BackupRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.evidence;
        writeln!(
            f,
            "recorded backup {} ({}, {}) at {} in {}; location {}; on another filesystem than PGDATA, pg_wal and the state directory: {}",
            e.artifact,
            e.result.as_str(),
            e.size_bytes
                .map(human_bytes)
                .unwrap_or_else(|| "size unknown".into()),
            timestamp(e.finished_at),
            self.state_file,
            e.location,
            e.separate_from_pgdata
                .map(|b| if b { "yes" } else { "NO" })
                .unwrap_or("unknown")
        )?;
        if let Some(h) = &e.sha256 {
            writeln!(f, "sha256 {h}")?;
        }
        if let Some(fm) = &e.format {
            writeln!(f, "format {fm}")?;
        }
        for w in &e.warnings {
            writeln!(f, "WARNING: {w}")?;
        }
        Ok(())
    }
}

impl fmt::Display for VerifyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            match &c.problem {
                Some(p) => writeln!(f, "{:<11} {} in {}: {p}", c.result, c.artifact, c.location)?,
                None => writeln!(f, "{:<11} {} in {}", c.result, c.artifact, c.location)?,
            }
        }
        writeln!(
            f,
            "{} recorded backup(s) re-read, {} failed; recorded in {}",
            self.checks.len(),
            self.failed,
            self.state_file
        )
    }
}

impl fmt::Display for RestoreDrillRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = &self.marked_verified {
            writeln!(f, "marked {} verified for retention", m.display())?;
        }
        writeln!(
            f,
            "recorded restore drill of {}: {}",
            self.evidence.artifact,
            self.result.as_str()
        )
    }
}

impl fmt::Display for DrDrillRecorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.outcome;
        writeln!(
            f,
            "DR drill \"{}\": RTO {} (target {}), RPO {} (target {}): {}",
            self.scenario,
            human_secs(o.rto_seconds as f64),
            self.rto_target,
            human_secs(o.rpo_seconds as f64),
            self.rpo_target,
            if o.passed { "PASS" } else { "FAIL" }
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::report::render::text(self))
    }
}

impl fmt::Display for StatusView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&status_text(self))
    }
}

impl fmt::Display for ConfigView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# effective configuration: {}", self.origin)?;
        f.write_str(&self.config.to_toml())
    }
}
