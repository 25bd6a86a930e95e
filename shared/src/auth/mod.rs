//! Who is calling: the app's sign-in JWT, verified here or by API Gateway's JWT authorizer.
//! The caller's org and email come only from verified claims, never from a request body.

mod jwt;

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::config::{AppAuthConfig, AppJwtKey, ClaimNames, ExposeSecret};
use crate::domain::{Caller, Email, Identity, IdentityStyle, OrgId};

/// Leeway for `exp`/`nbf`: covers clock skew between the app's issuer and Lambda, nothing more.
const LEEWAY_SECONDS: u64 = 30;

/// Longest `Authorization` header looked at. Sign-in tokens are well under 2 KB; anything
/// longer is refused before any base64 or JSON decoding, so a huge header costs nothing.
pub const MAX_AUTHORIZATION_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing Authorization: Bearer <token> header")]
    MissingToken,
    #[error("token rejected: {0}")]
    InvalidToken(String),
    #[error("token has no usable {claim:?} claim: {reason}")]
    BadClaim { claim: String, reason: String },
}

pub use jwt::Verifier;

/// An app JWT key from the configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

enum Mode {
    Jwt(Box<Verifier>),
    Gateway,
}

pub struct Authenticator {
    mode: Mode,
    claims: ClaimNames,
    identity_style: IdentityStyle,
}

impl Authenticator {
    /// Build the verifier once at start-up; a key that does not parse stops the binary.
    pub fn new(config: &AppAuthConfig, identity_style: IdentityStyle) -> Result<Self, KeyError> {
        match config {
            AppAuthConfig::Gateway { claims } => Ok(Self {
                mode: Mode::Gateway,
                claims: claims.clone(),
                identity_style,
            }),
            AppAuthConfig::Jwt {
                key,
                issuer,
                audience,
                claims,
            } => {
                // The algorithm is pinned by the key type, never taken from the token header:
                // that is what rejects `alg: none` and HS256-signed-with-the-public-key tokens.
                let (key, algorithm) = match key {
                    AppJwtKey::Secret(secret) => (
                        DecodingKey::from_secret(secret.expose_secret().as_bytes()),
                        Algorithm::HS256,
                    ),
                    AppJwtKey::PublicKeyPem(pem) => {
                        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                            (key, Algorithm::RS256)
                        } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                            (key, Algorithm::ES256)
                        } else {
                            return Err(KeyError(
                                "APP_JWT_PUBLIC_KEY is not an RSA or EC public key in PEM form"
                                    .into(),
                            ));
                        }
                    }
                };
                // A configured issuer or audience is required, not only checked when present.
                let verifier = Verifier::new(
                    algorithm,
                    &key,
                    issuer.as_deref(),
                    audience.as_deref(),
                    LEEWAY_SECONDS,
                    [&claims.email, &claims.org],
                )?;
                Ok(Self {
                    mode: Mode::Jwt(Box::new(verifier)),
                    claims: claims.clone(),
                    identity_style,
                })
            }
        }
    }

    /// `authorization` is the raw header value; `gateway_claims` what API Gateway's JWT
    /// authorizer put in the request context (used only in gateway mode).
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        gateway_claims: Option<&HashMap<String, String>>,
    ) -> Result<Caller, AuthError> {
        let [email_raw, org_raw] = match &self.mode {
            Mode::Gateway => {
                let claims = gateway_claims.ok_or_else(|| {
                    AuthError::InvalidToken("no claims from the API Gateway authorizer".into())
                })?;
                [&self.claims.email, &self.claims.org]
                    .map(|name| claims.get(name).filter(|v| !v.is_empty()).cloned())
            }
            Mode::Jwt(verifier) => {
                if authorization.is_some_and(|h| h.len() > MAX_AUTHORIZATION_BYTES) {
                    return Err(AuthError::InvalidToken(format!(
                        "Authorization header longer than {MAX_AUTHORIZATION_BYTES} bytes"
                    )));
                }
                let token = authorization
                    .and_then(|h| {
                        let (scheme, token) = h.trim().split_once(' ')?;
                        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
                    })
                    .filter(|t| !t.is_empty())
                    .ok_or(AuthError::MissingToken)?;
                verifier
                    .verify(token, now_seconds())
                    .map_err(|e| AuthError::InvalidToken(describe(&e)))?
            }
        };
        let email_raw = self.claim(email_raw, &self.claims.email)?;
        let org_raw = self.claim(org_raw, &self.claims.org)?;
        let email = Email::parse_field(&email_raw, &self.claims.email).map_err(|e| {
            AuthError::BadClaim {
                claim: self.claims.email.clone(),
                reason: e.message,
            }
        })?;
        let org =
            OrgId::parse_field(&org_raw, &self.claims.org).map_err(|e| AuthError::BadClaim {
                claim: self.claims.org.clone(),
                reason: e.message,
            })?;
        let identity =
            Identity::for_email(&email, self.identity_style).map_err(|e| AuthError::BadClaim {
                claim: self.claims.email.clone(),
                reason: e.message,
            })?;
        Ok(Caller {
            org,
            email,
            identity,
        })
    }

    fn claim(&self, value: Option<String>, name: &str) -> Result<String, AuthError> {
        value.ok_or_else(|| AuthError::BadClaim {
            claim: name.to_owned(),
            reason: "missing or not a string".into(),
        })
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A reason a client developer can act on, without echoing the token.
fn describe(err: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature => "expired".into(),
        ErrorKind::ImmatureSignature => "not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAlgorithm => "algorithm not accepted".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("missing {claim} claim"),
        _ => "malformed".into(),
    }
}
