//! Rate budgets on DynamoDB: one counter item per user, budget and window in the user's
//! partition, moved by a conditional `ADD` that refuses once the window holds `limit`. A text's
//! counter goes in the transaction that claims its `clientMessageId`; a new recipient's is
//! conditioned on the conversation not existing; a call's is one update.

use aws_sdk_dynamodb::types::{
    ConditionCheck, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::changes::Changes;
use super::codec::{keyed, n};
use super::keys::{
    PK, TTL_ATTRIBUTE, conversation_sk, inbox_pk, presence_pk, rate, rate_sk, send_claim_sk,
};
use super::message_codec::location_from_item;
use super::tx::{TxOutcome, built};
use super::{DynamoStore, classify, is_conditional_failure};
use crate::sms::message::{Inbox, Party};
use crate::store::messages::SendClaim;
use crate::store::rates::{Budget, Counted, NewRecipient};
use crate::store::{PresenceKey, StoreError};

/// How long a `clientMessageId` is remembered.
const CLAIM_SECONDS: i64 = 86_400;

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

fn counter_key(user: &PresenceKey, budget: &Budget, now_ms: i64) -> super::codec::Item {
    let (start, _) = budget.window(now_ms);
    keyed(presence_pk(user), rate_sk(budget.kind, start))
}

impl DynamoStore {
    /// The claim of `client_message_id` and the count of the text, in one transaction: a
    /// claim that exists (sent, or in flight) or a spent budget writes neither.
    pub(super) async fn claim_counted(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        let now_s = now_ms.div_euclid(1000);
        let mut item = keyed(presence_pk(sender), send_claim_sk(client_message_id));
        item.insert(TTL_ATTRIBUTE.to_owned(), n(now_s + CLAIM_SECONDS));
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now_s))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let writes = vec![
            TransactWriteItem::builder()
                .put(built(claim.build())?)
                .build(),
            counted(texts, now_ms).update(&self.table, counter_key(sender, texts, now_ms))?,
        ];
        Ok(match self.transact(writes).await? {
            TxOutcome::Written => SendClaim::Claimed,
            // The claim's old item comes back only when the claim was refused: a retry of a
            // sent or sending text counts nothing and answers as before.
            TxOutcome::Refused(old) => match old.first().and_then(Option::as_ref) {
                Some(claim) => {
                    location_from_item(claim).map_or(SendClaim::InFlight, SendClaim::Sent)
                }
                None => SendClaim::OverBudget {
                    retry_after_seconds: texts.retry_after(now_ms),
                },
            },
        })
    }

    /// Count a text to `with` against `budget` only while the inbox has no conversation with
    /// them: the conversation's absence is a condition of the same transaction.
    pub(super) async fn count_if_new(
        &self,
        sender: &PresenceKey,
        budget: &Budget,
        inbox: &Inbox,
        with: &Party,
        now_ms: i64,
    ) -> Result<NewRecipient, StoreError> {
        let absent = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(inbox_pk(inbox), conversation_sk(with))))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let writes = vec![
            TransactWriteItem::builder()
                .condition_check(built(absent.build())?)
                .build(),
            counted(budget, now_ms).update(&self.table, counter_key(sender, budget, now_ms))?,
        ];
        Ok(match self.transact(writes).await? {
            TxOutcome::Written => NewRecipient::Counted,
            TxOutcome::Refused(old) if old.first().is_some_and(Option::is_some) => {
                NewRecipient::Known
            }
            TxOutcome::Refused(_) => NewRecipient::Over {
                retry_after_seconds: budget.retry_after(now_ms),
            },
        })
    }

    pub(super) async fn count_once(
        &self,
        user: &PresenceKey,
        budget: &Budget,
        now_ms: i64,
    ) -> Result<Counted, StoreError> {
        let result = counted(budget, now_ms)
            .update_item(self, counter_key(user, budget, now_ms))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Counted::Counted),
            Err(err) if is_conditional_failure(&err) => Ok(budget.over(now_ms)),
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }
}
