//! The one way an org's directory changes, whoever changes it (`import-directory`, the admin
//! API's whole-org `PUT`, one record's `PUT` or `DELETE`): the org as it should be is compared
//! with the org as stored, record by record, and only what differs is written: the records
//! (each with its audit entry), the routes and profiles derived from them, and the
//! `phones.changed` events of the people whose numbers moved. Both stores carry out the same
//! [`Plan`], so they report and audit alike.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::records::Record;
use crate::directory::{AssignedPhone, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{E164, Identity, IdentityStyle, UserKey};
use crate::store::dynamo::keys::{
    GROUP_SK_PREFIX, ORG_NOTIFICATIONS_SK, ORG_OUTBOUND_SK, ORG_USER_SK_PREFIX, PHONE_SK_PREFIX,
};

/// How long audit entries are kept when `AUDIT_RETENTION_DAYS` is unset.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 400;

/// One write of an org's directory.
#[derive(Debug, Clone)]
pub struct OrgWrite<'a> {
    /// The whole org as it should be (validated).
    pub org: &'a OrgDirectory,
    /// The version the org must still be at; `None` (an import) writes whatever it is at.
    pub expected: Option<u64>,
    /// Who: an admin's email, or `import-directory`.
    pub actor: &'a str,
    pub now_ms: i64,
    /// When the audit entries expire, epoch seconds.
    pub audit_expires_at: i64,
    pub style: IdentityStyle,
    /// Only say what would change.
    pub dry_run: bool,
    /// Whether a number another org routes may be taken over (an import of several orgs,
    /// by the operator); an org's admin never may.
    pub may_take_numbers: bool,
    /// Numbers whose routes stay though this org no longer has them: another org of the same
    /// import takes them, whichever org is written first.
    pub keep_numbers: BTreeSet<E164>,
    /// Rewrite every route and profile, not only those that differ (an import: it also
    /// repairs views a failed write or another identity style left behind).
    pub rewrite_views: bool,
    /// The org as the writer read it at `expected`: the store plans against it instead of
    /// reading the org again (the version holding says it is still current).
    pub read: Option<&'a OrgDirectory>,
}

/// What a write changed, by record key (`user:{email}`, `group:{id}`, `phone:{id}`,
/// `outbound`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordChanges {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

/// A write carried out (or, dry, only planned).
#[derive(Debug, Clone, PartialEq)]
pub struct OrgWritten {
    /// The org's version after it (the same as before for a dry run or a write changing
    /// nothing).
    pub version: u64,
    pub changes: RecordChanges,
    /// Each person whose numbers changed, with their numbers now (`phones.changed`).
    pub phones_changed: Vec<(Identity, Vec<AssignedPhone>)>,
}

/// Why a write was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefused {
    /// The org is not at the expected version: someone changed it since it was read.
    #[error("the directory of this org changed since it was read (now version {current})")]
    Stale { current: u64 },
    /// Another write of the org is under way.
    #[error("another change of this org's directory is being written; try again")]
    Busy,
    /// A number of the org is routed by another org.
    #[error("{number} belongs to another org")]
    NumberTaken { number: E164 },
}

/// A write refused, or a store that failed it: what the stores' steps return.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Refused(#[from] WriteRefused),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl WriteError {
    /// As [`super::DirectoryStore::write_org`] answers: a store failure outside, a refusal in.
    pub fn split<T>(
        result: Result<T, WriteError>,
    ) -> Result<Result<T, WriteRefused>, crate::store::StoreError> {
        match result {
            Ok(value) => Ok(Ok(value)),
            Err(WriteError::Refused(refused)) => Ok(Err(refused)),
            Err(WriteError::Store(err)) => Err(err),
        }
    }
}

/// One entry of an org's audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Epoch ms.
    pub at: i64,
    pub actor: String,
    /// `{kind}.created`, `{kind}.updated` or `{kind}.deleted`.
    pub action: String,
    pub record: AuditRecord,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// `user`, `group`, `phone` or `outbound`.
    pub kind: String,
    pub id: String,
}

/// A page of the audit log, newest first; `cursor` is where the next (older) page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub cursor: Option<String>,
}

/// An audit entry's place in its org's log: when, which write (the version it made) and its
/// place in that write, so that entries sort by time and never collide.
pub fn audit_position(at: i64, version: u64, seq: usize) -> String {
    format!("{:016x}:{version:010}:{seq:05}", at.max(0))
}

/// Everything a write must do, worked out from the org as stored and as wanted.
#[derive(Debug, Default)]
pub struct Plan {
    pub changes: RecordChanges,
    /// Records to write (new, changed, or only moved in the file), each with its audit entry
    /// (none for a record that only moved).
    pub puts: Vec<(String, Record, Option<AuditEntry>)>,
    /// Records to delete, each with its audit entry.
    pub deletes: Vec<(String, AuditEntry)>,
    pub routes: Vec<NumberRoute>,
    /// Numbers the org no longer has.
    pub routes_gone: Vec<E164>,
    /// Numbers the org did not route before: another org must not route them.
    pub new_numbers: Vec<E164>,
    pub profiles: Vec<UserProfile>,
    pub profiles_gone: Vec<UserKey>,
    pub phones_changed: Vec<(Identity, Vec<AssignedPhone>)>,
}

impl Plan {
    /// Whether the write changes anything stored.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
            && self.deletes.is_empty()
            && self.routes.is_empty()
            && self.routes_gone.is_empty()
            && self.profiles.is_empty()
            && self.profiles_gone.is_empty()
    }

    /// Whether the write changes the org's records (and so its version).
    pub fn changes_records(&self) -> bool {
        !(self.puts.is_empty() && self.deletes.is_empty())
    }

    pub fn audit_entries(&self) -> impl Iterator<Item = &AuditEntry> {
        self.puts
            .iter()
            .filter_map(|(_, _, audit)| audit.as_ref())
            .chain(self.deletes.iter().map(|(_, audit)| audit))
    }
}

/// The kind and id of a record key, as the audit names it.
fn kind_and_id(key: &str) -> (&'static str, &str) {
    for (prefix, kind) in [
        (ORG_USER_SK_PREFIX, "user"),
        (GROUP_SK_PREFIX, "group"),
        (PHONE_SK_PREFIX, "phone"),
    ] {
        if let Some(id) = key.strip_prefix(prefix) {
            return (kind, id);
        }
    }
    if key == ORG_OUTBOUND_SK {
        return ("outbound", "outbound");
    }
    if key == ORG_NOTIFICATIONS_SK {
        return ("notifications", "notifications");
    }
    ("record", key)
}

fn doc_value(doc: &str) -> Option<Value> {
    serde_json::from_str(doc).ok()
}

/// What turns `old` (as stored) into `new` (as wanted).
pub fn plan(old: &OrgDirectory, new: &OrgDirectory, w: &OrgWrite<'_>) -> Plan {
    let mut plan = Plan::default();
    let (was, wanted) = (old.records(), new.records());
    let audit = |key: &str, action: &str, before: Option<&Record>, after: Option<&Record>| {
        let (kind, id) = kind_and_id(key);
        AuditEntry {
            at: w.now_ms,
            actor: w.actor.to_owned(),
            action: format!("{kind}.{action}"),
            record: AuditRecord {
                kind: kind.to_owned(),
                id: id.to_owned(),
            },
            before: before.and_then(|r| doc_value(&r.doc)),
            after: after.and_then(|r| doc_value(&r.doc)),
        }
    };
    for (key, record) in &wanted {
        match was.get(key) {
            None => {
                plan.changes.added.push(key.clone());
                let entry = audit(key, "created", None, Some(record));
                plan.puts.push((key.clone(), record.clone(), Some(entry)));
            }
            Some(old) if old.doc == record.doc => {
                plan.changes.unchanged += 1;
                // Only moved in the file: rewritten so that export keeps the order.
                if old.pos != record.pos {
                    plan.puts.push((key.clone(), record.clone(), None));
                }
            }
            Some(old) => {
                plan.changes.updated.push(key.clone());
                let entry = audit(key, "updated", Some(old), Some(record));
                plan.puts.push((key.clone(), record.clone(), Some(entry)));
            }
        }
    }
    for (key, record) in &was {
        if !wanted.contains_key(key) {
            plan.changes.removed.push(key.clone());
            plan.deletes
                .push((key.clone(), audit(key, "deleted", Some(record), None)));
        }
    }
    plan_views(old, new, w.style, w.rewrite_views, &mut plan);
    plan
}

/// The routes and profiles that differ, and whose numbers changed.
fn plan_views(
    old: &OrgDirectory,
    new: &OrgDirectory,
    style: IdentityStyle,
    rewrite: bool,
    plan: &mut Plan,
) {
    let old_routes: BTreeMap<E164, NumberRoute> = old
        .routes()
        .into_iter()
        .map(|r| (r.phone.phone_number.clone(), r))
        .collect();
    let new_routes = new.routes();
    let numbers: BTreeSet<&E164> = new_routes.iter().map(|r| &r.phone.phone_number).collect();
    for route in &new_routes {
        match old_routes.get(&route.phone.phone_number) {
            Some(was) if was == route && !rewrite => {}
            Some(_) => plan.routes.push(route.clone()),
            None => {
                plan.new_numbers.push(route.phone.phone_number.clone());
                plan.routes.push(route.clone());
            }
        }
    }
    plan.routes_gone = old_routes
        .keys()
        .filter(|n| !numbers.contains(n))
        .cloned()
        .collect();

    let old_profiles: BTreeMap<UserKey, UserProfile> = old
        .user_profiles(style)
        .into_iter()
        .map(|p| (p.key(), p))
        .collect();
    let new_profiles = new.user_profiles(style);
    let keys: BTreeSet<UserKey> = new_profiles.iter().map(UserProfile::key).collect();
    for profile in new_profiles {
        let was = old_profiles.get(&profile.key());
        // Someone new to the directory has no client showing numbers to refresh.
        if was.is_some_and(|p| p.assigned_phones != profile.assigned_phones) {
            plan.phones_changed
                .push((profile.identity.clone(), profile.assigned_phones.clone()));
        }
        if rewrite || was != Some(&profile) {
            plan.profiles.push(profile);
        }
    }
    for (key, was) in old_profiles {
        if !keys.contains(&key) {
            if !was.assigned_phones.is_empty() {
                plan.phones_changed.push((was.identity.clone(), Vec::new()));
            }
            plan.profiles_gone.push(key);
        }
    }
}
