//! The route table: every path the service answers, stated once in [`routes!`]: its path, its
//! methods, its name in the log, who may call it, its body limit, how many store calls it sends
//! at once, the configuration its function needs beyond that, and which function and handler
//! answer it ([`Handler`]). A new route is one entry there; the compiler then asks for its
//! handler wherever a function dispatches (each `match` on a function's routes is exhaustive).

use http::Method;

use crate::config::Needs;

pub use super::body_limits::{
    MAX_ADMIN_BODY_BYTES, MAX_ANY_BODY_BYTES, MAX_APP_BODY_BYTES, MAX_SMS_SEND_BODY_BYTES,
    MAX_WEBHOOK_BODY_BYTES,
};

/// A voicemail's path: this, with the `RecordingSid` for `{recordingSid}`.
pub const VOICEMAIL_PATH: &str = "/phone/voicemail/{recordingSid}";
const VOICEMAIL_PREFIX: &str = "/phone/voicemail/";

/// The `RecordingSid` a voicemail path names (one segment after the prefix, behind any stage
/// or base path), if it is one.
pub fn voicemail_sid(path: &str) -> Option<&str> {
    let at = path.find(VOICEMAIL_PREFIX)?;
    let sid = &path[at + VOICEMAIL_PREFIX.len()..];
    (!sid.is_empty() && !sid.contains('/')).then_some(sid)
}

/// Which function serves a route, and which of its handlers answers it. Each function's own
/// routes are an enum its `serve` matches exhaustively, so that a handler variant added here
/// fails to compile until the function answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    RegisterDevice,
    Heartbeat,
    UnregisterDevice,
    ListDevices,
    UserPhones,
    Events(EventsRoute),
    Sms(SmsRoute),
    Calls(CallsRoute),
    People(PeopleRoute),
    Admin(AdminRoute),
    Webhook(WebhookRoute),
}

/// The admin API's routes (the `admin` function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRoute {
    /// The caller's whole org: read, or replaced.
    Directory,
    /// One record of the org: read, created or replaced, or deleted.
    Record(RecordKind),
    /// The org's audit log.
    Audit,
}

/// The kinds of record of an org's directory the admin API changes one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    User,
    Group,
    Phone,
}

/// The admin API's record paths: the prefix, then the record's key.
const ADMIN_RECORD_PREFIXES: [(&str, Route); 3] = [
    ("/phone/admin/users/", Route::AdminUser),
    ("/phone/admin/groups/", Route::AdminGroup),
    ("/phone/admin/phones/", Route::AdminPhone),
];

/// People presence's app routes (the `people` function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeopleRoute {
    /// The caller's status: read, or set.
    Status,
    Team,
}

/// The realtime channel's app routes (the `events` function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventsRoute {
    CatchUp,
    Ticket,
}

/// The SMS inbox's app routes (the `sms` function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsRoute {
    Conversations,
    Messages,
    Read,
    Media,
    Send,
}

/// The call history's app routes (the `calls` function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallsRoute {
    History,
    Seen,
    Voicemail,
}

/// Twilio's webhooks (the webhooks function): calls, then texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookRoute {
    Voice(VoiceWebhook),
    Sms(SmsWebhook),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceWebhook {
    Incoming,
    DialStatus,
    Outgoing,
    CallStatus,
    Fallback,
    RecordingStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsWebhook {
    Incoming,
    Status,
    Fallback,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The app's sign-in JWT (`Authorization: Bearer`).
    AppToken,
    /// Twilio, by `X-Twilio-Signature`.
    TwilioSignature,
}

/// The methods a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    Get,
    Post,
    /// A voicemail: played, or deleted.
    GetOrDelete,
    /// A status: read, or replaced.
    GetOrPut,
    /// An admin's record: read, replaced, or deleted.
    GetPutOrDelete,
    /// A webhook: POST, or GET when Twilio is configured so.
    PostOrGet,
}

impl Methods {
    /// The method the route is documented with.
    pub fn primary(self) -> Method {
        match self {
            Self::Get | Self::GetOrDelete | Self::GetOrPut | Self::GetPutOrDelete => Method::GET,
            Self::Post | Self::PostOrGet => Method::POST,
        }
    }

    pub fn accepts(self, method: &Method) -> bool {
        match self {
            Self::Get => method == Method::GET,
            Self::Post => method == Method::POST,
            Self::GetOrDelete => method == Method::GET || method == Method::DELETE,
            Self::GetOrPut => method == Method::GET || method == Method::PUT,
            Self::GetPutOrDelete => {
                method == Method::GET || method == Method::PUT || method == Method::DELETE
            }
            Self::PostOrGet => method == Method::POST || method == Method::GET,
        }
    }

    /// What a 405's `Allow` header says: exactly the methods [`Self::accepts`] takes.
    pub fn allow(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::GetOrDelete => "GET, DELETE",
            Self::GetOrPut => "GET, PUT",
            Self::GetPutOrDelete => "GET, PUT, DELETE",
            Self::PostOrGet => "GET, POST",
        }
    }
}

/// Configuration sections a route's function needs beyond the table and its [`Auth`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uses {
    Nothing,
    /// Twilio voice tokens (register-device).
    VoiceTokens,
    /// The realtime channel's tickets.
    Realtime,
    /// Twilio's REST API with the API key.
    TwilioApi,
}

/// Everything the service knows about one route.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub path: &'static str,
    pub methods: Methods,
    /// Its name in the log line.
    pub name: &'static str,
    pub auth: Auth,
    pub max_body_bytes: usize,
    /// How many store requests the route sends at once (at most, in the common case): the
    /// DynamoDB connections its function opens during init, so that its first request finds
    /// one idle for each.
    pub concurrent_store_calls: usize,
    pub uses: Uses,
    pub handler: Handler,
}

/// The route enum, [`Route::ALL`] and [`Route::facts`], from one list of `Variant => Facts`.
macro_rules! routes {
    ($($(#[$doc:meta])* $variant:ident => $facts:expr,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Route {
            $($(#[$doc])* $variant,)*
        }

        impl Route {
            pub const ALL: [Route; [$(Route::$variant),*].len()] = [$(Route::$variant),*];

            pub const fn facts(self) -> Facts {
                match self {
                    $(Self::$variant => $facts,)*
                }
            }
        }
    };
}

/// An app route: the app's JWT, a body up to [`MAX_APP_BODY_BYTES`], one store call at a time,
/// nothing configured beyond app authentication unless the entry says so.
const fn app(path: &'static str, methods: Methods, name: &'static str, handler: Handler) -> Facts {
    Facts {
        path,
        methods,
        name,
        auth: Auth::AppToken,
        max_body_bytes: MAX_APP_BODY_BYTES,
        concurrent_store_calls: 1,
        uses: Uses::Nothing,
        handler,
    }
}

/// One of Twilio's webhooks: signed, POST (or GET), a body up to [`MAX_WEBHOOK_BODY_BYTES`].
const fn webhook(path: &'static str, name: &'static str, route: WebhookRoute) -> Facts {
    Facts {
        path,
        methods: Methods::PostOrGet,
        name,
        auth: Auth::TwilioSignature,
        max_body_bytes: MAX_WEBHOOK_BODY_BYTES,
        concurrent_store_calls: 1,
        uses: Uses::Nothing,
        handler: Handler::Webhook(route),
    }
}

impl Facts {
    const fn with_body_limit(self, max_body_bytes: usize) -> Self {
        Self {
            max_body_bytes,
            ..self
        }
    }

    const fn with_store_calls(self, concurrent_store_calls: usize) -> Self {
        Self {
            concurrent_store_calls,
            ..self
        }
    }

    const fn using(self, uses: Uses) -> Self {
        Self { uses, ..self }
    }
}

// Store calls at once: register writes the device and names it on the person item while it
// reads the directory; an outgoing
// call reads the caller's profile and the destination's route together; an incoming group
// call reads its members' presence together (two, a small group); a send reads the profile
// and the conversation and claims its id together.
use Methods::{Get, GetOrDelete, GetOrPut, GetPutOrDelete, Post};

routes! {
    RegisterDevice => app("/phone/voice/register-device", Post, "register-device",
        Handler::RegisterDevice)
        .with_store_calls(3)
        .using(Uses::VoiceTokens),
    Heartbeat => app("/phone/voice/heartbeat", Post, "heartbeat", Handler::Heartbeat),
    UnregisterDevice => app("/phone/voice/unregister-device", Post, "unregister-device",
        Handler::UnregisterDevice),
    ListDevices => app("/phone/voice/devices", Get, "list-devices", Handler::ListDevices),
    UserPhones => app("/phone/user-phones", Get, "user-phones", Handler::UserPhones),
    /// The caller's events after a cursor (catch-up).
    Events => app("/phone/events", Get, "events", Handler::Events(EventsRoute::CatchUp)),
    /// A ticket to open the realtime channel with.
    EventsTicket => app("/phone/events/ticket", Post, "events-ticket",
        Handler::Events(EventsRoute::Ticket))
        .using(Uses::Realtime),
    /// Twilio: a call arrives on a number.
    VoiceIncoming => webhook("/phone/voice/incoming", "voice-incoming",
        WebhookRoute::Voice(VoiceWebhook::Incoming))
        .with_store_calls(2),
    /// Twilio: the `<Dial action>` (and voicemail `<Record action>`) callback.
    DialStatus => webhook("/phone/voice/dial-status", "dial-status",
        WebhookRoute::Voice(VoiceWebhook::DialStatus))
        .with_store_calls(2),
    /// Twilio: the TwiML App's Voice Request URL, when a softphone places a call.
    VoiceOutgoing => webhook("/phone/voice/outgoing", "voice-outgoing",
        WebhookRoute::Voice(VoiceWebhook::Outgoing))
        .with_store_calls(2),
    /// Twilio: call-progress callbacks of every dialled leg.
    CallStatus => webhook("/phone/voice/call-status", "call-status",
        WebhookRoute::Voice(VoiceWebhook::CallStatus))
        .with_store_calls(2),
    /// Twilio: the number's fallback URL, when the incoming webhook failed.
    VoiceFallback => webhook("/phone/voice/fallback", "voice-fallback",
        WebhookRoute::Voice(VoiceWebhook::Fallback)),
    /// Twilio: a voicemail's recording is done.
    RecordingStatus => webhook("/phone/voice/recording-status", "recording-status",
        WebhookRoute::Voice(VoiceWebhook::RecordingStatus))
        .with_store_calls(2),
    /// The caller's call history.
    CallHistory => app("/phone/calls", Get, "call-history", Handler::Calls(CallsRoute::History))
        .with_store_calls(2),
    /// The caller's seen mark in their call history.
    CallsSeen => app("/phone/calls/seen", Post, "calls-seen", Handler::Calls(CallsRoute::Seen)),
    /// A voicemail: played (GET) or deleted (DELETE).
    Voicemail => app(VOICEMAIL_PATH, GetOrDelete, "voicemail",
        Handler::Calls(CallsRoute::Voicemail))
        .with_store_calls(2)
        .using(Uses::TwilioApi),
    /// The caller's own presence, and the status they set (`PUT`): the status written beside
    /// the presence and profile reads.
    PresenceStatus => app("/phone/presence/status", GetOrPut, "presence-status",
        Handler::People(PeopleRoute::Status))
        .with_store_calls(3),
    /// The presence of the caller's org, or of one of its groups: a team's people by key,
    /// 100 to a request, sent together.
    Team => app("/phone/team", Get, "team", Handler::People(PeopleRoute::Team))
        .with_store_calls(5),
    /// The caller's SMS conversations.
    SmsConversations => app("/phone/sms/conversations", Get, "sms-conversations",
        Handler::Sms(SmsRoute::Conversations))
        .with_store_calls(2),
    /// A conversation's messages.
    SmsMessages => app("/phone/sms/messages", Get, "sms-messages", Handler::Sms(SmsRoute::Messages))
        .with_store_calls(2),
    /// The caller's read mark in a conversation.
    SmsRead => app("/phone/sms/read", Post, "sms-read", Handler::Sms(SmsRoute::Read))
        .with_store_calls(3),
    /// A received MMS's media file.
    SmsMedia => app("/phone/sms/media", Get, "sms-media", Handler::Sms(SmsRoute::Media))
        .with_store_calls(2)
        .using(Uses::TwilioApi),
    /// A text from one of the caller's numbers.
    SmsSend => app("/phone/sms/send", Post, "sms-send", Handler::Sms(SmsRoute::Send))
        .with_body_limit(MAX_SMS_SEND_BODY_BYTES)
        .with_store_calls(3)
        .using(Uses::TwilioApi),
    /// The admin API: the caller's whole org, read or replaced (a body up to 1 MiB: an org of
    /// 5,000 people). One write takes the org's lock, then writes its records and views.
    AdminDirectory => app("/phone/admin/directory", GetOrPut, "admin-directory",
        Handler::Admin(AdminRoute::Directory))
        .with_body_limit(MAX_ADMIN_BODY_BYTES)
        .with_store_calls(2),
    /// The admin API: one person of the org.
    AdminUser => app("/phone/admin/users/{email}", GetPutOrDelete, "admin-user",
        Handler::Admin(AdminRoute::Record(RecordKind::User)))
        .with_body_limit(MAX_ADMIN_BODY_BYTES)
        .with_store_calls(2),
    /// The admin API: one group of the org.
    AdminGroup => app("/phone/admin/groups/{id}", GetPutOrDelete, "admin-group",
        Handler::Admin(AdminRoute::Record(RecordKind::Group)))
        .with_body_limit(MAX_ADMIN_BODY_BYTES)
        .with_store_calls(2),
    /// The admin API: one number of the org.
    AdminPhone => app("/phone/admin/phones/{id}", GetPutOrDelete, "admin-phone",
        Handler::Admin(AdminRoute::Record(RecordKind::Phone)))
        .with_body_limit(MAX_ADMIN_BODY_BYTES)
        .with_store_calls(2),
    /// The admin API: the org's audit log.
    AdminAudit => app("/phone/admin/audit", Get, "admin-audit", Handler::Admin(AdminRoute::Audit)),
    /// Twilio: a text arrives on a number.
    SmsIncoming => webhook("/phone/sms/incoming", "sms-incoming",
        WebhookRoute::Sms(SmsWebhook::Incoming))
        .with_store_calls(2),
    /// Twilio: a sent text's status callback.
    SmsStatus => webhook("/phone/sms/status", "sms-status", WebhookRoute::Sms(SmsWebhook::Status))
        .with_store_calls(2),
    /// Twilio: the number's SMS fallback URL, when the incoming webhook failed.
    SmsFallback => webhook("/phone/sms/fallback", "sms-fallback",
        WebhookRoute::Sms(SmsWebhook::Fallback)),
}

impl Route {
    /// Twilio's webhooks: one function (the webhook Function URL) serves them all.
    pub const WEBHOOKS: [Route; 9] = [
        Route::VoiceIncoming,
        Route::DialStatus,
        Route::VoiceOutgoing,
        Route::CallStatus,
        Route::VoiceFallback,
        Route::RecordingStatus,
        Route::SmsIncoming,
        Route::SmsStatus,
        Route::SmsFallback,
    ];
    /// The admin API's routes: one function.
    pub const ADMIN: [Route; 5] = [
        Route::AdminDirectory,
        Route::AdminUser,
        Route::AdminGroup,
        Route::AdminPhone,
        Route::AdminAudit,
    ];
    /// People presence's app routes: one function.
    pub const PEOPLE: [Route; 2] = [Route::PresenceStatus, Route::Team];
    /// The call history's app routes: one function.
    pub const CALLS: [Route; 3] = [Route::CallHistory, Route::CallsSeen, Route::Voicemail];
    /// The SMS inbox's app routes: one function.
    pub const SMS: [Route; 5] = [
        Route::SmsConversations,
        Route::SmsMessages,
        Route::SmsRead,
        Route::SmsMedia,
        Route::SmsSend,
    ];

    pub fn path(self) -> &'static str {
        self.facts().path
    }

    pub fn method(self) -> Method {
        self.facts().methods.primary()
    }

    pub fn name(self) -> &'static str {
        self.facts().name
    }

    pub fn handler(self) -> Handler {
        self.facts().handler
    }

    pub fn is_webhook(self) -> bool {
        self.facts().auth == Auth::TwilioSignature
    }

    pub(super) fn accepts(self, method: &Method) -> bool {
        self.facts().methods.accepts(method)
    }

    /// What a 405's `Allow` header says: exactly the methods [`Self::accepts`] takes.
    pub fn allow(self) -> &'static str {
        self.facts().methods.allow()
    }

    pub(super) fn max_body_bytes(self) -> usize {
        self.facts().max_body_bytes
    }

    pub fn concurrent_store_calls(self) -> usize {
        self.facts().concurrent_store_calls
    }

    /// The configuration sections this route's binary must have.
    pub fn needs(self) -> Needs {
        let facts = self.facts();
        Needs {
            app_auth: facts.auth == Auth::AppToken,
            voice_tokens: facts.uses == Uses::VoiceTokens,
            webhooks: facts.auth == Auth::TwilioSignature,
            realtime: facts.uses == Uses::Realtime,
            push: false,
            twilio_api: facts.uses == Uses::TwilioApi,
            table: true,
            alerts: false,
        }
    }

    /// The route whose path `path` is or ends with: API Gateway stages and custom-domain base
    /// paths put a prefix in front.
    pub fn for_path(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        if voicemail_sid(path).is_some() {
            return Some(Self::Voicemail);
        }
        for (prefix, route) in ADMIN_RECORD_PREFIXES {
            if let Some(at) = path.find(prefix) {
                let key = &path[at + prefix.len()..];
                if !key.is_empty() && !key.contains('/') {
                    return Some(route);
                }
            }
        }
        Self::ALL
            .into_iter()
            .filter(|r| path == r.path() || path.ends_with(r.path()))
            .max_by_key(|r| r.path().len())
    }

    /// The configuration sections a function serving `routes` must have.
    pub fn needs_of(routes: &[Route]) -> Needs {
        routes
            .iter()
            .fold(Needs::default(), |acc, r| acc.union(r.needs()))
    }

    /// The DynamoDB connections a function serving `routes` opens during init: the most any
    /// of them sends at once.
    pub fn concurrent_store_calls_of(routes: &[Route]) -> usize {
        routes
            .iter()
            .map(|r| r.concurrent_store_calls())
            .max()
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The functions' route lists name exactly the routes whose handler is theirs.
    #[test]
    fn each_functions_route_list_is_its_handlers_routes() {
        let of = |pick: fn(Handler) -> bool| -> Vec<Route> {
            Route::ALL
                .into_iter()
                .filter(|r| pick(r.handler()))
                .collect()
        };
        assert_eq!(
            Route::WEBHOOKS.to_vec(),
            of(|h| matches!(h, Handler::Webhook(_)))
        );
        assert_eq!(Route::SMS.to_vec(), of(|h| matches!(h, Handler::Sms(_))));
        assert_eq!(
            Route::CALLS.to_vec(),
            of(|h| matches!(h, Handler::Calls(_)))
        );
        assert_eq!(
            Route::PEOPLE.to_vec(),
            of(|h| matches!(h, Handler::People(_)))
        );
        assert_eq!(
            Route::ADMIN.to_vec(),
            of(|h| matches!(h, Handler::Admin(_)))
        );
        for route in Route::ALL {
            assert_eq!(
                route.is_webhook(),
                Route::WEBHOOKS.contains(&route),
                "{route:?}"
            );
        }
    }

    /// Each path is one route's, and each route finds itself by its path.
    #[test]
    fn every_route_is_found_by_its_path() {
        for route in Route::ALL {
            let path = route
                .path()
                .replace("{recordingSid}", "RE0123456789abcdef0123456789abcdef")
                .replace("{email}", "alice@example.com")
                .replace("{id}", "grp-sales");
            assert_eq!(Route::for_path(&path), Some(route), "{path}");
        }
    }
}
