//! Retention apply's protocol as a pure state machine.
//!
//! Deleting an artifact safely takes several steps, each durable before the
//! next: the trash name is journalled, the entry is renamed to it and
//! removed, the removal is journalled; a whole run is framed by `plan` and
//! `complete` in the journal and recorded in `retention.status` at the end.
//! [`Apply`] decides those steps and returns each as data ([`Step`]); the
//! host carries it out and answers with a [`Reply`], as quinn-proto's
//! `poll_transmit` hands its caller the datagrams to send. The machine does
//! no I/O, so a crash at any step is tested by stopping the loop there and
//! starting a new machine over what the journal and the root then hold.
//!
//! Order of use:
//!
//! 1. read the journal ([`super::journal::replay`]), clean up and list the
//!    root, then [`Apply::new`] with what was read;
//! 2. call [`Apply::next`] with [`Reply::Start`], carry out the [`Step`] it
//!    returns, and call it again with that step's reply, until
//!    [`Step::Finished`] (an `Err` from the host ends the run there: the
//!    journal already says what was half done, and the next run finishes it);
//! 3. [`Apply::finish`] gives the [`End`] of the run.
//!
//! What the run does, step by step:
//!
//! - **Recovery.** Each deletion the journal says was started and not
//!   finished, whose entry is no longer in the root (it was renamed to its
//!   trash name, perhaps not yet removed), is removed through that trash name
//!   and journalled as deleted. An entry still in the root is left: the plan
//!   decides about it again.
//! - **Plan** ([`Step::Plan`]): the host lists the root and plans. A refused
//!   plan, or a reviewed plan hash the plan no longer matches
//!   ([`super::journal::reviewed_run`]), ends the run without deleting.
//! - **Compaction** of a journal with nothing open or unfinished, then the
//!   run's `plan` event.
//! - **Each deletion**, oldest first: is the entry still safe to delete
//!   ([`Step::CheckRemovable`]; if not it is passed over with a warning), a
//!   trash name ([`Step::TrashName`]), `deleting` with that name journalled,
//!   the removal ([`Step::Remove`]), `deleted` journalled.
//! - `complete` journalled, the run recorded ([`Step::Record`]).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::journal::{self, JournalEvent, JournalState};
use super::RetentionPlan;
use crate::error::{Error, Result};

/// What the host does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Remove the entry `id` (renamed first to `trash`) and its `sidecars`;
    /// done when already gone ([`crate::ports::OpenRoot::remove`]). Reply
    /// [`Reply::Done`].
    Remove {
        /// The artifact.
        id: String,
        /// Its sidecar markers.
        sidecars: Vec<String>,
        /// The trash name the journal recorded for it.
        trash: String,
    },
    /// Append the event to the journal, durably. Reply [`Reply::Done`].
    Journal(JournalEvent),
    /// Replace the journal's text (compaction). Reply [`Reply::Done`].
    RewriteJournal(String),
    /// List the root and plan over what it holds now. Reply [`Reply::Planned`].
    Plan,
    /// Say why `id` cannot be deleted safely now, if it cannot. Reply
    /// [`Reply::Removable`].
    CheckRemovable {
        /// The artifact.
        id: String,
    },
    /// Choose a trash name for `id` that nothing in the root uses. Reply
    /// [`Reply::Trash`].
    TrashName {
        /// The artifact.
        id: String,
    },
    /// Record the run ([`Apply::record`]: `retention.status`, and the
    /// backups deleted dropped from `backup.status`). Reply [`Reply::Done`].
    Record,
    /// The run is over: [`Apply::finish`].
    Finished,
}

/// The host's answer to the last [`Step`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The first call: no step was asked for yet.
    Start,
    /// The step was carried out (a removal, an append, a rewrite, the record).
    Done,
    /// The plan over the root as it is now, and each artifact's sidecars.
    Planned {
        /// The plan.
        plan: RetentionPlan,
        /// Sidecar markers by artifact id.
        sidecars: BTreeMap<String, Vec<String>>,
    },
    /// Why the entry cannot be deleted safely now, or `None`: it can be (or it is gone).
    Removable(Option<String>),
    /// The trash name chosen.
    Trash(String),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Nothing was deleted by the plan (leftovers may have been recovered).
    Refused {
        /// The plan (refused itself, or not the one reviewed).
        plan: RetentionPlan,
        /// Why.
        refused: String,
        /// Leftovers of an interrupted run removed first.
        recovered: Vec<String>,
    },
    /// The plan was carried out.
    Applied {
        /// The plan, with a warning for each entry passed over.
        plan: RetentionPlan,
        /// Ids deleted, oldest first.
        deleted: Vec<String>,
        /// Leftovers of an interrupted run removed first.
        recovered: Vec<String>,
        /// The reviewed hash this run finished or found done, if it did.
        resumed: Option<String>,
    },
}

/// What [`Step::Record`] records.
#[derive(Debug, Clone, Copy)]
pub struct RunRecord<'a> {
    /// The plan carried out.
    pub plan: &'a RetentionPlan,
    /// The reviewed hash, if one was given.
    pub reviewed: Option<&'a str>,
    /// Ids deleted, oldest first.
    pub deleted: &'a [String],
}

/// What the machine does when the host confirms a step.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Then {
    /// Nothing more.
    Go,
    /// A leftover was removed and journalled.
    Recovered(String),
    /// The plan comes back.
    Plan,
    /// Whether `id` may be deleted comes back.
    Removable(String),
    /// A trash name for `id` comes back.
    Trash(String),
    /// `id` was deleted and journalled.
    Deleted(String),
}

/// The plan being carried out.
#[derive(Debug)]
struct Run {
    plan: RetentionPlan,
    sidecars: BTreeMap<String, Vec<String>>,
    deletions: Vec<String>,
    next: usize,
    reviewed: Option<String>,
    resumed: Option<String>,
    deleted: Vec<String>,
}

/// One retention apply over an open, locked root, as a state machine (see
/// the module documentation for the order of use).
#[derive(Debug)]
pub struct Apply {
    journal: JournalState,
    given: Option<String>,
    profile: String,
    at: String,
    queue: VecDeque<(Step, Then)>,
    waiting: Option<Then>,
    recovered: Vec<String>,
    run: Option<Run>,
    closed: bool,
    end: Option<End>,
}

impl Apply {
    /// A run over a root whose journal read back as `journal` and which
    /// now holds the entries `present`. `reviewed` is the plan hash the user
    /// reviewed (lowercase), if one was given; `profile` and `at` (a
    /// timestamp) go into the journal.
    pub fn new(
        journal: JournalState,
        present: &BTreeSet<String>,
        reviewed: Option<String>,
        profile: &str,
        at: String,
    ) -> Apply {
        let mut queue = VecDeque::new();
        // Only trash the journal names is removed; a user's own
        // `.ssot-trash-*` is not ours.
        for (id, (sidecars, trash)) in &journal.unfinished {
            if !present.contains(id) {
                queue.push_back((
                    Step::Remove {
                        id: id.clone(),
                        sidecars: sidecars.clone(),
                        trash: trash.clone(),
                    },
                    Then::Go,
                ));
                queue.push_back((
                    Step::Journal(JournalEvent::Deleted { id: id.clone() }),
                    Then::Recovered(id.clone()),
                ));
            }
        }
        queue.push_back((Step::Plan, Then::Plan));
        Apply {
            journal,
            given: reviewed,
            profile: profile.to_string(),
            at,
            queue,
            waiting: None,
            recovered: Vec::new(),
            run: None,
            closed: false,
            end: None,
        }
    }

    /// Takes the reply to the last step (or [`Reply::Start`]) and returns
    /// the next step. `Err` when the reply does not answer the step asked
    /// for, or when the journal cannot be compacted.
    pub fn next(&mut self, reply: Reply) -> Result<Step> {
        match self.waiting.take() {
            None if reply == Reply::Start => {}
            None => return Err(mismatch(None, &reply)),
            Some(then) => self.handle(then, reply)?,
        }
        if self.end.is_some() {
            return Ok(Step::Finished);
        }
        if self.queue.is_empty() {
            self.refill();
        }
        match self.queue.pop_front() {
            Some((step, then)) => {
                self.waiting = Some(then);
                Ok(step)
            }
            None => Ok(Step::Finished),
        }
    }

    /// What [`Step::Record`] records; `None` before the plan is carried out.
    pub fn record(&self) -> Option<RunRecord<'_>> {
        self.run.as_ref().map(|r| RunRecord {
            plan: &r.plan,
            reviewed: r.reviewed.as_deref(),
            deleted: &r.deleted,
        })
    }

    /// How the run ended; `None` when it has not ([`Step::Finished`] not reached).
    pub fn finish(self) -> Option<End> {
        self.end
    }

    fn handle(&mut self, then: Then, reply: Reply) -> Result<()> {
        match (then, reply) {
            (Then::Go, Reply::Done) => {}
            (Then::Recovered(id), Reply::Done) => self.recovered.push(id),
            (Then::Deleted(id), Reply::Done) => {
                if let Some(run) = &mut self.run {
                    run.deleted.push(id);
                }
            }
            (Then::Plan, Reply::Planned { plan, sidecars }) => self.planned(plan, sidecars)?,
            (Then::Removable(id), Reply::Removable(why)) => self.removable(id, why),
            (Then::Trash(id), Reply::Trash(trash)) => self.delete(id, trash),
            (then, reply) => return Err(mismatch(Some(&then), &reply)),
        }
        Ok(())
    }

    /// The plan came back: refuse, or journal the run and start deleting.
    fn planned(
        &mut self,
        plan: RetentionPlan,
        sidecars: BTreeMap<String, Vec<String>>,
    ) -> Result<()> {
        if let Some(r) = plan.refused.clone() {
            self.refuse(plan, r);
            return Ok(());
        }
        let deletions: Vec<String> = plan
            .deletions_oldest_first()
            .iter()
            .map(|d| d.id.clone())
            .collect();
        let (reviewed, resumed) = match &self.given {
            Some(given) => {
                match journal::reviewed_run(given, &plan.plan_hash, &deletions, &self.journal) {
                    Ok(r) => {
                        let resumed = r.resumed.then(|| r.hash.clone());
                        (Some(r.hash), resumed)
                    }
                    Err(refusal) => {
                        self.refuse(plan, refusal);
                        return Ok(());
                    }
                }
            }
            None => (None, None),
        };
        if self.journal.open_runs.is_empty() && self.journal.unfinished.is_empty() {
            // Compact: keep only the recent completions (re-applying a
            // completed plan hash stays a no-op instead of a refusal).
            let text = journal::compacted(&self.journal)?;
            self.queue.push_back((Step::RewriteJournal(text), Then::Go));
        }
        self.queue.push_back((
            Step::Journal(JournalEvent::Plan {
                plan_hash: plan.plan_hash.clone(),
                reviewed: reviewed.clone(),
                delete: deletions.clone(),
                at: self.at.clone(),
                profile: self.profile.clone(),
            }),
            Then::Go,
        ));
        self.run = Some(Run {
            plan,
            sidecars,
            deletions,
            next: 0,
            reviewed,
            resumed,
            deleted: Vec::new(),
        });
        Ok(())
    }

    fn refuse(&mut self, plan: RetentionPlan, refused: String) {
        self.end = Some(End::Refused {
            plan,
            refused,
            recovered: std::mem::take(&mut self.recovered),
        });
    }

    /// What changed since the plan (a link or a mount put in its place) is
    /// passed over, never followed, and the rest goes on.
    fn removable(&mut self, id: String, why: Option<String>) {
        match why {
            Some(why) => {
                if let Some(run) = &mut self.run {
                    run.plan
                        .warnings
                        .push(format!("{id}: {why}: passed over, not deleted"));
                }
            }
            None => self
                .queue
                .push_back((Step::TrashName { id: id.clone() }, Then::Trash(id))),
        }
    }

    /// The trash name is journalled before the entry is renamed to it.
    fn delete(&mut self, id: String, trash: String) {
        let sidecars = self
            .run
            .as_ref()
            .and_then(|r| r.sidecars.get(&id).cloned())
            .unwrap_or_default();
        self.queue.push_back((
            Step::Journal(JournalEvent::Deleting {
                id: id.clone(),
                sidecars: sidecars.clone(),
                trash: Some(trash.clone()),
            }),
            Then::Go,
        ));
        self.queue.push_back((
            Step::Remove {
                id: id.clone(),
                sidecars,
                trash,
            },
            Then::Go,
        ));
        self.queue.push_back((
            Step::Journal(JournalEvent::Deleted { id: id.clone() }),
            Then::Deleted(id),
        ));
    }

    /// Nothing queued: the next deletion, else the run's end.
    fn refill(&mut self) {
        let Some(run) = &mut self.run else {
            return;
        };
        if let Some(id) = run.deletions.get(run.next) {
            run.next += 1;
            self.queue.push_back((
                Step::CheckRemovable { id: id.clone() },
                Then::Removable(id.clone()),
            ));
        } else if !self.closed {
            self.closed = true;
            self.queue.push_back((
                Step::Journal(JournalEvent::Complete {
                    plan_hash: run.plan.plan_hash.clone(),
                    reviewed: run.reviewed.clone(),
                    at: self.at.clone(),
                }),
                Then::Go,
            ));
            self.queue.push_back((Step::Record, Then::Go));
        } else if let Some(run) = self.run.take() {
            self.end = Some(End::Applied {
                plan: run.plan,
                deleted: run.deleted,
                recovered: std::mem::take(&mut self.recovered),
                resumed: run.resumed,
            });
        }
    }
}

fn mismatch(then: Option<&Then>, reply: &Reply) -> Error {
    let wanted = match then {
        None => "the start",
        Some(Then::Go | Then::Recovered(_) | Then::Deleted(_)) => "done",
        Some(Then::Plan) => "a plan",
        Some(Then::Removable(_)) => "whether the entry is removable",
        Some(Then::Trash(_)) => "a trash name",
    };
    let reply = match reply {
        Reply::Start => "start",
        Reply::Done => "done",
        Reply::Planned { .. } => "a plan",
        Reply::Removable(_) => "whether the entry is removable",
        Reply::Trash(_) => "a trash name",
    };
    Error::Request(format!(
        "retention apply: the reply was {reply}, the step asked for {wanted}"
    ))
}

#[cfg(test)]
mod tests {
    //! The protocol driven through a model root (a set of names, a trash, a
    //! journal text) with faults injected at each step: no port is involved.

    use super::*;
    use crate::retention::{plan, Artifact, RetentionPolicy, RetentionPolicyPatch};
    use chrono::{DateTime, TimeDelta, Utc};

    fn now() -> DateTime<Utc> {
        "2026-02-05T12:00:00Z".parse().unwrap()
    }

    /// Where the host stops (a crash, or an error the run ends on).
    #[derive(Debug, Clone, PartialEq)]
    enum Fault {
        None,
        /// Killed right after the n-th journal append (1-based) is durable.
        AfterAppend(usize),
        /// Killed after `id` was renamed to its trash name, before the unlink.
        AfterRename(&'static str),
        /// The rename of `id` fails (nothing moves).
        RenameFails(&'static str),
    }

    /// The root as the host sees it.
    #[derive(Debug, Clone, Default)]
    struct Root {
        entries: BTreeSet<String>,
        trash: BTreeSet<String>,
        sidecars: BTreeMap<String, Vec<String>>,
        unsafe_now: BTreeMap<String, String>,
        journal: String,
        trash_names: usize,
        records: Vec<Vec<String>>,
    }

    impl Root {
        /// `d0` (today) … `d{n-1}` (n-1 days old); `d2` has a `.verified` sidecar.
        fn with(n: i64) -> Root {
            let mut r = Root::default();
            for d in 0..n {
                r.entries.insert(format!("d{d}"));
            }
            r.entries.insert("d2.verified".into());
            r.sidecars.insert("d2".into(), vec!["d2.verified".into()]);
            r
        }

        fn plan(&self) -> Reply {
            let artifacts: Vec<Artifact> = self
                .entries
                .iter()
                .filter(|e| !e.ends_with(".verified"))
                .map(|e| {
                    let days: i64 = e[1..].parse().unwrap();
                    Artifact::new(e.clone(), now() - TimeDelta::days(days))
                })
                .collect();
            let policy = RetentionPolicyPatch {
                keep_last: Some(1),
                ..Default::default()
            }
            .apply_to(&RetentionPolicy::default());
            Reply::Planned {
                plan: plan(&artifacts, &policy, now()).unwrap(),
                sidecars: self.sidecars.clone(),
            }
        }

        /// The planned hash over the root as it is now.
        fn plan_hash(&self) -> String {
            match self.plan() {
                Reply::Planned { plan, .. } => plan.plan_hash,
                _ => unreachable!(),
            }
        }

        fn artifacts(&self) -> Vec<&str> {
            self.entries.iter().map(String::as_str).collect()
        }

        /// Runs one apply to its end or to the fault: the steps taken, and
        /// the end (`None` when it stopped at the fault).
        fn run(&mut self, reviewed: Option<&str>, fault: Fault) -> (Vec<Step>, Option<End>) {
            let state = journal::replay(&self.journal);
            let mut m = Apply::new(
                state,
                &self.entries.clone(),
                reviewed.map(String::from),
                "p",
                "t".into(),
            );
            let mut steps = Vec::new();
            let mut appends = 0;
            let mut reply = Reply::Start;
            loop {
                let step = m.next(reply).unwrap();
                steps.push(step.clone());
                reply = match step {
                    Step::Finished => return (steps, m.finish()),
                    Step::Journal(ev) => {
                        self.journal.push_str(&(ev.to_line() + "\n"));
                        appends += 1;
                        if fault == Fault::AfterAppend(appends) {
                            return (steps, None);
                        }
                        Reply::Done
                    }
                    Step::Remove {
                        id,
                        sidecars,
                        trash,
                    } => {
                        if fault == Fault::RenameFails(static_str(&id)) {
                            return (steps, None);
                        }
                        if self.entries.remove(&id) {
                            assert!(self.trash.insert(trash.clone()), "never replaces");
                        }
                        if fault == Fault::AfterRename(static_str(&id)) {
                            return (steps, None);
                        }
                        for s in &sidecars {
                            self.entries.remove(s);
                        }
                        self.trash.remove(&trash);
                        Reply::Done
                    }
                    Step::RewriteJournal(text) => {
                        self.journal = text;
                        Reply::Done
                    }
                    Step::Plan => self.plan(),
                    Step::CheckRemovable { id } => {
                        Reply::Removable(self.unsafe_now.get(&id).cloned())
                    }
                    Step::TrashName { .. } => {
                        self.trash_names += 1;
                        Reply::Trash(format!("{}{}", journal::TRASH_PREFIX, self.trash_names))
                    }
                    Step::Record => {
                        self.records.push(m.record().unwrap().deleted.to_vec());
                        Reply::Done
                    }
                };
            }
        }
    }

    fn static_str(id: &str) -> &'static str {
        ["d0", "d1", "d2", "d3", "d4"]
            .into_iter()
            .find(|s| *s == id)
            .unwrap_or("")
    }

    fn applied(end: Option<End>) -> (Vec<String>, Vec<String>, Option<String>) {
        match end {
            Some(End::Applied {
                deleted,
                recovered,
                resumed,
                ..
            }) => (deleted, recovered, resumed),
            other => panic!("not applied: {other:?}"),
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The root every run converges to: the newest artifact, nothing in the
    /// trash, a journal with nothing open or unfinished.
    fn assert_converged(root: &Root) {
        assert_eq!(root.artifacts(), ["d0"]);
        assert!(root.trash.is_empty(), "trash left: {:?}", root.trash);
        let st = journal::replay(&root.journal);
        assert!(
            st.open_runs.is_empty() && st.unfinished.is_empty(),
            "{st:?}"
        );
    }

    #[test]
    fn a_normal_run_journals_each_trash_name_before_the_rename() {
        let mut root = Root::with(4);
        let (steps, end) = root.run(None, Fault::None);
        let (deleted, recovered, resumed) = applied(end);
        assert_eq!(deleted, ids(&["d3", "d2", "d1"]), "oldest first");
        assert!(recovered.is_empty() && resumed.is_none());
        assert_converged(&root);
        assert_eq!(root.records, vec![deleted.clone()]);
        // One deletion, step by step: check, trash name, `deleting` with that
        // name, the removal through it, `deleted`.
        let d2 = steps
            .iter()
            .position(|s| *s == Step::CheckRemovable { id: "d2".into() })
            .unwrap();
        let trash = format!("{}2", journal::TRASH_PREFIX);
        assert_eq!(
            steps[d2..d2 + 5],
            [
                Step::CheckRemovable { id: "d2".into() },
                Step::TrashName { id: "d2".into() },
                Step::Journal(JournalEvent::Deleting {
                    id: "d2".into(),
                    sidecars: ids(&["d2.verified"]),
                    trash: Some(trash.clone()),
                }),
                Step::Remove {
                    id: "d2".into(),
                    sidecars: ids(&["d2.verified"]),
                    trash,
                },
                Step::Journal(JournalEvent::Deleted { id: "d2".into() }),
            ]
        );
        // Framed by the plan (after compaction) and the completion, then recorded.
        assert_eq!(steps[0], Step::Plan);
        assert!(matches!(steps[1], Step::RewriteJournal(_)));
        assert!(matches!(
            &steps[2],
            Step::Journal(JournalEvent::Plan { delete, .. }) if *delete == deleted
        ));
        let n = steps.len();
        assert!(matches!(
            steps[n - 3],
            Step::Journal(JournalEvent::Complete { .. })
        ));
        assert_eq!(steps[n - 2..], [Step::Record, Step::Finished]);
        // Run again: nothing left to do.
        let (deleted, recovered, _) = applied(root.run(None, Fault::None).1);
        assert!(deleted.is_empty() && recovered.is_empty());
    }

    #[test]
    fn killed_after_journalling_the_trash_name_before_the_rename() {
        let mut root = Root::with(4);
        // Appends: 1 plan, 2 deleting d3.
        let (_, end) = root.run(None, Fault::AfterAppend(2));
        assert!(end.is_none());
        assert!(root.entries.contains("d3") && root.trash.is_empty());
        assert!(journal::replay(&root.journal).unfinished.contains_key("d3"));
        // The entry is still there: nothing is recovered, the plan deletes it again.
        let (steps, end) = root.run(None, Fault::None);
        let (deleted, recovered, _) = applied(end);
        assert!(recovered.is_empty());
        assert_eq!(deleted, ids(&["d3", "d2", "d1"]));
        assert!(
            !steps.iter().any(|s| matches!(s, Step::RewriteJournal(_))),
            "a journal with unfinished work is not compacted"
        );
        assert_converged(&root);
    }

    #[test]
    fn killed_after_the_rename_before_the_unlink() {
        let mut root = Root::with(4);
        let (_, end) = root.run(None, Fault::AfterRename("d2"));
        assert!(end.is_none());
        assert!(!root.entries.contains("d2"));
        assert_eq!(root.trash.len(), 1, "d2 lies in the trash");
        assert!(root.entries.contains("d2.verified"), "its sidecar too");
        // The next run removes the trash the journal names, first.
        let (steps, end) = root.run(None, Fault::None);
        let trash = format!("{}2", journal::TRASH_PREFIX);
        assert_eq!(
            steps[..2],
            [
                Step::Remove {
                    id: "d2".into(),
                    sidecars: ids(&["d2.verified"]),
                    trash,
                },
                Step::Journal(JournalEvent::Deleted { id: "d2".into() }),
            ]
        );
        let (deleted, recovered, _) = applied(end);
        assert_eq!(recovered, ids(&["d2"]));
        assert_eq!(deleted, ids(&["d1"]));
        assert_converged(&root);
    }

    #[test]
    fn a_failed_rename_leaves_the_entry_and_the_next_run_deletes_it() {
        let mut root = Root::with(4);
        let (steps, end) = root.run(None, Fault::RenameFails("d2"));
        assert!(end.is_none());
        assert!(matches!(steps.last(), Some(Step::Remove { id, .. }) if id == "d2"));
        assert!(root.entries.contains("d2") && root.trash.is_empty());
        assert!(root.records.is_empty(), "a run that failed is not recorded");
        let (deleted, recovered, _) = applied(root.run(None, Fault::None).1);
        assert!(recovered.is_empty(), "d2 was never moved");
        assert_eq!(deleted, ids(&["d2", "d1"]));
        assert_converged(&root);
    }

    #[test]
    fn killed_at_any_step_a_run_again_ends_where_an_uninterrupted_run_would() {
        let mut whole = Root::with(5);
        let (steps, _) = whole.run(None, Fault::None);
        let appends = steps
            .iter()
            .filter(|s| matches!(s, Step::Journal(_)))
            .count();
        let mut faults: Vec<Fault> = (1..=appends).map(Fault::AfterAppend).collect();
        for id in ["d4", "d3", "d2", "d1"] {
            faults.push(Fault::AfterRename(id));
            faults.push(Fault::RenameFails(id));
        }
        for fault in faults {
            let mut root = Root::with(5);
            root.run(None, fault.clone());
            let (_, end) = root.run(None, Fault::None);
            assert!(matches!(end, Some(End::Applied { .. })), "{fault:?}");
            assert_eq!(root.entries, whole.entries, "{fault:?}");
            assert_converged(&root);
        }
    }

    #[test]
    fn a_reviewed_plan_killed_half_way_is_resumed_then_a_no_op() {
        let mut root = Root::with(4);
        let hash = root.plan_hash();
        // Appends: 1 plan, 2-3 d3, 4-5 d2: killed after d2 is deleted.
        root.run(Some(&hash), Fault::AfterAppend(5));
        assert_ne!(root.plan_hash(), hash, "the plan now computes otherwise");
        let (deleted, _, resumed) = applied(root.run(Some(&hash), Fault::None).1);
        assert_eq!(deleted, ids(&["d1"]));
        assert_eq!(resumed.as_deref(), Some(hash.as_str()));
        assert_converged(&root);
        let (deleted, _, resumed) = applied(root.run(Some(&hash), Fault::None).1);
        assert!(deleted.is_empty());
        assert_eq!(resumed.as_deref(), Some(hash.as_str()), "done already");
    }

    #[test]
    fn a_plan_that_changed_since_review_is_refused_before_anything_is_journalled() {
        let mut root = Root::with(4);
        let hash = root.plan_hash();
        root.entries.insert("d9".into());
        let (steps, end) = root.run(Some(&hash), Fault::None);
        assert_eq!(steps, [Step::Plan, Step::Finished]);
        assert!(
            matches!(end, Some(End::Refused { refused, .. }) if refused.contains("the plan changed"))
        );
        assert!(root.journal.is_empty());
    }

    #[test]
    fn an_entry_no_longer_safe_is_passed_over_with_a_warning() {
        let mut root = Root::with(4);
        root.unsafe_now
            .insert("d2".into(), "a symbolic link".into());
        match root.run(None, Fault::None).1 {
            Some(End::Applied { deleted, plan, .. }) => {
                assert_eq!(deleted, ids(&["d3", "d1"]));
                assert!(plan
                    .warnings
                    .contains(&"d2: a symbolic link: passed over, not deleted".to_string()));
            }
            other => panic!("{other:?}"),
        }
        assert!(root.entries.contains("d2"));
    }

    #[test]
    fn a_reply_that_does_not_answer_the_step_is_an_error() {
        let mut m = Apply::new(
            JournalState::default(),
            &BTreeSet::new(),
            None,
            "p",
            "t".into(),
        );
        assert!(m.next(Reply::Done).is_err(), "no step was asked for");
        assert_eq!(m.next(Reply::Start).unwrap(), Step::Plan);
        let e = m.next(Reply::Trash("x".into())).unwrap_err().to_string();
        assert!(e.contains("the step asked for a plan"), "{e}");
        assert!(m.finish().is_none(), "a run that did not end has no end");
    }
}
