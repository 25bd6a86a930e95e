//! APNs over HTTP/2 with a provider token (Apple's "token-based connection"): an ES256 JWT of
//! the team's `.p8` key, `{"alg":"ES256","kid":<key id>}` / `{"iss":<team>,"iat":<now>}`, made
//! once and reused for 50 minutes (Apple refuses one older than an hour and answers
//! `TooManyProviderTokenUpdates` to one made more often than every 20 minutes). HTTP/2 comes
//! from the project's one HTTP/TLS stack (`outbound`), whose connector offers `h2` by ALPN.

use std::sync::Mutex;

use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::alert::{Push, apns_payload};
use super::outcome::{Outcome, retry_after};
use crate::config::ApnsConfig;
use crate::outbound::Outbound;

/// How long one provider token is used.
pub const TOKEN_REUSE_SECONDS: i64 = 50 * 60;
/// An APNs answer is a small JSON object, or nothing.
const MAX_ANSWER_BYTES: usize = 4096;
/// An alert a phone cannot take now (off, out of coverage) is kept by Apple this long.
const KEEP_SECONDS: i64 = 86_400;

pub struct Apns {
    http: Outbound,
    key: EncodingKey,
    key_id: String,
    team_id: String,
    topic: String,
    base_url: String,
    sandbox_base_url: String,
    /// The provider token in use and when it was made (epoch s).
    token: Mutex<Option<(String, i64)>>,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    iat: i64,
}

impl Apns {
    /// `None` when the key is not a P-256 key in PEM (the configuration reports it first).
    pub fn new(config: &ApnsConfig, http: Outbound) -> Option<Self> {
        let key = EncodingKey::from_ec_pem(config.key_pem().as_bytes()).ok()?;
        Some(Self {
            http,
            key,
            key_id: config.key_id.clone(),
            team_id: config.team_id.clone(),
            topic: config.topic.clone(),
            base_url: config.base_url.clone(),
            sandbox_base_url: config.sandbox_base_url.clone(),
            token: Mutex::new(None),
        })
    }

    /// The provider token: the one in use while younger than [`TOKEN_REUSE_SECONDS`], else a
    /// new one.
    fn provider_token(&self, now_s: i64) -> Result<String, String> {
        let mut held = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, made)) = held.as_ref()
            && now_s - made < TOKEN_REUSE_SECONDS
            && now_s >= *made
        {
            return Ok(token.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = Claims {
            iss: &self.team_id,
            iat: now_s,
        };
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("provider token not made: {e}"))?;
        *held = Some((token.clone(), now_s));
        Ok(token)
    }

    /// Forget the provider token Apple called expired, so the next attempt makes a new one,
    /// unless another send has already replaced it.
    fn expired_token(&self, refused: &str) {
        let mut held = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if held.as_ref().is_some_and(|(token, _)| token == refused) {
            *held = None;
        }
    }

    /// One attempt to send `push` to the device `token` (`sandbox`: an `apns-sandbox`
    /// registration, a development build).
    pub async fn send(&self, token: &str, sandbox: bool, push: &Push, now_ms: i64) -> Outcome {
        let now_s = now_ms.div_euclid(1000);
        let provider_token = match self.provider_token(now_s) {
            Ok(t) => t,
            Err(why) => return Outcome::Failed(why),
        };
        let base = if sandbox {
            &self.sandbox_base_url
        } else {
            &self.base_url
        };
        let (headers, body) = apns_payload(push, &self.topic);
        let mut request = http::Request::post(format!("{base}/3/device/{token}"))
            .header("authorization", format!("bearer {provider_token}"))
            .header("content-type", "application/json")
            .header("apns-expiration", (now_s + KEEP_SECONDS).to_string());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = match request.body(Bytes::from(body.to_string())) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("request not built: {e}")),
        };
        let answer = match self.http.send(request, MAX_ANSWER_BYTES).await {
            Ok(a) => a,
            Err(e) => return Outcome::Retry(None, format!("APNs unreachable: {e}")),
        };
        let reason = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let retry_after = retry_after(answer.header("retry-after"));
        match (answer.status, reason.as_str()) {
            (200, _) => Outcome::Sent,
            (410, _) | (400, "BadDeviceToken" | "DeviceTokenNotForTopic") => {
                Outcome::Dead(format!("APNs {} {reason}", answer.status))
            }
            (403, "ExpiredProviderToken") => {
                self.expired_token(&provider_token);
                Outcome::Retry(None, format!("APNs 403 {reason}"))
            }
            // A wrong key, key id or team (InvalidProviderToken) falls to the last arm: a new
            // token signed the same way would be refused too, and renewing it often is refused
            // in itself (TooManyProviderTokenUpdates).
            (429 | 500 | 503, _) => {
                Outcome::Retry(retry_after, format!("APNs {} {reason}", answer.status))
            }
            (status, _) => Outcome::Failed(format!("APNs {status} {reason}")),
        }
    }
}
