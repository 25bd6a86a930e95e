//! Twilio Voice access tokens: an HS256 JWT signed with the API key secret, `iss` the key SID,
//! `sub` the account SID, the identity inside `grants`, and the voice grant (incoming, the
//! TwiML App for outgoing calls, the push credential of the device's platform).
//!
//! A token is `jsonwebtoken::encode` of the claims below with an HS256 header carrying `typ`
//! and `cty`, written out here with what never changes prepared once: the header is constant
//! (encoded at start-up) and the HMAC key is derived once, where `encode` would serialize the
//! header and derive the key again for every token. A unit test holds the output to `encode`'s.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;

use crate::config::{ExposeSecret, VoiceTokenConfig};
use crate::domain::{Identity, Platform};

/// Twilio refuses tokens that live longer than a day.
pub const MAX_TTL_SECONDS: u32 = 86_400;

pub struct VoiceTokenMinter {
    account_sid: String,
    api_key_sid: String,
    /// The HMAC-SHA256 key of the API key secret (boxed: it holds two digest states).
    key: Box<hmac::Key>,
    /// `base64url(header JSON) + "."`: the same for every token.
    header_dot: String,
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
            key: Box::new(hmac::Key::new(
                hmac::HMAC_SHA256,
                config.api_key_secret.expose_secret().as_bytes(),
            )),
            header_dot: format!("{}.", URL_SAFE_NO_PAD.encode(header_json())),
            twiml_app_sid: config.twiml_app_sid.clone(),
            push_ios: config.push_credential_sid_ios.clone(),
            push_android: config.push_credential_sid_android.clone(),
            ttl_seconds: ttl_seconds.min(MAX_TTL_SECONDS),
        }
    }

    pub fn ttl_seconds(&self) -> u32 {
        self.ttl_seconds
    }

    /// What the token says: its grants for `identity` on `platform`, valid from `now_s`.
    fn claims<'a>(&'a self, identity: &'a Identity, platform: Platform, now_s: i64) -> Claims<'a> {
        let push_credential_sid = match platform {
            Platform::Ios => self.push_ios.as_deref(),
            Platform::Android => self.push_android.as_deref(),
            Platform::Web => None,
        };
        Claims {
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
        }
    }

    /// A token for `identity` on a device of `platform`, issued at `now_s` (unix seconds).
    pub fn mint(
        &self,
        identity: &Identity,
        platform: Platform,
        now_s: i64,
    ) -> Result<String, String> {
        let claims = serde_json::to_vec(&self.claims(identity, platform, now_s))
            .map_err(|e| format!("serialize voice token: {e}"))?;
        let mut token = String::with_capacity(self.header_dot.len() + 4 * claims.len() / 3 + 48);
        token.push_str(&self.header_dot);
        URL_SAFE_NO_PAD.encode_string(&claims, &mut token);
        let signature = hmac::sign(&self.key, token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        Ok(token)
    }
}

/// The voice token's header, as jsonwebtoken writes it.
fn header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    header.cty = Some("twilio-fpa;v=1".into());
    header
}

fn header_json() -> Vec<u8> {
    // A `Header` of plain strings always serializes.
    serde_json::to_vec(&header()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::EncodingKey;

    use super::*;
    use crate::domain::{Email, IdentityStyle};

    fn config(twiml_app: bool) -> VoiceTokenConfig {
        VoiceTokenConfig {
            account_sid: "AC00000000000000000000000000000000".into(),
            api_key_sid: "SK00000000000000000000000000000000".into(),
            api_key_secret: "api-key-secret-of-the-test".into(),
            twiml_app_sid: twiml_app.then(|| "AP00000000000000000000000000000000".into()),
            push_credential_sid_ios: Some("CRios".into()),
            push_credential_sid_android: None,
        }
    }

    /// The tokens are byte for byte what `jsonwebtoken::encode` makes of the same claims.
    #[test]
    fn tokens_are_what_jsonwebtoken_would_encode() {
        let email = Email::parse_field("o'hara+1@example.com", "email").unwrap();
        let identity = Identity::for_email(&email, IdentityStyle::Safe).unwrap();
        for twiml_app in [false, true] {
            let config = config(twiml_app);
            let minter = VoiceTokenMinter::new(&config, 3600);
            for platform in [Platform::Web, Platform::Ios, Platform::Android] {
                let now_s = 1_795_215_395;
                let ours = minter.mint(&identity, platform, now_s).unwrap();
                let claims = minter.claims(&identity, platform, now_s);
                let key =
                    EncodingKey::from_secret(config.api_key_secret.expose_secret().as_bytes());
                let reference = jsonwebtoken::encode(&header(), &claims, &key).unwrap();
                assert_eq!(ours, reference, "{platform:?}, TwiML App {twiml_app}");
            }
        }
    }
}
