//! The one store wrapper of the tests: in front of any store, it counts the calls made to it
//! (to prove a refused request touched no store) and, per store, answers, fails (unavailable,
//! naming that store) or hangs (never answers, as a DynamoDB slower than any deadline),
//! switched at run time. Its trait impls are generated once from each trait's method list
//! (`wrap!`): a new store operation is one line here, and the compiler refuses the wrapper
//! until it has it. Round trips are not counted here but on the wire (`tests/api/round_trips.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use async_trait::async_trait;

use super::directory::write::{AuditPage, OrgWrite, OrgWritten, WriteRefused};
use super::events::{Connected, Connection, ConnectionOwner, SpentTicket, Subscription};
use super::history::{HistoryPage, HistoryWrite, SeenMark, VoicemailRef};
use super::messages::{
    InboundWrite, Notice, ReadMark, ReadWrite, SendClaim, SentWrite, SidState, StatusWrite,
};
use super::rates::{Budget, Counted, NewRecipient};
use super::{
    CallEvent, DirectoryStore, EventStore, HeartbeatOutcome, HeartbeatUpdate, HistoryStore,
    ImportReport, MessageStore, PresenceKey, PresenceStore, RegisterOutcome, Registration,
    SocketAlive, SocketClosed, StoreError, StoreName, Unregistration, UserPresence,
};
use crate::directory::{Directory, Notifications, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{DeviceId, E164, IdentityStyle, OrgId, PersonStatus, Team, UserKey};
use crate::events::{Cursor, Event};
use crate::sms::message::{Conversation, Inbox, Message, MessageLocation, Party};

/// What a store's calls do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    /// The wrapped store answers.
    Answer = 0,
    /// Fails at once, as an unreachable or throttling DynamoDB does.
    Fail = 1,
    /// Never answers.
    Hang = 2,
}

/// `inner` behind a counter of calls and a [`Behaviour`] per store.
pub struct TestStore<S: ?Sized> {
    inner: Arc<S>,
    behaviours: [AtomicU8; StoreName::ALL.len()],
    calls: AtomicUsize,
}

impl<S: ?Sized> TestStore<S> {
    /// Every store answering, through `inner`.
    pub fn new(inner: Arc<S>) -> Self {
        Self {
            inner,
            behaviours: Default::default(),
            calls: AtomicUsize::new(0),
        }
    }

    /// [`Self::set`], while building.
    pub fn with(self, store: StoreName, behaviour: Behaviour) -> Self {
        self.set(store, behaviour);
        self
    }

    /// From now on, `store`'s calls do as `behaviour` says.
    pub fn set(&self, store: StoreName, behaviour: Behaviour) {
        self.behaviours[slot(store)].store(behaviour as u8, Ordering::SeqCst);
    }

    /// Store calls made so far, every store together.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// Forget the calls counted, to measure one request.
    pub fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }

    async fn call<T>(
        &self,
        store: StoreName,
        answer: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.behaviour(store) {
            Behaviour::Answer => answer.await,
            Behaviour::Fail => Err(StoreError::unavailable(store, "injected fault")),
            Behaviour::Hang => std::future::pending().await,
        }
    }

    fn behaviour(&self, store: StoreName) -> Behaviour {
        match self.behaviours[slot(store)].load(Ordering::SeqCst) {
            b if b == Behaviour::Fail as u8 => Behaviour::Fail,
            b if b == Behaviour::Hang as u8 => Behaviour::Hang,
            _ => Behaviour::Answer,
        }
    }
}

fn slot(store: StoreName) -> usize {
    StoreName::ALL
        .iter()
        .position(|s| *s == store)
        .unwrap_or_default()
}

/// `impl Trait for TestStore<S>`, each method passed to `inner` through [`TestStore::call`].
macro_rules! wrap {
    ($store:expr, $trait:ident {
        $(fn $method:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)*
    }) => {
        #[async_trait]
        impl<S: $trait + ?Sized> $trait for TestStore<S> {
            $(
                async fn $method(&self $(, $arg: $ty)*) -> Result<$out, StoreError> {
                    self.call($store, self.inner.$method($($arg),*)).await
                }
            )*
        }
    };
}

wrap!(StoreName::Presence, PresenceStore {
    fn register(&self, registration: Registration) -> RegisterOutcome;
    fn heartbeat(&self, key: &PresenceKey, device_id: &DeviceId, update: HeartbeatUpdate) -> HeartbeatOutcome;
    fn unregister(&self, key: &PresenceKey, device_id: &DeviceId, how: Unregistration) -> bool;
    fn presence(&self, key: &PresenceKey, now_ms: i64) -> UserPresence;
    fn socket_alive(&self, key: &PresenceKey, device_id: &DeviceId, alive: SocketAlive) -> bool;
    fn socket_closed(&self, key: &PresenceKey, device_id: &DeviceId, closed: SocketClosed) -> ();
    fn set_status(&self, key: &PresenceKey, status: &PersonStatus) -> ();
    fn people(&self, keys: &[PresenceKey], now_ms: i64) -> Vec<UserPresence>;
    fn shown(&self, key: &PresenceKey, told: &str, read_at: i64) -> bool;
    fn unshown(&self, key: &PresenceKey, told: &str, read_at: i64) -> ();
    fn record_call(&self, key: &PresenceKey, event: CallEvent) -> ();
    fn claim_alert(&self, key: &PresenceKey, device_id: &DeviceId, cursor: &str, now_s: i64, expires_at: i64) -> bool;
    fn drop_push_token(&self, key: &PresenceKey, device_id: &DeviceId, token: &str) -> bool;
});

wrap!(StoreName::Directory, DirectoryStore {
    fn org_directory(&self, org: &OrgId) -> OrgDirectory;
    fn route_for_number(&self, number: &E164) -> Option<NumberRoute>;
    fn user(&self, key: &UserKey) -> Option<UserProfile>;
    fn import(&self, directory: &Directory, style: IdentityStyle) -> ImportReport;
    fn export(&self) -> Directory;
    fn next_turn(&self, org: &OrgId, group_id: &str) -> u64;
    fn notifications(&self, org: &OrgId) -> Notifications;
    fn org_with_version(&self, org: &OrgId) -> (OrgDirectory, u64);
    fn write_org(&self, write: &OrgWrite<'_>) -> Result<OrgWritten, WriteRefused>;
    fn audit_log(&self, org: &OrgId, before: Option<&str>, limit: usize, now_ms: i64) -> AuditPage;
});

wrap!(StoreName::Events, EventStore {
    fn events_after(&self, user: &PresenceKey, after: &Cursor, limit: usize, now_ms: i64) -> Vec<Event>;
    fn connect(&self, user: &PresenceKey, connection: &Connection, ticket: &SpentTicket) -> Connected;
    fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> ();
    fn connection_owner(&self, connection_id: &str) -> Option<ConnectionOwner>;
    fn subscribe(&self, subscription: &Subscription) -> ();
    fn unsubscribe(&self, subscriber: &PresenceKey, connection_id: &str, team: &Team) -> bool;
    fn subscriptions_of(&self, subscriber: &PresenceKey, connection_id: &str, now_ms: i64) -> Vec<Subscription>;
    fn watchers(&self, org: &OrgId, now_ms: i64) -> Vec<Subscription>;
    fn watched_orgs(&self) -> Vec<OrgId>;
    fn mark_shown_live(&self, person: &PresenceKey, live: bool) -> ();
    fn shown_live(&self, org: &OrgId) -> Vec<PresenceKey>;
    fn connections(&self, user: &PresenceKey, now_ms: i64) -> Vec<Connection>;
});

wrap!(StoreName::Inbox, MessageStore {
    fn store_inbound(&self, write: &InboundWrite) -> bool;
    fn claim_send(&self, sender: &PresenceKey, client_message_id: &str, texts: &Budget, now_ms: i64) -> SendClaim;
    fn count_new_recipient(&self, sender: &PresenceKey, budget: &Budget, inbox: &Inbox, with: &Party, now_ms: i64) -> NewRecipient;
    fn release_send(&self, sender: &PresenceKey, client_message_id: &str) -> ();
    fn store_sent(&self, write: &SentWrite) -> Message;
    fn sid_state(&self, message_sid: &str, now_ms: i64) -> SidState;
    fn apply_status(&self, write: &StatusWrite) -> bool;
    fn hold_status(&self, message_sid: &str, status: &str, rank: u8, error_code: Option<u32>, now_ms: i64) -> SidState;
    fn message(&self, location: &MessageLocation) -> Option<Message>;
    fn conversation(&self, inbox: &Inbox, with: &Party) -> Option<Conversation>;
    fn conversations(&self, inboxes: &[Inbox], before: Option<&str>, limit: usize) -> Vec<Conversation>;
    fn messages(&self, inbox: &Inbox, with: &Party, before: Option<&str>, limit: usize) -> Vec<(String, Message)>;
    fn read_marks(&self, user: &PresenceKey) -> Vec<ReadMark>;
    fn mark_read(&self, user: &PresenceKey, read: &ReadWrite) -> ReadMark;
    fn set_opted_out(&self, inbox: &Inbox, phone_number: &str, with: &Party, opted_out: bool) -> ();
});

wrap!(StoreName::History, HistoryStore {
    fn record(&self, write: &HistoryWrite, voicemail: Option<&VoicemailRef>) -> bool;
    fn history(&self, user: &PresenceKey, before: Option<&str>, limit: usize, now_ms: i64) -> HistoryPage;
    fn call_started(&self, call_sid: &str) -> Option<(OrgId, i64)>;
    fn mark_seen(&self, user: &PresenceKey, position: &str, notice: &Notice) -> SeenMark;
    fn voicemail(&self, recording_sid: &str) -> Option<VoicemailRef>;
    fn remove_voicemail(&self, voicemail: &VoicemailRef, notice: &Notice) -> ();
    fn count_call(&self, caller: &PresenceKey, calls: &Budget, now_ms: i64) -> Counted;
});
