//! The SMS inbox on DynamoDB. Each write that users see is one transaction with its events:
//! a received text is its pointer (conditioned on the `MessageSid` being new), the message,
//! the conversation's update and an event per user of the number, so a repeated webhook
//! writes and tells nothing. A sent text is stored with its pointer, claim, conversation and
//! events in one transaction (folding in a status callback that came first); a status is
//! applied only when it moves the message forward, or held on the pointer until its message
//! is stored. Conversations are read by the sparse `inbox-activity` index. Here the trait;
//! the items its writes change in `writes.rs`; items and records in `item.rs`.

mod item;
mod writes;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValuesOnConditionCheckFailure, Select, TransactWriteItem,
};
use futures::future::{join, try_join_all};

use self::item::{
    conversation_from_item, location_from_item, message_from_item, message_item, pointer_key,
    position_of, read_mark_from_item, sid_state_of,
};
use self::writes::{held_status, status_changes};
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    INBOX_INDEX, PK, READ_MARK_SK_PREFIX, SK, conversation_sk, inbox_pk, message_sk,
    messages_sk_prefix, presence_pk, read_mark_sk, send_claim_sk, sms,
};
use crate::store::dynamo::outcome::{Conditional, classify, conditional};
use crate::store::dynamo::query::SkRange;
use crate::store::dynamo::tx::{TxOutcome, built};
use crate::store::messages::{
    InboundWrite, MessageStore, ReadMark, ReadWrite, SendClaim, SentWrite, SidState, StatusWrite,
};
use crate::store::rates::{Budget, NewRecipient};
use crate::store::{PresenceKey, StoreError, StoreName};

const STORE: StoreName = StoreName::Inbox;

#[async_trait]
impl MessageStore for DynamoStore {
    async fn store_inbound(&self, write: &InboundWrite) -> Result<bool, StoreError> {
        let location = MessageLocation {
            inbox: write.inbox.clone(),
            with: write.with.clone(),
            position: write.position.clone(),
        };
        let mut latest = write.latest;
        loop {
            let conversation = self.conversation_update(
                &write.inbox,
                &write.phone_number,
                &write.with,
                &write.message,
                &write.position,
                latest,
                Some(write.opt_change),
            )?;
            let writes = vec![
                self.put_returning_old(
                    self.pointer_item(&write.message.message_sid, &location),
                    "attribute_not_exists(#pk)",
                )?,
                self.put(
                    message_item(&write.inbox, &write.with, &write.position, &write.message),
                    None,
                )?,
                conversation,
            ];
            match self.transact_noticed(STORE, writes, &write.notice).await? {
                TxOutcome::Written => return Ok(true),
                // The pointer was there: a repeat.
                TxOutcome::Refused(old) if old.first().is_some_and(Option::is_some) => {
                    return Ok(false);
                }
                // Only the conversation refused: a newer text is its latest; this one fills
                // the gap (one more round, only in that race).
                TxOutcome::Refused(_) if latest => latest = false,
                TxOutcome::Refused(_) => return Ok(false),
            }
        }
    }

    async fn claim_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        let writes = vec![
            self.claim(sender, client_message_id, now_ms)?,
            self.count_in(sender, texts, now_ms)?,
        ];
        Ok(match self.transact(STORE, writes).await? {
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

    async fn count_new_recipient(
        &self,
        sender: &PresenceKey,
        budget: &Budget,
        inbox: &Inbox,
        with: &Party,
        now_ms: i64,
    ) -> Result<NewRecipient, StoreError> {
        // Counted only while the inbox has no conversation with `with`: its absence is a
        // condition of the same transaction.
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
            self.count_in(sender, budget, now_ms)?,
        ];
        Ok(match self.transact(STORE, writes).await? {
            TxOutcome::Written => NewRecipient::Counted,
            TxOutcome::Refused(old) if old.first().is_some_and(Option::is_some) => {
                NewRecipient::Known
            }
            TxOutcome::Refused(_) => NewRecipient::Over {
                retry_after_seconds: budget.retry_after(now_ms),
            },
        })
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
        // A claim that points at a sent message stays.
        conditional(STORE, "DeleteItem", result).map(|_| ())
    }

    async fn store_sent(&self, write: &SentWrite) -> Result<Message, StoreError> {
        let location = MessageLocation {
            inbox: write.inbox.clone(),
            with: write.with.clone(),
            position: write.position.clone(),
        };
        let mut message = write.message.clone();
        // A status callback may have come before this write: then the pointer holds it, the
        // first attempt is refused with the pointer as it is, and the next folds it in. A
        // newer text may be the conversation's latest already: then the conversation refuses,
        // and the next attempt keeps that latest.
        let (mut first, mut latest) = (true, true);
        for _ in 0..3 {
            let writes = self.sent_writes(write, &message, &location, first, latest)?;
            let mut notice = write.notice.clone();
            if let Some(data) = notice.data.get_mut("message") {
                *data = serde_json::to_value(&message).unwrap_or_default();
            }
            match self.transact_noticed(STORE, writes, &notice).await? {
                TxOutcome::Written => return Ok(message),
                TxOutcome::Refused(items) => {
                    let held = items.get(1).cloned().flatten();
                    if held.is_some() {
                        if let SidState::Pending {
                            status,
                            rank,
                            error_code,
                        } = sid_state_of(held.as_ref(), write.message.at)
                        {
                            message.fold_status(status, rank, error_code);
                        }
                        // The next attempt clears the held status without a condition.
                        first = false;
                    }
                    if items.get(3).is_some_and(Option::is_some) {
                        latest = false;
                    }
                    if held.is_none() && items.get(3).is_none_or(Option::is_none) {
                        // Neither said why: drop both conditions, as the last attempt would.
                        (first, latest) = (false, false);
                    }
                }
            }
        }
        Err(StoreError::Internal(format!(
            "the sent message {} could not be stored",
            message.message_sid
        )))
    }

    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError> {
        let item = self.get(STORE, pointer_key(message_sid)).await?;
        Ok(sid_state_of(item.as_ref(), now_ms))
    }

    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError> {
        let key = keyed(
            inbox_pk(&write.location.inbox),
            message_sk(&write.location.with, &write.location.position),
        );
        let (message, last) = status_changes(write);
        let message = message.update(&self.table, key)?;
        let conversation = last
            .update_item(
                self,
                keyed(
                    inbox_pk(&write.location.inbox),
                    conversation_sk(&write.location.with),
                ),
            )
            .send();
        let (outcome, conversation) = join(
            self.transact_noticed(STORE, vec![message], &write.notice),
            conversation,
        )
        .await;
        // A conversation whose latest message is another, or further on, stays.
        conditional(STORE, "UpdateItem", conversation)?;
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
        let result = held_status(status, rank, error_code, now_ms)
            .update_item(self, pointer_key(message_sid))
            .send()
            .await;
        Ok(match conditional(STORE, "UpdateItem", result)? {
            Conditional::Written(_) => SidState::Pending {
                status: status.to_owned(),
                rank,
                error_code,
            },
            Conditional::Refused(old) => sid_state_of(old.as_ref(), now_ms),
        })
    }

    async fn message(&self, location: &MessageLocation) -> Result<Option<Message>, StoreError> {
        let key = keyed(
            inbox_pk(&location.inbox),
            message_sk(&location.with, &location.position),
        );
        self.get(STORE, key)
            .await?
            .map(|item| message_from_item(&item))
            .transpose()
    }

    async fn conversation(
        &self,
        inbox: &Inbox,
        with: &Party,
    ) -> Result<Option<Conversation>, StoreError> {
        self.get(STORE, keyed(inbox_pk(inbox), conversation_sk(with)))
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
            async move { query.send().await.map_err(|e| classify(STORE, "Query", e)) }
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
            .map_err(|e| classify(STORE, "Query", e))?;
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
        let range = SkRange::Prefix(READ_MARK_SK_PREFIX);
        let items = self.query(STORE, presence_pk(user), range, None).await?;
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
        let read_inbound = match self.transact_noticed(STORE, vec![mark], &notice).await? {
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
            .map_err(|e| classify(STORE, "UpdateItem", e))
    }
}

impl DynamoStore {
    /// How many inbound messages of the conversation sort at or before `up_to`.
    async fn inbound_up_to(&self, up_to: &MessageLocation) -> Result<u64, StoreError> {
        let query = self
            .query_request()
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .filter_expression("#dir = :inbound")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#dir", sms::DIRECTION)
            .expression_attribute_values(":pk", s(inbox_pk(&up_to.inbox)))
            .expression_attribute_values(":from", s(messages_sk_prefix(&up_to.with)))
            .expression_attribute_values(":to", s(message_sk(&up_to.with, &up_to.position)))
            .expression_attribute_values(":inbound", s("inbound"))
            .select(Select::Count);
        let mut count = 0u64;
        self.paginate(STORE, query, |page| {
            count += u64::try_from(page.count).unwrap_or(0);
            Ok(true)
        })
        .await?;
        Ok(count)
    }
}
