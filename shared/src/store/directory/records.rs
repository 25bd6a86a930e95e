//! An org's directory as records: one per user, group and phone (and the org's `outbound`
//! settings), keyed as the DynamoDB store keys them, each a JSON document and its place in the
//! file. What both stores keep, and what a write compares, record by record.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::directory::OrgDirectory;
use crate::store::dynamo::keys::{
    GROUP_SK_PREFIX, ORG_NOTIFICATIONS_SK, ORG_OUTBOUND_SK, ORG_USER_SK_PREFIX, PHONE_SK_PREFIX,
};

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
        let notifications = (self.notifications != Default::default()).then(|| {
            (
                ORG_NOTIFICATIONS_SK.to_owned(),
                Record {
                    pos: 0,
                    doc: to_doc(&self.notifications),
                },
            )
        });
        users
            .chain(groups)
            .chain(phones)
            .chain(outbound)
            .chain(notifications)
            .collect()
    }
}

fn to_doc<T: Serialize>(value: &T) -> String {
    // Serializing plain data with string keys cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}
