//! Twilio Voice access tokens, exactly as `twilio-protocol.md` §1 describes them.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::config::VoiceTokenConfig;
use crate::domain::{Identity, Platform};

/// Twilio refuses tokens that live longer than a day.
pub const MAX_TTL_SECONDS: u32 = 86_400;

pub struct VoiceTokenMinter {
    account_sid: String,
    api_key_sid: String,
    key: EncodingKey,
    twiml_app_sid: Option<String>,
    push_ios: Option<String>,
    push_android: Option<String>,
    ttl_seconds: u32,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    iss: &'a str,
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    grants: Grants<'a>,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: &'a str,
    voice: VoiceGrant<'a>,
}

#[derive(Serialize)]
struct VoiceGrant<'a> {
    incoming: Incoming,
    #[serde(skip_serializing_if = "Option::is_none")]
    outgoing: Option<Outgoing<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_credential_sid: Option<&'a str>,
}

#[derive(Serialize)]
struct Incoming {
    allow: bool,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    application_sid: &'a str,
}

impl VoiceTokenMinter {
    pub fn new(config: &VoiceTokenConfig, ttl_seconds: u32) -> Self {
        Self {
            account_sid: config.account_sid.clone(),
            api_key_sid: config.api_key_sid.clone(),
            key: EncodingKey::from_secret(config.api_key_secret.as_bytes()),
            twiml_app_sid: config.twiml_app_sid.clone(),
            push_ios: config.push_credential_sid_ios.clone(),
            push_android: config.push_credential_sid_android.clone(),
            ttl_seconds: ttl_seconds.min(MAX_TTL_SECONDS),
        }
    }

    pub fn ttl_seconds(&self) -> u32 {
        self.ttl_seconds
    }

    /// A token for `identity` on a device of `platform`, issued at `now_s` (unix seconds).
    pub fn mint(
        &self,
        identity: &Identity,
        platform: Platform,
        now_s: i64,
    ) -> Result<String, String> {
        let push_credential_sid = match platform {
            Platform::Ios => self.push_ios.as_deref(),
            Platform::Android => self.push_android.as_deref(),
            Platform::Web => None,
        };
        let claims = Claims {
            jti: format!("{}-{now_s}", self.api_key_sid),
            iss: &self.api_key_sid,
            sub: &self.account_sid,
            iat: now_s,
            nbf: now_s,
            exp: now_s + i64::from(self.ttl_seconds),
            grants: Grants {
                identity: identity.as_str(),
                voice: VoiceGrant {
                    incoming: Incoming { allow: true },
                    outgoing: self
                        .twiml_app_sid
                        .as_deref()
                        .map(|application_sid| Outgoing { application_sid }),
                    push_credential_sid,
                },
            },
        };
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("JWT".into());
        header.cty = Some("twilio-fpa;v=1".into());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("sign voice token: {e}"))
    }
}
