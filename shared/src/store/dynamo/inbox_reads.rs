//! The SMS inbox's reads on DynamoDB: conversations by latest activity (one query of the
//! `inbox-activity` index per number, merged), a page of a conversation's messages, and how
//! many inbound messages a read mark covers.

use aws_sdk_dynamodb::types::Select;
use futures::future::try_join_all;

use super::codec::{Item, get_s, s};
use super::keys::{INBOX_INDEX, PK, SK, inbox_pk, message_sk, messages_sk_prefix, sms};
use super::message_codec::{conversation_from_item, message_from_item, position_of};
use super::{DynamoStore, classify};
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};
use crate::store::StoreError;

impl DynamoStore {
    pub(super) async fn inbox_conversations(
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

    pub(super) async fn inbox_messages(
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

    /// How many inbound messages of the conversation sort at or before `up_to`.
    pub(super) async fn inbound_up_to(&self, up_to: &MessageLocation) -> Result<u64, StoreError> {
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
