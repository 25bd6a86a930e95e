//! The directory in memory: each org's directory as imported, indexed by number and by user.

use async_trait::async_trait;

use std::collections::{BTreeMap, HashMap};

use super::import::{ImportReport, import_each};
use super::write::{
    AuditEntry, AuditPage, OrgWrite, OrgWritten, WriteRefused, audit_position, plan,
};
use crate::directory::{Directory, Notifications, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{E164, IdentityStyle, OrgId, UserKey};
use crate::events::EventKind;
use crate::store::events::Notice;
use crate::store::{DirectoryStore, MemoryStore, PresenceKey, StoreError};

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
    /// Each org's version: one more for each write that changed its records.
    versions: HashMap<OrgId, u64>,
    /// Each org's audit log by position, with when each entry expires (epoch s).
    audit: HashMap<OrgId, BTreeMap<String, (AuditEntry, i64)>>,
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

    async fn notifications(&self, org: &OrgId) -> Result<Notifications, StoreError> {
        let directory = self.directory();
        Ok(directory
            .orgs
            .get(org)
            .map(|o| o.notifications.clone())
            .unwrap_or_default())
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
        import_each(self, directory, style).await
    }

    async fn org_with_version(&self, org: &OrgId) -> Result<(OrgDirectory, u64), StoreError> {
        let state = self.directory();
        let dir = state.orgs.get(org).cloned();
        let version = state.versions.get(org).copied().unwrap_or(0);
        Ok((
            dir.unwrap_or_else(|| OrgDirectory::empty(org.clone())),
            version,
        ))
    }

    async fn write_org(
        &self,
        w: &OrgWrite<'_>,
    ) -> Result<Result<OrgWritten, WriteRefused>, StoreError> {
        let org = &w.org.org_id;
        let (plan, version) = {
            let mut state = self.directory();
            let version = state.versions.get(org).copied().unwrap_or(0);
            if w.expected.is_some_and(|v| v != version) {
                return Ok(Err(WriteRefused::Stale { current: version }));
            }
            let old = state.orgs.get(org).cloned();
            let old = old.unwrap_or_else(|| OrgDirectory::empty(org.clone()));
            let plan = plan(&old, w.org, w);
            if !w.may_take_numbers {
                // Every route it would put: an import may have given a number away since.
                let taken = plan
                    .routes
                    .iter()
                    .map(|r| &r.phone.phone_number)
                    .find(|number| {
                        state
                            .routes
                            .get(*number)
                            .is_some_and(|route| route.org_id != *org)
                    });
                if let Some(number) = taken {
                    let number = number.clone();
                    return Ok(Err(WriteRefused::NumberTaken { number }));
                }
            }
            if w.dry_run {
                return Ok(Ok(OrgWritten {
                    version,
                    changes: plan.changes,
                    phones_changed: plan.phones_changed,
                }));
            }
            let version = version + u64::from(plan.changes_records());
            state.style = w.style;
            state.orgs.insert(org.clone(), w.org.clone());
            state.versions.insert(org.clone(), version);
            let log = state.audit.entry(org.clone()).or_default();
            for (seq, entry) in plan.audit_entries().enumerate() {
                let position = audit_position(entry.at, version, seq + 1);
                log.insert(position, (entry.clone(), w.audit_expires_at));
            }
            state.reindex();
            (plan, version)
        };
        for (identity, phones) in &plan.phones_changed {
            let notice = Notice {
                kind: EventKind::PhonesChanged,
                data: serde_json::json!({ "assignedPhones": phones }),
                at: w.now_ms,
                to: vec![PresenceKey {
                    org: org.clone(),
                    identity: identity.clone(),
                }],
            };
            self.tell(&notice).await;
        }
        Ok(Ok(OrgWritten {
            version,
            changes: plan.changes,
            phones_changed: plan.phones_changed,
        }))
    }

    async fn audit_log(
        &self,
        org: &OrgId,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<AuditPage, StoreError> {
        let state = self.directory();
        let Some(log) = state.audit.get(org) else {
            return Ok(AuditPage::default());
        };
        let now_s = now_ms.div_euclid(1000);
        let mut live = log
            .iter()
            .rev()
            .filter(|(position, _)| before.is_none_or(|b| position.as_str() < b))
            .filter(|(_, (_, expires))| *expires > now_s);
        let entries: Vec<(&String, &AuditEntry)> = live
            .by_ref()
            .take(limit)
            .map(|(position, (entry, _))| (position, entry))
            .collect();
        let more = live.next().is_some();
        Ok(AuditPage {
            cursor: more
                .then(|| entries.last().map(|(position, _)| (*position).clone()))
                .flatten(),
            entries: entries.into_iter().map(|(_, e)| e.clone()).collect(),
        })
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        Ok(Directory {
            orgs: self.directory().orgs.values().cloned().collect(),
        })
    }
}
