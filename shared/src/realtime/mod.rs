//! The realtime channel: a WebSocket per device over which the service tells it what changed
//! for its user. [`ticket`] is how a device connects, [`protocol`] what goes over the socket,
//! [`push`] how written events reach open connections (the same code in AWS and locally),
//! [`team`] team presence: subscriptions and the `team.presence` a change tells (likewise).
//! In AWS, [`websocket`] serves API Gateway's WebSocket routes and [`stream`] turns the table's
//! stream into pushes through [`gateway`] (API Gateway's `@connections`).
//! The events themselves are in `events/`; the log and the connections in the stores.

#[cfg(feature = "push")]
pub mod gateway;
pub mod protocol;
pub mod push;
pub mod stream;
pub mod team;
pub mod ticket;
pub mod websocket;

pub use ticket::{Ticket, TicketError, Tickets};
