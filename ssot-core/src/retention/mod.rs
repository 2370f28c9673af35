//! Retention: which backups, snapshots and cache layers to keep, and why
//! (seed: STAGE 15.2, "retention is not an architectural contract").
//!
//! [`plan`] takes [`Artifact`]s, a [`RetentionPolicy`] and `now`, and returns a
//! [`RetentionPlan`]: every artifact with keep/delete and all of its reasons,
//! warnings, totals and a `plan_hash` that lets a reviewed plan be applied
//! exactly. It is pure; deleting is [`crate::service::retention_apply`]'s job.
//!
//! How a decision is made, per group (policies apply to each group alone):
//!
//! 1. **Rules keep.** Complete artifacts are kept by any matching rule:
//!    restic's bucket rules ([`restic`]), `max_age` (younger than `now − age`),
//!    `recovery_window` (Barman: everything inside the window plus the newest
//!    artifact older than its start). With no rule at all, everything is kept.
//!    Partial and failed artifacts never take part and never count as copies;
//!    they are kept for `partial_grace` and deleted after.
//! 2. **Floors override deletes.** `pinned` artifacts, the newest `min_keep`
//!    complete artifacts, the newest `min_verified` verified ones, and every
//!    parent of a kept artifact (transitively) are kept. A plan never leaves a
//!    dangling child.
//! 3. **Size budget.** If the kept artifacts exceed `max_total_size`, kept
//!    artifacts that no floor protects and that no kept artifact depends on
//!    are deleted — least recently used first when `last_used_at` is known,
//!    else oldest first — until the group fits.
//! 4. **Blast radius.** A plan that deletes more than `max_delete` (a count or
//!    a percentage of all artifacts) is refused as a whole, not truncated.

pub mod guard;
pub mod restic;
pub mod source;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::num::{human_bytes, pct};
use crate::units::{ByteSize, Span};
pub use restic::ResticDuration;

/// Whether an artifact is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactState {
    /// Finished; takes part in the rules and counts as a copy.
    #[default]
    Complete,
    /// Still being written, or interrupted.
    Partial,
    /// Known to be broken.
    Failed,
}

/// A backup, snapshot or cache layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// Unique id; for directory sources, the entry name.
    pub id: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Size, when known.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// `complete` (default), `partial` or `failed`.
    #[serde(default)]
    pub state: ArtifactState,
    /// A restore drill from this artifact passed.
    #[serde(default)]
    pub verified: bool,
    /// Never delete.
    #[serde(default)]
    pub pinned: bool,
    /// Id of the artifact this one depends on (a diff on its full, a layer on its base).
    #[serde(default)]
    pub parent: Option<String>,
    /// Policies apply per group; absent means the default group.
    #[serde(default)]
    pub group: Option<String>,
    /// Last use, for least-recently-used eviction under a size budget.
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Free-form kind (`dump`, `snapshot`, `layer`, ...).
    #[serde(default)]
    pub kind: Option<String>,
    /// It depends on some artifact, but which one is not known (its `.parent`
    /// marker is unreadable or ambiguous): it is kept, and so is every
    /// artifact it might depend on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parent_unknown: bool,
}

impl Artifact {
    /// A complete artifact with nothing else set.
    pub fn new(id: impl Into<String>, created_at: DateTime<Utc>) -> Self {
        Artifact {
            id: id.into(),
            created_at,
            size_bytes: None,
            state: ArtifactState::Complete,
            verified: false,
            pinned: false,
            parent: None,
            group: None,
            last_used_at: None,
            kind: None,
            parent_unknown: false,
        }
    }

    fn group_name(&self) -> &str {
        self.group.as_deref().unwrap_or("default")
    }
}

/// Checks that an id can name a directory entry and be recorded safely: not
/// empty, no `/`, no `..`, no control character (a line break, NUL, ...).
pub fn validate_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("an artifact id must not be empty".into());
    }
    if id.contains('/') || id == "." || id == ".." || id.contains("..") {
        return Err(format!(
            "artifact id \"{}\" contains a path separator or \"..\"",
            id.escape_debug()
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(format!(
            "artifact id \"{}\" contains a control character",
            id.escape_debug()
        ));
    }
    Ok(())
}

/// The fewest hex digits of a plan hash `--plan-hash` accepts.
pub const PLAN_HASH_MIN_PREFIX: usize = 12;

/// Checks a reviewed plan hash as given: the full 64 hex digits of
/// `plan_hash`, or a prefix of at least [`PLAN_HASH_MIN_PREFIX`].
pub fn check_plan_hash_prefix(h: &str) -> std::result::Result<(), String> {
    if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "\"{h}\" is not a plan hash: a plan hash is hex digits"
        ));
    }
    if h.len() > 64 {
        return Err(format!(
            "\"{h}\" is longer than a plan hash (64 hex digits)"
        ));
    }
    if h.len() < PLAN_HASH_MIN_PREFIX {
        return Err(format!(
            "the plan hash is incomplete: give at least {PLAN_HASH_MIN_PREFIX} of its 64 hex digits (the plan prints it as plan_hash)"
        ));
    }
    Ok(())
}

/// `max_delete`: a count, or a percentage of all artifacts in the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxDelete {
    /// At most N deletions.
    Count(u64),
    /// At most this % of the artifacts.
    Percent(f64),
}

impl MaxDelete {
    fn limit(self, total: usize) -> u64 {
        match self {
            MaxDelete::Count(n) => n,
            MaxDelete::Percent(p) => ((total as f64) * p / 100.0).floor() as u64,
        }
    }
}

impl fmt::Display for MaxDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaxDelete::Count(n) => write!(f, "{n}"),
            MaxDelete::Percent(p) => write!(f, "{}", pct(*p)),
        }
    }
}

impl FromStr for MaxDelete {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let err = |m: &str| Error::Unit {
            what: "max_delete",
            input: s.to_string(),
            message: m.to_string(),
        };
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| err("expected N or N%"))?;
            if !(0.0..=100.0).contains(&v) {
                return Err(err("a percentage must be between 0 and 100"));
            }
            Ok(MaxDelete::Percent(v))
        } else {
            t.parse()
                .map(MaxDelete::Count)
                .map_err(|_| err("expected N or N%"))
        }
    }
}

impl Serialize for MaxDelete {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            MaxDelete::Count(n) => s.serialize_u64(*n),
            MaxDelete::Percent(_) => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for MaxDelete {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(MaxDelete::Count(n)),
            Raw::S(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A retention policy. Every rule is optional and they combine: a rule keeps,
/// floors override deletes. Field names match the CLI flags (`keep_daily` ↔
/// `--keep-daily`) and restic's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Keep the newest N.
    pub keep_last: u32,
    /// Keep the newest artifact of each of the last N hours that have one.
    pub keep_hourly: u32,
    /// ... days.
    pub keep_daily: u32,
    /// ... ISO weeks.
    pub keep_weekly: u32,
    /// ... months.
    pub keep_monthly: u32,
    /// ... years.
    pub keep_yearly: u32,
    /// Keep everything created within this of the newest artifact.
    pub keep_within: Option<ResticDuration>,
    /// Keep the newest of each hour within this of the newest artifact.
    pub keep_within_hourly: Option<ResticDuration>,
    /// ... of each day.
    pub keep_within_daily: Option<ResticDuration>,
    /// ... of each week.
    pub keep_within_weekly: Option<ResticDuration>,
    /// ... of each month.
    pub keep_within_monthly: Option<ResticDuration>,
    /// ... of each year.
    pub keep_within_yearly: Option<ResticDuration>,
    /// Keep what is younger than this (relative to `now`); older complete artifacts are deleted.
    pub max_age: Option<Span>,
    /// Barman: keep everything inside `now − window`, plus the newest artifact older than that.
    pub recovery_window: Option<Span>,
    /// Never fewer than this many complete artifacts per group (the newest are kept).
    pub min_keep: u32,
    /// The newest N verified artifacts are never deleted.
    pub min_verified: u32,
    /// Per-group size budget.
    pub max_total_size: Option<ByteSize>,
    /// How long partial/failed artifacts are kept before deletion.
    pub partial_grace: Span,
    /// IANA time zone for bucket boundaries.
    pub timezone: String,
    /// Refuse a plan that deletes more than this.
    pub max_delete: Option<MaxDelete>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            keep_last: 0,
            keep_hourly: 0,
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            keep_yearly: 0,
            keep_within: None,
            keep_within_hourly: None,
            keep_within_daily: None,
            keep_within_weekly: None,
            keep_within_monthly: None,
            keep_within_yearly: None,
            max_age: None,
            recovery_window: None,
            min_keep: 0,
            min_verified: 0,
            max_total_size: None,
            partial_grace: Span::days(1),
            timezone: "UTC".into(),
            max_delete: None,
        }
    }
}

impl RetentionPolicy {
    /// The time zone, or an error naming the bad value.
    pub fn tz(&self) -> Result<Tz> {
        self.timezone.parse().map_err(|_| {
            Error::Input(format!(
                "unknown time zone \"{}\" (expected an IANA name such as UTC or Europe/Berlin)",
                self.timezone
            ))
        })
    }

    fn within_rules(&self) -> restic::WithinRules {
        restic::WithinRules {
            within: self.keep_within,
            buckets: [
                self.keep_within_hourly,
                self.keep_within_daily,
                self.keep_within_weekly,
                self.keep_within_monthly,
                self.keep_within_yearly,
            ],
        }
    }

    fn counts(&self) -> restic::BucketCounts {
        restic::BucketCounts {
            last: self.keep_last,
            hourly: self.keep_hourly,
            daily: self.keep_daily,
            weekly: self.keep_weekly,
            monthly: self.keep_monthly,
            yearly: self.keep_yearly,
        }
    }

    /// True when no rule selects artifacts to keep (then everything is kept, as in restic).
    pub fn has_no_rule(&self) -> bool {
        let c = self.counts();
        let w = self.within_rules();
        [c.last, c.hourly, c.daily, c.weekly, c.monthly, c.yearly]
            .iter()
            .all(|n| *n == 0)
            && w.within.is_none_or(|d| d.is_zero())
            && w.buckets.iter().all(|d| d.is_none_or(|d| d.is_zero()))
            && self.max_age.is_none()
            && self.recovery_window.is_none()
    }

    /// One line naming the rules in force, for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let c = self.counts();
        for (n, name) in [
            (c.last, "keep_last"),
            (c.hourly, "keep_hourly"),
            (c.daily, "keep_daily"),
            (c.weekly, "keep_weekly"),
            (c.monthly, "keep_monthly"),
            (c.yearly, "keep_yearly"),
        ] {
            if n > 0 {
                parts.push(format!("{name} {n}"));
            }
        }
        for (d, name) in [
            (self.keep_within, "keep_within"),
            (self.keep_within_hourly, "keep_within_hourly"),
            (self.keep_within_daily, "keep_within_daily"),
            (self.keep_within_weekly, "keep_within_weekly"),
            (self.keep_within_monthly, "keep_within_monthly"),
            (self.keep_within_yearly, "keep_within_yearly"),
        ] {
            if let Some(d) = d.filter(|d| !d.is_zero()) {
                parts.push(format!("{name} {d}"));
            }
        }
        if let Some(a) = self.max_age {
            parts.push(format!("max_age {a}"));
        }
        if let Some(w) = self.recovery_window {
            parts.push(format!("recovery_window {w}"));
        }
        if parts.is_empty() {
            "no rule".into()
        } else {
            parts.join(", ")
        }
    }
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

/// One artifact's fate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ArtifactDecision {
    /// The artifact id.
    pub id: String,
    /// Its group.
    pub group: String,
    /// Keep or delete.
    pub action: Action,
    /// Every reason, in the order they were found.
    pub reasons: Vec<String>,
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
    reasons: &'a [String],
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
struct Slot<'a> {
    a: &'a Artifact,
    keep: Vec<String>,
    delete: Vec<String>,
    /// Protected by a floor (pinned, min_keep, min_verified): the budget may not take it.
    floor: bool,
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
        validate_id(&a.id).map_err(Error::Input)?;
        if seen.insert(a.id.as_str(), a).is_some() {
            return Err(Error::Input(format!(
                "artifact id \"{}\" appears twice",
                a.id
            )));
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
        return Err(Error::Input(format!(
            "artifact {} is part of a parent cycle: the dependency chain never ends",
            artifacts[i].id
        )));
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
        let state = if s.a.state == ArtifactState::Partial {
            "partial"
        } else {
            "failed"
        };
        if now - s.a.created_at < grace.to_delta() {
            s.keep
                .push(format!("{state}, within partial_grace {grace}"));
        } else {
            s.delete
                .push(format!("{state}, older than partial_grace {grace}"));
        }
    }
    if policy.has_no_rule() {
        for &i in &complete {
            slots[i]
                .keep
                .push("no retention rule: everything is kept".into());
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
                slots[i].keep.push(format!("younger than max_age {age}"));
            } else {
                slots[i].delete.push(format!("older than max_age {age}"));
            }
        }
    }
    if let Some(w) = policy.recovery_window {
        let start = crate::num::minus(now, w);
        let mut newest_before = None;
        for &i in &complete {
            if slots[i].a.created_at >= start {
                slots[i].keep.push(format!("inside recovery_window {w}"));
            } else if newest_before.is_none() {
                newest_before = Some(i);
            }
        }
        if let Some(i) = newest_before {
            slots[i].keep.push(format!(
                "newest before recovery_window {w} (needed to recover its start)"
            ));
        }
    }
    for &i in &complete {
        if slots[i].keep.is_empty() && slots[i].delete.is_empty() {
            slots[i]
                .delete
                .push(format!("not kept by any rule ({})", policy.describe()));
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
            slots[i].keep.push("pinned".into());
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
            slots[i].keep.push(format!("min_keep {}", policy.min_keep));
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
                .push(format!("min_verified {}", policy.min_verified));
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
            s.keep
                .push("its parent is unknown: kept with everything it might depend on".into());
        } else {
            s.keep.push(format!(
                "{first} might depend on it (its parent is unknown)"
            ));
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
        let reason = format!("parent of {child}");
        let was_kept = !slots[p].keep.is_empty();
        if !slots[p].keep.contains(&reason) {
            slots[p].keep.push(reason);
        }
        if !was_kept {
            queue.push(p);
        }
    }
}

/// What one budget pass did to a group.
struct BudgetPass {
    evicted: usize,
    /// Bytes kept after the pass (exact: a sum of u64 sizes never wraps in u128).
    total: u128,
    unknown_sizes: bool,
}

/// Evicts from one group until it fits or nothing more may go.
fn enforce_budget(
    slots: &mut [Slot],
    members: &[usize],
    index: &HashMap<&str, usize>,
    budget: ByteSize,
) -> BudgetPass {
    let budget_bytes = budget.bytes() as u128;
    let in_group: BTreeSet<usize> = members.iter().copied().collect();
    let size = |s: &Slot| s.a.size_bytes.unwrap_or(0) as u128;
    let mut pass = BudgetPass {
        evicted: 0,
        total: members
            .iter()
            .filter(|i| !slots[**i].keep.is_empty())
            .map(|i| size(&slots[*i]))
            .sum(),
        unknown_sizes: members
            .iter()
            .any(|i| !slots[*i].keep.is_empty() && slots[*i].a.size_bytes.is_none()),
    };
    if pass.total <= budget_bytes {
        return pass;
    }
    let parent_of = |slots: &[Slot], i: usize| {
        slots[i]
            .a
            .parent
            .as_deref()
            .and_then(|p| index.get(p))
            .copied()
    };
    // Kept children per artifact, across all groups: only artifacts nothing kept depends on may go.
    let mut children: HashMap<usize, usize> = HashMap::new();
    for i in 0..slots.len() {
        if !slots[i].keep.is_empty() {
            if let Some(p) = parent_of(slots, i) {
                *children.entry(p).or_default() += 1;
            }
        }
    }
    let lru = members.iter().any(|i| slots[*i].a.last_used_at.is_some());
    let order_key = |s: &Slot| {
        let t = if lru {
            s.a.last_used_at.unwrap_or(s.a.created_at)
        } else {
            s.a.created_at
        };
        (t, s.a.id.clone())
    };
    let mut candidates: BTreeSet<((DateTime<Utc>, String), usize)> = members
        .iter()
        .copied()
        .filter(|i| {
            !slots[*i].keep.is_empty()
                && !slots[*i].floor
                && children.get(i).copied().unwrap_or(0) == 0
        })
        .map(|i| (order_key(&slots[i]), i))
        .collect();
    let how = if lru {
        "least recently used first"
    } else {
        "oldest first"
    };
    while pass.total > budget_bytes {
        let Some((_, i)) = candidates.pop_first() else {
            break;
        };
        let s = &mut slots[i];
        let mut reasons = vec![format!(
            "over size budget {budget}: group held {}, evicted {how}",
            human_bytes(u64::try_from(pass.total).unwrap_or(u64::MAX))
        )];
        reasons.extend(
            std::mem::take(&mut s.keep)
                .into_iter()
                .map(|r| format!("was kept by: {r}")),
        );
        s.delete = reasons;
        pass.total -= size(&slots[i]);
        pass.evicted += 1;
        // Walk up: a parent kept only for this child goes too; one that is now
        // childless but kept for its own sake becomes a candidate.
        let mut child = i;
        while let Some(p) = parent_of(slots, child) {
            let n = children.entry(p).or_default();
            *n = n.saturating_sub(1);
            let reason = format!("parent of {}", slots[child].a.id);
            slots[p].keep.retain(|r| *r != reason);
            if !slots[p].keep.is_empty() {
                if *n == 0 && !slots[p].floor && in_group.contains(&p) {
                    candidates.insert((order_key(&slots[p]), p));
                }
                break;
            }
            let why = format!(
                "only kept as the parent of {}, which was evicted",
                slots[child].a.id
            );
            slots[p].delete.push(why);
            if in_group.contains(&p) {
                pass.total -= size(&slots[p]);
            }
            child = p;
        }
    }
    pass
}
