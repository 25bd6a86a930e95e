//! Rate budgets on DynamoDB: one counter item per user, budget and window in the user's
//! partition, moved by a conditional `ADD` that refuses once the window holds `limit`. A text's
//! counter goes in the transaction that claims its `clientMessageId`; a new recipient's is
//! conditioned on the conversation not existing (both in `store/messages/dynamo/`); a call's
//! is one update (`store/history/dynamo.rs`).

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::Budget;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{Item, keyed, n};
use crate::store::dynamo::keys::{TTL_ATTRIBUTE, presence_pk, rate, rate_sk};
use crate::store::{PresenceKey, StoreError};

/// One more in the window, unless it holds `limit` already.
fn counted(budget: &Budget, now_ms: i64) -> Changes {
    let (_, end) = budget.window(now_ms);
    Changes::default()
        .add(rate::COUNT, n(1))
        .set(TTL_ATTRIBUTE, n(end))
        .when(
            "attribute_not_exists(#count) OR #count < :limit",
            vec![("limit", n(budget.limit))],
        )
}

fn counter_key(user: &PresenceKey, budget: &Budget, now_ms: i64) -> Item {
    let (start, _) = budget.window(now_ms);
    keyed(presence_pk(user), rate_sk(budget.kind.as_str(), start))
}

impl DynamoStore {
    /// One more of `user`'s `budget` in the window of `now_ms`, as a transaction's write whose
    /// condition fails when the window is full.
    pub(in crate::store) fn count_in(
        &self,
        user: &PresenceKey,
        budget: &Budget,
        now_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        counted(budget, now_ms).update(&self.table, counter_key(user, budget, now_ms))
    }

    /// [`Self::count_in`] as a request of its own.
    pub(in crate::store) fn count_request(
        &self,
        user: &PresenceKey,
        budget: &Budget,
        now_ms: i64,
    ) -> UpdateItemFluentBuilder {
        counted(budget, now_ms).update_item(self, counter_key(user, budget, now_ms))
    }
}
