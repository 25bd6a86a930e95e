//! Storage behind narrow traits, so a handler asks only for what it uses and a test can wrap
//! a store (`testing.rs`, feature `test-util`). One folder per store: its trait and records
//! in `mod.rs`, its memory implementation (`memory.rs`: the local server, fast tests) and its
//! DynamoDB implementation (`dynamo.rs` or `dynamo/`: production) side by side:
//!
//! - [`presence`]: devices, remote sign-outs and call rows;
//! - [`directory`]: numbers, groups and users per org, and how an import is diffed;
//! - [`events`]: each user's event log, realtime connections, and stream records as events;
//! - [`messages`]: the SMS inbox;
//! - [`history`]: the call history;
//! - [`rates`]: the outbound budgets the inbox and the history count.
//!
//! What both implementations share lives beside them: the [`MemoryStore`] (below, with its
//! users' partitions) and [`dynamo`] (the table: keys, item helpers, transactions, the one
//! paginated query, table creation). Both pass the same contract suite in
//! `tests/api/store_contract/`.
//!
//! Stores never read the clock: callers pass `now`, which keeps expiry testable without
//! sleeping and keeps "what time is it" in one place (the handler).

pub mod directory;
pub mod dynamo;
pub mod events;
pub mod history;
/// The embedded store of the local server and of fast tests (defined below: [`MemoryStore`]).
pub mod memory {
    pub use super::MemoryStore;
}
pub mod messages;
pub mod presence;
pub mod rates;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::domain::{DeviceId, OrgId, PersonStatus};
use crate::events::{Cursor, DEFAULT_RETENTION_SECONDS, Event};
use directory::memory::DirectoryState;
use events::Notice;
use history::memory::HistoryState;
use messages::memory::SmsState;
use rates::memory::RateState;

pub use directory::DirectoryStore;
pub use directory::import::{self, ImportReport};
pub use events::{
    CONNECTION_MAX_SECONDS, Connected, Connection, ConnectionOwner, EventSink, EventStore,
    SpentTicket, Subscription,
};
pub use history::HistoryStore;
pub use messages::MessageStore;
pub use presence::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, DeviceTtls, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome, Registered, Registration,
    SOCKET_LEASE_MAX_SECONDS, SocketAlive, SocketClosed, Unregistration, UserPresence,
    callable_until, eviction_candidates, expiry, is_live, sort_most_recent_first,
};

/// Which store an error came from: what an outage's answer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreName {
    Presence,
    Directory,
    Events,
    /// The SMS inbox ([`MessageStore`]).
    Inbox,
    History,
    /// The table as a whole: creating it, enabling its stream (the operator's commands).
    Table,
}

impl StoreName {
    /// The stores a handler uses (not [`Self::Table`]).
    pub const ALL: [StoreName; 5] = [
        Self::Presence,
        Self::Directory,
        Self::Events,
        Self::Inbox,
        Self::History,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Presence => "presence",
            Self::Directory => "directory",
            Self::Events => "events",
            Self::Inbox => "inbox",
            Self::History => "history",
            Self::Table => "table",
        }
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A store that could not be reached or refused for load, and why (for the logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub store: StoreName,
    pub detail: String,
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} store unavailable: {}", self.store, self.detail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for load (network, throttling, 5xx).
    /// Clients get 503 with `Retry-After`, naming the store; webhooks get their fallback.
    #[error("{0}")]
    Unavailable(Outage),
    /// Anything else: a bug, a malformed stored item, a misconfigured table.
    #[error("store error: {0}")]
    Internal(String),
}

impl StoreError {
    pub fn unavailable(store: StoreName, detail: impl Into<String>) -> Self {
        Self::Unavailable(Outage {
            store,
            detail: detail.into(),
        })
    }
}

// The memory store. Each store's state and operations are in its own folder
// (`presence/memory.rs`, `messages/memory.rs`, …); here the `MemoryStore` that holds them all,
// and the event log every store writes to. It lives in this module, not beside the stores, because
// it is their composition: each store's memory implementation uses it, and it holds each one's
// state, so as a sibling of theirs it would close a cycle with every one of them.
//
// It keeps expired rows until they are overwritten, like DynamoDB, so reads must filter on
// expiry exactly as in production. One user's rows live in a [`Partition`], as in the DynamoDB
// store.

/// One user's rows, as the DynamoDB store keeps them in one partition.
#[derive(Default)]
pub(in crate::store) struct Partition {
    pub(in crate::store) devices: BTreeMap<DeviceId, DeviceRecord>,
    /// Remote sign-outs: device → until when (epoch s).
    pub(in crate::store) signed_out: BTreeMap<DeviceId, i64>,
    pub(in crate::store) calls: BTreeMap<String, CallRow>,
    /// The event log: event and when it expires (epoch s).
    pub(in crate::store) events: BTreeMap<Cursor, (Event, i64)>,
    pub(in crate::store) connections: BTreeMap<String, Connection>,
    /// Alerts claimed (issue 31): (cursor, device) → when the claim expires (epoch s).
    pub(in crate::store) alerts: BTreeMap<(String, DeviceId), i64>,
    /// Realtime tickets spent: id → when the ticket expires (epoch s).
    pub(in crate::store) spent_tickets: BTreeMap<String, i64>,
    /// The status the person last set.
    pub(in crate::store) status: Option<PersonStatus>,
    /// What their watchers were last told of their presence, and when it was read (ms).
    pub(in crate::store) shown: Option<(String, i64)>,
    /// When their last call ended (ms).
    pub(in crate::store) last_call_ended: Option<i64>,
}

pub(in crate::store) struct CallRow {
    pub(in crate::store) since_ms: i64,
    pub(in crate::store) ended: bool,
    pub(in crate::store) expires_at: i64,
}

impl Partition {
    pub(in crate::store) fn signed_out(&self, device_id: &DeviceId, now_ms: i64) -> bool {
        self.signed_out
            .get(device_id)
            .is_some_and(|until| is_live(*until, now_ms))
    }
}

pub struct MemoryStore {
    presence: Mutex<HashMap<PresenceKey, Partition>>,
    directory: Mutex<DirectoryState>,
    sms: Mutex<SmsState>,
    history: Mutex<HistoryState>,
    /// Taken after `sms` where both are held (a send's claim and its count).
    rates: Mutex<RateState>,
    /// Each org's subscriptions to team presence.
    teams: Mutex<HashMap<OrgId, Vec<Subscription>>>,
    /// The people last told to their watchers as not offline.
    shown_live: Mutex<std::collections::HashSet<PresenceKey>>,
    event_retention_seconds: u32,
    sink: Option<Arc<dyn EventSink>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            presence: Mutex::default(),
            directory: Mutex::default(),
            sms: Mutex::default(),
            history: Mutex::default(),
            rates: Mutex::default(),
            teams: Mutex::default(),
            shown_live: Mutex::default(),
            event_retention_seconds: DEFAULT_RETENTION_SECONDS,
            sink: None,
        }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How long events stay in the log.
    pub fn with_event_retention(mut self, seconds: u32) -> Self {
        self.event_retention_seconds = seconds;
        self
    }

    /// Where the events this store writes are handed, once written.
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Every device row of one identity, expired ones included (what a raw table scan would
    /// show).
    #[cfg(feature = "test-util")]
    pub fn stored_rows(&self, key: &PresenceKey) -> usize {
        self.presence().get(key).map_or(0, |p| p.devices.len())
    }

    pub(in crate::store) fn presence(&self) -> MutexGuard<'_, HashMap<PresenceKey, Partition>> {
        // A poisoned lock only means another request panicked mid-update of plain data;
        // the maps themselves are still consistent, so keep serving.
        self.presence.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn teams(&self) -> MutexGuard<'_, HashMap<OrgId, Vec<Subscription>>> {
        self.teams.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn shown_live(
        &self,
    ) -> MutexGuard<'_, std::collections::HashSet<PresenceKey>> {
        self.shown_live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn directory(&self) -> MutexGuard<'_, DirectoryState> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn sms(&self) -> MutexGuard<'_, SmsState> {
        self.sms.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn history(&self) -> MutexGuard<'_, HistoryState> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Append `events` to the partition's log (under the caller's lock).
    pub(in crate::store) fn log(&self, partition: &mut Partition, events: &[Event]) {
        for event in events {
            let expires_at = event.at.div_euclid(1000) + i64::from(self.event_retention_seconds);
            partition
                .events
                .insert(event.cursor.clone(), (event.clone(), expires_at));
        }
    }

    /// Log a notice's events (one per user) and hand them to the sink.
    pub(in crate::store) async fn tell(&self, notice: &Notice) {
        let mut written = Vec::new();
        {
            let mut presence = self.presence();
            for user in &notice.to {
                let event = Event::new(notice.kind, notice.at, notice.data.clone());
                self.log(
                    presence.entry(user.clone()).or_default(),
                    std::slice::from_ref(&event),
                );
                written.push((user.clone(), event));
            }
        }
        for (user, event) in written {
            self.publish(&user, vec![event]).await;
        }
    }

    /// Hand written events to the sink, after the lock is released.
    pub(in crate::store) async fn publish(&self, user: &PresenceKey, events: Vec<Event>) {
        if let (Some(sink), false) = (&self.sink, events.is_empty()) {
            sink.published(user, &events).await;
        }
    }

    pub(in crate::store) fn rates(&self) -> MutexGuard<'_, RateState> {
        self.rates.lock().unwrap_or_else(|e| e.into_inner())
    }
}
