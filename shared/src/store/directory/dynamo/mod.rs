//! The directory store on DynamoDB: each org's records in its partition (for import and
//! export), and the two views a request reads in one `GetItem`: a number's route and a user's
//! profile, both rewritten whole by every import.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use futures::future::try_join_all;
use serde::de::DeserializeOwned;

mod write;

use super::import::{ImportReport, import_each};
use super::records::Record;
use super::write::{AuditPage, OrgWrite, OrgWritten, WriteError, WriteRefused};
use crate::directory::{Directory, Notifications, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{E164, IdentityStyle, OrgId, UserKey};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{Item, bad_item, get_n, get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    DIRECTORY_PK, GROUP_SK_PREFIX, ORG_NOTIFICATIONS_SK, ORG_OUTBOUND_SK, ORG_PREFIX,
    ORG_USER_SK_PREFIX, PHONE_SK_PREFIX, PK, PROFILE_SK, ROUTE_SK, SK, doc, number_pk, org_pk,
    turn_pk, user_pk,
};
use crate::store::dynamo::outcome::classify;
use crate::store::dynamo::query::SkRange;
use crate::store::{DirectoryStore, StoreError, StoreName};

const STORE: StoreName = StoreName::Directory;

/// Records of an org read per request.
const ORG_PAGE_ITEMS: i32 = 1_000;

/// The stored documents of one org, by sort key.
struct OrgItems {
    docs: BTreeMap<String, Record>,
}

impl OrgItems {
    fn directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        let mut entries: Vec<_> = self.docs.iter().collect();
        entries.sort_by_key(|(_, record)| record.pos);
        let mut dir = OrgDirectory::empty(org.clone());
        for (sk, Record { doc, .. }) in entries {
            if sk.starts_with(GROUP_SK_PREFIX) {
                dir.groups.push(parse_record(sk, doc)?);
            } else if sk.starts_with(PHONE_SK_PREFIX) {
                dir.phones.push(parse_record(sk, doc)?);
            } else if sk.starts_with(ORG_USER_SK_PREFIX) {
                dir.users.push(parse_record(sk, doc)?);
            } else if sk == ORG_OUTBOUND_SK {
                dir.outbound = parse_record(sk, doc)?;
            } else if sk == ORG_NOTIFICATIONS_SK {
                dir.notifications = parse_record(sk, doc)?;
            }
        }
        Ok(dir)
    }
}

fn parse_record<T: DeserializeOwned>(sk: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| bad_item(&format!("{sk}: {e}")))
}

impl DynamoStore {
    async fn org_items(&self, org: &OrgId) -> Result<OrgItems, StoreError> {
        // Pages of ORG_PAGE_ITEMS records, not DynamoDB's 1 MB: a page of an org of 5,000
        // people stays well inside one attempt's timeout (2 s) even on a slow store.
        let query = self
            .query_request()
            .consistent_read(true)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(org_pk(org)))
            .limit(ORG_PAGE_ITEMS);
        let mut items = Vec::new();
        self.paginate(STORE, query, |page| {
            items.extend(page.items.unwrap_or_default());
            Ok(true)
        })
        .await?;
        let mut docs = BTreeMap::new();
        for item in items {
            let sk = get_s(&item, SK).ok_or_else(|| bad_item(SK))?.to_owned();
            let doc = get_s(&item, doc::DOC)
                .ok_or_else(|| bad_item(doc::DOC))?
                .to_owned();
            let pos = get_n(&item, doc::POS)
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(usize::MAX);
            docs.insert(sk, Record { pos, doc });
        }
        Ok(OrgItems { docs })
    }

    /// The org's directory as its records say.
    async fn org_items_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        self.org_items(org).await?.directory(org)
    }
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        self.org_items(org).await?.directory(org)
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keyed(number_pk(number), ROUTE_SK)))
            .send()
            .await
            .map_err(|e| classify(STORE, "GetItem", e))?;
        out.item.as_ref().map(from_doc).transpose()
    }

    async fn notifications(&self, org: &OrgId) -> Result<Notifications, StoreError> {
        let item = self
            .get(STORE, keyed(org_pk(org), ORG_NOTIFICATIONS_SK))
            .await?;
        match item.as_ref().and_then(|i| get_s(i, "doc")) {
            Some(doc) => parse_record(ORG_NOTIFICATIONS_SK, doc),
            None => Ok(Notifications::default()),
        }
    }

    async fn next_turn(&self, org: &OrgId, group_id: &str) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(turn_pk(org), group_id)))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| classify(STORE, "UpdateItem", e))?;
        let turn = out.attributes.as_ref().and_then(|a| get_n(a, "n"));
        Ok(turn.and_then(|t| u64::try_from(t).ok()).unwrap_or(1))
    }

    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keyed(user_pk(key), PROFILE_SK)))
            .send()
            .await
            .map_err(|e| classify(STORE, "GetItem", e))?;
        out.item.as_ref().map(from_doc).transpose()
    }

    async fn import(
        &self,
        directory: &Directory,
        style: IdentityStyle,
    ) -> Result<ImportReport, StoreError> {
        import_each(self, directory, style).await
    }

    /// The version first, then the records: a write that lands between makes the version
    /// read stale (its lock refuses it), where reading both at once could pair older records
    /// with a newer version and let a stale change through.
    async fn org_with_version(&self, org: &OrgId) -> Result<(OrgDirectory, u64), StoreError> {
        let version = self.org_version(org).await?;
        Ok((self.org_items_directory(org).await?, version))
    }

    async fn write_org(
        &self,
        write: &OrgWrite<'_>,
    ) -> Result<Result<OrgWritten, WriteRefused>, StoreError> {
        WriteError::split(self.write_org_locked(write).await)
    }

    async fn audit_log(
        &self,
        org: &OrgId,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<AuditPage, StoreError> {
        self.audit_page(org, before, limit, now_ms).await
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        let index = self
            .query(STORE, DIRECTORY_PK.to_owned(), SkRange::All, None)
            .await?;
        let orgs = index
            .iter()
            .filter_map(|item| get_s(item, SK)?.strip_prefix(ORG_PREFIX))
            .map(|raw| OrgId::parse_field(raw, "orgId").map_err(|_| bad_item("org index")))
            .collect::<Result<Vec<_>, _>>()?;
        let dirs = try_join_all(orgs.iter().map(|org| self.org_directory(org))).await?;
        Ok(Directory { orgs: dirs })
    }
}

impl DynamoStore {
    /// Write and delete in batches of 25, resubmitting what DynamoDB leaves unprocessed.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0u32.. {
                if pending.is_empty() {
                    break;
                }
                if attempt == 8 {
                    return Err(StoreError::unavailable(
                        STORE,
                        "BatchWriteItem: items left unprocessed",
                    ));
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| classify(STORE, "BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

fn put(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete(pk: String, sk: String) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(keyed(pk, sk)))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// A directory record: its JSON document and its place in the file.
fn doc_item(pk: String, sk: String, json: String, pos: usize) -> Item {
    let mut item = keyed(pk, sk);
    item.insert(doc::DOC.to_owned(), s(json));
    item.insert(doc::POS.to_owned(), n(pos));
    item
}

fn from_doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let json = get_s(item, doc::DOC).ok_or_else(|| bad_item(doc::DOC))?;
    serde_json::from_str(json).map_err(|e| bad_item(&format!("{}: {e}", doc::DOC)))
}
