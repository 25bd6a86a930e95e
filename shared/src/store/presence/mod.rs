//! The presence store: each user's devices (live, or remotely signed out), the calls they
//! are on, and the status they set. The trait here, its records in `records.rs`, implemented
//! in `memory.rs` and in `dynamo/` (the reads and the trait in `dynamo/mod.rs`, the device
//! writes in `dynamo/devices.rs`, the device item in `dynamo/item.rs`, the person item and the
//! team read in `dynamo/person.rs`).

mod dynamo;
mod memory;
mod records;

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{DeviceId, PersonStatus};

pub use records::*;

#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Upsert the device as live, then evict beyond `max_live`. Refused (`SignedOut`) for a
    /// remotely signed-out device unless `sign_in` is set.
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError>;

    /// Extend a live device. A heartbeat never brings a device back.
    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError>;

    /// Remove one device; `Ok(true)` if a live one was removed. Idempotent. A plain
    /// unregister never lifts a remote sign-out.
    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError>;

    /// The user's live devices and current calls, in one read.
    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError>;

    /// Live devices, most recently seen first.
    async fn live_devices(
        &self,
        key: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        Ok(self.presence(key, now_ms).await?.devices)
    }

    /// Socket presence: a realtime connection of a live device opened or kept alive, so the
    /// device stays live until `alive.until` without heartbeats (its `lastSeen` moves, its
    /// heartbeat and push expiries do not). `Ok(false)`: no live device (unregistered, signed
    /// out or expired): the connection keeps nothing live, and its client should register.
    async fn socket_alive(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        alive: SocketAlive,
    ) -> Result<bool, StoreError>;

    /// A realtime connection closed and the device has no other one open: its socket presence
    /// ends at `closed.until` (the grace) unless a connection renews it meanwhile. Only the
    /// connection that last renewed it can shorten it, so a reconnect that got in first wins.
    async fn socket_closed(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        closed: SocketClosed,
    ) -> Result<(), StoreError>;

    /// Replace the person's status with `status` (what `presence` then reads in `status`).
    async fn set_status(&self, key: &PresenceKey, status: &PersonStatus) -> Result<(), StoreError>;

    /// The presence of many people at once, in the order of `keys`: for each, what
    /// `presence` reads. Without one request per person: a team of 500 is a few rounds.
    async fn people(
        &self,
        keys: &[PresenceKey],
        now_ms: i64,
    ) -> Result<Vec<UserPresence>, StoreError>;

    /// Claim the telling of `told`, what the person's watchers are to be told of their
    /// presence as read at `read_at` (epoch ms): `Ok(true)` when it is news and no newer
    /// reading was claimed (so tell them), `Ok(false)` when they were told it already or a
    /// newer reading won. The one place that decides, for every process.
    async fn shown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<bool, StoreError>;

    /// Give back a claim whose telling failed (only if it is still that claim), so that the
    /// next look tells it again.
    async fn unshown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<(), StoreError>;

    /// Apply one call-progress callback. Duplicates and late arrivals converge: an `Answered`
    /// after its `Ended` changes nothing.
    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError>;

    /// Claim the alert of the event at `cursor` for one device (issue 31): `Ok(true)` the first
    /// time, `Ok(false)` ever after (a repeated webhook's event is not written again, and a
    /// stream retry finds the claim), until the claim expires at `expires_at` (epoch s; `now_s`
    /// is the time of the claim).
    async fn claim_alert(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        cursor: &str,
        now_s: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;

    /// Forget a device's alert registration that its provider says is dead, if it is still
    /// `token` (a register since may have brought a new one). The device itself stays.
    async fn drop_push_token(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        token: &str,
    ) -> Result<bool, StoreError>;
}
