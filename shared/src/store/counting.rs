//! A store wrapper that counts calls, for round-trip budgets and for tests that prove a
//! request touched no store at all.
//!
//! Besides the number of calls it counts *sequential rounds*: calls issued together (joined
//! futures) overlap and count as one round, a call issued after another finished starts a new
//! one. That is the latency a request pays in DynamoDB round trips.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::ImportReport;
use super::{
    CallEvent, Connected, Connection, DirectoryStore, EventStore, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome, Registration, SpentTicket,
    StoreError, Unregistration, UserPresence,
};
use crate::directory::{Directory, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::OrgId as Org;
use crate::domain::{DeviceId, E164, IdentityStyle, OrgId, UserKey};
use crate::events::{Cursor, Event};
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};
use crate::store::history::{HistoryPage, HistoryWrite, SeenMark, VoicemailRef};
use crate::store::messages::Notice;
use crate::store::messages::{
    InboundWrite, ReadMark, ReadWrite, SendClaim, SentWrite, SidState, StatusWrite,
};
use crate::store::rates::{Budget, Counted, NewRecipient};
use crate::store::{HistoryStore, MessageStore};

pub struct CountingStore {
    presence: Arc<dyn PresenceStore>,
    directory: Arc<dyn DirectoryStore>,
    events: Arc<dyn EventStore>,
    messages: Arc<dyn MessageStore>,
    history: Arc<dyn HistoryStore>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    rounds: AtomicUsize,
}

impl CountingStore {
    /// Counts the calls to every store of `store`.
    pub fn wrapping<S>(store: Arc<S>) -> Self
    where
        S: PresenceStore + DirectoryStore + EventStore + MessageStore + HistoryStore + 'static,
    {
        Self::new(
            store.clone(),
            store.clone(),
            store.clone(),
            store.clone(),
            store,
        )
    }

    pub fn new(
        presence: Arc<dyn PresenceStore>,
        directory: Arc<dyn DirectoryStore>,
        events: Arc<dyn EventStore>,
        messages: Arc<dyn MessageStore>,
        history: Arc<dyn HistoryStore>,
    ) -> Self {
        Self {
            presence,
            directory,
            events,
            messages,
            history,
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            rounds: AtomicUsize::new(0),
        }
    }

    /// Store calls made so far, presence and directory together.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Sequential rounds of store calls so far (see the module docs).
    pub fn rounds(&self) -> usize {
        self.rounds.load(Ordering::SeqCst)
    }

    /// Forget what was counted, to measure one request.
    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.rounds.store(0, Ordering::SeqCst);
    }

    async fn counted<T>(&self, call: impl Future<Output = T>) -> T {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.rounds.fetch_add(1, Ordering::SeqCst);
        }
        // Let every call joined with this one start before any finishes, as they would on a
        // network: the wrapped store may answer on its first poll.
        tokio::task::yield_now().await;
        let out = call.await;
        tokio::task::yield_now().await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

#[async_trait]
impl PresenceStore for CountingStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        self.counted(self.presence.register(registration)).await
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        self.counted(self.presence.heartbeat(key, device_id, update))
            .await
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        self.counted(self.presence.unregister(key, device_id, how))
            .await
    }

    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        self.counted(self.presence.presence(key, now_ms)).await
    }

    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError> {
        self.counted(self.presence.record_call(key, event)).await
    }
}

#[async_trait]
impl DirectoryStore for CountingStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        self.counted(self.directory.org_directory(org)).await
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        self.counted(self.directory.route_for_number(number)).await
    }

    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError> {
        self.counted(self.directory.user(key)).await
    }

    async fn import(
        &self,
        directory: &Directory,
        style: IdentityStyle,
    ) -> Result<ImportReport, StoreError> {
        self.counted(self.directory.import(directory, style)).await
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        self.counted(self.directory.export()).await
    }
}

#[async_trait]
impl EventStore for CountingStore {
    async fn events_after(
        &self,
        user: &PresenceKey,
        after: &Cursor,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Event>, StoreError> {
        self.counted(self.events.events_after(user, after, limit, now_ms))
            .await
    }

    async fn connect(
        &self,
        user: &PresenceKey,
        connection: &Connection,
        ticket: &SpentTicket,
    ) -> Result<Connected, StoreError> {
        self.counted(self.events.connect(user, connection, ticket))
            .await
    }

    async fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> Result<(), StoreError> {
        self.counted(self.events.disconnect(user, connection_id))
            .await
    }

    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        self.counted(self.events.connections(user, now_ms)).await
    }

    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<PresenceKey>, StoreError> {
        self.counted(self.events.connection_owner(connection_id))
            .await
    }
}

#[async_trait]
impl MessageStore for CountingStore {
    async fn store_inbound(&self, write: &InboundWrite) -> Result<bool, StoreError> {
        self.counted(self.messages.store_inbound(write)).await
    }

    async fn claim_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
        texts: &Budget,
        now_ms: i64,
    ) -> Result<SendClaim, StoreError> {
        self.counted(
            self.messages
                .claim_send(sender, client_message_id, texts, now_ms),
        )
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
        self.counted(
            self.messages
                .count_new_recipient(sender, budget, inbox, with, now_ms),
        )
        .await
    }

    async fn release_send(
        &self,
        sender: &PresenceKey,
        client_message_id: &str,
    ) -> Result<(), StoreError> {
        self.counted(self.messages.release_send(sender, client_message_id))
            .await
    }

    async fn store_sent(&self, write: &SentWrite) -> Result<Message, StoreError> {
        self.counted(self.messages.store_sent(write)).await
    }

    async fn sid_state(&self, message_sid: &str, now_ms: i64) -> Result<SidState, StoreError> {
        self.counted(self.messages.sid_state(message_sid, now_ms))
            .await
    }

    async fn apply_status(&self, write: &StatusWrite) -> Result<bool, StoreError> {
        self.counted(self.messages.apply_status(write)).await
    }

    async fn hold_status(
        &self,
        message_sid: &str,
        status: &str,
        rank: u8,
        error_code: Option<u32>,
        now_ms: i64,
    ) -> Result<SidState, StoreError> {
        let held = self
            .messages
            .hold_status(message_sid, status, rank, error_code, now_ms);
        self.counted(held).await
    }

    async fn message(&self, location: &MessageLocation) -> Result<Option<Message>, StoreError> {
        self.counted(self.messages.message(location)).await
    }

    async fn conversation(
        &self,
        inbox: &Inbox,
        with: &Party,
    ) -> Result<Option<Conversation>, StoreError> {
        self.counted(self.messages.conversation(inbox, with)).await
    }

    async fn conversations(
        &self,
        inboxes: &[Inbox],
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Conversation>, StoreError> {
        self.counted(self.messages.conversations(inboxes, before, limit))
            .await
    }

    async fn messages(
        &self,
        inbox: &Inbox,
        with: &Party,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Message)>, StoreError> {
        self.counted(self.messages.messages(inbox, with, before, limit))
            .await
    }

    async fn read_marks(&self, user: &PresenceKey) -> Result<Vec<ReadMark>, StoreError> {
        self.counted(self.messages.read_marks(user)).await
    }

    async fn mark_read(
        &self,
        user: &PresenceKey,
        read: &ReadWrite,
    ) -> Result<ReadMark, StoreError> {
        self.counted(self.messages.mark_read(user, read)).await
    }

    async fn set_opted_out(
        &self,
        inbox: &Inbox,
        phone_number: &str,
        with: &Party,
        opted_out: bool,
    ) -> Result<(), StoreError> {
        let set = self
            .messages
            .set_opted_out(inbox, phone_number, with, opted_out);
        self.counted(set).await
    }
}

#[async_trait]
impl HistoryStore for CountingStore {
    async fn record(
        &self,
        write: &HistoryWrite,
        voicemail: Option<&VoicemailRef>,
    ) -> Result<bool, StoreError> {
        self.counted(self.history.record(write, voicemail)).await
    }

    async fn history(
        &self,
        user: &PresenceKey,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<HistoryPage, StoreError> {
        self.counted(self.history.history(user, before, limit, now_ms))
            .await
    }

    async fn call_started(&self, call_sid: &str) -> Result<Option<(Org, i64)>, StoreError> {
        self.counted(self.history.call_started(call_sid)).await
    }

    async fn mark_seen(
        &self,
        user: &PresenceKey,
        position: &str,
        notice: &Notice,
    ) -> Result<SeenMark, StoreError> {
        self.counted(self.history.mark_seen(user, position, notice))
            .await
    }

    async fn voicemail(&self, recording_sid: &str) -> Result<Option<VoicemailRef>, StoreError> {
        self.counted(self.history.voicemail(recording_sid)).await
    }

    async fn remove_voicemail(
        &self,
        voicemail: &VoicemailRef,
        notice: &Notice,
    ) -> Result<(), StoreError> {
        self.counted(self.history.remove_voicemail(voicemail, notice))
            .await
    }

    async fn count_call(
        &self,
        caller: &PresenceKey,
        calls: &Budget,
        now_ms: i64,
    ) -> Result<Counted, StoreError> {
        self.counted(self.history.count_call(caller, calls, now_ms))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn joined_calls_are_one_round_and_awaited_calls_one_each() {
        let memory = Arc::new(MemoryStore::new());
        let counting = CountingStore::wrapping(memory);
        let org = OrgId::parse_field("org_a", "org").unwrap();
        let (a, b) =
            futures::future::join(counting.org_directory(&org), counting.org_directory(&org)).await;
        assert!(a.is_ok() && b.is_ok());
        assert_eq!((counting.calls(), counting.rounds()), (2, 1));
        let _ = counting.org_directory(&org).await;
        let _ = counting.org_directory(&org).await;
        assert_eq!((counting.calls(), counting.rounds()), (4, 3));
        counting.reset();
        assert_eq!((counting.calls(), counting.rounds()), (0, 0));
    }
}
