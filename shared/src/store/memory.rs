//! The embedded store of the local server and of fast tests. It keeps expired rows until they
//! are overwritten, like DynamoDB, so reads must filter on expiry exactly as in production.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    DeviceRecord, DirectoryStore, HeartbeatUpdate, PresenceKey, PresenceStore, Registered,
    Registration, StoreError, eviction_candidates, expiry, sort_most_recent_first,
};
use crate::directory::{Directory, ImportReport, NumberRoute, OrgDirectory, diff_records};
use crate::domain::{DeviceId, E164, OrgId};

#[derive(Default)]
pub struct MemoryStore {
    presence: Mutex<HashMap<PresenceKey, BTreeMap<DeviceId, DeviceRecord>>>,
    directory: Mutex<BTreeMap<OrgId, OrgDirectory>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every row of one identity, expired ones included (what a raw table scan would show).
    pub fn stored_rows(&self, key: &PresenceKey) -> usize {
        self.presence().get(key).map_or(0, BTreeMap::len)
    }

    fn presence(&self) -> MutexGuard<'_, HashMap<PresenceKey, BTreeMap<DeviceId, DeviceRecord>>> {
        // A poisoned lock only means another request panicked mid-update of plain data;
        // the maps themselves are still consistent, so keep serving.
        self.presence.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn directory(&self) -> MutexGuard<'_, BTreeMap<OrgId, OrgDirectory>> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl PresenceStore for MemoryStore {
    async fn register(&self, registration: Registration) -> Result<Registered, StoreError> {
        let device = registration.record();
        let mut presence = self.presence();
        let devices = presence.entry(registration.key.clone()).or_default();
        devices.insert(device.device_id.clone(), device.clone());
        let live = devices
            .values()
            .filter(|d| d.is_live(registration.now_ms))
            .cloned()
            .collect();
        let evicted: Vec<DeviceId> = eviction_candidates(live, registration.max_live)
            .into_iter()
            .map(|d| d.device_id)
            .collect();
        for id in &evicted {
            devices.remove(id);
        }
        Ok(Registered { device, evicted })
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        let mut presence = self.presence();
        let Some(device) = presence.get_mut(key).and_then(|d| d.get_mut(device_id)) else {
            return Ok(None);
        };
        if !device.is_live(update.now_ms) {
            return Ok(None);
        }
        if let Some((platform, ttl)) = update.platform {
            device.platform = platform;
            device.ttl_seconds = ttl;
        }
        if let Some(capabilities) = update.capabilities {
            device.capabilities = capabilities;
        }
        if update.user_agent.is_some() {
            device.user_agent = update.user_agent;
        }
        if update.ip.is_some() {
            device.ip = update.ip;
        }
        device.last_seen = update.now_ms;
        device.expires_at = expiry(update.now_ms, device.ttl_seconds);
        Ok(Some(device.clone()))
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let removed = self
            .presence()
            .get_mut(key)
            .and_then(|devices| devices.remove(device_id));
        Ok(removed.is_some_and(|d| d.is_live(now_ms)))
    }

    async fn live_devices(
        &self,
        key: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        let mut live: Vec<DeviceRecord> = self
            .presence()
            .get(key)
            .map(|devices| {
                devices
                    .values()
                    .filter(|d| d.is_live(now_ms))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        sort_most_recent_first(&mut live);
        Ok(live)
    }
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        Ok(self
            .directory()
            .get(org)
            .cloned()
            .unwrap_or_else(|| OrgDirectory::empty(org.clone())))
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        Ok(self
            .directory()
            .values()
            .flat_map(OrgDirectory::routes)
            .find(|route| &route.phone.phone_number == number))
    }

    async fn import(&self, directory: &Directory) -> Result<ImportReport, StoreError> {
        let mut stored = self.directory();
        let mut report = ImportReport {
            orgs: directory.orgs.len(),
            ..ImportReport::default()
        };
        for org in &directory.orgs {
            let existing = stored
                .get(&org.org_id)
                .map(OrgDirectory::records)
                .unwrap_or_default();
            diff_records(&existing, &org.records(), &mut report);
            stored.insert(org.org_id.clone(), org.clone());
        }
        Ok(report)
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        Ok(Directory {
            orgs: self.directory().values().cloned().collect(),
        })
    }
}
