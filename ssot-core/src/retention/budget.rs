//! The size budget: evict unprotected artifacts until a group fits.

use std::collections::{BTreeSet, HashMap};

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

/// Evicts from one group until it fits or nothing more may go.
pub(super) fn enforce_budget(
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
        while let Some(p) = parent_of(slots, child) {
            let n = children.entry(p).or_default();
            *n = n.saturating_sub(1);
            let reason = RetentionReason::ParentOf(slots[child].a.id.clone());
            slots[p].keep.retain(|r| *r != reason);
            if !slots[p].keep.is_empty() {
                if *n == 0 && !slots[p].floor && in_group.contains(&p) {
                    candidates.insert((order_key(&slots[p]), p));
                }
                break;
            }
            let why = RetentionReason::OnlyParentOfEvicted(slots[child].a.id.clone());
            slots[p].delete.push(why);
            if in_group.contains(&p) {
                pass.total -= size(&slots[p]);
            }
            child = p;
        }
    }
    pass
}
