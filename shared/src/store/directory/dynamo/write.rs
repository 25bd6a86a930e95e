//! An org's directory written on DynamoDB ([`super::super::write`]'s plan carried out). An
//! org of 5,000 people is more than one transaction holds (100 items), so a write takes the
//! org's lock first (a conditional update of `dirmeta:{orgId}` that also checks the version
//! the writer read), writes each changed record in a transaction with its audit entry (50
//! pairs per transaction), then the routes and profiles derived from them in batches, and
//! releases the lock adding one to the version. A writer that dies holding the lock holds it
//! for [`LOCK_MS`] at most; the version it leaves unchanged then tells no reader anything
//! false, and the next write rewrites what differs.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValue, TransactWriteItem};
use futures::future::try_join_all;

use super::super::records::Record;
use super::super::write::{
    AuditEntry, AuditPage, OrgWrite, OrgWritten, Plan, WriteError, WriteRefused, plan,
};
use super::{delete, doc_item, put};
use crate::directory::NumberRoute;
use crate::domain::OrgId;
use crate::events::EventKind;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{Item, bad_item, get_n, get_s, keyed, n, s, to_json};
use crate::store::dynamo::keys::{
    DIRECTORY_PK, DIRMETA_SK, PK, PROFILE_SK, ROUTE_SK, SK, TTL_ATTRIBUTE, admin, audit_pk,
    dirmeta_pk, doc, number_pk, org_pk, user_pk,
};
use crate::store::dynamo::outcome::{Conditional, conditional};
use crate::store::dynamo::tx::built;
use crate::store::events::Notice;
use crate::store::{PresenceKey, StoreError, StoreName};

const STORE: StoreName = StoreName::Directory;

/// How long a write may hold its org's lock: far longer than a 5,000-person org takes.
pub const LOCK_MS: i64 = 120_000;

/// Record-and-audit pairs per transaction (of 100 items).
const PAIRS_PER_TX: usize = 50;

/// A lock taken: the version the org is at, and whether a failed write left its views unsure.
struct Locked {
    version: u64,
    dirty: bool,
}

/// The version a `dirmeta` item (or what a write returned of it) holds: 0 before the org's
/// first write.
fn version_of(item: &Item) -> u64 {
    get_n(item, admin::VERSION)
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0)
}

impl DynamoStore {
    /// The org's version: 0 before its first write.
    pub(super) async fn org_version(&self, org: &OrgId) -> Result<u64, StoreError> {
        let item = self.get(STORE, keyed(dirmeta_pk(org), DIRMETA_SK)).await?;
        Ok(item.as_ref().map_or(0, version_of))
    }

    /// Take the org's lock for `token`, if no other write holds it and the org is still at
    /// `expected` (any version for `None`); the version it is at.
    async fn lock(
        &self,
        org: &OrgId,
        expected: Option<u64>,
        token: &str,
        now_ms: i64,
    ) -> Result<Locked, WriteError> {
        // Its own token too: an SDK retry of a lock whose first attempt did land.
        let free = "(attribute_not_exists(#lock) OR #lockedUntil < :now OR #lock = :token)";
        let (condition, mut values) = match expected {
            None => (free.to_owned(), vec![("now", n(now_ms))]),
            Some(0) => (
                format!("{free} AND attribute_not_exists(#version)"),
                vec![("now", n(now_ms))],
            ),
            Some(v) => (
                format!("{free} AND #version = :expected"),
                vec![("now", n(now_ms)), ("expected", n(v))],
            ),
        };
        values.push(("token", s(token)));
        let changes = Changes::default()
            .set(admin::LOCK, s(token))
            .set(admin::LOCKED_UNTIL, n(now_ms + LOCK_MS))
            .when(&condition, values)
            .returning_old();
        let sent = changes
            .update_item(self, keyed(dirmeta_pk(org), DIRMETA_SK))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match conditional(STORE, "UpdateItem", sent)? {
            Conditional::Written(out) => {
                let attributes = out.attributes.unwrap_or_default();
                Ok(Locked {
                    version: version_of(&attributes),
                    dirty: attributes.contains_key(admin::DIRTY),
                })
            }
            Conditional::Refused(old) => {
                let old = old.unwrap_or_default();
                let current = version_of(&old);
                let locked = get_n(&old, admin::LOCKED_UNTIL).is_some_and(|until| until >= now_ms);
                if expected.is_some_and(|v| v != current) {
                    Err(WriteRefused::Stale { current }.into())
                } else if locked {
                    Err(WriteRefused::Busy.into())
                } else {
                    Err(WriteRefused::Stale { current }.into())
                }
            }
        }
    }

    /// Release the org's lock, adding one to its version when the write changed anything, and
    /// marking the org `dirty` when a write failed after writing (its next write then rewrites
    /// every route and profile); the version it is then at.
    async fn unlock(
        &self,
        org: &OrgId,
        token: &str,
        bump: bool,
        dirty: bool,
    ) -> Result<u64, StoreError> {
        let mut update = String::new();
        if bump {
            update.push_str("SET #version = if_not_exists(#version, :zero) + :one");
        }
        if dirty {
            update.push_str(if bump {
                ", #dirty = :true"
            } else {
                "SET #dirty = :true"
            });
            update.push_str(" REMOVE #lock, #lockedUntil");
        } else {
            update.push_str(" REMOVE #lock, #lockedUntil, #dirty");
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(dirmeta_pk(org), DIRMETA_SK)))
            .update_expression(update.trim_start())
            .condition_expression("#lock = :token")
            .expression_attribute_names("#lock", admin::LOCK)
            .expression_attribute_names("#lockedUntil", admin::LOCKED_UNTIL)
            .expression_attribute_names("#dirty", admin::DIRTY)
            .expression_attribute_values(":token", s(token))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            );
        if bump {
            request = request
                .expression_attribute_names("#version", admin::VERSION)
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1));
        }
        if dirty {
            request = request.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        match conditional(STORE, "UpdateItem", request.send().await)? {
            Conditional::Written(out) => Ok(version_of(&out.attributes.unwrap_or_default())),
            // An SDK retry of an unlock whose first attempt landed: the lock is gone already.
            Conditional::Refused(Some(old)) if !old.contains_key(admin::LOCK) => {
                Ok(version_of(&old))
            }
            Conditional::Refused(_) => Err(StoreError::Internal(format!(
                "the directory lock of {org} was lost: the write took longer than {LOCK_MS} ms"
            ))),
        }
    }

    /// The one write path: lock, read, plan, write what differs, unlock.
    pub(super) async fn write_org_locked(
        &self,
        w: &OrgWrite<'_>,
    ) -> Result<OrgWritten, WriteError> {
        let org = &w.org.org_id;
        if w.dry_run {
            // The writer's own read is the org at the version it expects; without one, read.
            let fresh;
            let (old, version) = match (w.read, w.expected) {
                (Some(read), Some(expected)) => (read, expected),
                _ => {
                    let version = self.org_version(org).await?;
                    fresh = self.org_items_directory(org).await?;
                    (&fresh, version)
                }
            };
            if w.expected.is_some_and(|v| v != version) {
                return Err(WriteRefused::Stale { current: version }.into());
            }
            let plan = plan(old, w.org, w);
            self.check_numbers(org, &plan, w).await?;
            return Ok(OrgWritten {
                version,
                changes: plan.changes,
                phones_changed: plan.phones_changed,
            });
        }
        let token = lock_token(w.now_ms);
        // Planned from the writer's own read, the numbers are checked beside the lock: the
        // lock then confirms that read is what is stored.
        let (locked, checked) = match (w.read, w.expected) {
            (Some(read), Some(_)) => {
                let early = plan(read, w.org, w);
                let (locked, checked) = futures::future::join(
                    self.lock(org, w.expected, &token, w.now_ms),
                    self.check_numbers(org, &early, w),
                )
                .await;
                match (locked, checked) {
                    (Ok(locked), Ok(checked)) => (locked, Some(checked)),
                    (Ok(_), Err(refused)) => {
                        self.unlock(org, &token, false, false).await?;
                        return Err(refused);
                    }
                    (Err(err), _) => return Err(err),
                }
            }
            _ => (self.lock(org, w.expected, &token, w.now_ms).await?, None),
        };
        let result = self.write_planned(w, &locked, checked).await;
        match result {
            Ok(plan) => {
                let (version, ()) = futures::future::join(
                    self.unlock(org, &token, plan.changes_records(), false),
                    self.tell_phones_changed(org, &plan, w.now_ms),
                )
                .await;
                let version = version?;
                Ok(OrgWritten {
                    version,
                    changes: plan.changes,
                    phones_changed: plan.phones_changed,
                })
            }
            Err((err, wrote)) => {
                // A write that failed half-way still moves the version: readers must not take
                // what they read before it for current.
                if let Err(unlock) = self.unlock(org, &token, wrote, wrote || locked.dirty).await {
                    tracing::warn!(%org, error = %unlock, "directory lock not released");
                }
                Err(err)
            }
        }
    }

    /// Read, plan and write under the lock; on failure, whether anything was written.
    async fn write_planned(
        &self,
        w: &OrgWrite<'_>,
        locked: &Locked,
        checked: Option<BTreeSet<crate::domain::E164>>,
    ) -> Result<Plan, (WriteError, bool)> {
        let org = &w.org.org_id;
        let version = locked.version;
        // The lock held at the version the writer read at: what it read is what is stored.
        let fresh;
        let old = match (w.read, w.expected) {
            (Some(read), Some(expected)) if expected == version => read,
            _ => {
                fresh = self
                    .org_items_directory(org)
                    .await
                    .map_err(|e| (e.into(), false))?;
                &fresh
            }
        };
        // A write that failed half-way left the views unsure: this one rewrites them all.
        let w = &OrgWrite {
            rewrite_views: w.rewrite_views || locked.dirty,
            ..w.clone()
        };
        let plan = plan(old, w.org, w);
        // Checked beside the lock when the writer's read was planned from; else here.
        let not_ours = match checked {
            Some(not_ours) if !locked.dirty => not_ours,
            _ => self
                .check_numbers(org, &plan, w)
                .await
                .map_err(|e| (e, false))?,
        };
        if plan.is_empty() {
            return Ok(plan);
        }
        let keep: BTreeSet<crate::domain::E164> =
            w.keep_numbers.iter().chain(&not_ours).cloned().collect();
        // The records (with their audit) and the views they derive, side by side: one round.
        futures::future::try_join(
            self.write_records(org, &plan, version + 1, w),
            self.write_views(org, &plan, &keep),
        )
        .await
        .map_err(|e| (e.into(), true))?;
        Ok(plan)
    }

    /// Refuse a number another org routes, unless the write may take it: every route the
    /// write would put (a new number, or one whose route changed: an operator's import may
    /// have given it to another org since) is read first. Routes the org no longer has but
    /// another org routes now are left to that org: the numbers not to delete.
    async fn check_numbers(
        &self,
        org: &OrgId,
        plan: &Plan,
        w: &OrgWrite<'_>,
    ) -> Result<BTreeSet<crate::domain::E164>, WriteError> {
        if w.may_take_numbers {
            return Ok(BTreeSet::new());
        }
        let numbers: Vec<&crate::domain::E164> = plan
            .routes
            .iter()
            .map(|r| &r.phone.phone_number)
            .chain(&plan.routes_gone)
            .collect();
        // Sixteen at a time: a whole org's write may change a thousand routes.
        let mut owners: Vec<Option<OrgId>> = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(16) {
            let keys: Vec<_> = chunk
                .iter()
                .map(|number| keyed(number_pk(number), ROUTE_SK))
                .collect();
            let items = try_join_all(keys.into_iter().map(|key| self.get(STORE, key))).await?;
            owners.extend(items.iter().map(|item| {
                item.as_ref()
                    .and_then(|item| get_s(item, doc::DOC))
                    .and_then(|json| serde_json::from_str::<NumberRoute>(json).ok())
                    .map(|route| route.org_id)
            }));
        }
        let mut not_ours = BTreeSet::new();
        for (i, (number, owner)) in numbers.iter().zip(owners).enumerate() {
            if owner.is_none_or(|owner| owner == *org) {
                continue;
            }
            if i < plan.routes.len() {
                return Err(WriteRefused::NumberTaken {
                    number: (*number).clone(),
                }
                .into());
            }
            not_ours.insert((*number).clone());
        }
        Ok(not_ours)
    }

    /// Each changed record with its audit entry, in transactions of [`PAIRS_PER_TX`] pairs.
    async fn write_records(
        &self,
        org: &OrgId,
        plan: &Plan,
        version: u64,
        w: &OrgWrite<'_>,
    ) -> Result<(), StoreError> {
        let pk = org_pk(org);
        let mut seq = 0;
        let mut audit_item = |entry: &AuditEntry| {
            seq += 1;
            audit_item(org, entry, version, seq, w.audit_expires_at)
        };
        let mut pairs: Vec<Vec<TransactWriteItem>> = Vec::new();
        for (sk, Record { doc: json, pos }, audit) in &plan.puts {
            let mut pair =
                vec![self.put(doc_item(pk.clone(), sk.clone(), json.clone(), *pos), None)?];
            if let Some(entry) = audit {
                pair.push(self.put(audit_item(entry)?, None)?);
            }
            pairs.push(pair);
        }
        for (sk, entry) in &plan.deletes {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(keyed(pk.clone(), sk.clone())));
            pairs.push(vec![
                TransactWriteItem::builder()
                    .delete(built(delete.build())?)
                    .build(),
                self.put(audit_item(entry)?, None)?,
            ]);
        }
        for chunk in pairs.chunks(PAIRS_PER_TX) {
            let writes: Vec<TransactWriteItem> = chunk.iter().flatten().cloned().collect();
            self.transact(STORE, writes).await?;
        }
        Ok(())
    }

    /// The routes and profiles that differ, the numbers and people gone, the org's index.
    async fn write_views(
        &self,
        org: &OrgId,
        plan: &Plan,
        keep_numbers: &BTreeSet<crate::domain::E164>,
    ) -> Result<(), StoreError> {
        let mut requests = Vec::new();
        for route in &plan.routes {
            let item = doc_item(
                number_pk(&route.phone.phone_number),
                ROUTE_SK.to_owned(),
                to_json(route)?,
                0,
            );
            requests.push(put(item)?);
        }
        for number in plan
            .routes_gone
            .iter()
            .filter(|n| !keep_numbers.contains(*n))
        {
            requests.push(delete(number_pk(number), ROUTE_SK.to_owned())?);
        }
        for profile in &plan.profiles {
            let item = doc_item(
                user_pk(&profile.key()),
                PROFILE_SK.to_owned(),
                to_json(profile)?,
                0,
            );
            requests.push(put(item)?);
        }
        for key in &plan.profiles_gone {
            requests.push(delete(user_pk(key), PROFILE_SK.to_owned())?);
        }
        requests.push(put(keyed(DIRECTORY_PK, org_pk(org)))?);
        self.batch_write(requests).await
    }

    /// `phones.changed` to each person whose numbers changed: a lost event costs only a
    /// refresh the client does on its next connect anyway, so a failure is logged, not
    /// returned.
    async fn tell_phones_changed(&self, org: &OrgId, plan: &Plan, now_ms: i64) {
        let tells = plan.phones_changed.iter().map(|(identity, phones)| {
            let notice = Notice {
                kind: EventKind::PhonesChanged,
                data: serde_json::json!({ "assignedPhones": phones }),
                at: now_ms,
                to: vec![PresenceKey {
                    org: org.clone(),
                    identity: identity.clone(),
                }],
            };
            async move { self.transact_noticed(STORE, Vec::new(), &notice).await }
        });
        // Sixteen at a time: a group's number moving tells a hundred people.
        let tells: Vec<_> = tells.collect();
        let mut tells = tells.into_iter();
        loop {
            let chunk: Vec<_> = tells.by_ref().take(16).collect();
            if chunk.is_empty() {
                break;
            }
            for result in futures::future::join_all(chunk).await {
                if let Err(err) = result {
                    tracing::warn!(%org, error = %err, "phones.changed not written");
                }
            }
        }
    }

    /// A page of the org's audit log, newest first.
    pub(super) async fn audit_page(
        &self,
        org: &OrgId,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<AuditPage, StoreError> {
        let mut query = self
            .query_request()
            .consistent_read(true)
            .scan_index_forward(false)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(audit_pk(org)))
            .filter_expression("#exp > :now")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
            // One more than asked, to know whether there is an older page.
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        query = match before {
            Some(before) => query
                .key_condition_expression("#pk = :pk AND #sk < :before")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":before", s(before)),
            None => query.key_condition_expression("#pk = :pk"),
        };
        let mut items: Vec<Item> = Vec::new();
        // One more than asked: whether there is an older page.
        self.paginate(STORE, query, |page| {
            items.extend(page.items.unwrap_or_default());
            Ok(items.len() <= limit)
        })
        .await?;
        let more = items.len() > limit;
        items.truncate(limit);
        let cursor = more
            .then(|| items.last().and_then(|i| get_s(i, SK)).map(str::to_owned))
            .flatten();
        let entries = items.iter().map(audit_entry).collect::<Result<_, _>>()?;
        Ok(AuditPage { entries, cursor })
    }
}

/// A token no other write holds: the time and random bits.
fn lock_token(now_ms: i64) -> String {
    let mut bytes = [0u8; 8];
    // Without randomness two writers of the same millisecond could share a token; the lock's
    // condition on the version still keeps them apart.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{now_ms}-{random}")
}

fn audit_item(
    org: &OrgId,
    entry: &AuditEntry,
    version: u64,
    seq: usize,
    expires_at: i64,
) -> Result<Item, StoreError> {
    let position = super::super::write::audit_position(entry.at, version, seq);
    let mut item = keyed(audit_pk(org), position);
    item.insert(admin::AT.to_owned(), n(entry.at));
    item.insert(admin::ACTOR.to_owned(), s(&entry.actor));
    item.insert(admin::ACTION.to_owned(), s(&entry.action));
    item.insert(admin::KIND.to_owned(), s(&entry.record.kind));
    item.insert(admin::ID.to_owned(), s(&entry.record.id));
    for (name, value) in [(admin::BEFORE, &entry.before), (admin::AFTER, &entry.after)] {
        if let Some(value) = value {
            item.insert(name.to_owned(), s(to_json(value)?));
        }
    }
    item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
    Ok(item)
}

fn audit_entry(item: &Item) -> Result<AuditEntry, StoreError> {
    let text = |name: &str| get_s(item, name).map(str::to_owned);
    let json = |name: &str| {
        get_s(item, name).and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
    };
    Ok(AuditEntry {
        at: get_n(item, admin::AT).ok_or_else(|| bad_item(admin::AT))?,
        actor: text(admin::ACTOR).unwrap_or_default(),
        action: text(admin::ACTION).unwrap_or_default(),
        record: super::super::write::AuditRecord {
            kind: text(admin::KIND).unwrap_or_default(),
            id: text(admin::ID).unwrap_or_default(),
        },
        before: json(admin::BEFORE),
        after: json(admin::AFTER),
    })
}
