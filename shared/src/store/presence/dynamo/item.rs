//! The device item and back: what `dynamo/keys.rs` lists for a device row, and whether a row
//! (or what a write returned of it) is live or a sign-out in force.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::Capabilities;
use crate::domain::{DeviceId, Email, Label, Platform, PushProvider, PushTarget, TwilioState};
use crate::store::dynamo::codec::{Item, bad_item, caps_value, get_n, get_s, get_ss, n, s};
use crate::store::dynamo::keys::{SK, TTL_ATTRIBUTE, device};
use crate::store::{
    DeviceRecord, DeviceTtls, PresenceKey, SOCKET_LEASE_MAX_SECONDS, StoreError, callable_until,
    is_live,
};

/// The end of a row's push reach: `reachUntil`, or on a row from before it, `expiresAt`.
fn reach_until(item: &Item) -> Option<i64> {
    get_n(item, device::REACH_UNTIL).or_else(|| get_n(item, TTL_ATTRIBUTE))
}

pub(super) fn device_from_item(key: &PresenceKey, item: &Item) -> Result<DeviceRecord, StoreError> {
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
    let reach_until = reach_until(item).ok_or_else(|| bad_item(device::REACH_UNTIL))?;
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
        socket_until: get_n(item, device::SOCKET_UNTIL).unwrap_or(0),
        socket_connection: get_s(item, device::SOCKET_CONNECTION).map(str::to_owned),
        notifications: push_target(item),
    })
}

/// The device's alert registration, if its row has a whole, valid one.
fn push_target(item: &Item) -> Option<PushTarget> {
    let provider = PushProvider::parse(get_s(item, device::PUSH_PROVIDER)?).ok()?;
    PushTarget::new(provider, get_s(item, device::PUSH_TOKEN)?).ok()
}

/// Whether a stored row (or what a write returned of it) is a device still live at `now_ms`:
/// [`callable_until`], as in [`device_from_item`] and the writes' `LIVE` condition.
pub(super) fn is_live_device(item: &Item, now_ms: i64) -> bool {
    if item.contains_key(device::SIGNED_OUT_AT) {
        return false;
    }
    let Some(reach_until) = reach_until(item) else {
        return false;
    };
    let online_until = get_n(item, device::ONLINE_UNTIL).unwrap_or(reach_until);
    let state = get_s(item, device::TWILIO_STATE).and_then(|raw| TwilioState::parse(raw).ok());
    let socket_until = get_n(item, device::SOCKET_UNTIL).unwrap_or(0);
    is_live(
        callable_until(online_until, reach_until, state).max(socket_until),
        now_ms,
    )
}

/// Whether a stored row is a remote sign-out still in force at `now_ms`.
pub(super) fn is_signed_out(item: &Item, now_ms: i64) -> bool {
    item.contains_key(device::SIGNED_OUT_AT)
        && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
}

/// The attributes a register writes: everything the device reports, its expiries and the
/// row's TTL. Not its socket presence, which belongs to its connections: a register (a token
/// renewal, a tab taking over) leaves an open connection's lease as it was. Attributes the
/// record lacks are the register's to remove ([`REGISTER_REMOVES`]).
pub(super) fn device_attributes(record: &DeviceRecord) -> Item {
    let mut item = Item::new();
    let mut put = |name: &str, value: AttributeValue| {
        item.insert(name.to_owned(), value);
    };
    put(device::USER_EMAIL, s(record.user_email.as_str()));
    put(device::PLATFORM, s(record.platform.as_str()));
    put(device::CAPABILITIES, caps_value(&record.capabilities));
    put(device::LAST_SEEN, n(record.last_seen));
    put(device::ONLINE_UNTIL, n(record.online_until));
    // The push reach, whatever the state now: whether the device is callable after
    // `onlineUntil` is `twilioState`'s to say at every read, so no write has to know the
    // stored state or platform.
    let reach = record.ttls.reach_until(record.last_seen);
    put(device::REACH_UNTIL, n(reach));
    // The row outlives the reach and any socket lease a keep-alive may have set before now.
    let keep = record.last_seen.div_euclid(1000) + SOCKET_LEASE_MAX_SECONDS + 1;
    put(TTL_ATTRIBUTE, n(reach.max(keep)));
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
    if let Some(target) = &record.notifications {
        put(device::PUSH_PROVIDER, s(target.provider.as_str()));
        put(device::PUSH_TOKEN, s(&target.token));
    }
    item
}

/// What a register removes when its record lacks it: optional fields it no longer reports, and
/// a sign-out's mark (an explicit sign-in replaces the tombstone).
pub(super) const REGISTER_REMOVES: [&str; 7] = [
    device::TWILIO_STATE,
    device::LABEL,
    device::USER_AGENT,
    device::IP,
    device::PUSH_PROVIDER,
    device::PUSH_TOKEN,
    device::SIGNED_OUT_AT,
];

/// The whole row as a register leaves it (for tests and sizes): key and attributes.
#[cfg(test)]
pub(super) fn device_item(key: &PresenceKey, record: &DeviceRecord) -> Item {
    use crate::store::dynamo::{codec::keyed, keys::presence_pk};
    let mut item = keyed(presence_pk(key), record.device_id.as_str());
    item.extend(device_attributes(record));
    item
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
            socket_until: 1_800_000_750,
            socket_connection: Some("c".repeat(16)),
            notifications: None,
        };
        let mut item = device_item(&key, &device);
        item.insert(device::SOCKET_UNTIL.into(), n(device.socket_until));
        item.insert(device::SOCKET_CONNECTION.into(), s("c".repeat(16)));
        let size = item_size(&item);
        assert!(size <= 1024, "{size} bytes");
        // A phone that also takes alerts, at the longest token it may register: two units.
        let token = "t".repeat(512);
        let alerts = crate::domain::PushTarget::new(crate::domain::PushProvider::Fcm, &token);
        let with_alerts = DeviceRecord {
            notifications: Some(alerts.unwrap()),
            ..device
        };
        let mut item = device_item(&key, &with_alerts);
        item.insert(device::SOCKET_UNTIL.into(), n(with_alerts.socket_until));
        item.insert(device::SOCKET_CONNECTION.into(), s("c".repeat(16)));
        let size = item_size(&item);
        assert!(size <= 2048, "{size} bytes");
    }
}
