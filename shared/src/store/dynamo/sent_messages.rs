//! Sent texts and their statuses on DynamoDB: a sent text stored with its pointer, claim,
//! conversation and events in one transaction (folding in a status callback that came
//! first); a status applied only when it moves the message forward, or held on the pointer
//! until its message is stored.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::changes::Changes;
use super::codec::{keyed, n, s};
use super::keys::{
    TTL_ATTRIBUTE, conversation_sk, inbox_pk, message_sk, presence_pk, send_claim_sk, sms,
};
use super::message_codec::{location_values, message_item, pointer_key, sid_state_of};
use super::messages::HELD_STATUS_SECONDS;
use super::tx::TxOutcome;
use super::{DynamoStore, classify, is_conditional_failure};
use crate::sms::message::{Message, MessageLocation};
use crate::store::StoreError;
use crate::store::messages::{SentWrite, SidState, StatusWrite};

impl DynamoStore {
    pub(super) async fn store_sent_message(
        &self,
        write: &SentWrite,
    ) -> Result<Message, StoreError> {
        let location = MessageLocation {
            inbox: write.inbox.clone(),
            with: write.with.clone(),
            position: write.position.clone(),
        };
        let mut message = write.message.clone();
        // A status callback may have come before this write: then the pointer holds it, the
        // first attempt is refused with the pointer as it is, and the second folds it in.
        for first in [true, false] {
            let mut pointer = Changes::default()
                .remove(sms::PENDING_STATUS)
                .remove(sms::PENDING_RANK)
                .remove(sms::PENDING_ERROR_CODE)
                .remove(TTL_ATTRIBUTE)
                .returning_old();
            if first {
                pointer = pointer.when("attribute_not_exists(#pendingRank)", Vec::new());
            }
            let mut claim = Changes::default();
            for (name, value) in location_values(&location) {
                pointer = pointer.set(name, s(value.clone()));
                claim = claim.set(name, s(value));
            }
            let pointer = pointer.update(&self.table, pointer_key(&message.message_sid))?;
            let claim = claim.update(
                &self.table,
                keyed(
                    presence_pk(&write.sender),
                    send_claim_sk(&write.client_message_id),
                ),
            )?;
            let conversation = self.conversation_update(
                &write.inbox,
                &write.phone_number,
                &write.with,
                &message,
                &write.position,
                true,
                None,
            )?;
            let mut notice = write.notice.clone();
            if let Some(data) = notice.data.get_mut("message") {
                *data = serde_json::to_value(&message).unwrap_or_default();
            }
            let writes = vec![
                self.put(
                    message_item(&write.inbox, &write.with, &write.position, &message),
                    None,
                )?,
                pointer,
                claim,
                conversation,
            ];
            match self.transact_noticed(writes, &notice).await? {
                TxOutcome::Written => return Ok(message),
                TxOutcome::Refused(items) => {
                    let held = items.get(1).cloned().flatten();
                    if let SidState::Pending {
                        status,
                        rank,
                        error_code,
                    } = sid_state_of(held.as_ref(), write.message.at)
                    {
                        message.fold_status(status, rank, error_code);
                    }
                    // The next attempt clears the held status without a condition.
                }
            }
        }
        Err(StoreError::Internal(format!(
            "the sent message {} could not be stored",
            message.message_sid
        )))
    }

    pub(super) async fn apply_message_status(
        &self,
        write: &StatusWrite,
    ) -> Result<bool, StoreError> {
        let key = keyed(
            inbox_pk(&write.location.inbox),
            message_sk(&write.location.with, &write.location.position),
        );
        let mut changes = Changes::default()
            .set(sms::STATUS, s(&write.status))
            .set(sms::STATUS_RANK, n(write.rank))
            .when(
                "attribute_exists(#pk) AND #statusRank < :rank",
                vec![("rank", n(write.rank))],
            );
        if let Some(code) = write.error_code {
            changes = changes.set(sms::ERROR_CODE, n(code));
        }
        let message = changes.update(&self.table, key)?;
        // The conversation's copy of its latest message follows, if this is still it.
        let mut last = Changes::default()
            .set(sms::LAST_STATUS, s(&write.status))
            .set(sms::LAST_RANK, n(write.rank))
            .when(
                "#lastSid = :sid AND #lastRank < :rank",
                vec![("sid", s(&write.message_sid)), ("rank", n(write.rank))],
            );
        if let Some(code) = write.error_code {
            last = last.set(sms::LAST_ERROR_CODE, n(code));
        }
        let conversation = last
            .update_item(
                self,
                keyed(
                    inbox_pk(&write.location.inbox),
                    conversation_sk(&write.location.with),
                ),
            )
            .send();
        let (outcome, conversation) = futures::future::join(
            self.transact_noticed(vec![message], &write.notice),
            conversation,
        )
        .await;
        if let Err(err) = conversation
            && !is_conditional_failure(&err)
        {
            return Err(classify("UpdateItem", err));
        }
        Ok(matches!(outcome?, TxOutcome::Written))
    }

    pub(super) async fn hold_message_status(
        &self,
        message_sid: &str,
        status: &str,
        rank: u8,
        error_code: Option<u32>,
        now_ms: i64,
    ) -> Result<SidState, StoreError> {
        let mut changes = Changes::default()
            .set(sms::PENDING_STATUS, s(status))
            .set(sms::PENDING_RANK, n(rank))
            .set(
                TTL_ATTRIBUTE,
                n(now_ms.div_euclid(1000) + HELD_STATUS_SECONDS),
            )
            .when(
                "attribute_not_exists(#inbox) AND (attribute_not_exists(#pendingRank) OR #pendingRank < :rank)",
                vec![("rank", n(rank))],
            );
        if let Some(code) = error_code {
            changes = changes.set(sms::PENDING_ERROR_CODE, n(code));
        }
        let result = changes
            .returning_old()
            .update_item(self, pointer_key(message_sid))
            .send()
            .await;
        match result {
            Ok(_) => Ok(SidState::Pending {
                status: status.to_owned(),
                rank,
                error_code,
            }),
            Err(err) if is_conditional_failure(&err) => {
                let old = err
                    .as_service_error()
                    .and_then(|e| match e {
                        UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .cloned();
                Ok(sid_state_of(old.as_ref(), now_ms))
            }
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }
}
