//! The table's stream, read as events: Lambda delivers a batch of stream records in
//! DynamoDB's JSON; a record that inserted an item of a user's event log is that user's event,
//! anything else (another item, a modify or a remove, a malformed image) is none. Only the
//! events store knows which items are events and how they are stored, so the realtime
//! function receives [`StreamEvent`]s, never items or keys.
//!
//! The batch's types are written here, for the few fields read, rather than taken from
//! `aws_lambda_events`: its `dynamodb` feature brings `serde_dynamo` (a second attribute-value
//! type beside the SDK's, which every item decoder here reads) and `chrono`, neither of which
//! the workspace otherwise builds.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;
use serde_json::Value;

use super::dynamo::event_from_item;
use crate::events::Event;
use crate::store::PresenceKey;
use crate::store::dynamo::codec::{Item, get_s};
use crate::store::dynamo::keys::{EVENT_SK_PREFIX, PK, SK, presence_key_of};

/// The DynamoDB stream event Lambda delivers (only what is read of it).
#[derive(Debug, Default, Deserialize)]
pub struct StreamBatch {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    event_name: Option<String>,
    #[serde(default)]
    dynamodb: Option<StreamChange>,
}

#[derive(Debug, Deserialize)]
struct StreamChange {
    #[serde(rename = "NewImage", default)]
    new_image: Option<HashMap<String, Value>>,
    #[serde(rename = "SequenceNumber", default)]
    sequence_number: Option<String>,
}

/// An event a stream record inserted into a user's log.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvent {
    pub user: PresenceKey,
    pub event: Event,
    /// The record's sequence number: what Lambda retries the batch from.
    pub sequence: String,
}

impl StreamRecord {
    /// The event this record inserted, and whose it is; `None` for anything else.
    pub fn event(&self) -> Option<StreamEvent> {
        if self.event_name.as_deref() != Some("INSERT") {
            return None;
        }
        let change = self.dynamodb.as_ref()?;
        let item = item_from_image(change.new_image.as_ref()?);
        if !get_s(&item, SK)?.starts_with(EVENT_SK_PREFIX) {
            return None;
        }
        Some(StreamEvent {
            user: presence_key_of(get_s(&item, PK)?)?,
            event: event_from_item(&item).ok()?,
            sequence: change.sequence_number.clone()?,
        })
    }
}

/// A stream image in DynamoDB's JSON (`{"S": "…"}`, `{"N": "…"}`, …) as the SDK's item.
fn item_from_image(image: &HashMap<String, Value>) -> Item {
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
