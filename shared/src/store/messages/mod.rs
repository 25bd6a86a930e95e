//! The SMS inbox's store (`inbox` in an outage's answer): messages by conversation, conversations by latest activity, each
//! user's read marks, the idempotency of sends, and the events that tell the number's users.
//! Every write that changes what users see writes its events in the same transaction, so a
//! duplicate (a repeated webhook, a reconciled text already stored) changes and tells nothing.
//! Implemented in `memory.rs` and `dynamo/` (the trait in `dynamo/mod.rs`, the items it
//! writes in `dynamo/writes.rs`, the items and records in `dynamo/item.rs`).

mod dynamo;
pub(super) mod memory;

use async_trait::async_trait;

use super::rates::{Budget, NewRecipient};
use super::{PresenceKey, StoreError};
use crate::events::EventKind;
use crate::sms::keywords::OptChange;
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};

/// The events a write tells (an events record; the inbox's writes name it most).
pub use super::events::Notice;

/// A text received on one of the org's numbers (by webhook or by reconciliation).
#[derive(Debug, Clone)]
pub struct InboundWrite {
    pub inbox: Inbox,
    pub phone_number: String,
    /// The sender: the conversation's other side.
    pub with: Party,
    pub message: Message,
    /// Where it sorts in its conversation (a cursor taken when it was received).
    pub position: String,
    /// Received just now (the webhook), so the conversation's latest; a reconciled text may
    /// be older than what the conversation shows and only fills the gap.
    pub latest: bool,
    pub opt_change: Option<OptChange>,
    /// `sms.received`, built from the message and conversation as they will be.
    pub notice: Notice,
}

/// A text this service sent (Twilio accepted it).
#[derive(Debug, Clone)]
pub struct SentWrite {
    pub inbox: Inbox,
    pub phone_number: String,
    /// The recipient: the conversation's other side.
    pub with: Party,
    pub message: Message,
    pub position: String,
    /// The sender and their `clientMessageId`, whose claim now points at the message.
    pub sender: PresenceKey,
    pub client_message_id: String,
    /// `sms.sent` for every user of the number; its `message` is replaced by the stored one if
    /// a status callback came first.
    pub notice: Notice,
}

/// A status callback for a message this service stored.
#[derive(Debug, Clone)]
pub struct StatusWrite {
    pub location: MessageLocation,
    pub message_sid: String,
    pub status: String,
    pub rank: u8,
    pub error_code: Option<u32>,
    pub notice: Notice,
}

/// Where a `MessageSid` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SidState {
    /// Stored, here.
    Stored(MessageLocation),
    /// Not stored yet, but a status callback came for it: that status, to apply when it is.
    Pending {
        status: String,
        rank: u8,
        error_code: Option<u32>,
    },
    Unknown,
}

/// What a `clientMessageId` claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendClaim {
    /// New: this request sends.
    Claimed,
    /// Another request with the same id is sending now.
    InFlight,
    /// Already sent: the message is here.
    Sent(MessageLocation),
    /// New, but the sender's texts budget is spent: not claimed, nothing counted.
    OverBudget { retry_after_seconds: u32 },
}

/// A user reading a conversation up to a message.
#[derive(Debug, Clone)]
pub struct ReadWrite {
    pub up_to: MessageLocation,
    pub up_to_sid: String,
    /// The conversation's inbound count as last read, for the event's unread count.
    pub inbound: u64,
    pub now_ms: i64,
}

impl ReadWrite {
    /// `sms.read`, for the reader's own devices: how far they read and what is left unread.
    pub fn notice(&self, reader: &PresenceKey, read_inbound: u64) -> Notice {
        Notice {
            kind: EventKind::SmsRead,
            data: serde_json::json!({
                "phoneId": self.up_to.inbox.phone_id,
                "with": self.up_to.with,
                "upTo": self.up_to_sid,
                "unread": self.inbound.saturating_sub(read_inbound),
            }),
            at: self.now_ms,
            to: vec![reader.clone()],
        }
    }
}

/// A user's read mark in one conversation: how many inbound messages they have read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMark {
    pub phone_id: String,
    pub with: Party,
    pub read_inbound: u64,
}

impl ReadMark {
    /// How many of `conversation`'s inbound messages the user of `marks` has read.
    pub fn read_in(marks: &[ReadMark], conversation: &Conversation) -> u64 {
        marks
            .iter()
            .find(|m| m.phone_id == conversation.phone_id && m.with == conversation.with)
            .map_or(0, |m| m.read_inbound)
    }
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Store a received text once (keyed by its `MessageSid`) with its conversation's update,
    /// the sender's opt-out change and the notice; `false` when it was already stored.
    async fn store_inbound(&self, write: &InboundWrite) -> Result<bool, StoreError>;

    /// Claim `client_message_id` for `sender` (kept a day) and count the text against
    /// `texts`, together: or say who has the claim, or that the budget is spent (then nothing
    /// is claimed or counted). A retry of a claimed id counts nothing.
    async fn claim_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError>;

    /// Count a text from `sender` to `with` against the new-recipients `budget` when the
    /// inbox has no conversation with `with` yet; nothing when it has.
    async fn count_new_recipient(
        &self,
        sender: &PresenceKey,
        budget: &Budget,
        inbox: &Inbox,
        with: &Party,
        now_ms: i64,
    ) -> Result<NewRecipient, StoreError>;

    /// Give a claim up (the send failed before Twilio took the message).
    async fn release_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
    ) -> Result<(), StoreError>;

    /// Store a sent text with its conversation's update, the claim's pointer and the notice,
    /// applying a status that raced ahead of it; the message as stored.
    async fn store_sent(&self, write: &SentWrite) -> Result<Message, StoreError>;

    /// Where a message is, or the status waiting for it.
    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError>;

    /// Apply a status if it moves the message forward, with its notice; whether it did.
    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError>;

    /// Keep a status for a message not stored yet (its send is still being stored, or it is
    /// not this service's); the state after: `Stored` when the message was stored meanwhile,
    /// so the caller applies the status to it instead.
    async fn hold_status(
        &self,
        message_sid: &str,
        status: &str,
        rank: u8,
        error_code: Option<u32>,
        now_ms: i64,
    ) -> Result<SidState, StoreError>;

    async fn message(&self, location: &MessageLocation) -> Result<Option<Message>, StoreError>;

    async fn conversation(
        &self,
        inbox: &Inbox,
        with: &Party,
    ) -> Result<Option<Conversation>, StoreError>;

    /// The conversations of `inboxes` with activity before `before`, newest first, at most
    /// `limit`.
    async fn conversations(
        &self,
        inboxes: &[Inbox],
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError>;

    /// A conversation's messages before position `before`, newest first, at most `limit`;
    /// each with its position.
    async fn messages(
        &self,
        inbox: &Inbox,
        with: &Party,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Message)>, StoreError>;

    /// Every read mark of `user`.
    async fn read_marks(&self, user: &PresenceKey) -> Result<Vec<ReadMark>, StoreError>;

    /// Move `user`'s read mark in the conversation up to the message (never back), telling
    /// their devices (`sms.read`) when it moved or was first set (even at no inbound text);
    /// the mark after.
    async fn mark_read(&self, user: &PresenceKey, read: &ReadWrite)
    -> Result<ReadMark, StoreError>;

    /// Record that `with` opted out of (or back into) texts from the number (Twilio refused
    /// a send with 21610).
    async fn set_opted_out(
        &self,
        inbox: &Inbox,
        phone_number: &str,
        with: &Party,
        opted_out: bool,
    ) -> Result<(), StoreError>;
}
