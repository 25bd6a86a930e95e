//! Secrets from Secrets Manager (`SECRETS_ARN`), against moto's (the same server as DynamoDB,
//! `AWS_ENDPOINT_URL_SECRETS_MANAGER`), through the local server as `serve` runs it: read at
//! start-up in place of the environment's values, a rotation landing after the refresh period
//! (app tokens, webhooks with the auth token and its secondary, voice tokens, realtime
//! tickets, the API key of texts sent and of voicemail played and deleted through Twilio's
//! REST API, the auth token signing recording reports passed on), the last good values kept
//! when a read fails, a start refused without the secret. The period passes by moving the
//! server's clock, not by waiting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::Client;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::config::Needs;
use shared::directory::{Directory, Fallback};
use shared::http::Route;
use shared::local::mint_app_jwt;
use shared::secrets::{Env, configure_from_env};
use shared::twilio::signature::{is_valid, sign};

use crate::call_history::{AUDIO, RECORDING, call_sid};
use crate::fake_twilio::{FakeTwilio, Received};
use crate::helpers::{AUTH_TOKEN, DEMO_DIRECTORY, ORG, StoreKind, TestApp, now_s, test_env};
use crate::realtime::spawn_local;
use crate::sms::CUSTOMER;
use crate::webhooks::{SALES, call_params};

/// How often the tests' servers re-read the secret: longer than any test runs, so that only
/// moving the clock ([`TestApp::advance`]) makes a re-read due.
const REFRESH: Duration = Duration::from_secs(60);

/// Values as the secret holds them: every secret of the service, and the API key's SID that
/// changes with its secret.
fn values(jwt: &str, auth_token: &str, secondary: Option<&str>) -> Value {
    let mut values = json!({
        "APP_JWT_SECRET": jwt,
        "TWILIO_API_KEY_SID": format!("SK{jwt}"),
        "TWILIO_API_KEY_SECRET": format!("api-key-secret-{jwt}"),
        "TWILIO_AUTH_TOKEN": auth_token,
        "REALTIME_TICKET_SECRET": format!("realtime-ticket-secret-of-32-bytes-{jwt}"),
    });
    if let Some(secondary) = secondary {
        values["TWILIO_AUTH_TOKEN_SECONDARY"] = json!(secondary);
    }
    values
}

/// A secret in moto's Secrets Manager.
struct Secret {
    client: Client,
    arn: String,
}

impl Secret {
    async fn create(values: &Value) -> Self {
        assert!(
            std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").is_ok(),
            "Secrets Manager tests need moto: set AWS_ENDPOINT_URL_SECRETS_MANAGER as \
             AWS_ENDPOINT_URL_DYNAMODB (scripts/test does)"
        );
        let client = Client::new(&aws_config::load_from_env().await);
        let name = format!("softphone-test-{}-{}", std::process::id(), now_nanos());
        let created = client
            .create_secret()
            .name(name)
            .secret_string(values.to_string())
            .send()
            .await
            .expect("create secret");
        Self {
            client,
            arn: created.arn.unwrap(),
        }
    }

    async fn put(&self, text: &str) {
        self.client
            .put_secret_value()
            .secret_id(&self.arn)
            .secret_string(text)
            .send()
            .await
            .expect("put secret value");
    }

    async fn delete(&self) {
        self.client
            .delete_secret()
            .secret_id(&self.arn)
            .force_delete_without_recovery(true)
            .send()
            .await
            .expect("delete secret");
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// The environment of the tests' servers (their own development secrets included, which
/// `SECRETS_ARN` must override) pointing at `arn`.
fn env_for(arn: &str) -> Env {
    env_with(arn, &[])
}

/// [`env_for`] with `overrides`.
fn env_with(arn: &str, overrides: &[(&str, &str)]) -> Env {
    let refresh = REFRESH.as_secs().to_string();
    let mut settings = vec![("SECRETS_ARN", arn), ("SECRETS_REFRESH_SECONDS", &refresh)];
    settings.extend_from_slice(overrides);
    let env = test_env(&settings);
    Arc::new(move |name: &str| env.get(name).cloned())
}

fn needs() -> Needs {
    Needs {
        table: false,
        ..Route::needs_of(&Route::ALL)
    }
}

async fn serve(secret: &Secret) -> TestApp {
    serve_with(secret, &[]).await
}

async fn serve_with(secret: &Secret, overrides: &[(&str, &str)]) -> TestApp {
    let clock = Clock::movable();
    let (config, secrets) = configure_from_env(env_with(&secret.arn, overrides), needs(), &clock)
        .await
        .expect("configured from the secret");
    assert!(secrets.is_some());
    spawn_local(&config, secrets, StoreKind::Memory, clock)
        .await
        .0
}

fn app_token(jwt_secret: &str) -> String {
    mint_app_jwt(jwt_secret, "alice@example.com", ORG, now_s(), 600).unwrap()
}

impl TestApp {
    async fn devices_status(&self, jwt_secret: &str) -> StatusCode {
        self.get("/phone/voice/devices", &app_token(jwt_secret))
            .await
            .0
    }

    /// The status of an incoming call signed with `auth_token`.
    async fn call_signed_with(&self, auth_token: &str) -> StatusCode {
        let path = "/phone/voice/incoming";
        let params = call_params(SALES);
        let signature = sign(auth_token, &format!("{}{path}", self.base), &params);
        self.webhook_with(path, &params, Some(signature)).await.0
    }

    /// A voicemail left on Sales by call `n`: the report its recording callback passed on to
    /// `receiver`.
    async fn leave_voicemail_on_sales(&self, receiver: &FakeTwilio, n: u32) -> Received {
        let sid = call_sid(n);
        let twiml = self.ring(&sid, SALES).await;
        self.recorded(&twiml, &sid, SALES, "completed", 17).await;
        let report = receiver.hooks().pop().expect("a report passed on");
        assert_eq!(report.field("CallSid"), Some(sid.as_str()));
        report
    }

    /// Whether a voice token minted now is of the API key of `jwt`'s values: its SID, signed
    /// with its secret.
    async fn voice_token_signed_for(&self, jwt: &str) -> bool {
        let (status, body) = self.register(&app_token(jwt), "dev_secrets", "web").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["token"].as_str().expect("a voice token");
        let key = format!("api-key-secret-{jwt}");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(key.as_bytes()),
            &validation,
        )
        .is_ok_and(|data| data.claims["iss"] == format!("SK{jwt}"))
    }
}

/// Moves `app` past the refresh period, then polls `check` (the first poll's request starts
/// the re-read, which runs in the background) until it holds. The deadline is real time:
/// moto's answer is what is waited for.
async fn eventually<F, Fut>(app: &TestApp, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    app.advance(REFRESH);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_secret_replaces_the_environments_secrets_at_start_up() {
    let secret = Secret::create(&values("jwt-one", "token-one", None)).await;
    let app = serve(&secret).await;
    assert_eq!(app.devices_status("jwt-one").await, StatusCode::OK);
    // The environment's development secrets are not in use.
    let env_jwt = crate::helpers::APP_JWT_SECRET;
    assert_eq!(app.devices_status(env_jwt).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call_signed_with("token-one").await, StatusCode::OK);
    let env_token = crate::helpers::AUTH_TOKEN;
    assert_eq!(app.call_signed_with(env_token).await, StatusCode::FORBIDDEN);
    assert!(app.voice_token_signed_for("jwt-one").await);
}

#[tokio::test]
async fn a_rotation_lands_after_the_refresh_period_without_a_restart() {
    let secret = Secret::create(&values("jwt-one", "token-one", None)).await;
    let app = serve(&secret).await;
    let token = app_token("jwt-one");
    let connected = app.connected(&token, "dev_before", &["voice"]).await;
    drop(connected);

    secret
        .put(&values("jwt-two", "token-two", None).to_string())
        .await;
    // Half the period passed, not yet due: the old values are still in use.
    app.advance(REFRESH / 2);
    assert_eq!(app.devices_status("jwt-one").await, StatusCode::OK);
    assert_eq!(
        app.devices_status("jwt-two").await,
        StatusCode::UNAUTHORIZED
    );
    eventually(&app, "the new app JWT secret", || async {
        app.devices_status("jwt-two").await == StatusCode::OK
    })
    .await;
    assert_eq!(
        app.devices_status("jwt-one").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.call_signed_with("token-two").await, StatusCode::OK);
    assert_eq!(
        app.call_signed_with("token-one").await,
        StatusCode::FORBIDDEN
    );
    assert!(app.voice_token_signed_for("jwt-two").await);
    // Tickets are issued and checked with the new ticket secret alike.
    let token = app_token("jwt-two");
    let mut socket = app.connected(&token, "dev_after", &["voice"]).await;
    assert!(socket.ping().await);
}

#[tokio::test]
async fn an_auth_token_rotation_accepts_both_tokens_until_the_old_one_is_removed() {
    let secret = Secret::create(&values("jwt", "token-old", None)).await;
    let app = serve(&secret).await;
    assert_eq!(
        app.call_signed_with("token-new").await,
        StatusCode::FORBIDDEN
    );

    // 1. The new token as the secondary: both are accepted (Twilio still signs with the old).
    secret
        .put(&values("jwt", "token-old", Some("token-new")).to_string())
        .await;
    eventually(&app, "the secondary token", || async {
        app.call_signed_with("token-new").await == StatusCode::OK
    })
    .await;
    assert_eq!(app.call_signed_with("token-old").await, StatusCode::OK);

    // 2. Promoted in Twilio, the new token alone: the old one is refused.
    secret
        .put(&values("jwt", "token-new", None).to_string())
        .await;
    eventually(&app, "the old token's removal", || async {
        app.call_signed_with("token-old").await == StatusCode::FORBIDDEN
    })
    .await;
    assert_eq!(app.call_signed_with("token-new").await, StatusCode::OK);
}

/// Texts go out with the API key of the secret; a new key written into the secret reaches
/// the sends without a restart.
#[tokio::test]
async fn texts_are_sent_with_the_secrets_api_key_and_its_rotation() {
    let secret = Secret::create(&values("jwt", "token", None)).await;
    let twilio = FakeTwilio::start().await;
    twilio.accept_only_key("SKjwt", "api-key-secret-jwt");
    let app = serve_with(&secret, &[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let token = app_token("jwt");
    let (status, body) = app.send_text(&token, CUSTOMER, "one", "text-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A new key: written into the secret, then the old one deleted in Twilio.
    let mut rotated = values("jwt", "token", None);
    rotated["TWILIO_API_KEY_SID"] = json!("SKnext");
    rotated["TWILIO_API_KEY_SECRET"] = json!("api-key-secret-next");
    secret.put(&rotated.to_string()).await;
    twilio.accept_only_key("SKnext", "api-key-secret-next");
    let mut n = 1;
    eventually(&app, "sends with the new API key", || {
        n += 1;
        let (app, token) = (&app, &token);
        async move {
            let id = format!("text-{n}");
            app.send_text(token, CUSTOMER, "two", &id).await.0 == StatusCode::OK
        }
    })
    .await;
    let sends = twilio.sends();
    let last = sends.last().and_then(|s| s.authorization.clone());
    let expected = base64::engine::general_purpose::STANDARD.encode("SKnext:api-key-secret-next");
    assert_eq!(last, Some(format!("Basic {expected}")));
}

/// Voicemail plays and is deleted with the API key of the secret; a new key written into the
/// secret reaches the calls routes without a restart.
#[tokio::test]
async fn voicemail_is_played_and_deleted_with_the_secrets_api_key_and_its_rotation() {
    // The tests' auth token signs the calls that leave the voicemail.
    let secret = Secret::create(&values("jwt", AUTH_TOKEN, None)).await;
    let twilio = FakeTwilio::start().await;
    twilio.accept_only_key("SKjwt", "api-key-secret-jwt");
    twilio.add_recording(RECORDING, AUDIO);
    let app = serve_with(&secret, &[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let sid = call_sid(1);
    let twiml = app.ring(&sid, SALES).await;
    app.recorded(&twiml, &sid, SALES, "completed", 17).await;
    let (token, path) = (app_token("jwt"), format!("/phone/voicemail/{RECORDING}"));
    let plays = || async {
        let played = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&token);
        played.send().await.unwrap().status()
    };
    assert_eq!(plays().await, StatusCode::OK);

    // A new key: written into the secret, then the old one deleted in Twilio.
    let mut rotated = values("jwt", AUTH_TOKEN, None);
    rotated["TWILIO_API_KEY_SID"] = json!("SKnext");
    rotated["TWILIO_API_KEY_SECRET"] = json!("api-key-secret-next");
    secret.put(&rotated.to_string()).await;
    twilio.accept_only_key("SKnext", "api-key-secret-next");
    eventually(&app, "plays with the new API key", || async {
        plays().await == StatusCode::OK
    })
    .await;
    let (status, body) = app.delete(&path, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!twilio.has_recording(RECORDING));
    let last = twilio
        .received()
        .last()
        .and_then(|r| r.authorization.clone());
    let expected = base64::engine::general_purpose::STANDARD.encode("SKnext:api-key-secret-next");
    assert_eq!(last, Some(format!("Basic {expected}")));
}

/// A recording report passed on to the directory's own receiver is signed as Twilio would
/// sign it: with the auth token (not the secondary), and after a rotation with the new one.
#[tokio::test]
async fn recording_reports_passed_on_are_signed_with_the_current_auth_token() {
    // The tests' auth token is the secondary, then the auth token alone: it signs the calls
    // throughout, while the primary changes.
    let secret = Secret::create(&values("jwt", "token-old", Some(AUTH_TOKEN))).await;
    let app = serve(&secret).await;
    let receiver = FakeTwilio::start().await;
    let url = format!("{}/hooks/voicemail", receiver.base);
    // Sales' voicemail reports go to the org's own receiver too (here over plain HTTP, which
    // the directory file refuses: it is set past the file's checks).
    let mut directory = Directory::parse(DEMO_DIRECTORY).unwrap();
    for group in &mut directory.orgs[0].groups {
        if let Some(Fallback::Voicemail(voicemail)) = &mut group.fallback {
            voicemail.recording_status_callback = Some(url.clone());
        }
    }
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    let signed_by = |report: &Received, token: &str| {
        let signature = report.signature.as_deref().unwrap_or_default();
        is_valid(token, &url, &report.form, signature)
    };
    let report = app.leave_voicemail_on_sales(&receiver, 1).await;
    assert!(signed_by(&report, "token-old"));
    assert!(!signed_by(&report, AUTH_TOKEN));

    secret
        .put(&values("jwt", AUTH_TOKEN, None).to_string())
        .await;
    eventually(&app, "the old auth token refused", || async {
        app.call_signed_with("token-old").await == StatusCode::FORBIDDEN
    })
    .await;
    let report = app.leave_voicemail_on_sales(&receiver, 2).await;
    assert!(signed_by(&report, AUTH_TOKEN));
    assert!(!signed_by(&report, "token-old"));
}

#[tokio::test]
async fn a_failed_read_keeps_the_last_good_values() {
    let secret = Secret::create(&values("jwt-one", "token-one", None)).await;
    let app = serve(&secret).await;

    // Values the configuration refuses (a ticket secret too short, no auth token) are not
    // taken; nor is text that is not JSON.
    let mut refused = values("jwt-two", "", None);
    refused["REALTIME_TICKET_SECRET"] = json!("short");
    for bad in [refused.to_string(), "not json".to_owned()] {
        secret.put(&bad).await;
        app.advance(REFRESH);
        // This request starts the re-read; the next ones see its outcome. Nothing tells when
        // a failed read is over: the pauses give moto's answer time to arrive.
        for _ in 0..3 {
            assert_eq!(app.devices_status("jwt-one").await, StatusCode::OK);
            assert_eq!(app.call_signed_with("token-one").await, StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(
            app.devices_status("jwt-two").await,
            StatusCode::UNAUTHORIZED
        );
    }

    // The secret gone (a failed GetSecretValue): still the last good values.
    secret.delete().await;
    app.advance(REFRESH);
    for _ in 0..3 {
        assert_eq!(app.devices_status("jwt-one").await, StatusCode::OK);
        assert_eq!(app.call_signed_with("token-one").await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_start_without_the_secret_fails_naming_secrets_arn() {
    let secret = Secret::create(&values("jwt", "token", None)).await;
    let missing = format!("{}-gone", secret.arn);
    let err = configure_from_env(env_for(&missing), needs(), &Clock::system())
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("SECRETS_ARN"), "{err}");

    // A secret without a value the server needs names that variable.
    let partial = Secret::create(&json!({"APP_JWT_SECRET": "jwt"})).await;
    let err = configure_from_env(env_for(&partial.arn), needs(), &Clock::system())
        .await
        .err()
        .expect("refused")
        .to_string();
    for name in [
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY_SECRET",
        "REALTIME_TICKET_SECRET",
    ] {
        assert!(err.contains(name), "{name} not named in {err}");
    }
    assert!(!err.contains("jwt\""), "{err}");
}
