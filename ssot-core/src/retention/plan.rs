//! Planning: every artifact's fate with its reasons.

use std::ops::Range;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use foldhash::HashMap;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::budget::enforce_budget;
use super::restic;
use super::{validate_id, Artifact, ArtifactState, ResticCompat, RetentionPolicy, RetentionReason};
use crate::error::{Error, Result};
use crate::num::human_bytes;
use crate::units::Span;

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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ArtifactDecision {
    /// The artifact id.
    pub id: String,
    /// Its group (one shared text per group of a plan).
    pub group: std::sync::Arc<str>,
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
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    created_at: Timestamp,
    size_bytes: Option<u64>,
    state: ArtifactState,
    reasons: &'a [RetentionReason],
}

/// A time serialized as state files write it ([`crate::time::timestamp`]),
/// without building a string for it first.
struct Timestamp(DateTime<Utc>);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let t = self.0;
        if !(0..=9999).contains(&t.year()) {
            return s.serialize_str(&crate::time::timestamp(t));
        }
        let mut b = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, t.year() as u32);
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        // A leap second (chrono keeps it in the nanoseconds) shows as :60.
        put(
            17,
            2,
            t.second() + u32::from(t.nanosecond() >= 1_000_000_000),
        );
        s.serialize_str(std::str::from_utf8(&b).unwrap_or_default())
    }
}

/// The entries of one action, serialized as a list one at a time.
struct Entries<'a>(&'a RetentionPlan, Action);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.with_action(self.1).map(|d| Entry {
            id: &d.id,
            group: &d.group,
            created_at: Timestamp(d.created_at),
            size_bytes: d.size_bytes,
            state: d.state,
            reasons: &d.reasons,
        }))
    }
}

impl Serialize for RetentionPlan {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RetentionPlan", 7)?;
        st.serialize_field("keep", &Entries(self, Action::Keep))?;
        st.serialize_field("delete", &Entries(self, Action::Delete))?;
        st.serialize_field("warnings", &self.warnings)?;
        st.serialize_field("summary", &self.summary)?;
        st.serialize_field("refused", &self.refused)?;
        st.serialize_field("plan_hash", &self.plan_hash)?;
        st.serialize_field("now", &crate::time::timestamp(self.now))?;
        st.end()
    }
}

/// The plan hash: sha256 over `group \t id \t action \n` lines, sorted
/// bytewise. Linear in practice: the lines are not built, and when no group
/// holds a tab and no id a byte at or below it, sorting reduces to ordering
/// the groups and, inside each, the ids (which a plan lists newest first, so
/// usually already in reverse order).
pub fn plan_hash(decisions: &[ArtifactDecision]) -> String {
    fn parts(d: &ArtifactDecision) -> [&[u8]; 6] {
        [
            d.group.as_bytes(),
            b"\t",
            d.id.as_bytes(),
            b"\t",
            d.action.as_str().as_bytes(),
            b"\n",
        ]
    }
    // Start from each run of one group reversed: a plan's order (groups
    // ascending, newest first) then usually becomes one ascending run.
    let mut order: Vec<usize> = Vec::with_capacity(decisions.len());
    let mut start = 0;
    for i in 1..=decisions.len() {
        if i == decisions.len() || decisions[i].group != decisions[start].group {
            order.extend((start..i).rev());
            start = i;
        }
    }
    let simple = decisions
        .iter()
        .all(|d| !d.group.contains('\t') && d.id.bytes().all(|b| b > b'\t'));
    if simple {
        // A group's lines are contiguous and ordered as `group \t` is; inside
        // a group the lines are ordered as (id, action).
        order.sort_by(|&x, &y| {
            let (a, b) = (&decisions[x], &decisions[y]);
            let groups = if a.group == b.group {
                std::cmp::Ordering::Equal
            } else {
                cmp_parts(&[a.group.as_bytes(), b"\t"], &[b.group.as_bytes(), b"\t"])
            };
            groups.then_with(|| (&a.id, a.action.as_str()).cmp(&(&b.id, b.action.as_str())))
        });
    } else {
        order.sort_by(|&x, &y| cmp_parts(&parts(&decisions[x]), &parts(&decisions[y])));
    }
    let mut h = Sha256::new();
    let mut line = Vec::new();
    for i in order {
        line.clear();
        for p in parts(&decisions[i]) {
            line.extend_from_slice(p);
        }
        h.update(&line);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares the concatenations of two lists of byte strings without building them.
fn cmp_parts(mut a: &[&[u8]], mut b: &[&[u8]]) -> std::cmp::Ordering {
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        while x.is_empty() {
            let Some((head, tail)) = a.split_first() else {
                break;
            };
            (x, a) = (head, tail);
        }
        while y.is_empty() {
            let Some((head, tail)) = b.split_first() else {
                break;
            };
            (y, b) = (head, tail);
        }
        if x.is_empty() || y.is_empty() {
            return y.is_empty().cmp(&x.is_empty());
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            std::cmp::Ordering::Equal => (x, y) = (&x[n..], &y[n..]),
            other => return other,
        }
    }
}

/// Working state for one artifact.
pub(super) struct Slot<'a> {
    pub(super) a: &'a Artifact,
    /// The slot of its parent, when the parent is among the artifacts.
    pub(super) parent: Option<usize>,
    pub(super) keep: Vec<RetentionReason>,
    pub(super) delete: Vec<RetentionReason>,
    /// Protected by a floor (pinned, min_keep, min_verified): the budget may not take it.
    pub(super) floor: bool,
}

/// Warnings about the input: future-dated and held artifacts, and
/// parents that are not among the artifacts (`parent_of` is empty when no
/// artifact names a parent).
fn input_warnings(
    artifacts: &[Artifact],
    parent_of: &[Option<usize>],
    now: DateTime<Utc>,
) -> Vec<String> {
    let has_parents = !parent_of.is_empty();
    let mut warnings = Vec::new();
    for (k, a) in artifacts.iter().enumerate() {
        if is_future(a, now) {
            warnings.push(format!(
                "{} is dated {} in the future (clock skew, or a wrong name?): kept, and counted toward no rule or floor",
                a.id,
                crate::num::human_secs((a.created_at - now).num_seconds() as f64)
            ));
        }
        if let Some(why) = &a.held {
            warnings.push(format!("{}: {why}: kept", a.id));
        }
        if let (Some(p), true) = (&a.parent, has_parents && parent_of[k].is_none()) {
            warnings.push(format!(
                "{}'s parent {p} is not among the artifacts: {} cannot be restored",
                a.id, a.id
            ));
        }
    }
    warnings
}

/// Evicts for the `max_total_size` budget until a whole pass evicts
/// nothing, then warns about groups still over it or with unknown sizes.
fn budget_pass(
    slots: &mut [Slot],
    groups: &[(&str, Range<usize>)],
    budget: crate::units::ByteSize,
    warnings: &mut Vec<String>,
) {
    let mut children = kept_children(slots);
    // Evicting in one group can free a parent in another (cross-group
    // parents), so repeat until a whole pass evicts nothing.
    loop {
        let mut evicted = 0;
        for (_, range) in groups {
            evicted += enforce_budget(slots, range.clone(), &mut children, budget).evicted;
        }
        if evicted == 0 {
            break;
        }
    }
    for (g, range) in groups {
        let b = enforce_budget(slots, range.clone(), &mut children, budget);
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

/// Warnings about what would remain in each group: fewer verified copies
/// than `min_verified`, or no complete artifact.
fn remainder_warnings(
    slots: &[Slot],
    groups: &[(&str, Range<usize>)],
    policy: &RetentionPolicy,
    warnings: &mut Vec<String>,
) {
    for (g, range) in groups {
        let members = &slots[range.clone()];
        if policy.min_verified > 0 {
            let kept_verified = members
                .iter()
                .filter(|s| is_verified_copy(s.a) && !s.keep.is_empty())
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
            .filter(|s| s.a.state == ArtifactState::Complete && !s.keep.is_empty())
            .count();
        if kept_complete == 0 && members.iter().any(|s| s.a.state == ArtifactState::Complete) {
            warnings.push(format!("group {g}: no complete artifact would remain"));
        }
    }
}

/// One [`Slot`] per artifact, in `order`, each with its parent's slot
/// (`parent_of` is empty when no artifact names a parent).
fn slots_in_order<'a>(
    artifacts: &'a [Artifact],
    order: &[usize],
    parent_of: &[Option<usize>],
) -> Vec<Slot<'a>> {
    let has_parents = !parent_of.is_empty();
    let mut slot_of = vec![0usize; if has_parents { artifacts.len() } else { 0 }];
    if has_parents {
        for (pos, &k) in order.iter().enumerate() {
            slot_of[k] = pos;
        }
    }
    order
        .iter()
        .map(|&k| {
            let a = &artifacts[k];
            Slot {
                a,
                parent: if has_parents {
                    parent_of[k].map(|p| slot_of[p])
                } else {
                    None
                },
                keep: Vec::new(),
                delete: Vec::new(),
                floor: false,
            }
        })
        .collect()
}

/// Plans retention. Pure. `Err` for input that cannot be planned safely:
/// duplicate or unsafe ids, a parent cycle, an unknown time zone.
///
/// Linear in the number of artifacts apart from one sort, whatever the
/// number of groups: artifacts are sorted once by (group, newest first, id)
/// and each group is then a contiguous range.
pub fn plan(
    artifacts: &[Artifact],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<RetentionPlan> {
    let tz = policy.tz()?;
    policy.validate()?;
    // Two independent passes, side by side on a large catalog: ids checked
    // and parents resolved; the artifacts put in order.
    let (ids, order) = if artifacts.len() >= PARALLEL_FROM {
        std::thread::scope(|s| {
            let ids = s.spawn(|| index_ids(artifacts));
            let order = newest_first(artifacts);
            (
                ids.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                order,
            )
        })
    } else {
        (index_ids(artifacts), newest_first(artifacts))
    };
    let parent_of = ids?;
    let has_parents = !parent_of.is_empty();
    if let Some(k) = has_parents
        .then(|| first_cycle(artifacts.len(), |k| parent_of[k]))
        .flatten()
    {
        return Err(Error::ParentCycle {
            id: artifacts[k].id.clone(),
        });
    }
    let mut warnings = input_warnings(artifacts, &parent_of, now);
    let mut slots = slots_in_order(artifacts, &order, &parent_of);
    drop((order, parent_of));

    let groups = group_ranges(&slots);
    let rules: std::sync::Arc<str> = policy.describe().into();
    // Groups are independent here: on a large plan the two halves of the
    // groups go to two threads (the warnings keep the groups' order).
    let per_group = |slots: &mut [Slot], groups: &[(&str, Range<usize>)], offset: usize| {
        let mut warnings = Vec::new();
        for (g, range) in groups {
            let local = range.start - offset..range.end - offset;
            rules_for_group(slots, local.clone(), policy, &rules, tz, now);
            floors_for_group(slots, local, policy, g, now, &mut warnings);
        }
        warnings
    };
    let split = groups
        .iter()
        .position(|(_, r)| r.start >= slots.len() / 2)
        .filter(|k| *k > 0 && slots.len() >= PARALLEL_FROM);
    match split {
        Some(k) => {
            let at = groups[k].1.start;
            let (left, right) = slots.split_at_mut(at);
            let (mut a, mut b) = std::thread::scope(|s| {
                let b = s.spawn(|| per_group(right, &groups[k..], at));
                let a = per_group(left, &groups[..k], 0);
                (a, b.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            });
            warnings.append(&mut a);
            warnings.append(&mut b);
        }
        None => warnings.extend(per_group(&mut slots, &groups, 0)),
    }
    keep_for_unknown_parents(&mut slots, &mut warnings);
    keep_parents(&mut slots);
    if let Some(budget) = policy.max_total_size {
        budget_pass(&mut slots, &groups, budget, &mut warnings);
    }
    remainder_warnings(&slots, &groups, policy, &mut warnings);

    let (total, group_count) = (slots.len(), groups.len());
    // (Built on one thread: the work is allocation and first-touch page
    // faults, which two threads only fight over — measured slower.)
    let (decisions, mut summary) = decide(slots, 0, &groups);
    summary.total = total;
    summary.groups = group_count;
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

/// From this many artifacts on, [`plan`] indexes and sorts them on two threads.
const PARALLEL_FROM: usize = 50_000;

/// Checks every id (safe, unique) and resolves each artifact's parent to
/// its index; empty when no artifact names a parent.
fn index_ids(artifacts: &[Artifact]) -> Result<Vec<Option<usize>>> {
    let mut by_id: HashMap<&str, usize> = HashMap::default();
    by_id.reserve(artifacts.len());
    let mut has_parents = false;
    for (k, a) in artifacts.iter().enumerate() {
        validate_id(&a.id)?;
        if by_id.insert(a.id.as_str(), k).is_some() {
            return Err(Error::Artifact {
                id: a.id.clone(),
                message: "the id appears twice".into(),
            });
        }
        has_parents |= a.parent.is_some();
    }
    Ok(if has_parents {
        artifacts
            .iter()
            .map(|a| a.parent.as_deref().and_then(|p| by_id.get(p)).copied())
            .collect()
    } else {
        Vec::new()
    })
}

/// The artifacts' indexes by group, newest first, ties by id (ids are
/// unique, so the order is total). Groups are compared by their rank among
/// the sorted group names, not name by name.
fn newest_first(artifacts: &[Artifact]) -> Vec<usize> {
    let mut rank_of: HashMap<&str, u32> = HashMap::default();
    let group_of: Vec<u32> = artifacts
        .iter()
        .enumerate()
        .map(|(k, a)| match k.checked_sub(1) {
            Some(prev) if artifacts[prev].group_name() == a.group_name() => u32::MAX,
            _ => {
                let next = rank_of.len() as u32;
                *rank_of.entry(a.group_name()).or_insert(next)
            }
        })
        .scan(0, |last, g| {
            if g != u32::MAX {
                *last = g;
            }
            Some(*last)
        })
        .collect();
    let mut names: Vec<(&str, u32)> = rank_of.into_iter().collect();
    names.sort_unstable();
    let mut rank = vec![0u32; names.len()];
    for (r, (_, g)) in names.iter().enumerate() {
        rank[*g as usize] = r as u32;
    }
    let mut keys: Vec<(u32, std::cmp::Reverse<DateTime<Utc>>, usize)> = artifacts
        .iter()
        .zip(group_of)
        .enumerate()
        .map(|(k, (a, g))| (rank[g as usize], std::cmp::Reverse(a.created_at), k))
        .collect();
    keys.sort_unstable_by(|x, y| {
        (x.0, x.1)
            .cmp(&(y.0, y.1))
            .then_with(|| artifacts[x.2].id.cmp(&artifacts[y.2].id))
    });
    keys.into_iter().map(|(_, _, k)| k).collect()
}

/// The decisions for `slots`, which are the sorted slots from `offset` on,
/// with the totals they add up to (`total` and `groups` left to the caller).
fn decide(
    slots: Vec<Slot>,
    offset: usize,
    groups: &[(&str, Range<usize>)],
) -> (Vec<ArtifactDecision>, Summary) {
    let end = offset + slots.len();
    let mut summary = Summary::default();
    let mut decisions = Vec::with_capacity(slots.len());
    let mut slots = slots.into_iter();
    for (g, range) in groups {
        let (from, to) = (range.start.max(offset), range.end.min(end));
        if from >= to {
            continue;
        }
        let group: std::sync::Arc<str> = (*g).into();
        for s in slots.by_ref().take(to - from) {
            let size = s.a.size_bytes.unwrap_or(0);
            let (action, reasons) = if s.keep.is_empty() {
                summary.deleted += 1;
                summary.freed_bytes = summary.freed_bytes.saturating_add(size);
                (Action::Delete, s.delete)
            } else {
                summary.kept += 1;
                summary.kept_bytes = summary.kept_bytes.saturating_add(size);
                summary.verified_kept += usize::from(is_verified_copy(s.a));
                (Action::Keep, s.keep)
            };
            decisions.push(ArtifactDecision {
                id: s.a.id.clone(),
                group: group.clone(),
                action,
                reasons,
                created_at: s.a.created_at,
                size_bytes: s.a.size_bytes,
                state: s.a.state,
            });
        }
    }
    (decisions, summary)
}

/// The groups of slots sorted by group: each name with its contiguous range.
fn group_ranges<'a>(slots: &[Slot<'a>]) -> Vec<(&'a str, Range<usize>)> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=slots.len() {
        if i == slots.len() || slots[i].a.group_name() != slots[start].a.group_name() {
            groups.push((slots[start].a.group_name(), start..i));
            start = i;
        }
    }
    groups
}

/// How many kept artifacts depend on each slot.
fn kept_children(slots: &[Slot]) -> Vec<u32> {
    let mut children = vec![0u32; slots.len()];
    for s in slots {
        if let (false, Some(p)) = (s.keep.is_empty(), s.parent) {
            children[p] += 1;
        }
    }
    children
}

/// How far past `now` an artifact may be dated and still count as a copy
/// (the default `gate.max_clock_skew`).
pub const ALLOWED_SKEW: Span = Span::mins(1);

/// Dated after `now` plus [`ALLOWED_SKEW`].
fn is_future(a: &Artifact, now: DateTime<Utc>) -> bool {
    now.checked_add_signed(ALLOWED_SKEW.to_delta())
        .is_some_and(|limit| a.created_at > limit)
}

/// Kept whatever the rules say and counted toward no rule or floor: held by
/// its source (a symlink, a mount, a missing entry) or dated in the future.
fn is_set_aside(a: &Artifact, now: DateTime<Utc>) -> bool {
    a.held.is_some() || is_future(a, now)
}

/// The reason an artifact is set aside (see [`is_set_aside`]), if it is.
fn set_aside(s: &Slot, now: DateTime<Utc>) -> Option<RetentionReason> {
    match &s.a.held {
        Some(why) => Some(RetentionReason::Held(why.clone())),
        None => is_future(s.a, now).then_some(RetentionReason::FutureDated),
    }
}

fn is_verified_copy(a: &Artifact) -> bool {
    a.verified && a.state == ArtifactState::Complete
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
    members: Range<usize>,
    policy: &RetentionPolicy,
    rules: &std::sync::Arc<str>,
    tz: Tz,
    now: DateTime<Utc>,
) {
    for i in members.clone() {
        if let Some(r) = set_aside(&slots[i], now) {
            slots[i].keep.push(r);
            slots[i].floor = true;
        }
    }
    let complete: Vec<usize> = members
        .clone()
        .filter(|i| slots[*i].a.state == ArtifactState::Complete && !is_set_aside(slots[*i].a, now))
        .collect();
    let grace = policy.partial_grace;
    for i in members.clone() {
        let s = &mut slots[i];
        if s.a.state == ArtifactState::Complete || !s.keep.is_empty() {
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
    let tags: Vec<&[String]> = if policy.keep_tags.is_empty() {
        Vec::new()
    } else {
        complete
            .iter()
            .map(|i| slots[*i].a.tags.as_slice())
            .collect()
    };
    let restic = restic::apply(
        &times,
        &tags,
        &policy.keep_tags,
        policy.counts(),
        policy.within_rules(),
        policy.restic_compat == ResticCompat::Current,
        tz,
        now,
    );
    for (k, reasons) in restic {
        slots[complete[k]].keep = reasons; // counted complete artifacts have no other reason yet
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
            slots[i].delete = vec![RetentionReason::NotKeptByAnyRule(rules.clone())];
        }
    }
}

fn floors_for_group(
    slots: &mut [Slot],
    members: Range<usize>,
    policy: &RetentionPolicy,
    group: &str,
    now: DateTime<Utc>,
    warnings: &mut Vec<String>,
) {
    for i in members.clone() {
        if slots[i].a.pinned {
            slots[i].keep.push(RetentionReason::Pinned);
            slots[i].floor = true;
        }
    }
    // members are newest first; what is set aside counts toward no floor.
    let complete: Vec<usize> = members
        .clone()
        .filter(|i| slots[*i].a.state == ArtifactState::Complete && !is_set_aside(slots[*i].a, now))
        .collect();
    // The floor no policy turns off: the newest complete copy that holds
    // something (a 0-byte file is never a good copy).
    if let Some(&i) = complete.iter().find(|i| slots[**i].a.size_bytes != Some(0)) {
        slots[i].keep.push(RetentionReason::LastGoodCopy);
        slots[i].floor = true;
    }
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
fn keep_parents(slots: &mut [Slot]) {
    let mut queue: Vec<usize> = (0..slots.len())
        .filter(|i| slots[*i].parent.is_some() && !slots[*i].keep.is_empty())
        .collect();
    while let Some(i) = queue.pop() {
        let Some(p) = slots[i].parent else {
            continue;
        };
        let reason = RetentionReason::ParentOf(slots[i].a.id.clone());
        let was_kept = !slots[p].keep.is_empty();
        if !slots[p].keep.contains(&reason) {
            slots[p].keep.push(reason);
        }
        if !was_kept {
            queue.push(p);
        }
    }
}

#[cfg(test)]
mod hash_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// A plan writes times exactly as every state file does.
        #[test]
        fn plan_times_serialize_as_timestamps(secs in -70_000_000_000i64..300_000_000_000, leap in any::<bool>()) {
            let t = DateTime::from_timestamp(secs, if leap && secs % 60 == 59 { 1_500_000_000 } else { 7 }).unwrap();
            let json = serde_json::to_string(&Timestamp(t)).unwrap();
            prop_assert_eq!(json, format!("\"{}\"", crate::time::timestamp(t)));
        }
    }

    /// The definition: sha256 over the built lines, sorted bytewise.
    fn reference(decisions: &[ArtifactDecision]) -> String {
        let mut lines: Vec<String> = decisions
            .iter()
            .map(|d| format!("{}\t{}\t{}\n", d.group, d.id, d.action.as_str()))
            .collect();
        lines.sort();
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn decision(group: &str, id: &str, keep: bool) -> ArtifactDecision {
        ArtifactDecision {
            id: id.into(),
            group: group.into(),
            action: if keep { Action::Keep } else { Action::Delete },
            reasons: Vec::new(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            size_bytes: None,
            state: ArtifactState::Complete,
        }
    }

    #[test]
    fn groups_that_prefix_each_other_or_hold_tabs_hash_as_defined() {
        let d = [
            decision("g", "b", true),
            decision("g\u{1}", "a", false),
            decision("g\tx", "a", true),
            decision("g", "a", false),
            decision("db0", "x", true),
            decision("db00", "x", false),
            decision("db", "x\u{1}", true),
        ];
        assert_eq!(plan_hash(&d), reference(&d));
    }

    proptest! {
        /// The fast path (groups then ids) and the general path agree with
        /// the definition, whatever the names and the order given.
        #[test]
        fn plan_hash_is_the_sorted_lines(
            rows in proptest::collection::vec(
                ("[gd\t\u{1}0]{0,3}", "[ab.\t\u{1}z]{1,3}", any::<bool>()), 0..40)
        ) {
            let d: Vec<ArtifactDecision> =
                rows.iter().map(|(g, i, k)| decision(g, i, *k)).collect();
            prop_assert_eq!(plan_hash(&d), reference(&d));
            let mut sorted = d.clone();
            sorted.sort_by(|a, b| (&a.group, &a.id).cmp(&(&b.group, &b.id)));
            prop_assert_eq!(plan_hash(&sorted), reference(&d));
        }
    }
}
