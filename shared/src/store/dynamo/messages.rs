//! The SMS inbox on DynamoDB. Each write that users see is one transaction with its events:
//! a received text is its pointer (conditioned on the `MessageSid` being new), the message,
//! the conversation's update and an event per user of the number, so a repeated webhook
//! writes and tells nothing. Here: the trait, received texts, send claims, read marks and
//! opt-outs; sent texts and statuses in `sent_messages.rs`; the reads (conversations by the
//! sparse `inbox-activity` index, pages of messages) in `inbox_reads.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use futures::future::try_join_all;

use super::changes::Changes;
use super::codec::{Item, keyed, n, s};
use super::keys::{
    PK, READ_MARK_SK_PREFIX, conversation_sk, inbox_pk, message_sk, presence_pk, read_mark_sk,
    send_claim_sk, sms,
};
use super::message_codec::{
    conversation_from_item, last_message_values, location_values, message_from_item, message_item,
    pointer_key, read_mark_from_item, sid_state_of,
};
use super::tx::{TxOutcome, built};
use super::{DynamoStore, classify, is_conditional_failure};
use crate::events::Event;
use crate::sms::keywords::OptChange;
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};
use crate::store::messages::{
    InboundWrite, MessageStore, Notice, ReadMark, ReadWrite, SendClaim, SentWrite, SidState,
    StatusWrite,
};
use crate::store::rates::{Budget, NewRecipient};
use crate::store::{PresenceKey, StoreError};

/// How long a status waits for the message it belongs to.
pub(super) const HELD_STATUS_SECONDS: i64 = 2 * 86_400;
/// DynamoDB's limit of writes per transaction.
const MAX_TX_ITEMS: usize = 100;

impl DynamoStore {
    /// The conversation's update for a new message: created on first use, the latest message
    /// replaced (or, for a text older than what it shows, kept), the inbound count moved and
    /// the sender's opt-out set.
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
        if let Some(opt_change) = inbound {
            changes = changes.add(sms::INBOUND, n(1));
            if let Some(change) = opt_change {
                let opted_out = AttributeValue::Bool(change == OptChange::OptOut);
                changes = changes.set(sms::OPTED_OUT, opted_out);
            }
        }
        changes.update(&self.table, keyed(inbox_pk(inbox), conversation_sk(with)))
    }

    /// `writes` and the notice's events (one per user) together; events beyond one
    /// transaction's limit go in further transactions once the first has succeeded (a group of
    /// more than 90 members). Written events are handed to this process's sink, if any.
    pub(super) async fn transact_noticed(
        &self,
        mut writes: Vec<TransactWriteItem>,
        notice: &Notice,
    ) -> Result<TxOutcome, StoreError> {
        let events: Vec<(&PresenceKey, Event)> = notice
            .to
            .iter()
            .map(|user| {
                (
                    user,
                    Event::new(notice.kind, notice.at, notice.data.clone()),
                )
            })
            .collect();
        let mut puts = events
            .iter()
            .map(|(user, event)| self.put_event(user, event))
            .collect::<Result<Vec<_>, _>>()?;
        let room = MAX_TX_ITEMS.saturating_sub(writes.len()).min(puts.len());
        let rest = puts.split_off(room);
        writes.extend(puts);
        let outcome = self.transact(writes).await?;
        if matches!(outcome, TxOutcome::Written) {
            if !rest.is_empty() {
                let chunks = rest.chunks(MAX_TX_ITEMS).map(|c| self.transact(c.to_vec()));
                try_join_all(chunks).await?;
            }
            for (user, event) in events {
                self.publish(user, vec![event]).await;
            }
        }
        Ok(outcome)
    }

    pub(super) fn put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(condition) = condition {
            put = put
                .condition_expression(condition)
                .expression_attribute_names("#pk", PK);
        }
        Ok(TransactWriteItem::builder()
            .put(built(put.build())?)
            .build())
    }

    pub(super) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| classify("GetItem", e))
    }

    /// The pointer of a stored message.
    pub(super) fn pointer_item(&self, message_sid: &str, location: &MessageLocation) -> Item {
        let mut item = pointer_key(message_sid);
        for (name, value) in location_values(location) {
            item.insert(name.to_owned(), s(value));
        }
        item
    }
}

#[async_trait]
impl MessageStore for DynamoStore {
    async fn store_inbound(&self, write: &InboundWrite) -> Result<bool, StoreError> {
        let location = MessageLocation {
            inbox: write.inbox.clone(),
            with: write.with.clone(),
            position: write.position.clone(),
        };
        let conversation = self.conversation_update(
            &write.inbox,
            &write.phone_number,
            &write.with,
            &write.message,
            &write.position,
            write.latest,
            Some(write.opt_change),
        )?;
        let writes = vec![
            self.put(
                self.pointer_item(&write.message.message_sid, &location),
                Some("attribute_not_exists(#pk)"),
            )?,
            self.put(
                message_item(&write.inbox, &write.with, &write.position, &write.message),
                None,
            )?,
            conversation,
        ];
        Ok(match self.transact_noticed(writes, &write.notice).await? {
            TxOutcome::Written => true,
            TxOutcome::Refused(_) => false,
        })
    }

    async fn claim_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        self.claim_counted(sender, client_message_id, texts, now_ms)
            .await
    }

    async fn count_new_recipient(
        &self,
        sender: &PresenceKey,
        budget: &Budget,
        inbox: &Inbox,
        with: &Party,
        now_ms: i64,
    ) -> Result<NewRecipient, StoreError> {
        self.count_if_new(sender, budget, inbox, with, now_ms).await
    }

    async fn release_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keyed(
                presence_pk(sender),
                send_claim_sk(client_message_id),
            )))
            .condition_expression("attribute_not_exists(#pos)")
            .expression_attribute_names("#pos", sms::POSITION)
            .send()
            .await;
        match result {
            Err(err) if !is_conditional_failure(&err) => Err(classify("DeleteItem", err)),
            _ => Ok(()),
        }
    }

    async fn store_sent(&self, write: &SentWrite) -> Result<Message, StoreError> {
        self.store_sent_message(write).await
    }

    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError> {
        let item = self.get(pointer_key(message_sid)).await?;
        Ok(sid_state_of(item.as_ref(), now_ms))
    }

    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError> {
        self.apply_message_status(write).await
    }

    async fn hold_status(
        &self,
        message_sid: &str,
        status: &str,
        rank: u8,
        error_code: Option<u32>,
        now_ms: i64,
    ) -> Result<SidState, StoreError> {
        self.hold_message_status(message_sid, status, rank, error_code, now_ms)
            .await
    }

    async fn message(&self, location: &MessageLocation) -> Result<Option<Message>, StoreError> {
        let key = keyed(
            inbox_pk(&location.inbox),
            message_sk(&location.with, &location.position),
        );
        self.get(key)
            .await?
            .map(|item| message_from_item(&item))
            .transpose()
    }

    async fn conversation(
        &self,
        inbox: &Inbox,
        with: &Party,
    ) -> Result<Option<Conversation>, StoreError> {
        self.get(keyed(inbox_pk(inbox), conversation_sk(with)))
            .await?
            .map(|item| conversation_from_item(&item))
            .transpose()
    }

    async fn conversations(
        &self,
        inboxes: &[Inbox],
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.inbox_conversations(inboxes, before, limit).await
    }

    async fn messages(
        &self,
        inbox: &Inbox,
        with: &Party,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Message)>, StoreError> {
        self.inbox_messages(inbox, with, before, limit).await
    }

    async fn read_marks(&self, user: &PresenceKey) -> Result<Vec<ReadMark>, StoreError> {
        let items = self
            .query_prefix(presence_pk(user), READ_MARK_SK_PREFIX, None)
            .await?;
        Ok(items.iter().filter_map(read_mark_from_item).collect())
    }

    async fn mark_read(
        &self,
        user: &PresenceKey,
        read: &ReadWrite,
    ) -> Result<ReadMark, StoreError> {
        let up_to = &read.up_to;
        let count = self.inbound_up_to(up_to).await?;
        let mark = Changes::default()
            .set(sms::PHONE_ID, s(&up_to.inbox.phone_id))
            .set(sms::WITH, s(up_to.with.as_str()))
            .set(sms::READ_INBOUND, n(count))
            .when(
                "attribute_not_exists(#readInbound) OR #readInbound < :read",
                vec![("read", n(count))],
            )
            .returning_old()
            .update(
                &self.table,
                keyed(
                    presence_pk(user),
                    read_mark_sk(&up_to.inbox.phone_id, &up_to.with),
                ),
            )?;
        let notice = read.notice(user, count);
        let read_inbound = match self.transact_noticed(vec![mark], &notice).await? {
            TxOutcome::Written => count,
            // Already read further (on another device): that stays.
            TxOutcome::Refused(items) => items
                .first()
                .cloned()
                .flatten()
                .as_ref()
                .and_then(read_mark_from_item)
                .map_or(count, |m| m.read_inbound),
        };
        Ok(ReadMark {
            phone_id: up_to.inbox.phone_id.clone(),
            with: up_to.with.clone(),
            read_inbound,
        })
    }

    async fn set_opted_out(
        &self,
        inbox: &Inbox,
        phone_number: &str,
        with: &Party,
        opted_out: bool,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(inbox_pk(inbox), conversation_sk(with))))
            .update_expression("SET #o = :o, #p = :p, #n = :n, #w = :w")
            .expression_attribute_names("#o", sms::OPTED_OUT)
            .expression_attribute_names("#p", sms::PHONE_ID)
            .expression_attribute_names("#n", sms::PHONE_NUMBER)
            .expression_attribute_names("#w", sms::WITH)
            .expression_attribute_values(":o", AttributeValue::Bool(opted_out))
            .expression_attribute_values(":p", s(&inbox.phone_id))
            .expression_attribute_values(":n", s(phone_number))
            .expression_attribute_values(":w", s(with.as_str()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("UpdateItem", e))
    }
}
