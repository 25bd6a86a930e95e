//! Rate budgets in memory, as the DynamoDB store counts them: one counter per user, budget and
//! window, never above the limit, forgotten once its window is over.

use std::collections::HashMap;

use super::MemoryStore;
use crate::store::PresenceKey;
use crate::store::rates::{Budget, Counted, RateKind};

/// Counters by user, kind and window start (epoch s), each with its window's end.
#[derive(Default)]
pub(super) struct RateState {
    counters: HashMap<(PresenceKey, RateKind, i64), (u32, i64)>,
}

impl RateState {
    /// Whether one more fits in `user`'s window of `budget`, without counting it.
    pub(super) fn fits(&self, user: &PresenceKey, budget: &Budget, now_ms: i64) -> bool {
        let (start, _) = budget.window(now_ms);
        self.counters
            .get(&(user.clone(), budget.kind, start))
            .is_none_or(|(n, _)| *n < budget.limit)
    }

    /// Count one (after [`Self::fits`] said it fits), dropping windows that are over.
    pub(super) fn count(&mut self, user: &PresenceKey, budget: &Budget, now_ms: i64) {
        let now_s = now_ms.div_euclid(1000);
        self.counters.retain(|_, (_, end)| *end > now_s);
        let (start, end) = budget.window(now_ms);
        self.counters
            .entry((user.clone(), budget.kind, start))
            .or_insert((0, end))
            .0 += 1;
    }

    pub(super) fn count_within(
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

impl MemoryStore {
    pub(super) fn rates(&self) -> std::sync::MutexGuard<'_, RateState> {
        self.rates.lock().unwrap_or_else(|e| e.into_inner())
    }
}
