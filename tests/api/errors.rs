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

/// Every place the docs pair an error code with a status: each response of docs/openapi.yaml
/// (a status, and the codes its description names), and the tables of the README and
/// docs/client-contract.md (`| 409 | `send_in_progress` |`, `| 503 `store_unavailable` |`).
mod documented {
    use std::collections::BTreeSet;

    pub const OPENAPI: &str = include_str!("../../docs/openapi.yaml");
    pub const TABLES: [(&str, &str); 2] = [
        ("README.md", include_str!("../../README.md")),
        (
            "docs/client-contract.md",
            include_str!("../../docs/client-contract.md"),
        ),
    ];

    /// The `ErrorCode` schema's enum: every code the contract names.
    pub fn openapi_codes() -> BTreeSet<String> {
        let mut codes = BTreeSet::new();
        let mut lines = OPENAPI.lines().skip_while(|l| l.trim() != "ErrorCode:");
        let _ = lines.by_ref().find(|l| l.trim() == "enum:");
        for line in lines {
            let Some(code) = line.trim().strip_prefix("- ") else {
                break;
            };
            codes.insert(code.to_owned());
        }
        codes
    }

    /// The `code`s quoted in backticks in `text` that are error codes.
    fn quoted<'a>(text: &'a str, codes: &'a BTreeSet<String>) -> impl Iterator<Item = &'a str> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .filter(move |word| codes.contains(*word))
    }

    fn status(text: &str) -> Option<u16> {
        let digits = text.trim().trim_matches('\'');
        (digits.len() == 3)
            .then(|| digits.parse().ok())
            .flatten()
            .filter(|s| *s >= 400)
    }

    /// (code, status, where) of every error response in the OpenAPI document: inline
    /// (`'404':` then its `description:`) or a `$ref` to `components/responses`.
    pub fn openapi_pairs(codes: &BTreeSet<String>) -> Vec<(String, u16, String)> {
        // components/responses: name (four spaces' indent) -> its description.
        let mut described = std::collections::HashMap::new();
        let mut in_responses = false;
        let mut name = None;
        for line in OPENAPI.lines() {
            if line.starts_with("  ") && !line.starts_with("   ") {
                in_responses = line == "  responses:";
                continue;
            }
            if !in_responses {
                continue;
            }
            if let Some(n) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) {
                name = n.strip_suffix(':').map(str::to_owned);
            } else if let (Some(n), Some(d)) = (&name, line.trim().strip_prefix("description:")) {
                described.insert(n.clone(), d.to_owned());
                name = None;
            }
        }
        let mut pairs = Vec::new();
        let mut lines = OPENAPI.lines().peekable();
        while let Some(line) = lines.next() {
            let Some((key, rest)) = line.trim().split_once(':') else {
                continue;
            };
            let Some(status) = status(key) else {
                continue;
            };
            let description = match rest.split_once("#/components/responses/") {
                _ if rest.contains("description:") => rest.to_owned(),
                Some((_, name)) => {
                    let name = name.trim_end_matches(['\'', ' ', '}']);
                    described
                        .get(name)
                        .unwrap_or_else(|| panic!("no response {name} in components"))
                        .clone()
                }
                None => lines
                    .peek()
                    .and_then(|next| next.trim().strip_prefix("description:"))
                    .unwrap_or_default()
                    .to_owned(),
            };
            for code in quoted(&description, codes) {
                pairs.push((code.to_owned(), status, format!("openapi.yaml: {line}")));
            }
        }
        pairs
    }

    /// (code, status, where) of every status and code quoted together in prose:
    /// `` `408 request_timeout` ``.
    pub fn prose_pairs(codes: &BTreeSet<String>) -> Vec<(String, u16, String)> {
        let mut pairs = Vec::new();
        for (file, text) in TABLES.into_iter().chain([("docs/openapi.yaml", OPENAPI)]) {
            for quote in text.split('`').skip(1).step_by(2) {
                let Some((status_text, code)) = quote.split_once(' ') else {
                    continue;
                };
                if let Some(status) = status(status_text).filter(|_| codes.contains(code)) {
                    pairs.push((code.to_owned(), status, format!("{file}: `{quote}`")));
                }
            }
        }
        pairs
    }

    /// (code, status, where) of every table row that starts with a status and a code.
    pub fn table_pairs(codes: &BTreeSet<String>) -> Vec<(String, u16, String)> {
        let mut pairs = Vec::new();
        for (file, text) in TABLES {
            for line in text.lines() {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                let [_, first, second, ..] = cells[..] else {
                    continue;
                };
                // `| 409 | `code` |` or `| 409 `code` |`.
                let (status_text, code_text) = match first.split_once(' ') {
                    Some((s, c)) => (s, c),
                    None => (first, second),
                };
                let Some(status) = status(status_text) else {
                    continue;
                };
                let code = quoted(code_text, codes).next();
                if let Some(code) = code {
                    pairs.push((code.to_owned(), status, format!("{file}: {line}")));
                }
            }
        }
        pairs
    }
}

/// What the docs say a code answers is what it answers: every status the OpenAPI document and
/// the published error tables give a code is the status `ErrorCode::status` gives it (which
/// every refusal with that code answers), and the contract's list of codes is the service's.
#[test]
fn documented_statuses_are_the_answered_ones() {
    use shared::http::ErrorCode;

    let codes = documented::openapi_codes();
    let served: std::collections::BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(
        codes, served,
        "docs/openapi.yaml's ErrorCode enum against shared::http::ErrorCode"
    );

    let mut pairs = documented::openapi_pairs(&codes);
    let tables = documented::table_pairs(&codes);
    assert!(
        tables.len() >= 15,
        "read the error tables of the README and the client contract: {tables:?}"
    );
    pairs.extend(tables);
    pairs.extend(documented::prose_pairs(&codes));
    let mut wrong = Vec::new();
    for (code, status, place) in &pairs {
        let answered = ErrorCode::ALL
            .iter()
            .find(|c| c.as_str() == code)
            .map(|c| c.status().as_u16());
        if answered != Some(*status) {
            wrong.push(format!(
                "{code}: documented {status}, answered {answered:?} ({place})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let documented: std::collections::BTreeSet<&str> =
        pairs.iter().map(|(code, ..)| code.as_str()).collect();
    let undocumented: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !documented.contains(c))
        .collect();
    assert!(
        undocumented.is_empty(),
        "codes no doc gives a status: {undocumented:?}"
    );
}
