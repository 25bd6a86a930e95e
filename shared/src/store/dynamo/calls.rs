//! Call rows on DynamoDB: one per dialled leg in each user's partition, with the `call.state`
//! event of each change, written together. A repeated or late callback changes nothing and
//! logs nothing.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::DynamoStore;
use super::codec::{keyed, n};
use super::keys::{PK, TTL_ATTRIBUTE, call, call_sk, presence_pk};
use super::tx::{TxOutcome, built};
use crate::events::Event;
use crate::store::{CallEvent, CallProgress, PresenceKey, StoreError};

impl DynamoStore {
    pub(super) async fn record_call_leg(
        &self,
        key: &PresenceKey,
        leg: CallEvent,
    ) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), call_sk(&leg.call_sid))))
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#since", call::SINCE)
            .expression_attribute_values(":exp", n(leg.expires_at))
            .expression_attribute_values(":now", n(leg.now_ms));
        let (update, event) = match leg.progress {
            // First word wins: a duplicate, or an `answered` arriving after its end, finds the
            // row and changes nothing.
            CallProgress::Answered => (
                update
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
                    .update_expression("SET #since = :now, #exp = :exp"),
                Event::call_state(&leg.call_sid, Some(leg.now_ms), leg.now_ms),
            ),
            // Final whatever came before (keeping `since` if the answer was seen); a second
            // end finds it ended.
            CallProgress::Ended => (
                update
                    .condition_expression("attribute_not_exists(#ended)")
                    .update_expression(
                        "SET #ended = :yes, #exp = :exp, #since = if_not_exists(#since, :now)",
                    )
                    .expression_attribute_names("#ended", call::ENDED)
                    .expression_attribute_values(":yes", AttributeValue::Bool(true)),
                Event::call_state(&leg.call_sid, None, leg.now_ms),
            ),
        };
        let writes = vec![
            TransactWriteItem::builder()
                .update(built(update.build())?)
                .build(),
            self.put_event(key, &event)?,
        ];
        if let TxOutcome::Written = self.transact(writes).await? {
            self.publish(key, vec![event]).await;
        }
        Ok(())
    }
}
