//! Reading [`Config`] from an environment lookup: every problem collected, then reported
//! together. The app-auth section is read in `app_auth.rs`.

use super::reader::Reader;
use super::{
    Config, ConfigError, DEFAULT_PUSH_TTL_SECONDS, DEFAULT_TWILIO_API_BASE_URL, Needs,
    PresenceSettings, PushConfig, RealtimeConfig, RestConfig, SecretString, SocketSettings,
    TwilioApiConfig, VoiceTokenConfig, WebhookConfig,
};
use crate::domain::IdentityStyle;

// The readings only `Config::from_env` makes (the shared ones are in `reader.rs`).
impl Reader<'_> {
    fn prefixed(&mut self, name: &str, prefix: &str, value: Option<String>) -> Option<String> {
        let value = value?;
        // An empty value is already reported as missing.
        if !value.is_empty() && !value.starts_with(prefix) {
            self.problems
                .push(format!("{name} must start with {prefix}"));
        }
        Some(value)
    }

    /// `PUBLIC_BASE_URL`: the scheme and host Twilio reaches the webhooks at.
    fn public_base_url(&mut self) -> Option<String> {
        let public = self.optional("PUBLIC_BASE_URL")?;
        if !(public.starts_with("https://") || public.starts_with("http://")) {
            self.problems
                .push("PUBLIC_BASE_URL must start with https:// (or http://)".into());
        }
        Some(public.trim_end_matches('/').to_owned())
    }
}

/// `HEARTBEAT_URL`: an absolute `https://` URL (or `http://` on loopback, for tests), or unset.
fn heartbeat_url(r: &mut Reader) -> Option<String> {
    let raw = r.optional("HEARTBEAT_URL")?;
    let loopback = raw.starts_with("http://127.0.0.1") || raw.starts_with("http://localhost");
    if (raw.starts_with("https://") || loopback) && !raw.contains(char::is_whitespace) {
        Some(raw)
    } else {
        r.problems.push(format!(
            "HEARTBEAT_URL must be an https:// URL (the heartbeat function's URL), got {raw:?}"
        ));
        None
    }
}

impl Config {
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        needs: Needs,
    ) -> Result<Self, ConfigError> {
        let mut r = Reader::new(env);
        let table_name = if needs.table {
            Some(r.required("TABLE_NAME", "the DynamoDB table"))
        } else {
            r.optional("TABLE_NAME")
        };

        let ttl_seconds = r.number("PRESENCE_TTL_SECONDS", 90, 1, 86_400);
        let mobile_ttl_seconds = r.number("PRESENCE_TTL_SECONDS_MOBILE", ttl_seconds, 1, 86_400);
        let push_ttl_seconds = r.number(
            "PRESENCE_TTL_SECONDS_PUSH",
            DEFAULT_PUSH_TTL_SECONDS,
            1,
            366 * 86_400,
        );
        if push_ttl_seconds < mobile_ttl_seconds {
            r.problems.push(format!(
                "PRESENCE_TTL_SECONDS_PUSH ({push_ttl_seconds}) must be at least \
                 PRESENCE_TTL_SECONDS_MOBILE ({mobile_ttl_seconds}): a push registration \
                 extends a phone's presence, never shortens it"
            ));
        }
        let presence = PresenceSettings {
            ttl_seconds,
            mobile_ttl_seconds,
            push_ttl_seconds,
            max_devices_per_identity: r.number("MAX_DEVICES_PER_IDENTITY", 10, 1, 100) as usize,
            voice_token_ttl_seconds: r.number("VOICE_TOKEN_TTL_SECONDS", 3600, 60, 86_400),
            signed_out_ttl_seconds: r.number(
                "SIGNED_OUT_TTL_SECONDS",
                30 * 86_400,
                60,
                366 * 86_400,
            ),
            max_call_seconds: r.number("MAX_CALL_SECONDS", 14_400, 1, 86_400),
            event_retention_seconds: r.number(
                "EVENT_RETENTION_SECONDS",
                crate::events::DEFAULT_RETENTION_SECONDS,
                60,
                30 * 86_400,
            ),
            call_history_retention_days: r.number(
                "CALL_HISTORY_RETENTION_DAYS",
                crate::history::DEFAULT_RETENTION_DAYS,
                1,
                3650,
            ),
            audit_retention_days: r.number(
                "AUDIT_RETENTION_DAYS",
                crate::store::directory::write::DEFAULT_AUDIT_RETENTION_DAYS,
                1,
                3650,
            ),
            // Bounds: a lease (keep-alive + grace + 60 s) of at most SOCKET_LEASE_MAX_SECONDS,
            // which every device write keeps the stored row beyond.
            socket: SocketSettings {
                keep_alive_seconds: r.number("SOCKET_KEEPALIVE_SECONDS", 540, 30, 570),
                grace_seconds: r.number("SOCKET_GRACE_SECONDS", 20, 5, 120),
            },
            heartbeat_url: heartbeat_url(&mut r),
            identity_style: match r.optional("IDENTITY_STYLE") {
                None => IdentityStyle::Safe,
                Some(raw) => IdentityStyle::parse(&raw).unwrap_or_else(|| {
                    r.problems.push(format!(
                        "IDENTITY_STYLE must be \"safe\" or \"email\", got {raw:?}"
                    ));
                    IdentityStyle::Safe
                }),
            },
        };

        let app_auth = needs
            .app_auth
            .then(|| super::app_auth::read(&mut r))
            .flatten();

        let account_sid = if needs.voice_tokens || needs.webhooks || needs.twilio_api {
            let sid = r.required("TWILIO_ACCOUNT_SID", "your Twilio account, AC...");
            r.prefixed("TWILIO_ACCOUNT_SID", "AC", Some(sid))
        } else {
            None
        };

        // The API key signs voice tokens and authenticates REST calls.
        let api_key = (needs.voice_tokens || needs.twilio_api).then(|| {
            let sid = r.required(
                "TWILIO_API_KEY_SID",
                "the API key that signs voice tokens and calls Twilio's REST API, SK...",
            );
            let sid = r
                .prefixed("TWILIO_API_KEY_SID", "SK", Some(sid))
                .unwrap_or_default();
            let secret: SecretString = r
                .required("TWILIO_API_KEY_SECRET", "the API key's secret")
                .into();
            (sid, secret)
        });
        let voice_tokens = needs.voice_tokens.then(|| {
            let (api_key_sid, api_key_secret) = api_key.clone().unwrap_or_default();
            let twiml = r.optional("TWILIO_TWIML_APP_SID");
            let ios = r.optional("TWILIO_PUSH_CREDENTIAL_SID_IOS");
            let android = r.optional("TWILIO_PUSH_CREDENTIAL_SID_ANDROID");
            VoiceTokenConfig {
                account_sid: account_sid.clone().unwrap_or_default(),
                api_key_sid,
                api_key_secret,
                twiml_app_sid: r.prefixed("TWILIO_TWIML_APP_SID", "AP", twiml),
                push_credential_sid_ios: r.prefixed("TWILIO_PUSH_CREDENTIAL_SID_IOS", "CR", ios),
                push_credential_sid_android: r.prefixed(
                    "TWILIO_PUSH_CREDENTIAL_SID_ANDROID",
                    "CR",
                    android,
                ),
            }
        });

        let webhooks = needs.webhooks.then(|| {
            let public = r.public_base_url();
            let twiml = r.optional("TWILIO_TWIML_APP_SID");
            let twiml_app_sid = r.prefixed("TWILIO_TWIML_APP_SID", "AP", twiml);
            let outbound = r.outbound();
            WebhookConfig {
                twiml_app_sid,
                outbound,
                account_sid: account_sid.clone().unwrap_or_default(),
                auth_token: r
                    .required("TWILIO_AUTH_TOKEN", "verifies X-Twilio-Signature")
                    .into(),
                // Accepted beside it while the auth token is rotated (docs/operations.md).
                auth_token_secondary: r.optional("TWILIO_AUTH_TOKEN_SECONDARY").map(Into::into),
                public_base_url: public,
                // Twilio gives up after 15 s; leave room for the Lambda cold start and reply.
                deadline: std::time::Duration::from_millis(u64::from(r.number(
                    "WEBHOOK_DEADLINE_MS",
                    5000,
                    100,
                    12_000,
                ))),
            }
        });

        let twilio_api = needs.twilio_api.then(|| {
            let base = r.base_url("TWILIO_API_BASE_URL", DEFAULT_TWILIO_API_BASE_URL);
            let (api_key_sid, api_key_secret) = api_key.clone().unwrap_or_default();
            TwilioApiConfig {
                rest: RestConfig {
                    base_url: base,
                    account_sid: account_sid.clone().unwrap_or_default(),
                    api_key_sid,
                    api_key_secret,
                },
                public_base_url: r.public_base_url(),
                outbound: r.outbound(),
                timeout: std::time::Duration::from_millis(u64::from(r.number(
                    "TWILIO_API_TIMEOUT_MS",
                    8000,
                    100,
                    25_000,
                ))),
            }
        });

        let url = |name: &str, schemes: &[&str], r: &mut Reader<'_>| {
            let value = r.optional(name)?;
            if !schemes.iter().any(|s| value.starts_with(s)) {
                r.problems
                    .push(format!("{name} must start with {}", schemes.join(" or ")));
            }
            Some(value.trim_end_matches('/').to_owned())
        };
        let realtime = needs.realtime.then(|| {
            let secret = r.required(
                "REALTIME_TICKET_SECRET",
                "signs the realtime channel's connection tickets",
            );
            if !secret.is_empty() && secret.len() < 32 {
                r.problems
                    .push("REALTIME_TICKET_SECRET must be at least 32 characters".into());
            }
            RealtimeConfig {
                ticket_secret: secret.into(),
                url: url("REALTIME_URL", &["wss://", "ws://"], &mut r),
            }
        });
        let push = needs.push.then(|| {
            let management = url("REALTIME_MANAGEMENT_URL", &["https://", "http://"], &mut r);
            if management.is_none() {
                r.problems.push(
                    "REALTIME_MANAGEMENT_URL is required (the WebSocket API's https:// stage URL)"
                        .into(),
                );
            }
            PushConfig {
                management_url: management.unwrap_or_default(),
            }
        });

        let alerts = needs.alerts.then(|| r.alerts());

        if r.problems.is_empty() {
            Ok(Self {
                table_name,
                presence,
                app_auth,
                voice_tokens,
                webhooks,
                realtime,
                push,
                twilio_api,
                alerts,
            })
        } else {
            // A setting two sections read (TWILIO_TWIML_APP_SID) is reported once.
            let mut problems = r.problems;
            let mut seen = std::collections::HashSet::new();
            problems.retain(|p| seen.insert(p.clone()));
            Err(ConfigError(problems))
        }
    }
}
