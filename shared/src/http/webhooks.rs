//! Twilio's webhooks. The signature is checked before anything else runs; after that,
//! every outcome is `200 text/xml` TwiML, because Twilio plays an application error to the
//! caller on anything else. The webhook layer builds routing's [`Context`] from [`Webhooks`].

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use tokio::time::Instant;

use super::routes::{SmsWebhook, VoiceWebhook, WebhookRoute};
use super::{ApiError, LogNote, Request, RequestMeta, Response, Route};
use crate::app::{Core, StartupError};
use crate::config::{Config, ExposeSecret, WebhookConfig};
use crate::domain::CallSid;
use crate::headers::{HeaderName, TWILIO_SIGNATURE, X_FORWARDED_PROTO};
use crate::history::HistoryRef;
use crate::inbox::webhook::{self, Params, Reply, SmsContext};
use crate::outbound::Outbound;
use crate::routing::{self, CallParams, Callbacks, Context, Decision, RecentRoutes, Settings};
use crate::secrets::Rotating;
use crate::store::rates::{Budget, RateKind};
use crate::twilio::signature::SignatureKeys;
use crate::twilio::twiml::Twiml;

/// What the webhooks borrow: built at start-up only where the configuration has the webhook
/// section, so no request finds it missing.
pub struct Webhooks {
    pub core: Core,
    config: WebhookConfig,
    /// The keys of the auth token (and of the secondary one during a rotation), for
    /// `X-Twilio-Signature`: derived once, and again when a re-read of the secret changes them.
    keys: Rotating<SignatureKeys>,
    /// Number routes seen lately, for Twilio's fallback URL (which must not read the store).
    recent_routes: RecentRoutes,
    /// Passes recording reports on to a directory's own receiver.
    forward_http: Outbound,
}

impl Webhooks {
    pub fn new(core: Core, config: &Config) -> Result<Self, StartupError> {
        let keys = Rotating::new(config, core.secrets.as_ref(), |config| {
            let webhooks = config.webhooks.as_ref()?;
            let secondary = webhooks.auth_token_secondary.as_ref();
            Some(SignatureKeys::new(
                webhooks.auth_token.expose_secret(),
                secondary.map(|token| token.expose_secret()),
            ))
        })
        .ok_or(StartupError::Missing("the webhooks"))?;
        let config = StartupError::require(&config.webhooks, "the webhooks")?.clone();
        Ok(Self {
            keys,
            config,
            core,
            recent_routes: RecentRoutes::default(),
            forward_http: Outbound::new(routing::recording::FORWARD_DEADLINE),
        })
    }

    /// What routing reads for one webhook: the stores, the recent routes, the settings, the
    /// time, the deadline and where Twilio calls back.
    pub fn context<'a>(&'a self, callbacks: &'a Callbacks, deadline: Instant) -> Context<'a> {
        Context {
            presence: self.core.stores.presence.as_ref(),
            directory: self.core.stores.directory.as_ref(),
            history: self.core.stores.history.as_ref(),
            recent_routes: &self.recent_routes,
            settings: Settings {
                identity_style: self.core.settings.identity_style,
                max_call_seconds: self.core.settings.max_call_seconds,
                outbound_allowed_prefixes: self.config.outbound.allowed_prefixes.as_deref(),
                calls: Budget::per_minute(RateKind::Calls, self.config.outbound.calls_per_minute),
                call_history_retention_days: self.core.settings.call_history_retention_days,
            },
            callbacks,
            now_ms: self.core.now_ms(),
            deadline,
        }
    }

    /// One webhook on `route`: verified, then answered with TwiML.
    pub async fn dispatch(&self, route: WebhookRoute, request: &Request) -> Response {
        let started = Instant::now();
        let url = public_url(request, self.config.public_base_url.as_deref());
        let keys = self.keys.get();
        let form = match verify(&self.config, &keys, request, &url) {
            Ok(params) => params,
            Err(refusal) => return refusal.response(),
        };
        let route = match route {
            WebhookRoute::Sms(route) => return self.sms(route, &form, started).await,
            WebhookRoute::Voice(route) => route,
        };
        let call = CallParams {
            form,
            query: form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        };
        if route == VoiceWebhook::Outgoing
            && let Err(refusal) = check_application(&self.config, &call)
        {
            return refusal.response();
        }
        let call_sid = call
            .get("CallSid")
            .filter(|sid| CallSid::is_valid(sid))
            .map(str::to_owned);
        let history = HistoryRef::from_query(&call.query);
        let (from, to) = call.parties();
        let parties =
            Some((from.to_owned(), to.to_owned())).filter(|(f, t)| !f.is_empty() || !t.is_empty());
        let callbacks = callbacks(&url, history, parties);
        let ctx = self.context(&callbacks, started + self.config.deadline);
        let decision = match route {
            VoiceWebhook::Incoming => routing::incoming(&ctx, &call).await,
            VoiceWebhook::DialStatus => routing::dial_status(&ctx, &call).await,
            VoiceWebhook::Outgoing => routing::outgoing(&ctx, &call).await,
            VoiceWebhook::CallStatus => routing::call_status(&ctx, &call).await,
            VoiceWebhook::Fallback => routing::primary_failed(&ctx, &call),
            VoiceWebhook::RecordingStatus => {
                let forwarder = routing::recording::Forwarder {
                    http: &self.forward_http,
                    key: keys.primary(),
                };
                routing::recording_status(&ctx, &call, &forwarder).await
            }
        };
        twiml_response(decision, call_sid)
    }
}

impl Webhooks {
    /// One SMS webhook, its signature checked.
    async fn sms(
        &self,
        route: SmsWebhook,
        form: &[(String, String)],
        started: Instant,
    ) -> Response {
        let ctx = SmsContext {
            directory: self.core.stores.directory.as_ref(),
            presence: self.core.stores.presence.as_ref(),
            messages: self.core.stores.messages.as_ref(),
            recent_routes: &self.recent_routes,
            identity_style: self.core.settings.identity_style,
            now_ms: self.core.now_ms(),
            deadline: started + self.config.deadline,
        };
        let params = Params(form);
        let answer = match route {
            SmsWebhook::Incoming => webhook::incoming(&ctx, &params).await,
            SmsWebhook::Status => webhook::status(&ctx, &params).await,
            SmsWebhook::Fallback => webhook::fallback(&ctx, &params),
        };
        let mut response = match answer.reply {
            Reply::Twiml(twiml) => twiml_body(StatusCode::OK, &twiml),
            // Twilio takes any failure as the cue for the fallback URL.
            Reply::Unavailable => twiml_body(StatusCode::SERVICE_UNAVAILABLE, &Twiml::new()),
            Reply::Invalid(error) => ApiError::InvalidField(error).response(),
        };
        response.extensions_mut().insert(LogNote {
            outcome: Some(answer.outcome),
            cause: answer.cause,
            message_sid: answer.message_sid,
            warn: answer.warn,
            ..LogNote::default()
        });
        response
    }
}

fn twiml_body(status: StatusCode, twiml: &Twiml) -> Response {
    let mut response = Response::new(Bytes::from(twiml.render()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    response
}

/// The outgoing webhook serves only this service's TwiML App: a token minted for another app
/// (or a misconfigured URL) is refused like a bad signature.
fn check_application(config: &WebhookConfig, call: &CallParams) -> Result<(), ApiError> {
    match (config.twiml_app_sid.as_deref(), call.get("ApplicationSid")) {
        (Some(expected), Some(got)) if expected == got => Ok(()),
        (None, _) => Err(ApiError::WrongApplication(
            "outgoing calls are not configured (TWILIO_TWIML_APP_SID)",
        )),
        _ => Err(ApiError::WrongApplication(
            "ApplicationSid is not this service's TwiML App",
        )),
    }
}

fn twiml_response(decision: Decision, call_sid: Option<String>) -> Response {
    let mut response = twiml_body(StatusCode::OK, &decision.twiml);
    response.extensions_mut().insert(LogNote {
        outcome: Some(decision.outcome.as_str()),
        cause: decision.reason,
        call_sid,
        skipped_busy: (decision.skipped_busy > 0).then_some(decision.skipped_busy),
        warn: decision.degraded,
        ..LogNote::default()
    });
    response
}

/// Check the signature (and the account) and return the request's parameters.
fn verify(
    config: &WebhookConfig,
    key: &SignatureKeys,
    request: &Request,
    url: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(signature) = request
        .headers()
        .get(TWILIO_SIGNATURE)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(ApiError::MissingSignature);
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
        return Err(ApiError::InvalidSignature);
    }
    let account = params
        .iter()
        .find(|(k, _)| k == "AccountSid")
        .map(|(_, v)| v.as_str());
    if account != Some(config.account_sid.as_str()) {
        return Err(ApiError::WrongAccount);
    }
    Ok(params)
}

fn first_header(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
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
///
/// `Host` and `X-Forwarded-Proto` are believed here only because the URL is then checked
/// against `X-Twilio-Signature`, which nobody without the auth token can make for a URL of
/// their choosing: a request whose headers name another host fails the check. The callbacks
/// a webhook's TwiML names are built next to this URL only after the check passed, so they are
/// where Twilio already called. App requests never build a URL from headers
/// ([`super::api::callbacks`]).
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
            let scheme = first_header(headers, X_FORWARDED_PROTO)
                .or_else(|| request.uri().scheme_str())
                .unwrap_or("http");
            let host = first_header(headers, header::HOST)
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

/// Callback URLs next to the current one: `…/incoming` → `…/dial-status`, `…/call-status`,
/// `…/recording-status`, with the call's history reference when this webhook's URL carries
/// one (a callback reporting on a call this service routed). `public_url` passed the signature
/// check, so these are under the URL Twilio signed, whatever headers built it (the local
/// server's call simulation passes the incoming webhook's URL at its own address).
pub fn callbacks(
    public_url: &str,
    history: Option<HistoryRef>,
    parties: Option<(String, String)>,
) -> Callbacks {
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
        recording_status_url: sibling(Route::RecordingStatus),
        history,
        parties,
    }
}
