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
//! What both implementations share lives beside them: [`memory`] (the `MemoryStore` and its
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
pub mod memory;
pub mod messages;
pub mod presence;
pub mod rates;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;

use std::fmt;

pub use directory::DirectoryStore;
pub use directory::import::{self, ImportReport};
pub use events::{
    CONNECTION_MAX_SECONDS, Connected, Connection, EventSink, EventStore, SpentTicket,
};
pub use history::HistoryStore;
pub use messages::MessageStore;
pub use presence::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, DeviceTtls, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome, Registered, Registration,
    Unregistration, UserPresence, callable_until, eviction_candidates, expiry, is_live,
    sort_most_recent_first,
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
