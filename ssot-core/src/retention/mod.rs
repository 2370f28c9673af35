//! Retention: which backups, snapshots and cache layers to keep, and why
//! (seed: STAGE 15.2, "retention is not an architectural contract").
//!
//! [`plan`] takes [`Artifact`]s, a [`RetentionPolicy`] and `now`, and returns a
//! [`RetentionPlan`]: every artifact with keep/delete and all of its reasons,
//! warnings, totals and a `plan_hash` that lets a reviewed plan be applied
//! exactly. It is pure; deleting is [`crate::Ssot::apply_retention`]'s job.
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

pub mod apply;
pub mod catalog;
pub mod guard;
pub mod journal;
pub mod restic;
pub mod source;

mod artifact;
mod budget;
pub mod knobs;
mod mode;
mod plan;
mod policy;
mod reason;

pub use artifact::{validate_id, Artifact, ArtifactState};
pub use catalog::{CatalogAdapter, CatalogFormat};
pub use knobs::{Knob, KnobKind, KNOBS};
pub use plan::{
    check_plan_hash_prefix, first_cycle, plan, plan_hash, Action, ArtifactDecision, RetentionPlan,
    Summary, ALLOWED_SKEW, PLAN_HASH_MIN_PREFIX,
};
pub use policy::{
    check_count, MaxDelete, ResticCompat, RetentionPolicy, RetentionPolicyPatch, MAX_COUNT,
};
pub use reason::RetentionReason;
pub use restic::ResticDuration;
