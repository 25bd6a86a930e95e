//! The small helpers every item read and write uses: attribute values, reading them back,
//! a key, a malformed item's error. Each store's items and records are its own (next to its
//! operations, e.g. `store/presence/dynamo/item.rs`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::{PK, SK};
use crate::domain::Capabilities;
use crate::store::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A string set's members; none when the attribute is absent (DynamoDB stores no empty set).
pub fn get_ss<'a>(item: &'a Item, name: &str) -> Vec<&'a str> {
    item.get(name)
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

pub fn bad_item(what: &str) -> StoreError {
    StoreError::Internal(format!("malformed stored item: {what}"))
}

/// An item with its key set, to which attributes are added.
pub fn keyed(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

pub fn caps_value(caps: &Capabilities) -> AttributeValue {
    AttributeValue::Ss(caps.iter().map(|c| c.as_str().to_owned()).collect())
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("serialize: {e}")))
}
