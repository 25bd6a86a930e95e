//! Twilio Voice access tokens: an HS256 JWT signed with the API key secret, `iss` the key SID,
//! `sub` the account SID, the identity inside `grants`, and the voice grant (incoming, the
//! TwiML App for outgoing calls, the push credential of the device's platform).
//!
//! A token is `jsonwebtoken::encode` of the claims below with the HS256 header Twilio requires
//! (`typ: JWT`, `cty: twilio-fpa;v=1`); the header and the key are prepared once.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::config::{ExposeSecret, VoiceTokenConfig};
use crate::domain::{Identity, Platform};

/// Twilio refuses tokens that live longer than a day.
pub const MAX_TTL_SECONDS: u32 = 86_400;

pub struct VoiceTokenMinter {
    account_sid: String,
    api_key_sid: String,
    /// The API key secret's HS256 key.
    key: EncodingKey,
    header: Header,
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
            key: EncodingKey::from_secret(config.api_key_secret.expose_secret().as_bytes()),
            header: header(),
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
        let claims = self.claims(identity, platform, now_s);
        jsonwebtoken::encode(&self.header, &claims, &self.key)
            .map_err(|e| format!("sign voice token: {e}"))
    }
}

/// The voice token's header: HS256, and the content type Twilio requires.
fn header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("JWT".into());
    header.cty = Some("twilio-fpa;v=1".into());
    header
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::{Value, json};

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

    /// The header and claims Twilio documents
    /// (<https://www.twilio.com/docs/iam/access-tokens>), signed HS256 with the API key
    /// secret, for each platform, with and without the TwiML App.
    #[test]
    fn tokens_carry_twilios_header_and_claims() {
        let email = Email::parse_field("o'hara+1@example.com", "email").unwrap();
        let org = crate::domain::OrgId::parse_field("org_demo", "org").unwrap();
        let identity = Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap();
        let now_s = 1_795_215_395;
        for twiml_app in [false, true] {
            let config = config(twiml_app);
            let minter = VoiceTokenMinter::new(&config, 3600);
            for platform in [Platform::Web, Platform::Ios, Platform::Android] {
                let token = minter.mint(&identity, platform, now_s).unwrap();
                let header = token.split('.').next().unwrap();
                let header: Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
                assert_eq!(
                    header,
                    json!({"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"})
                );
                let mut validation = Validation::new(Algorithm::HS256);
                validation.validate_exp = false;
                validation.set_required_spec_claims::<&str>(&[]);
                let key = DecodingKey::from_secret(b"api-key-secret-of-the-test");
                let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
                    .unwrap()
                    .claims;
                let mut voice = json!({"incoming": {"allow": true}});
                if twiml_app {
                    voice["outgoing"] =
                        json!({"application_sid": "AP00000000000000000000000000000000"});
                }
                if platform == Platform::Ios {
                    voice["push_credential_sid"] = json!("CRios");
                }
                let expected = json!({
                    "jti": format!("SK00000000000000000000000000000000-{now_s}"),
                    "iss": "SK00000000000000000000000000000000",
                    "sub": "AC00000000000000000000000000000000",
                    "iat": now_s,
                    "nbf": now_s,
                    "exp": now_s + 3600,
                    "grants": {"identity": identity.as_str(), "voice": voice},
                });
                assert_eq!(claims, expected, "{platform:?}, TwiML App {twiml_app}");
                let wrong = DecodingKey::from_secret(b"another-secret");
                assert!(jsonwebtoken::decode::<Value>(&token, &wrong, &validation).is_err());
            }
        }
    }
}
