//! Items to records and back: the device, call and document items of `keys.rs`, and the
//! small helpers every query uses to read attributes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::keys::{self, PK, SK, TTL_ATTRIBUTE, device, doc, event, state};
use crate::domain::{Capabilities, DeviceId, Email, Label, Platform, TwilioState};
use crate::events::{Cursor, Event, EventKind};
use crate::store::{
    Connection, DeviceRecord, DeviceTtls, PresenceKey, StoreError, callable_until, is_live,
};

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

pub fn device_from_item(key: &PresenceKey, item: &Item) -> Result<DeviceRecord, StoreError> {
    let device_id = get_s(item, SK)
        .and_then(|raw| DeviceId::parse(raw).ok())
        .ok_or_else(|| bad_item(SK))?;
    let caps = get_ss(item, device::CAPABILITIES);
    let foreground = get_n(item, device::TTL_SECONDS)
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| bad_item(device::TTL_SECONDS))?;
    let push = get_n(item, device::PUSH_TTL_SECONDS)
        .and_then(|t| u32::try_from(t).ok())
        .unwrap_or(foreground);
    let twilio_state =
        get_s(item, device::TWILIO_STATE).and_then(|raw| TwilioState::parse(raw).ok());
    let reach_until = get_n(item, TTL_ATTRIBUTE).ok_or_else(|| bad_item(TTL_ATTRIBUTE))?;
    let online_until = get_n(item, device::ONLINE_UNTIL).unwrap_or(reach_until);
    Ok(DeviceRecord {
        device_id,
        identity: key.identity.clone(),
        user_email: get_s(item, device::USER_EMAIL)
            .and_then(|raw| Email::parse_field(raw, device::USER_EMAIL).ok())
            .ok_or_else(|| bad_item(device::USER_EMAIL))?,
        platform: get_s(item, device::PLATFORM)
            .and_then(|raw| Platform::parse(raw).ok())
            .ok_or_else(|| bad_item(device::PLATFORM))?,
        label: get_s(item, device::LABEL).and_then(|raw| Label::parse(raw).ok()),
        capabilities: Capabilities::parse(&caps).map_err(|_| bad_item(device::CAPABILITIES))?,
        user_agent: get_s(item, device::USER_AGENT).map(str::to_owned),
        ip: get_s(item, device::IP).map(str::to_owned),
        last_seen: get_n(item, device::LAST_SEEN).ok_or_else(|| bad_item(device::LAST_SEEN))?,
        expires_at: callable_until(online_until, reach_until, twilio_state),
        online_until,
        ttls: DeviceTtls { foreground, push },
        twilio_state,
        registration_id: get_s(item, device::REGISTRATION_ID)
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Whether a stored row (or what a write returned of it) is a device still live at `now_ms`:
/// [`callable_until`], as in [`device_from_item`] and the writes' `LIVE` condition.
pub fn is_live_device(item: &Item, now_ms: i64) -> bool {
    if item.contains_key(device::SIGNED_OUT_AT) {
        return false;
    }
    let Some(reach_until) = get_n(item, TTL_ATTRIBUTE) else {
        return false;
    };
    let online_until = get_n(item, device::ONLINE_UNTIL).unwrap_or(reach_until);
    let state = get_s(item, device::TWILIO_STATE).and_then(|raw| TwilioState::parse(raw).ok());
    is_live(callable_until(online_until, reach_until, state), now_ms)
}

/// Whether a stored row is a remote sign-out still in force at `now_ms`.
pub fn is_signed_out(item: &Item, now_ms: i64) -> bool {
    item.contains_key(device::SIGNED_OUT_AT)
        && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
}

pub fn device_item(key: &PresenceKey, record: &DeviceRecord) -> Item {
    let mut item = keyed(keys::presence_pk(key), record.device_id.as_str());
    let mut put = |name: &str, value: AttributeValue| {
        item.insert(name.to_owned(), value);
    };
    put(device::USER_EMAIL, s(record.user_email.as_str()));
    put(device::PLATFORM, s(record.platform.as_str()));
    put(device::CAPABILITIES, caps_value(&record.capabilities));
    put(device::LAST_SEEN, n(record.last_seen));
    put(device::ONLINE_UNTIL, n(record.online_until));
    // The row lasts as long as a push registration could keep the device callable, whatever
    // its state now: whether it is callable after `onlineUntil` is `twilioState`'s to say at
    // every read, so no write has to know the stored state or platform to set the TTL.
    put(TTL_ATTRIBUTE, n(record.ttls.reach_until(record.last_seen)));
    put(device::TTL_SECONDS, n(record.ttls.foreground));
    put(device::PUSH_TTL_SECONDS, n(record.ttls.push));
    put(device::REGISTRATION_ID, s(&record.registration_id));
    if let Some(state) = record.twilio_state {
        put(device::TWILIO_STATE, s(state.as_str()));
    }
    if let Some(label) = record.label.as_ref().filter(|l| !l.as_str().is_empty()) {
        put(device::LABEL, s(label.as_str()));
    }
    if let Some(ua) = &record.user_agent {
        put(device::USER_AGENT, s(ua));
    }
    if let Some(ip) = &record.ip {
        put(device::IP, s(ip));
    }
    item
}

pub fn caps_value(caps: &Capabilities) -> AttributeValue {
    AttributeValue::Ss(caps.iter().map(|c| c.as_str().to_owned()).collect())
}

/// A directory record: its JSON document and its place in the file.
pub fn doc_item(pk: String, sk: String, json: String, pos: usize) -> Item {
    let mut item = keyed(pk, sk);
    item.insert(doc::DOC.to_owned(), s(json));
    item.insert(doc::POS.to_owned(), n(pos));
    item
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("serialize: {e}")))
}

pub fn from_doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let json = get_s(item, doc::DOC).ok_or_else(|| bad_item(doc::DOC))?;
    serde_json::from_str(json).map_err(|e| bad_item(&format!("{}: {e}", doc::DOC)))
}

/// An event of the user's log, expiring `retention_seconds` after it happened.
pub fn event_item(key: &PresenceKey, event: &Event, retention_seconds: u32) -> Item {
    let mut item = keyed(keys::presence_pk(key), keys::event_sk(&event.cursor));
    item.insert(event::TYPE.to_owned(), s(event.kind.as_str()));
    item.insert(event::AT.to_owned(), n(event.at));
    item.insert(event::DATA.to_owned(), s(event.data.to_string()));
    let expires_at = event.at.div_euclid(1000) + i64::from(retention_seconds);
    item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
    item
}

pub fn event_from_item(item: &Item) -> Result<Event, StoreError> {
    let cursor = get_s(item, SK)
        .and_then(|sk| sk.strip_prefix(keys::EVENT_SK_PREFIX))
        .and_then(Cursor::parse)
        .ok_or_else(|| bad_item(SK))?;
    let kind = get_s(item, event::TYPE)
        .and_then(EventKind::parse)
        .ok_or_else(|| bad_item(event::TYPE))?;
    let data = get_s(item, event::DATA)
        .and_then(|raw| serde_json::from_str(raw).ok())
        .ok_or_else(|| bad_item(event::DATA))?;
    Ok(Event {
        cursor,
        kind,
        at: get_n(item, event::AT).ok_or_else(|| bad_item(event::AT))?,
        data,
    })
}

pub fn connection_item(key: &PresenceKey, connection: &Connection) -> Item {
    let mut item = keyed(keys::presence_pk(key), keys::connection_sk(&connection.id));
    item.insert(
        state::DEVICE_ID.to_owned(),
        s(connection.device_id.as_str()),
    );
    item.insert(
        device::CAPABILITIES.to_owned(),
        caps_value(&connection.capabilities),
    );
    item.insert(TTL_ATTRIBUTE.to_owned(), n(connection.expires_at));
    item
}

pub fn connection_from_item(item: &Item) -> Result<Connection, StoreError> {
    let id = get_s(item, SK)
        .and_then(|sk| sk.strip_prefix(keys::CONNECTION_SK_PREFIX))
        .ok_or_else(|| bad_item(SK))?;
    let caps = get_ss(item, device::CAPABILITIES);
    Ok(Connection {
        id: id.to_owned(),
        device_id: get_s(item, state::DEVICE_ID)
            .and_then(|raw| DeviceId::parse(raw).ok())
            .ok_or_else(|| bad_item(state::DEVICE_ID))?,
        capabilities: Capabilities::parse(&caps).map_err(|_| bad_item(device::CAPABILITIES))?,
        expires_at: get_n(item, TTL_ATTRIBUTE).ok_or_else(|| bad_item(TTL_ATTRIBUTE))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Identity, IdentityStyle, OrgId};

    /// DynamoDB's item size: attribute names plus values (numbers counted generously).
    fn item_size(item: &Item) -> usize {
        item.iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                        AttributeValue::Ss(set) => set.iter().map(|s| s.len() + 1).sum(),
                        _ => 8,
                    }
            })
            .sum()
    }

    #[test]
    fn a_device_item_at_its_largest_stays_within_one_write_unit() {
        // Every bounded field at its maximum; a long (100-character) email.
        let email = Email::parse_field(&format!("{}@example.com", "e".repeat(88)), "e").unwrap();
        let org = OrgId::parse_field(&"o".repeat(64), "o").unwrap();
        let key = PresenceKey {
            identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
            org,
        };
        let device = DeviceRecord {
            device_id: DeviceId::parse(&"d".repeat(128)).unwrap(),
            identity: key.identity.clone(),
            user_email: email,
            platform: Platform::Android,
            label: Some(Label::parse(&"l".repeat(64)).unwrap()),
            capabilities: Capabilities::parse(&["voice", "sms"]).unwrap(),
            user_agent: Some("u".repeat(160)),
            ip: Some("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".into()),
            last_seen: 1_800_000_000_000,
            expires_at: 1_831_622_400,
            online_until: 1_800_086_400,
            twilio_state: Some(TwilioState::Registered),
            ttls: DeviceTtls {
                foreground: 86_400,
                push: 31_622_400,
            },
            registration_id: "f".repeat(24),
        };
        let size = item_size(&device_item(&key, &device));
        assert!(size <= 1024, "{size} bytes");
    }
}
