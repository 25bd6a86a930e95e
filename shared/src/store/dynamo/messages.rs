//! The SMS inbox on DynamoDB. Each write that users see is one transaction with its events:
//! a received text is its pointer (conditioned on the `MessageSid` being new), the message,
//! the conversation's update and an event per user of the number, so a repeated webhook
//! writes and tells nothing. Conversations are listed by the sparse `inbox-activity` index.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, Select, TransactWriteItem, Update,
};
use futures::future::try_join_all;

use super::codec::{Item, get_s, keyed, n, s};
use super::keys::{
    INBOX_INDEX, PK, READ_MARK_SK_PREFIX, SK, TTL_ATTRIBUTE, conversation_sk, inbox_pk, message_sk,
    messages_sk_prefix, presence_pk, read_mark_sk, send_claim_sk, sms,
};
use super::message_codec::{
    conversation_from_item, last_message_values, location_from_item, location_values,
    message_from_item, message_item, pointer_key, position_of, read_mark_from_item, sid_state_of,
};
use super::tx::{TxOutcome, built};
use super::{DynamoStore, classify, is_conditional_failure};
use crate::events::Event;
use crate::sms::keywords::OptChange;
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party, status_rank};
use crate::sms::notices::read_notice;
use crate::store::messages::{
    InboundWrite, MessageStore, Notice, ReadMark, ReadWrite, SendClaim, SentWrite, SidState,
    StatusWrite,
};
use crate::store::{PresenceKey, StoreError};

/// How long a `clientMessageId` is remembered.
const CLAIM_SECONDS: i64 = 86_400;
/// How long a status waits for the message it belongs to.
const HELD_STATUS_SECONDS: i64 = 2 * 86_400;
/// DynamoDB's limit of writes per transaction.
const MAX_TX_ITEMS: usize = 100;

/// An update built from named values: `SET #a = :a, …` (or `if_not_exists` ones), `ADD`s,
/// `REMOVE`s and a condition over the same names; sent alone or in a transaction.
#[derive(Default)]
struct Changes {
    sets: Vec<(&'static str, AttributeValue)>,
    keep: Vec<(&'static str, AttributeValue)>,
    adds: Vec<(&'static str, AttributeValue)>,
    removes: Vec<&'static str>,
    condition: Option<String>,
    values: Vec<(&'static str, AttributeValue)>,
    /// On a failed condition, return the item as it was.
    return_old: bool,
}

/// A [`Changes`] as DynamoDB takes it.
struct Expression {
    update: String,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Changes {
    fn set(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.sets.push((name, value));
        self
    }
    /// Set only where the item has no value yet.
    fn keep(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.keep.push((name, value));
        self
    }
    fn add(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.adds.push((name, value));
        self
    }
    fn remove(mut self, name: &'static str) -> Self {
        self.removes.push(name);
        self
    }
    /// A condition naming attributes as `#name` and extra values as `:name`.
    fn when(mut self, condition: &str, values: Vec<(&'static str, AttributeValue)>) -> Self {
        self.condition = Some(condition.to_owned());
        self.values = values;
        self
    }
    fn returning_old(mut self) -> Self {
        self.return_old = true;
        self
    }

    fn expression(self) -> Expression {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut name = |n: &str| {
            names.insert(format!("#{n}"), n.to_owned());
        };
        let mut clauses = Vec::new();
        let mut set_parts: Vec<String> = Vec::new();
        for (n, value) in self.sets {
            set_parts.push(format!("#{n} = :{n}"));
            values.insert(format!(":{n}"), value);
            name(n);
        }
        for (n, value) in self.keep {
            set_parts.push(format!("#{n} = if_not_exists(#{n}, :{n})"));
            values.insert(format!(":{n}"), value);
            name(n);
        }
        if !set_parts.is_empty() {
            clauses.push(format!("SET {}", set_parts.join(", ")));
        }
        if !self.adds.is_empty() {
            let adds: Vec<String> = self
                .adds
                .iter()
                .map(|(n, _)| format!("#{n} :{n}"))
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
            for (n, value) in self.adds {
                values.insert(format!(":{n}"), value);
                name(n);
            }
        }
        if !self.removes.is_empty() {
            let removes: Vec<String> = self.removes.iter().map(|n| format!("#{n}")).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
            for n in self.removes {
                name(n);
            }
        }
        if let Some(condition) = &self.condition {
            for (n, value) in self.values {
                values.insert(format!(":{n}"), value);
            }
            // Every `#name` the condition uses names the attribute of that name.
            for word in condition.split(|c: char| !(c.is_alphanumeric() || c == '#')) {
                if let Some(n) = word.strip_prefix('#') {
                    name(n);
                }
            }
        }
        Expression {
            update: clauses.join(" "),
            condition: self.condition,
            names,
            values,
        }
    }

    /// As a write of a transaction.
    fn update(self, table: &str, key: Item) -> Result<TransactWriteItem, StoreError> {
        let return_old = self.return_old;
        let e = self.expression();
        let mut update = Update::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(e.update)
            .set_condition_expression(e.condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values).filter(|v| !v.is_empty()));
        if return_old {
            update = update.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            );
        }
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }

    /// As a request of its own.
    fn update_item(
        self,
        store: &DynamoStore,
        key: Item,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let return_old = self.return_old;
        let e = self.expression();
        let request = store
            .client
            .update_item()
            .table_name(&store.table)
            .set_key(Some(key))
            .update_expression(e.update)
            .set_condition_expression(e.condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values).filter(|v| !v.is_empty()));
        if return_old {
            request.return_values_on_condition_check_failure(
                ReturnValuesOnConditionCheckFailure::AllOld,
            )
        } else {
            request
        }
    }
}

impl DynamoStore {
    /// The conversation's update for a new message: created on first use, the latest message
    /// replaced (or, for a text older than what it shows, kept), the inbound count moved and
    /// the sender's opt-out set.
    #[allow(clippy::too_many_arguments)]
    fn conversation_update(
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
            .set(sms::INBOX, s(inbox_pk(inbox)));
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
    async fn transact_noticed(
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

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
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

    async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
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
    fn pointer_item(&self, message_sid: &str, location: &MessageLocation) -> Item {
        let mut item = pointer_key(message_sid);
        for (name, value) in location_values(location) {
            item.insert(name.to_owned(), s(value));
        }
        item
    }

    /// How many inbound messages of the conversation sort at or before `up_to`.
    async fn inbound_up_to(&self, up_to: &MessageLocation) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .filter_expression("#dir = :inbound")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#dir", sms::DIRECTION)
                .expression_attribute_values(":pk", s(inbox_pk(&up_to.inbox)))
                .expression_attribute_values(":from", s(messages_sk_prefix(&up_to.with)))
                .expression_attribute_values(":to", s(message_sk(&up_to.with, &up_to.position)))
                .expression_attribute_values(":inbound", s("inbound"))
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            count += u64::try_from(page.count).unwrap_or(0);
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(count),
            }
        }
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
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        let now_s = now_ms.div_euclid(1000);
        let mut item = keyed(presence_pk(sender), send_claim_sk(client_message_id));
        item.insert(TTL_ATTRIBUTE.to_owned(), n(now_s + CLAIM_SECONDS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #exp <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now_s))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(SendClaim::Claimed),
            Err(err) if is_conditional_failure(&err) => {
                let old = err
                    .as_service_error()
                    .and_then(|e| match e {
                        PutItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .cloned();
                Ok(match old.as_ref().and_then(location_from_item) {
                    Some(location) => SendClaim::Sent(location),
                    None => SendClaim::InFlight,
                })
            }
            Err(err) => Err(classify("PutItem", err)),
        }
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
                        if status_rank(&message.status).is_none_or(|current| rank > current) {
                            message.status = status;
                            message.error_code = error_code.or(message.error_code);
                        }
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

    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError> {
        let item = self.get(pointer_key(message_sid)).await?;
        Ok(sid_state_of(item.as_ref(), now_ms))
    }

    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError> {
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

    async fn hold_status(
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
        let page_size = i32::try_from(limit).unwrap_or(i32::MAX);
        let queries = inboxes.iter().map(|inbox| {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INBOX_INDEX)
                .scan_index_forward(false)
                .limit(page_size)
                .expression_attribute_names("#inbox", sms::INBOX)
                .expression_attribute_values(":inbox", s(inbox_pk(inbox)));
            query = match before {
                Some(before) => query
                    .key_condition_expression("#inbox = :inbox AND #activity < :before")
                    .expression_attribute_names("#activity", sms::ACTIVITY)
                    .expression_attribute_values(":before", s(before)),
                None => query.key_condition_expression("#inbox = :inbox"),
            };
            async move { query.send().await.map_err(|e| classify("Query", e)) }
        });
        let pages = try_join_all(queries).await?;
        let mut found = Vec::new();
        for page in pages {
            for item in page.items() {
                found.push(conversation_from_item(item)?);
            }
        }
        found.sort_by(|a, b| b.activity.cmp(&a.activity));
        found.truncate(limit);
        Ok(found)
    }

    async fn messages(
        &self,
        inbox: &Inbox,
        with: &Party,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Message)>, StoreError> {
        let prefix = messages_sk_prefix(with);
        // BETWEEN is inclusive: one more than wanted, since `before` itself may be there.
        let upper = match before {
            Some(before) => message_sk(with, before),
            None => format!("{prefix}~"),
        };
        let page_size = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(inbox_pk(inbox)))
            .expression_attribute_values(":from", s(prefix))
            .expression_attribute_values(":to", s(upper.clone()))
            .scan_index_forward(false)
            .limit(page_size)
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        let mut messages = Vec::new();
        for item in page.items() {
            if get_s(item, SK) == Some(upper.as_str()) || messages.len() == limit {
                continue;
            }
            let position = position_of(item).unwrap_or_default();
            messages.push((position, message_from_item(item)?));
        }
        Ok(messages)
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
        let notice = read_notice(user, read, count);
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
