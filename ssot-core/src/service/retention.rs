//! Retention as a whole operation: list, plan, and (only when asked) apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Host;
use crate::error::{Error, Result};
use crate::retention::source::artifacts_from_entries;
use crate::retention::{plan, Artifact, RetentionPlan, RetentionPolicy};
use crate::state::{self, timestamp};
use crate::statefile::StateFile;

/// Where artifacts come from.
#[derive(Debug, Clone)]
pub enum RetentionSource {
    /// The entries of a directory (see [`crate::retention::source`]).
    Dir {
        /// The artifact root.
        root: PathBuf,
        /// strftime pattern for creation times in names.
        pattern: Option<String>,
    },
    /// A catalog of artifacts; `root`, if given, is where their ids live as entries.
    Catalog {
        /// The artifacts.
        artifacts: Vec<Artifact>,
        /// Directory holding them, for apply.
        root: Option<PathBuf>,
    },
}

/// A plan with what is needed to carry it out.
#[derive(Debug, Clone)]
pub struct PlannedRetention {
    /// The plan (its warnings include those of the source).
    pub plan: RetentionPlan,
    /// The resolved artifact root, if any.
    pub root: Option<PathBuf>,
    /// Sidecar markers per artifact id (directory sources).
    pub sidecars: BTreeMap<String, Vec<String>>,
}

/// Lists the source and plans. Reads only.
pub fn retention_plan(
    host: &Host,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<PlannedRetention> {
    let tz = policy.tz()?;
    let (artifacts, sidecars, source_warnings, root) = match source {
        RetentionSource::Dir { root, pattern } => {
            let root = host.artifacts.resolve(root)?;
            let entries = host.artifacts.list(&root)?;
            let l = artifacts_from_entries(&entries, pattern.as_deref(), tz);
            (l.artifacts, l.sidecars, l.warnings, Some(root))
        }
        RetentionSource::Catalog { artifacts, root } => {
            let root = root
                .as_deref()
                .map(|r| host.artifacts.resolve(r))
                .transpose()?;
            (artifacts.clone(), BTreeMap::new(), Vec::new(), root)
        }
    };
    let mut plan = plan(&artifacts, policy, now)?;
    let mut warnings = source_warnings;
    warnings.append(&mut plan.warnings);
    plan.warnings = warnings;
    Ok(PlannedRetention {
        plan,
        root,
        sidecars,
    })
}

/// How far `retention apply` may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyMode {
    /// Plan only (the default).
    DryRun,
    /// Apply whatever the plan computed now says.
    Confirm,
    /// Apply only if the plan computed now has this hash (or is the rest of an
    /// interrupted run of it).
    PlanHash(String),
}

/// The outcome of [`retention_apply`].
#[derive(Debug, Clone, Serialize)]
#[must_use]
pub struct ApplyOutcome {
    /// The plan that was (or would be) applied.
    pub plan: RetentionPlan,
    /// True when deletions were carried out.
    pub applied: bool,
    /// True when nothing was deleted because no confirmation was given.
    pub dry_run: bool,
    /// Why the plan was not applied, if it was not.
    pub refused: Option<String>,
    /// Ids deleted, oldest first.
    pub deleted: Vec<String>,
    /// Leftovers of an interrupted earlier run that were cleaned up first.
    pub recovered: Vec<String>,
    /// Hash of the interrupted run this one completed, if any.
    pub resumed: Option<String>,
}

/// Completed plan hashes kept when the journal is compacted.
const JOURNAL_COMPLETIONS_KEPT: usize = 50;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum JournalEvent {
    Plan {
        plan_hash: String,
        delete: Vec<String>,
        at: String,
        profile: String,
    },
    Deleting {
        id: String,
        sidecars: Vec<String>,
    },
    Deleted {
        id: String,
    },
    Complete {
        plan_hash: String,
        at: String,
    },
}

#[derive(Debug, Default)]
struct JournalState {
    /// Plans started since the last completion: (hash, planned deletions not yet done).
    open_runs: Vec<(String, BTreeSet<String>)>,
    /// Deletions started but not recorded as finished, with their sidecars.
    unfinished: BTreeMap<String, Vec<String>>,
    /// Hashes of runs that completed (since the journal was last reset).
    completed: Vec<String>,
}

fn read_journal(text: &str) -> JournalState {
    let mut st = JournalState::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // A torn last line (crash mid-append) is ignored: it recorded nothing done.
        let Ok(ev) = serde_json::from_str::<JournalEvent>(line) else {
            continue;
        };
        match ev {
            JournalEvent::Plan {
                plan_hash, delete, ..
            } => st.open_runs.push((plan_hash, delete.into_iter().collect())),
            JournalEvent::Deleting { id, sidecars } => {
                st.unfinished.insert(id, sidecars);
            }
            JournalEvent::Deleted { id } => {
                st.unfinished.remove(&id);
                for (_, ids) in &mut st.open_runs {
                    ids.remove(&id);
                }
            }
            JournalEvent::Complete { plan_hash, .. } => {
                st.open_runs.clear();
                st.unfinished.clear();
                st.completed.push(plan_hash);
            }
        }
    }
    st
}

fn journal(host: &Host, root: &Path, ev: &JournalEvent) -> Result<()> {
    let line = serde_json::to_string(ev).map_err(|e| Error::Input(e.to_string()))?;
    host.artifacts.append_journal(root, &line)
}

/// Plans and, when `mode` allows, deletes. Under the operation lock and the
/// root's lock; deletions oldest first, each journalled before the next.
/// Killed at any moment and run again, it ends where an uninterrupted run would.
pub fn retention_apply(
    host: &Host,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    profile: &str,
    mode: &ApplyMode,
    now: DateTime<Utc>,
) -> Result<ApplyOutcome> {
    let outcome = |plan: RetentionPlan, refused: Option<String>| ApplyOutcome {
        plan,
        applied: false,
        dry_run: *mode == ApplyMode::DryRun,
        refused,
        deleted: Vec::new(),
        recovered: Vec::new(),
        resumed: None,
    };
    if *mode == ApplyMode::DryRun {
        let p = retention_plan(host, source, policy, now)?;
        return Ok(outcome(p.plan, None));
    }
    let root_given = match source {
        RetentionSource::Dir { root, .. } => Some(root.clone()),
        RetentionSource::Catalog { root, .. } => root.clone(),
    };
    let Some(root_given) = root_given else {
        return Err(Error::Input(
            "apply needs the directory that holds the artifacts: give --dir, or --root with --catalog".into(),
        ));
    };
    let root = host.artifacts.resolve(&root_given)?;
    let holder = format!(
        "retention apply ({profile}) on {} by pid {} since {}",
        root.display(),
        std::process::id(),
        timestamp(now)
    );
    let _op = match host.state.try_operation_lock(&holder) {
        Ok(h) => h,
        Err(Error::Locked { holder, path }) => {
            let p = retention_plan(host, source, policy, now)?;
            let who = holder.unwrap_or_else(|| path.display().to_string());
            return Ok(outcome(
                p.plan,
                Some(format!("another operation holds the lock: {who}")),
            ));
        }
        Err(e) => return Err(e),
    };
    let _root_lock = host.artifacts.lock(&root)?;

    // Recovery: finish what an interrupted run left half done.
    let journal_state = read_journal(&host.artifacts.read_journal(&root)?);
    let mut recovered = host.artifacts.purge_trash(&root)?;
    let present: BTreeSet<String> = host
        .artifacts
        .list(&root)?
        .into_iter()
        .map(|e| e.name)
        .collect();
    for (id, sidecars) in &journal_state.unfinished {
        if !present.contains(id) {
            host.artifacts.remove(&root, id, sidecars)?;
            journal(host, &root, &JournalEvent::Deleted { id: id.clone() })?;
            if !recovered.contains(id) {
                recovered.push(id.clone());
            }
        }
    }

    let planned = retention_plan(host, source, policy, now)?;
    let plan = planned.plan;
    if let Some(r) = &plan.refused {
        let mut o = outcome(plan.clone(), Some(r.clone()));
        o.recovered = recovered;
        return Ok(o);
    }
    let deletions: Vec<String> = plan
        .deletions_oldest_first()
        .iter()
        .map(|d| d.id.clone())
        .collect();
    let mut resumed = None;
    if let ApplyMode::PlanHash(h) = mode {
        if plan.plan_hash != *h {
            // The rest of an interrupted run of h, or h already fully applied.
            let wanted: BTreeSet<&String> = deletions.iter().collect();
            let open = journal_state
                .open_runs
                .iter()
                .any(|(hash, ids)| hash == h && wanted.iter().all(|d| ids.contains(*d)));
            let done = deletions.is_empty() && journal_state.completed.iter().any(|c| c == h);
            match open || done {
                true => resumed = Some(h.clone()),
                false => {
                    let mut o = outcome(
                        plan.clone(),
                        Some(format!(
                            "the plan changed since it was reviewed: it now hashes to {}, not {h}; review `ssot retention plan` again",
                            plan.plan_hash
                        )),
                    );
                    o.recovered = recovered;
                    return Ok(o);
                }
            }
        }
    }

    if journal_state.open_runs.is_empty() && journal_state.unfinished.is_empty() {
        // Compact: keep only the recent completions (re-applying a completed
        // plan hash stays a no-op instead of a refusal).
        let keep_from = journal_state
            .completed
            .len()
            .saturating_sub(JOURNAL_COMPLETIONS_KEPT);
        let mut text = String::new();
        for h in &journal_state.completed[keep_from..] {
            let ev = JournalEvent::Complete {
                plan_hash: h.clone(),
                at: String::new(),
            };
            text.push_str(&serde_json::to_string(&ev).map_err(|e| Error::Input(e.to_string()))?);
            text.push('\n');
        }
        host.artifacts.rewrite_journal(&root, &text)?;
    }
    journal(
        host,
        &root,
        &JournalEvent::Plan {
            plan_hash: plan.plan_hash.clone(),
            delete: deletions.clone(),
            at: timestamp(now),
            profile: profile.to_string(),
        },
    )?;
    let mut deleted = Vec::new();
    for id in &deletions {
        let sidecars = planned.sidecars.get(id).cloned().unwrap_or_default();
        journal(
            host,
            &root,
            &JournalEvent::Deleting {
                id: id.clone(),
                sidecars: sidecars.clone(),
            },
        )?;
        host.artifacts.remove(&root, id, &sidecars)?;
        journal(host, &root, &JournalEvent::Deleted { id: id.clone() })?;
        deleted.push(id.clone());
    }
    journal(
        host,
        &root,
        &JournalEvent::Complete {
            plan_hash: plan.plan_hash.clone(),
            at: timestamp(now),
        },
    )?;
    write_status(host, profile, &root, &plan, &deleted, now)?;
    Ok(ApplyOutcome {
        plan,
        applied: true,
        dry_run: false,
        refused: None,
        deleted,
        recovered: std::mem::take(&mut recovered),
        resumed,
    })
}

fn write_status(
    host: &Host,
    profile: &str,
    root: &Path,
    plan: &RetentionPlan,
    deleted: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let lock = host.state.lock()?;
    let input = host.state.read(state::RETENTION_STATUS);
    let mut f = match input.parse() {
        Ok(Some(f)) => f,
        _ => StateFile::new(input.path()),
    };
    let k = |key: &str| format!("{profile}.{key}");
    f.set(&k("applied_at"), timestamp(now))?;
    f.set(&k("root"), root.display())?;
    f.set(&k("plan_hash"), &plan.plan_hash)?;
    f.set(&k("kept"), plan.summary.kept)?;
    f.set(&k("deleted"), plan.summary.deleted)?;
    f.set(&k("kept_bytes"), plan.summary.kept_bytes)?;
    f.set(&k("freed_bytes"), plan.summary.freed_bytes)?;
    f.set(&k("verified_kept"), plan.summary.verified_kept)?;
    f.set(&k("deleted_ids"), deleted.join(","))?;
    f.remove_prefix(&k("warning."));
    f.set(&k("warning_count"), plan.warnings.len())?;
    for (i, w) in plan.warnings.iter().enumerate() {
        f.set(
            &k(&format!("warning.{}", i + 1)),
            w.replace(['\n', '\r'], " "),
        )?;
    }
    host.state
        .write_atomic(&lock, state::RETENTION_STATUS, f.render().as_bytes())
}
