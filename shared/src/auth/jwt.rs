//! App JWT verification by `jsonwebtoken::decode`, with what does not depend on the token
//! prepared once: the `Validation` of each algorithm and the keys (the HS256 secret's key,
//! remade when a re-read of the secret changes it; the PEM key; an identity provider's key
//! set). The algorithm is pinned by the key, never taken from the token's header: that is what
//! refuses `alg: none` and HS256 tokens signed with a public key.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::jwks::Jwks;
use super::{AuthError, KeyError, describe};
use crate::config::{AppJwtKey, ExposeSecret, RequiredClaim};
use crate::secrets::{Rotating, Secrets};

/// Leeway for `exp`/`nbf`: covers clock skew between the app's issuer and Lambda, nothing more.
pub const LEEWAY_SECONDS: u64 = 30;

/// The claims of a verified token.
pub type Claims = Map<String, Value>;

/// Where a token's signature is checked.
enum Keys {
    /// `APP_JWT_SECRET` (HS256).
    Secret(Rotating<DecodingKey>),
    /// `APP_JWT_PUBLIC_KEY`: RS256 for an RSA key, ES256 for a P-256 key.
    Public {
        key: DecodingKey,
        algorithm: Algorithm,
    },
    /// `APP_JWT_JWKS_URL`: the key the token's `kid` names.
    Jwks(Jwks),
}

/// What [`Verifier::verify`] checks a token against, fixed at start-up.
pub struct Verifier {
    keys: Keys,
    /// One per algorithm a key may have; each accepts only its own.
    validations: [Validation; 3],
}

/// What a token must say besides its signature: the issuers and audience, if configured.
pub struct Rules<'a> {
    pub issuers: &'a [String],
    pub audience: Option<&'a str>,
}

impl Verifier {
    pub fn new(
        key: &AppJwtKey,
        rules: &Rules<'_>,
        config: &crate::config::Config,
        secrets: Option<&Secrets>,
        clock: &crate::clock::Clock,
    ) -> Result<Self, KeyError> {
        let keys = match key {
            AppJwtKey::Secret(_) => {
                let key = Rotating::new(config, secrets, secret_key)
                    .ok_or_else(|| KeyError("APP_JWT_SECRET is not in the configuration".into()))?;
                Keys::Secret(key)
            }
            AppJwtKey::PublicKeyPem(pem) => {
                let (key, algorithm) = if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
                    (key, Algorithm::RS256)
                } else if let Ok(key) = DecodingKey::from_ec_pem(pem.as_bytes()) {
                    (key, Algorithm::ES256)
                } else {
                    return Err(KeyError(
                        "APP_JWT_PUBLIC_KEY is not an RSA or EC public key in PEM form".into(),
                    ));
                };
                Keys::Public { key, algorithm }
            }
            AppJwtKey::Jwks(jwks) => Keys::Jwks(Jwks::new(jwks, clock.clone())),
        };
        Ok(Self {
            keys,
            validations: [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256]
                .map(|algorithm| validation(algorithm, rules)),
        })
    }

    /// Fetches the identity provider's keys during init (nothing for the other sources).
    pub async fn prefetch(&self) {
        if let Keys::Jwks(jwks) = &self.keys {
            jwks.prefetch().await;
        }
    }

    /// The claims of `token` when it is valid now.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::InvalidToken(describe(&e));
        let decode = |key: &DecodingKey, algorithm: Algorithm| {
            jsonwebtoken::decode::<Claims>(token, key, self.validation(algorithm))
                .map(|data| data.claims)
                .map_err(invalid)
        };
        match &self.keys {
            Keys::Secret(key) => decode(&key.get(), Algorithm::HS256),
            Keys::Public { key, algorithm } => decode(key, *algorithm),
            Keys::Jwks(jwks) => {
                let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
                let kid = header.kid.ok_or_else(|| {
                    AuthError::InvalidToken("no kid in the token's header".into())
                })?;
                let key = jwks.key(&kid).await.ok_or_else(|| {
                    AuthError::InvalidToken("signed by a key the issuer does not publish".into())
                })?;
                decode(&key.key, key.algorithm)
            }
        }
    }

    fn validation(&self, algorithm: Algorithm) -> &Validation {
        match algorithm {
            Algorithm::RS256 => &self.validations[1],
            Algorithm::ES256 => &self.validations[2],
            _ => &self.validations[0],
        }
    }
}

/// The HS256 key of `APP_JWT_SECRET`, from a configuration whose key is that secret.
fn secret_key(config: &crate::config::Config) -> Option<DecodingKey> {
    match config.app_auth.as_ref()? {
        crate::config::AppAuthConfig::Jwt {
            key: AppJwtKey::Secret(secret),
            ..
        } => Some(DecodingKey::from_secret(secret.expose_secret().as_bytes())),
        _ => None,
    }
}

/// What `decode` checks for keys of `algorithm`: the signature, `exp` (required) and `nbf`
/// (when present) with [`LEEWAY_SECONDS`], and a configured issuer or audience (then required,
/// not only checked when present).
fn validation(algorithm: Algorithm, rules: &Rules<'_>) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    let mut required = vec!["exp"];
    if rules.issuers.is_empty() {
        validation.iss = None;
    } else {
        validation.set_issuer(rules.issuers);
        required.push("iss");
    }
    match rules.audience {
        Some(audience) => {
            validation.set_audience(&[audience]);
            required.push("aud");
        }
        None => validation.validate_aud = false,
    }
    validation.set_required_spec_claims(&required);
    validation
}

/// A claim's value as the caller receives it: a non-empty string, or a number's decimal form.
/// Anything else (absent, null, empty, a bool, an object, an array) is `None`.
pub fn text(claims: &Claims, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a claim holds the required value: the same string, or for `true` and `false` also
/// the JSON boolean.
pub fn holds(value: Option<&Value>, required: &RequiredClaim) -> bool {
    match value {
        Some(Value::String(s)) => *s == required.value,
        Some(Value::Bool(b)) => required.value == if *b { "true" } else { "false" },
        Some(Value::Number(n)) => n.to_string() == required.value,
        _ => false,
    }
}

/// A claim by name, else by a dotted path into nested objects (`realm_access.roles`). The
/// whole name is tried first: claim names such as `https://example.com/roles` hold dots.
pub fn at_path<'a>(claims: &'a Claims, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// Whether a claim is `value`, or a list holding it.
pub fn includes(claim: Option<&Value>, value: &str) -> bool {
    match claim {
        Some(Value::String(s)) => s == value,
        Some(Value::Array(items)) => items.iter().any(|item| item.as_str() == Some(value)),
        _ => false,
    }
}
