//! What an import changed: both stores diff the records of an org's directory (one per user,
//! group and phone, keyed as the DynamoDB store keys them) against what they hold, so their
//! import reports agree.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::directory::OrgDirectory;
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

/// Count per-record differences between what is stored and what is wanted. Only documents
/// count: a record that merely moved in the file is unchanged. Shared by both stores so their
/// import reports agree.
pub fn diff_records(
    existing: &BTreeMap<String, Record>,
    wanted: &BTreeMap<String, Record>,
    report: &mut ImportReport,
) {
    for (key, record) in wanted {
        match existing.get(key) {
            None => report.added += 1,
            Some(old) if old.doc == record.doc => report.unchanged += 1,
            Some(_) => report.updated += 1,
        }
    }
    report.removed += existing.keys().filter(|k| !wanted.contains_key(*k)).count();
}
