//! The retention journal: what an apply records before each step, how a
//! later run reads it back, and which reviewed plan a run may carry out. Pure:
//! the journal's text comes in, decisions go out; the host reads and appends.
//!
//! A run appends `plan` (the hashes and the deletions it will make), then for
//! each artifact `deleting` (with its sidecars and the trash name it will use,
//! recorded *before* the rename) and `deleted`, and finally `complete`. A run
//! killed anywhere leaves a journal from which [`replay`] tells the next run
//! what was half done.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Completed plan hashes kept when the journal is compacted.
pub const COMPLETIONS_KEPT: usize = 100;

/// Prefix of the hidden names entries are renamed to before they are removed.
pub const TRASH_PREFIX: &str = ".ssot-trash-";

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum JournalEvent {
    /// A run starts.
    Plan {
        /// The hash of the plan computed by this run.
        plan_hash: String,
        /// The reviewed hash (`plan_hash` given by the user) this run carries out, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reviewed: Option<String>,
        /// The deletions it will make, oldest first.
        delete: Vec<String>,
        /// When.
        at: String,
        /// The retention profile.
        profile: String,
    },
    /// A deletion starts.
    Deleting {
        /// The artifact.
        id: String,
        /// Its sidecar markers, removed with it.
        sidecars: Vec<String>,
        /// The trash name, recorded before it is used (absent in old journals).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trash: Option<String>,
    },
    /// A deletion finished.
    Deleted {
        /// The artifact.
        id: String,
    },
    /// A run finished.
    Complete {
        /// The plan's hash.
        plan_hash: String,
        /// The reviewed hash it carried out, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reviewed: Option<String>,
        /// When.
        at: String,
    },
}

impl JournalEvent {
    /// The event as one journal line (without the newline).
    pub fn to_line(&self) -> String {
        // A value of these field types always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A run that started and did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRun {
    /// Its hashes: computed, and reviewed if any.
    pub hashes: Vec<String>,
    /// Planned deletions not yet done.
    pub ids: BTreeSet<String>,
}

/// What a journal says, read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalState {
    /// Plans started since the last completion.
    pub open_runs: Vec<OpenRun>,
    /// Deletions started but not recorded as finished: sidecars and trash name.
    pub unfinished: BTreeMap<String, (Vec<String>, String)>,
    /// Hashes (computed and reviewed) of runs that completed.
    pub completed: Vec<String>,
}

/// Reads a journal back. A torn last line (a crash mid-append) recorded
/// nothing done and is ignored.
pub fn replay(text: &str) -> JournalState {
    let mut st = JournalState::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(ev) = serde_json::from_str::<JournalEvent>(line) else {
            continue;
        };
        match ev {
            JournalEvent::Plan {
                plan_hash,
                reviewed,
                delete,
                ..
            } => st.open_runs.push(OpenRun {
                hashes: std::iter::once(plan_hash).chain(reviewed).collect(),
                ids: delete.into_iter().collect(),
            }),
            JournalEvent::Deleting {
                id,
                sidecars,
                trash,
            } => {
                // Journals before trash names were recorded used `.ssot-trash-<id>`.
                let trash = trash.unwrap_or_else(|| format!("{TRASH_PREFIX}{id}"));
                st.unfinished.insert(id, (sidecars, trash));
            }
            JournalEvent::Deleted { id } => {
                st.unfinished.remove(&id);
                for run in &mut st.open_runs {
                    run.ids.remove(&id);
                }
            }
            JournalEvent::Complete {
                plan_hash,
                reviewed,
                ..
            } => {
                st.open_runs.clear();
                st.unfinished.clear();
                st.completed.push(plan_hash);
                st.completed.extend(reviewed);
            }
        }
    }
    st
}

/// The journal's text after compaction: only the most recent completions, so
/// that re-applying a completed reviewed plan stays a no-op.
pub fn compacted(st: &JournalState) -> Result<String> {
    let keep_from = st.completed.len().saturating_sub(COMPLETIONS_KEPT);
    let mut text = String::new();
    for h in &st.completed[keep_from..] {
        let ev = JournalEvent::Complete {
            plan_hash: h.clone(),
            reviewed: None,
            at: String::new(),
        };
        text.push_str(&ev.to_line());
        text.push('\n');
    }
    Ok(text)
}

/// The reviewed plan a run carries out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewedRun {
    /// The full reviewed hash (a prefix was given, perhaps).
    pub hash: String,
    /// True when this run finishes an interrupted run of that hash, or finds it done.
    pub resumed: bool,
}

/// Decides whether a plan whose hash is `computed`, deleting `deletions`, may
/// be applied as the reviewed plan `given` (a full hash or a unique prefix of
/// at least [`super::PLAN_HASH_MIN_PREFIX`] hex digits): when it is that
/// plan, the rest of an interrupted run of it, or that plan already fully
/// applied. `Err` is the refusal, in words.
pub fn reviewed_run(
    given: &str,
    computed: &str,
    deletions: &[String],
    journal: &JournalState,
) -> std::result::Result<ReviewedRun, String> {
    let given_lc = given.to_ascii_lowercase();
    let hash = if computed.starts_with(&given_lc) {
        computed.to_string()
    } else {
        let known: BTreeSet<&str> = journal
            .open_runs
            .iter()
            .flat_map(|r| r.hashes.iter())
            .chain(journal.completed.iter())
            .map(String::as_str)
            .filter(|h| h.starts_with(&given_lc))
            .collect();
        match known.len() {
            0 => {
                return Err(format!(
                    "the plan changed since it was reviewed: it now hashes to {computed}, not {given}; review the plan again"
                ))
            }
            1 => known.into_iter().next().unwrap_or_default().to_string(),
            _ => {
                return Err(format!(
                    "the plan hash {given} is ambiguous: it is the start of {}; give more digits",
                    known.into_iter().collect::<Vec<_>>().join(" and ")
                ))
            }
        }
    };
    if hash == computed {
        return Ok(ReviewedRun {
            hash,
            resumed: false,
        });
    }
    let wanted: BTreeSet<&String> = deletions.iter().collect();
    let open = journal
        .open_runs
        .iter()
        .any(|run| run.hashes.contains(&hash) && wanted.iter().all(|d| run.ids.contains(*d)));
    let done = deletions.is_empty() && journal.completed.contains(&hash);
    if open || done {
        Ok(ReviewedRun {
            hash,
            resumed: true,
        })
    } else {
        Err(format!(
            "the plan changed since it was reviewed: it now hashes to {computed}, not {hash}; review the plan again"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(evs: &[JournalEvent]) -> String {
        evs.iter().map(|e| e.to_line() + "\n").collect()
    }

    fn plan(hash: &str, reviewed: Option<&str>, delete: &[&str]) -> JournalEvent {
        JournalEvent::Plan {
            plan_hash: hash.into(),
            reviewed: reviewed.map(String::from),
            delete: delete.iter().map(|s| s.to_string()).collect(),
            at: "t".into(),
            profile: "p".into(),
        }
    }

    const H: &str = "aaaaaaaaaaaa1111";
    const H2: &str = "bbbbbbbbbbbb2222";

    #[test]
    fn a_run_killed_mid_deletion_is_replayed() {
        let torn = lines(&[
            plan(H, Some(H), &["a", "b", "c"]),
            JournalEvent::Deleting {
                id: "a".into(),
                sidecars: vec![],
                trash: Some(".ssot-trash-1".into()),
            },
            JournalEvent::Deleted { id: "a".into() },
            JournalEvent::Deleting {
                id: "b".into(),
                sidecars: vec!["b.verified".into()],
                trash: Some(".ssot-trash-2".into()),
            },
        ]) + "{\"event\":\"del";
        let st = replay(&torn);
        assert_eq!(st.open_runs.len(), 1);
        assert_eq!(
            st.open_runs[0].ids,
            ["b", "c"].iter().map(|s| s.to_string()).collect()
        );
        assert_eq!(
            st.unfinished["b"],
            (vec!["b.verified".into()], ".ssot-trash-2".into())
        );
        assert!(st.completed.is_empty());
    }

    #[test]
    fn old_journals_name_their_trash_by_id() {
        let st = replay(r#"{"event":"deleting","id":"x","sidecars":[]}"#);
        assert_eq!(st.unfinished["x"].1, ".ssot-trash-x");
    }

    #[test]
    fn a_reviewed_plan_resumes_and_is_then_a_no_op() {
        // Interrupted after deleting a: the plan now computes H2 with b, c left.
        let mid = replay(&lines(&[
            plan(H, Some(H), &["a", "b", "c"]),
            JournalEvent::Deleted { id: "a".into() },
        ]));
        let left = vec!["b".to_string(), "c".to_string()];
        assert_eq!(
            reviewed_run(H, H2, &left, &mid),
            Ok(ReviewedRun {
                hash: H.into(),
                resumed: true
            })
        );
        // Completed by the resumed run, which records H as reviewed.
        let done = replay(&lines(&[
            plan(H, Some(H), &["a", "b", "c"]),
            JournalEvent::Deleted { id: "a".into() },
            plan(H2, Some(H), &["b", "c"]),
            JournalEvent::Complete {
                plan_hash: H2.into(),
                reviewed: Some(H.into()),
                at: "t".into(),
            },
        ]));
        let r = reviewed_run(H, "cccccccccccc3333", &[], &done).unwrap();
        assert!(r.resumed, "a completed reviewed plan is a no-op");
        // New deletions since: the reviewed plan no longer covers them.
        let e = reviewed_run(H, "cccccccccccc3333", &["d".into()], &done).unwrap_err();
        assert!(e.contains("the plan changed"), "{e}");
    }

    #[test]
    fn prefixes_resolve_or_are_ambiguous() {
        let st = JournalState {
            completed: vec!["abcdef0123456789".into(), "abcdef012345ffff".into()],
            ..Default::default()
        };
        let e = reviewed_run("abcdef012345", "0000", &[], &st).unwrap_err();
        assert!(e.contains("ambiguous"), "{e}");
        assert_eq!(
            reviewed_run("ABCDEF0123456", "0000", &[], &st)
                .unwrap()
                .hash,
            "abcdef0123456789"
        );
        assert!(!reviewed_run("0000", "0000ffff", &[], &st).unwrap().resumed);
    }

    #[test]
    fn compaction_keeps_recent_completions() {
        let st = JournalState {
            completed: (0..COMPLETIONS_KEPT + 5).map(|i| format!("h{i}")).collect(),
            ..Default::default()
        };
        let text = compacted(&st).unwrap();
        assert_eq!(text.lines().count(), COMPLETIONS_KEPT);
        assert!(!text.contains("\"h4\""));
        assert_eq!(
            replay(&text).completed.last().unwrap(),
            &format!("h{}", COMPLETIONS_KEPT + 4)
        );
    }
}
