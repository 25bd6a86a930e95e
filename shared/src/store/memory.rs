//! The embedded store of the local server and of fast tests. It keeps expired rows until they
//! are overwritten, like DynamoDB, so reads must filter on expiry exactly as in production.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::import::{ImportReport, diff_records};
use super::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, DirectoryStore, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome, Registered, Registration,
    StoreError, Unregistration, UserPresence, eviction_candidates, expiry, is_live,
    sort_most_recent_first,
};
use crate::directory::{Directory, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{DeviceId, E164, OrgId, UserKey};

/// One user's rows, as the DynamoDB store keeps them in one partition.
#[derive(Default)]
struct Partition {
    devices: BTreeMap<DeviceId, DeviceRecord>,
    /// Remote sign-outs: device → until when (epoch s).
    signed_out: BTreeMap<DeviceId, i64>,
    calls: BTreeMap<String, CallRow>,
}

struct CallRow {
    since_ms: i64,
    ended: bool,
    expires_at: i64,
}

impl Partition {
    fn signed_out(&self, device_id: &DeviceId, now_ms: i64) -> bool {
        self.signed_out
            .get(device_id)
            .is_some_and(|until| is_live(*until, now_ms))
    }
}

/// The imported directories, and what a call reads from them indexed the way the DynamoDB
/// store keeps them (one item per number, one per user), so that a call costs a lookup here
/// as it costs one read there, whatever the size of the directory.
#[derive(Default)]
struct DirectoryState {
    orgs: BTreeMap<OrgId, OrgDirectory>,
    routes: HashMap<E164, NumberRoute>,
    profiles: HashMap<UserKey, UserProfile>,
}

impl DirectoryState {
    /// Rebuilt after each import (rare): where two orgs list the same number or user, the
    /// first org in id order wins, as a search through the orgs would find it.
    fn reindex(&mut self) {
        self.routes.clear();
        self.profiles.clear();
        for org in self.orgs.values() {
            for route in org.routes() {
                self.routes
                    .entry(route.phone.phone_number.clone())
                    .or_insert(route);
            }
            for profile in org.user_profiles() {
                self.profiles.entry(profile.key()).or_insert(profile);
            }
        }
    }
}

#[derive(Default)]
pub struct MemoryStore {
    presence: Mutex<HashMap<PresenceKey, Partition>>,
    directory: Mutex<DirectoryState>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every device row of one identity, expired ones included (what a raw table scan would
    /// show).
    #[cfg(feature = "test-util")]
    pub fn stored_rows(&self, key: &PresenceKey) -> usize {
        self.presence().get(key).map_or(0, |p| p.devices.len())
    }

    fn presence(&self) -> MutexGuard<'_, HashMap<PresenceKey, Partition>> {
        // A poisoned lock only means another request panicked mid-update of plain data;
        // the maps themselves are still consistent, so keep serving.
        self.presence.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn directory(&self) -> MutexGuard<'_, DirectoryState> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl PresenceStore for MemoryStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        let now_ms = registration.now_ms;
        let device = registration.record();
        let mut presence = self.presence();
        let partition = presence.entry(registration.key.clone()).or_default();
        if partition.signed_out(&device.device_id, now_ms) && !registration.sign_in {
            return Ok(RegisterOutcome::SignedOut);
        }
        partition.signed_out.remove(&device.device_id);
        let was_live = partition
            .devices
            .insert(device.device_id.clone(), device.clone())
            .is_some_and(|old| old.is_live(now_ms));
        // A device that was already live adds nothing to the count: no eviction to consider.
        let evicted: Vec<DeviceId> = if was_live {
            Vec::new()
        } else {
            let live = partition
                .devices
                .values()
                .filter(|d| d.is_live(now_ms))
                .cloned()
                .collect();
            eviction_candidates(live, registration.max_live)
                .into_iter()
                .map(|d| d.device_id)
                .collect()
        };
        for id in &evicted {
            partition.devices.remove(id);
        }
        Ok(RegisterOutcome::Registered(Registered { device, evicted }))
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let mut presence = self.presence();
        let Some(partition) = presence.get_mut(key) else {
            return Ok(HeartbeatOutcome::NotRegistered);
        };
        if partition.signed_out(device_id, update.now_ms) {
            return Ok(HeartbeatOutcome::SignedOut);
        }
        let Some(device) = partition.devices.get_mut(device_id) else {
            return Ok(HeartbeatOutcome::NotRegistered);
        };
        if !device.is_live(update.now_ms) {
            return Ok(HeartbeatOutcome::NotRegistered);
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
        if update.twilio_state.is_some() {
            device.twilio_state = update.twilio_state;
        }
        device.last_seen = update.now_ms;
        device.expires_at = expiry(update.now_ms, device.ttl_seconds);
        Ok(HeartbeatOutcome::Live(device.clone()))
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        let mut presence = self.presence();
        let partition = presence.entry(key.clone()).or_default();
        if let Some(until) = how.signed_out_until {
            partition.signed_out.insert(device_id.clone(), until);
        } else if let Some(wanted) = &how.registration_id {
            let current = partition.devices.get(device_id).map(|d| &d.registration_id);
            if current != Some(wanted) {
                return Ok(false);
            }
        }
        let removed = partition.devices.remove(device_id);
        Ok(removed.is_some_and(|d| d.is_live(how.now_ms)))
    }

    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let presence = self.presence();
        let Some(partition) = presence.get(key) else {
            return Ok(UserPresence::default());
        };
        let mut devices: Vec<DeviceRecord> = partition
            .devices
            .values()
            .filter(|d| d.is_live(now_ms))
            .cloned()
            .collect();
        sort_most_recent_first(&mut devices);
        let calls = partition
            .calls
            .iter()
            .filter(|(_, row)| !row.ended && is_live(row.expires_at, now_ms))
            .map(|(sid, row)| ActiveCall {
                call_sid: sid.clone(),
                since_ms: row.since_ms,
            })
            .collect();
        Ok(UserPresence { devices, calls })
    }

    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError> {
        let mut presence = self.presence();
        let calls = &mut presence.entry(key.clone()).or_default().calls;
        match event.progress {
            // First word wins; a row that exists (answered before, or already ended) stays.
            CallProgress::Answered => {
                calls.entry(event.call_sid).or_insert(CallRow {
                    since_ms: event.now_ms,
                    ended: false,
                    expires_at: event.expires_at,
                });
            }
            CallProgress::Ended => {
                let since_ms = calls
                    .get(&event.call_sid)
                    .map_or(event.now_ms, |r| r.since_ms);
                calls.insert(
                    event.call_sid,
                    CallRow {
                        since_ms,
                        ended: true,
                        expires_at: event.expires_at,
                    },
                );
            }
        }
        Ok(())
    }
}

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        Ok(self
            .directory()
            .orgs
            .get(org)
            .cloned()
            .unwrap_or_else(|| OrgDirectory::empty(org.clone())))
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        Ok(self.directory().routes.get(number).cloned())
    }

    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError> {
        Ok(self.directory().profiles.get(key).cloned())
    }

    async fn import(&self, directory: &Directory) -> Result<ImportReport, StoreError> {
        let mut stored = self.directory();
        let mut report = ImportReport {
            orgs: directory.orgs.len(),
            ..ImportReport::default()
        };
        for org in &directory.orgs {
            let existing = stored
                .orgs
                .get(&org.org_id)
                .map(OrgDirectory::records)
                .unwrap_or_default();
            diff_records(&existing, &org.records(), &mut report);
            stored.orgs.insert(org.org_id.clone(), org.clone());
        }
        stored.reindex();
        Ok(report)
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        Ok(Directory {
            orgs: self.directory().orgs.values().cloned().collect(),
        })
    }
}
