//! Twilio's voice webhooks. The signature is checked before anything else runs; after that,
//! every outcome is `200 text/xml` TwiML, because Twilio plays an application error to the
//! caller on anything else.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde_json::json;
use tokio::time::Instant;

use super::{LogNote, Request, RequestMeta, Response, Route, json_response};
use crate::app::App;
use crate::config::WebhookConfig;
use crate::routing::{self, CallParams, Callbacks, Decision};
use crate::twilio::signature::SignatureKey;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

pub(super) async fn dispatch(app: &App, route: Route, request: &Request) -> Response {
    let started = Instant::now();
    let (Some(config), Some(key)) = (app.webhooks.as_ref(), app.webhook_key.as_ref()) else {
        // A deployment mistake, but the caller still hears something sensible.
        let decision = Decision {
            twiml: routing::fallback(None, &callbacks(&public_url(request, None))),
            outcome: "fallback",
            reason: Some("webhooks are not configured (TWILIO_AUTH_TOKEN)".into()),
            degraded: true,
            skipped_busy: 0,
        };
        return twiml_response(decision, None);
    };
    let url = public_url(request, config.public_base_url.as_deref());
    let form = match verify(config, key, request, &url) {
        Ok(params) => params,
        Err(rejection) => return rejection,
    };
    let call = CallParams {
        form,
        query: form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
    };
    if route == Route::VoiceOutgoing
        && let Err(rejection) = check_application(config, &call)
    {
        return rejection;
    }
    let call_sid = call.get("CallSid").map(str::to_owned);
    let callbacks = callbacks(&url);
    let deadline = started + config.deadline;
    let decision = match route {
        Route::DialStatus => routing::dial_status(app, &call, &callbacks, deadline).await,
        Route::VoiceOutgoing => routing::outgoing(app, &call, &callbacks, deadline).await,
        Route::CallStatus => routing::call_status(app, &call, deadline).await,
        Route::VoiceFallback => routing::primary_failed(app, &call, &callbacks),
        _ => routing::incoming(app, &call, &callbacks, deadline).await,
    };
    twiml_response(decision, call_sid)
}

/// The outgoing webhook serves only this service's TwiML App: a token minted for another app
/// (or a misconfigured URL) is refused like a bad signature.
#[allow(clippy::result_large_err)]
fn check_application(config: &WebhookConfig, call: &CallParams) -> Result<(), Response> {
    let expected = config.twiml_app_sid.as_deref();
    match (expected, call.get("ApplicationSid")) {
        (Some(expected), Some(got)) if expected == got => Ok(()),
        (None, _) => Err(reject(
            StatusCode::FORBIDDEN,
            "wrong_application",
            "outgoing calls are not configured (TWILIO_TWIML_APP_SID)",
        )),
        _ => Err(reject(
            StatusCode::FORBIDDEN,
            "wrong_application",
            "ApplicationSid is not this service's TwiML App",
        )),
    }
}

fn twiml_response(decision: Decision, call_sid: Option<String>) -> Response {
    let mut response = Response::new(Bytes::from(decision.twiml.render()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response.extensions_mut().insert(LogNote {
        outcome: Some(decision.outcome),
        cause: decision.reason,
        call_sid,
        skipped_busy: (decision.skipped_busy > 0).then_some(decision.skipped_busy),
        warn: decision.degraded,
    });
    response
}

fn reject(status: StatusCode, code: &'static str, message: &str) -> Response {
    let mut response = json_response(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    );
    // Rejections mean a misconfigured URL or token, or someone who is not Twilio.
    response.extensions_mut().insert(LogNote {
        outcome: Some(code),
        warn: true,
        ..LogNote::default()
    });
    response
}

/// Check the signature (and the account) and return the request's parameters.
#[allow(clippy::result_large_err)]
fn verify(
    config: &WebhookConfig,
    key: &SignatureKey,
    request: &Request,
    url: &str,
) -> Result<Vec<(String, String)>, Response> {
    let Some(signature) = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            "missing_signature",
            "X-Twilio-Signature header is required",
        ));
    };
    let query_params = || -> Vec<(String, String)> {
        form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    };
    let (valid, params) = if request.method() == Method::GET {
        (key.is_valid(url, &[], signature), query_params())
    } else if url.contains("bodySHA256=") {
        let valid = key.is_valid_json(url, request.body(), signature);
        (valid, query_params())
    } else {
        let form: Vec<(String, String)> = form_urlencoded::parse(request.body())
            .into_owned()
            .collect();
        (key.is_valid(url, &form, signature), form)
    };
    if !valid {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "invalid_signature",
            "X-Twilio-Signature does not match this request",
        ));
    }
    let account = params
        .iter()
        .find(|(k, _)| k == "AccountSid")
        .map(|(_, v)| v.as_str());
    if account != Some(config.account_sid.as_str()) {
        return Err(reject(
            StatusCode::FORBIDDEN,
            "wrong_account",
            "AccountSid is not this service's Twilio account",
        ));
    }
    Ok(params)
}

fn first_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    value
        .split(',')
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The URL Twilio called, rebuilt from what reached us: `PUBLIC_BASE_URL` or the forwarded
/// scheme and host, the stage where API Gateway's own host needs it, then the raw path and
/// raw query string exactly as sent.
pub fn public_url(request: &Request, public_base_url: Option<&str>) -> String {
    let meta = request.extensions().get::<RequestMeta>();
    let path = meta
        .and_then(|m| m.raw_path.as_deref())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| request.uri().path());
    let base = match public_base_url {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => {
            let headers = request.headers();
            let scheme = first_header(headers, "x-forwarded-proto")
                .or_else(|| request.uri().scheme_str())
                .unwrap_or("http");
            let host = first_header(headers, "host")
                .or_else(|| request.uri().authority().map(|a| a.as_str()))
                .unwrap_or("localhost");
            // execute-api URLs of a named stage carry it (`/prod/...`); rawPath may or may
            // not. Custom domains and Function URLs never do.
            let stage = meta
                .and_then(|m| m.stage.as_deref())
                .filter(|s| *s != "$default" && host.contains(".execute-api."))
                .filter(|s| !path.starts_with(&format!("/{s}/")))
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            format!("{scheme}://{host}{stage}")
        }
    };
    match request.uri().query() {
        Some(query) if !query.is_empty() => format!("{base}{path}?{query}"),
        _ => format!("{base}{path}"),
    }
}

/// Callback URLs next to the current one: `…/incoming` → `…/dial-status`, `…/call-status`.
fn callbacks(public_url: &str) -> Callbacks {
    let without_query = public_url.split('?').next().unwrap_or(public_url);
    let dir = without_query
        .rsplit_once('/')
        .map_or(without_query, |(dir, _)| dir);
    let sibling = |route: Route| {
        let name = route.path().rsplit('/').next().unwrap_or_default();
        format!("{dir}/{name}")
    };
    Callbacks {
        dial_status_url: sibling(Route::DialStatus),
        call_status_url: sibling(Route::CallStatus),
    }
}
