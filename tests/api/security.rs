//! The security matrix, through HTTP: bad app tokens, cross-user and cross-org access, forged
//! or replayed webhooks, oversized bodies, hostile text, and secrets in logs. Every refusal is
//! also checked to have touched no store (a `TestStore` in front of the real one).

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::store::memory::MemoryStore;
use shared::store::testing::TestStore;
use shared::twilio::signature::sign;

use crate::helpers::{
    ACCOUNT_SID, API_KEY_SID, APP_JWT_SECRET, AUTH_TOKEN, ORG, StoreKind, TestApp, alice,
    app_token, now_s, spawn_app, spawn_behind_test_store,
};
use crate::on_both_stores;

const RSA_PRIVATE: &str = include_str!("keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("keys/ec-private.pem");
const ISSUER: &str = "https://auth.example.com/";
const AUDIENCE: &str = "softphone";

/// Every app endpoint, with a body that would succeed for a valid caller.
fn app_requests() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        (
            "POST",
            "/phone/voice/register-device",
            Some(json!({"deviceId": "sec_dev", "platform": "web"})),
        ),
        (
            "POST",
            "/phone/voice/heartbeat",
            Some(json!({"deviceId": "sec_dev"})),
        ),
        (
            "POST",
            "/phone/voice/unregister-device",
            Some(json!({"deviceId": "sec_dev"})),
        ),
        ("GET", "/phone/voice/devices", None),
        ("GET", "/phone/user-phones", None),
    ]
}

/// Store calls since the server started (its start-up imports the demo directory).
struct Counter {
    store: Arc<TestStore<MemoryStore>>,
    base: usize,
}

impl Counter {
    fn calls(&self) -> usize {
        self.store.calls() - self.base
    }
}

/// The server over the memory store, behind a counter of store calls.
async fn counting_app(overrides: &[(&str, &str)]) -> (TestApp, Counter) {
    let (app, counting) = spawn_behind_test_store(overrides).await;
    let base = counting.calls();
    (
        app,
        Counter {
            store: counting,
            base,
        },
    )
}

/// Send `authorization` (the whole header value, or none) to every app endpoint.
async fn every_endpoint(app: &TestApp, authorization: Option<&str>) -> Vec<(String, u16, Value)> {
    let mut out = Vec::new();
    for (method, path, body) in app_requests() {
        let mut request = app
            .http
            .request(method.parse().unwrap(), format!("{}{path}", app.base));
        if let Some(auth) = authorization {
            request = request.header("authorization", auth);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let www = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 401 {
            assert_eq!(
                www.as_deref(),
                Some("Bearer"),
                "{path}: 401 names the scheme"
            );
        }
        out.push((path.to_owned(), status, body));
    }
    out
}

fn claims() -> Value {
    json!({"email": "alice@example.com", "orgId": ORG, "iat": now_s(), "exp": now_s() + 600,
           "iss": ISSUER, "aud": AUDIENCE})
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn hs256(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn good(claims: &Value) -> String {
    hs256(claims, APP_JWT_SECRET.as_bytes())
}

fn unsigned(header: &str, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The JWT matrix against an HS256 server that requires an issuer and an audience. Each case
/// hits all five endpoints; all must answer 401 `unauthorized` and no store may be touched.
#[tokio::test]
async fn bad_app_tokens_get_401_on_every_endpoint_and_touch_no_store() {
    let (app, counting) =
        counting_app(&[("APP_JWT_ISSUER", ISSUER), ("APP_JWT_AUDIENCE", AUDIENCE)]).await;
    let secret = APP_JWT_SECRET.as_bytes();
    let valid = good(&claims());
    let (head, rest) = valid.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let mut flipped_sig = sig.to_owned();
    let first = if sig.starts_with('A') { "B" } else { "A" };
    flipped_sig.replace_range(0..1, first);
    let rsa = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims(),
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let es = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims(),
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(),
        &EncodingKey::from_secret(secret),
    )
    .unwrap();
    // Another user's valid payload under this token's signature.
    let bob_payload =
        URL_SAFE_NO_PAD.encode(with(claims(), "email", json!("bob@example.com")).to_string());

    let cases: Vec<(&str, String)> = vec![
        (
            "expired (beyond the 30 s leeway)",
            good(&with(claims(), "exp", json!(now_s() - 120))),
        ),
        (
            "not yet valid (nbf in 10 min)",
            good(&with(claims(), "nbf", json!(now_s() + 600))),
        ),
        ("wrongly signed", hs256(&claims(), b"someone-elses-secret")),
        (
            "signature altered",
            format!("{head}.{payload}.{flipped_sig}"),
        ),
        ("signature stripped", format!("{head}.{payload}.")),
        ("payload swapped", format!("{head}.{bob_payload}.{sig}")),
        (
            "alg none",
            unsigned(r#"{"alg":"none","typ":"JWT"}"#, &claims()),
        ),
        (
            "alg None with the real signature",
            format!(
                "{}.{payload}.{sig}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"None"}"#)
            ),
        ),
        ("HS512 (algorithm not configured)", hs512),
        ("RS256 against an HS256 server", rsa),
        ("ES256 against an HS256 server", es),
        (
            "wrong issuer",
            good(&with(claims(), "iss", json!("https://evil.example.com/"))),
        ),
        (
            "wrong audience",
            good(&with(claims(), "aud", json!("another-app"))),
        ),
        (
            "audience list without ours",
            good(&with(claims(), "aud", json!(["a", "b"]))),
        ),
        ("missing issuer", good(&without(claims(), "iss"))),
        ("missing audience", good(&without(claims(), "aud"))),
        ("missing exp", good(&without(claims(), "exp"))),
        ("missing email", good(&without(claims(), "email"))),
        ("missing orgId", good(&without(claims(), "orgId"))),
        (
            "email not an email",
            good(&with(claims(), "email", json!("alice"))),
        ),
        (
            "email an object",
            good(&with(claims(), "email", json!({"x": 1}))),
        ),
        (
            "orgId with a key separator",
            good(&with(claims(), "orgId", json!("org:demo"))),
        ),
        ("orgId empty", good(&with(claims(), "orgId", json!("")))),
        ("exp a string", good(&with(claims(), "exp", json!("soon")))),
        ("malformed: three junk parts", "abc.def.ghi".to_owned()),
        ("malformed: two parts", format!("{head}.{payload}")),
        ("malformed: four parts", format!("{valid}.extra")),
        ("malformed: dots only", "...".to_owned()),
        (
            "malformed: header not JSON",
            format!("{}.{payload}.{sig}", URL_SAFE_NO_PAD.encode("not json")),
        ),
        (
            "malformed: payload a JSON array",
            hs256(&json!([1, 2, 3]), secret),
        ),
        ("malformed: not base64", "!!!.@@@.###".to_owned()),
    ];
    let mut refused = 0;
    for (what, token) in &cases {
        for (path, status, body) in every_endpoint(&app, Some(&format!("Bearer {token}"))).await {
            assert_eq!(status, 401, "{what} on {path}: {body}");
            assert_eq!(body["error"]["code"], "unauthorized", "{what} on {path}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(!message.contains(token.as_str()), "{what}: token echoed");
            refused += 1;
        }
    }
    // Headers that are not a bearer token at all.
    for header in [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Basic {valid}")),
        Some(format!("Token {valid}")),
        Some(format!("Bearer {valid} trailing")),
        Some(format!("Bearer\t{valid}")),
    ] {
        for (path, status, body) in every_endpoint(&app, header.as_deref()).await {
            assert_eq!(status, 401, "{header:?} on {path}: {body}");
            refused += 1;
        }
    }
    assert_eq!(counting.calls(), 0, "no refused request reached a store");
    println!(
        "security: {} bad tokens + 8 bad headers x 5 endpoints = {refused} refusals, 0 store calls",
        cases.len()
    );

    // The same server accepts the good token, so the refusals above were about the tokens.
    for (path, status, body) in every_endpoint(&app, Some(&format!("Bearer {valid}"))).await {
        assert_eq!(status, 200, "{path}: {body}");
    }
    // Lower-case scheme and surrounding blanks are still the same token.
    let (path, status, _) = every_endpoint(&app, Some(&format!("  bearer {valid} ")))
        .await
        .remove(3);
    assert_eq!(status, 200, "{path}");
}

/// HS/RS confusion: with an RSA public key configured, a token HS256-signed with that very
/// public key (the classic confusion attack) is refused, as is one with the HS secret.
#[tokio::test]
async fn a_public_key_server_refuses_hs256_tokens_made_with_its_public_key() {
    let (app, counting) =
        counting_app(&[("APP_JWT_SECRET", ""), ("APP_JWT_PUBLIC_KEY", RSA_PUBLIC)]).await;
    let claims = without(without(claims(), "iss"), "aud");
    let cases = [
        (
            "HS256 with the PEM as secret",
            hs256(&claims, RSA_PUBLIC.as_bytes()),
        ),
        (
            "HS256 with the PEM's base64 body as secret",
            hs256(
                &claims,
                RSA_PUBLIC
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>()
                    .as_bytes(),
            ),
        ),
        ("HS256 with the old shared secret", good(&claims)),
        ("alg none", unsigned(r#"{"alg":"none"}"#, &claims)),
        ("RS256 header over an HS256 signature", {
            let hs = hs256(&claims, RSA_PUBLIC.as_bytes());
            let (_, rest) = hs.split_once('.').unwrap();
            format!(
                "{}.{rest}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#)
            )
        }),
    ];
    for (what, token) in cases {
        for (path, status, body) in every_endpoint(&app, Some(&format!("Bearer {token}"))).await {
            assert_eq!(status, 401, "{what} on {path}: {body}");
        }
    }
    assert_eq!(counting.calls(), 0);
    let rs = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(app.get("/phone/voice/devices", &rs).await.0, StatusCode::OK);
}

/// A token over 8 KB is refused by its size alone: a correctly signed one of 9 KB gets 401
/// while one of 7 KB passes, so no decoding decided it. Far larger headers never reach the
/// handlers (hyper answers 431) and nothing is stored either way.
#[tokio::test]
async fn oversized_tokens_are_refused_by_size_before_any_parsing() {
    let (app, counting) = counting_app(&[]).await;
    let padded = |bytes: usize| good(&with(claims(), "pad", json!("x".repeat(bytes))));
    // "Bearer " counts: the limit is on the whole header.
    let small = padded(5600);
    assert!(small.len() + 7 < 8 * 1024, "{}", small.len());
    assert_eq!(
        app.get("/phone/voice/devices", &small).await.0,
        StatusCode::OK
    );
    let calls_after_good = counting.calls();

    let big = padded(6400);
    assert!(
        big.len() > 8 * 1024 && big.len() < 9 * 1024,
        "{}",
        big.len()
    );
    let started = Instant::now();
    let (status, body) = app.get("/phone/voice/devices", &big).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("longer than 8192 bytes"), "{message}");
    println!(
        "security: 9 KB signed token refused by size in {:?}",
        started.elapsed()
    );

    for size in [64 * 1024, 1024 * 1024] {
        let junk = "A".repeat(size);
        let started = Instant::now();
        let response = app
            .http
            .post(format!("{}/phone/voice/register-device", app.base))
            .header("authorization", format!("Bearer {junk}"))
            .body(json!({"deviceId": "d", "platform": "web"}).to_string())
            .send()
            .await;
        let elapsed = started.elapsed();
        match response {
            Ok(r) => {
                let status = r.status().as_u16();
                assert!([401, 431].contains(&status), "{size}-byte header: {status}");
                println!("security: {size}-byte Authorization header: {status}");
            }
            // hyper may close the connection on a header past its buffer: also a refusal.
            Err(e) => println!("security: {size}-byte header: connection closed ({e})"),
        }
        assert!(elapsed < Duration::from_secs(2), "{size}: {elapsed:?}");
        println!("security: {size}-byte Authorization header refused in {elapsed:?}");
    }
    assert_eq!(
        counting.calls(),
        calls_after_good,
        "oversized tokens touched no store"
    );
}

on_both_stores!(no_user_reaches_another_users_or_orgs_devices);

/// Alice registers; bob (same org), alice's email in another org, and mallory in another
/// org try every endpoint with her device id and with guesses. Nothing of hers changes.
async fn no_user_reaches_another_users_or_orgs_devices(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let alice = alice();
    let body = json!({"deviceId": "alice-laptop", "platform": "web", "label": "Alice's laptop",
        "capabilities": ["voice", "sms"]});
    let (status, reg) = app.post("/phone/voice/register-device", &alice, body).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    let original = reg["device"].clone();

    let intruders = [
        ("bob, same org", app_token("bob@example.com", ORG)),
        (
            "alice's email, other org",
            app_token("alice@example.com", "org_other"),
        ),
        (
            "mallory, other org",
            app_token("mallory@evil.example", "org_evil"),
        ),
        // An email whose escape looks like alice's identity must not be alice.
        (
            "look-alike email",
            app_token("alice_40example_2Ecom@x.io", ORG),
        ),
    ];
    let guesses = [
        "alice-laptop",
        "alice-laptop ",
        "ALICE-LAPTOP",
        "alice-laptop.",
        "alice",
    ];
    for (who, token) in &intruders {
        for guess in guesses {
            let (status, body) = app.heartbeat(token, guess).await;
            assert!(
                [StatusCode::NOT_FOUND, StatusCode::BAD_REQUEST].contains(&status),
                "{who} heartbeat {guess:?}: {status} {body}"
            );
            let (status, body) = app.unregister(token, guess).await;
            if status == StatusCode::OK {
                assert_eq!(body["removed"], false, "{who} unregister {guess:?}");
            } else {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{who} {guess:?}");
            }
        }
        assert!(
            app.device_ids(token).await.is_empty(),
            "{who} lists nothing of alice's"
        );
        let (_, phones) = app.get("/phone/user-phones", token).await;
        assert!(
            !phones.to_string().contains("phone-alice"),
            "{who} does not see alice's direct line: {phones}"
        );
    }
    // Bob registers a device under the same id: it is his own, alice's is untouched.
    let bob = &intruders[0].1;
    let (status, bob_reg) = app
        .post(
            "/phone/voice/register-device",
            bob,
            json!({"deviceId": "alice-laptop", "platform": "ios", "label": "Bob's"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bob_reg}");
    assert_eq!(bob_reg["evictedDeviceIds"], json!([]));
    assert_eq!(bob_reg["device"]["userEmail"], "bob@example.com");
    assert_eq!(app.unregister(bob, "alice-laptop").await.1["removed"], true);

    let (_, list) = app.get("/phone/voice/devices", &alice).await;
    let devices = list["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{list}");
    assert_eq!(
        devices[0], original,
        "alice's device is exactly as she left it"
    );
    let (status, _) = app.heartbeat(&alice, "alice-laptop").await;
    assert_eq!(status, StatusCode::OK);
}

/// What is sent (name, URL, parameters, signature) and the status expected.
type WebhookCase = (String, String, Vec<(String, String)>, Option<String>, u16);

/// Forged, tampered and replayed webhooks: refused (400 or 403) with no store access.
#[tokio::test]
async fn forged_or_replayed_webhooks_are_refused_without_store_access() {
    let (app, counting) = counting_app(&[]).await;
    let incoming = format!("{}/phone/voice/incoming", app.base);
    let params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+14158675309"),
        ("Caller", "+14158675309"),
        ("To", "+14155551234"),
        ("Called", "+14155551234"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signature = sign(AUTH_TOKEN, &incoming, &params);

    let post = |url: String, params: Vec<(String, String)>, signature: Option<String>| {
        let http = app.http.clone();
        async move {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let mut request = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
            if let Some(signature) = signature {
                request = request.header("x-twilio-signature", signature);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };

    let mut cases: Vec<WebhookCase> = vec![
        (
            "unsigned".into(),
            incoming.clone(),
            params.clone(),
            None,
            400,
        ),
        (
            "empty signature".into(),
            incoming.clone(),
            params.clone(),
            Some(String::new()),
            403,
        ),
        (
            "garbage signature".into(),
            incoming.clone(),
            params.clone(),
            Some("not base64!".into()),
            403,
        ),
        (
            "signed with another auth token".into(),
            incoming.clone(),
            params.clone(),
            Some(sign("not-our-token", &incoming, &params)),
            403,
        ),
        (
            "signature of an empty request".into(),
            incoming.clone(),
            params.clone(),
            Some(sign(AUTH_TOKEN, &incoming, &[])),
            403,
        ),
    ];
    // Replayed with any one parameter changed, dropped, or one added.
    for i in 0..params.len() {
        let mut changed = params.clone();
        changed[i].1.push('9');
        cases.push((
            format!("{} changed", params[i].0),
            incoming.clone(),
            changed,
            Some(signature.clone()),
            403,
        ));
        let mut dropped = params.clone();
        dropped.remove(i);
        cases.push((
            format!("{} dropped", params[i].0),
            incoming.clone(),
            dropped,
            Some(signature.clone()),
            403,
        ));
    }
    let mut added = params.clone();
    added.push(("Digits".into(), "1".into()));
    cases.push((
        "parameter added".into(),
        incoming.clone(),
        added,
        Some(signature.clone()),
        403,
    ));
    let mut renamed = params.clone();
    renamed[6].0 = "to".into();
    cases.push((
        "parameter renamed".into(),
        incoming.clone(),
        renamed,
        Some(signature.clone()),
        403,
    ));
    // Replayed to another URL: path, query, scheme, host, trailing slash.
    for (what, url) in [
        (
            "path changed",
            format!("{}/phone/voice/dial-status", app.base),
        ),
        ("query added", format!("{incoming}?org=org_demo")),
        ("trailing slash", format!("{incoming}/")),
    ] {
        cases.push((
            what.into(),
            url,
            params.clone(),
            Some(signature.clone()),
            403,
        ));
    }
    let with_query = format!("{incoming}?a=1");
    let signed_query = sign(AUTH_TOKEN, &with_query, &params);
    cases.push((
        "query changed".into(),
        format!("{incoming}?a=2"),
        params.clone(),
        Some(signed_query.clone()),
        403,
    ));
    cases.push((
        "query dropped".into(),
        incoming.clone(),
        params.clone(),
        Some(signed_query),
        403,
    ));
    for (what, signed_url) in [
        (
            "signed for https",
            incoming.replacen("http://", "https://", 1),
        ),
        (
            "signed for another host",
            "http://evil.example.com/phone/voice/incoming".to_owned(),
        ),
    ] {
        cases.push((
            what.into(),
            incoming.clone(),
            params.clone(),
            Some(sign(AUTH_TOKEN, &signed_url, &params)),
            403,
        ));
    }
    // Correctly signed, but for another Twilio account.
    let mut foreign = params.clone();
    foreign[0].1 = "AC99999999999999999999999999999999".into();
    let foreign_sig = sign(AUTH_TOKEN, &incoming, &foreign);
    cases.push((
        "another account".into(),
        incoming.clone(),
        foreign,
        Some(foreign_sig),
        403,
    ));

    for (what, url, params, signature, expected) in &cases {
        let (status, body) = post(url.clone(), params.clone(), signature.clone()).await;
        assert_eq!(status, *expected, "{what}: {body}");
        let code: Value = serde_json::from_str(&body).unwrap();
        assert!(code["error"]["code"].is_string(), "{what}: {body}");
    }
    assert_eq!(
        counting.calls(),
        0,
        "no refused webhook read or wrote anything"
    );
    println!(
        "security: {} forged or replayed webhooks refused, 0 store calls",
        cases.len()
    );

    // The untampered original goes through.
    let (status, body) = post(incoming, params, Some(signature)).await;
    assert_eq!(status, 200, "{body}");
    assert!(counting.calls() > 0);
}

/// Bodies over the limits get 413 before authentication or signature checks run; a body of
/// exactly the limit is served.
#[tokio::test]
async fn bodies_over_the_limit_get_413_and_touch_no_store() {
    let (app, counting) = counting_app(&[]).await;
    let token = alice();
    let at_limit = {
        let mut body = json!({"deviceId": "d1", "platform": "web"}).to_string();
        body.insert_str(1, &" ".repeat(8 * 1024 - body.len()));
        body
    };
    assert_eq!(at_limit.len(), 8 * 1024);
    let over = format!("{at_limit} ");
    for path in [
        "/phone/voice/register-device",
        "/phone/voice/heartbeat",
        "/phone/voice/unregister-device",
    ] {
        for token in [token.as_str(), "not-a-token"] {
            let (status, body) = app.post_raw(path, token, over.clone()).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
            assert_eq!(body["error"]["code"], "payload_too_large");
        }
    }
    for path in ["/phone/voice/incoming", "/phone/voice/dial-status"] {
        for size in [64 * 1024 + 1, 200_000] {
            let response = app
                .http
                .post(format!("{}{path}", app.base))
                .header("x-twilio-signature", "x")
                .body("a".repeat(size))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{path} {size}"
            );
        }
    }
    assert_eq!(counting.calls(), 0);
    let (status, body) = app
        .post_raw("/phone/voice/register-device", &token, at_limit)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a body of exactly 8 KiB is served: {body}"
    );
}

/// Hostile text in every field a client controls: either a 400 naming the field, or stored
/// and given back exactly (JSON-escaped), never a 500.
#[tokio::test]
async fn hostile_text_is_refused_by_field_or_stored_exactly() {
    let app = spawn_app(StoreKind::Memory).await;
    let token = alice();
    let register = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.post("/phone/voice/register-device", &token, body).await }
    };

    // Device ids: only [A-Za-z0-9._:-], 1-128.
    for bad in [
        "dev\u{0}".to_owned(),
        "dev\n1".to_owned(),
        "dev 1".to_owned(),
        "<dev>".to_owned(),
        "dev&amp;".to_owned(),
        "dév".to_owned(),
        "dev\u{202e}".to_owned(),
        "d".repeat(129),
        "d".repeat(100_000 / 10),
        "../../etc/passwd".to_owned(),
        "dev'; DROP TABLE devices;--".to_owned(),
    ] {
        let (status, body) = register(json!({"deviceId": bad, "platform": "web"})).await;
        if bad.len() > 8000 {
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
            continue;
        }
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["error"]["field"], "deviceId", "{bad:?}");
    }
    // Labels: control characters and over 64 characters are refused by name.
    for bad in [
        "tab\there",
        "nul\u{0}",
        "bell\u{7}",
        "esc\u{1b}[31m",
        "del\u{7f}",
        &"é".repeat(65),
    ] {
        let (status, body) =
            register(json!({"deviceId": "d", "platform": "web", "label": bad})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
        assert_eq!(body["error"]["field"], "label");
    }
    // Other fields of the wrong type or value.
    for (body, field) in [
        (json!({"deviceId": "d", "platform": "<web>"}), "platform"),
        (
            json!({"deviceId": "d", "platform": "web", "capabilities": ["voice", "<sms>"]}),
            "capabilities",
        ),
        (
            json!({"deviceId": "d", "platform": "web", "label": 7}),
            "label",
        ),
        (json!({"deviceId": ["d"], "platform": "web"}), "deviceId"),
    ] {
        let (status, response) = register(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert_eq!(response["error"]["field"], field);
    }
    // Labels that are legal but awkward are stored and returned exactly.
    let awkward = [
        "<script>alert('x')</script>",
        "Tom & Jerry's \"desk\"",
        "]]><!--",
        "日本語のラベル",
        "emoji 📞☎️",
        "right\u{202e}to-left",
        "combining e\u{301}",
        "\u{FFFD}\u{FEFF}zero width",
        &"ü".repeat(64),
    ];
    for (i, label) in awkward.iter().enumerate() {
        let id = format!("awkward-{i}");
        let (status, body) =
            register(json!({"deviceId": id, "platform": "web", "label": label})).await;
        assert_eq!(status, StatusCode::OK, "{label:?}: {body}");
        assert_eq!(body["device"]["label"], *label);
    }
    let (_, list) = app.get("/phone/voice/devices", &token).await;
    for label in awkward {
        assert!(
            list["devices"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["label"] == label),
            "{label:?} listed exactly"
        );
    }
    // Deeply nested or non-UTF-8 bodies are malformed, not a crash.
    for raw in [
        format!("{}{}", "[".repeat(4000), "]".repeat(4000)),
        format!("{{\"deviceId\":{}1{}}}", "[".repeat(1000), "]".repeat(1000)),
    ] {
        let (status, body) = app
            .post_raw("/phone/voice/register-device", &token, raw)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let response = app
        .http
        .post(format!("{}/phone/voice/heartbeat", app.base))
        .bearer_auth(&token)
        .body(vec![b'{', 0xff, 0xfe, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // User agents: control characters dropped (HTTP carries only the tab), cut to 160
    // characters, otherwise exact; one that is not text at all is not stored.
    for (ua, expected) in [
        (b"Agent\t/1.0".to_vec(), json!("Agent/1.0")),
        (b"<b>&\"'</b>".to_vec(), json!("<b>&\"'</b>")),
        ("u".repeat(1000).into_bytes(), json!("u".repeat(160))),
        (b"caf\xe9 \xff".to_vec(), Value::Null),
    ] {
        let response = app
            .http
            .post(format!("{}/phone/voice/register-device", app.base))
            .bearer_auth(&token)
            .header(
                "user-agent",
                reqwest::header::HeaderValue::from_bytes(&ua).unwrap(),
            )
            .body(json!({"deviceId": "ua-test", "platform": "web"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["device"]["userAgent"], expected);
    }
}

/// Hostile webhook parameters: always 200 TwiML that parses, with the caller id carried
/// exactly (what XML can carry of it).
#[tokio::test]
async fn hostile_webhook_parameters_still_make_well_formed_twiml() {
    let app = spawn_app(StoreKind::Memory).await;
    let (status, _) = app.register(&alice(), "desk", "web").await;
    assert_eq!(status, StatusCode::OK);
    let url = format!("{}/phone/voice/incoming", app.base);
    let hostile = [
        r#"<Response><Hangup/></Response>"#.to_owned(),
        "]]>&amp;&#0;&lt;".to_owned(),
        "\"'<>&".to_owned(),
        "caller\u{0}\u{1}\u{b}id".to_owned(),
        "日本 📞 \u{202e}".to_owned(),
        "x".repeat(15_000),
    ];
    for value in &hostile {
        for to in ["+14155550001", value.as_str()] {
            let params: Vec<(String, String)> = [
                ("AccountSid", ACCOUNT_SID),
                ("CallSid", value.as_str()),
                ("From", value.as_str()),
                ("To", to),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let response = app
                .http
                .post(&url)
                .header("x-twilio-signature", sign(AUTH_TOKEN, &url, &params))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let xml = response.text().await.unwrap();
            let doc = roxmltree::Document::parse(&xml)
                .unwrap_or_else(|e| panic!("malformed TwiML for {value:?}: {e}\n{xml}"));
            assert_eq!(doc.root_element().tag_name().name(), "Response");
            if to == "+14155550001" {
                let dial = doc.descendants().find(|n| n.has_tag_name("Dial")).unwrap();
                let carried: String = value
                    .chars()
                    .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
                    .collect();
                assert_eq!(dial.attribute("callerId"), Some(carried.as_str()));
                // Only the one Response, the one Dial: injected markup stayed text.
                assert_eq!(
                    doc.descendants()
                        .filter(|n| n.has_tag_name("Response"))
                        .count(),
                    1
                );
                assert_eq!(
                    doc.descendants()
                        .filter(|n| n.has_tag_name("Hangup"))
                        .count(),
                    0
                );
            }
        }
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Distinctive secrets, so a search of the logs cannot match anything else.
const LOG_JWT_SECRET: &str = "log-test-jwt-secret-4f1c9a";
const LOG_API_KEY_SECRET: &str = "log-test-api-key-secret-7d2e8b";
const LOG_AUTH_TOKEN: &str = "log-test-auth-token-93ac51";
const LOG_AWS_SECRET: &str = "log-test-aws-secret-access-key-1b6f";
const LOG_TICKET_SECRET: &str = "log-test-realtime-ticket-secret-5e0c2d9a71";

/// Run the real binary at trace level through a whole register, heartbeat, list, webhook,
/// dial-status, unregister flow, plus refused requests, and search everything it printed for
/// every token, JWT and secret involved.
async fn logs_of_a_whole_flow(store_args: &[&str], extra_env: &[(&str, String)]) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softphone-presence"));
    command
        .args(["serve", "--port", "0"])
        .args(store_args)
        .env("RUST_LOG", "trace")
        .env("APP_JWT_SECRET", LOG_JWT_SECRET)
        .env("TWILIO_API_KEY_SECRET", LOG_API_KEY_SECRET)
        .env("TWILIO_AUTH_TOKEN", LOG_AUTH_TOKEN)
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_API_KEY_SID", API_KEY_SID)
        .env("REALTIME_TICKET_SECRET", LOG_TICKET_SECRET)
        .env_remove("APP_JWT_PUBLIC_KEY")
        .env_remove("APP_JWT_JWKS_URL")
        .env_remove("AUTH_MODE")
        .env_remove("SECRETS_ARN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start softphone-presence");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let server = Server(child);
    // Read both streams whole on threads; the address comes from the first stdout line.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let out_thread = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        let mut sent = false;
        loop {
            let n = stdout.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
            if !sent {
                let text = String::from_utf8_lossy(&all);
                if let Some(line) = text.lines().find(|l| l.contains(" listening on ")) {
                    let _ = addr_tx.send(line.rsplit(' ').next().unwrap().to_owned());
                    sent = true;
                }
            }
        }
        String::from_utf8_lossy(&all).into_owned()
    });
    let err_thread = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    });
    let base = addr_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server printed its address");

    let now = now_s();
    let jwt =
        shared::local::mint_app_jwt(LOG_JWT_SECRET, "alice@example.com", ORG, now, 600).unwrap();
    let http = reqwest::Client::new();
    let register = http
        .post(format!("{base}/phone/voice/register-device"))
        .bearer_auth(&jwt)
        .json(&json!({"deviceId": "log-dev", "platform": "web", "label": "Log test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 200);
    let voice_token = register.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, body) in [
        (
            "/phone/voice/heartbeat",
            Some(json!({"deviceId": "log-dev"})),
        ),
        ("/phone/voice/devices", None),
        ("/phone/user-phones", None),
    ] {
        let request = match body {
            Some(b) => http.post(format!("{base}{path}")).json(&b),
            None => http.get(format!("{base}{path}")),
        };
        assert_eq!(
            request.bearer_auth(&jwt).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
    // A refused token (wrong secret) and an expired one: their text must not be logged.
    let forged = shared::local::mint_app_jwt("forger", "alice@example.com", ORG, now, 600).unwrap();
    let expired =
        shared::local::mint_app_jwt(LOG_JWT_SECRET, "alice@example.com", ORG, now - 7200, 60)
            .unwrap();
    for token in [&forged, &expired] {
        let status = http
            .get(format!("{base}/phone/voice/devices"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let mut signatures = Vec::new();
    for (path, extra) in [
        ("/phone/voice/incoming", None),
        (
            "/phone/voice/dial-status",
            Some(("DialCallStatus", "no-answer")),
        ),
    ] {
        let url = format!("{base}{path}");
        let mut params: Vec<(String, String)> = [
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", "CAlogtest"),
            ("From", "+14158675309"),
            ("To", "+14155550001"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some((k, v)) = extra {
            params.push((k.to_owned(), v.to_owned()));
        }
        let signature = sign(LOG_AUTH_TOKEN, &url, &params);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let response = http
            .post(&url)
            .header("x-twilio-signature", &signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        // The same request with a forged signature is refused; its signature is not logged.
        let forged_sig = sign("forged-auth-token", &url, &params);
        let response = http
            .post(&url)
            .header("x-twilio-signature", &forged_sig)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        signatures.push(signature);
        signatures.push(forged_sig);
    }
    let status = http
        .post(format!("{base}/phone/voice/unregister-device"))
        .bearer_auth(&jwt)
        .json(&json!({"deviceId": "log-dev"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    drop(server);
    let logs = format!(
        "{}\n{}",
        out_thread.join().unwrap(),
        err_thread.join().unwrap()
    );
    assert!(
        logs.contains("register-device") && logs.contains("voice-incoming"),
        "the flow was logged at all:\n{logs}"
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("app JWT", jwt.clone()),
        ("forged app JWT", forged.clone()),
        ("expired app JWT", expired.clone()),
        ("voice token", voice_token.clone()),
        ("auth token", LOG_AUTH_TOKEN.to_owned()),
        ("API key secret", LOG_API_KEY_SECRET.to_owned()),
        ("JWT secret", LOG_JWT_SECRET.to_owned()),
        ("ticket secret", LOG_TICKET_SECRET.to_owned()),
        ("AWS secret access key", LOG_AWS_SECRET.to_owned()),
    ];
    // A JWT's payload and signature parts on their own (the header part is the same for
    // every HS256 token, so it proves nothing).
    for (what, token) in [
        ("app JWT", &jwt),
        ("voice token", &voice_token),
        ("forged JWT", &forged),
    ] {
        let parts: Vec<&str> = token.split('.').collect();
        secrets.push((what, parts[1].to_owned()));
        secrets.push((what, parts[2].to_owned()));
    }
    for signature in signatures {
        secrets.push(("webhook signature", signature));
    }
    for (what, secret) in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "{what} found in the logs ({} bytes of logs)",
            logs.len()
        );
    }
    println!(
        "security: {} bytes of trace logs ({} lines) over a full flow{}: none of {} secrets found",
        logs.len(),
        logs.lines().count(),
        if store_args.is_empty() {
            ""
        } else {
            " on DynamoDB"
        },
        secrets.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_secret_in_the_logs_of_a_whole_flow() {
    logs_of_a_whole_flow(&[], &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_secret_in_the_logs_of_a_whole_flow_on_dynamodb() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("run scripts/test, which starts moto and sets AWS_ENDPOINT_URL_DYNAMODB");
    let table = format!("log-test-{}-{}", std::process::id(), now_s());
    logs_of_a_whole_flow(
        &[
            "--store",
            "dynamodb",
            "--create-table",
            "--directory",
            concat!(env!("CARGO_MANIFEST_DIR"), "/demo/directory.json"),
        ],
        &[
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
            ("AWS_SECRET_ACCESS_KEY", LOG_AWS_SECRET.to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("TABLE_NAME", table),
        ],
    )
    .await;
}
