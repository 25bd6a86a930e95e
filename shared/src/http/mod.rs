//! Handlers as plain async functions from an HTTP request to an HTTP response, served by
//! `lambda_http` in AWS ([`crate::lambda`]) and by the local server ([`crate::server`]).
//! Every request goes through one wrapper (method and size checks, error mapping, the one log
//! line per request): [`handle`] for any route (the local server), or [`Endpoint::handle`] for
//! the routes of one function binary, whose handler is fixed when the binary is compiled so
//! that it links only what it serves.

mod app_routes;
mod error;
pub mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
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
    /// The path exactly as the client sent it (API Gateway's `rawPath`), for signatures.
    pub raw_path: Option<String>,
    /// The API Gateway stage (`$default` for Function URLs and default stages).
    pub stage: Option<String>,
}

/// Largest app request body accepted; a device registration is a few hundred bytes.
pub const MAX_APP_BODY_BYTES: usize = 8 * 1024;
/// Largest webhook body accepted; Twilio's voice parameters are a few kilobytes at most.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    RegisterDevice,
    Heartbeat,
    UnregisterDevice,
    ListDevices,
    UserPhones,
    /// Twilio: a call arrives on a number.
    VoiceIncoming,
    /// Twilio: the `<Dial action>` (and voicemail `<Record action>`) callback.
    DialStatus,
    /// Twilio: the TwiML App's Voice Request URL, when a softphone places a call.
    VoiceOutgoing,
    /// Twilio: call-progress callbacks of every dialled leg.
    CallStatus,
    /// Twilio: the number's fallback URL, when the incoming webhook failed.
    VoiceFallback,
}

impl Route {
    pub const ALL: [Route; 10] = [
        Route::RegisterDevice,
        Route::Heartbeat,
        Route::UnregisterDevice,
        Route::ListDevices,
        Route::UserPhones,
        Route::VoiceIncoming,
        Route::DialStatus,
        Route::VoiceOutgoing,
        Route::CallStatus,
        Route::VoiceFallback,
    ];
    pub const WEBHOOKS: [Route; 5] = [
        Route::VoiceIncoming,
        Route::DialStatus,
        Route::VoiceOutgoing,
        Route::CallStatus,
        Route::VoiceFallback,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Self::RegisterDevice => "/phone/voice/register-device",
            Self::Heartbeat => "/phone/voice/heartbeat",
            Self::UnregisterDevice => "/phone/voice/unregister-device",
            Self::ListDevices => "/phone/voice/devices",
            Self::UserPhones => "/phone/user-phones",
            Self::VoiceIncoming => "/phone/voice/incoming",
            Self::DialStatus => "/phone/voice/dial-status",
            Self::VoiceOutgoing => "/phone/voice/outgoing",
            Self::CallStatus => "/phone/voice/call-status",
            Self::VoiceFallback => "/phone/voice/fallback",
        }
    }

    pub fn method(self) -> Method {
        match self {
            Self::ListDevices | Self::UserPhones => Method::GET,
            _ => Method::POST,
        }
    }

    pub fn is_webhook(self) -> bool {
        Self::WEBHOOKS.contains(&self)
    }

    /// Twilio may be configured to call webhooks with GET; app routes take one method.
    fn accepts(self, method: &Method) -> bool {
        *method == self.method() || (self.is_webhook() && *method == Method::GET)
    }

    /// What a 405's `Allow` header says: exactly the methods [`Self::accepts`] takes.
    fn allow(self) -> &'static str {
        match (self.is_webhook(), self.method()) {
            (true, _) => "GET, POST",
            (false, m) if m == Method::GET => "GET",
            (false, _) => "POST",
        }
    }

    fn max_body_bytes(self) -> usize {
        if self.is_webhook() {
            MAX_WEBHOOK_BODY_BYTES
        } else {
            MAX_APP_BODY_BYTES
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RegisterDevice => "register-device",
            Self::Heartbeat => "heartbeat",
            Self::UnregisterDevice => "unregister-device",
            Self::ListDevices => "list-devices",
            Self::UserPhones => "user-phones",
            Self::VoiceIncoming => "voice-incoming",
            Self::DialStatus => "dial-status",
            Self::VoiceOutgoing => "voice-outgoing",
            Self::CallStatus => "call-status",
            Self::VoiceFallback => "voice-fallback",
        }
    }

    /// How many store requests the route sends at once (at most, in the common case): the
    /// DynamoDB connections its function opens during init, so that its first request finds
    /// one idle for each. Register writes the device while it reads the directory; an
    /// outgoing call reads the caller's profile and the destination's route together; an
    /// incoming group call reads its members' presence together (two, a small group).
    pub fn concurrent_store_calls(self) -> usize {
        match self {
            Self::RegisterDevice | Self::VoiceIncoming | Self::VoiceOutgoing => 2,
            _ => 1,
        }
    }

    /// The configuration sections this route's binary must have.
    pub fn needs(self) -> crate::config::Needs {
        crate::config::Needs {
            app_auth: !self.is_webhook(),
            voice_tokens: self == Self::RegisterDevice,
            webhooks: self.is_webhook(),
            table: true,
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

/// A route as a dispatcher sees it: fixed when a binary is compiled (a marker type from
/// [`keys`]) or chosen per request (a [`Route`], as the local server does). Dispatchers
/// `match` on [`RouteKey::route`]; for a marker that match folds to one arm, so the other
/// routes' handlers are never referenced and never linked.
pub trait RouteKey: Copy + Send + Sync + 'static {
    fn route(self) -> Route;
}

impl RouteKey for Route {
    fn route(self) -> Route {
        self
    }
}

/// One zero-sized marker per route, for [`RouteKey`].
pub mod keys {
    use super::{Route, RouteKey};

    macro_rules! keys {
        ($($name:ident),* $(,)?) => {$(
            #[derive(Debug, Clone, Copy, Default)]
            pub struct $name;
            impl RouteKey for $name {
                #[inline(always)]
                fn route(self) -> Route {
                    Route::$name
                }
            }
        )*};
    }

    keys!(
        RegisterDevice,
        Heartbeat,
        UnregisterDevice,
        ListDevices,
        UserPhones,
        VoiceIncoming,
        DialStatus,
    );
}

/// A handler for requests already checked by the common wrapper.
pub type Handler =
    for<'a> fn(&'a App, Route, &'a Request) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>>;

/// What one function binary serves: its routes and their handler, a constant from
/// [`endpoints`], so each binary names, and links, exactly one handler.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub routes: &'static [Route],
    handler: Handler,
}

impl Endpoint {
    /// Serve one request on `route` (one of [`Endpoint::routes`]) through the common wrapper.
    pub async fn handle(self, app: &App, route: Route, request: Request) -> Response {
        wrap(app, route, request, self.handler).await
    }

    /// The DynamoDB connections its function opens during init: the most any of its routes
    /// sends at once.
    pub fn concurrent_store_calls(self) -> usize {
        self.routes
            .iter()
            .map(|r| r.concurrent_store_calls())
            .max()
            .unwrap_or(1)
    }

    /// The configuration sections its binary must have.
    pub fn needs(self) -> crate::config::Needs {
        self.routes
            .iter()
            .fold(crate::config::Needs::default(), |acc, r| {
                acc.union(r.needs())
            })
    }
}

/// The function binaries' endpoints, and [`endpoints::ALL`] for the local server.
pub mod endpoints {
    use super::{Endpoint, Route, app_handler, every_route, keys, webhooks_handler};

    pub const REGISTER_DEVICE: Endpoint = Endpoint {
        routes: &[Route::RegisterDevice],
        handler: app_handler::<keys::RegisterDevice>,
    };
    pub const HEARTBEAT: Endpoint = Endpoint {
        routes: &[Route::Heartbeat],
        handler: app_handler::<keys::Heartbeat>,
    };
    pub const UNREGISTER_DEVICE: Endpoint = Endpoint {
        routes: &[Route::UnregisterDevice],
        handler: app_handler::<keys::UnregisterDevice>,
    };
    pub const LIST_DEVICES: Endpoint = Endpoint {
        routes: &[Route::ListDevices],
        handler: app_handler::<keys::ListDevices>,
    };
    pub const USER_PHONES: Endpoint = Endpoint {
        routes: &[Route::UserPhones],
        handler: app_handler::<keys::UserPhones>,
    };
    /// Twilio's voice webhooks, one function chosen by path.
    pub const VOICE_WEBHOOKS: Endpoint = Endpoint {
        routes: &Route::WEBHOOKS,
        handler: webhooks_handler,
    };
    /// Every route, dispatched per request: the local server and the tests.
    pub const ALL: Endpoint = Endpoint {
        routes: &Route::ALL,
        handler: every_route,
    };
}

fn app_handler<'a, K: RouteKey + Default>(
    app: &'a App,
    _route: Route,
    request: &'a Request,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
    app_route(app, K::default(), request)
}

/// An app route's answer, its error mapped to a response: for a compile-time key (the
/// function binaries) or a route chosen per request (the local server).
fn app_route<'a>(
    app: &'a App,
    route: impl RouteKey,
    request: &'a Request,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
    Box::pin(async move {
        app_routes::dispatch(app, route, request)
            .await
            .unwrap_or_else(|err| err.response())
    })
}

fn webhooks_handler<'a>(
    app: &'a App,
    route: Route,
    request: &'a Request,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
    Box::pin(webhooks::dispatch(app, route, request))
}

fn every_route<'a>(
    app: &'a App,
    route: Route,
    request: &'a Request,
) -> Pin<Box<dyn Future<Output = Response> + Send + 'a>> {
    // Two boxes, not one future holding either: the webhooks' state is four times the app
    // routes' (2.1 KB against 0.5), and an app request would allocate and copy it all.
    if route.is_webhook() {
        Box::pin(webhooks::dispatch(app, route, request))
    } else {
        app_route(app, route, request)
    }
}

/// Serve one request on any `route`. Never panics on input; every outcome is a response.
pub async fn handle(app: &App, route: Route, request: Request) -> Response {
    endpoints::ALL.handle(app, route, request).await
}

/// The wrapper every request goes through: method and size checks, the handler, the log line.
async fn wrap(app: &App, route: Route, request: Request, handler: Handler) -> Response {
    let started = Instant::now();
    let mut response = if !route.accepts(request.method()) {
        ApiError::MethodNotAllowed(route.allow()).response()
    } else if request.body().len() > route.max_body_bytes() {
        ApiError::PayloadTooLarge(route.max_body_bytes()).response()
    } else {
        handler(app, route, &request).await
    };
    let note = response
        .extensions_mut()
        .remove::<LogNote>()
        .unwrap_or_default();
    let status = response.status().as_u16();
    let outcome = note.outcome.unwrap_or("ok");
    // Whole microseconds: `0.356`, not `0.35590099999999997` (shorter to read, and to format).
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let call_sid = note.call_sid.as_deref();
    let cause = note.cause.as_deref();
    let skipped_busy = note.skipped_busy;
    if status >= 500 || note.warn {
        tracing::warn!(
            route = route.name(),
            status,
            outcome,
            call_sid,
            cause,
            skipped_busy,
            latency_ms,
            "request"
        );
    } else {
        tracing::info!(
            route = route.name(),
            status,
            outcome,
            call_sid,
            cause,
            skipped_busy,
            latency_ms,
            "request"
        );
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
    // Most bodies are a few hundred bytes to 1.5 KB (a registration, with its voice token):
    // starting there spares `to_vec`'s doubling from 128 bytes, a copy each time.
    let mut bytes = Vec::with_capacity(1536);
    let (status, bytes) = match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => (status, bytes),
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
