//! The five app endpoints (design §API).

use futures::future::try_join;
use http::{StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{ApiError, Request, RequestMeta, Response, Route, RouteKey, json_response};
use crate::app::App;
use crate::config::PresenceSettings;
use crate::directory::AssignedPhone;
use crate::domain::{
    Caller, Capabilities, DeviceId, FieldError, Identity, Label, Platform, TwilioState, UserKey,
    lower_hex,
};
use crate::store::{
    DeviceRecord, HeartbeatOutcome, HeartbeatUpdate, PresenceKey, RegisterOutcome, Registration,
    StoreError, Unregistration,
};

/// Stored user agents are cut to this many characters to keep each device item under 1 KB.
const MAX_USER_AGENT_CHARS: usize = 160;

/// `route` is a [`RouteKey`]: a compile-time marker in the function binaries, so this match
/// keeps one arm there, or a runtime [`Route`] in the local server.
pub(super) async fn dispatch(
    app: &App,
    route: impl RouteKey,
    request: &Request,
) -> Result<Response, ApiError> {
    let caller = authenticate(app, request)?;
    match route.route() {
        Route::RegisterDevice => register_device(app, &caller, request).await,
        Route::Heartbeat => heartbeat(app, &caller, request).await,
        Route::UnregisterDevice => unregister_device(app, &caller, request).await,
        Route::ListDevices => list_devices(app, &caller).await,
        Route::UserPhones => user_phones(app, &caller).await,
        Route::VoiceIncoming
        | Route::DialStatus
        | Route::VoiceOutgoing
        | Route::CallStatus
        | Route::VoiceFallback => Err(ApiError::NotFound("not an app endpoint".into())),
    }
}

fn authenticate(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let auth = app
        .auth
        .as_ref()
        .ok_or_else(|| ApiError::Internal("app authentication is not configured".into()))?;
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        // UTF-8 rather than `to_str`'s visible-ASCII check: the same verdict for any token
        // (the verifier refuses what is not base64url), a word at a time instead of a byte
        // (4 % of a heartbeat).
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
    let claims = request
        .extensions()
        .get::<RequestMeta>()
        .and_then(|m| m.gateway_claims.as_ref());
    Ok(auth.authenticate(header, claims)?)
}

fn key(caller: &Caller) -> PresenceKey {
    PresenceKey {
        org: caller.org.clone(),
        identity: caller.identity.clone(),
    }
}

/// The JSON object in the body; anything else is a 400 that says what was expected.
fn body_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    if request.body().is_empty() {
        return Err(ApiError::MalformedBody(
            "request body must be a JSON object".into(),
        ));
    }
    match serde_json::from_slice::<Value>(request.body()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::MalformedBody(
            "request body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::MalformedBody(format!(
            "request body is not valid JSON: {e}"
        ))),
    }
}

fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, FieldError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(name, "must be a string")),
    }
}

fn device_id(body: &Map<String, Value>) -> Result<DeviceId, FieldError> {
    let raw = string_field(body, "deviceId")?
        .ok_or_else(|| FieldError::new("deviceId", "is required"))?;
    DeviceId::parse(raw)
}

fn bool_field(body: &Map<String, Value>, name: &str) -> Result<bool, FieldError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FieldError::new(name, "must be true or false")),
    }
}

fn twilio_state(body: &Map<String, Value>) -> Result<Option<TwilioState>, FieldError> {
    string_field(body, "twilioState")?
        .map(TwilioState::parse)
        .transpose()
}

/// A fresh registration id: unguessable, so a stale tab cannot forge the current one.
fn new_registration_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ApiError::Internal("no randomness for a registration id".into()))?;
    Ok(lower_hex(&bytes))
}

fn platform(body: &Map<String, Value>) -> Result<Option<Platform>, FieldError> {
    string_field(body, "platform")?
        .map(Platform::parse)
        .transpose()
}

fn capabilities(body: &Map<String, Value>) -> Result<Option<Capabilities>, FieldError> {
    match body.get("capabilities") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let names = items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| FieldError::new("capabilities", "items must be strings"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Capabilities::parse(&names).map(Some)
        }
        Some(_) => Err(FieldError::new(
            "capabilities",
            "must be an array such as [\"voice\", \"sms\"]",
        )),
    }
}

fn user_agent(request: &Request) -> Option<String> {
    let raw = request.headers().get(header::USER_AGENT)?.to_str().ok()?;
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

fn source_ip(request: &Request) -> Option<String> {
    request.extensions().get::<RequestMeta>()?.source_ip.clone()
}

// The response bodies, serialized straight from these structs: no intermediate
// `serde_json::Value` tree to build, sort and drop on every request.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PresenceTiming {
    ttl_seconds: u32,
    heartbeat_interval_seconds: u32,
}

impl PresenceTiming {
    fn for_ttl(ttl_seconds: u32) -> Self {
        Self {
            ttl_seconds,
            heartbeat_interval_seconds: PresenceSettings::heartbeat_interval_for(ttl_seconds),
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
    device: &'a DeviceRecord,
    presence: PresenceTiming,
    evicted_device_ids: &'a [DeviceId],
    registration_id: &'a str,
}

#[derive(Serialize)]
struct HeartbeatResponse<'a> {
    device: &'a DeviceRecord,
    presence: PresenceTiming,
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
    devices: &'a [DeviceRecord],
    on_call: bool,
    on_call_since: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserPhonesResponse<'a> {
    assigned_phones: &'a [AssignedPhone],
}

async fn register_device(
    app: &App,
    caller: &Caller,
    request: &Request,
) -> Result<Response, ApiError> {
    let body = body_object(request)?;
    let device_id = device_id(&body)?;
    let platform = platform(&body)?.ok_or_else(|| {
        FieldError::new("platform", "is required (\"web\", \"ios\" or \"android\")")
    })?;
    let label = string_field(&body, "label")?
        .map(Label::parse)
        .transpose()?;
    let capabilities = capabilities(&body)?.unwrap_or_else(Capabilities::voice_only);
    let twilio_state = twilio_state(&body)?;
    let sign_in = bool_field(&body, "signIn")?;
    let minter = app
        .voice_tokens
        .as_ref()
        .ok_or_else(|| ApiError::Internal("voice tokens are not configured".into()))?;

    let now_ms = app.now_ms();
    let ttl_seconds = app.settings.ttl_for(platform);
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
        ttl_seconds,
        max_live: app.settings.max_devices_per_identity,
        twilio_state,
        registration_id: new_registration_id()?,
        sign_in,
    };
    // Independent reads and writes go out together: one round trip of latency, not two.
    let (outcome, assigned_phones) = try_join(
        app.presence.register(registration),
        assigned_phones(app, caller),
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
        device: &registered.device,
        presence: PresenceTiming::for_ttl(ttl_seconds),
        evicted_device_ids: &registered.evicted,
        registration_id: &registered.device.registration_id,
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn heartbeat(app: &App, caller: &Caller, request: &Request) -> Result<Response, ApiError> {
    let body = body_object(request)?;
    let device_id = device_id(&body)?;
    let platform = platform(&body)?;
    let update = HeartbeatUpdate {
        now_ms: app.now_ms(),
        platform: platform.map(|p| (p, app.settings.ttl_for(p))),
        capabilities: capabilities(&body)?,
        user_agent: user_agent(request),
        ip: source_ip(request),
        twilio_state: twilio_state(&body)?,
    };
    let device = match app
        .presence
        .heartbeat(&key(caller), &device_id, update)
        .await?
    {
        HeartbeatOutcome::Live(device) => device,
        HeartbeatOutcome::NotRegistered => return Err(ApiError::DeviceNotRegistered),
        HeartbeatOutcome::SignedOut => return Err(ApiError::DeviceSignedOut),
    };
    let body = HeartbeatResponse {
        device: &device,
        presence: PresenceTiming::for_ttl(device.ttl_seconds),
    };
    Ok(json_response(StatusCode::OK, &body))
}

async fn unregister_device(
    app: &App,
    caller: &Caller,
    request: &Request,
) -> Result<Response, ApiError> {
    let body = body_object(request)?;
    let device_id = device_id(&body)?;
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
    let now_ms = app.now_ms();
    let signed_out_until = bool_field(&body, "signOut")?
        .then(|| now_ms.div_euclid(1000) + i64::from(app.settings.signed_out_ttl_seconds));
    let how = Unregistration {
        now_ms,
        registration_id,
        signed_out_until,
    };
    let removed = app
        .presence
        .unregister(&key(caller), &device_id, how)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &UnregisterResponse {
            device_id: &device_id,
            removed,
        },
    ))
}

async fn list_devices(app: &App, caller: &Caller) -> Result<Response, ApiError> {
    let presence = app.presence.presence(&key(caller), app.now_ms()).await?;
    let on_call_since = presence.on_call_since();
    Ok(json_response(
        StatusCode::OK,
        &DevicesResponse {
            identity: &caller.identity,
            devices: &presence.devices,
            on_call: on_call_since.is_some(),
            on_call_since,
        },
    ))
}

async fn user_phones(app: &App, caller: &Caller) -> Result<Response, ApiError> {
    let assigned_phones = assigned_phones(app, caller).await?;
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
async fn assigned_phones(app: &App, caller: &Caller) -> Result<Vec<AssignedPhone>, StoreError> {
    let profile = app
        .directory
        .user(&UserKey::for_email(&caller.email))
        .await?;
    Ok(profile
        .filter(|p| p.org_id == caller.org)
        .map(|p| p.assigned_phones)
        .unwrap_or_default())
}
