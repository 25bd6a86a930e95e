//! Who is calling: the app's sign-in JWT, verified here or by API Gateway's JWT authorizer.
//! The caller's org and email come only from verified claims, never from a request body.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::{AppAuthConfig, AppJwtKey, ClaimNames};
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

enum Mode {
    Jwt {
        key: Box<DecodingKey>,
        validation: Box<Validation>,
    },
    Gateway,
}

pub struct Authenticator {
    mode: Mode,
    claims: ClaimNames,
    identity_style: IdentityStyle,
}

impl Authenticator {
    /// Build the verifier once at start-up; a key that does not parse stops the binary.
    pub fn new(config: &AppAuthConfig, identity_style: IdentityStyle) -> Result<Self, String> {
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
                        DecodingKey::from_secret(secret.as_bytes()),
                        Algorithm::HS256,
                    ),
                    AppJwtKey::PublicKeyPem(pem) => {
                        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                            (key, Algorithm::RS256)
                        } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                            (key, Algorithm::ES256)
                        } else {
                            return Err(
                                "APP_JWT_PUBLIC_KEY is not an RSA or EC public key in PEM form"
                                    .into(),
                            );
                        }
                    }
                };
                let mut validation = Validation::new(algorithm);
                validation.leeway = LEEWAY_SECONDS;
                validation.validate_nbf = true;
                // jsonwebtoken checks iss/aud only when present: a configured one is required.
                let mut required = vec!["exp"];
                match issuer {
                    Some(iss) => {
                        validation.set_issuer(&[iss]);
                        required.push("iss");
                    }
                    None => validation.iss = None,
                }
                match audience {
                    Some(aud) => {
                        validation.set_audience(&[aud]);
                        required.push("aud");
                    }
                    None => validation.validate_aud = false,
                }
                validation.set_required_spec_claims(&required);
                Ok(Self {
                    mode: Mode::Jwt {
                        key: Box::new(key),
                        validation: Box::new(validation),
                    },
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
        let claims: Map<String, Value> = match &self.mode {
            Mode::Gateway => gateway_claims
                .ok_or_else(|| {
                    AuthError::InvalidToken("no claims from the API Gateway authorizer".into())
                })?
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            Mode::Jwt { key, validation } => {
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
                jsonwebtoken::decode::<Map<String, Value>>(token, key, validation)
                    .map_err(|e| AuthError::InvalidToken(describe(&e)))?
                    .claims
            }
        };
        let email_raw = self.claim(&claims, &self.claims.email)?;
        let org_raw = self.claim(&claims, &self.claims.org)?;
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

    fn claim(&self, claims: &Map<String, Value>, name: &str) -> Result<String, AuthError> {
        match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(AuthError::BadClaim {
                claim: name.to_owned(),
                reason: "missing or not a string".into(),
            }),
        }
    }
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
