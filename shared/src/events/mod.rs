//! The per-user event log: what a user's devices learn ([`Event`], [`EventKind`]) and the
//! cursors that order it ([`Cursor`]). Stores write events with the change that caused them;
//! `realtime` pushes them; `GET /phone/events` reads them back.

mod cursor;
mod event;

pub use cursor::{Cursor, SETTLE_MS};
pub use event::{DeviceChange, Event, EventKind};

/// How long events stay readable by catch-up, unless `EVENT_RETENTION_SECONDS` says otherwise.
pub const DEFAULT_RETENTION_SECONDS: u32 = 7 * 86_400;
