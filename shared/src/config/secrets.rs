//! Which settings are secrets, and reading them from one JSON secret in Secrets Manager
//! (`SECRETS_ARN`) instead of the environment. This file only parses and layers; fetching and
//! re-reading the secret is the job of the top-level `secrets` module.

use super::reader::Reader;
use super::{ConfigError, ExposeSecret, Needs, SecretString};

/// The settings that are secrets. With `SECRETS_ARN` set they come from its JSON object (keys
/// named as these variables) and never from the environment. The one list: the scripts read
/// this declaration (scripts/lib/secret_names.py parses it and fails on any other form).
pub const SECRET_NAMES: [&str; 7] = [
    "APP_JWT_SECRET",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_AUTH_TOKEN_SECONDARY",
    "REALTIME_TICKET_SECRET",
    "APNS_KEY",
    "FCM_SERVICE_ACCOUNT",
];

/// Settings that are no secret but change together with one, so a rotation changes both at
/// once: taken from the secret when it has them, from the environment otherwise. A new Twilio
/// API key is a new SID with a new secret, a new APNs key a new key id.
pub const ROTATED_WITH_SECRETS: [&str; 2] = ["TWILIO_API_KEY_SID", "APNS_KEY_ID"];

/// Where the secrets are: `SECRETS_ARN`, re-read at most every `SECRETS_REFRESH_SECONDS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsSource {
    pub arn: String,
    pub refresh_seconds: u32,
}

impl SecretsSource {
    /// The source `env` names, or `None` when `SECRETS_ARN` is unset.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let mut r = Reader::new(env);
        let refresh_seconds = r.number("SECRETS_REFRESH_SECONDS", 300, 1, 86_400);
        let source = r.optional("SECRETS_ARN").map(|arn| Self {
            arn,
            refresh_seconds,
        });
        if r.problems.is_empty() {
            Ok(source)
        } else {
            Err(ConfigError(r.problems))
        }
    }
}

impl Needs {
    /// Whether a binary with these needs holds any secret (the realtime-push function holds
    /// none, so it never reads `SECRETS_ARN`).
    pub fn holds_secrets(self) -> bool {
        self.app_auth
            || self.voice_tokens
            || self.webhooks
            || self.realtime
            || self.twilio_api
            || self.alerts
    }
}

/// The secret's values of [`SECRET_NAMES`] and [`ROTATED_WITH_SECRETS`], parsed from its JSON
/// text. Other keys are ignored; empty strings count as absent, as in the environment.
#[derive(Clone, Default)]
pub struct SecretValues(Vec<(&'static str, SecretString)>);

impl SecretValues {
    /// The values in `json`, an object of strings. The error names the key, never a value.
    pub fn parse(json: &str) -> Result<Self, String> {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
            .map_err(|_| "the secret is not a JSON object of strings".to_owned())?;
        let mut values = Vec::new();
        for name in SECRET_NAMES.into_iter().chain(ROTATED_WITH_SECRETS) {
            match object.get(name) {
                None | Some(serde_json::Value::Null) => {}
                Some(serde_json::Value::String(value)) => {
                    values.push((name, SecretString::from(value.clone())));
                }
                Some(_) => return Err(format!("the secret's {name} is not a string")),
            }
        }
        Ok(Self(values))
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether both hold the same values (a re-read that changed nothing).
    pub fn same_as(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((a, x), (b, y))| a == b && x.expose_secret() == y.expose_secret())
    }
}

impl std::fmt::Debug for SecretValues {
    /// The names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// `env`, with every one of [`SECRET_NAMES`] looked up in `values` instead, and those of
/// [`ROTATED_WITH_SECRETS`] in `values` first.
pub fn with_secret_values<'a>(
    env: &'a dyn Fn(&str) -> Option<String>,
    values: &'a SecretValues,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        let from_secret = || values.get(name).map(|v| v.expose_secret().to_owned());
        if SECRET_NAMES.contains(&name) {
            from_secret()
        } else if ROTATED_WITH_SECRETS.contains(&name) {
            from_secret()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| env(name))
        } else {
            env(name)
        }
    }
}
