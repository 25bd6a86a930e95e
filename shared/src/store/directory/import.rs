//! An import: each org of a directory file written through the one write path
//! ([`super::write`]), which diffs the records of an org's directory (one per user, group and
//! phone, keyed as the DynamoDB store keys them) against what the store holds, so both
//! stores' import reports agree.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::DirectoryStore;
use super::write::{DEFAULT_AUDIT_RETENTION_DAYS, OrgWrite};
use crate::directory::Directory;
use crate::domain::{E164, IdentityStyle};
use crate::store::StoreError;

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
