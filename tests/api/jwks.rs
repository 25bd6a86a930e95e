//! App tokens of an identity provider's key set (`APP_JWT_JWKS_URL`), against the local
//! provider of `idp.rs`: RS256 and ES256 keys by `kid`; a rotation (a new `kid` is fetched);
//! a flood of unknown `kid`s (one request per period); the provider down at start-up and
//! later (the last good keys kept); the issuer list and the required claim values.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ORG, StoreKind, TestApp, now_s, spawn_app_with};
use crate::idp::{Provider, SigningKey};

const RSA: &str = include_str!("keys/rsa-private.pem");
const RSA2: &str = include_str!("keys/rsa2-private.pem");
const EC: &str = include_str!("keys/ec-private.pem");
const EC2: &str = include_str!("keys/ec2-private.pem");

/// The rate floor of these tests: longer than any test runs, so that only moving the server's
/// clock ([`past_the_floor`]) ends it.
const FLOOR: Duration = Duration::from_secs(300);

fn claims() -> Value {
    json!({"email": "alice@example.com", "orgId": ORG, "iat": now_s(), "exp": now_s() + 600})
}

/// The server verifying app tokens with `provider`'s keys, plus `settings`.
async fn app_of(provider: &Provider, settings: &[(&str, &str)]) -> TestApp {
    let floor = FLOOR.as_secs().to_string();
    let mut overrides = vec![
        ("APP_JWT_SECRET", ""),
        ("APP_JWT_JWKS_URL", provider.url.as_str()),
        ("APP_JWT_JWKS_MIN_REFRESH_SECONDS", floor.as_str()),
    ];
    overrides.extend_from_slice(settings);
    spawn_app_with(StoreKind::Memory, &overrides).await
}

/// Moves `app`'s clock past the rate floor since the last fetch.
fn past_the_floor(app: &TestApp) {
    app.advance(FLOOR + Duration::from_secs(1));
}

async fn status(app: &TestApp, token: &str) -> StatusCode {
    app.get("/phone/voice/devices", token).await.0
}

#[tokio::test]
async fn rs256_and_es256_keys_are_found_by_kid() {
    let rsa = SigningKey::rsa("rsa-1", RSA);
    let ec = SigningKey::ec("ec-1", EC);
    let provider = Provider::start(&[&rsa, &ec]).await;
    let app = app_of(&provider, &[]).await;
    assert_eq!(provider.requests(), 1, "fetched once, at start-up");

    assert_eq!(status(&app, &rsa.sign(&claims())).await, StatusCode::OK);
    assert_eq!(status(&app, &ec.sign(&claims())).await, StatusCode::OK);

    let other_rsa = SigningKey::rsa("rsa-1", RSA2);
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("rsa-1".into()),
            ..Default::default()
        },
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(rsa.jwk()["n"].as_str().unwrap().as_bytes()),
    )
    .unwrap();
    let refused = [
        (
            "another key under a published kid",
            other_rsa.sign(&claims()),
        ),
        (
            "an EC signature under the RSA key's kid",
            ec.sign_as(Some("rsa-1"), &claims()),
        ),
        ("HS256 under an RSA key's kid", hs256),
        ("no kid", rsa.sign_as(None, &claims())),
        ("expired", {
            let mut expired = claims();
            expired["exp"] = json!(now_s() - 120);
            rsa.sign(&expired)
        }),
    ];
    for (what, token) in refused {
        let (code, body) = app.get("/phone/voice/devices", &token).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    // Known kids never fetch again.
    assert_eq!(provider.requests(), 1);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_when_a_token_names_it() {
    let old = SigningKey::rsa("rsa-1", RSA);
    let new = SigningKey::ec("ec-2", EC2);
    let provider = Provider::start(&[&old]).await;
    let app = app_of(&provider, &[]).await;
    assert_eq!(status(&app, &old.sign(&claims())).await, StatusCode::OK);

    // The provider publishes the next key beside the current one, then signs with it.
    provider.publish(&[&old, &new]);
    // Inside the floor after the start-up fetch: not fetched yet.
    let (code, body) = app.get("/phone/voice/devices", &new.sign(&claims())).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("a key the issuer does not publish"),
        "{body}"
    );
    assert_eq!(provider.requests(), 1);

    past_the_floor(&app);
    assert_eq!(status(&app, &new.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 2, "one fetch for the new kid");
    // Both keys of the set are in use, without another fetch.
    assert_eq!(status(&app, &old.sign(&claims())).await, StatusCode::OK);
    assert_eq!(status(&app, &new.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_the_provider_one_request_per_period() {
    let key = SigningKey::rsa("rsa-1", RSA);
    let provider = Provider::start(&[&key]).await;
    let app = app_of(&provider, &[]).await;
    past_the_floor(&app);

    let flood = |round: usize| {
        let app = &app;
        let key = &key;
        futures::future::join_all((0..40).map(move |i| async move {
            let kid = format!("made-up-{round}-{i}");
            status(app, &key.sign_as(Some(&kid), &claims())).await
        }))
    };
    let statuses = flood(1).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));
    assert_eq!(
        provider.requests(),
        2,
        "start-up, then one for the whole flood"
    );
    // Still inside the floor: nothing more, and the real key still works.
    flood(2).await;
    assert_eq!(provider.requests(), 2);
    assert_eq!(status(&app, &key.sign(&claims())).await, StatusCode::OK);

    past_the_floor(&app);
    flood(3).await;
    assert_eq!(provider.requests(), 3, "one more in the next period");
}

#[tokio::test]
async fn a_provider_down_at_start_up_is_asked_at_the_first_token() {
    let key = SigningKey::ec("ec-1", EC);
    let provider = Provider::start(&[&key]).await;
    provider.set_up(false);
    // The start does not fail, and does not start the floor.
    let app = app_of(&provider, &[("APP_JWT_JWKS_MIN_REFRESH_SECONDS", "3600")]).await;
    assert_eq!(provider.requests(), 1);

    provider.set_up(true);
    assert_eq!(status(&app, &key.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 2);
    assert_eq!(status(&app, &key.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 2);
}

#[tokio::test]
async fn a_provider_down_later_leaves_the_last_good_keys_in_use() {
    let key = SigningKey::rsa("rsa-1", RSA);
    let next = SigningKey::rsa("rsa-2", RSA2);
    let provider = Provider::start(&[&key]).await;
    let app = app_of(&provider, &[]).await;
    provider.set_up(false);
    past_the_floor(&app);

    // An unknown kid asks, fails, and the known key goes on working.
    assert_eq!(
        status(&app, &next.sign(&claims())).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(provider.requests(), 2);
    assert_eq!(status(&app, &key.sign(&claims())).await, StatusCode::OK);

    // A set with no usable key does not replace good keys either.
    provider.set_up(true);
    provider.publish(&[]);
    past_the_floor(&app);
    assert_eq!(
        status(&app, &next.sign(&claims())).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(provider.requests(), 3);
    assert_eq!(status(&app, &key.sign(&claims())).await, StatusCode::OK);

    // Back with the rotated set: the next period's fetch takes it.
    provider.publish(&[&key, &next]);
    past_the_floor(&app);
    assert_eq!(status(&app, &next.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 4);
}

#[tokio::test]
async fn any_issuer_of_the_list_is_accepted() {
    let key = SigningKey::rsa("rsa-1", RSA);
    let provider = Provider::start(&[&key]).await;
    let issuers = "https://accounts.google.com, accounts.google.com";
    let app = app_of(&provider, &[("APP_JWT_ISSUER", issuers)]).await;
    let with_iss = |iss: Value| {
        let mut claims = claims();
        claims["iss"] = iss;
        key.sign(&claims)
    };
    for iss in ["https://accounts.google.com", "accounts.google.com"] {
        assert_eq!(
            status(&app, &with_iss(json!(iss))).await,
            StatusCode::OK,
            "{iss}"
        );
    }
    for iss in [
        json!("https://accounts.google.com/"),
        json!("https://evil.example.com"),
        json!(["https://evil.example.com"]),
    ] {
        let (code, body) = app
            .get("/phone/voice/devices", &with_iss(iss.clone()))
            .await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{iss}: {body}");
    }
    assert_eq!(
        status(&app, &key.sign(&claims())).await,
        StatusCode::UNAUTHORIZED,
        "no iss"
    );
}

#[tokio::test]
async fn tokens_need_the_required_claim_values() {
    let key = SigningKey::rsa("rsa-1", RSA);
    let provider = Provider::start(&[&key]).await;
    let required = (
        "APP_JWT_REQUIRED_CLAIMS",
        "token_use=id,email_verified=true",
    );
    let app = app_of(&provider, &[required]).await;
    let with = |extra: Value| {
        let mut claims = claims();
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key.sign(&claims)
    };
    // Cognito's ID token, and Google's (email_verified as a boolean or as a string).
    for good in [
        json!({"token_use": "id", "email_verified": true}),
        json!({"token_use": "id", "email_verified": "true"}),
    ] {
        assert_eq!(
            status(&app, &with(good.clone())).await,
            StatusCode::OK,
            "{good}"
        );
    }
    for (bad, claim) in [
        // A Cognito access token.
        (
            json!({"token_use": "access", "email_verified": true}),
            "token_use",
        ),
        (
            json!({"token_use": "id", "email_verified": false}),
            "email_verified",
        ),
        (
            json!({"token_use": "id", "email_verified": "false"}),
            "email_verified",
        ),
        (json!({"token_use": "id"}), "email_verified"),
        (json!({"email_verified": true}), "token_use"),
    ] {
        let (code, body) = app.get("/phone/voice/devices", &with(bad.clone())).await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{bad}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(claim), "{bad}: {message}");
    }
}

#[tokio::test]
async fn a_set_older_than_an_hour_is_fetched_again_and_a_withdrawn_key_stops_working() {
    let old = SigningKey::rsa("rsa-1", RSA);
    let next = SigningKey::rsa("rsa-2", RSA2);
    let provider = Provider::start(&[&old]).await;
    let app = app_of(&provider, &[]).await;
    assert_eq!(status(&app, &old.sign(&claims())).await, StatusCode::OK);

    // The provider withdraws the old key; within the hour the set in hand still trusts it.
    provider.publish(&[&next]);
    app.advance(Duration::from_secs(3000));
    assert_eq!(status(&app, &old.sign(&claims())).await, StatusCode::OK);
    assert_eq!(provider.requests(), 1);

    // Past an hour, a request still answered from the old set starts a fetch in the
    // background; once it lands, the withdrawn key is refused.
    app.advance(Duration::from_secs(601));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status(&app, &old.sign(&claims())).await == StatusCode::OK {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old key still trusted"
        );
        // The fetch is the local provider's answer: real time, briefly.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(provider.requests(), 2, "one fetch for the aged set");
    assert_eq!(status(&app, &next.sign(&claims())).await, StatusCode::OK);
}
