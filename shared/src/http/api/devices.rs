//! The device endpoints: register, heartbeat, unregister, list; and the caller's numbers.

use futures::future::try_join;
use http::StatusCode;
use serde::Serialize;

use super::body::{
    bool_field, capabilities, device_body, platform, source_ip, string_field, twilio_state,
    user_agent,
};
use super::{Answer, key};
use crate::config::PresenceSettings;
use crate::directory::AssignedPhone;
use crate::domain::{
    Caller, Capabilities, DeviceId, FieldError, Identity, Label, Platform, PushTarget,
    Reachability, UserKey, lower_hex,
};
use crate::http::{ApiError, Request, json_response};
use crate::store::{
    DeviceRecord, DeviceTtls, DirectoryStore, HeartbeatOutcome, HeartbeatUpdate, PresenceStore,
    RegisterOutcome, Registration, StoreError, Unregistration,
};
use crate::twilio::token::VoiceTokenMinter;

/// A fresh registration id: unguessable, so a stale tab cannot forge the current one.
fn new_registration_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ApiError::Internal("no randomness for a registration id".into()))?;
    Ok(lower_hex(&bytes))
}

/// The TTLs a device on `platform` gets.
fn ttls_for(settings: &PresenceSettings, platform: Platform) -> DeviceTtls {
    DeviceTtls {
        foreground: settings.ttl_for(platform),
        push: settings.push_ttl_for(platform),
    }
}

// The response bodies, serialized straight from these structs: no intermediate
// `serde_json::Value` tree to build, sort and drop on every request.

/// A device as the API shows it: as stored, and how a call reaches it now.
#[derive(Serialize)]
struct DeviceView<'a> {
    #[serde(flatten)]
    device: &'a DeviceRecord,
    reachability: Reachability,
}

impl<'a> DeviceView<'a> {
    fn at(device: &'a DeviceRecord, now_ms: i64) -> Self {
        Self {
            device,
            reachability: device.reachability(now_ms),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresenceTiming<'a> {
    ttl_seconds: u32,
    heartbeat_interval_seconds: u32,
    /// Where to send heartbeats, when not to this API's own path (`HEARTBEAT_URL`).
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_url: Option<&'a str>,
    /// Socket presence: while the realtime connection is open, ping it every
    /// `keepAliveSeconds` instead of heartbeating; heartbeat again once it has been down
    /// longer than `graceSeconds`.
    socket: SocketTiming,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SocketTiming {
    keep_alive_seconds: u32,
    grace_seconds: u32,
}

impl<'a> PresenceTiming<'a> {
    fn for_ttl(ttl_seconds: u32, settings: &'a PresenceSettings) -> Self {
        Self {
            ttl_seconds,
            heartbeat_interval_seconds: PresenceSettings::heartbeat_interval_for(ttl_seconds),
            heartbeat_url: settings.heartbeat_url.as_deref(),
            socket: SocketTiming {
                keep_alive_seconds: settings.socket.keep_alive_seconds,
                grace_seconds: settings.socket.grace_seconds,
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisterResponse<'a> {
    identity: &'a Identity,
    token: &'a str,
    expires_in: u32,
    assigned_phones: &'a [AssignedPhone],
    device: DeviceView<'a>,
    presence: PresenceTiming<'a>,
    evicted_device_ids: &'a [DeviceId],
    registration_id: &'a str,
}

#[derive(Serialize)]
struct HeartbeatResponse<'a> {
    device: DeviceView<'a>,
    presence: PresenceTiming<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnregisterResponse<'a> {
    device_id: &'a DeviceId,
    removed: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DevicesResponse<'a> {
    identity: &'a Identity,
    devices: Vec<DeviceView<'a>>,
    on_call: bool,
    on_call_since: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserPhonesResponse<'a> {
    assigned_phones: &'a [AssignedPhone],
}

pub async fn register_device(
    presence: &dyn PresenceStore,
    directory: &dyn DirectoryStore,
    settings: &PresenceSettings,
    now_ms: i64,
    minter: &VoiceTokenMinter,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let (body, device_id) = device_body(request)?;
    let platform = platform(&body)?.ok_or_else(|| {
        FieldError::new("platform", "is required (\"web\", \"ios\" or \"android\")")
    })?;
    let label = string_field(&body, "label")?
        .map(Label::parse)
        .transpose()?;
    let capabilities = capabilities(&body)?.unwrap_or_else(Capabilities::voice_only);
    let twilio_state = twilio_state(&body)?;
    let sign_in = bool_field(&body, "signIn")?;
    let notifications = PushTarget::from_body(&body, platform)?;
    let ttls = ttls_for(settings, platform);
    let registration = Registration {
        key: key(caller),
        device_id,
        user_email: caller.email.clone(),
        platform,
        label,
        capabilities,
        user_agent: user_agent(request),
        ip: source_ip(request),
        now_ms,
        ttls,
        max_live: settings.max_devices_per_identity,
        twilio_state,
        registration_id: new_registration_id()?,
        sign_in,
        notifications,
    };
    // Independent reads and writes go out together: one round trip of latency, not two.
    let (outcome, assigned_phones) = try_join(
        presence.register(registration),
        assigned_phones(directory, caller),
    )
    .await?;
    let registered = match outcome {
        RegisterOutcome::Registered(registered) => registered,
        RegisterOutcome::SignedOut => return Err(ApiError::DeviceSignedOut),
    };
    let token = minter
        .mint(&caller.identity, platform, now_ms.div_euclid(1000))
        .map_err(ApiError::Internal)?;
    let body = RegisterResponse {
        identity: &caller.identity,
        token: &token,
        expires_in: minter.ttl_seconds(),
        assigned_phones: &assigned_phones,
        device: DeviceView::at(&registered.device, now_ms),
        presence: PresenceTiming::for_ttl(ttls.foreground, settings),
        evicted_device_ids: &registered.evicted,
        registration_id: &registered.device.registration_id,
    };
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn heartbeat(
    presence: &dyn PresenceStore,
    settings: &PresenceSettings,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let (body, device_id) = device_body(request)?;
    let platform = platform(&body)?;
    let update = HeartbeatUpdate {
        now_ms,
        platform: platform.map(|p| (p, ttls_for(settings, p))),
        capabilities: capabilities(&body)?,
        user_agent: user_agent(request),
        ip: source_ip(request),
        twilio_state: twilio_state(&body)?,
    };
    let device = match presence.heartbeat(&key(caller), &device_id, update).await? {
        HeartbeatOutcome::Live(device) => device,
        HeartbeatOutcome::NotRegistered => return Err(ApiError::DeviceNotRegistered),
        HeartbeatOutcome::SignedOut => return Err(ApiError::DeviceSignedOut),
    };
    let body = HeartbeatResponse {
        device: DeviceView::at(&device, now_ms),
        presence: PresenceTiming::for_ttl(device.ttls.foreground, settings),
    };
    Ok(json_response(StatusCode::OK, &body))
}

pub async fn unregister_device(
    presence: &dyn PresenceStore,
    settings: &PresenceSettings,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let (body, device_id) = device_body(request)?;
    let registration_id = string_field(&body, "registrationId")?
        .map(|id| {
            if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Err(FieldError::new(
                    "registrationId",
                    "must be the registrationId that register-device returned",
                ))
            } else {
                Ok(id.to_owned())
            }
        })
        .transpose()?;
    let signed_out_until = bool_field(&body, "signOut")?
        .then(|| now_ms.div_euclid(1000) + i64::from(settings.signed_out_ttl_seconds));
    let how = Unregistration {
        now_ms,
        registration_id,
        signed_out_until,
    };
    let removed = presence.unregister(&key(caller), &device_id, how).await?;
    Ok(json_response(
        StatusCode::OK,
        &UnregisterResponse {
            device_id: &device_id,
            removed,
        },
    ))
}

pub async fn list_devices(
    presence: &dyn PresenceStore,
    now_ms: i64,
    caller: &Caller,
    _request: &Request,
) -> Answer {
    let presence = presence.presence(&key(caller), now_ms).await?;
    let on_call_since = presence.on_call_since();
    Ok(json_response(
        StatusCode::OK,
        &DevicesResponse {
            identity: &caller.identity,
            devices: presence
                .devices
                .iter()
                .map(|d| DeviceView::at(d, now_ms))
                .collect(),
            on_call: on_call_since.is_some(),
            on_call_since,
        },
    ))
}

pub async fn user_phones(
    directory: &dyn DirectoryStore,
    caller: &Caller,
    _request: &Request,
) -> Answer {
    let assigned_phones = assigned_phones(directory, caller).await?;
    Ok(json_response(
        StatusCode::OK,
        &UserPhonesResponse {
            assigned_phones: &assigned_phones,
        },
    ))
}

/// The caller's numbers, from their directory profile: one small item (the import writes it
/// with the numbers already worked out), not the whole org's directory. A user the directory
/// does not know, or knows in another org than the token says, has none.
async fn assigned_phones(
    directory: &dyn DirectoryStore,
    caller: &Caller,
) -> Result<Vec<AssignedPhone>, StoreError> {
    let profile = directory
        .user(&UserKey::for_identity(&caller.identity))
        .await?;
    Ok(profile
        .filter(|p| p.org_id == caller.org)
        .map(|p| p.assigned_phones)
        .unwrap_or_default())
}
