//! App JWT verification: only a valid token of the configured kind gets in.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::app::Core;
use shared::config::{Config, Needs};
use shared::http::endpoints::ListDevices;
use shared::http::{Endpoint, Route, handle};
use shared::store::memory::MemoryStore;

use crate::helpers::{APP_JWT_SECRET, ORG, StoreKind, now_s, spawn_app, spawn_app_with, test_env};

const RSA_PRIVATE: &str = include_str!("keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("keys/ec-public.pem");

fn claims() -> Value {
    json!({"email": "alice@example.com", "orgId": ORG, "iat": now_s(), "exp": now_s() + 600})
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn status_with(app: &crate::helpers::TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/phone/voice/devices", token).await
}

#[tokio::test]
async fn bad_tokens_get_401_with_a_json_error() {
    let app = spawn_app(StoreKind::Memory).await;
    let secret = APP_JWT_SECRET.as_bytes();
    let mut expired = claims();
    expired["exp"] = json!(now_s() - 120);
    let mut future = claims();
    future["nbf"] = json!(now_s() + 600);
    let mut no_email = claims();
    no_email.as_object_mut().unwrap().remove("email");
    let mut no_org = claims();
    no_org.as_object_mut().unwrap().remove("orgId");
    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut bad_email = claims();
    bad_email["email"] = json!("not-an-email");
    let none_alg = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    let cases = [
        ("expired", hs256(&expired, secret)),
        ("not yet valid", hs256(&future, secret)),
        ("wrong secret", hs256(&claims(), b"someone-else")),
        ("alg none", none_alg),
        ("no email claim", hs256(&no_email, secret)),
        ("no org claim", hs256(&no_org, secret)),
        ("no exp claim", hs256(&no_exp, secret)),
        ("email claim not an email", hs256(&bad_email, secret)),
        ("garbage", "abc.def.ghi".to_owned()),
        ("empty", String::new()),
    ];
    for (what, token) in cases {
        let (status, body) = status_with(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    let response = app
        .http
        .get(format!("{}/phone/voice/devices", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "no Authorization header"
    );
    // Tokens inside the leeway still pass: 10 s past exp.
    let mut recent = claims();
    recent["exp"] = json!(now_s() - 10);
    assert_eq!(
        status_with(&app, &hs256(&recent, secret)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn rs256_keys_accept_rs256_and_refuse_hs256_made_with_the_public_key() {
    let app = spawn_app_with(
        StoreKind::Memory,
        &[("APP_JWT_SECRET", ""), ("APP_JWT_PUBLIC_KEY", RSA_PUBLIC)],
    )
    .await;
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(status_with(&app, &good).await.0, StatusCode::OK);
    let confused = hs256(&claims(), RSA_PUBLIC.as_bytes());
    assert_eq!(
        status_with(&app, &confused).await.0,
        StatusCode::UNAUTHORIZED
    );
    let shared_secret = hs256(&claims(), APP_JWT_SECRET.as_bytes());
    assert_eq!(
        status_with(&app, &shared_secret).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn es256_keys_accept_es256() {
    // Escaped newlines, as a Lambda environment variable would carry the PEM.
    let escaped = EC_PUBLIC.replace('\n', "\\n");
    let app = spawn_app_with(
        StoreKind::Memory,
        &[("APP_JWT_SECRET", ""), ("APP_JWT_PUBLIC_KEY", &escaped)],
    )
    .await;
    let good = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(status_with(&app, &good).await.0, StatusCode::OK);
    assert_eq!(
        status_with(&app, &hs256(&claims(), EC_PUBLIC.as_bytes()))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = spawn_app_with(
        StoreKind::Memory,
        &[
            ("APP_JWT_ISSUER", "https://auth.example.com/"),
            ("APP_JWT_AUDIENCE", "softphone"),
        ],
    )
    .await;
    let secret = APP_JWT_SECRET.as_bytes();
    let mut good = claims();
    good["iss"] = json!("https://auth.example.com/");
    good["aud"] = json!("softphone");
    assert_eq!(
        status_with(&app, &hs256(&good, secret)).await.0,
        StatusCode::OK
    );
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.example.com/");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-app");
    for token in [
        hs256(&wrong_iss, secret),
        hs256(&wrong_aud, secret),
        hs256(&claims(), secret),
    ] {
        assert_eq!(status_with(&app, &token).await.0, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn claim_names_and_identity_style_are_settings() {
    let app = spawn_app_with(
        StoreKind::Memory,
        &[
            ("APP_JWT_EMAIL_CLAIM", "upn"),
            ("APP_JWT_ORG_CLAIM", "tenant"),
            ("IDENTITY_STYLE", "email"),
        ],
    )
    .await;
    let token = hs256(
        &json!({"upn": "Alice@Example.com", "tenant": ORG, "exp": now_s() + 600}),
        APP_JWT_SECRET.as_bytes(),
    );
    let (status, body) = status_with(&app, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["identity"], "user:alice@example.com");
    assert_eq!(
        status_with(&app, &hs256(&claims(), APP_JWT_SECRET.as_bytes()))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

/// The list-devices function as a Lambda builds it: only what its route needs configured.
fn gateway_app() -> ListDevices {
    let env = test_env(&[("APP_JWT_SECRET", ""), ("AUTH_MODE", "gateway")]);
    let config = Config::from_env(
        &|k| env.get(k).cloned(),
        Needs {
            app_auth: true,
            ..Needs::default()
        },
    )
    .unwrap();
    let store = Arc::new(MemoryStore::new());
    let core = Core::new(config.presence.clone(), shared::app::Stores::of(store));
    ListDevices::build(core, &config).unwrap()
}

fn gateway_event(claims: Option<Value>) -> String {
    let mut event = json!({
        "version": "2.0",
        "routeKey": "GET /phone/voice/devices",
        "rawPath": "/phone/voice/devices",
        "rawQueryString": "",
        "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "user-agent": "test"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123", "requestId": "r1", "routeKey": "GET /phone/voice/devices",
            "stage": "$default", "time": "20/Nov/2026:12:00:00 +0000", "timeEpoch": 1795219200000i64,
            "http": {"method": "GET", "path": "/phone/voice/devices", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.9", "userAgent": "test"}
        },
        "isBase64Encoded": false
    });
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    event.to_string()
}

#[tokio::test]
async fn gateway_mode_takes_claims_from_the_authorizer() {
    let app = gateway_app();
    let event = gateway_event(Some(
        json!({"email": "alice@example.com", "orgId": ORG, "sub": "123"}),
    ));
    let request = shared::lambda::from_lambda(lambda_http::request::from_str(&event).unwrap());
    let response = handle(&app, Route::ListDevices, request).await;
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["identity"], "u_org_5Fdemo__alice_40example_2Ecom");

    let request =
        shared::lambda::from_lambda(lambda_http::request::from_str(&gateway_event(None)).unwrap());
    assert_eq!(
        handle(&app, Route::ListDevices, request).await.status(),
        401
    );
}
