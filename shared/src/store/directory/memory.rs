//! The directory in memory: each org's directory as imported, indexed by number and by user.

use async_trait::async_trait;

use std::collections::{BTreeMap, HashMap};

use super::import::{ImportReport, diff_records};
use crate::directory::{Directory, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{E164, IdentityStyle, OrgId, UserKey};
use crate::store::MemoryStore;
use crate::store::{DirectoryStore, StoreError};

/// The imported directories, and what a call reads from them indexed the way the DynamoDB
/// store keeps them (one item per number, one per user), so that a call costs a lookup here
/// as it costs one read there, whatever the size of the directory.
#[derive(Default)]
pub(in crate::store) struct DirectoryState {
    orgs: BTreeMap<OrgId, OrgDirectory>,
    /// The identity style of the last import: what the profiles are keyed by.
    style: IdentityStyle,
    routes: HashMap<E164, NumberRoute>,
    profiles: HashMap<UserKey, UserProfile>,
    /// Round-robin groups' turns.
    turns: HashMap<(OrgId, String), u64>,
}

impl DirectoryState {
    /// Rebuilt after each import (rare): where two orgs list the same number, the first org in
    /// id order wins, as a search through the orgs would find it. People are keyed by their
    /// identity, which names their org: the same email in two orgs is two profiles.
    fn reindex(&mut self) {
        self.routes.clear();
        self.profiles.clear();
        for org in self.orgs.values() {
            for route in org.routes() {
                self.routes
                    .entry(route.phone.phone_number.clone())
                    .or_insert(route);
            }
            for profile in org.user_profiles(self.style) {
                self.profiles.entry(profile.key()).or_insert(profile);
            }
        }
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

    async fn next_turn(&self, org: &OrgId, group_id: &str) -> Result<u64, StoreError> {
        let mut directory = self.directory();
        let turn = directory
            .turns
            .entry((org.clone(), group_id.to_owned()))
            .or_default();
        *turn += 1;
        Ok(*turn)
    }

    async fn import(
        &self,
        directory: &Directory,
        style: IdentityStyle,
    ) -> Result<ImportReport, StoreError> {
        let mut stored = self.directory();
        stored.style = style;
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
