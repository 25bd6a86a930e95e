//! Where Twilio is told to call back: an app client's headers (`Host`, `X-Forwarded-*`,
//! `Forwarded`) never choose it. A sent text's `StatusCallback` is under `PUBLIC_BASE_URL`, or
//! the local server's own address; a Lambda function that sends texts refuses to start without
//! `PUBLIC_BASE_URL` rather than guess one.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use shared::app::Core;
use shared::config::{Config, Needs};
use shared::http::endpoints::Sms;
use shared::http::{Endpoint, Route};
use shared::store::memory::MemoryStore;

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{StoreKind, TestApp, alice, spawn_app_with, test_env};
use crate::sms::{CUSTOMER, SALES_ID};

/// A send whose request says it came through `evil.example` over HTTPS, every way a proxy
/// could say so.
async fn send_with_hostile_headers(app: &TestApp, id: &str) -> StatusCode {
    let body = json!({ "phoneId": SALES_ID, "to": CUSTOMER, "body": "hi", "clientMessageId": id });
    let response = app
        .http
        .post(format!("{}/phone/sms/send", app.base))
        .bearer_auth(alice())
        .header("host", "evil.example")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-port", "443")
        .header("forwarded", "host=evil.example;proto=https")
        .json(&body)
        .send()
        .await
        .unwrap();
    response.status()
}

#[tokio::test]
async fn an_app_clients_headers_never_choose_where_twilio_calls_back() {
    let twilio = FakeTwilio::start().await;
    let local = spawn_app_with(
        StoreKind::Memory,
        &[("TWILIO_API_BASE_URL", twilio.base.as_str())],
    )
    .await;
    assert_eq!(
        send_with_hostile_headers(&local, "hostile-1").await,
        StatusCode::OK
    );
    let public = spawn_app_with(
        StoreKind::Memory,
        &[
            ("TWILIO_API_BASE_URL", twilio.base.as_str()),
            ("PUBLIC_BASE_URL", "https://hooks.example.com"),
        ],
    )
    .await;
    assert_eq!(
        send_with_hostile_headers(&public, "hostile-2").await,
        StatusCode::OK
    );

    let callbacks: Vec<String> = twilio
        .sends()
        .iter()
        .map(|send| send.field("StatusCallback").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        callbacks,
        [
            format!("{}/phone/sms/status", local.base),
            "https://hooks.example.com/phone/sms/status".to_owned(),
        ],
        "the local server's own address, then PUBLIC_BASE_URL; never evil.example"
    );
}

/// In Lambda the request's own domain is the app API's, not the webhooks': the SMS function
/// needs `PUBLIC_BASE_URL` to tell Twilio where to post a text's status, and says so at start.
#[tokio::test]
async fn the_sms_function_refuses_to_start_without_public_base_url_naming_it() {
    let build = |overrides: &[(&str, &str)]| {
        let env = test_env(overrides);
        let needs = Needs {
            table: false,
            ..Route::needs_of(&Route::SMS)
        };
        let config = Config::from_env(&|k| env.get(k).cloned(), needs).unwrap();
        let store = Arc::new(MemoryStore::new());
        let core = Core::new(config.presence.clone(), shared::app::Stores::of(store));
        Sms::build(core, &config).map(|_| ())
    };
    let refused = build(&[]).expect_err("no PUBLIC_BASE_URL");
    let message = refused.to_string();
    assert!(message.contains("PUBLIC_BASE_URL is required"), "{message}");
    assert!(message.contains("status of the texts"), "{message}");
    build(&[("PUBLIC_BASE_URL", "https://hooks.example.com")]).expect("starts with it");
}
