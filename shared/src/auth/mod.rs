//! Who is calling: the app's sign-in JWT, verified here (`jwt.rs`: `jsonwebtoken::decode`
//! with keys prepared once; `jwks.rs`: an identity provider's published keys) or by API
//! Gateway's JWT authorizer. The caller's org and email come only from verified claims, never
//! from a request body, and only from a token carrying every required claim value.

mod jwks;
mod jwt;

use std::collections::HashMap;

use crate::clock::Clock;
use crate::config::{AppAuthConfig, ClaimNames, Config};
use crate::domain::{Caller, Email, Identity, IdentityStyle, OrgId};
use crate::secrets::Secrets;

pub use jwt::LEEWAY_SECONDS;

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

/// An app JWT key from the configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

enum Mode {
    Jwt(Box<jwt::Verifier>),
    Gateway,
}

pub struct Authenticator {
    mode: Mode,
    claims: ClaimNames,
    identity_style: IdentityStyle,
}

/// The claims a caller is made of, however they were verified.
enum Verified<'a> {
    Token(jwt::Claims),
    Gateway(&'a HashMap<String, String>),
}

impl Authenticator {
    /// Build the verifier once at start-up from `config`'s app-auth section (an HS256 key is
    /// remade from each re-read of `secrets`; an identity provider's key set ages on
    /// `clock`); a key that does not parse stops the binary.
    pub fn new(
        config: &Config,
        identity_style: IdentityStyle,
        secrets: Option<&Secrets>,
        clock: &Clock,
    ) -> Result<Self, KeyError> {
        let auth = config
            .app_auth
            .as_ref()
            .ok_or_else(|| KeyError("app authentication is not configured".into()))?;
        let (mode, claims) = match auth {
            AppAuthConfig::Gateway { claims } => (Mode::Gateway, claims),
            AppAuthConfig::Jwt {
                key,
                issuers,
                audience,
                claims,
            } => {
                let rules = jwt::Rules {
                    issuers,
                    audience: audience.as_deref(),
                };
                let verifier = jwt::Verifier::new(key, &rules, config, secrets, clock)?;
                (Mode::Jwt(Box::new(verifier)), claims)
            }
        };
        Ok(Self {
            mode,
            claims: claims.clone(),
            identity_style,
        })
    }

    /// What to fetch during init: an identity provider's keys, concurrently with the DynamoDB
    /// warm-up. A failure is logged and leaves the fetch to the first token.
    pub async fn prefetch(&self) {
        if let Mode::Jwt(verifier) = &self.mode {
            verifier.prefetch().await;
        }
    }

    /// `authorization` is the raw header value; `gateway_claims` what API Gateway's JWT
    /// authorizer put in the request context (used only in gateway mode).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        gateway_claims: Option<&HashMap<String, String>>,
    ) -> Result<Caller, AuthError> {
        let verified = match &self.mode {
            Mode::Gateway => Verified::Gateway(gateway_claims.ok_or_else(|| {
                AuthError::InvalidToken("no claims from the API Gateway authorizer".into())
            })?),
            Mode::Jwt(verifier) => Verified::Token(verifier.verify(bearer(authorization)?).await?),
        };
        for required in &self.claims.required {
            let holds = match &verified {
                Verified::Token(claims) => jwt::holds(claims.get(&required.name), required),
                Verified::Gateway(claims) => claims.get(&required.name) == Some(&required.value),
            };
            if !holds {
                return Err(AuthError::BadClaim {
                    claim: required.name.clone(),
                    reason: format!("must be {:?}", required.value),
                });
            }
        }
        let [email_raw, org_raw] = [&self.claims.email, &self.claims.org].map(|name| {
            match &verified {
                Verified::Token(claims) => jwt::text(claims, name),
                Verified::Gateway(claims) => claims.get(name).filter(|v| !v.is_empty()).cloned(),
            }
            .ok_or_else(|| AuthError::BadClaim {
                claim: name.clone(),
                reason: "missing or not a string".into(),
            })
        });
        let (email_raw, org_raw) = (email_raw?, org_raw?);
        let bad = |claim: &String| {
            let claim = claim.clone();
            move |e: crate::domain::FieldError| AuthError::BadClaim {
                claim,
                reason: e.message,
            }
        };
        let email =
            Email::parse_field(&email_raw, &self.claims.email).map_err(bad(&self.claims.email))?;
        let org = OrgId::parse_field(&org_raw, &self.claims.org).map_err(bad(&self.claims.org))?;
        let identity = Identity::for_person(&org, &email, self.identity_style)
            .map_err(bad(&self.claims.email))?;
        let admin = self
            .claims
            .admin
            .as_ref()
            .is_some_and(|admin| match &verified {
                Verified::Token(claims) => {
                    jwt::includes(jwt::at_path(claims, &admin.name), &admin.value)
                }
                Verified::Gateway(claims) => {
                    gateway_includes(claims.get(&admin.name), &admin.value)
                }
            });
        Ok(Caller {
            org,
            email,
            identity,
            admin,
        })
    }
}

/// Whether an API Gateway authorizer's claim holds `value`: API Gateway hands a list claim
/// over as one string, `[a b c]` (or JSON-ish `["a","b"]` from some providers).
fn gateway_includes(claim: Option<&String>, value: &str) -> bool {
    let Some(raw) = claim else {
        return false;
    };
    raw == value
        || raw
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split([' ', ','])
            .map(|item| item.trim().trim_matches('"'))
            .any(|item| item == value)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(authorization: Option<&str>) -> Result<&str, AuthError> {
    if authorization.is_some_and(|h| h.len() > MAX_AUTHORIZATION_BYTES) {
        return Err(AuthError::InvalidToken(format!(
            "Authorization header longer than {MAX_AUTHORIZATION_BYTES} bytes"
        )));
    }
    authorization
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MissingToken)
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

#[cfg(test)]
mod tests;
