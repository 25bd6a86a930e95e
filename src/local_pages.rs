//! What only the local server serves: the settings page and its assets, and, while the
//! development JWT secret is in use, the development helpers it signs in with. The Lambda
//! functions never link this module.
//!
//! | route | answers |
//! |---|---|
//! | `GET /` | the settings page (`clients/web/page/index.html`) |
//! | `GET /assets/settings.js`, `/assets/settings.css` | its built script and style sheet |
//! | `GET /openapi.yaml` | the API contract, `docs/openapi.yaml` |
//! | `GET /dev/users` | the directory's users, to pick one to sign in as |
//! | `GET /admin`, `/assets/admin.js` | the admin console (`clients/web/page/admin.html`) and its built script |
//! | `POST /dev/sign-in` | `{email, orgId, admin?}` → an app JWT signed with the development secret (with the admin role when `admin`) |
//! | `POST /dev/simulate-call` | `{phoneNumber}` → which identities a call to it would ring |
//! | `GET /phone/events/connect` | the realtime channel's WebSocket (`realtime/`) |

// Handlers answer with a finished response on every path, early returns included.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Value, json};
use shared::App;
use shared::directory::{Directory, NumberRoute};
use shared::domain::{E164, Email, FieldError, OrgId};
use shared::http::api::events::CONNECT_PATH;
use shared::http::{ApiError, Request, Response, Route, webhooks};
use shared::routing::{self, CallParams};
use shared::server::LocalRoutes;

use crate::realtime::{self, Hub};

// Built by `npm run build` in clients/web and committed, so `cargo run -- serve` needs only
// Rust; `npm test` there fails when these are stale against their sources.
const INDEX_HTML: &str = include_str!("../clients/web/page/index.html");
const SETTINGS_JS: &str = include_str!("../clients/web/page/dist/settings.js");
const SETTINGS_CSS: &str = include_str!("../clients/web/page/settings.css");
/// The admin console (issue 30): its page and its built script.
const ADMIN_HTML: &str = include_str!("../clients/web/page/admin.html");
const ADMIN_JS: &str = include_str!("../clients/web/page/dist/admin.js");
/// The API contract; tests/api/contract.rs holds it to the routes served.
const OPENAPI_YAML: &str = include_str!("../docs/openapi.yaml");

/// How long a development token lasts: a working day.
const DEV_TOKEN_SECONDS: i64 = 12 * 3600;

pub struct LocalPages {
    app: Arc<App>,
    hub: Arc<Hub>,
    /// The development JWT secret, when it is the one in use; `None` disables `/dev/*`.
    dev_secret: Option<String>,
}

impl LocalPages {
    pub fn new(app: Arc<App>, hub: Arc<Hub>, dev_secret: Option<String>) -> Self {
        Self {
            app,
            hub,
            dev_secret,
        }
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    respond(status, "application/json", body.to_string())
}

fn body_field<'a>(body: &'a Value, name: &str) -> Result<&'a str, Response> {
    body.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::from(FieldError::new(name, "is required")).response())
}

#[async_trait::async_trait]
impl LocalRoutes for LocalPages {
    async fn respond(&self, request: &mut Request) -> Option<Response> {
        if request.uri().path() == CONNECT_PATH {
            return Some(realtime::connect(&self.hub, request).await);
        }
        let request = &*request;
        let path = request.uri().path();
        let get = request.method() == Method::GET;
        let post = request.method() == Method::POST;
        Some(match path {
            "/" | "/index.html" if get => {
                respond(StatusCode::OK, "text/html; charset=utf-8", INDEX_HTML)
            }
            "/assets/settings.js" if get => respond(
                StatusCode::OK,
                "text/javascript; charset=utf-8",
                SETTINGS_JS,
            ),
            "/assets/settings.css" if get => {
                respond(StatusCode::OK, "text/css; charset=utf-8", SETTINGS_CSS)
            }
            "/admin" | "/admin.html" if get => {
                respond(StatusCode::OK, "text/html; charset=utf-8", ADMIN_HTML)
            }
            "/assets/admin.js" if get => {
                respond(StatusCode::OK, "text/javascript; charset=utf-8", ADMIN_JS)
            }
            "/openapi.yaml" if get => respond(StatusCode::OK, "application/yaml", OPENAPI_YAML),
            "/dev/users" | "/dev/sign-in" | "/dev/simulate-call" => {
                let Some(secret) = &self.dev_secret else {
                    let off =
                        "development sign-in is off: this server's credentials are configured";
                    return Some(ApiError::NotFound(off.into()).response());
                };
                match path {
                    "/dev/users" if get => self.users().await,
                    "/dev/sign-in" if post => self.sign_in(secret, request).await,
                    "/dev/simulate-call" if post => self.simulate_call(request).await,
                    "/dev/users" => ApiError::MethodNotAllowed("GET").response(),
                    _ => ApiError::MethodNotAllowed("POST").response(),
                }
            }
            _ => return None,
        })
    }
}

impl LocalPages {
    async fn directory(&self) -> Result<Directory, Response> {
        let exported = self.app.core().stores.directory.export().await;
        exported.map_err(|e| ApiError::from(e).response())
    }

    async fn users(&self) -> Response {
        let directory = match self.directory().await {
            Ok(d) => d,
            Err(response) => return response,
        };
        let users: Vec<Value> = directory
            .orgs
            .iter()
            .flat_map(|org| {
                // The safe style names everyone, so the list is whole whatever the deployment's.
                org.user_profiles(shared::domain::IdentityStyle::Safe)
                    .into_iter()
                    .map(|p| json!({ "email": p.email, "orgId": p.org_id, "name": p.name }))
            })
            .collect();
        json_response(StatusCode::OK, &json!({ "users": users }))
    }

    async fn sign_in(&self, secret: &str, request: &Request) -> Response {
        let body: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
        let (email, org) = match (body_field(&body, "email"), body_field(&body, "orgId")) {
            (Ok(e), Ok(o)) => (e, o),
            (Err(r), _) | (_, Err(r)) => return r,
        };
        let (Ok(email), Ok(org)) = (
            Email::parse_field(email, "email"),
            OrgId::parse_field(org, "orgId"),
        ) else {
            let invalid = FieldError::new("email", "email and orgId must be valid");
            return ApiError::from(invalid).response();
        };
        let directory = match self.directory().await {
            Ok(d) => d,
            Err(response) => return response,
        };
        let known = directory
            .org(&org)
            .is_some_and(|o| o.emails().contains(&&email));
        if !known {
            let unknown = FieldError::new("email", "not a user of that org in the directory");
            return ApiError::from(unknown).response();
        }
        // `"admin": true`: a token carrying the development admin role (the admin console).
        let admin = body.get("admin").and_then(Value::as_bool).unwrap_or(false);
        let now = self.app.core().now_ms().div_euclid(1000);
        match shared::local::mint_dev_jwt(
            secret,
            email.as_str(),
            org.as_str(),
            now,
            DEV_TOKEN_SECONDS,
            admin,
        ) {
            Ok(token) => json_response(
                StatusCode::OK,
                &json!({ "token": token, "expiresIn": DEV_TOKEN_SECONDS }),
            ),
            Err(_) => ApiError::Internal("could not mint a token".into()).response(),
        }
    }

    /// Route a call to one of the directory's numbers exactly as the incoming webhook would,
    /// without Twilio: which identities would ring, or which fallback would answer.
    async fn simulate_call(&self, request: &Request) -> Response {
        let body: Value = serde_json::from_slice(request.body()).unwrap_or(Value::Null);
        let number = match body_field(&body, "phoneNumber") {
            Ok(n) => n.to_owned(),
            Err(response) => return response,
        };
        // Only shown in the simulation's TwiML, never handed to Twilio: the address the
        // developer's browser used reads best there.
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let incoming_url = format!("http://{host}{}", Route::VoiceIncoming.path());
        let callbacks = webhooks::callbacks(&incoming_url, None, None);
        let params = CallParams {
            form: vec![
                ("From".to_owned(), "+15005550006".to_owned()),
                ("To".to_owned(), number),
            ],
            query: Vec::new(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut ctx = self.app.webhooks().context(&callbacks, deadline);
        let now_ms = ctx.now_ms;
        // What the page shows of the number's policy; an unknown number has none.
        let route = match E164::parse_field(&params.form[1].1, "phoneNumber") {
            Ok(number) => ctx.directory.route_for_number(&number).await.ok().flatten(),
            Err(_) => None,
        };
        let decision = routing::incoming(&ctx, &params).await;
        let ringing: Vec<&str> = decision.rung.iter().map(|id| id.as_str()).collect();
        // The steps a call nobody answers goes through, each step's callback played as
        // Twilio would post it when the step's time is up (on a clock moved on to then).
        let mut steps = Vec::new();
        let mut step = Some((decision.rung.clone(), decision.dial.clone()));
        while let Some((rung, Some(dial))) = step.take() {
            steps.push(json!({
                "ringing": rung.iter().map(|id| id.as_str()).collect::<Vec<_>>(),
                "seconds": dial.seconds,
            }));
            let Some(query) = dial.next_step.filter(|_| steps.len() < 100) else {
                break;
            };
            ctx.now_ms += i64::from(dial.seconds) * 1000;
            let mut form = params.form.clone();
            form.push(("DialCallStatus".to_owned(), "no-answer".to_owned()));
            let next = routing::dial_status(&ctx, &CallParams { form, query }).await;
            if next.outcome == routing::Outcome::Dial {
                step = Some((next.rung, next.dial));
            }
        }
        json_response(
            StatusCode::OK,
            &json!({
                "outcome": decision.outcome.as_str(),
                "reason": decision.reason,
                "ringing": ringing,
                "twiml": decision.twiml.render(),
                "policy": route.as_ref().map(|route| policy(route, now_ms)),
                "steps": steps,
            }),
        )
    }
}

/// How a number's calls are rung, as the settings page shows it: its hours (whose, in which
/// zone, open now or not) and its group's strategy.
fn policy(route: &NumberRoute, now_ms: i64) -> Value {
    let hours = route.hours().map(|hours| {
        json!({
            "timeZone": hours.time_zone,
            "of": if route.phone.hours.is_some() { "phone" } else { "group" },
            "openNow": hours.is_open(now_ms),
        })
    });
    let group = route.group.as_ref().map(|group| {
        json!({
            "name": group.name,
            "strategy": group.strategy,
            "ringTimeoutSeconds": group.ring_timeout_seconds,
            "memberRingSeconds": group.member_ring_seconds,
            "batchSize": group.batch_size,
        })
    });
    json!({ "hours": hours, "group": group })
}
