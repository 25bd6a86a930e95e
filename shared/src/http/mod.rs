//! Handlers as plain async functions from an HTTP request to an HTTP response, served by
//! `lambda_http` in AWS ([`crate::lambda`]) and by the local server ([`crate::server`]).
//! [`handle`] is the one entry point: it picks the handler, maps errors to responses in one
//! place, and writes the one log line per request.

mod app_routes;
mod error;

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};

pub use error::ApiError;

use crate::app::App;

pub type Request = http::Request<Bytes>;
pub type Response = http::Response<Bytes>;

/// What the transport knows about a request beyond its HTTP form. The adapters put it in the
/// request's extensions.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// The client's address: API Gateway's `sourceIp`, or the local socket's peer.
    pub source_ip: Option<String>,
    /// Claims verified by an API Gateway JWT authorizer, when one is in front.
    pub gateway_claims: Option<HashMap<String, String>>,
}

/// Largest app request body accepted; a device registration is a few hundred bytes.
pub const MAX_APP_BODY_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    RegisterDevice,
    Heartbeat,
    UnregisterDevice,
    ListDevices,
    UserPhones,
}

impl Route {
    pub const ALL: [Route; 5] = [
        Route::RegisterDevice,
        Route::Heartbeat,
        Route::UnregisterDevice,
        Route::ListDevices,
        Route::UserPhones,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::RegisterDevice => "/phone/voice/register-device",
            Self::Heartbeat => "/phone/voice/heartbeat",
            Self::UnregisterDevice => "/phone/voice/unregister-device",
            Self::ListDevices => "/phone/voice/devices",
            Self::UserPhones => "/phone/user-phones",
        }
    }

    pub fn method(self) -> Method {
        match self {
            Self::ListDevices | Self::UserPhones => Method::GET,
            _ => Method::POST,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RegisterDevice => "register-device",
            Self::Heartbeat => "heartbeat",
            Self::UnregisterDevice => "unregister-device",
            Self::ListDevices => "list-devices",
            Self::UserPhones => "user-phones",
        }
    }

    /// The configuration sections this route's binary must have.
    pub fn needs(self) -> crate::config::Needs {
        crate::config::Needs {
            app_auth: true,
            voice_tokens: self == Self::RegisterDevice,
            ..crate::config::Needs::default()
        }
    }

    /// The route whose path `path` is or ends with: API Gateway stages and custom-domain base
    /// paths put a prefix in front.
    pub fn for_path(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        Self::ALL
            .into_iter()
            .find(|r| path == r.path() || path.ends_with(r.path()))
    }
}

/// Serve one request on `route`. Never panics on input; every outcome is a response.
pub async fn handle(app: &App, route: Route, request: Request) -> Response {
    let started = Instant::now();
    let result = if request.method() != route.method() {
        Err(ApiError::MethodNotAllowed(route.method()))
    } else if request.body().len() > MAX_APP_BODY_BYTES {
        Err(ApiError::PayloadTooLarge(MAX_APP_BODY_BYTES))
    } else {
        app_routes::dispatch(app, route, &request).await
    };
    let (response, outcome) = match result {
        Ok(response) => (response, "ok"),
        Err(err) => (err.response(), err.code()),
    };
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(cause) = outcome_cause(&response) {
        tracing::warn!(
            route = route.name(),
            status,
            outcome,
            latency_ms,
            cause,
            "request"
        );
    } else {
        tracing::info!(route = route.name(), status, outcome, latency_ms, "request");
    }
    strip_cause(response)
}

/// Internal causes travel to the log line in an extension, never in the body.
#[derive(Clone)]
pub(crate) struct LoggedCause(pub String);

fn outcome_cause(response: &Response) -> Option<&str> {
    response
        .extensions()
        .get::<LoggedCause>()
        .map(|c| c.0.as_str())
}

fn strip_cause(mut response: Response) -> Response {
    response.extensions_mut().remove::<LoggedCause>();
    response
}

pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut response = Response::new(Bytes::from(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A JSON 404 for paths no route serves (local server only; API Gateway does its own).
pub fn not_found(path: &str) -> Response {
    ApiError::NotFound(format!("no endpoint at {path}")).response()
}
