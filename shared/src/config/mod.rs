//! Settings read once at start-up from environment variables (the README's Configuration
//! table). Loading ([`env`]) reports every missing or malformed variable at once, by name, so
//! an operator fixes a deployment in one round instead of one variable per cold start.
//!
//! The environment is passed in as a lookup function: nothing here reads process state, so
//! tests and the local server (which layers development defaults under the real environment)
//! use the same code as the Lambda functions. Secrets are [`SecretString`]s: no `Debug` or
//! log line can print them.

mod alerts;
mod app_auth;
mod env;
mod outbound;
mod reader;
mod secrets;
#[cfg(test)]
mod tests;

pub use alerts::{
    AlertsConfig, ApnsConfig, DEFAULT_APNS_BASE_URL, DEFAULT_APNS_SANDBOX_BASE_URL,
    DEFAULT_FCM_BASE_URL, DEFAULT_FCM_TOKEN_URL, FcmConfig,
};
pub use outbound::{
    DEFAULT_CALLS_PER_MINUTE, DEFAULT_NEW_RECIPIENTS_PER_DAY, DEFAULT_SMS_PER_MINUTE,
    OutboundSettings,
};
pub use secrecy::{ExposeSecret, SecretString};
pub use secrets::{
    ROTATED_WITH_SECRETS, SECRET_NAMES, SecretValues, SecretsSource, with_secret_values,
};

use crate::domain::IdentityStyle;

/// Which parts of the configuration a binary needs; only those are required.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub app_auth: bool,
    pub voice_tokens: bool,
    pub webhooks: bool,
    /// The realtime channel's tickets: issued by the events endpoint, checked on connect.
    pub realtime: bool,
    /// Where the push function posts events (API Gateway's `@connections`).
    pub push: bool,
    /// Twilio's REST API (sending texts, fetching media and recordings).
    pub twilio_api: bool,
    pub table: bool,
    /// Alerts to sleeping phones through APNs and FCM.
    pub alerts: bool,
}

impl Needs {
    pub fn union(self, other: Needs) -> Needs {
        Needs {
            app_auth: self.app_auth || other.app_auth,
            voice_tokens: self.voice_tokens || other.voice_tokens,
            webhooks: self.webhooks || other.webhooks,
            realtime: self.realtime || other.realtime,
            push: self.push || other.push,
            twilio_api: self.twilio_api || other.twilio_api,
            table: self.table || other.table,
            alerts: self.alerts || other.alerts,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: Option<String>,
    pub presence: PresenceSettings,
    pub app_auth: Option<AppAuthConfig>,
    pub voice_tokens: Option<VoiceTokenConfig>,
    pub webhooks: Option<WebhookConfig>,
    pub realtime: Option<RealtimeConfig>,
    pub push: Option<PushConfig>,
    pub twilio_api: Option<TwilioApiConfig>,
    pub alerts: Option<AlertsConfig>,
}

/// `PRESENCE_TTL_SECONDS_PUSH` unless set: a week. A user who has not opened the app for that
/// long stops ringing it (calls go to the fallback) until they open it again.
pub const DEFAULT_PUSH_TTL_SECONDS: u32 = 7 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceSettings {
    pub ttl_seconds: u32,
    pub mobile_ttl_seconds: u32,
    /// How long a phone whose Twilio SDK is registered for push stays callable after it was
    /// last heard from (at least `mobile_ttl_seconds`).
    pub push_ttl_seconds: u32,
    pub max_devices_per_identity: usize,
    pub identity_style: IdentityStyle,
    pub voice_token_ttl_seconds: u32,
    /// How long a remote sign-out bars a device's automatic re-registers.
    pub signed_out_ttl_seconds: u32,
    /// How long call state counts without its `completed` callback.
    pub max_call_seconds: u32,
    /// How long events stay readable by catch-up.
    pub event_retention_seconds: u32,
    /// How long call history entries are kept.
    pub call_history_retention_days: u32,
    /// How long the admin API's audit entries are kept (`AUDIT_RETENTION_DAYS`).
    pub audit_retention_days: u32,
    /// Socket presence: how an open realtime connection keeps its device live.
    pub socket: SocketSettings,
    /// `HEARTBEAT_URL`: where clients send heartbeats when not to the API's own path (in AWS,
    /// the heartbeat function's own Function URL, which verifies the app token itself: no API
    /// Gateway request per heartbeat). Register tells clients as `presence.heartbeatUrl`.
    pub heartbeat_url: Option<String>,
}

/// Socket presence (`SOCKET_KEEPALIVE_SECONDS`, `SOCKET_GRACE_SECONDS`): a device whose
/// realtime connection is open needs no HTTP heartbeats. Each keep-alive (a `ping` frame)
/// leases it `keep_alive_seconds + grace_seconds + 60` seconds of life: a connection that
/// vanishes without a close ends its device's presence at most that long after its last
/// ping, a closed one `grace_seconds` after the close (unless it reconnects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketSettings {
    /// How often a client pings its open connection: 540 s by default, under API Gateway's
    /// 10-minute idle close with a minute to spare for a throttled background tab's timer.
    pub keep_alive_seconds: u32,
    /// How long a closed connection's device stays live, for a reconnect not to flap it.
    pub grace_seconds: u32,
}

/// What a ping's lease allows beyond the keep-alive interval and the grace: a late timer.
pub const SOCKET_LEASE_SLACK_SECONDS: u32 = 60;

impl Default for SocketSettings {
    fn default() -> Self {
        Self {
            keep_alive_seconds: 540,
            grace_seconds: 20,
        }
    }
}

impl SocketSettings {
    /// How long a keep-alive keeps the device live (the store's `expiry` from its time).
    pub fn lease_seconds(&self) -> u32 {
        self.keep_alive_seconds + self.grace_seconds + SOCKET_LEASE_SLACK_SECONDS
    }
}

impl Default for PresenceSettings {
    fn default() -> Self {
        Self {
            ttl_seconds: 90,
            mobile_ttl_seconds: 90,
            push_ttl_seconds: DEFAULT_PUSH_TTL_SECONDS,
            max_devices_per_identity: 10,
            identity_style: IdentityStyle::Safe,
            voice_token_ttl_seconds: 3600,
            signed_out_ttl_seconds: 30 * 86_400,
            max_call_seconds: 14_400,
            event_retention_seconds: crate::events::DEFAULT_RETENTION_SECONDS,
            call_history_retention_days: crate::history::DEFAULT_RETENTION_DAYS,
            audit_retention_days: crate::store::directory::write::DEFAULT_AUDIT_RETENTION_DAYS,
            socket: SocketSettings::default(),
            heartbeat_url: None,
        }
    }
}

impl PresenceSettings {
    pub fn ttl_for(&self, platform: crate::domain::Platform) -> u32 {
        if platform.is_mobile() {
            self.mobile_ttl_seconds
        } else {
            self.ttl_seconds
        }
    }

    /// The TTL of a device on `platform` while its Twilio SDK reports `registered`: a phone's
    /// push registration rings it with the app asleep; a browser has none.
    pub fn push_ttl_for(&self, platform: crate::domain::Platform) -> u32 {
        if platform.is_mobile() {
            self.push_ttl_seconds.max(self.mobile_ttl_seconds)
        } else {
            self.ttl_seconds
        }
    }

    /// Two thirds of the TTL: one lost heartbeat still leaves the device live.
    pub fn heartbeat_interval_for(ttl_seconds: u32) -> u32 {
        (ttl_seconds * 2 / 3).max(1)
    }
}

#[derive(Debug, Clone)]
pub enum AppJwtKey {
    /// `APP_JWT_SECRET`, HS256.
    Secret(SecretString),
    /// `APP_JWT_PUBLIC_KEY`, PEM; RS256 for RSA keys, ES256 for P-256 keys.
    PublicKeyPem(String),
    /// `APP_JWT_JWKS_URL`: an identity provider's key set, RS256 and ES256 keys by `kid`.
    Jwks(JwksConfig),
}

/// Where an identity provider publishes its signing keys, and how often an unknown `kid` may
/// fetch them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksConfig {
    pub url: String,
    /// `APP_JWT_JWKS_MIN_REFRESH_SECONDS`: the least time between two fetches an unknown
    /// `kid` causes.
    pub min_refresh_seconds: u32,
}

/// Where the caller is in the token's claims, and the claim values a token must carry.
#[derive(Debug, Clone)]
pub struct ClaimNames {
    pub email: String,
    pub org: String,
    /// `APP_JWT_REQUIRED_CLAIMS`: each claim must hold exactly this value.
    pub required: Vec<RequiredClaim>,
    /// `APP_JWT_ADMIN_CLAIM` and `APP_JWT_ADMIN_VALUE`: a token whose claim (a dotted path
    /// allowed) is this value, or a list holding it, is an admin's of its own org. None: nobody
    /// is an admin, and the admin API answers 403 to all.
    pub admin: Option<RequiredClaim>,
}

/// A claim a token must carry with this value (`token_use=id`). `true` and `false` also match
/// the JSON booleans: providers write `email_verified` either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredClaim {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub enum AppAuthConfig {
    Jwt {
        key: AppJwtKey,
        /// `APP_JWT_ISSUER`, comma-separated: a token's `iss` must be one of them; none
        /// skips the check.
        issuers: Vec<String>,
        audience: Option<String>,
        claims: ClaimNames,
    },
    /// `AUTH_MODE=gateway`: API Gateway's JWT authorizer already verified the token.
    Gateway { claims: ClaimNames },
}

#[derive(Debug, Clone)]
pub struct VoiceTokenConfig {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: SecretString,
    pub twiml_app_sid: Option<String>,
    pub push_credential_sid_ios: Option<String>,
    pub push_credential_sid_android: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub account_sid: String,
    pub auth_token: SecretString,
    /// `TWILIO_AUTH_TOKEN_SECONDARY`: also accepted while the auth token is rotated.
    pub auth_token_secondary: Option<SecretString>,
    pub public_base_url: Option<String>,
    /// How long a webhook may wait on the store before it answers with a fallback.
    pub deadline: std::time::Duration,
    /// The TwiML App whose Voice Request URL is the outgoing webhook; none refuses it.
    pub twiml_app_sid: Option<String>,
    /// The operator's limits on outgoing calls: `OUTBOUND_ALLOWED_PREFIXES`, calls per minute.
    pub outbound: OutboundSettings,
}

/// Every problem with the configuration, each naming its variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration invalid: {}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

/// The realtime channel: the key of its connection tickets and where clients connect.
#[derive(Debug, Clone)]
pub struct RealtimeConfig {
    /// `REALTIME_TICKET_SECRET`: signs the short-lived tickets a device connects with.
    pub ticket_secret: SecretString,
    /// `REALTIME_URL`: the WebSocket API's `wss://…/{stage}` URL; unset on the local server,
    /// which answers with its own address.
    pub url: Option<String>,
}

/// Where Twilio's REST API is when `TWILIO_API_BASE_URL` is unset.
pub const DEFAULT_TWILIO_API_BASE_URL: &str = "https://api.twilio.com";

/// Calling Twilio's REST API: its address and the API key, and what outgoing texts need.
#[derive(Debug, Clone)]
pub struct TwilioApiConfig {
    pub rest: RestConfig,
    /// Where Twilio reaches the status-callback webhook; `None`: the local server's own
    /// address (never the request's `Host`); the Lambda function refuses to start without it.
    pub public_base_url: Option<String>,
    /// The operator's limits on texts: `OUTBOUND_ALLOWED_PREFIXES`, texts per minute, new
    /// recipients per day.
    pub outbound: OutboundSettings,
    /// `TWILIO_API_TIMEOUT_MS`: how long a request to Twilio may take, answer read.
    pub timeout: std::time::Duration,
}

/// Where Twilio's REST API is and the credentials it takes.
#[derive(Clone, Debug)]
pub struct RestConfig {
    /// `TWILIO_API_BASE_URL` without a trailing slash: `https://api.twilio.com` in production,
    /// a local fake in tests.
    pub base_url: String,
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: SecretString,
}

/// Where the push function posts events.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// `REALTIME_MANAGEMENT_URL`: the WebSocket API's `https://…/{stage}` URL, whose
    /// `@connections` take the frames.
    pub management_url: String,
}
