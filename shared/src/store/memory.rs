//! The embedded store of the local server and of fast tests. It keeps expired rows until they
//! are overwritten, like DynamoDB, so reads must filter on expiry exactly as in production.
//! One user's rows live in a [`Partition`], as in the DynamoDB store; each store's state and
//! operations are in its own folder (`store/presence/memory.rs`, `store/messages/memory.rs`,
//! …); here the `MemoryStore` that holds them, and the event log every store writes to.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::directory::memory::DirectoryState;
use super::events::Notice;
use super::history::memory::HistoryState;
use super::messages::memory::SmsState;
use super::rates::memory::RateState;
use super::{Connection, DeviceRecord, EventSink, PresenceKey, is_live};
use crate::domain::DeviceId;
use crate::events::{Cursor, DEFAULT_RETENTION_SECONDS, Event};

/// One user's rows, as the DynamoDB store keeps them in one partition.
#[derive(Default)]
pub(in crate::store) struct Partition {
    pub(in crate::store) devices: BTreeMap<DeviceId, DeviceRecord>,
    /// Remote sign-outs: device → until when (epoch s).
    pub(in crate::store) signed_out: BTreeMap<DeviceId, i64>,
    pub(in crate::store) calls: BTreeMap<String, CallRow>,
    /// The event log: event and when it expires (epoch s).
    pub(in crate::store) events: BTreeMap<Cursor, (Event, i64)>,
    pub(in crate::store) connections: BTreeMap<String, Connection>,
    /// Realtime tickets spent: id → when the ticket expires (epoch s).
    pub(in crate::store) spent_tickets: BTreeMap<String, i64>,
}

pub(in crate::store) struct CallRow {
    pub(in crate::store) since_ms: i64,
    pub(in crate::store) ended: bool,
    pub(in crate::store) expires_at: i64,
}

impl Partition {
    pub(in crate::store) fn signed_out(&self, device_id: &DeviceId, now_ms: i64) -> bool {
        self.signed_out
            .get(device_id)
            .is_some_and(|until| is_live(*until, now_ms))
    }
}

pub struct MemoryStore {
    presence: Mutex<HashMap<PresenceKey, Partition>>,
    directory: Mutex<DirectoryState>,
    sms: Mutex<SmsState>,
    history: Mutex<HistoryState>,
    /// Taken after `sms` where both are held (a send's claim and its count).
    rates: Mutex<RateState>,
    event_retention_seconds: u32,
    sink: Option<Arc<dyn EventSink>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            presence: Mutex::default(),
            directory: Mutex::default(),
            sms: Mutex::default(),
            history: Mutex::default(),
            rates: Mutex::default(),
            event_retention_seconds: DEFAULT_RETENTION_SECONDS,
            sink: None,
        }
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How long events stay in the log.
    pub fn with_event_retention(mut self, seconds: u32) -> Self {
        self.event_retention_seconds = seconds;
        self
    }

    /// Where the events this store writes are handed, once written.
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Every device row of one identity, expired ones included (what a raw table scan would
    /// show).
    #[cfg(feature = "test-util")]
    pub fn stored_rows(&self, key: &PresenceKey) -> usize {
        self.presence().get(key).map_or(0, |p| p.devices.len())
    }

    pub(in crate::store) fn presence(&self) -> MutexGuard<'_, HashMap<PresenceKey, Partition>> {
        // A poisoned lock only means another request panicked mid-update of plain data;
        // the maps themselves are still consistent, so keep serving.
        self.presence.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn directory(&self) -> MutexGuard<'_, DirectoryState> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn sms(&self) -> MutexGuard<'_, SmsState> {
        self.sms.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(in crate::store) fn history(&self) -> MutexGuard<'_, HistoryState> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Append `events` to the partition's log (under the caller's lock).
    pub(in crate::store) fn log(&self, partition: &mut Partition, events: &[Event]) {
        for event in events {
            let expires_at = event.at.div_euclid(1000) + i64::from(self.event_retention_seconds);
            partition
                .events
                .insert(event.cursor.clone(), (event.clone(), expires_at));
        }
    }

    /// Log a notice's events (one per user) and hand them to the sink.
    pub(in crate::store) async fn tell(&self, notice: &Notice) {
        let mut written = Vec::new();
        {
            let mut presence = self.presence();
            for user in &notice.to {
                let event = Event::new(notice.kind, notice.at, notice.data.clone());
                self.log(
                    presence.entry(user.clone()).or_default(),
                    std::slice::from_ref(&event),
                );
                written.push((user.clone(), event));
            }
        }
        for (user, event) in written {
            self.publish(&user, vec![event]).await;
        }
    }

    /// Hand written events to the sink, after the lock is released.
    pub(in crate::store) async fn publish(&self, user: &PresenceKey, events: Vec<Event>) {
        if let (Some(sink), false) = (&self.sink, events.is_empty()) {
            sink.published(user, &events).await;
        }
    }

    pub(in crate::store) fn rates(&self) -> MutexGuard<'_, RateState> {
        self.rates.lock().unwrap_or_else(|e| e.into_inner())
    }
}
