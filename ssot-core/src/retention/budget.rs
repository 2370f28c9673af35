//! The size budget: evict unprotected artifacts until a group fits.

use std::collections::BTreeSet;
use std::ops::Range;

use chrono::{DateTime, Utc};

use super::plan::Slot;
use super::RetentionReason;
use crate::units::ByteSize;

/// What one budget pass did to a group.
pub(super) struct BudgetPass {
    pub(super) evicted: usize,
    /// Bytes kept after the pass (exact: a sum of u64 sizes never wraps in u128).
    pub(super) total: u128,
    pub(super) unknown_sizes: bool,
}

/// Evicts from one group (the slots of `members`) until it fits or nothing
/// more may go. `children` counts the kept artifacts that depend on each slot,
/// across all groups; it is kept up to date as artifacts are evicted.
pub(super) fn enforce_budget(
    slots: &mut [Slot],
    members: Range<usize>,
    children: &mut [u32],
    budget: ByteSize,
) -> BudgetPass {
    let budget_bytes = budget.bytes() as u128;
    let size = |s: &Slot| s.a.size_bytes.unwrap_or(0) as u128;
    let group = &slots[members.clone()];
    let mut pass = BudgetPass {
        evicted: 0,
        total: group.iter().filter(|s| !s.keep.is_empty()).map(size).sum(),
        unknown_sizes: group
            .iter()
            .any(|s| !s.keep.is_empty() && s.a.size_bytes.is_none()),
    };
    if pass.total <= budget_bytes {
        return pass;
    }
    // Only artifacts nothing kept depends on may go.
    let lru = group.iter().any(|s| s.a.last_used_at.is_some());
    fn order_key<'a>(s: &Slot<'a>, lru: bool) -> (DateTime<Utc>, &'a str) {
        let a: &'a super::Artifact = s.a;
        let t = if lru {
            a.last_used_at.unwrap_or(a.created_at)
        } else {
            a.created_at
        };
        (t, a.id.as_str())
    }
    let mut candidates: BTreeSet<((DateTime<Utc>, &str), usize)> = members
        .clone()
        .filter(|i| !slots[*i].keep.is_empty() && !slots[*i].floor && children[*i] == 0)
        .map(|i| (order_key(&slots[i], lru), i))
        .collect();
    while pass.total > budget_bytes {
        let Some((_, i)) = candidates.pop_first() else {
            break;
        };
        let s = &mut slots[i];
        let mut reasons = vec![RetentionReason::OverBudget {
            budget,
            held: u64::try_from(pass.total).unwrap_or(u64::MAX),
            lru,
        }];
        reasons.extend(
            std::mem::take(&mut s.keep)
                .into_iter()
                .map(|r| RetentionReason::WasKeptBy(Box::new(r))),
        );
        s.delete = reasons;
        pass.total -= size(&slots[i]);
        pass.evicted += 1;
        // Walk up: a parent kept only for this child goes too; one that is now
        // childless but kept for its own sake becomes a candidate.
        let mut child = i;
        while let Some(p) = slots[child].parent {
            children[p] = children[p].saturating_sub(1);
            let reason = RetentionReason::ParentOf(slots[child].a.id.clone());
            slots[p].keep.retain(|r| *r != reason);
            if !slots[p].keep.is_empty() {
                if children[p] == 0 && !slots[p].floor && members.contains(&p) {
                    candidates.insert((order_key(&slots[p], lru), p));
                }
                break;
            }
            let why = RetentionReason::OnlyParentOfEvicted(slots[child].a.id.clone());
            slots[p].delete.push(why);
            if members.contains(&p) {
                pass.total -= size(&slots[p]);
            }
            child = p;
        }
    }
    pass
}
