//! Alerts to sleeping phones (issue 31): APNs and FCM, each on only when its key is in the
//! secret (`APNS_KEY`, `FCM_SERVICE_ACCOUNT`), with the settings that go with it. Base URLs
//! default to the real services; tests point them at local fakes.

use std::time::Duration;

use super::reader::Reader;
use super::{ExposeSecret, SecretString};

pub const DEFAULT_APNS_BASE_URL: &str = "https://api.push.apple.com";
pub const DEFAULT_APNS_SANDBOX_BASE_URL: &str = "https://api.sandbox.push.apple.com";
pub const DEFAULT_FCM_BASE_URL: &str = "https://fcm.googleapis.com";
pub const DEFAULT_FCM_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";

/// Where alerts go, and how long one request to a provider may take.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub apns: Option<ApnsConfig>,
    pub fcm: Option<FcmConfig>,
    /// `ALERTS_TIMEOUT_MS`: one request to a provider, answer read.
    pub timeout: Duration,
}

/// APNs with a provider token: the team's `.p8` key signs an ES256 JWT.
#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// `APNS_KEY`: the `.p8` file's PEM text (in the secret).
    pub key_pem: SecretString,
    /// `APNS_KEY_ID`: the key's id (rotated with the key).
    pub key_id: String,
    /// `APNS_TEAM_ID`: the Apple developer team.
    pub team_id: String,
    /// `APNS_TOPIC`: the app's bundle id.
    pub topic: String,
    /// `APNS_BASE_URL`, `APNS_SANDBOX_BASE_URL`: production and development (`apns-sandbox`).
    pub base_url: String,
    pub sandbox_base_url: String,
}

/// FCM HTTP v1 with an OAuth token from a service account's key.
#[derive(Debug, Clone)]
pub struct FcmConfig {
    /// `FCM_PROJECT_ID`, else the service account's `project_id`.
    pub project_id: String,
    pub client_email: String,
    /// The service account's `private_key` (PEM, RSA).
    pub private_key_pem: SecretString,
    /// `FCM_BASE_URL`, `FCM_TOKEN_URL`.
    pub base_url: String,
    pub token_url: String,
}

/// A PEM kept in an environment variable or a JSON string may carry its line breaks as `\n`.
fn pem_text(raw: &str) -> String {
    raw.replace("\\n", "\n")
}

/// The file's text, given as is or in base64 (`base64 -w0 AuthKey_….p8`: what a template
/// parameter and a JSON secret hold without escaping).
fn file_text(raw: String) -> String {
    use base64::Engine;
    if raw.contains("-----BEGIN") || raw.trim_start().starts_with('{') {
        return raw;
    }
    base64::engine::general_purpose::STANDARD
        .decode(raw.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or(raw)
}

impl Reader<'_> {
    pub(super) fn alerts(&mut self) -> AlertsConfig {
        AlertsConfig {
            apns: self.apns(),
            fcm: self.fcm(),
            timeout: Duration::from_millis(u64::from(self.number(
                "ALERTS_TIMEOUT_MS",
                5000,
                100,
                25_000,
            ))),
        }
    }

    fn apns(&mut self) -> Option<ApnsConfig> {
        let key = pem_text(&file_text(self.optional("APNS_KEY")?))
            .trim()
            .to_owned();
        if jsonwebtoken::EncodingKey::from_ec_pem(key.as_bytes()).is_err() {
            self.problems.push(
                "APNS_KEY must be the APNs auth key's .p8 text (a P-256 private key in PEM)".into(),
            );
        }
        let why = "APNs alerts are on: APNS_KEY is set";
        Some(ApnsConfig {
            key_pem: SecretString::from(key),
            key_id: self.required("APNS_KEY_ID", why),
            team_id: self.required("APNS_TEAM_ID", why),
            topic: self.required("APNS_TOPIC", "the app's bundle id, for APNs alerts"),
            base_url: self.base_url("APNS_BASE_URL", DEFAULT_APNS_BASE_URL),
            sandbox_base_url: self.base_url("APNS_SANDBOX_BASE_URL", DEFAULT_APNS_SANDBOX_BASE_URL),
        })
    }

    fn fcm(&mut self) -> Option<FcmConfig> {
        let raw = file_text(self.optional("FCM_SERVICE_ACCOUNT")?);
        let account: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
        let field = |name: &str| {
            account
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (email, key) = (
            field("client_email"),
            field("private_key").map(|k| pem_text(&k)),
        );
        let key_ok = key
            .as_deref()
            .is_some_and(|k| jsonwebtoken::EncodingKey::from_rsa_pem(k.as_bytes()).is_ok());
        if email.is_none() || !key_ok {
            // Never the value: it holds the key.
            self.problems.push(
                "FCM_SERVICE_ACCOUNT must be the service account's JSON key file (client_email \
                 and an RSA private_key)"
                    .into(),
            );
        }
        let project_id = self
            .optional("FCM_PROJECT_ID")
            .or_else(|| field("project_id"));
        if project_id.is_none() {
            self.problems
                .push("FCM_PROJECT_ID is required (or the service account's project_id)".into());
        }
        let token_url = self
            .optional("FCM_TOKEN_URL")
            .or_else(|| field("token_uri"))
            .unwrap_or_else(|| DEFAULT_FCM_TOKEN_URL.to_owned());
        self.check_web_url("FCM_TOKEN_URL", &token_url);
        Some(FcmConfig {
            project_id: project_id.unwrap_or_default(),
            client_email: email.unwrap_or_default(),
            private_key_pem: SecretString::from(key.unwrap_or_default()),
            base_url: self.base_url("FCM_BASE_URL", DEFAULT_FCM_BASE_URL),
            token_url,
        })
    }
}

impl AlertsConfig {
    /// Whether any provider is configured.
    pub fn any(&self) -> bool {
        self.apns.is_some() || self.fcm.is_some()
    }
}

impl ApnsConfig {
    pub fn key_pem(&self) -> &str {
        self.key_pem.expose_secret()
    }
}

impl FcmConfig {
    pub fn private_key_pem(&self) -> &str {
        self.private_key_pem.expose_secret()
    }
}
