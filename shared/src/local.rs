//! Development defaults for the local server: fixed, obviously fake secrets so that one command
//! starts a working service, and app tokens for trying it. Real values in the environment
//! always win, so the same server runs with production settings. Behind the `local` feature:
//! only the operator CLI and the tests enable it, never a function binary (scripts/check-deps).

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

/// Settings used when the environment does not give them.
pub const DEV_DEFAULTS: &[(&str, &str)] = &[
    ("APP_JWT_SECRET", "dev-only-app-jwt-secret-never-deploy"),
    ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
    ("TWILIO_API_KEY_SID", "SK00000000000000000000000000000000"),
    ("TWILIO_API_KEY_SECRET", "dev-only-twilio-api-key-secret"),
    ("TWILIO_AUTH_TOKEN", "dev-only-twilio-auth-token"),
    ("TWILIO_TWIML_APP_SID", "AP00000000000000000000000000000000"),
    ("TABLE_NAME", "softphone-presence"),
    (
        "REALTIME_TICKET_SECRET",
        "dev-only-realtime-ticket-secret-never-deploy",
    ),
];

/// Look up `name` in `env` first, then in the development defaults. The JWT secret default is
/// used only when no other app-auth setting is given, so a public key, a key set or gateway
/// mode is not overridden by it; and no secret has a default when `SECRETS_ARN` names where
/// the secrets are.
pub fn with_dev_defaults(env: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        if let Some(value) = env(name) {
            return Some(value);
        }
        if crate::config::SECRET_NAMES.contains(&name) && env("SECRETS_ARN").is_some() {
            return None;
        }
        if name == "APP_JWT_SECRET"
            && ["APP_JWT_PUBLIC_KEY", "APP_JWT_JWKS_URL", "AUTH_MODE"]
                .iter()
                .any(|other| env(other).is_some())
        {
            return None;
        }
        dev_default(name).map(str::to_owned)
    }
}

pub fn dev_default(name: &str) -> Option<&'static str> {
    DEV_DEFAULTS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
}

/// An HS256 app token like the app's own sign-in would issue, valid for `ttl_seconds`.
pub fn mint_app_jwt(
    secret: &str,
    email: &str,
    org_id: &str,
    now_s: i64,
    ttl_seconds: i64,
) -> Result<String, String> {
    let claims = json!({
        "sub": email,
        "email": email,
        "orgId": org_id,
        "iat": now_s,
        "exp": now_s + ttl_seconds,
    });
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}
