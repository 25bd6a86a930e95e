//! What every handler shares, built once per process (a Lambda cold start, or the local
//! server's start), never per request: the stores, the presence settings, the clock and, when
//! the secrets come from Secrets Manager, their source; and what can stop that start.

use std::sync::Arc;

use crate::auth::KeyError;
use crate::clock::Clock;
use crate::config::{ConfigError, PresenceSettings};
use crate::secrets::Secrets;
use crate::store::{
    DirectoryStore, EventStore, HistoryStore, MessageStore, PresenceStore, StoreError,
};

/// The stores a process serves from: one table (or the memory store) behind each trait, or,
/// in tests, a wrapper that counts or fails behind any of them.
#[derive(Clone)]
pub struct Stores {
    pub presence: Arc<dyn PresenceStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub events: Arc<dyn EventStore>,
    pub messages: Arc<dyn MessageStore>,
    pub history: Arc<dyn HistoryStore>,
}

impl Stores {
    /// Every store from one that implements them all (the memory store, the DynamoDB store).
    pub fn of<S>(store: Arc<S>) -> Self
    where
        S: PresenceStore + DirectoryStore + EventStore + MessageStore + HistoryStore + 'static,
    {
        Self {
            presence: store.clone(),
            directory: store.clone(),
            events: store.clone(),
            messages: store.clone(),
            history: store,
        }
    }
}

#[derive(Clone)]
pub struct Core {
    pub stores: Stores,
    pub settings: PresenceSettings,
    /// The process's one clock: the system's, or in tests one they move.
    pub clock: Clock,
    /// `SECRETS_ARN`'s secret, re-read when due: what keys made from secrets are remade from
    /// ([`crate::secrets::Rotating`]). `None`: the secrets are environment variables.
    pub secrets: Option<Secrets>,
}

impl Core {
    pub fn new(settings: PresenceSettings, stores: Stores) -> Self {
        Self {
            stores,
            settings,
            clock: Clock::system(),
            secrets: None,
        }
    }

    pub fn with_secrets(self, secrets: Option<Secrets>) -> Self {
        Self { secrets, ..self }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// Why a binary could not start. Each names what to fix; none carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A section the routes need that the configuration did not provide (a bug in `Needs`).
    #[error("{0} is not configured")]
    Missing(&'static str),
}

impl StartupError {
    /// `section`, which the routes need and start-up loaded: its absence is a bug in `Needs`,
    /// refused at start-up like any other configuration problem.
    pub fn require<'a, T>(section: &'a Option<T>, what: &'static str) -> Result<&'a T, Self> {
        section.as_ref().ok_or(Self::Missing(what))
    }
}
