//! Why an artifact is kept or deleted: one [`RetentionReason`] per rule that
//! spoke. A reason renders as the sentence a plan shows (`daily 2026-11-20`,
//! `parent of X`) and serializes as that sentence; code matches the variant.

use std::fmt;

use serde::{Serialize, Serializer};

use super::restic::{Bucket, ResticDuration};
use super::ArtifactState;
use crate::num::human_bytes;
use crate::units::{ByteSize, Span};

/// One reason for an artifact's fate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetentionReason {
    /// `keep_last N`: the `nth` of `of` (`last 1/3`; `of` is `None` for `-1`: `last 1/all`).
    Last {
        /// Which one.
        nth: u32,
        /// Of how many (`None`: all).
        of: Option<u32>,
    },
    /// A bucket rule kept the newest of its bucket (`daily 2026-11-20`).
    Bucket {
        /// hourly, daily, weekly, monthly or yearly.
        bucket: Bucket,
        /// The bucket (`2026-11-20`, `2026-W47`).
        label: String,
    },
    /// `keep_within D` (`within 10d`).
    Within(ResticDuration),
    /// `keep_within_<bucket> D` (`daily within 7d 2026-11-20`).
    BucketWithin {
        /// The bucket rule.
        bucket: Bucket,
        /// The duration.
        within: ResticDuration,
        /// The bucket.
        label: String,
    },
    /// `keep_tags`: it has every tag of this list (`has tags a,b`).
    HasTags(Vec<String>),
    /// A bucket rule with counts left kept the oldest artifact although its
    /// bucket was already kept (today's restic; `oldest monthly 2026-01`).
    Oldest(Box<RetentionReason>),
    /// No rule is configured: everything is kept, as in restic.
    NoRule,
    /// `max_age`: young enough.
    YoungerThanMaxAge(Span),
    /// `max_age`: too old.
    OlderThanMaxAge(Span),
    /// `recovery_window`: inside it.
    InsideRecoveryWindow(Span),
    /// `recovery_window`: the newest artifact before its start.
    NewestBeforeRecoveryWindow(Span),
    /// No rule kept it; the rules in force, described (one text shared by
    /// every artifact of a plan).
    NotKeptByAnyRule(std::sync::Arc<str>),
    /// A partial or failed artifact, inside or past `partial_grace`.
    Grace {
        /// Partial or failed.
        state: ArtifactState,
        /// True while younger than the grace period.
        within: bool,
        /// The grace period.
        grace: Span,
    },
    /// Pinned: never deleted.
    Pinned,
    /// The `min_keep` floor.
    MinKeep(u32),
    /// The `min_verified` floor.
    MinVerified(u32),
    /// The floor no policy turns off: the newest complete, non-future
    /// artifact of its group (`last_good_copy`).
    LastGoodCopy,
    /// Dated after `now` plus the allowed clock skew: kept, and never counted
    /// toward a rule or a floor (`dated in the future`).
    FutureDated,
    /// It cannot be handled safely (a symlink, a directory holding a mount,
    /// an id with no entry): kept, never counted toward a rule or a floor.
    Held(String),
    /// A kept artifact depends on it.
    ParentOf(String),
    /// Its parent is unknown: it is kept with everything it might depend on.
    ParentUnknown,
    /// Kept because this artifact, whose parent is unknown, might depend on it.
    MightBeParentOf(String),
    /// Evicted by the size budget.
    OverBudget {
        /// The budget.
        budget: ByteSize,
        /// What the group held when it was evicted.
        held: u64,
        /// Least recently used first (else oldest first).
        lru: bool,
    },
    /// What kept it before the budget evicted it.
    WasKeptBy(Box<RetentionReason>),
    /// It was kept only as the parent of an artifact the budget evicted.
    OnlyParentOfEvicted(String),
}

impl fmt::Display for RetentionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RetentionReason as R;
        match self {
            R::Last { nth, of: Some(of) } => write!(f, "last {nth}/{of}"),
            R::Last { nth, of: None } => write!(f, "last {nth}/all"),
            R::HasTags(tags) => write!(f, "has tags {}", tags.join(",")),
            R::Oldest(r) => write!(f, "oldest {r}"),
            R::Bucket { bucket, label } => write!(f, "{} {label}", bucket.name()),
            R::Within(d) => write!(f, "within {d}"),
            R::BucketWithin {
                bucket,
                within,
                label,
            } => write!(f, "{} within {within} {label}", bucket.name()),
            R::NoRule => f.write_str("no retention rule: everything is kept"),
            R::YoungerThanMaxAge(a) => write!(f, "younger than max_age {a}"),
            R::OlderThanMaxAge(a) => write!(f, "older than max_age {a}"),
            R::InsideRecoveryWindow(w) => write!(f, "inside recovery_window {w}"),
            R::NewestBeforeRecoveryWindow(w) => write!(
                f,
                "newest before recovery_window {w} (needed to recover its start)"
            ),
            R::NotKeptByAnyRule(rules) => write!(f, "not kept by any rule ({rules})"),
            R::Grace {
                state,
                within,
                grace,
            } => {
                let s = match state {
                    ArtifactState::Failed => "failed",
                    _ => "partial",
                };
                if *within {
                    write!(f, "{s}, within partial_grace {grace}")
                } else {
                    write!(f, "{s}, older than partial_grace {grace}")
                }
            }
            R::Pinned => f.write_str("pinned"),
            R::MinKeep(n) => write!(f, "min_keep {n}"),
            R::MinVerified(n) => write!(f, "min_verified {n}"),
            R::LastGoodCopy => f.write_str("last_good_copy"),
            R::FutureDated => f.write_str("dated in the future: counts toward no rule or floor"),
            R::Held(why) => f.write_str(why),
            R::ParentOf(id) => write!(f, "parent of {id}"),
            R::ParentUnknown => {
                f.write_str("its parent is unknown: kept with everything it might depend on")
            }
            R::MightBeParentOf(id) => {
                write!(f, "{id} might depend on it (its parent is unknown)")
            }
            R::OverBudget { budget, held, lru } => write!(
                f,
                "over size budget {budget}: group held {}, evicted {}",
                human_bytes(*held),
                if *lru {
                    "least recently used first"
                } else {
                    "oldest first"
                }
            ),
            R::WasKeptBy(r) => write!(f, "was kept by: {r}"),
            R::OnlyParentOfEvicted(id) => {
                write!(f, "only kept as the parent of {id}, which was evicted")
            }
        }
    }
}

impl Serialize for RetentionReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
