//! The items the inbox's writes change, built for a transaction or a request of their own:
//! a conversation's update for a new message, a message's pointer, a send's claim, the four
//! writes of a sent text, a status's changes (applied, or held on the pointer), a read mark.

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::item::{last_message_values, location_values, message_item, pointer_key};
use crate::sms::keywords::OptChange;
use crate::sms::message::{Inbox, Message, MessageLocation, Party};
use crate::store::PresenceKey;
use crate::store::StoreError;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{Item, keyed, n, s};
use crate::store::dynamo::keys::{
    PK, TTL_ATTRIBUTE, conversation_sk, inbox_pk, presence_pk, send_claim_sk, sms,
};
use crate::store::dynamo::tx::built;
use crate::store::messages::{SentWrite, StatusWrite};

/// How long a `clientMessageId` is remembered.
const CLAIM_SECONDS: i64 = 86_400;
/// How long a status waits for the message it belongs to.
const HELD_STATUS_SECONDS: i64 = 2 * 86_400;

impl DynamoStore {
    /// The conversation's update for a new message: created on first use, the latest message
    /// replaced (or, for a text older than what it shows, kept), the inbound count moved and
    /// the sender's opt-out set. A `latest` one is conditioned on sorting after the
    /// conversation's activity: on refusal it returns the conversation as it is.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn conversation_update(
        &self,
        inbox: &Inbox,
        phone_number: &str,
        with: &Party,
        message: &Message,
        position: &str,
        latest: bool,
        inbound: Option<Option<OptChange>>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut changes = Changes::default()
            .set(sms::PHONE_ID, s(&inbox.phone_id))
            .set(sms::PHONE_NUMBER, s(phone_number))
            .set(sms::WITH, s(with.as_str()))
            .set(sms::INBOX, s(inbox_pk(inbox)))
            .keep(sms::STARTED_BY, s(message.direction.as_str()));
        let mut last = last_message_values(message);
        last.push((sms::ACTIVITY, s(position)));
        for (name, value) in last {
            changes = if latest {
                changes.set(name, value)
            } else {
                changes.keep(name, value)
            };
        }
        if latest {
            // Never over a newer latest (a webhook's text whose cursor was taken before a
            // reply stored first): refused, returning the conversation, and written again
            // as an older text by the caller.
            changes = changes
                .when(
                    "attribute_not_exists(#activity) OR #activity < :newActivity",
                    vec![("newActivity", s(position))],
                )
                .returning_old();
        }
        if let Some(opt_change) = inbound {
            changes = changes.add(sms::INBOUND, n(1));
            if let Some(change) = opt_change {
                let opted_out = AttributeValue::Bool(change == OptChange::OptOut);
                changes = changes.set(sms::OPTED_OUT, opted_out);
            }
        }
        changes.update(&self.table, keyed(inbox_pk(inbox), conversation_sk(with)))
    }

    /// The pointer of a stored message.
    pub(super) fn pointer_item(&self, message_sid: &str, location: &MessageLocation) -> Item {
        let mut item = pointer_key(message_sid);
        for (name, value) in location_values(location) {
            item.insert(name.to_owned(), s(value));
        }
        item
    }

    /// The claim of `client_message_id`, kept a day: only where there is none (or an expired
    /// one); on refusal, the claim as it is.
    pub(super) fn claim(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        now_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
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
        Ok(TransactWriteItem::builder()
            .put(built(claim.build())?)
            .build())
    }

    /// A sent text's writes: the message, its pointer (on a `first` attempt only where no
    /// status is held on it, returning it if one is), the claim's location, the conversation
    /// (as its `latest` only where no newer text is, returning it if one is).
    pub(super) fn sent_writes(
        &self,
        write: &SentWrite,
        message: &Message,
        location: &MessageLocation,
        first: bool,
        latest: bool,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
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
        for (name, value) in location_values(location) {
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
            message,
            &write.position,
            latest,
            None,
        )?;
        Ok(vec![
            self.put(
                message_item(&write.inbox, &write.with, &write.position, message),
                None,
            )?,
            pointer,
            claim,
            conversation,
        ])
    }
}

/// A status's changes to its message (only if it moves it forward) and to the conversation's
/// copy of its latest message (only if this is still it).
pub(super) fn status_changes(write: &StatusWrite) -> (Changes, Changes) {
    let mut message = Changes::default()
        .set(sms::STATUS, s(&write.status))
        .set(sms::STATUS_RANK, n(write.rank))
        .when(
            "attribute_exists(#pk) AND #statusRank < :rank",
            vec![("rank", n(write.rank))],
        );
    let mut last = Changes::default()
        .set(sms::LAST_STATUS, s(&write.status))
        .set(sms::LAST_RANK, n(write.rank))
        .when(
            "#lastSid = :sid AND #lastRank < :rank",
            vec![("sid", s(&write.message_sid)), ("rank", n(write.rank))],
        );
    if let Some(code) = write.error_code {
        message = message.set(sms::ERROR_CODE, n(code));
        last = last.set(sms::LAST_ERROR_CODE, n(code));
    }
    (message, last)
}

/// A status held on the pointer of a message not stored yet, for two days: only while no
/// message is there and no further status is held (one expired, but not yet deleted by the
/// TTL, counts as none); on refusal, the pointer as it is.
pub(super) fn held_status(status: &str, rank: u8, error_code: Option<u32>, now_ms: i64) -> Changes {
    let now_s = now_ms.div_euclid(1000);
    let mut changes = Changes::default()
        .set(sms::PENDING_STATUS, s(status))
        .set(sms::PENDING_RANK, n(rank))
        .set(TTL_ATTRIBUTE, n(now_s + HELD_STATUS_SECONDS))
        .when(
            "attribute_not_exists(#inbox) AND (attribute_not_exists(#pendingRank) \
             OR #pendingRank < :rank OR #expiresAt <= :now)",
            vec![("rank", n(rank)), ("now", n(now_s))],
        );
    if let Some(code) = error_code {
        changes = changes.set(sms::PENDING_ERROR_CODE, n(code));
    }
    changes.returning_old()
}
