//! The SMS inbox in memory, with the DynamoDB store's semantics: a message is stored once per
//! `MessageSid`, a status only moves forward, a read mark never moves back, and events are
//! logged only for writes that happened.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use crate::sms::keywords::OptChange;
use crate::sms::message::{
    Conversation, Direction, Inbox, Message, MessageLocation, Party, advances, status_rank,
};
use crate::store::MemoryStore;
use crate::store::messages::{
    InboundWrite, MessageStore, ReadMark, ReadWrite, SendClaim, SentWrite, SidState, StatusWrite,
};
use crate::store::rates::{Budget, Counted, NewRecipient};
use crate::store::{PresenceKey, StoreError};

/// How long a `clientMessageId` is remembered (the trait's day).
const CLAIM_SECONDS: i64 = 86_400;
/// How long a status waits for its message (two days, as on DynamoDB).
const HELD_STATUS_SECONDS: i64 = 2 * 86_400;

#[derive(Default)]
pub(in crate::store) struct SmsState {
    conversations: HashMap<(Inbox, Party), Conversation>,
    /// Each conversation's messages by position.
    messages: HashMap<(Inbox, Party), BTreeMap<String, Message>>,
    sids: HashMap<String, SidState>,
    /// When each held (`Pending`) status is forgotten (epoch s), like the pointer's TTL.
    held_until: HashMap<String, i64>,
    /// Each claim with when it expires (epoch s), like the DynamoDB store's claim item.
    claims: HashMap<(PresenceKey, String), (SendClaim, i64)>,
    marks: HashMap<(PresenceKey, String, Party), u64>,
}

impl SmsState {
    /// The conversation after `message` at `position`: created if new, its latest message
    /// replaced only by a later one.
    fn touch(
        &mut self,
        inbox: &Inbox,
        phone_number: &str,
        with: &Party,
        message: &Message,
        position: &str,
        latest: bool,
    ) -> &mut Conversation {
        let conversation = self
            .conversations
            .entry((inbox.clone(), with.clone()))
            .or_insert_with(|| Conversation::empty(inbox, phone_number, with));
        if conversation.last_message.is_none() {
            conversation.started_inbound = message.direction == Direction::Inbound;
        }
        if conversation.last_message.is_none()
            || latest && conversation.activity.as_str() < position
        {
            conversation.activity = position.to_owned();
            conversation.last_message = Some(message.clone());
        }
        conversation
    }

    fn put_message(
        &mut self,
        inbox: &Inbox,
        with: &Party,
        position: &str,
        message: &Message,
    ) -> MessageLocation {
        self.messages
            .entry((inbox.clone(), with.clone()))
            .or_default()
            .insert(position.to_owned(), message.clone());
        MessageLocation {
            inbox: inbox.clone(),
            with: with.clone(),
            position: position.to_owned(),
        }
    }

    /// Where `message_sid` stands at `now_ms`: a held status is forgotten when it expires.
    fn sid_at(&self, message_sid: &str, now_ms: i64) -> SidState {
        match self.sids.get(message_sid) {
            Some(SidState::Pending { .. })
                if self
                    .held_until
                    .get(message_sid)
                    .is_some_and(|until| *until <= now_ms.div_euclid(1000)) =>
            {
                SidState::Unknown
            }
            Some(state) => state.clone(),
            None => SidState::Unknown,
        }
    }

    fn message_mut(&mut self, location: &MessageLocation) -> Option<&mut Message> {
        self.messages
            .get_mut(&(location.inbox.clone(), location.with.clone()))?
            .get_mut(&location.position)
    }
}

#[async_trait]
impl MessageStore for MemoryStore {
    async fn store_inbound(&self, write: &InboundWrite) -> Result<bool, StoreError> {
        {
            let mut sms = self.sms();
            if sms.sids.contains_key(&write.message.message_sid) {
                return Ok(false);
            }
            let location =
                sms.put_message(&write.inbox, &write.with, &write.position, &write.message);
            sms.sids.insert(
                write.message.message_sid.clone(),
                SidState::Stored(location),
            );
            let conversation = sms.touch(
                &write.inbox,
                &write.phone_number,
                &write.with,
                &write.message,
                &write.position,
                write.latest,
            );
            conversation.inbound += 1;
            match write.opt_change {
                Some(OptChange::OptOut) => conversation.opted_out = true,
                Some(OptChange::OptIn) => conversation.opted_out = false,
                None => {}
            }
        }
        self.tell(&write.notice).await;
        Ok(true)
    }

    async fn claim_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        let mut sms = self.sms();
        let key = (sender.clone(), client_message_id.to_owned());
        let now_s = now_ms.div_euclid(1000);
        if let Some((existing, expires_at)) = sms.claims.get(&key)
            && *expires_at > now_s
        {
            return Ok(existing.clone());
        }
        if let Counted::Over {
            retry_after_seconds,
        } = self.rates().count_within(sender, texts, now_ms)
        {
            return Ok(SendClaim::OverBudget {
                retry_after_seconds,
            });
        }
        sms.claims
            .insert(key, (SendClaim::InFlight, now_s + CLAIM_SECONDS));
        Ok(SendClaim::Claimed)
    }

    async fn count_new_recipient(
        &self,
        sender: &PresenceKey,
        budget: &Budget,
        inbox: &Inbox,
        with: &Party,
        now_ms: i64,
    ) -> Result<NewRecipient, StoreError> {
        let sms = self.sms();
        if sms
            .conversations
            .contains_key(&(inbox.clone(), with.clone()))
        {
            return Ok(NewRecipient::Known);
        }
        Ok(match self.rates().count_within(sender, budget, now_ms) {
            Counted::Counted => NewRecipient::Counted,
            Counted::Over {
                retry_after_seconds,
            } => NewRecipient::Over {
                retry_after_seconds,
            },
        })
    }

    async fn release_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
    ) -> Result<(), StoreError> {
        let key = (sender.clone(), client_message_id.to_owned());
        let mut sms = self.sms();
        if matches!(sms.claims.get(&key), Some((SendClaim::InFlight, _))) {
            sms.claims.remove(&key);
        }
        Ok(())
    }

    async fn store_sent(&self, write: &SentWrite) -> Result<Message, StoreError> {
        let mut notice = write.notice.clone();
        let message = {
            let mut sms = self.sms();
            let mut message = write.message.clone();
            if let SidState::Pending {
                status,
                rank,
                error_code,
            } = sms.sid_at(&message.message_sid, message.at)
            {
                message.fold_status(status, rank, error_code);
            }
            let location = sms.put_message(&write.inbox, &write.with, &write.position, &message);
            sms.held_until.remove(&message.message_sid);
            sms.sids.insert(
                message.message_sid.clone(),
                SidState::Stored(location.clone()),
            );
            sms.touch(
                &write.inbox,
                &write.phone_number,
                &write.with,
                &message,
                &write.position,
                true,
            );
            // The claim keeps its expiry; one never made (a caller that skipped claiming)
            // is kept, as DynamoDB's update makes it without one.
            sms.claims
                .entry((write.sender.clone(), write.client_message_id.clone()))
                .and_modify(|(claim, _)| *claim = SendClaim::Sent(location.clone()))
                .or_insert((SendClaim::Sent(location), i64::MAX));
            message
        };
        if let Some(data) = notice.data.get_mut("message") {
            *data = serde_json::to_value(&message).unwrap_or_default();
        }
        self.tell(&notice).await;
        Ok(message)
    }

    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError> {
        Ok(self.sms().sid_at(message_sid, now_ms))
    }

    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError> {
        {
            let mut sms = self.sms();
            let Some(message) = sms.message_mut(&write.location) else {
                return Ok(false);
            };
            let current = status_rank(&message.status).unwrap_or(0);
            if !advances(current, write.rank) {
                return Ok(false);
            }
            message.status = write.status.clone();
            if write.error_code.is_some() {
                message.error_code = write.error_code;
            }
            let updated = message.clone();
            let key = (write.location.inbox.clone(), write.location.with.clone());
            if let Some(conversation) = sms.conversations.get_mut(&key)
                && conversation.activity == write.location.position
            {
                conversation.last_message = Some(updated);
            }
        }
        self.tell(&write.notice).await;
        Ok(true)
    }

    async fn hold_status(
        &self,
        message_sid: &str,
        status: &str,
        rank: u8,
        error_code: Option<u32>,
        now_ms: i64,
    ) -> Result<SidState, StoreError> {
        let mut sms = self.sms();
        let held = match sms.sid_at(message_sid, now_ms) {
            stored @ SidState::Stored(_) => return Ok(stored),
            SidState::Pending { rank: current, .. } => advances(current, rank),
            SidState::Unknown => true,
        };
        if held {
            sms.held_until.insert(
                message_sid.to_owned(),
                now_ms.div_euclid(1000) + HELD_STATUS_SECONDS,
            );
            sms.sids.insert(
                message_sid.to_owned(),
                SidState::Pending {
                    status: status.to_owned(),
                    rank,
                    error_code,
                },
            );
        }
        Ok(sms.sid_at(message_sid, now_ms))
    }

    async fn message(&self, location: &MessageLocation) -> Result<Option<Message>, StoreError> {
        Ok(self
            .sms()
            .messages
            .get(&(location.inbox.clone(), location.with.clone()))
            .and_then(|m| m.get(&location.position))
            .cloned())
    }

    async fn conversation(
        &self,
        inbox: &Inbox,
        with: &Party,
    ) -> Result<Option<Conversation>, StoreError> {
        Ok(self
            .sms()
            .conversations
            .get(&(inbox.clone(), with.clone()))
            .cloned())
    }

    async fn conversations(
        &self,
        inboxes: &[Inbox],
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        let sms = self.sms();
        let mut found: Vec<Conversation> = sms
            .conversations
            .iter()
            .filter(|((inbox, _), c)| {
                inboxes.contains(inbox)
                    && c.last_message.is_some()
                    && before.is_none_or(|b| c.activity.as_str() < b)
            })
            .map(|(_, c)| c.clone())
            .collect();
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
        let sms = self.sms();
        let Some(messages) = sms.messages.get(&(inbox.clone(), with.clone())) else {
            return Ok(Vec::new());
        };
        Ok(messages
            .iter()
            .rev()
            .filter(|(position, _)| before.is_none_or(|b| position.as_str() < b))
            .take(limit)
            .map(|(p, m)| (p.clone(), m.clone()))
            .collect())
    }

    async fn read_marks(&self, user: &PresenceKey) -> Result<Vec<ReadMark>, StoreError> {
        Ok(self
            .sms()
            .marks
            .iter()
            .filter(|((u, _, _), _)| u == user)
            .map(|((_, phone_id, with), read)| ReadMark {
                phone_id: phone_id.clone(),
                with: with.clone(),
                read_inbound: *read,
            })
            .collect())
    }

    async fn mark_read(
        &self,
        user: &PresenceKey,
        read: &ReadWrite,
    ) -> Result<ReadMark, StoreError> {
        let up_to = &read.up_to;
        let (moved, read_inbound) = {
            let mut sms = self.sms();
            let position = sms
                .messages
                .get(&(up_to.inbox.clone(), up_to.with.clone()))
                .map_or(0, |messages| {
                    messages
                        .range(..=up_to.position.clone())
                        .filter(|(_, m)| m.direction == Direction::Inbound)
                        .count() as u64
                });
            let key = (
                user.clone(),
                up_to.inbox.phone_id.clone(),
                up_to.with.clone(),
            );
            // A first mark is news even at no inbound text: DynamoDB writes (and tells) it.
            let first = !sms.marks.contains_key(&key);
            let mark = sms.marks.entry(key).or_insert(0);
            let moved = first || position > *mark;
            *mark = (*mark).max(position);
            (moved, *mark)
        };
        if moved {
            self.tell(&read.notice(user, read_inbound)).await;
        }
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
        let mut sms = self.sms();
        sms.conversations
            .entry((inbox.clone(), with.clone()))
            .or_insert_with(|| Conversation::empty(inbox, phone_number, with))
            .opted_out = opted_out;
        Ok(())
    }
}
