//! Planning: every artifact's fate with its reasons.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::budget::enforce_budget;
use super::restic;
use super::{validate_id, Artifact, ArtifactState, RetentionPolicy, RetentionReason};
use crate::error::{Error, Result};
use crate::num::human_bytes;

/// The fewest hex digits of a reviewed plan hash that are accepted.
pub const PLAN_HASH_MIN_PREFIX: usize = 12;

/// Checks a reviewed plan hash as given: the full 64 hex digits of
/// `plan_hash`, or a prefix of at least [`PLAN_HASH_MIN_PREFIX`].
pub fn check_plan_hash_prefix(h: &str) -> Result<()> {
    let message = if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        "a plan hash is hex digits".to_string()
    } else if h.len() > 64 {
        "longer than a plan hash (64 hex digits)".to_string()
    } else if h.len() < PLAN_HASH_MIN_PREFIX {
        format!(
            "the plan hash is incomplete: give at least {PLAN_HASH_MIN_PREFIX} of its 64 hex digits (the plan prints it as plan_hash)"
        )
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        what: "plan hash",
        value: h.into(),
        message,
    })
}

/// Keep or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Stays.
    Keep,
    /// Goes.
    Delete,
}

impl Action {
    /// `keep` or `delete`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Delete => "delete",
        }
    }
}

/// One artifact's fate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ArtifactDecision {
    /// The artifact id.
    pub id: String,
    /// Its group.
    pub group: String,
    /// Keep or delete.
    pub action: Action,
    /// Every reason, in the order they were found.
    pub reasons: Vec<RetentionReason>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Size, when known.
    pub size_bytes: Option<u64>,
    /// State.
    pub state: ArtifactState,
}

/// Totals of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Summary {
    /// Artifacts considered.
    pub total: usize,
    /// Kept.
    pub kept: usize,
    /// Deleted.
    pub deleted: usize,
    /// Bytes kept (known sizes only).
    pub kept_bytes: u64,
    /// Bytes freed (known sizes only).
    pub freed_bytes: u64,
    /// Verified artifacts kept.
    pub verified_kept: usize,
    /// Groups.
    pub groups: usize,
}

/// The outcome of [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[must_use]
pub struct RetentionPlan {
    /// Every artifact, by group, newest first.
    pub decisions: Vec<ArtifactDecision>,
    /// Things a person should look at before applying.
    pub warnings: Vec<String>,
    /// Totals.
    pub summary: Summary,
    /// Set when the plan must not be applied (e.g. over `max_delete`).
    pub refused: Option<String>,
    /// sha256 of the decisions (group, id, action), hex.
    pub plan_hash: String,
    /// The evaluation time.
    pub now: DateTime<Utc>,
}

impl RetentionPlan {
    /// A plan that lists nothing and must not be applied, for `reason`.
    pub fn refused(reason: String, now: DateTime<Utc>) -> Self {
        RetentionPlan {
            decisions: Vec::new(),
            warnings: vec![reason.clone()],
            summary: Summary::default(),
            refused: Some(reason),
            plan_hash: plan_hash(&[]),
            now,
        }
    }

    /// Decisions with the given action.
    pub fn with_action(&self, action: Action) -> impl Iterator<Item = &ArtifactDecision> {
        self.decisions.iter().filter(move |d| d.action == action)
    }

    /// Deletions in the order they are to be carried out: oldest first.
    pub fn deletions_oldest_first(&self) -> Vec<&ArtifactDecision> {
        let mut v: Vec<_> = self.with_action(Action::Delete).collect();
        v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        v
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    group: &'a str,
    created_at: String,
    size_bytes: Option<u64>,
    state: ArtifactState,
    reasons: &'a [RetentionReason],
}

impl Serialize for RetentionPlan {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let list = |a: Action| -> Vec<Entry> {
            self.with_action(a)
                .map(|d| Entry {
                    id: &d.id,
                    group: &d.group,
                    created_at: crate::time::timestamp(d.created_at),
                    size_bytes: d.size_bytes,
                    state: d.state,
                    reasons: &d.reasons,
                })
                .collect()
        };
        let mut st = s.serialize_struct("RetentionPlan", 7)?;
        st.serialize_field("keep", &list(Action::Keep))?;
        st.serialize_field("delete", &list(Action::Delete))?;
        st.serialize_field("warnings", &self.warnings)?;
        st.serialize_field("summary", &self.summary)?;
        st.serialize_field("refused", &self.refused)?;
        st.serialize_field("plan_hash", &self.plan_hash)?;
        st.serialize_field("now", &crate::time::timestamp(self.now))?;
        st.end()
    }
}

/// The plan hash: sha256 over `group \t id \t action \n` lines, sorted.
pub fn plan_hash(decisions: &[ArtifactDecision]) -> String {
    let mut lines: Vec<String> = decisions
        .iter()
        .map(|d| {
            let a = match d.action {
                Action::Keep => "keep",
                Action::Delete => "delete",
            };
            format!("{}\t{}\t{a}\n", d.group, d.id)
        })
        .collect();
    lines.sort();
    let mut h = Sha256::new();
    for l in &lines {
        h.update(l.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Working state for one artifact.
pub(super) struct Slot<'a> {
    pub(super) a: &'a Artifact,
    pub(super) keep: Vec<RetentionReason>,
    pub(super) delete: Vec<RetentionReason>,
    /// Protected by a floor (pinned, min_keep, min_verified): the budget may not take it.
    pub(super) floor: bool,
}

/// Plans retention. Pure. `Err` for input that cannot be planned safely:
/// duplicate or unsafe ids, a parent cycle, an unknown time zone.
pub fn plan(
    artifacts: &[Artifact],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<RetentionPlan> {
    let tz = policy.tz()?;
    let mut seen = HashMap::new();
    for a in artifacts {
        validate_id(&a.id)?;
        if seen.insert(a.id.as_str(), a).is_some() {
            return Err(Error::Artifact {
                id: a.id.clone(),
                message: "the id appears twice".into(),
            });
        }
    }
    check_parent_cycles(artifacts, &seen)?;

    let mut warnings = Vec::new();
    let mut slots: Vec<Slot> = artifacts
        .iter()
        .map(|a| Slot {
            a,
            keep: Vec::new(),
            delete: Vec::new(),
            floor: false,
        })
        .collect();
    // Newest first within each group; ties by id, for determinism.
    slots.sort_by(|x, y| {
        (x.a.group_name(), std::cmp::Reverse(x.a.created_at), &x.a.id).cmp(&(
            y.a.group_name(),
            std::cmp::Reverse(y.a.created_at),
            &y.a.id,
        ))
    });
    let index: HashMap<&str, usize> = slots
        .iter()
        .enumerate()
        .map(|(i, s)| (s.a.id.as_str(), i))
        .collect();

    for a in artifacts {
        if a.created_at > now {
            warnings.push(format!(
                "{} is dated {} in the future (clock skew?); restic-style rules still count it",
                a.id,
                crate::num::human_secs((a.created_at - now).num_seconds() as f64)
            ));
        }
        if let Some(p) = &a.parent {
            if !seen.contains_key(p.as_str()) {
                warnings.push(format!(
                    "{}'s parent {p} is not among the artifacts: {} cannot be restored",
                    a.id, a.id
                ));
            }
        }
    }

    let groups: BTreeSet<String> = slots.iter().map(|s| s.a.group_name().to_string()).collect();
    for g in &groups {
        let members: Vec<usize> = (0..slots.len())
            .filter(|i| slots[*i].a.group_name() == g)
            .collect();
        rules_for_group(&mut slots, &members, policy, tz, now);
        floors_for_group(&mut slots, &members, policy, g, &mut warnings);
    }
    keep_for_unknown_parents(&mut slots, &mut warnings);
    keep_parents(&mut slots, &index);
    let members_of = |slots: &[Slot], g: &str| -> Vec<usize> {
        (0..slots.len())
            .filter(|i| slots[*i].a.group_name() == g)
            .collect()
    };
    if let Some(budget) = policy.max_total_size {
        // Evicting in one group can free a parent in another (cross-group
        // parents), so repeat until a whole pass evicts nothing.
        loop {
            let mut evicted = 0;
            for g in &groups {
                let members = members_of(&slots, g);
                evicted += enforce_budget(&mut slots, &members, &index, budget).evicted;
            }
            if evicted == 0 {
                break;
            }
        }
        for g in &groups {
            let members = members_of(&slots, g);
            let b = enforce_budget(&mut slots, &members, &index, budget);
            if b.unknown_sizes {
                warnings.push(format!(
                    "group {g}: some artifacts have no known size; the {budget} budget counts them as 0"
                ));
            }
            if b.total > budget.bytes() as u128 {
                warnings.push(format!(
                    "group {g}: {} kept is still over the {budget} budget; everything left is protected (pinned, min_keep, min_verified or a parent of a kept artifact)",
                    human_bytes(u64::try_from(b.total).unwrap_or(u64::MAX))
                ));
            }
        }
    }
    for g in &groups {
        let members = members_of(&slots, g);
        if policy.min_verified > 0 {
            let kept_verified = members
                .iter()
                .filter(|i| is_verified_copy(slots[**i].a) && !slots[**i].keep.is_empty())
                .count();
            if kept_verified < policy.min_verified as usize {
                warnings.push(format!(
                    "group {g}: only {kept_verified} verified artifact(s) would remain, min_verified is {}",
                    policy.min_verified
                ));
            }
        }
        let kept_complete = members
            .iter()
            .filter(|i| {
                slots[**i].a.state == ArtifactState::Complete && !slots[**i].keep.is_empty()
            })
            .count();
        if kept_complete == 0
            && members
                .iter()
                .any(|i| slots[*i].a.state == ArtifactState::Complete)
        {
            warnings.push(format!("group {g}: no complete artifact would remain"));
        }
    }

    let decisions: Vec<ArtifactDecision> = slots
        .iter()
        .map(|s| {
            let action = if s.keep.is_empty() {
                Action::Delete
            } else {
                Action::Keep
            };
            ArtifactDecision {
                id: s.a.id.clone(),
                group: s.a.group_name().to_string(),
                action,
                reasons: if action == Action::Keep {
                    s.keep.clone()
                } else {
                    s.delete.clone()
                },
                created_at: s.a.created_at,
                size_bytes: s.a.size_bytes,
                state: s.a.state,
            }
        })
        .collect();
    let mut summary = Summary {
        total: decisions.len(),
        groups: groups.len(),
        ..Summary::default()
    };
    for d in &decisions {
        match d.action {
            Action::Keep => {
                summary.kept += 1;
                summary.kept_bytes = summary.kept_bytes.saturating_add(d.size_bytes.unwrap_or(0));
                if seen.get(d.id.as_str()).is_some_and(|a| is_verified_copy(a)) {
                    summary.verified_kept += 1;
                }
            }
            Action::Delete => {
                summary.deleted += 1;
                summary.freed_bytes = summary
                    .freed_bytes
                    .saturating_add(d.size_bytes.unwrap_or(0));
            }
        }
    }
    let refused = policy.max_delete.and_then(|m| {
        let limit = m.limit(summary.total);
        (summary.deleted as u64 > limit).then(|| {
            format!(
                "the plan deletes {} of {} artifacts, more than max_delete {m} ({limit}): refused as a whole",
                summary.deleted, summary.total
            )
        })
    });
    if let Some(r) = &refused {
        warnings.push(r.clone());
    }
    Ok(RetentionPlan {
        plan_hash: plan_hash(&decisions),
        decisions,
        warnings,
        summary,
        refused,
        now,
    })
}

fn is_verified_copy(a: &Artifact) -> bool {
    a.verified && a.state == ArtifactState::Complete
}

/// Finds a parent cycle in linear time: each artifact is walked at most once
/// (a walk stops at an artifact already known to end its chain).
fn check_parent_cycles(artifacts: &[Artifact], by_id: &HashMap<&str, &Artifact>) -> Result<()> {
    let index: HashMap<&str, usize> = artifacts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let parent = |i: usize| -> Option<usize> {
        artifacts[i]
            .parent
            .as_deref()
            .filter(|p| by_id.contains_key(p))
            .and_then(|p| index.get(p).copied())
    };
    if let Some(i) = first_cycle(artifacts.len(), parent) {
        return Err(Error::ParentCycle {
            id: artifacts[i].id.clone(),
        });
    }
    Ok(())
}

/// A node on a cycle of the graph where each node has at most one parent,
/// found with each node visited at most twice: once on a walk, once marked done.
pub fn first_cycle(n: usize, mut parent: impl FnMut(usize) -> Option<usize>) -> Option<usize> {
    // 0 = unvisited, w + 1 = on walk w (still open), usize::MAX = done.
    let mut mark = vec![0usize; n];
    let mut path = Vec::new();
    for start in 0..n {
        if mark[start] != 0 {
            continue;
        }
        let walk = start + 1;
        let mut cur = Some(start);
        while let Some(i) = cur {
            if mark[i] == walk {
                return Some(i);
            }
            if mark[i] != 0 {
                break;
            }
            mark[i] = walk;
            path.push(i);
            cur = parent(i);
        }
        for i in path.drain(..) {
            mark[i] = usize::MAX;
        }
    }
    None
}

fn rules_for_group(
    slots: &mut [Slot],
    members: &[usize],
    policy: &RetentionPolicy,
    tz: Tz,
    now: DateTime<Utc>,
) {
    let complete: Vec<usize> = members
        .iter()
        .copied()
        .filter(|i| slots[*i].a.state == ArtifactState::Complete)
        .collect();
    let grace = policy.partial_grace;
    for &i in members {
        let s = &mut slots[i];
        if s.a.state == ArtifactState::Complete {
            continue;
        }
        let within = now - s.a.created_at < grace.to_delta();
        let reason = RetentionReason::Grace {
            state: s.a.state,
            within,
            grace,
        };
        if within {
            s.keep.push(reason);
        } else {
            s.delete.push(reason);
        }
    }
    if policy.has_no_rule() {
        for &i in &complete {
            slots[i].keep.push(RetentionReason::NoRule);
        }
        return;
    }
    let times: Vec<DateTime<Utc>> = complete.iter().map(|i| slots[*i].a.created_at).collect();
    let restic = restic::apply(&times, policy.counts(), policy.within_rules(), tz, now);
    for (k, &i) in complete.iter().enumerate() {
        slots[i].keep.extend(restic[k].iter().cloned());
    }
    if let Some(age) = policy.max_age {
        let cutoff = crate::num::minus(now, age);
        for &i in &complete {
            if slots[i].a.created_at >= cutoff {
                slots[i].keep.push(RetentionReason::YoungerThanMaxAge(age));
            } else {
                slots[i].delete.push(RetentionReason::OlderThanMaxAge(age));
            }
        }
    }
    if let Some(w) = policy.recovery_window {
        let start = crate::num::minus(now, w);
        let mut newest_before = None;
        for &i in &complete {
            if slots[i].a.created_at >= start {
                slots[i].keep.push(RetentionReason::InsideRecoveryWindow(w));
            } else if newest_before.is_none() {
                newest_before = Some(i);
            }
        }
        if let Some(i) = newest_before {
            slots[i]
                .keep
                .push(RetentionReason::NewestBeforeRecoveryWindow(w));
        }
    }
    for &i in &complete {
        if slots[i].keep.is_empty() && slots[i].delete.is_empty() {
            slots[i]
                .delete
                .push(RetentionReason::NotKeptByAnyRule(policy.describe()));
        }
    }
}

fn floors_for_group(
    slots: &mut [Slot],
    members: &[usize],
    policy: &RetentionPolicy,
    group: &str,
    warnings: &mut Vec<String>,
) {
    for &i in members {
        if slots[i].a.pinned {
            slots[i].keep.push(RetentionReason::Pinned);
            slots[i].floor = true;
        }
    }
    // members are newest first.
    let complete: Vec<usize> = members
        .iter()
        .copied()
        .filter(|i| slots[*i].a.state == ArtifactState::Complete)
        .collect();
    if policy.min_keep > 0 {
        for &i in complete.iter().take(policy.min_keep as usize) {
            slots[i]
                .keep
                .push(RetentionReason::MinKeep(policy.min_keep));
            slots[i].floor = true;
        }
        if complete.len() < policy.min_keep as usize {
            warnings.push(format!(
                "group {group}: only {} complete artifact(s) exist, min_keep is {}",
                complete.len(),
                policy.min_keep
            ));
        }
    }
    if policy.min_verified > 0 {
        let verified: Vec<usize> = complete
            .iter()
            .copied()
            .filter(|i| slots[*i].a.verified)
            .collect();
        for &i in verified.iter().take(policy.min_verified as usize) {
            slots[i]
                .keep
                .push(RetentionReason::MinVerified(policy.min_verified));
            slots[i].floor = true;
        }
    }
}

/// An artifact whose parent is unknown is kept, and so is every artifact it
/// might depend on: any of them could be its parent. All are protected from
/// the size budget.
fn keep_for_unknown_parents(slots: &mut [Slot], warnings: &mut Vec<String>) {
    let unknown: Vec<String> = slots
        .iter()
        .filter(|s| s.a.parent_unknown)
        .map(|s| s.a.id.clone())
        .collect();
    let Some(first) = unknown.first() else {
        return;
    };
    warnings.push(format!(
        "the parent of {} is unknown: nothing is deleted while that is so",
        unknown.join(", ")
    ));
    for s in slots.iter_mut() {
        if s.a.parent_unknown {
            s.keep.push(RetentionReason::ParentUnknown);
        } else {
            s.keep.push(RetentionReason::MightBeParentOf(first.clone()));
        }
        s.floor = true;
    }
}

/// Keeps every parent of a kept artifact, transitively.
fn keep_parents(slots: &mut [Slot], index: &HashMap<&str, usize>) {
    let mut queue: Vec<usize> = (0..slots.len())
        .filter(|i| !slots[*i].keep.is_empty())
        .collect();
    while let Some(i) = queue.pop() {
        let child = slots[i].a.id.clone();
        let Some(p) = slots[i]
            .a
            .parent
            .as_deref()
            .and_then(|p| index.get(p))
            .copied()
        else {
            continue;
        };
        let reason = RetentionReason::ParentOf(child);
        let was_kept = !slots[p].keep.is_empty();
        if !slots[p].keep.contains(&reason) {
            slots[p].keep.push(reason);
        }
        if !was_kept {
            queue.push(p);
        }
    }
}
