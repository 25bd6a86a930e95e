//! The records of the realtime channel besides the events themselves: a device's open
//! connection, and where written events go in-process.

use async_trait::async_trait;

use super::PresenceKey;
use crate::domain::{Capabilities, DeviceId};
use crate::events::Event;

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
