//! Development defaults for the local server: fixed, public, obviously fake secrets so that one
//! command starts a working service, and app tokens for trying it. They fill in only when the
//! environment configures no credential at all ([`LocalSettings::Development`]): a server given
//! any real secret must be given every one, or a missing one would fall back to a value anyone
//! can read here (a ticket or a webhook signed with it would be accepted). Behind the `local`
//! feature: only the operator CLI and the tests enable it, never a function binary
//! (scripts/check-deps).

use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use crate::config::{AppAuthConfig, AppJwtKey, Config, ExposeSecret, SecretString};

/// The development values: every credential, and the table name.
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
    // Who is an admin of their org: a development token minted as one carries this role.
    ("APP_JWT_ADMIN_CLAIM", DEV_ADMIN_CLAIM),
    ("APP_JWT_ADMIN_VALUE", DEV_ADMIN_ROLE),
];

/// The claim and value a development admin token carries (`serve --admin`, the settings
/// page's "Sign in as an admin"): `"roles": ["phone-admin"]`.
pub const DEV_ADMIN_CLAIM: &str = "roles";
pub const DEV_ADMIN_ROLE: &str = "phone-admin";

/// Defaulted whatever else is set: no credential, nothing an attacker gains by knowing it.
const ALWAYS_DEFAULTED: &[&str] = &["TABLE_NAME"];

/// Settings any one of which means the environment configures credentials: the secrets, what
/// replaces the JWT secret (a public key, a key set, gateway mode), where the secrets are kept,
/// and the Twilio account and API key the secrets belong to.
pub const CREDENTIAL_SETTINGS: &[&str] = &[
    "APP_JWT_SECRET",
    "APP_JWT_PUBLIC_KEY",
    "APP_JWT_JWKS_URL",
    "AUTH_MODE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECONDARY",
    "REALTIME_TICKET_SECRET",
    "SECRETS_ARN",
];

/// Where the local server's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSettings {
    /// None is configured: every credential is its public development value, which the
    /// banner says.
    Development,
    /// These settings are set: every credential comes from the environment (or
    /// `SECRETS_ARN`), none from the development values.
    Configured(Vec<&'static str>),
}

impl LocalSettings {
    pub fn of(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let set: Vec<&'static str> = CREDENTIAL_SETTINGS
            .iter()
            .copied()
            .filter(|name| env(name).is_some_and(|v| !v.trim().is_empty()))
            .collect();
        if set.is_empty() {
            Self::Development
        } else {
            Self::Configured(set)
        }
    }

    pub fn is_development(&self) -> bool {
        matches!(self, Self::Development)
    }

    /// `env` with the development values under it when they apply; otherwise `env` with only
    /// the table name defaulted.
    pub fn lookup<E: Fn(&str) -> Option<String>>(
        &self,
        env: E,
    ) -> impl Fn(&str) -> Option<String> + use<E> {
        let development = self.is_development();
        move |name: &str| {
            env(name).or_else(|| {
                (development || ALWAYS_DEFAULTED.contains(&name))
                    .then(|| dev_default(name).map(str::to_owned))
                    .flatten()
            })
        }
    }
}

/// The secrets of `config` that hold their public development value: for a server whose
/// credentials are configured, each is a mistake (a value copied from this file or the README),
/// however it got there (the environment or `SECRETS_ARN`'s secret).
pub fn public_secrets_in(config: &Config) -> Vec<&'static str> {
    let mut given: Vec<(&'static str, &SecretString)> = Vec::new();
    if let Some(AppAuthConfig::Jwt {
        key: AppJwtKey::Secret(secret),
        ..
    }) = &config.app_auth
    {
        given.push(("APP_JWT_SECRET", secret));
    }
    if let Some(voice) = &config.voice_tokens {
        given.push(("TWILIO_API_KEY_SECRET", &voice.api_key_secret));
    }
    if let Some(api) = &config.twilio_api {
        given.push(("TWILIO_API_KEY_SECRET", &api.rest.api_key_secret));
    }
    if let Some(webhooks) = &config.webhooks {
        given.push(("TWILIO_AUTH_TOKEN", &webhooks.auth_token));
        if let Some(secondary) = &webhooks.auth_token_secondary {
            given.push(("TWILIO_AUTH_TOKEN_SECONDARY", secondary));
        }
    }
    if let Some(realtime) = &config.realtime {
        given.push(("REALTIME_TICKET_SECRET", &realtime.ticket_secret));
    }
    let public: Vec<&str> = DEV_DEFAULTS.iter().map(|(_, value)| *value).collect();
    let mut named: Vec<&'static str> = given
        .into_iter()
        .filter(|(_, secret)| public.contains(&secret.expose_secret()))
        .map(|(name, _)| name)
        .collect();
    named.dedup();
    named
}

/// Look up `name` in `env` first, then in the development defaults, whatever else `env` sets:
/// for tests and benchmarks that override a few settings of a development server. The JWT
/// secret default is used only when no other app-auth setting is given, so a public key, a key
/// set or gateway mode is not overridden by it; and no secret has a default when `SECRETS_ARN`
/// names where the secrets are. The local server itself uses [`LocalSettings::lookup`].
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
    mint_dev_jwt(secret, email, org_id, now_s, ttl_seconds, false)
}

/// [`mint_app_jwt`], as an admin of the org when `admin` (the development admin role).
pub fn mint_dev_jwt(
    secret: &str,
    email: &str,
    org_id: &str,
    now_s: i64,
    ttl_seconds: i64,
    admin: bool,
) -> Result<String, String> {
    let mut claims = json!({
        "sub": email,
        "email": email,
        "orgId": org_id,
        "iat": now_s,
        "exp": now_s + ttl_seconds,
    });
    if admin {
        claims[DEV_ADMIN_CLAIM] = json!([DEV_ADMIN_ROLE]);
    }
    jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn development_values_only_when_no_credential_is_set() {
        let empty = env(&[("PORT", "3000"), ("TWILIO_API_BASE_URL", "http://x")]);
        let settings = LocalSettings::of(&empty);
        assert_eq!(settings, LocalSettings::Development);
        let lookup = settings.lookup(empty);
        assert_eq!(
            lookup("REALTIME_TICKET_SECRET").as_deref(),
            dev_default("REALTIME_TICKET_SECRET")
        );

        let one = env(&[("APP_JWT_SECRET", "real")]);
        let settings = LocalSettings::of(&one);
        assert_eq!(settings, LocalSettings::Configured(vec!["APP_JWT_SECRET"]));
        let lookup = settings.lookup(one);
        for name in [
            "REALTIME_TICKET_SECRET",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_ACCOUNT_SID",
        ] {
            assert_eq!(lookup(name), None, "{name}");
        }
        assert_eq!(lookup("APP_JWT_SECRET").as_deref(), Some("real"));
        assert_eq!(lookup("TABLE_NAME").as_deref(), Some("softphone-presence"));
    }

    #[test]
    fn an_empty_setting_configures_nothing() {
        assert!(LocalSettings::of(&env(&[("APP_JWT_SECRET", " ")])).is_development());
    }

    #[test]
    fn a_public_development_value_among_real_ones_is_named() {
        let given = env(&[
            ("APP_JWT_SECRET", "real"),
            ("TWILIO_ACCOUNT_SID", "AC11111111111111111111111111111111"),
            ("TWILIO_API_KEY_SID", "SK11111111111111111111111111111111"),
            ("TWILIO_API_KEY_SECRET", "real"),
            ("TWILIO_AUTH_TOKEN", "dev-only-twilio-auth-token"),
            (
                "REALTIME_TICKET_SECRET",
                "a-real-ticket-secret-of-32-characters",
            ),
        ]);
        let needs = crate::config::Needs {
            app_auth: true,
            voice_tokens: true,
            webhooks: true,
            realtime: true,
            twilio_api: true,
            ..Default::default()
        };
        let config = Config::from_env(&given, needs).unwrap();
        assert_eq!(public_secrets_in(&config), vec!["TWILIO_AUTH_TOKEN"]);
        let development = Config::from_env(&with_dev_defaults(|_| None), needs).unwrap();
        assert_eq!(
            public_secrets_in(&development),
            vec![
                "APP_JWT_SECRET",
                "TWILIO_API_KEY_SECRET",
                "TWILIO_AUTH_TOKEN",
                "REALTIME_TICKET_SECRET"
            ]
        );
    }
}
