//! An import: each org of a directory file written through the one write path
//! ([`super::write`]), which diffs the records of an org's directory (one per user, group and
//! phone, keyed as the DynamoDB store keys them) against what the store holds, so both
//! stores' import reports agree.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::DirectoryStore;
use super::write::{DEFAULT_AUDIT_RETENTION_DAYS, OrgWrite};
use crate::directory::{Directory, OrgDirectory};
use crate::domain::{E164, IdentityStyle};
use crate::store::StoreError;
use crate::store::dynamo::keys::{
    GROUP_SK_PREFIX, ORG_OUTBOUND_SK, ORG_USER_SK_PREFIX, PHONE_SK_PREFIX,
};

/// What an import changed, by kind of record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub orgs: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} org(s): {} added, {} updated, {} removed, {} unchanged",
            self.orgs, self.added, self.updated, self.removed, self.unchanged
        )
    }
}

/// One group or phone as a store keeps it: its place in the file (so export keeps the
/// order) and its JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub pos: usize,
    pub doc: String,
}

impl OrgDirectory {
    /// Every user, group and phone keyed `user:{email}`, `group:{id}`, `phone:{id}`, and the
    /// org's `outbound` settings (when not the default) keyed `outbound`: the sort keys of the
    /// DynamoDB store, and what both stores diff an import against.
    pub fn records(&self) -> BTreeMap<String, Record> {
        let groups = self.groups.iter().enumerate().map(|(pos, g)| {
            (
                format!("{GROUP_SK_PREFIX}{}", g.id),
                Record {
                    pos,
                    doc: to_doc(g),
                },
            )
        });
        let phones = self.phones.iter().enumerate().map(|(pos, p)| {
            (
                format!("{PHONE_SK_PREFIX}{}", p.id),
                Record {
                    pos,
                    doc: to_doc(p),
                },
            )
        });
        let users = self.users.iter().enumerate().map(|(pos, u)| {
            (
                format!("{ORG_USER_SK_PREFIX}{}", u.email),
                Record {
                    pos,
                    doc: to_doc(u),
                },
            )
        });
        let outbound = (self.outbound != Default::default()).then(|| {
            (
                ORG_OUTBOUND_SK.to_owned(),
                Record {
                    pos: 0,
                    doc: to_doc(&self.outbound),
                },
            )
        });
        users.chain(groups).chain(phones).chain(outbound).collect()
    }
}

fn to_doc<T: Serialize>(value: &T) -> String {
    // Serializing plain data with string keys cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Who an import is, in the audit log.
pub const IMPORT_ACTOR: &str = "import-directory";

/// An import through the one write path: each org of the file written whole (whatever its
/// version), every route and profile rewritten, numbers moving between the file's orgs kept,
/// each change audited as the import's. Shared by both stores so their reports agree.
pub async fn import_each(
    store: &dyn DirectoryStore,
    directory: &Directory,
    style: IdentityStyle,
) -> Result<ImportReport, StoreError> {
    let numbers: BTreeSet<E164> = directory
        .orgs
        .iter()
        .flat_map(|org| org.phones.iter().map(|p| p.phone_number.clone()))
        .collect();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let retention_s = i64::from(DEFAULT_AUDIT_RETENTION_DAYS) * 86_400;
    let mut report = ImportReport {
        orgs: directory.orgs.len(),
        ..ImportReport::default()
    };
    for org in &directory.orgs {
        let write = OrgWrite {
            org,
            expected: None,
            actor: IMPORT_ACTOR,
            now_ms,
            audit_expires_at: now_ms.div_euclid(1000) + retention_s,
            style,
            dry_run: false,
            may_take_numbers: true,
            keep_numbers: numbers.clone(),
            rewrite_views: true,
            read: None,
        };
        let written = store
            .write_org(&write)
            .await?
            .map_err(|refused| StoreError::Internal(refused.to_string()))?;
        report.added += written.changes.added.len();
        report.updated += written.changes.updated.len();
        report.removed += written.changes.removed.len();
        report.unchanged += written.changes.unchanged;
    }
    Ok(report)
}
