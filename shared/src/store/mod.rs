//! Storage behind narrow traits, so a handler asks only for what it uses and a wrapper can
//! count calls or inject faults. Two implementations: [`memory`] (local server, tests) and
//! [`dynamo`] (production). Both pass the same contract suite in `tests/api/store_contract.rs`.
//!
//! Stores never read the clock: callers pass `now`, which keeps expiry testable without
//! sleeping and keeps "what time is it" in one place (the handler).

pub mod counting;
pub mod dynamo;
pub mod memory;

use async_trait::async_trait;
use serde::Serialize;

use crate::directory::{Directory, ImportReport, NumberRoute, OrgDirectory};
use crate::domain::{Capabilities, DeviceId, E164, Email, Identity, Label, OrgId, Platform};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for load (network, throttling, 5xx).
    /// Clients get 503 with `Retry-After`; webhooks get their fallback.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a malformed stored item, a misconfigured table.
    #[error("store error: {0}")]
    Internal(String),
}

/// The partition that holds one user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PresenceKey {
    pub org: OrgId,
    pub identity: Identity,
}

/// A device as stored. `lastSeen` is epoch milliseconds (the unit of Twilio's `timestamp`
/// parameter); `expiresAt` is epoch seconds (the unit of DynamoDB TTL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    pub device_id: DeviceId,
    pub identity: Identity,
    pub user_email: Email,
    pub platform: Platform,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    pub capabilities: Capabilities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub last_seen: i64,
    pub expires_at: i64,
    /// The TTL this device was registered with; a heartbeat extends by this much.
    #[serde(skip)]
    pub ttl_seconds: u32,
}

impl DeviceRecord {
    pub fn is_live(&self, now_ms: i64) -> bool {
        is_live(self.expires_at, now_ms)
    }
}

/// `expiresAt > floor(now)`: the single definition of "live" that both stores and every
/// read use, because DynamoDB's TTL deletion lags by hours or days.
pub fn is_live(expires_at: i64, now_ms: i64) -> bool {
    expires_at > now_ms.div_euclid(1000)
}

/// Expiry in epoch seconds: rounded up, so a device lives at least its full TTL.
pub fn expiry(now_ms: i64, ttl_seconds: u32) -> i64 {
    (now_ms + 999).div_euclid(1000) + i64::from(ttl_seconds)
}

/// Most recently seen first; device id breaks ties so every reader agrees on the order.
pub fn sort_most_recent_first(devices: &mut [DeviceRecord]) {
    devices.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| b.device_id.cmp(&a.device_id))
    });
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub key: PresenceKey,
    pub device_id: DeviceId,
    pub user_email: Email,
    pub platform: Platform,
    pub label: Option<Label>,
    pub capabilities: Capabilities,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub now_ms: i64,
    pub ttl_seconds: u32,
    /// Live devices allowed for this identity, the new one included.
    pub max_live: usize,
}

impl Registration {
    pub fn record(&self) -> DeviceRecord {
        DeviceRecord {
            device_id: self.device_id.clone(),
            identity: self.key.identity.clone(),
            user_email: self.user_email.clone(),
            platform: self.platform,
            label: self.label.clone(),
            capabilities: self.capabilities.clone(),
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
            last_seen: self.now_ms,
            expires_at: expiry(self.now_ms, self.ttl_seconds),
            ttl_seconds: self.ttl_seconds,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Registered {
    pub device: DeviceRecord,
    /// Devices removed to stay within the per-identity limit, least recently seen first. Holds
    /// the registered device itself only if a racing register with a later clock outranked it.
    pub evicted: Vec<DeviceId>,
}

/// Which live devices to evict: everything beyond the `max_live` most recently seen, least
/// recently seen first.
///
/// Every register runs this on a consistent read taken after its own write, and ranks by one
/// total order (`lastSeen`, then device id) with no exception for the device just written.
/// That is what makes racing registers converge on exactly `max_live`: a device is evicted
/// only when `max_live` devices outrank it, so the overall top `max_live` are never evicted,
/// and the last register to read sees every write and evicts everything else. (Favouring the
/// caller's own device would let two registers each evict a different top device.)
pub fn eviction_candidates(mut live: Vec<DeviceRecord>, max_live: usize) -> Vec<DeviceRecord> {
    sort_most_recent_first(&mut live);
    let mut evict = live.split_off(max_live.min(live.len()));
    evict.reverse();
    evict
}

#[derive(Debug, Clone, Default)]
pub struct HeartbeatUpdate {
    pub now_ms: i64,
    /// Set when the platform changes, since mobile and web may have different TTLs.
    pub platform: Option<(Platform, u32)>,
    pub capabilities: Option<Capabilities>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Upsert the device as live, then evict beyond `max_live`.
    async fn register(&self, registration: Registration) -> Result<Registered, StoreError>;

    /// Extend a live device. `Ok(None)` when it is unknown or already expired: a heartbeat
    /// never brings a device back.
    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<Option<DeviceRecord>, StoreError>;

    /// Remove one device; `Ok(true)` if a live one was removed. Idempotent.
    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Live devices, most recently seen first.
    async fn live_devices(
        &self,
        key: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<DeviceRecord>, StoreError>;
}

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// One org's phones and groups (empty when the org has none).
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError>;

    /// Everything needed to route a call to `number`, in one read.
    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError>;

    /// Replace the directories of the orgs in `directory` (other orgs are left alone).
    /// Idempotent: importing the same file twice changes nothing the second time.
    async fn import(&self, directory: &Directory) -> Result<ImportReport, StoreError>;

    async fn export(&self) -> Result<Directory, StoreError>;
}
