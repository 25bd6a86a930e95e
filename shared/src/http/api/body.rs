//! Reading an app request: its JSON body (every bad field named), and what the transport
//! knows of the client (user agent, address).

use http::header;
use serde_json::{Map, Value};

use crate::domain::{Capabilities, DeviceId, FieldError, Platform, TwilioState};
use crate::http::{ApiError, Request, RequestMeta};

/// Stored user agents are cut to this many characters to keep each device item under 1 KB.
const MAX_USER_AGENT_CHARS: usize = 160;

/// The JSON object in the body; anything else is a 400 that says what was expected.
pub fn body_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
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

pub fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, FieldError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(name, "must be a string")),
    }
}

pub fn device_id(body: &Map<String, Value>) -> Result<DeviceId, FieldError> {
    let raw = string_field(body, "deviceId")?
        .ok_or_else(|| FieldError::new("deviceId", "is required"))?;
    DeviceId::parse(raw)
}

/// The body of a request about one device: the JSON object and its `deviceId`.
pub fn device_body(request: &Request) -> Result<(Map<String, Value>, DeviceId), ApiError> {
    let body = body_object(request)?;
    let device_id = device_id(&body)?;
    Ok((body, device_id))
}

pub fn bool_field(body: &Map<String, Value>, name: &str) -> Result<bool, FieldError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(FieldError::new(name, "must be true or false")),
    }
}

pub fn twilio_state(body: &Map<String, Value>) -> Result<Option<TwilioState>, FieldError> {
    string_field(body, "twilioState")?
        .map(TwilioState::parse)
        .transpose()
}

pub fn platform(body: &Map<String, Value>) -> Result<Option<Platform>, FieldError> {
    string_field(body, "platform")?
        .map(Platform::parse)
        .transpose()
}

pub fn capabilities(body: &Map<String, Value>) -> Result<Option<Capabilities>, FieldError> {
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

pub fn user_agent(request: &Request) -> Option<String> {
    let raw = request.headers().get(header::USER_AGENT)?.to_str().ok()?;
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

pub fn source_ip(request: &Request) -> Option<String> {
    request.extensions().get::<RequestMeta>()?.source_ip.clone()
}
