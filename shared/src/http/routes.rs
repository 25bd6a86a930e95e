//! The route table: every path the service answers, its method, its body limit, its name in
//! the log, the configuration its function needs and how many store calls it sends at once.

use http::Method;

use crate::config::Needs;

// Body limits are sized from the fields' own limits in their worst JSON encoding, so that no
// body the contract allows is refused for its size: every character may be sent as an escape,
// `\u0041` (6 bytes), and one outside the Basic Multilingual Plane (an emoji) as an escaped
// surrogate pair, `\uD83D\uDE00` (12 bytes). Keys and punctuation are escaped as much, and
// JSON allows whitespace anywhere: `JSON_FRAME_BYTES` covers both for the bodies here (a few
// short keys each).

/// The most bytes one character takes in a JSON string.
const JSON_CHAR_BYTES: usize = 12;
/// The most bytes one ASCII character takes in a JSON string.
const JSON_ASCII_BYTES: usize = 6;
/// A body's keys, quotes, colons, commas and braces, escaped, with room for pretty-printing.
const JSON_FRAME_BYTES: usize = 2 * 1024;

/// A directory record id (`phoneId`): at most 64 ASCII characters (`directory::validate`).
const RECORD_ID_CHARS: usize = 64;
/// A `deviceId`: at most 128 ASCII characters (`DeviceId::parse`).
const DEVICE_ID_CHARS: usize = 128;
/// An E.164 number: `+` and at most 15 digits (`E164::parse_field`).
const E164_CHARS: usize = 16;
/// A `clientMessageId`: at most 64 ASCII characters (`http::api::sms_send`).
const CLIENT_MESSAGE_ID_CHARS: usize = 64;

/// Largest app request body accepted. The largest the contract allows is a device
/// registration: `deviceId` (128 × 6 = 768), `label` (64 characters × 12 = 768), `platform`,
/// `twilioState` and `capabilities` (under 50 ASCII characters × 6 = 300), `signIn`, and the
/// frame: under 4 KiB, so 8 KiB leaves room. The other app bodies are smaller (`phoneId`,
/// `with`, a SID, a `registrationId`: each at most 64 ASCII characters).
pub const MAX_APP_BODY_BYTES: usize = 8 * 1024;
const _: () = assert!(
    (DEVICE_ID_CHARS + 50) * JSON_ASCII_BYTES
        + crate::domain::Label::MAX_CHARS * JSON_CHAR_BYTES
        + JSON_FRAME_BYTES
        <= MAX_APP_BODY_BYTES
);
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

/// Largest body of a text to send: `body`, 1,600 characters of 12 bytes (19,200), then
/// `phoneId` (64), `to` (16) and `clientMessageId` (64) of 6 bytes (864), and the frame
/// (2,048): 22,112 bytes.
pub const MAX_SMS_SEND_BODY_BYTES: usize = crate::sms::message::MAX_BODY_CHARS * JSON_CHAR_BYTES
    + (RECORD_ID_CHARS + E164_CHARS + CLIENT_MESSAGE_ID_CHARS) * JSON_ASCII_BYTES
    + JSON_FRAME_BYTES;
/// Largest webhook body accepted. Twilio's largest is an incoming text: its `Body`, 1,600
/// characters form-encoded as up to 4 UTF-8 bytes of `%XX` (12 bytes each, 19,200), beside
/// ten `MediaUrl`s and a few kilobytes of other parameters.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;
/// The largest body any route takes: what the local server reads before it routes a request.
pub const MAX_ANY_BODY_BYTES: usize = MAX_WEBHOOK_BODY_BYTES;
const _: () = assert!(
    MAX_ANY_BODY_BYTES >= MAX_APP_BODY_BYTES && MAX_ANY_BODY_BYTES >= MAX_SMS_SEND_BODY_BYTES
);
const _: () = assert!(
    crate::sms::message::MAX_BODY_CHARS * JSON_CHAR_BYTES + 8 * 1024 <= MAX_WEBHOOK_BODY_BYTES
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    RegisterDevice,
    Heartbeat,
    UnregisterDevice,
    ListDevices,
    UserPhones,
    /// The caller's events after a cursor (catch-up).
    Events,
    /// A ticket to open the realtime channel with.
    EventsTicket,
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
    /// Twilio: a voicemail's recording is done.
    RecordingStatus,
    /// The caller's call history.
    CallHistory,
    /// The caller's seen mark in their call history.
    CallsSeen,
    /// A voicemail: played (GET) or deleted (DELETE).
    Voicemail,
    /// The caller's SMS conversations.
    SmsConversations,
    /// A conversation's messages.
    SmsMessages,
    /// The caller's read mark in a conversation.
    SmsRead,
    /// A received MMS's media file.
    SmsMedia,
    /// A text from one of the caller's numbers.
    SmsSend,
    /// Twilio: a text arrives on a number.
    SmsIncoming,
    /// Twilio: a sent text's status callback.
    SmsStatus,
    /// Twilio: the number's SMS fallback URL, when the incoming webhook failed.
    SmsFallback,
}

impl Route {
    pub const ALL: [Route; 24] = [
        Route::RegisterDevice,
        Route::Heartbeat,
        Route::UnregisterDevice,
        Route::ListDevices,
        Route::UserPhones,
        Route::Events,
        Route::EventsTicket,
        Route::VoiceIncoming,
        Route::DialStatus,
        Route::VoiceOutgoing,
        Route::CallStatus,
        Route::VoiceFallback,
        Route::SmsConversations,
        Route::SmsMessages,
        Route::SmsRead,
        Route::SmsMedia,
        Route::SmsSend,
        Route::SmsIncoming,
        Route::SmsStatus,
        Route::SmsFallback,
        Route::RecordingStatus,
        Route::CallHistory,
        Route::CallsSeen,
        Route::Voicemail,
    ];
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
        match self {
            Self::RegisterDevice => "/phone/voice/register-device",
            Self::Heartbeat => "/phone/voice/heartbeat",
            Self::UnregisterDevice => "/phone/voice/unregister-device",
            Self::ListDevices => "/phone/voice/devices",
            Self::UserPhones => "/phone/user-phones",
            Self::Events => "/phone/events",
            Self::EventsTicket => "/phone/events/ticket",
            Self::VoiceIncoming => "/phone/voice/incoming",
            Self::DialStatus => "/phone/voice/dial-status",
            Self::VoiceOutgoing => "/phone/voice/outgoing",
            Self::CallStatus => "/phone/voice/call-status",
            Self::VoiceFallback => "/phone/voice/fallback",
            Self::RecordingStatus => "/phone/voice/recording-status",
            Self::CallHistory => "/phone/calls",
            Self::CallsSeen => "/phone/calls/seen",
            Self::Voicemail => VOICEMAIL_PATH,
            Self::SmsConversations => "/phone/sms/conversations",
            Self::SmsMessages => "/phone/sms/messages",
            Self::SmsRead => "/phone/sms/read",
            Self::SmsMedia => "/phone/sms/media",
            Self::SmsSend => "/phone/sms/send",
            Self::SmsIncoming => "/phone/sms/incoming",
            Self::SmsStatus => "/phone/sms/status",
            Self::SmsFallback => "/phone/sms/fallback",
        }
    }

    pub fn method(self) -> Method {
        match self {
            Self::ListDevices
            | Self::UserPhones
            | Self::Events
            | Self::SmsConversations
            | Self::SmsMessages
            | Self::SmsMedia
            | Self::CallHistory
            | Self::Voicemail => Method::GET,
            _ => Method::POST,
        }
    }

    pub fn is_webhook(self) -> bool {
        Self::WEBHOOKS.contains(&self)
    }

    pub fn is_sms_webhook(self) -> bool {
        matches!(
            self,
            Self::SmsIncoming | Self::SmsStatus | Self::SmsFallback
        )
    }

    /// Twilio may be configured to call webhooks with GET; a voicemail is also deleted; other
    /// app routes take one method.
    pub(super) fn accepts(self, method: &Method) -> bool {
        *method == self.method()
            || (self.is_webhook() && *method == Method::GET)
            || (self == Self::Voicemail && *method == Method::DELETE)
    }

    /// What a 405's `Allow` header says: exactly the methods [`Self::accepts`] takes.
    pub fn allow(self) -> &'static str {
        match (self.is_webhook(), self.method()) {
            _ if self == Self::Voicemail => "GET, DELETE",
            (true, _) => "GET, POST",
            (false, m) if m == Method::GET => "GET",
            (false, _) => "POST",
        }
    }

    pub(super) fn max_body_bytes(self) -> usize {
        match self {
            _ if self.is_webhook() => MAX_WEBHOOK_BODY_BYTES,
            Self::SmsSend => MAX_SMS_SEND_BODY_BYTES,
            _ => MAX_APP_BODY_BYTES,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RegisterDevice => "register-device",
            Self::Heartbeat => "heartbeat",
            Self::UnregisterDevice => "unregister-device",
            Self::ListDevices => "list-devices",
            Self::UserPhones => "user-phones",
            Self::Events => "events",
            Self::EventsTicket => "events-ticket",
            Self::VoiceIncoming => "voice-incoming",
            Self::DialStatus => "dial-status",
            Self::VoiceOutgoing => "voice-outgoing",
            Self::CallStatus => "call-status",
            Self::VoiceFallback => "voice-fallback",
            Self::RecordingStatus => "recording-status",
            Self::CallHistory => "call-history",
            Self::CallsSeen => "calls-seen",
            Self::Voicemail => "voicemail",
            Self::SmsConversations => "sms-conversations",
            Self::SmsMessages => "sms-messages",
            Self::SmsRead => "sms-read",
            Self::SmsMedia => "sms-media",
            Self::SmsSend => "sms-send",
            Self::SmsIncoming => "sms-incoming",
            Self::SmsStatus => "sms-status",
            Self::SmsFallback => "sms-fallback",
        }
    }

    /// How many store requests the route sends at once (at most, in the common case): the
    /// DynamoDB connections its function opens during init, so that its first request finds
    /// one idle for each. Register writes the device while it reads the directory; an
    /// outgoing call reads the caller's profile and the destination's route together; an
    /// incoming group call reads its members' presence together (two, a small group); a
    /// send reads the profile and the conversation and claims its id together.
    pub fn concurrent_store_calls(self) -> usize {
        match self {
            Self::SmsSend | Self::SmsRead => 3,
            Self::CallStatus | Self::DialStatus | Self::RecordingStatus => 2,
            Self::RegisterDevice
            | Self::VoiceIncoming
            | Self::VoiceOutgoing
            | Self::SmsIncoming
            | Self::SmsStatus
            | Self::SmsConversations
            | Self::SmsMessages
            | Self::SmsMedia
            | Self::CallHistory
            | Self::Voicemail => 2,
            _ => 1,
        }
    }

    /// The configuration sections this route's binary must have.
    pub fn needs(self) -> Needs {
        Needs {
            app_auth: !self.is_webhook(),
            voice_tokens: self == Self::RegisterDevice,
            webhooks: self.is_webhook(),
            realtime: self == Self::EventsTicket,
            push: false,
            twilio_api: matches!(self, Self::SmsSend | Self::SmsMedia | Self::Voicemail),
            table: true,
        }
    }

    /// The route whose path `path` is or ends with: API Gateway stages and custom-domain base
    /// paths put a prefix in front.
    pub fn for_path(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        if voicemail_sid(path).is_some() {
            return Some(Self::Voicemail);
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
