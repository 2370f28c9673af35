//! Retention as a whole operation: list, plan, and (only when asked) apply.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Host;
use crate::api::ApplyMode;
use crate::error::{Error, Result};
use crate::retention::guard::{self, Protected, ProtectedKind};
use crate::retention::journal::{self, JournalEvent};
use crate::retention::source::artifacts_from_entries;
use crate::retention::{plan, Artifact, RetentionPlan, RetentionPolicy};
use crate::state::{self, timestamp, RetentionRunWrite};
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

/// The paths an artifact root must never hold, overlap or list
/// (see [`crate::retention::guard`]). Each is optional.
#[derive(Debug, Clone, Default)]
pub struct ProtectedPaths {
    /// ssot's state directory.
    pub state_dir: Option<PathBuf>,
    /// PGDATA (pg_wal is found from it, through its symlink).
    pub pgdata: Option<PathBuf>,
    /// ssot's configuration file, if one was read.
    pub config_file: Option<PathBuf>,
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
    /// True when the root itself was refused (see [`crate::retention::guard`]):
    /// nothing was listed.
    pub root_refused: bool,
}

/// The lineages of the protected paths. A path whose lineage cannot be read
/// makes planning fail: ssot cannot then prove a root safe.
fn protected(host: &Host, paths: &ProtectedPaths) -> Result<Vec<Protected>> {
    let mut out = Vec::new();
    let mut add = |kind: ProtectedKind, path: &Path| -> Result<()> {
        out.push(Protected {
            kind,
            lineage: host.artifacts.lineage(path)?,
        });
        Ok(())
    };
    if let Some(p) = &paths.state_dir {
        add(ProtectedKind::StateDir, p)?;
    }
    if let Some(p) = &paths.pgdata {
        add(ProtectedKind::Pgdata, p)?;
        match host.wal.resolve(p) {
            Ok(wal) => add(ProtectedKind::PgWal, &wal)?,
            Err(_) => add(ProtectedKind::PgWal, &p.join("pg_wal"))?,
        }
    }
    if let Some(p) = &paths.config_file {
        add(ProtectedKind::Config, p)?;
    }
    Ok(out)
}

/// Resolves `root` and checks it against the protected paths.
fn checked_root(
    host: &Host,
    root: &Path,
    protected: &[Protected],
) -> Result<(PathBuf, Option<guard::RootRefusal>)> {
    let resolved = host.artifacts.resolve(root)?;
    let lineage = host.artifacts.lineage(&resolved)?;
    Ok((resolved, guard::check_root(&lineage, protected).err()))
}

/// Lists the source and plans. Reads only. A root that holds, or lies in,
/// a protected path is refused before it is listed.
pub fn retention_plan(
    host: &Host,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    paths: &ProtectedPaths,
    now: DateTime<Utc>,
) -> Result<PlannedRetention> {
    let tz = policy.tz()?;
    let protected = protected(host, paths)?;
    let refused = |r: guard::RootRefusal, root: PathBuf| PlannedRetention {
        plan: RetentionPlan::refused(r.to_string(), now),
        root: Some(root),
        sidecars: BTreeMap::new(),
        root_refused: true,
    };
    let (artifacts, sidecars, source_warnings, root) = match source {
        RetentionSource::Dir { root, pattern } => {
            let (root, refusal) = checked_root(host, root, &protected)?;
            if let Some(r) = refusal {
                return Ok(refused(r, root));
            }
            let entries = host.artifacts.list(&root)?;
            let l = artifacts_from_entries(&entries, pattern.as_deref(), tz, &protected);
            (Cow::Owned(l.artifacts), l.sidecars, l.warnings, Some(root))
        }
        RetentionSource::Catalog { artifacts, root } => {
            let mut warnings = Vec::new();
            let mut artifacts = Cow::Borrowed(artifacts.as_slice());
            let root = match root {
                None => None,
                Some(r) => {
                    let (root, refusal) = checked_root(host, r, &protected)?;
                    if let Some(r) = refusal {
                        return Ok(refused(r, root));
                    }
                    let ids: BTreeMap<String, guard::FileId> = host
                        .artifacts
                        .list(&root)?
                        .into_iter()
                        .filter_map(|e| e.file_id.map(|id| (e.name, id)))
                        .collect();
                    // Entries that are or hold a protected path are never
                    // listed (the catalog is copied only when there are some).
                    let hidden: Vec<(&str, &Protected)> = artifacts
                        .iter()
                        .filter_map(|a| {
                            ids.get(&a.id)
                                .and_then(|id| guard::is_protected(*id, &protected))
                                .map(|p| (a.id.as_str(), p))
                        })
                        .collect();
                    for (id, p) in &hidden {
                        warnings.push(format!(
                            "{id} is or holds {}: never listed, never deleted",
                            guard::describe(p)
                        ));
                    }
                    if !hidden.is_empty() {
                        let gone: BTreeSet<&str> = hidden.iter().map(|(id, _)| *id).collect();
                        artifacts = Cow::Owned(
                            artifacts
                                .iter()
                                .filter(|a| !gone.contains(a.id.as_str()))
                                .cloned()
                                .collect(),
                        );
                    }
                    Some(root)
                }
            };
            (artifacts, BTreeMap::new(), warnings, root)
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
        root_refused: false,
    })
}

/// The outcome of [`crate::Ssot::apply_retention`].
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
    /// Hash of the reviewed plan this run continued or found already applied, if any.
    pub resumed: Option<String>,
    /// The profile applied (`default` without one); not part of the JSON.
    #[serde(skip)]
    pub profile: String,
}

/// Appends one event to the root's journal (fsynced).
fn journal(host: &Host, root: &Path, ev: &JournalEvent) -> Result<()> {
    host.artifacts.append_journal(root, &ev.to_line())
}

/// Plans and, when `mode` allows, deletes. Under the operation lock and the
/// root's lock; deletions oldest first, each journalled before the next.
/// Killed at any moment and run again, it ends where an uninterrupted run would.
pub fn retention_apply(
    host: &Host,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    paths: &ProtectedPaths,
    profile: &str,
    mode: &ApplyMode,
    now: DateTime<Utc>,
) -> Result<ApplyOutcome> {
    let outcome =
        |plan: RetentionPlan, refused: Option<String>, recovered: Vec<String>| ApplyOutcome {
            plan,
            applied: false,
            dry_run: *mode == ApplyMode::DryRun,
            refused,
            deleted: Vec::new(),
            recovered,
            resumed: None,
            profile: profile.to_string(),
        };
    let first = retention_plan(host, source, policy, paths, now)?;
    if *mode == ApplyMode::DryRun {
        return Ok(outcome(first.plan, None, Vec::new()));
    }
    if first.root_refused {
        let r = first.plan.refused.clone();
        return Ok(outcome(first.plan, r, Vec::new()));
    }
    let Some(root) = first.root.clone() else {
        return Err(Error::Request(
            "apply needs the directory that holds the artifacts: a dir, or a root for the catalog"
                .into(),
        ));
    };
    let holder = format!(
        "retention apply ({profile}) on {} by pid {} since {}",
        root.display(),
        std::process::id(),
        timestamp(now)
    );
    let _op = match host.state.try_operation_lock(&holder) {
        Ok(h) => h,
        Err(Error::Locked { holder, path }) => {
            let who = holder.unwrap_or_else(|| path.display().to_string());
            return Ok(outcome(
                first.plan,
                Some(format!("another operation holds the lock: {who}")),
                Vec::new(),
            ));
        }
        Err(e) => return Err(e),
    };
    let _root_lock = host.artifacts.lock(&root)?;

    // Recovery: finish what an interrupted run left half done. Only trash
    // the journal names is removed; a user's own `.ssot-trash-*` is not ours.
    let journal_state = journal::replay(&host.artifacts.read_journal(&root)?);
    host.artifacts.cleanup(&root)?;
    let present: BTreeSet<String> = host
        .artifacts
        .list(&root)?
        .into_iter()
        .map(|e| e.name)
        .collect();
    let mut recovered = Vec::new();
    for (id, (sidecars, trash)) in &journal_state.unfinished {
        if !present.contains(id) {
            host.artifacts.remove(&root, id, sidecars, trash)?;
            journal(host, &root, &JournalEvent::Deleted { id: id.clone() })?;
            recovered.push(id.clone());
        }
    }

    let planned = retention_plan(host, source, policy, paths, now)?;
    let plan = planned.plan;
    if let Some(r) = &plan.refused {
        let r = r.clone();
        return Ok(outcome(plan, Some(r), recovered));
    }
    let deletions: Vec<String> = plan
        .deletions_oldest_first()
        .iter()
        .map(|d| d.id.clone())
        .collect();
    let (reviewed, resumed) = match mode {
        ApplyMode::PlanHash(given) => {
            match journal::reviewed_run(given, &plan.plan_hash, &deletions, &journal_state) {
                Ok(r) => {
                    let resumed = r.resumed.then(|| r.hash.clone());
                    (Some(r.hash), resumed)
                }
                Err(refusal) => return Ok(outcome(plan, Some(refusal), recovered)),
            }
        }
        _ => (None, None),
    };
    if journal_state.open_runs.is_empty() && journal_state.unfinished.is_empty() {
        // Compact: keep only the recent completions (re-applying a completed
        // plan hash stays a no-op instead of a refusal).
        let text = journal::compacted(&journal_state)?;
        host.artifacts.rewrite_journal(&root, &text)?;
    }
    journal(
        host,
        &root,
        &JournalEvent::Plan {
            plan_hash: plan.plan_hash.clone(),
            reviewed: reviewed.clone(),
            delete: deletions.clone(),
            at: timestamp(now),
            profile: profile.to_string(),
        },
    )?;
    let mut deleted = Vec::new();
    for id in &deletions {
        let sidecars = planned.sidecars.get(id).cloned().unwrap_or_default();
        let trash = host.artifacts.trash_name(&root, id)?;
        journal(
            host,
            &root,
            &JournalEvent::Deleting {
                id: id.clone(),
                sidecars: sidecars.clone(),
                trash: Some(trash.clone()),
            },
        )?;
        host.artifacts.remove(&root, id, &sidecars, &trash)?;
        journal(host, &root, &JournalEvent::Deleted { id: id.clone() })?;
        deleted.push(id.clone());
    }
    journal(
        host,
        &root,
        &JournalEvent::Complete {
            plan_hash: plan.plan_hash.clone(),
            reviewed: reviewed.clone(),
            at: timestamp(now),
        },
    )?;
    write_status(
        host,
        profile,
        &root,
        &plan,
        reviewed.as_deref(),
        &deleted,
        now,
    )?;
    Ok(ApplyOutcome {
        plan,
        applied: true,
        dry_run: false,
        refused: None,
        deleted,
        recovered,
        resumed,
        profile: profile.to_string(),
    })
}

fn write_status(
    host: &Host,
    profile: &str,
    root: &Path,
    plan: &RetentionPlan,
    reviewed: Option<&str>,
    deleted: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let lock = host.state.lock()?;
    let input = host.state.read(state::RETENTION_STATUS);
    let mut f = match input.parse() {
        Ok(Some(f)) => f,
        _ => StateFile::new(input.path()),
    };
    let root = root.display().to_string();
    state::write_retention_run(
        &mut f,
        &RetentionRunWrite {
            profile,
            root: &root,
            plan_hash: reviewed.unwrap_or(&plan.plan_hash),
            computed_plan_hash: &plan.plan_hash,
            summary: &plan.summary,
            deleted_ids: deleted,
            warnings: &plan.warnings,
        },
        now,
    )?;
    host.state
        .write_atomic(&lock, state::RETENTION_STATUS, f.render().as_bytes())
}
