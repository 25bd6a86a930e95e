//! Pushing events to a user's open connections: the one piece of code the stream consumer in
//! AWS and the local server's hub share. Connections come from the store; frames go out
//! through a [`Sender`] (API Gateway's `@connections`, or the local sockets). A connection
//! that is gone is forgotten; `sms.*` events reach only devices with the `sms` capability.

use async_trait::async_trait;

use crate::domain::Capability;
use crate::events::Event;
use crate::store::{EventStore, PresenceKey, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The connection no longer exists (API Gateway's 410): forget it.
    Gone,
    /// Anything else (throttled, unreachable): try the event again later.
    Failed(String),
}

#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, connection_id: &str, frame: &str) -> Result<(), SendError>;
}

/// What one delivery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Frames sent.
    pub sent: usize,
    /// Connections found gone and forgotten.
    pub gone: usize,
    /// Frames that could not be sent, with why.
    pub failed: Vec<String>,
}

/// Send `events` of `user`, in order, to each of the user's connections open at `now_ms` that
/// may receive them.
pub async fn deliver(
    store: &dyn EventStore,
    sender: &dyn Sender,
    user: &PresenceKey,
    events: &[Event],
    now_ms: i64,
) -> Result<Delivery, StoreError> {
    let mut delivery = Delivery::default();
    let connections = store.connections(user, now_ms).await?;
    for connection in &connections {
        let sms = connection.capabilities.contains(Capability::Sms);
        for event in events.iter().filter(|e| sms || !e.kind.for_sms_devices()) {
            match sender.send(&connection.id, &event.frame()).await {
                Ok(()) => delivery.sent += 1,
                Err(SendError::Gone) => {
                    store.disconnect(user, &connection.id).await?;
                    delivery.gone += 1;
                    break;
                }
                Err(SendError::Failed(why)) => {
                    delivery.failed.push(format!("{}: {why}", connection.id));
                    break;
                }
            }
        }
    }
    Ok(delivery)
}
