//! Storage behind narrow traits, so a handler asks only for what it uses and a wrapper can
//! count calls or inject faults. Two implementations: [`memory`] (local server, tests) and
//! [`dynamo`] (production). Both pass the same contract suite in `tests/api/store_contract/`.
//! The records the presence store reads and writes are in [`presence`]; how an import is
//! diffed, in [`import`].
//!
//! Stores never read the clock: callers pass `now`, which keeps expiry testable without
//! sleeping and keeps "what time is it" in one place (the handler).

#[cfg(any(test, feature = "test-util"))]
pub mod counting;
pub mod dynamo;
pub mod events;
pub mod history;
pub mod import;
pub mod memory;
pub mod messages;
pub mod presence;
pub mod rates;

use async_trait::async_trait;

use crate::directory::{Directory, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{DeviceId, E164, IdentityStyle, OrgId, UserKey};
use crate::events::{Cursor, Event};

pub use events::{CONNECTION_MAX_SECONDS, Connected, Connection, EventSink, SpentTicket};
pub use history::HistoryStore;
pub use import::ImportReport;
pub use messages::MessageStore;
pub use presence::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, DeviceTtls, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, RegisterOutcome, Registered, Registration, Unregistration,
    UserPresence, callable_until, eviction_candidates, expiry, is_live, sort_most_recent_first,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for load (network, throttling, 5xx).
    /// Clients get 503 with `Retry-After`; webhooks get their fallback.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a malformed stored item, a misconfigured table.
    #[error("store error: {0}")]
    Internal(String),
}

#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Upsert the device as live, then evict beyond `max_live`. Refused (`SignedOut`) for a
    /// remotely signed-out device unless `sign_in` is set.
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError>;

    /// Extend a live device. A heartbeat never brings a device back.
    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError>;

    /// Remove one device; `Ok(true)` if a live one was removed. Idempotent. A plain
    /// unregister never lifts a remote sign-out.
    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError>;

    /// The user's live devices and current calls, in one read.
    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError>;

    /// Live devices, most recently seen first.
    async fn live_devices(
        &self,
        key: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        Ok(self.presence(key, now_ms).await?.devices)
    }

    /// Apply one call-progress callback. Duplicates and late arrivals converge: an `Answered`
    /// after its `Ended` changes nothing.
    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// One org's phones and groups (empty when the org has none).
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError>;

    /// Everything needed to route a call to `number`, in one read.
    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError>;

    /// A user of the directory (their org, numbers, direct line), in one read.
    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError>;

    /// Replace the directories of the orgs in `directory` (other orgs are left alone), each
    /// person's profile keyed by their identity in `style`.
    /// Idempotent: importing the same file twice changes nothing the second time.
    async fn import(
        &self,
        directory: &Directory,
        style: IdentityStyle,
    ) -> Result<ImportReport, StoreError>;

    async fn export(&self) -> Result<Directory, StoreError>;
}

/// The user's event log (written by the other stores' operations with the changes that cause
/// events) and their devices' realtime connections.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events after `after`, oldest first, at most `limit`; expired ones never.
    async fn events_after(
        &self,
        user: &PresenceKey,
        after: &Cursor,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Event>, StoreError>;

    /// Remember an open connection until it closes or expires, spending the ticket it opened
    /// with, in one write: a ticket already spent records nothing (`TicketSpent`).
    async fn connect(
        &self,
        user: &PresenceKey,
        connection: &Connection,
        ticket: &SpentTicket,
    ) -> Result<Connected, StoreError>;

    /// Forget a connection; idempotent.
    async fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> Result<(), StoreError>;

    /// Whose a connection is (API Gateway's `$disconnect` names only the connection).
    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<PresenceKey>, StoreError>;

    /// The user's connections still open at `now_ms`.
    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError>;
}
