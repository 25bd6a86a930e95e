//! The call history on DynamoDB. A fact is one transaction: the call's entry in each involved
//! user's partition (created with the call's description if new; the fact set with a condition
//! that it is new, for the facts that tell someone), the call's pointer, a voicemail's pointer,
//! and the events. A repeated callback's transaction is refused: nothing is told twice; the
//! entries it names as new still get the fact, and the others what it knows of the call.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem};
use futures::future::{join, try_join_all};

use crate::domain::OrgId;
use crate::history::{AnsweredBy, Direction, Entry, Fact, MissedReason, Offer, Voicemail};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{Item, get_n, get_s, get_ss, keyed, n, s};
use crate::store::dynamo::keys::{
    CALLHIST_SK, HISTORY_SK_PREFIX, PK, SEEN_SK, SK, TTL_ATTRIBUTE, VOICEMAIL_SK, callhist_pk,
    hist, history_sk, presence_key_of, presence_pk, voicemail_pk,
};
use crate::store::dynamo::outcome::{Conditional, conditional};
use crate::store::dynamo::tx::{TxOutcome, built};
use crate::store::events::Notice;
use crate::store::history::{
    HistoryPage, HistoryStore, HistoryWrite, SeenMark, VoicemailRef, position,
};
use crate::store::rates::{Budget, Counted};
use crate::store::{PresenceKey, StoreError, StoreName};

const STORE: StoreName = StoreName::History;

/// The call's description in one user's entry, where it is missing, and the step of ringing
/// the write reports (added to a set: a repeat adds nothing).
fn description(write: &HistoryWrite) -> Changes {
    let base = &write.base;
    let mut changes = Changes::default()
        .keep(hist::CALL_SID, s(&base.call_sid))
        .keep(hist::DIRECTION, s(base.direction.as_str()))
        .keep(hist::STARTED_AT, n(base.started_at))
        .keep(TTL_ATTRIBUTE, n(write.expires_at));
    // An empty party is left unwritten, so that a later callback that names it fills it in.
    for (name, value) in [(hist::FROM, &base.from), (hist::TO, &base.to)] {
        if !value.is_empty() {
            changes = changes.keep(name, s(value));
        }
    }
    if let Some(id) = &base.phone_id {
        changes = changes.keep(hist::PHONE_ID, s(id));
    }
    if let Some(number) = &base.phone_number {
        changes = changes.keep(hist::PHONE_NUMBER, s(number));
    }
    if let Some(offer) = &write.offer {
        changes = changes.add(hist::OFFERED_TO, AttributeValue::Ss(vec![offer.encode()]));
    }
    changes
}

/// Whether `write` tells something of the call that the entry `old` does not know yet.
fn fills_in(write: &HistoryWrite, old: &Item) -> bool {
    let base = &write.base;
    let missing = |name: &str, known: bool| known && !old.contains_key(name);
    missing(hist::FROM, !base.from.is_empty())
        || missing(hist::TO, !base.to.is_empty())
        || missing(hist::PHONE_ID, base.phone_id.is_some())
        || missing(hist::PHONE_NUMBER, base.phone_number.is_some())
        || write.offer.is_some()
}

/// The update of one user's entry for `write`: the call's description where it is missing,
/// and the fact (conditioned on being new where a repeat must tell nobody, returning the
/// entry as it is on refusal).
fn entry_update(write: &HistoryWrite) -> Changes {
    let changes = description(write);
    match &write.fact {
        Fact::Placed => changes,
        Fact::Answered { by, at } => changes
            .set(hist::ANSWERED_BY, s(&by.identity))
            .set(hist::ANSWERED_BY_NAME, s(&by.name))
            .set(hist::ANSWERED_AT, n(*at))
            .when("attribute_not_exists(#answeredAt)", Vec::new())
            .returning_old(),
        Fact::Ended {
            at,
            duration_seconds,
        } => changes
            .keep(hist::ENDED_AT, n(*at))
            .keep(hist::DURATION, n(*duration_seconds)),
        Fact::Missed(reason) => changes
            .set(hist::MISSED, s(reason.as_str()))
            .when("attribute_not_exists(#missed)", Vec::new())
            .returning_old(),
        Fact::Canceled => changes.set(hist::CANCELED, AttributeValue::Bool(true)),
        Fact::Voicemail(voicemail) => changes
            .set(hist::RECORDING_SID, s(&voicemail.recording_sid))
            .set(hist::RECORDING_DURATION, n(voicemail.duration_seconds))
            .when(
                "attribute_not_exists(#recordingSid) AND attribute_not_exists(#voicemailDeleted)",
                Vec::new(),
            )
            .returning_old(),
    }
}

fn entry_from_item(item: &Item) -> Entry {
    let number = |name| get_n(item, name);
    let text = |name| get_s(item, name).map(str::to_owned);
    Entry {
        call_sid: text(hist::CALL_SID).unwrap_or_default(),
        direction: get_s(item, hist::DIRECTION).and_then(Direction::parse),
        from: text(hist::FROM).unwrap_or_default(),
        to: text(hist::TO).unwrap_or_default(),
        phone_id: text(hist::PHONE_ID),
        phone_number: text(hist::PHONE_NUMBER),
        started_at: number(hist::STARTED_AT).unwrap_or(0),
        answered_by: text(hist::ANSWERED_BY).map(|identity| AnsweredBy {
            identity,
            name: text(hist::ANSWERED_BY_NAME).unwrap_or_default(),
        }),
        answered_at: number(hist::ANSWERED_AT),
        ended_at: number(hist::ENDED_AT),
        duration_seconds: number(hist::DURATION).and_then(|d| u32::try_from(d).ok()),
        missed: get_s(item, hist::MISSED).and_then(MissedReason::parse),
        canceled: item
            .get(hist::CANCELED)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        voicemail: text(hist::RECORDING_SID).map(|recording_sid| Voicemail {
            recording_sid,
            duration_seconds: number(hist::RECORDING_DURATION)
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0),
        }),
        voicemail_deleted: item.contains_key(hist::VOICEMAIL_DELETED),
        offered_to: offers(item),
    }
}

/// The steps of ringing an entry holds, in step order, each step once.
fn offers(item: &Item) -> Vec<Offer> {
    let mut offers: Vec<Offer> = get_ss(item, hist::OFFERED_TO)
        .into_iter()
        .filter_map(Offer::decode)
        .collect();
    offers.sort_by_key(|o| o.step);
    offers.dedup_by_key(|o| o.step);
    offers
}

fn voicemail_item(vm: &VoicemailRef) -> Item {
    let mut item = keyed(voicemail_pk(&vm.recording_sid), VOICEMAIL_SK);
    item.insert(hist::ORG.to_owned(), s(vm.org.as_str()));
    if let Some(phone_id) = &vm.phone_id {
        item.insert(hist::PHONE_ID.to_owned(), s(phone_id));
    }
    item.insert(hist::CALL_SID.to_owned(), s(&vm.call_sid));
    item.insert(hist::STARTED_AT.to_owned(), n(vm.started_at));
    let users: Vec<String> = vm.users.iter().map(presence_pk).collect();
    if !users.is_empty() {
        item.insert(hist::USERS.to_owned(), AttributeValue::Ss(users));
    }
    item.insert(TTL_ATTRIBUTE.to_owned(), n(vm.expires_at));
    item
}

fn voicemail_from_item(recording_sid: &str, item: &Item) -> Option<VoicemailRef> {
    Some(VoicemailRef {
        recording_sid: recording_sid.to_owned(),
        org: OrgId::parse_field(get_s(item, hist::ORG)?, "org").ok()?,
        phone_id: get_s(item, hist::PHONE_ID).map(str::to_owned),
        call_sid: get_s(item, hist::CALL_SID)?.to_owned(),
        started_at: get_n(item, hist::STARTED_AT)?,
        users: get_ss(item, hist::USERS)
            .into_iter()
            .filter_map(presence_key_of)
            .collect(),
        expires_at: get_n(item, TTL_ATTRIBUTE).unwrap_or(0),
    })
}

impl DynamoStore {
    /// The voicemail off the entries of `users` (each only if it is there) and its pointer
    /// deleted.
    fn voicemail_removal(
        &self,
        voicemail: &VoicemailRef,
        users: &[&PresenceKey],
        key: &str,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut writes: Vec<TransactWriteItem> = users
            .iter()
            .map(|user| {
                Changes::default()
                    .remove(hist::RECORDING_SID)
                    .remove(hist::RECORDING_DURATION)
                    .set(hist::VOICEMAIL_DELETED, AttributeValue::Bool(true))
                    .when("attribute_exists(#pk)", Vec::new())
                    .update(&self.table, keyed(presence_pk(user), key.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(
                voicemail_pk(&voicemail.recording_sid),
                VOICEMAIL_SK,
            )));
        writes.push(
            TransactWriteItem::builder()
                .delete(built(delete.build())?)
                .build(),
        );
        Ok(writes)
    }
}

/// Entries one transaction takes beside the call's pointer and a voicemail's (of 100 items).
const USERS_PER_TX: usize = 98;

impl DynamoStore {
    /// [`HistoryStore::record`] for at most [`USERS_PER_TX`] users: one transaction.
    async fn record_for(
        &self,
        write: &HistoryWrite,
        voicemail: Option<&VoicemailRef>,
    ) -> Result<bool, StoreError> {
        let key = history_sk(&position(write.base.started_at, &write.base.call_sid));
        let entry = |user: &PresenceKey| keyed(presence_pk(user), key.clone());
        let mut pending: Vec<&PresenceKey> = write.users.iter().collect();
        // Those that had the fact, and what they lack of the call's description.
        let mut described: Vec<&PresenceKey> = Vec::new();
        for attempt in 0..3 {
            let mut writes: Vec<TransactWriteItem> = pending
                .iter()
                .map(|user| entry_update(write).update(&self.table, entry(user)))
                .collect::<Result<_, _>>()?;
            if attempt > 0 && pending.is_empty() {
                // Nobody's entry is new: the description alone, and nobody is told.
                if described.is_empty() {
                    return Ok(false);
                }
                let writes = described
                    .iter()
                    .map(|user| description(write).update(&self.table, entry(user)))
                    .collect::<Result<_, _>>()?;
                self.transact(STORE, writes).await?;
                return Ok(false);
            }
            for user in &described {
                writes.push(description(write).update(&self.table, entry(user))?);
            }
            if let Some(user) = write.users.first() {
                let mut pointer = keyed(callhist_pk(&write.base.call_sid), CALLHIST_SK);
                pointer.insert(hist::ORG.to_owned(), s(user.org.as_str()));
                pointer.insert(hist::STARTED_AT.to_owned(), n(write.base.started_at));
                pointer.insert(TTL_ATTRIBUTE.to_owned(), n(write.expires_at));
                writes.push(self.put(pointer, None)?);
            }
            if let Some(vm) = voicemail {
                writes.push(self.put(voicemail_item(vm), None)?);
            }
            let outcome = match &write.notice {
                Some(notice) => self.transact_noticed(STORE, writes, notice).await?,
                None => self.transact(STORE, writes).await?,
            };
            let TxOutcome::Refused(old) = outcome else {
                return Ok(true);
            };
            // Only the pending entries' updates have conditions, and come first.
            let asked = pending.len();
            let mut still = Vec::new();
            for (user, old) in pending.into_iter().zip(old) {
                match old {
                    Some(old) if fills_in(write, &old) => described.push(user),
                    Some(_) => {}
                    None => still.push(user),
                }
            }
            if still.len() == asked {
                // Refused, but no entry said it had the fact: nothing to learn from it.
                return Ok(false);
            }
            pending = still;
        }
        Err(StoreError::Internal(format!(
            "the history of {} could not be recorded",
            write.base.call_sid
        )))
    }
}

#[async_trait]
impl HistoryStore for DynamoStore {
    /// One transaction (per 98 users): the fact on every user's entry, the call's pointer, a
    /// voicemail's pointer, the events. A refusal names the entries that had the fact already (each
    /// returned as it was): the fact is written again for the others alone, and those that
    /// had it only get what this callback knows of the call and they do not (one more round,
    /// only then), so a repeat neither tells twice nor keeps the others from the fact.
    async fn record(
        &self,
        write: &HistoryWrite,
        voicemail: Option<&VoicemailRef>,
    ) -> Result<bool, StoreError> {
        if write.users.len() <= USERS_PER_TX {
            return self.record_for(write, voicemail).await;
        }
        // A group larger than one transaction holds: its members in parts, side by side, each
        // told with its own part (the call's pointers are the same in every part).
        let parts = write.users.chunks(USERS_PER_TX).map(|users| {
            let mut part = write.clone();
            part.users = users.to_vec();
            if let Some(notice) = &mut part.notice {
                notice.to.retain(|user| users.contains(user));
            }
            async move { self.record_for(&part, voicemail).await }
        });
        Ok(try_join_all(parts).await?.into_iter().any(|new| new))
    }

    async fn history(
        &self,
        user: &PresenceKey,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<HistoryPage, StoreError> {
        let pk = presence_pk(user);
        let upper = match before {
            Some(before) => history_sk(before),
            // Below the seen mark, which sorts after every entry.
            None => format!("{HISTORY_SK_PREFIX}~"),
        };
        let query = self
            .query_request()
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .filter_expression("#exp > :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":pk", s(pk.clone()))
            .expression_attribute_values(":from", s(HISTORY_SK_PREFIX))
            .expression_attribute_values(":to", s(upper.clone()))
            .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        let mut entries = Vec::new();
        let pages = self.paginate(STORE, query, |page| {
            for item in page.items() {
                let sk = get_s(item, SK).unwrap_or_default();
                if sk == upper || entries.len() == limit {
                    continue;
                }
                let position = sk.strip_prefix(HISTORY_SK_PREFIX).unwrap_or(sk);
                entries.push((position.to_owned(), entry_from_item(item)));
            }
            Ok(entries.len() < limit)
        });
        let (pages, mark) = join(pages, self.get(STORE, keyed(pk.clone(), SEEN_SK))).await;
        pages?;
        Ok(HistoryPage {
            entries,
            seen_up_to: mark?.and_then(|item| get_s(&item, hist::UP_TO).map(str::to_owned)),
        })
    }

    async fn call_started(&self, call_sid: &str) -> Result<Option<(OrgId, i64)>, StoreError> {
        let item = self
            .get(STORE, keyed(callhist_pk(call_sid), CALLHIST_SK))
            .await?;
        Ok(item.and_then(|item| {
            let org = OrgId::parse_field(get_s(&item, hist::ORG)?, "org").ok()?;
            Some((org, get_n(&item, hist::STARTED_AT)?))
        }))
    }

    /// One transaction: the mark, on the condition that it moves up, and a check that the
    /// entry is in the user's own partition. A refusal whose mark was behind was the entry's;
    /// one whose mark was at or past it reads the entry to tell which (a third round, only
    /// when an already seen call is marked again).
    async fn mark_seen(
        &self,
        user: &PresenceKey,
        position: &str,
        notice: &Notice,
    ) -> Result<SeenMark, StoreError> {
        let pk = presence_pk(user);
        let mark = Changes::default()
            .set(hist::UP_TO, s(position))
            .when(
                "attribute_not_exists(#upTo) OR #upTo < :position",
                vec![("position", s(position))],
            )
            .returning_old()
            .update(&self.table, keyed(pk.clone(), SEEN_SK))?;
        let entry = keyed(pk, history_sk(position));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(entry.clone()))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        let check = TransactWriteItem::builder()
            .condition_check(built(check.build())?)
            .build();
        match self
            .transact_noticed(STORE, vec![mark, check], notice)
            .await?
        {
            TxOutcome::Written => Ok(SeenMark::Moved),
            TxOutcome::Refused(items) if items.first().is_some_and(Option::is_some) => {
                Ok(match self.get(STORE, entry).await? {
                    Some(_) => SeenMark::AlreadySeen,
                    None => SeenMark::NotInHistory,
                })
            }
            TxOutcome::Refused(_) => Ok(SeenMark::NotInHistory),
        }
    }

    async fn voicemail(&self, recording_sid: &str) -> Result<Option<VoicemailRef>, StoreError> {
        let item = self
            .get(STORE, keyed(voicemail_pk(recording_sid), VOICEMAIL_SK))
            .await?;
        Ok(item.and_then(|item| voicemail_from_item(recording_sid, &item)))
    }

    /// One transaction: the voicemail off each listed user's entry (on the condition that the
    /// entry is there, so none is created), the pointer deleted, the events. A refusal means an
    /// entry is missing (expired, or never written): the entries are read, and the removal is
    /// written again for those there (two more rounds, only then).
    async fn remove_voicemail(
        &self,
        voicemail: &VoicemailRef,
        notice: &Notice,
    ) -> Result<(), StoreError> {
        let key = history_sk(&position(voicemail.started_at, &voicemail.call_sid));
        let mut users: Vec<&PresenceKey> = voicemail.users.iter().collect();
        for _ in 0..3 {
            let writes = self.voicemail_removal(voicemail, &users, &key)?;
            match self.transact_noticed(STORE, writes, notice).await? {
                TxOutcome::Written => return Ok(()),
                TxOutcome::Refused(_) => {
                    let entries = users
                        .iter()
                        .map(|user| self.get(STORE, keyed(presence_pk(user), key.clone())));
                    let found = try_join_all(entries).await?;
                    users = users
                        .into_iter()
                        .zip(found)
                        .filter_map(|(user, entry)| entry.map(|_| user))
                        .collect();
                }
            }
        }
        Err(StoreError::Internal(format!(
            "the voicemail {} could not be removed",
            voicemail.recording_sid
        )))
    }

    async fn count_call(
        &self,
        caller: &PresenceKey,
        calls: &Budget,
        now_ms: i64,
    ) -> Result<Counted, StoreError> {
        let result = self.count_request(caller, calls, now_ms).send().await;
        Ok(match conditional(STORE, "UpdateItem", result)? {
            Conditional::Written(_) => Counted::Counted,
            Conditional::Refused(_) => calls.over(now_ms),
        })
    }
}
