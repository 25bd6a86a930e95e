//! Handlers as plain async functions from an HTTP request to an HTTP response, served by
//! `lambda_http` in AWS (`lambda.rs`) and by the local server (`server.rs`).
//!
//! [`routes`] is the route table; [`endpoint`] says what each function binary serves and
//! builds its state once at start-up; [`api`] holds the app (JWT) endpoints and [`webhooks`]
//! Twilio's; [`error`] is every refusal. Every request goes through one wrapper, [`handle`]:
//! method and size checks, the endpoint, the one log line per request.

pub mod api;
mod body_limits;
pub mod endpoint;
mod error;
pub mod routes;
pub mod webhooks;

use std::collections::HashMap;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

pub use endpoint::{App, Endpoint, endpoints};
pub use error::{ApiError, ErrorCode};
pub use routes::{
    MAX_ANY_BODY_BYTES, MAX_APP_BODY_BYTES, MAX_SMS_SEND_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES, Route,
};

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
    /// The path exactly as the client sent it (API Gateway's `rawPath`), for signatures.
    pub raw_path: Option<String>,
    /// The API Gateway stage (`$default` for Function URLs and default stages).
    pub stage: Option<String>,
    /// The local server's own address the request came in on: where Twilio calls back without
    /// `PUBLIC_BASE_URL` ([`api::callbacks`]). None in Lambda.
    pub local_addr: Option<std::net::SocketAddr>,
}

/// Serve one request on `route` (one of `E::routes()`) through the common wrapper. Never
/// panics on input; every outcome is a response.
pub async fn handle<E: Endpoint>(endpoint: &E, route: Route, request: Request) -> Response {
    let started = Instant::now();
    let mut response = if !route.accepts(request.method()) {
        ApiError::MethodNotAllowed(route.allow()).response()
    } else if request.body().len() > route.max_body_bytes() {
        ApiError::PayloadTooLarge(route.max_body_bytes()).response()
    } else {
        match E::route(route.handler()) {
            Some(served) => endpoint.serve(served, &request).await,
            None => not_found(request.uri().path()),
        }
    };
    let note = response
        .extensions_mut()
        .remove::<LogNote>()
        .unwrap_or_default();
    let status = response.status().as_u16();
    let outcome = note.outcome.unwrap_or("ok");
    // Whole microseconds: `0.356`, not `0.35590099999999997`.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let call_sid = note.call_sid.as_deref();
    let message_sid = note.message_sid.as_deref();
    let cause = note.cause.as_deref();
    let skipped_busy = note.skipped_busy;
    // One line per request; tracing's level is part of the call site, hence two sites.
    macro_rules! log_request {
        ($level:ident) => {
            tracing::$level!(
                route = route.name(),
                status,
                outcome,
                call_sid,
                message_sid,
                cause,
                skipped_busy,
                latency_ms,
                "request"
            )
        };
    }
    if status >= 500 || note.warn {
        log_request!(warn);
    } else {
        log_request!(info);
    }
    response
}

/// What the request's log line should say beyond route and status. Travels from a handler
/// to [`handle`] in the response's extensions and is removed there: never sent.
#[derive(Clone, Debug, Default)]
pub(crate) struct LogNote {
    pub outcome: Option<&'static str>,
    pub cause: Option<String>,
    pub call_sid: Option<String>,
    /// The text a Messaging webhook was about.
    pub message_sid: Option<String>,
    /// Users a call did not ring because they were on another call.
    pub skipped_busy: Option<usize>,
    /// Worth an operator's attention (a store failure, a rejected webhook): logged as a warning.
    pub warn: bool,
}

/// `body` serialized as JSON. The bodies are plain structs whose serialization cannot fail;
/// were it to, the client gets a 500 that says so rather than a truncated body.
pub(crate) fn json_response<T: serde::Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
) -> Response {
    let (status, bytes) = match serde_json::to_vec(body) {
        Ok(bytes) => (status, bytes),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"error":{"code":"internal_error","message":"internal error"}}"#.to_vec(),
        ),
    };
    let mut response = Response::new(Bytes::from(bytes));
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
