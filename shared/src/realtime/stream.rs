//! The `realtime-push` function's input: a batch of the table's stream records. Events written
//! to users' logs are pushed, in order, to their open connections ([`super::push::deliver`]); a
//! batch item failure makes Lambda retry from that record (a device may see an event twice and
//! drops it by cursor). Records that are not new events are skipped: the template's filter
//! sends only those, and a malformed one must not stop the stream.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::push::{Delivery, Sender, deliver};
use crate::events::Event;
use crate::store::dynamo::codec::{Item, event_from_item, get_s};
use crate::store::dynamo::keys::{EVENT_SK_PREFIX, PK, SK, presence_key_of};
use crate::store::{EventStore, PresenceKey};

/// The DynamoDB stream event Lambda delivers (only what is read of it).
#[derive(Debug, Default, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: Option<String>,
    #[serde(default)]
    pub dynamodb: Option<StreamChange>,
}

#[derive(Debug, Deserialize)]
pub struct StreamChange {
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<HashMap<String, Value>>,
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
}

/// What Lambda reads back: the records to retry from.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// What one batch did, for its log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    pub skipped: usize,
    pub delivery: Delivery,
}

/// A stream image in DynamoDB's JSON (`{"S": "…"}`, `{"N": "…"}`, …) as the SDK's item.
pub fn item_from_image(image: &HashMap<String, Value>) -> Item {
    image
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), attribute(value)?)))
        .collect()
}

fn attribute(value: &Value) -> Option<AttributeValue> {
    let (kind, inner) = value.as_object()?.iter().next()?;
    Some(match kind.as_str() {
        "S" => AttributeValue::S(inner.as_str()?.to_owned()),
        "N" => AttributeValue::N(inner.as_str()?.to_owned()),
        "BOOL" => AttributeValue::Bool(inner.as_bool()?),
        "NULL" => AttributeValue::Null(true),
        "SS" => AttributeValue::Ss(strings(inner)?),
        "NS" => AttributeValue::Ns(strings(inner)?),
        "L" => AttributeValue::L(inner.as_array()?.iter().filter_map(attribute).collect()),
        "M" => {
            let map = inner.as_object()?;
            AttributeValue::M(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), attribute(v)?)))
                    .collect(),
            )
        }
        _ => return None,
    })
}

fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The event a record inserted, and whose it is; `None` for anything else.
fn new_event(record: &StreamRecord) -> Option<(PresenceKey, Event)> {
    if record.event_name.as_deref() != Some("INSERT") {
        return None;
    }
    let item = item_from_image(record.dynamodb.as_ref()?.new_image.as_ref()?);
    if !get_s(&item, SK)?.starts_with(EVENT_SK_PREFIX) {
        return None;
    }
    let user = presence_key_of(get_s(&item, PK)?)?;
    Some((user, event_from_item(&item).ok()?))
}

/// Push every new event of `batch` to its user's connections, user by user in stream order.
pub async fn consume(
    store: &dyn EventStore,
    sender: &dyn Sender,
    batch: &StreamBatch,
    now_ms: i64,
) -> (BatchResponse, Summary) {
    let mut summary = Summary::default();
    let mut response = BatchResponse::default();
    // Consecutive records of one user go together: one read of their connections.
    let mut group: Vec<(PresenceKey, Event, String)> = Vec::new();
    let records = batch.records.iter().map(Some).chain([None]);
    for record in records {
        let next = record.and_then(|r| {
            let sequence = r.dynamodb.as_ref()?.sequence_number.clone()?;
            new_event(r).map(|(user, event)| (user, event, sequence))
        });
        if record.is_some() && next.is_none() {
            summary.skipped += 1;
            continue;
        }
        let same_user = match (&next, group.first()) {
            (Some((user, ..)), Some((first, ..))) => user == first,
            _ => false,
        };
        if !same_user && !group.is_empty() {
            let (user, _, first_sequence) = &group[0];
            let events: Vec<Event> = group.iter().map(|(_, e, _)| e.clone()).collect();
            summary.events += events.len();
            let failed = match deliver(store, sender, user, &events, now_ms).await {
                Ok(delivery) => {
                    let failed = !delivery.failed.is_empty();
                    summary.delivery.sent += delivery.sent;
                    summary.delivery.gone += delivery.gone;
                    summary.delivery.failed.extend(delivery.failed);
                    failed
                }
                Err(err) => {
                    summary
                        .delivery
                        .failed
                        .push(format!("connections of {}: {err}", user.identity));
                    true
                }
            };
            if failed {
                // Lambda retries from here: this user's events and everything after.
                response.batch_item_failures.push(ItemFailure {
                    item_identifier: first_sequence.clone(),
                });
                return (response, summary);
            }
            group.clear();
        }
        if let Some(next) = next {
            group.push(next);
        }
    }
    (response, summary)
}
