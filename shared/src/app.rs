//! The state every handler borrows: built once per process (a Lambda cold start, or the local
//! server's start), never per request.

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::config::{Config, PresenceSettings, WebhookConfig};
use crate::store::{DirectoryStore, PresenceStore};
use crate::twilio::signature::SignatureKey;
use crate::twilio::token::VoiceTokenMinter;

pub struct App {
    pub presence: Arc<dyn PresenceStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub settings: PresenceSettings,
    pub auth: Option<Authenticator>,
    pub voice_tokens: Option<VoiceTokenMinter>,
    pub webhooks: Option<WebhookConfig>,
    /// The key of `webhooks`' auth token, for `X-Twilio-Signature`.
    pub webhook_key: Option<SignatureKey>,
    /// Milliseconds since the epoch. A field, not a global, so tests can move time.
    pub clock: fn() -> i64,
    /// Number routes seen lately, for Twilio's fallback URL (which must not read the store).
    pub recent_routes: crate::routing::RecentRoutes,
}

pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl App {
    /// Everything `config` enables, over the given stores. Fails on keys that do not parse.
    pub fn new(
        config: &Config,
        presence: Arc<dyn PresenceStore>,
        directory: Arc<dyn DirectoryStore>,
    ) -> Result<Self, String> {
        let settings = config.presence;
        let auth = config
            .app_auth
            .as_ref()
            .map(|a| Authenticator::new(a, settings.identity_style))
            .transpose()?;
        let voice_tokens = config
            .voice_tokens
            .as_ref()
            .map(|v| VoiceTokenMinter::new(v, settings.voice_token_ttl_seconds));
        Ok(Self {
            presence,
            directory,
            settings,
            auth,
            voice_tokens,
            webhooks: config.webhooks.clone(),
            webhook_key: config
                .webhooks
                .as_ref()
                .map(|w| SignatureKey::new(&w.auth_token)),
            clock: system_clock,
            recent_routes: Default::default(),
        })
    }

    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }
}
