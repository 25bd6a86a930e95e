//! The realtime channel on the local server: WebSocket connections ([`socket`]) and the hub
//! that pushes events to them. The hub is the stores' event sink: what a store writes is
//! delivered at once by `shared::realtime::push::deliver`, the code the stream consumer runs in
//! AWS, with the hub as its sender. Connections are recorded in the store as in AWS, and so
//! are team subscriptions: a change of a person's presence is told to their watchers by
//! `shared::realtime::team`, the code the stream consumer runs too, and a sweep finds who went
//! offline without a word.

mod socket;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use shared::clock::Clock;
use shared::config::SocketSettings;
use shared::events::Event;
use shared::realtime::Tickets;
use shared::realtime::push::{self, SendError, Sender};
use shared::realtime::team;
use shared::secrets::Rotating;
use shared::store::{DirectoryStore, EventSink, EventStore, PresenceKey, PresenceStore};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

pub use socket::connect;

/// Frames waiting for a slow connection before it is closed (it reconnects and catches up).
const QUEUE_FRAMES: usize = 256;

/// Why the hub ends a connection: told to its socket's task, which closes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goodbye {
    /// Its queue was full: it missed a frame, so it must reconnect and catch up.
    FellBehind,
}

/// One open local connection: where its outgoing frames go, how to end it, and whose it is.
/// Dropping it (a newer connection of the device replaced it) ends the connection too.
struct Socket {
    frames: mpsc::Sender<String>,
    goodbye: oneshot::Sender<Goodbye>,
    user: PresenceKey,
    device: String,
    /// When it opened (ms): the oldest of a device's is closed for a sixth.
    opened_ms: i64,
}

pub struct Hub {
    events: OnceLock<Arc<dyn EventStore>>,
    presence: OnceLock<Arc<dyn PresenceStore>>,
    directory: OnceLock<Arc<dyn DirectoryStore>>,
    tickets: Rotating<Tickets>,
    sockets: Mutex<HashMap<String, Socket>>,
    socket: SocketSettings,
    clock: Clock,
}

impl Hub {
    pub fn new(tickets: Rotating<Tickets>, socket: SocketSettings, clock: Clock) -> Arc<Self> {
        Arc::new(Self {
            events: OnceLock::new(),
            presence: OnceLock::new(),
            directory: OnceLock::new(),
            tickets,
            sockets: Mutex::default(),
            socket,
            clock,
        })
    }

    /// The stores the hub records connections in and checks devices against: the ones whose
    /// sink it is (set once, after they are built with it).
    pub fn attach(
        &self,
        events: Arc<dyn EventStore>,
        presence: Arc<dyn PresenceStore>,
        directory: Arc<dyn DirectoryStore>,
    ) {
        let _ = self.events.set(events);
        let _ = self.presence.set(presence);
        let _ = self.directory.set(directory);
    }

    /// The stores team presence uses, once attached.
    fn team_stores(&self) -> Option<team::Stores<'_>> {
        Some(team::Stores {
            presence: self.presence.get()?.as_ref(),
            directory: self.directory.get()?.as_ref(),
            events: self.events.get()?.as_ref(),
        })
    }

    /// `person`'s presence may have changed: tell their watchers if it did.
    async fn person_changed(&self, person: &PresenceKey) {
        let Some(stores) = self.team_stores() else {
            return;
        };
        if let Err(err) = team::person_changed(&stores, self, person, self.clock.now_ms()).await {
            tracing::warn!(error = %err, "team presence: change untold");
        }
    }

    /// Look again at everyone last told as not offline (`team::sweep`): a device that stopped
    /// heartbeating ends with no write and so no event; this finds who is offline since.
    pub async fn sweep(&self) {
        let Some(stores) = self.team_stores() else {
            return;
        };
        match team::sweep(&stores, self, self.clock.now_ms()).await {
            Ok(swept) if !swept.errors.is_empty() => {
                tracing::warn!(errors = ?swept.errors, "team presence: sweep left some for the next");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "team presence: sweep failed"),
        }
    }

    /// Sweep every `period` while the hub lives.
    pub fn sweep_every(self: &Arc<Self>, period: std::time::Duration) {
        let hub = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(hub) = hub.upgrade() else {
                    return;
                };
                hub.sweep().await;
            }
        });
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Socket>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open connections now (for the benchmark and the banner).
    pub fn open_connections(&self) -> usize {
        self.sockets().len()
    }
}

#[async_trait]
impl Sender for Hub {
    async fn send(&self, connection_id: &str, frame: &str) -> Result<(), SendError> {
        let mut sockets = self.sockets();
        let socket = sockets.get(connection_id).ok_or(SendError::Gone)?;
        match socket.frames.try_send(frame.to_owned()) {
            Ok(()) => Ok(()),
            // A connection that does not keep up has missed this frame: it is closed, so that
            // its client reconnects and catches up, instead of living on without its events.
            Err(TrySendError::Full(_)) => {
                if let Some(socket) = sockets.remove(connection_id) {
                    let _ = socket.goodbye.send(Goodbye::FellBehind);
                }
                Err(SendError::Gone)
            }
            Err(TrySendError::Closed(_)) => Err(SendError::Gone),
        }
    }
}

#[async_trait]
impl EventSink for Hub {
    async fn published(&self, user: &PresenceKey, events: &[Event]) {
        let Some(store) = self.events.get() else {
            return;
        };
        let now_ms = self.clock.now_ms();
        match push::deliver(store.as_ref(), self, user, events, now_ms).await {
            Ok(delivery) if !delivery.failed.is_empty() => {
                tracing::warn!(failed = ?delivery.failed, "realtime push failed");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "realtime push: connections unreadable"),
        }
        if events.iter().any(|e| team::affects_presence(e.kind)) {
            self.person_changed(user).await;
        }
    }
}
