//! Rate budgets in memory, as the DynamoDB store counts them: one counter per user, budget and
//! window, never above the limit, forgotten once its window is over.

use std::collections::HashMap;

use super::{Budget, Counted, RateKind};
use crate::store::PresenceKey;

/// Counters by user, kind and window start (epoch s), each with its window's end.
#[derive(Default)]
pub(in crate::store) struct RateState {
    counters: HashMap<(PresenceKey, RateKind, i64), (u32, i64)>,
}

impl RateState {
    /// Whether one more fits in `user`'s window of `budget`, without counting it.
    pub(in crate::store) fn fits(&self, user: &PresenceKey, budget: &Budget, now_ms: i64) -> bool {
        let (start, _) = budget.window(now_ms);
        self.counters
            .get(&(user.clone(), budget.kind, start))
            .is_none_or(|(n, _)| *n < budget.limit)
    }

    /// Count one (after [`Self::fits`] said it fits), dropping windows that are over.
    pub(in crate::store) fn count(&mut self, user: &PresenceKey, budget: &Budget, now_ms: i64) {
        let now_s = now_ms.div_euclid(1000);
        self.counters.retain(|_, (_, end)| *end > now_s);
        let (start, end) = budget.window(now_ms);
        self.counters
            .entry((user.clone(), budget.kind, start))
            .or_insert((0, end))
            .0 += 1;
    }

    pub(in crate::store) fn count_within(
        &mut self,
        user: &PresenceKey,
        budget: &Budget,
        now_ms: i64,
    ) -> Counted {
        if !self.fits(user, budget, now_ms) {
            return budget.over(now_ms);
        }
        self.count(user, budget, now_ms);
        Counted::Counted
    }
}
