//! The events store: each user's event log (written by the other stores with the changes that
//! cause events) and their devices' realtime connections. Here the trait and its records
//! besides the events themselves (a device's open connection, a notice to several users,
//! where written events go in-process); implemented in `memory.rs` and `dynamo/`; the table's
//! stream records read as events in [`stream`].

mod dynamo;
mod memory;
pub mod stream;

use async_trait::async_trait;
use serde_json::Value;

use super::{PresenceKey, StoreError};
use crate::domain::{Capabilities, DeviceId, Email, OrgId, Team};
use crate::events::{Cursor, Event, EventKind};

/// The longest a connection lives: API Gateway closes WebSocket connections after two hours,
/// and the local server does the same.
pub const CONNECTION_MAX_SECONDS: u32 = 2 * 3600;

/// One open realtime connection of a user's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// API Gateway's `connectionId`, or the local server's own id.
    pub id: String,
    pub device_id: DeviceId,
    /// What the device registered for: `sms` events reach only devices that have `sms`.
    pub capabilities: Capabilities,
    /// When the connection is closed at the latest (epoch s): two hours after it opened.
    pub expires_at: i64,
}

/// A realtime ticket as a connection spends it: a ticket opens one connection only, so the
/// store records its id with the connection, refusing an id it has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpentTicket {
    /// The ticket's own random id (its `jti`).
    pub id: String,
    /// When the ticket expires (epoch s): its record is needed until then, not after.
    pub expires_at: i64,
}

/// Whose a connection is, found from its id alone (API Gateway's `$disconnect` and a
/// keep-alive name only the connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionOwner {
    pub user: PresenceKey,
    /// The device it is of; `None` for a connection recorded before owners named it.
    pub device_id: Option<DeviceId>,
}

/// What recording a connection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connected {
    /// Recorded, and its ticket spent.
    Opened,
    /// Its ticket had opened a connection already: nothing recorded.
    TicketSpent,
}

/// Where a store hands the events it just wrote, in the process that wrote them: the local
/// server's realtime hub. In AWS there is none; the table's stream carries them to the push
/// function instead.
#[async_trait]
pub trait EventSink: Send + Sync {
    async fn published(&self, user: &PresenceKey, events: &[Event]);
}

/// Events for every user of a number: one per user, each in their own log.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: EventKind,
    pub data: Value,
    pub at: i64,
    pub to: Vec<PresenceKey>,
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

    /// Whose a connection is, and its device.
    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionOwner>, StoreError>;

    /// The user's connections still open at `now_ms`.
    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError>;

    /// A connection watches a team of its org (replacing the same team's subscription).
    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError>;

    /// The connection stops watching the team; `Ok(false)` if it did not.
    async fn unsubscribe(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        team: &Team,
    ) -> Result<bool, StoreError>;

    /// The teams one connection watches (at most [`crate::domain::MAX_SUBSCRIPTIONS`]).
    async fn subscriptions_of(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Subscription>, StoreError>;

    /// Every subscription of the org's connections still open at `now_ms`: one read, whatever
    /// the org's size (it grows with its subscribers).
    async fn watchers(&self, org: &OrgId, now_ms: i64) -> Result<Vec<Subscription>, StoreError>;

    /// The orgs a connection has subscribed in (some perhaps without a watcher any more): where
    /// the sweep looks.
    async fn watched_orgs(&self) -> Result<Vec<OrgId>, StoreError>;

    /// Whether `person` was last told to their org's watchers as not offline: the sweep looks
    /// at those again, since a device whose presence lapses writes nothing.
    async fn mark_shown_live(&self, person: &PresenceKey, live: bool) -> Result<(), StoreError>;

    /// The people of `org` last told as not offline.
    async fn shown_live(&self, org: &OrgId) -> Result<Vec<PresenceKey>, StoreError>;
}

/// A connection watching a team's presence (`{"type": "subscribe"}`): until it unsubscribes,
/// closes, or its two hours are up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub connection_id: String,
    /// The connection's user; their org is the team's.
    pub subscriber: PresenceKey,
    pub team: Team,
    /// A group's members when it subscribed; none for the whole org.
    pub members: Option<Vec<Email>>,
    /// The connection's own end (epoch s).
    pub expires_at: i64,
}

impl Subscription {
    /// Whether `email` is of the team watched.
    pub fn watches(&self, email: &Email) -> bool {
        self.members.as_ref().is_none_or(|m| m.contains(email))
    }
}
