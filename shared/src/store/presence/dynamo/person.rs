//! The person item (`#person` in the user's partition): the status they set, and the ids of
//! their devices and current calls, so that the team view reads many people's presence by key
//! (two rounds of `BatchGetItem`, whatever the team's size) instead of one `Query` each. A
//! heartbeat never writes it: liveness stays on the device rows, read by those keys.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, TransactWriteItem, Update};
use futures::future::{join, try_join_all};

use super::STORE;
use super::item::{device_from_item, is_live_device};
use crate::domain::{Availability, DeviceId, PersonStatus};
use crate::events::Event;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{Item, get_n, get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    CALL_SK_PREFIX, PERSON_SK, PK, SK, TTL_ATTRIBUTE, call, call_sk, person, presence_pk,
};
use crate::store::dynamo::outcome::{Conditional, classify, conditional};
use crate::store::dynamo::tx::built;
use crate::store::presence::sort_most_recent_first;
use crate::store::{ActiveCall, PresenceKey, PresenceStore, StoreError, UserPresence, is_live};

/// DynamoDB's limit of keys in one `BatchGetItem`.
const BATCH_KEYS: usize = 100;
/// Rounds for the keys DynamoDB leaves unprocessed (under throttling) before giving up.
const UNPROCESSED_ROUNDS: u32 = 4;
/// A person item lives this long after its last write (TTL): a status untouched for over a
/// year, of someone who has not registered a device since, is forgotten (read as available).
const PERSON_TTL_SECONDS: i64 = 400 * 86_400;

/// Add (`true`) or remove an id in one of the person item's sets.
#[derive(Clone, Copy)]
pub(super) enum SetChange {
    Add,
    Remove,
}

/// What a change of one of the person item's sets writes: its update expression, names and
/// values (the same for a transaction item and a request of its own).
struct SetWrite {
    expression: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

fn set_write(set: &'static str, id: &str, change: SetChange, now_ms: i64) -> SetWrite {
    let verb = match change {
        SetChange::Add => "ADD",
        SetChange::Remove => "DELETE",
    };
    SetWrite {
        expression: format!("{verb} #set :id SET #exp = :exp, #kept = :kept"),
        names: HashMap::from([
            ("#set".to_owned(), set.to_owned()),
            ("#exp".to_owned(), TTL_ATTRIBUTE.to_owned()),
            ("#kept".to_owned(), person::KEPT.to_owned()),
        ]),
        values: HashMap::from([
            (":id".to_owned(), AttributeValue::Ss(vec![id.to_owned()])),
            (":exp".to_owned(), n(person_expiry(now_ms))),
            (":kept".to_owned(), AttributeValue::Bool(true)),
        ]),
    }
}

impl DynamoStore {
    /// The person item's `set` gains or loses `id`, and lives on: a transaction item.
    pub(super) fn person_set_write(
        &self,
        key: &PresenceKey,
        set: &'static str,
        id: &str,
        change: SetChange,
        now_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut write = set_write(set, id, change, now_ms);
        // A call that ends: when (longest idle rings first whoever ended longest ago).
        if set == person::CALLS && matches!(change, SetChange::Remove) {
            write.expression.push_str(", #ended = :ended");
            write
                .names
                .insert("#ended".into(), person::LAST_CALL_ENDED.into());
            write.values.insert(":ended".into(), n(now_ms));
        }
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), PERSON_SK)))
            .update_expression(write.expression)
            .set_expression_attribute_names(Some(write.names))
            .set_expression_attribute_values(Some(write.values));
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }

    /// The device `device_id` is the person's (a register): one `UpdateItem` of its own.
    pub(super) async fn add_person_device(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let write = set_write(person::DEVICES, device_id.as_str(), SetChange::Add, now_ms);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), PERSON_SK)))
            .update_expression(write.expression)
            .set_expression_attribute_names(Some(write.names))
            .set_expression_attribute_values(Some(write.values))
            .send()
            .await
            .map_err(|e| classify(STORE, "UpdateItem", e))?;
        Ok(())
    }

    /// Replace the person's status, with its event for their devices: one transaction that
    /// leaves their device and call ids.
    pub(super) async fn write_status(
        &self,
        key: &PresenceKey,
        status: &PersonStatus,
    ) -> Result<(), StoreError> {
        let mut sets = vec!["#status = :status", "#at = :at", "#exp = :exp"];
        let mut removes = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), PERSON_SK)))
            .expression_attribute_names("#status", person::STATUS)
            .expression_attribute_names("#at", person::STATUS_AT)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#until", person::UNTIL)
            .expression_attribute_names("#note", person::NOTE)
            .expression_attribute_values(":status", s(status.availability.as_str()))
            .expression_attribute_values(":at", n(status.set_at))
            .expression_attribute_values(":exp", n(person_expiry(status.set_at)));
        match status.until {
            Some(until) => {
                sets.push("#until = :until");
                update = update.expression_attribute_values(":until", n(until));
            }
            None => removes.push("#until"),
        }
        match &status.note {
            Some(note) => {
                sets.push("#note = :note");
                update = update.expression_attribute_values(":note", s(note));
            }
            None => removes.push("#note"),
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let update = update.update_expression(expression);
        let event = Event::presence_status(status, status.set_at);
        let writes = vec![
            TransactWriteItem::builder()
                .update(built(update.build())?)
                .build(),
            self.put_event(key, &event)?,
        ];
        self.transact(STORE, writes).await?;
        self.publish(key, vec![event]).await;
        Ok(())
    }

    /// Claim the telling of `told` (read at `read_at`): a conditional `UpdateItem` of the
    /// person item, refused when it holds `told` already or a reading newer than this one.
    pub(super) async fn write_shown(
        &self,
        key: &PresenceKey,
        told: &str,
        read_at: i64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), PERSON_SK)))
            .update_expression("SET #shown = :told, #at = :readAt, #exp = :exp")
            .condition_expression(
                "(attribute_not_exists(#shown) OR #shown <> :told) AND \
                 (attribute_not_exists(#at) OR #at < :readAt)",
            )
            .expression_attribute_names("#shown", person::SHOWN)
            .expression_attribute_names("#at", person::SHOWN_AT)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":told", s(told))
            .expression_attribute_values(":readAt", n(read_at))
            .expression_attribute_values(":exp", n(person_expiry(read_at)))
            .send()
            .await;
        Ok(matches!(
            conditional(STORE, "UpdateItem", result)?,
            Conditional::Written(_)
        ))
    }

    /// Give back a claim whose telling failed, if it is still that claim.
    pub(super) async fn remove_shown(
        &self,
        key: &PresenceKey,
        told: &str,
        read_at: i64,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), PERSON_SK)))
            .update_expression("REMOVE #shown, #at")
            .condition_expression("#shown = :told AND #at = :readAt")
            .expression_attribute_names("#shown", person::SHOWN)
            .expression_attribute_names("#at", person::SHOWN_AT)
            .expression_attribute_values(":told", s(told))
            .expression_attribute_values(":readAt", n(read_at))
            .send()
            .await;
        conditional(STORE, "UpdateItem", result)?;
        Ok(())
    }

    /// Many people's presence: their person items by key, then every device and call those
    /// name, by key: two rounds of `BatchGetItem`s (100 keys each, sent together). A person
    /// whose item does not keep those keys yet (no write since people presence came: a device
    /// registered before it) is read by a `Query` of their partition instead, in the same round.
    pub(super) async fn read_people(
        &self,
        keys: &[PresenceKey],
        now_ms: i64,
    ) -> Result<Vec<UserPresence>, StoreError> {
        let person_keys: Vec<Item> = keys
            .iter()
            .map(|key| keyed(presence_pk(key), PERSON_SK))
            .collect();
        let persons = self.batch_get(person_keys).await?;
        let person_item =
            |key: &PresenceKey| persons.get(&(presence_pk(key), PERSON_SK.to_owned()));
        let mut rows = Vec::new();
        let mut unkept = Vec::new();
        for key in keys {
            let pk = presence_pk(key);
            match person_item(key).filter(|item| item.contains_key(person::KEPT)) {
                Some(item) => {
                    for id in string_set(item, person::DEVICES) {
                        rows.push(keyed(pk.clone(), id.as_str()));
                    }
                    for sid in string_set(item, person::CALLS) {
                        rows.push(keyed(pk.clone(), call_sk(&sid)));
                    }
                }
                None => unkept.push(key),
            }
        }
        let queries = unkept.iter().map(|key| async move {
            Ok::<_, StoreError>(((*key).clone(), self.presence(key, now_ms).await?))
        });
        let (rows, queried) = join(self.batch_get(rows), try_join_all(queries)).await;
        let (rows, queried) = (rows?, queried?);
        let mut by_partition: HashMap<&str, Vec<&Item>> = HashMap::new();
        for ((pk, _), item) in &rows {
            by_partition.entry(pk.as_str()).or_default().push(item);
        }
        let mut queried: HashMap<PresenceKey, UserPresence> = queried.into_iter().collect();
        let mut people = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(presence) = queried.remove(key) {
                people.push(presence);
                continue;
            }
            let pk = presence_pk(key);
            let mine = by_partition.get(pk.as_str()).cloned().unwrap_or_default();
            let mut presence = presence_from_items(key, mine, now_ms)?;
            let item = person_item(key);
            presence.status = item.and_then(status_from_item);
            presence.last_call_ended = item.and_then(|item| get_n(item, person::LAST_CALL_ENDED));
            presence.shown = item
                .and_then(|item| get_s(item, person::SHOWN))
                .map(str::to_owned);
            people.push(presence);
        }
        Ok(people)
    }

    /// Items by key, in `BatchGetItem`s of 100 sent together; keys DynamoDB leaves unprocessed
    /// are asked for again, a few times, then the read fails as unavailable.
    async fn batch_get(
        &self,
        keys: Vec<Item>,
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let requests = keys
            .chunks(BATCH_KEYS)
            .map(|chunk| self.batch_get_chunk(chunk.to_vec()));
        let mut found = HashMap::new();
        for items in try_join_all(requests).await? {
            for item in items {
                let pk = get_s(&item, PK).unwrap_or_default().to_owned();
                let sk = get_s(&item, SK).unwrap_or_default().to_owned();
                found.insert((pk, sk), item);
            }
        }
        Ok(found)
    }

    async fn batch_get_chunk(&self, mut keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        for round in 0..UNPROCESSED_ROUNDS {
            if keys.is_empty() {
                return Ok(items);
            }
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(25 << round)).await;
            }
            let request = KeysAndAttributes::builder().set_keys(Some(keys)).build();
            let request = built(request)?;
            let mut out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| classify(STORE, "BatchGetItem", e))?;
            if let Some(mut responses) = out.responses.take() {
                items.extend(responses.remove(&self.table).unwrap_or_default());
            }
            keys = out
                .unprocessed_keys
                .and_then(|mut left| left.remove(&self.table))
                .map(|left| left.keys)
                .unwrap_or_default();
        }
        if keys.is_empty() {
            Ok(items)
        } else {
            Err(StoreError::unavailable(
                STORE,
                format!("BatchGetItem: {} keys left unprocessed", keys.len()),
            ))
        }
    }
}

/// A person item's status, if they ever set one.
pub(super) fn status_from_item(item: &Item) -> Option<PersonStatus> {
    let availability = Availability::parse(get_s(item, person::STATUS)?)?;
    Some(PersonStatus {
        availability,
        until: get_n(item, person::UNTIL),
        note: get_s(item, person::NOTE).map(str::to_owned),
        set_at: get_n(item, person::STATUS_AT).unwrap_or(0),
    })
}

/// Devices, calls and the status among `items` of one user's partition, as presence counts
/// them at `now_ms`: what the `Query` of `presence` and the team view's reads by key share.
pub(super) fn presence_from_items<'a>(
    key: &PresenceKey,
    items: impl IntoIterator<Item = &'a Item>,
    now_ms: i64,
) -> Result<UserPresence, StoreError> {
    let mut presence = UserPresence::default();
    for item in items {
        let sk = get_s(item, SK).unwrap_or_default();
        if sk == PERSON_SK {
            presence.status = status_from_item(item);
            presence.last_call_ended = get_n(item, person::LAST_CALL_ENDED);
            presence.shown = get_s(item, person::SHOWN).map(str::to_owned);
        } else if let Some(call_sid) = sk.strip_prefix(CALL_SK_PREFIX) {
            if !item.contains_key(call::ENDED)
                && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
            {
                presence.calls.push(ActiveCall {
                    call_sid: call_sid.to_owned(),
                    since_ms: get_n(item, call::SINCE).unwrap_or(now_ms),
                });
            }
        } else if is_live_device(item, now_ms) {
            presence.devices.push(device_from_item(key, item)?);
        }
    }
    sort_most_recent_first(&mut presence.devices);
    presence.calls.sort_by(|a, b| a.call_sid.cmp(&b.call_sid));
    Ok(presence)
}

fn string_set(item: &Item, name: &str) -> Vec<String> {
    match item.get(name) {
        Some(AttributeValue::Ss(values)) => values.clone(),
        _ => Vec::new(),
    }
}

fn person_expiry(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000) + PERSON_TTL_SECONDS
}
