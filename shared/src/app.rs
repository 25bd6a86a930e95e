//! What every handler shares, built once per process (a Lambda cold start, or the local
//! server's start), never per request: the stores, the presence settings and the clock; and
//! what can stop that start.

use std::sync::Arc;

use crate::auth::KeyError;
use crate::config::{ConfigError, PresenceSettings};
use crate::store::{DirectoryStore, PresenceStore, StoreError};

/// Milliseconds since the epoch. A value, not a global, so tests can move time.
pub type Clock = fn() -> i64;

pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Clone)]
pub struct Core {
    pub presence: Arc<dyn PresenceStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub settings: PresenceSettings,
    pub clock: Clock,
}

impl Core {
    pub fn new(
        settings: PresenceSettings,
        presence: Arc<dyn PresenceStore>,
        directory: Arc<dyn DirectoryStore>,
    ) -> Self {
        Self {
            presence,
            directory,
            settings,
            clock: system_clock,
        }
    }

    pub fn now_ms(&self) -> i64 {
        (self.clock)()
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
