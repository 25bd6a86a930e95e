//! A store wrapper that counts calls, for round-trip budgets and for tests that prove a
//! request touched no store at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use super::{
    DeviceRecord, DirectoryStore, HeartbeatUpdate, PresenceKey, PresenceStore, Registered,
    Registration, StoreError,
};
use crate::directory::{Directory, ImportReport, NumberRoute, OrgDirectory};
use crate::domain::{DeviceId, E164, OrgId};

pub struct CountingStore {
    presence: Arc<dyn PresenceStore>,
    directory: Arc<dyn DirectoryStore>,
    calls: AtomicUsize,
}

impl CountingStore {
    pub fn new(presence: Arc<dyn PresenceStore>, directory: Arc<dyn DirectoryStore>) -> Self {
        Self {
            presence,
            directory,
            calls: AtomicUsize::new(0),
        }
    }

    /// Store calls made so far, presence and directory together.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl PresenceStore for CountingStore {
    async fn register(&self, registration: Registration) -> Result<Registered, StoreError> {
        self.count();
        self.presence.register(registration).await
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<Option<DeviceRecord>, StoreError> {
        self.count();
        self.presence.heartbeat(key, device_id, update).await
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.count();
        self.presence.unregister(key, device_id, now_ms).await
    }

    async fn live_devices(
        &self,
        key: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<DeviceRecord>, StoreError> {
        self.count();
        self.presence.live_devices(key, now_ms).await
    }
}

#[async_trait]
impl DirectoryStore for CountingStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        self.count();
        self.directory.org_directory(org).await
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        self.count();
        self.directory.route_for_number(number).await
    }

    async fn import(&self, directory: &Directory) -> Result<ImportReport, StoreError> {
        self.count();
        self.directory.import(directory).await
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        self.count();
        self.directory.export().await
    }
}
