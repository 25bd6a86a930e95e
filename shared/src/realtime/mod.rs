//! The realtime channel: a WebSocket per device over which the service tells it what changed
//! for its user. [`ticket`] is how a device connects, [`protocol`] what goes over the socket,
//! [`push`] how written events reach open connections (the same code in AWS and locally).
//! The events themselves are in `events/`; the log and the connections in the stores.

pub mod protocol;
pub mod push;
pub mod ticket;

pub use ticket::{Ticket, TicketError, Tickets};
