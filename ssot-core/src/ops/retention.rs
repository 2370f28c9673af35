//! Retention as a whole operation: list, plan, and (only when asked) apply.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::results::RetentionPlanned;
use super::{Ports, Ssot};
use crate::error::{Error, Result};
use crate::ports::{Held, OpenRoot};
use crate::request::{ApplyMode, Catalog, RetentionRequest};
use crate::retention;
use crate::retention::apply::{Apply, End, Reply, RunRecord, Step};
use crate::retention::guard::{self, Protected, ProtectedKind};
use crate::retention::journal;
use crate::retention::source::{
    artifacts_from_entries, DrillPass, DrillProofs, EntryKind, RootEntry,
};
use crate::retention::{plan, Artifact, RetentionPlan, RetentionPolicy};
use crate::state::{self, timestamp, RestoreDrillRecord, RetentionRunWrite, Untrusted};
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

/// The lineages of the protected paths. A path whose lineage cannot be read
/// makes planning fail: ssot cannot then prove a root safe.
pub(crate) fn protected(ports: &Ports, paths: &ProtectedPaths) -> Result<Vec<Protected>> {
    let mut out = Vec::new();
    let mut add = |kind: ProtectedKind, path: &Path| -> Result<()> {
        out.push(Protected {
            kind,
            lineage: ports.artifacts.lineage(path)?,
        });
        Ok(())
    };
    if let Some(p) = &paths.state_dir {
        add(ProtectedKind::StateDir, p)?;
    }
    if let Some(p) = &paths.pgdata {
        add(ProtectedKind::Pgdata, p)?;
        match ports.wal.resolve(p) {
            Ok(wal) => add(ProtectedKind::PgWal, &wal)?,
            Err(_) => add(ProtectedKind::PgWal, &p.join("pg_wal"))?,
        }
    }
    if let Some(p) = &paths.config_file {
        add(ProtectedKind::Config, p)?;
    }
    Ok(out)
}

/// A root after its check: refused, or open.
enum Opened {
    Refused(guard::RootRefusal),
    Open(PathBuf, Box<dyn OpenRoot + Send + Sync>),
}

/// The lineages of the protected paths (PGDATA, pg_wal, the state directory, the configuration).
pub fn protected_lineages(ports: &Ports, paths: &ProtectedPaths) -> Result<Vec<Protected>> {
    protected(ports, paths)
}

/// Resolves `root`, checks it against the protected paths, and opens it
/// once; what was opened must be what was checked (same device and inode).
fn open_checked(ports: &Ports, root: &Path, protected: &[Protected]) -> Result<Opened> {
    let resolved = ports.artifacts.resolve(root)?;
    let lineage = ports.artifacts.lineage(&resolved)?;
    if let Err(r) = guard::check_root(&lineage, protected) {
        return Ok(Opened::Refused(r));
    }
    let handle = ports.artifacts.open(&resolved)?;
    if lineage.ids.first() != Some(&handle.id()) {
        return Err(Error::UnsafeFile {
            path: resolved,
            problem: "changed between its check and its opening (was it swapped?): nothing is listed or deleted".into(),
        });
    }
    Ok(Opened::Open(resolved, handle))
}

/// Why a catalog id cannot name an entry of a root, if it cannot: it must be
/// a plain name directly in the root, not hidden and not one of ssot's own
/// `.ssot-*` files.
fn catalog_id_problem(id: &str) -> Option<String> {
    if let Err(e) = crate::retention::validate_id(id) {
        return Some(e.to_string());
    }
    if id.starts_with(".ssot-") {
        return Some(format!("catalog id {id:?} names one of ssot's own files"));
    }
    if id.starts_with('.') {
        return Some(format!("catalog id {id:?} is hidden (starts with a dot)"));
    }
    None
}

/// A refused plan when `source` is a catalog applied to a root and one of
/// its ids is not a plain name in it (see [`catalog_id_problem`]).
fn catalog_refusal(source: &RetentionSource, now: DateTime<Utc>) -> Option<RetentionPlan> {
    let RetentionSource::Catalog {
        artifacts,
        root: Some(_),
    } = source
    else {
        return None;
    };
    let problem = artifacts.iter().find_map(|a| catalog_id_problem(&a.id))?;
    Some(RetentionPlan::refused(
        format!(
            "{problem}: a catalog applied to a root names plain entries directly in it; nothing is planned"
        ),
        now,
    ))
}

/// What `restore_drill.status` says was drilled and passed: what a
/// `.verified` marker in a root is checked against.
fn drill_proofs(ports: &Ports) -> DrillProofs {
    let input = ports.state.read(state::RESTORE_DRILL_STATUS);
    match state::load_record(&input, RestoreDrillRecord::from_file) {
        Ok(r) => DrillProofs::Read(
            r.verified_artifacts
                .into_iter()
                .zip(r.verified_until.into_iter().chain(std::iter::repeat(None)))
                .zip(r.verified_sha256.into_iter().chain(std::iter::repeat(None)))
                .map(|((a, until), sha256)| (a, DrillPass { until, sha256 }))
                .collect(),
        ),
        Err(Untrusted::Missing(_)) => DrillProofs::Missing(format!("{} is missing", input.path())),
        Err(e) => DrillProofs::Unreadable(e.to_string()),
    }
}

/// Plans `source` with the root (if any) already open: every listing goes
/// through `open`.
fn plan_with(
    ports: &Ports,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    protected: &[Protected],
    open: Option<&(dyn OpenRoot + Send + Sync)>,
    now: DateTime<Utc>,
) -> Result<(RetentionPlan, BTreeMap<String, Vec<String>>)> {
    let tz = policy.tz()?;
    let (artifacts, sidecars, source_warnings) = match (source, open) {
        (RetentionSource::Dir { pattern, .. }, Some(open)) => {
            let mut entries = open.list()?;
            // Only an artifact with a `.verified` marker is read whole: the
            // marker counts only for the content it names.
            let markers: BTreeSet<String> = entries
                .iter()
                .filter(|e| e.name_is_utf8 && e.name.ends_with(".verified"))
                .map(|e| e.name.clone())
                .collect();
            for e in &mut entries {
                if e.name_is_utf8
                    && e.held.is_none()
                    && matches!(e.kind, EntryKind::File | EntryKind::Directory)
                    && markers.contains(&format!("{}.verified", e.name))
                    && crate::retention::validate_id(&e.name).is_ok()
                {
                    e.sha256 = open.checksum(&e.name)?;
                }
            }
            let drills = drill_proofs(ports);
            let l =
                artifacts_from_entries(&entries, pattern.as_deref(), tz, protected, &drills, now);
            (Cow::Owned(l.artifacts), l.sidecars, l.warnings)
        }
        (RetentionSource::Dir { root, .. }, None) => {
            return Err(Error::Request(format!(
                "the artifact root {} was not opened",
                root.display()
            )))
        }
        (RetentionSource::Catalog { artifacts, .. }, None) => (
            Cow::Borrowed(artifacts.as_slice()),
            BTreeMap::new(),
            Vec::new(),
        ),
        (RetentionSource::Catalog { artifacts, .. }, Some(open)) => {
            if let Some(refused) = catalog_refusal(source, now) {
                return Ok((refused, BTreeMap::new()));
            }
            let mut warnings = Vec::new();
            let entries: BTreeMap<String, RootEntry> = open
                .list()?
                .into_iter()
                .filter(|e| e.name_is_utf8)
                .map(|e| (e.name.clone(), e))
                .collect();
            let mut out = Vec::with_capacity(artifacts.len());
            for a in artifacts {
                let Some(e) = entries.get(&a.id) else {
                    let mut a = a.clone();
                    a.held = Some(format!(
                        "missing: no entry {} in {}",
                        a.id,
                        open.path().display()
                    ));
                    out.push(a);
                    continue;
                };
                // Entries that are or hold a protected path are never listed.
                if let Some(p) = e.file_id.and_then(|id| guard::is_protected(id, protected)) {
                    warnings.push(format!(
                        "{} is or holds {}: never listed, never deleted",
                        a.id,
                        guard::describe(p)
                    ));
                    continue;
                }
                let held = match e.kind {
                    EntryKind::Symlink => Some("symlink: not followed".to_string()),
                    EntryKind::Other => Some("a special file: never deleted".to_string()),
                    _ => e.held.clone(),
                };
                match held {
                    Some(why) => {
                        let mut a = a.clone();
                        a.held = Some(why);
                        out.push(a);
                    }
                    None => out.push(a.clone()),
                }
            }
            (Cow::Owned(out), BTreeMap::new(), warnings)
        }
    };
    let mut plan = plan(&artifacts, policy, now)?;
    let mut warnings = source_warnings;
    warnings.append(&mut plan.warnings);
    plan.warnings = warnings;
    Ok((plan, sidecars))
}

fn source_root(source: &RetentionSource) -> Option<&Path> {
    match source {
        RetentionSource::Dir { root, .. } => Some(root),
        RetentionSource::Catalog { root, .. } => root.as_deref(),
    }
}

/// Lists the source and plans. Reads only. A root that holds, or lies in,
/// a protected path is refused before it is listed.
pub fn retention_plan(
    ports: &Ports,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    paths: &ProtectedPaths,
    now: DateTime<Utc>,
) -> Result<RetentionPlan> {
    policy.tz()?;
    let protected = protected(ports, paths)?;
    let open = match source_root(source) {
        None => None,
        Some(r) => match open_checked(ports, r, &protected)? {
            Opened::Refused(r) => return Ok(RetentionPlan::refused(r.to_string(), now)),
            Opened::Open(_, open) => Some(open),
        },
    };
    Ok(plan_with(ports, source, policy, &protected, open.as_deref(), now)?.0)
}

/// The outcome of [`crate::Ssot::apply_retention`].
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// A tool's catalog applied through the tool ([`Ssot::hold_tool_retention`]):
/// what to run, and the lock to hold while it runs.
#[derive(Debug)]
#[must_use]
pub struct ToolApply {
    /// The plan, not yet applied: `refused` set when nothing may run,
    /// `dry_run` when nothing was asked to; the caller sets `applied` and
    /// `deleted` once the commands succeeded.
    pub outcome: ApplyOutcome,
    /// The tool's commands (argv, no shell), in order; empty when nothing runs.
    pub commands: Vec<Vec<String>>,
    /// The operation lock, held while the commands run; `None` when nothing runs.
    pub lock: Option<Held>,
}

/// Plans and, when `mode` allows, deletes. Under the operation lock and the
/// root's lock; deletions oldest first, each journalled before the next.
/// The root is opened once and every step goes through that descriptor.
/// Killed at any moment and run again, it ends where an uninterrupted run would.
pub fn retention_apply(
    ports: &Ports,
    source: &RetentionSource,
    policy: &RetentionPolicy,
    paths: &ProtectedPaths,
    profile: &str,
    mode: &ApplyMode,
    now: DateTime<Utc>,
) -> Result<ApplyOutcome> {
    let outcome = |plan: RetentionPlan, refused: Option<String>| {
        ApplyOutcome::not_applied(plan, refused, mode, profile)
    };
    if *mode == ApplyMode::DryRun {
        let first = retention_plan(ports, source, policy, paths, now)?;
        return Ok(outcome(first, None));
    }
    policy.tz()?;
    if let Some(refused) = catalog_refusal(source, now) {
        let r = refused.refused.clone();
        return Ok(outcome(refused, r));
    }
    let protected = protected(ports, paths)?;
    let Some(given_root) = source_root(source) else {
        return Err(Error::Request(
            "apply needs the directory that holds the artifacts: a dir, or a root for the catalog"
                .into(),
        ));
    };
    let (root, open) = match open_checked(ports, given_root, &protected)? {
        Opened::Refused(r) => {
            let text = r.to_string();
            return Ok(outcome(
                RetentionPlan::refused(text.clone(), now),
                Some(text),
            ));
        }
        Opened::Open(root, open) => (root, open),
    };
    let open: &(dyn OpenRoot + Send + Sync) = &*open;
    let (first, _) = plan_with(ports, source, policy, &protected, Some(open), now)?;
    let _locks = match take_locks(ports, open, &root, profile, now)? {
        Ok(locks) => locks,
        Err(busy) => return Ok(outcome(first, Some(busy))),
    };
    let reviewed = match mode {
        ApplyMode::PlanHash(given) => Some(given.clone()),
        _ => None,
    };
    let run = Locked {
        ports,
        source,
        policy,
        protected: &protected,
        open,
        root: &root,
        profile,
        now,
    };
    Ok(match run.apply(reviewed)? {
        End::Refused {
            plan,
            refused,
            recovered,
        } => ApplyOutcome {
            recovered,
            ..outcome(plan, Some(refused))
        },
        End::Applied {
            plan,
            deleted,
            recovered,
            resumed,
        } => ApplyOutcome {
            plan,
            applied: true,
            dry_run: false,
            refused: None,
            deleted,
            recovered,
            resumed,
            profile: profile.to_string(),
        },
    })
}

impl ApplyOutcome {
    /// A plan not carried out: a dry run, or refused (`refused` says why).
    fn not_applied(
        plan: RetentionPlan,
        refused: Option<String>,
        mode: &ApplyMode,
        profile: &str,
    ) -> ApplyOutcome {
        ApplyOutcome {
            plan,
            applied: false,
            dry_run: *mode == ApplyMode::DryRun,
            refused,
            deleted: Vec::new(),
            recovered: Vec::new(),
            resumed: None,
            profile: profile.to_string(),
        }
    }
}

/// The operation lock, then the root's lock (returned in the order they
/// are to be released); `Ok(Err(why))` when another
/// operation or apply holds one (a refusal, not an error).
fn take_locks(
    ports: &Ports,
    open: &(dyn OpenRoot + Send + Sync),
    root: &Path,
    profile: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<(Held, Held), String>> {
    let holder = format!(
        "retention apply ({profile}) on {} by pid {} since {}",
        root.display(),
        std::process::id(),
        timestamp(now)
    );
    let op = match ports.state.try_operation_lock(&holder) {
        Ok(h) => h,
        Err(Error::Locked { holder, path }) => {
            let who = holder.unwrap_or_else(|| path.display().to_string());
            return Ok(Err(format!("another operation holds the lock: {who}")));
        }
        Err(e) => return Err(e),
    };
    let root_lock = match open.lock() {
        Ok(l) => l,
        Err(Error::Locked { path, .. }) => {
            return Ok(Err(format!(
                "another retention apply holds the root's lock {}",
                path.display()
            )));
        }
        Err(e) => return Err(e),
    };
    // Released as before: the root's lock first, then the operation lock.
    Ok(Ok((root_lock, op)))
}

/// An apply over a root that is open and locked: the host half of
/// [`apply::Apply`], carrying out each step it returns.
struct Locked<'a> {
    ports: &'a Ports,
    source: &'a RetentionSource,
    policy: &'a RetentionPolicy,
    protected: &'a [Protected],
    open: &'a (dyn OpenRoot + Send + Sync),
    root: &'a Path,
    profile: &'a str,
    now: DateTime<Utc>,
}

impl Locked<'_> {
    /// Reads the journal, cleans up and lists the root, then runs the
    /// machine to its end.
    fn apply(&self, reviewed: Option<String>) -> Result<End> {
        let open = self.open;
        let journal_state = journal::replay(&open.read_journal()?);
        open.cleanup()?;
        let present: BTreeSet<String> = open.list()?.into_iter().map(|e| e.name).collect();
        let mut machine = Apply::new(
            journal_state,
            &present,
            reviewed,
            self.profile,
            timestamp(self.now),
        );
        let mut reply = Reply::Start;
        loop {
            reply = match machine.next(reply)? {
                Step::Finished => break,
                Step::Record => {
                    if let Some(r) = machine.record() {
                        self.record(&r)?;
                    }
                    Reply::Done
                }
                step => self.perform(step)?,
            };
        }
        machine
            .finish()
            .ok_or_else(|| Error::Request("retention apply: the run stopped before its end".into()))
    }

    /// Carries out one step on the root.
    fn perform(&self, step: Step) -> Result<Reply> {
        let open = self.open;
        Ok(match step {
            Step::Remove {
                id,
                sidecars,
                trash,
            } => {
                open.remove(&id, &sidecars, &trash)?;
                Reply::Done
            }
            Step::Journal(ev) => {
                open.append_journal(&ev.to_line())?;
                Reply::Done
            }
            Step::RewriteJournal(text) => {
                open.rewrite_journal(&text)?;
                Reply::Done
            }
            Step::Plan => {
                let (plan, sidecars) = plan_with(
                    self.ports,
                    self.source,
                    self.policy,
                    self.protected,
                    Some(open),
                    self.now,
                )?;
                Reply::Planned { plan, sidecars }
            }
            Step::CheckRemovable { id } => Reply::Removable(open.removable(&id)?),
            Step::TrashName { id } => Reply::Trash(open.trash_name(&id)?),
            Step::Record | Step::Finished => Reply::Done,
        })
    }

    fn record(&self, r: &RunRecord<'_>) -> Result<()> {
        write_status(
            self.ports,
            self.profile,
            self.root,
            r.plan,
            r.reviewed,
            r.deleted,
            self.now,
        )
    }
}

fn write_status(
    ports: &Ports,
    profile: &str,
    root: &Path,
    plan: &RetentionPlan,
    reviewed: Option<&str>,
    deleted: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let lock = ports.state.lock()?;
    let input = ports.state.read(state::RETENTION_STATUS);
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
    ports
        .state
        .write_atomic(&lock, state::RETENTION_STATUS, f.render().as_bytes())?;
    forget_deleted_backups(ports, &lock, &root, deleted)
}

/// Drops the backups retention deleted from `backup.status`'s recent list,
/// so `verify` does not report a deletion by policy as a lost backup.
fn forget_deleted_backups(
    ports: &Ports,
    lock: &crate::ports::Held,
    root: &str,
    deleted: &[String],
) -> Result<()> {
    if deleted.is_empty() {
        return Ok(());
    }
    let input = ports.state.read(state::BACKUP_STATUS);
    let Ok(Some(mut f)) = input.parse() else {
        return Ok(()); // nothing recorded, or a record the report flags itself
    };
    let Ok(rec) = state::BackupStatusRecord::from_file(&f) else {
        return Ok(());
    };
    let gone: BTreeSet<&str> = deleted.iter().map(String::as_str).collect();
    let kept: Vec<_> = rec
        .recent
        .iter()
        .filter(|b| !(b.location == root && gone.contains(b.artifact.as_str())))
        .cloned()
        .collect();
    if kept.len() == rec.recent.len() {
        return Ok(());
    }
    state::write_recent(&mut f, &kept)?;
    ports
        .state
        .write_atomic(lock, state::BACKUP_STATUS, f.render().as_bytes())
}
impl Ssot {
    /// The paths an artifact root must never hold.
    pub(super) fn protected(&self, pgdata: Option<&Path>) -> ProtectedPaths {
        ProtectedPaths {
            state_dir: Some(self.state_dir.clone()),
            pgdata: Some(self.pgdata(pgdata)),
            config_file: self.source.file.clone(),
        }
    }

    /// Resolves source, policy and profile name: the profile's root, pattern
    /// and policy, with the request's keys on top.
    fn retention_inputs(
        &self,
        req: &RetentionRequest,
    ) -> Result<(RetentionSource, RetentionPolicy, String)> {
        let profile =
            match &req.profile {
                Some(name) => Some(self.config.retention.0.get(name).ok_or_else(|| {
                    Error::UnknownProfile {
                        name: name.clone(),
                        known: self.config.retention.0.keys().cloned().collect(),
                    }
                })?),
                None => None,
            };
        let base = profile.map(|p| p.policy.clone()).unwrap_or_default();
        let policy = req.policy.apply_to(&base);
        policy.tz()?;
        if let Some(p) = &req.pattern {
            retention::source::validate_pattern(p)?;
        }
        let source = match (&req.catalog, &req.dir) {
            (Some(_), Some(_)) => {
                return Err(Error::Request("give a dir or a catalog, not both".into()))
            }
            (Some(catalog), None) => {
                let artifacts = match catalog {
                    Catalog::Artifacts(a) => a.clone(),
                    Catalog::Input(i) => {
                        let (text, origin) = self.read(i)?;
                        req.catalog_format.parse(&text, &origin)?
                    }
                };
                RetentionSource::Catalog {
                    artifacts,
                    root: req.root.clone(),
                }
            }
            (None, dir) => {
                if req.root.is_some() {
                    return Err(Error::Request(
                        "a root goes with a catalog (a dir is its own root)".into(),
                    ));
                }
                let root = dir
                    .clone()
                    .or_else(|| profile.and_then(|p| p.root.clone()).map(PathBuf::from))
                    .ok_or(Error::NotGiven {
                        field: "dir",
                        message: "no artifacts to plan over: give a dir, a catalog, or a profile with a root".into(),
                    })?;
                let pattern = req
                    .pattern
                    .clone()
                    .or_else(|| profile.and_then(|p| p.pattern.clone()));
                RetentionSource::Dir { root, pattern }
            }
        };
        let name = req.profile.clone().unwrap_or_else(|| "default".into());
        Ok((source, policy, name))
    }

    /// Lists the artifacts and plans. Reads only. A root that holds, or lies
    /// in, the state directory, PGDATA, pg_wal or the configuration file is
    /// refused before it is listed.
    pub fn plan_retention(
        &self,
        req: &RetentionRequest,
        now: DateTime<Utc>,
    ) -> Result<RetentionPlanned> {
        let (source, policy, profile) = self.retention_inputs(req)?;
        let paths = self.protected(req.pgdata.as_deref());
        let plan = retention_plan(&self.ports, &source, &policy, &paths, now)?;
        let commands = if plan.refused.is_some() {
            Vec::new()
        } else {
            let ids: Vec<&str> = plan
                .decisions
                .iter()
                .filter(|d| d.action == retention::Action::Delete)
                .map(|d| d.id.as_str())
                .collect();
            req.catalog_format.delete_commands(&ids)
        };
        Ok(RetentionPlanned {
            profile,
            plan,
            commands,
        })
    }

    /// For a backup tool's catalog (`catalog_format` not `ssot`): plans as
    /// [`Self::plan_retention`] and decides whether the tool's delete
    /// commands may run, which the caller then runs (no shell) holding the
    /// returned operation lock, and records as deleted only if every
    /// command succeeded. In order: [`ApplyMode::DryRun`] runs nothing; a
    /// refused plan (over `max_delete`, ...) or one whose hash does not
    /// start with the reviewed `--plan-hash` runs nothing (`refused` says
    /// why); another operation holding the lock runs nothing. Otherwise
    /// the lock is taken (a gated backup cannot start while the tool
    /// deletes, and the other way round) and returned with the commands.
    /// A deleting run uses the real time ([`Ssot::authorizing_now`]).
    pub fn hold_tool_retention(
        &self,
        req: &RetentionRequest,
        mode: &ApplyMode,
        given: Option<DateTime<Utc>>,
    ) -> Result<ToolApply> {
        if req.catalog_format.is_native() {
            return Err(Error::Request(
                "ssot's own catalog is applied by apply_retention, not through a tool".into(),
            ));
        }
        let now = match mode {
            ApplyMode::DryRun => given.unwrap_or_else(|| self.now()),
            _ => self.authorizing_now("retention apply", given)?,
        };
        let planned = self.plan_retention(req, now)?;
        let mut outcome = ApplyOutcome::not_applied(
            planned.plan.clone(),
            planned.plan.refused.clone(),
            mode,
            &planned.profile,
        );
        let refuse = |mut o: ApplyOutcome, why: String| ToolApply {
            outcome: {
                o.refused = Some(why);
                o
            },
            commands: Vec::new(),
            lock: None,
        };
        if *mode == ApplyMode::DryRun || outcome.refused.is_some() {
            return Ok(ToolApply {
                outcome,
                commands: planned.commands,
                lock: None,
            });
        }
        if let ApplyMode::PlanHash(h) = mode {
            retention::check_plan_hash_prefix(h)?;
            let h = h.to_ascii_lowercase();
            if !planned.plan.plan_hash.starts_with(&h) {
                return Ok(refuse(
                    outcome,
                    format!(
                        "the plan computed now ({}) is not the reviewed plan {h}: the listing or the policy changed; review the new plan",
                        planned.plan.plan_hash
                    ),
                ));
            }
        }
        if planned.commands.is_empty() {
            outcome.applied = true;
            return Ok(ToolApply {
                outcome,
                commands: Vec::new(),
                lock: None,
            });
        }
        let holder = format!(
            "retention apply ({}) through {} by pid {} since {}",
            planned.profile,
            req.catalog_format,
            std::process::id(),
            timestamp(now)
        );
        let lock = match self.ports.state.try_operation_lock(&holder) {
            Ok(h) => h,
            Err(Error::Locked { holder, path }) => {
                let who = holder.unwrap_or_else(|| path.display().to_string());
                return Ok(refuse(
                    outcome,
                    format!("another operation holds the lock: {who}"),
                ));
            }
            Err(e) => return Err(e),
        };
        Ok(ToolApply {
            outcome,
            commands: planned.commands,
            lock: Some(lock),
        })
    }

    /// Plans and, when `mode` allows, deletes (see [`ApplyMode`]). Under the
    /// operation lock and the root's lock, each deletion journalled first:
    /// killed at any moment and run again, it ends where an uninterrupted
    /// run would.
    ///
    /// A dry run reads only and is evaluated at `given` (else the clock);
    /// an apply that deletes authorises work and runs at the real time
    /// ([`Ssot::authorizing_now`]).
    pub fn apply_retention(
        &self,
        req: &RetentionRequest,
        mode: &ApplyMode,
        given: Option<DateTime<Utc>>,
    ) -> Result<ApplyOutcome> {
        if !req.catalog_format.is_native() {
            let f = req.catalog_format;
            return Err(Error::Request(format!(
                "a {f} catalog is not applied by ssot's own deletion: `retention plan` with catalog format {f} prints the {f} commands that delete what the plan deletes, bound to its plan hash; review the plan and run them (the CLI's `retention apply --plan-hash` runs them under the operation lock)"
            )));
        }
        let now = match mode {
            ApplyMode::DryRun => given.unwrap_or_else(|| self.now()),
            _ => self.authorizing_now("retention apply", given)?,
        };
        let mode = match mode {
            ApplyMode::PlanHash(h) => {
                retention::check_plan_hash_prefix(h)?;
                ApplyMode::PlanHash(h.to_ascii_lowercase())
            }
            m => m.clone(),
        };
        let (source, policy, profile) = self.retention_inputs(req)?;
        let paths = self.protected(req.pgdata.as_deref());
        retention_apply(&self.ports, &source, &policy, &paths, &profile, &mode, now)
    }
}
