//! The event and connection items and back (what `dynamo/keys.rs` lists for them).

use crate::domain::{Capabilities, DeviceId};
use crate::events::{Cursor, Event, EventKind};
use crate::store::dynamo::codec::{Item, bad_item, caps_value, get_n, get_s, get_ss, keyed, n, s};
use crate::store::dynamo::keys::{
    self, CONNECTION_SK_PREFIX, EVENT_SK_PREFIX, SK, TTL_ATTRIBUTE, device, event, presence_pk,
    state,
};
use crate::store::{Connection, PresenceKey, StoreError};

/// An event of the user's log, expiring `retention_seconds` after it happened.
pub(in crate::store) fn event_item(
    key: &PresenceKey,
    event: &Event,
    retention_seconds: u32,
) -> Item {
    let mut item = keyed(presence_pk(key), keys::event_sk(&event.cursor));
    item.insert(event::TYPE.to_owned(), s(event.kind.as_str()));
    item.insert(event::AT.to_owned(), n(event.at));
    item.insert(event::DATA.to_owned(), s(event.data.to_string()));
    let expires_at = event.at.div_euclid(1000) + i64::from(retention_seconds);
    item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
    item
}

pub(in crate::store) fn event_from_item(item: &Item) -> Result<Event, StoreError> {
    let cursor = get_s(item, SK)
        .and_then(|sk| sk.strip_prefix(EVENT_SK_PREFIX))
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

pub(in crate::store) fn connection_item(key: &PresenceKey, connection: &Connection) -> Item {
    let mut item = keyed(presence_pk(key), keys::connection_sk(&connection.id));
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

pub(in crate::store) fn connection_from_item(item: &Item) -> Result<Connection, StoreError> {
    let id = get_s(item, SK)
        .and_then(|sk| sk.strip_prefix(CONNECTION_SK_PREFIX))
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
