//! FCM HTTP v1 (`POST {base}/v1/projects/{project}/messages:send`) with an OAuth 2.0 access
//! token from the service account's key: an RS256 JWT assertion (`iss` the account, `scope`
//! firebase.messaging, `aud` the token URL) exchanged at the token URL, kept until a minute
//! before it expires.

use std::sync::Mutex;

use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;

use super::alert::{Push, fcm_message};
use super::outcome::{Outcome, retry_after};
use crate::config::FcmConfig;
use crate::outbound::Outbound;

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const MAX_ANSWER_BYTES: usize = 16 * 1024;
/// An access token is used until this long before it expires.
const EXPIRY_MARGIN_MS: i64 = 60_000;

pub struct Fcm {
    http: Outbound,
    key: EncodingKey,
    client_email: String,
    send_url: String,
    token_url: String,
    /// The access token in use and when it expires (epoch ms).
    access: Mutex<Option<(String, i64)>>,
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl Fcm {
    /// `None` when the key is not an RSA key in PEM (the configuration reports it first).
    pub fn new(config: &FcmConfig, http: Outbound) -> Option<Self> {
        let key = EncodingKey::from_rsa_pem(config.private_key_pem().as_bytes()).ok()?;
        Some(Self {
            http,
            key,
            client_email: config.client_email.clone(),
            send_url: format!(
                "{}/v1/projects/{}/messages:send",
                config.base_url, config.project_id
            ),
            token_url: config.token_url.clone(),
            access: Mutex::new(None),
        })
    }

    fn held_token(&self, now_ms: i64) -> Option<String> {
        let held = self.access.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|(_, expires)| now_ms < expires - EXPIRY_MARGIN_MS)
            .map(|(token, _)| token.clone())
    }

    /// Forget the access token FCM refused, unless another send has already replaced it.
    fn forget_token(&self, refused: &str) {
        let mut held = self.access.lock().unwrap_or_else(|e| e.into_inner());
        if held.as_ref().is_some_and(|(token, _)| token == refused) {
            *held = None;
        }
    }

    /// The access token: the one held while it lasts, else a new one from the token URL.
    async fn access_token(&self, now_ms: i64) -> Result<String, Outcome> {
        if let Some(token) = self.held_token(now_ms) {
            return Ok(token);
        }
        let iat = now_ms.div_euclid(1000);
        let assertion = Assertion {
            iss: &self.client_email,
            scope: SCOPE,
            aud: &self.token_url,
            iat,
            exp: iat + 3600,
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &assertion, &self.key)
            .map_err(|e| Outcome::Failed(format!("FCM assertion not made: {e}")))?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &jwt)
            .finish();
        let request = http::Request::post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from(form))
            .map_err(|e| Outcome::Failed(format!("token request not built: {e}")))?;
        let answer = self
            .http
            .send(request, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| Outcome::Retry(None, format!("FCM token URL unreachable: {e}")))?;
        let retry_after = retry_after(answer.header("retry-after"));
        match answer.status {
            200 => {}
            429 | 500 | 503 => {
                return Err(Outcome::Retry(
                    retry_after,
                    format!("FCM token URL {}", answer.status),
                ));
            }
            status => return Err(Outcome::Failed(format!("FCM token URL {status}"))),
        }
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        let token = body.get("access_token").and_then(Value::as_str);
        // Google answers 3,599 s; anything odd is held to a day.
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_i64)
            .unwrap_or(3600)
            .clamp(0, 86_400);
        let token = token
            .ok_or_else(|| Outcome::Failed("FCM token URL answered no access_token".into()))?
            .to_owned();
        *self.access.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((token.clone(), now_ms + expires_in * 1000));
        Ok(token)
    }

    /// One attempt to send `push` to the registration `token`.
    pub async fn send(&self, token: &str, push: &Push, now_ms: i64) -> Outcome {
        let access = match self.access_token(now_ms).await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        let body = fcm_message(push, token).to_string();
        let request = match http::Request::post(&self.send_url)
            .header("authorization", format!("Bearer {access}"))
            .header("content-type", "application/json")
            .body(Bytes::from(body))
        {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("request not built: {e}")),
        };
        let answer = match self.http.send(request, MAX_ANSWER_BYTES).await {
            Ok(a) => a,
            Err(e) => return Outcome::Retry(None, format!("FCM unreachable: {e}")),
        };
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        let error = &body["error"];
        let status = error["status"].as_str().unwrap_or_default();
        // The FCM error code is in the details (`google.firebase.fcm.v1.FcmError`).
        let code = error["details"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|d| d["errorCode"].as_str())
            .unwrap_or(status);
        let retry_after = retry_after(answer.header("retry-after"));
        match (answer.status, code) {
            (200, _) => Outcome::Sent,
            // Only UNREGISTERED says the token is gone: any other 404 (a wrong FCM_BASE_URL, a
            // proxy) is no reason to forget a phone's registration.
            (_, "UNREGISTERED") => Outcome::Dead(format!("FCM {} {code}", answer.status)),
            (400, "INVALID_ARGUMENT") if about_the_token(error) => {
                Outcome::Dead(format!("FCM 400 {code}"))
            }
            // The app's APNs key is missing or wrong in Firebase: no new access token helps.
            (401, "THIRD_PARTY_AUTH_ERROR") => Outcome::Failed(format!("FCM 401 {code}")),
            (401, _) => {
                self.forget_token(&access);
                Outcome::Retry(None, "FCM 401: access token refused".into())
            }
            (429 | 500 | 503, _) => {
                Outcome::Retry(retry_after, format!("FCM {} {code}", answer.status))
            }
            (status, _) => Outcome::Failed(format!("FCM {status} {code}")),
        }
    }
}

/// Whether an `INVALID_ARGUMENT` names the registration token (not the message FCM refused
/// for another reason, which a new token would not fix).
fn about_the_token(error: &Value) -> bool {
    let violation = error["details"].as_array().into_iter().flatten().any(|d| {
        d["fieldViolations"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v["field"].as_str() == Some("message.token"))
    });
    violation
        || error["message"]
            .as_str()
            .is_some_and(|m| m.contains("registration token"))
}
