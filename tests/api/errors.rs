//! Bad input gets a clear error naming the field; nothing malformed panics or loses data.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::store::StoreName;
use shared::store::testing::Behaviour;

use crate::helpers::{StoreKind, Stores, alice, spawn_app, spawn_on, stores, unreachable_dynamo};
use crate::helpers::{failing, spawn_behind_test_store, spawn_with_presence};

#[tokio::test]
async fn invalid_fields_are_named() {
    let app = spawn_app(StoreKind::Memory).await;
    let token = alice();
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/phone/voice/register-device",
            json!({"platform": "web"}),
            "deviceId",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "has space", "platform": "web"}),
            "deviceId",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": 42, "platform": "web"}),
            "deviceId",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d"}),
            "platform",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d", "platform": "windows"}),
            "platform",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d", "platform": "web", "capabilities": []}),
            "capabilities",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d", "platform": "web", "capabilities": ["fax"]}),
            "capabilities",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d", "platform": "web", "capabilities": "voice"}),
            "capabilities",
        ),
        (
            "/phone/voice/register-device",
            json!({"deviceId": "d", "platform": "web", "label": "x".repeat(65)}),
            "label",
        ),
        ("/phone/voice/heartbeat", json!({}), "deviceId"),
        (
            "/phone/voice/heartbeat",
            json!({"deviceId": "d", "platform": 7}),
            "platform",
        ),
        (
            "/phone/voice/unregister-device",
            json!({"deviceId": ""}),
            "deviceId",
        ),
    ];
    for (path, body, field) in cases {
        let (status, response) = app.post(path, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {response}");
        assert_eq!(response["error"]["code"], "invalid_field");
        assert_eq!(
            response["error"]["field"], field,
            "{path} {body}: {response}"
        );
        assert!(
            response["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    assert!(
        app.device_ids(&token).await.is_empty(),
        "no bad request stored anything"
    );
}

#[tokio::test]
async fn malformed_bodies_are_refused_without_harm() {
    let app = spawn_app(StoreKind::Memory).await;
    let token = alice();
    app.register(&token, "keep_me", "web").await;
    for raw in [
        "",
        "not json",
        "[1,2]",
        "\"deviceId\"",
        "{\"deviceId\":",
        "null",
        "{\"deviceId\":\"\u{0}\"}",
    ] {
        for path in [
            "/phone/voice/register-device",
            "/phone/voice/heartbeat",
            "/phone/voice/unregister-device",
        ] {
            let (status, body) = app.post_raw(path, &token, raw.to_owned()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {raw:?}: {body}");
            assert!(body["error"]["code"].is_string());
        }
    }
    assert_eq!(app.device_ids(&token).await, vec!["keep_me"]);
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app(StoreKind::Memory).await;
    let big = json!({"deviceId": "d", "platform": "web", "label": "x".repeat(20_000)}).to_string();
    let (status, body) = app
        .post_raw("/phone/voice/register-device", &alice(), big)
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "payload_too_large");
    let huge = "x".repeat(200_000);
    let (status, _) = app.post_raw("/phone/voice/heartbeat", &alice(), huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn wrong_method_and_unknown_path() {
    let app = spawn_app(StoreKind::Memory).await;
    let (status, body) = app.get("/phone/voice/register-device", &alice()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["error"]["code"], "method_not_allowed");
    let (status, body) = app.get("/phone/voice/nothing-here", &alice()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn an_unavailable_store_gets_503_with_retry_after() {
    let app = spawn_with_presence(failing(StoreName::Presence), &[]).await;
    let response = app
        .http
        .post(format!("{}/phone/voice/heartbeat", app.base))
        .bearer_auth(alice())
        .body(json!({"deviceId": "d"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("retry-after").is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "store_unavailable");
    assert!(
        !body.to_string().contains("injected"),
        "internal causes stay in the logs"
    );
    for (path, method) in [
        ("/phone/voice/devices", "GET"),
        ("/phone/voice/register-device", "POST"),
    ] {
        let (status, _) = if method == "GET" {
            app.get(path, &alice()).await
        } else {
            app.register(&alice(), "d", "web").await
        };
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
}

/// An outage's answer names the store that failed, not always the presence store: a client
/// (or the person reading its log) can tell "my inbox is down" from "calls are down".
#[tokio::test]
async fn an_outage_names_the_store_that_failed() {
    let (app, stores) = spawn_behind_test_store(&[]).await;
    for (store, path, message) in [
        (
            StoreName::Inbox,
            "/phone/sms/conversations",
            "inbox store temporarily unavailable; retry shortly",
        ),
        (
            StoreName::History,
            "/phone/calls",
            "history store temporarily unavailable; retry shortly",
        ),
        (
            StoreName::Presence,
            "/phone/voice/devices",
            "presence store temporarily unavailable; retry shortly",
        ),
    ] {
        stores.set(store, Behaviour::Fail);
        let (status, body) = app.get(path, &alice()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(body["error"]["code"], "store_unavailable", "{path}");
        assert_eq!(body["error"]["message"], message, "{path}");
        stores.set(store, Behaviour::Answer);
    }
}

#[tokio::test]
async fn an_unreachable_dynamodb_is_reported_as_unavailable() {
    let store = Arc::new(unreachable_dynamo().await);
    let app = spawn_on(
        Stores {
            presence: store,
            ..stores(StoreKind::Memory).await
        },
        &[],
    )
    .await;
    let (status, body) = app.get("/phone/voice/devices", &alice()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
