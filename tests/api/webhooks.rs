//! Twilio's voice webhooks over HTTP: signature first, then TwiML that rings only live
//! softphones, or the right fallback.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::json;
use shared::app::Core;
use shared::directory::Directory;
use shared::http::endpoints::Webhooks;
use shared::http::{Endpoint, Route};
use shared::store::StoreName;
use shared::store::memory::MemoryStore;
use shared::store::testing::TestStore;
use shared::twilio::signature::sign;

use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, ORG, StoreKind, TestApp, app_token, spawn_app, spawn_app_with,
    test_env, unreachable_dynamo,
};
use crate::helpers::{hanging, spawn_behind_test_store, spawn_with_presence, without_history};
use crate::on_both_stores;
use crate::sms::{CUSTOMER, message_sid, sms_params};

pub(crate) const SALES: &str = "+14155551234";
pub(crate) const SUPPORT: &str = "+14155551235";
pub(crate) const NIGHT: &str = "+14155551236";
pub(crate) const ALICE_DIRECT: &str = "+14155550001";
pub(crate) const BOB_DIRECT: &str = "+14155550002";
const CALLER: &str = "+14158675309";

/// The TwiML of a response, parsed: proves it is well-formed XML.
pub(crate) struct Twiml {
    pub xml: String,
}

impl Twiml {
    pub(crate) fn doc(&self) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(&self.xml)
            .unwrap_or_else(|e| panic!("malformed TwiML {e}: {}", self.xml))
    }

    pub(crate) fn verbs(&self) -> Vec<String> {
        let doc = self.doc();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "Response");
        root.children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name().to_owned())
            .collect()
    }

    pub(crate) fn clients(&self) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.has_tag_name("Identity"))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    }

    pub(crate) fn texts(&self, tag: &str) -> Vec<String> {
        self.doc()
            .descendants()
            .filter(|n| n.has_tag_name(tag))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect()
    }

    pub(crate) fn attr(&self, tag: &str, name: &str) -> Option<String> {
        self.doc()
            .descendants()
            .find(|n| n.has_tag_name(tag))?
            .attribute(name)
            .map(str::to_owned)
    }

    /// The `<Parameter>`s of the first `<Client>`, as (name, value).
    pub(crate) fn parameters(&self) -> Vec<(String, String)> {
        let doc = self.doc();
        let Some(client) = doc.descendants().find(|n| n.has_tag_name("Client")) else {
            return Vec::new();
        };
        client
            .children()
            .filter(|n| n.has_tag_name("Parameter"))
            .map(|n| {
                (
                    n.attribute("name").unwrap().to_owned(),
                    n.attribute("value").unwrap().to_owned(),
                )
            })
            .collect()
    }
}

pub(crate) fn call_params(to: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("Caller", CALLER),
        ("To", to),
        ("Called", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl TestApp {
    pub(crate) async fn webhook_with(
        &self,
        path: &str,
        params: &[(String, String)],
        signature: Option<String>,
    ) -> (StatusCode, String) {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(signature) = signature {
            request = request.header("x-twilio-signature", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        if status == StatusCode::OK {
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(content_type.starts_with("text/xml"), "{content_type}");
        }
        (status, response.text().await.unwrap())
    }

    /// A correctly signed webhook call; panics unless it answers 200 TwiML.
    pub(crate) async fn webhook(&self, path: &str, params: &[(String, String)]) -> Twiml {
        let signature = sign(AUTH_TOKEN, &format!("{}{path}", self.base), params);
        let (status, xml) = self.webhook_with(path, params, Some(signature)).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        Twiml { xml }
    }

    pub(crate) async fn call(&self, to: &str) -> Twiml {
        self.webhook("/phone/voice/incoming", &call_params(to))
            .await
    }

    pub(crate) async fn dial_status(&self, to: &str, status: Option<&str>) -> Twiml {
        let mut params = call_params(to);
        if let Some(status) = status {
            params.push(("DialCallStatus".into(), status.into()));
            params.push(("DialCallSid".into(), "CA99".into()));
        }
        self.webhook("/phone/voice/dial-status", &params).await
    }

    pub(crate) async fn register_with(&self, email: &str, device: &str, capabilities: &[&str]) {
        let body = json!({"deviceId": device, "platform": "web", "capabilities": capabilities});
        let (status, body) = self
            .post("/phone/voice/register-device", &app_token(email, ORG), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

on_both_stores!(
    a_group_number_rings_exactly_the_members_with_a_live_voice_device,
    a_direct_number_rings_its_user_with_line_details,
    nobody_live_in_a_group_gets_the_groups_fallback,
    a_direct_user_not_live_gets_the_numbers_voicemail,
    an_unknown_number_gets_a_polite_message,
    twelve_live_members_ring_ten_clients,
    dial_status_falls_back_or_hangs_up,
);

async fn a_group_number_rings_exactly_the_members_with_a_live_voice_device(kind: StoreKind) {
    let app = spawn_app_with(kind, &[("PRESENCE_TTL_SECONDS", "1")]).await;
    // Sales = alice, bob. Bob's only device is sms-only; carol is live but not in the group.
    app.register_with("bob@example.com", "bob_desk", &["sms"])
        .await;
    app.register_with("carol@example.com", "carol_desk", &["voice"])
        .await;
    // Alice has an expired voice device and a live one.
    app.register_with("alice@example.com", "alice_old", &["voice"])
        .await;
    app.advance(Duration::from_millis(2100));
    app.register_with("alice@example.com", "alice_now", &["voice", "sms"])
        .await;
    app.register_with("bob@example.com", "bob_desk", &["sms"])
        .await;

    let twiml = app.call(SALES).await;
    assert_eq!(twiml.verbs(), vec!["Dial"]);
    assert_eq!(twiml.clients(), vec!["u_org_5Fdemo__alice_40example_2Ecom"]);

    // Later alice's device has expired and bob has a voice device: only bob rings.
    app.advance(Duration::from_millis(2100));
    app.register_with("bob@example.com", "bob_voice", &["voice"])
        .await;
    let twiml = app.call(SALES).await;
    assert_eq!(
        twiml.clients(),
        vec!["u_org_5Fdemo__bob_40example_2Ecom"],
        "expired alice is not rung"
    );
}

async fn a_direct_number_rings_its_user_with_line_details(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("alice@example.com", "desk", &["voice"])
        .await;
    let twiml = app.call(ALICE_DIRECT).await;
    assert_eq!(twiml.clients(), vec!["u_org_5Fdemo__alice_40example_2Ecom"]);
    assert_eq!(
        twiml.attr("Dial", "answerOnBridge").as_deref(),
        Some("true")
    );
    assert_eq!(twiml.attr("Dial", "timeout").as_deref(), Some("30"));
    assert_eq!(twiml.attr("Dial", "callerId").as_deref(), Some(CALLER));
    // The dial-status callback, which names the step of ringing for the history (the first,
    // when it began, whom it rang).
    let action = twiml.attr("Dial", "action").map(|u| without_history(&u));
    let (path, query) = action.as_deref().and_then(|a| a.split_once('?')).unwrap();
    assert_eq!(path, format!("{}/phone/voice/dial-status", app.base));
    let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != "ts")
        .collect();
    assert_eq!(
        query,
        [("n", "1"), ("r", "alice@example.com")].map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let params = twiml.parameters();
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let timestamp: i64 = get("timestamp").unwrap().parse().unwrap();
    assert!(
        timestamp > 1_700_000_000_000,
        "timestamp is in milliseconds"
    );
    assert_eq!(get("phoneId").as_deref(), Some("phone-alice"));
    assert_eq!(get("phoneNumber").as_deref(), Some(ALICE_DIRECT));
    assert_eq!(get("friendlyName").as_deref(), Some("Alice direct"));

    // Group numbers use the group's ring timeout.
    let twiml = app.call(SALES).await;
    assert_eq!(twiml.attr("Dial", "timeout").as_deref(), Some("25"));
}

async fn nobody_live_in_a_group_gets_the_groups_fallback(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let sales = app.call(SALES).await;
    assert_eq!(sales.verbs(), vec!["Say", "Record", "Hangup"]);
    assert_eq!(
        sales.texts("Say"),
        vec!["Sales is busy. Please leave a message."]
    );
    assert_eq!(sales.attr("Record", "maxLength").as_deref(), Some("120"));
    assert_eq!(
        sales.attr("Record", "action").map(|u| without_history(&u)),
        Some(format!(
            "{}/phone/voice/dial-status?kind=voicemail",
            app.base
        ))
    );

    let support = app.call(SUPPORT).await;
    assert_eq!(support.verbs(), vec!["Connect"]);
    assert_eq!(
        support.attr("Stream", "url").as_deref(),
        Some("wss://assistant.example.com/stream")
    );

    let night = app.call(NIGHT).await;
    assert_eq!(night.verbs(), vec!["Say", "Hangup"]);
    assert_eq!(
        night.texts("Say"),
        vec!["We are closed. Please call again during office hours."]
    );
}

async fn a_direct_user_not_live_gets_the_numbers_voicemail(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let twiml = app.call(ALICE_DIRECT).await;
    assert_eq!(twiml.verbs(), vec!["Say", "Record", "Hangup"]);
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."]);
    let twiml = app.call(BOB_DIRECT).await;
    assert_eq!(twiml.verbs(), vec!["Say", "Record", "Hangup"]);
    assert_eq!(
        twiml.texts("Say"),
        vec!["Bob is on another call. Please leave a message."]
    );
}

async fn an_unknown_number_gets_a_polite_message(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let twiml = app.call("+19995550000").await;
    assert_eq!(twiml.verbs(), vec!["Say", "Hangup"]);
    assert!(twiml.texts("Say")[0].contains("not in service"));
    let twiml = app.call("not-a-number").await;
    assert_eq!(twiml.verbs(), vec!["Say", "Hangup"]);
}

async fn twelve_live_members_ring_ten_clients(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let members: Vec<String> = (0..12)
        .map(|i| format!("agent{i:02}@example.com"))
        .collect();
    let directory = json!({"orgs": [{"orgId": "org_big",
        "groups": [{"id": "everyone", "name": "Everyone", "members": members}],
        "phones": [{"id": "main", "phoneNumber": "+14155559999", "friendlyName": "Main", "groupId": "everyone"}]}]});
    let directory = Directory::parse(&directory.to_string()).unwrap();
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    for member in &members {
        let body = json!({"deviceId": "desk", "platform": "web"});
        let (status, _) = app
            .post(
                "/phone/voice/register-device",
                &app_token(member, "org_big"),
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let twiml = app.call("+14155559999").await;
    let clients = twiml.clients();
    assert_eq!(clients.len(), 10);
    // The two least recently seen are the ones left out.
    assert!(!clients.contains(&"user_agent00_40example_2Ecom".to_owned()));
    assert!(!clients.contains(&"user_agent01_40example_2Ecom".to_owned()));
    assert_eq!(
        twiml
            .doc()
            .descendants()
            .filter(|n| n.has_tag_name("Dial"))
            .count(),
        1,
        "one Dial"
    );
}

async fn dial_status_falls_back_or_hangs_up(kind: StoreKind) {
    let app = spawn_app(kind).await;
    for status in ["no-answer", "busy", "failed"] {
        let twiml = app.dial_status(SALES, Some(status)).await;
        assert_eq!(twiml.verbs(), vec!["Say", "Record", "Hangup"], "{status}");
        assert_eq!(
            twiml.texts("Say"),
            vec!["Sales is busy. Please leave a message."]
        );
    }
    let twiml = app.dial_status(ALICE_DIRECT, Some("no-answer")).await;
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."]);
    for status in ["completed", "answered", "canceled"] {
        assert_eq!(
            app.dial_status(SALES, Some(status)).await.verbs(),
            vec!["Hangup"],
            "{status}"
        );
    }
    // The voicemail's <Record action> lands here with no dial status: the message is taken.
    assert_eq!(app.dial_status(SALES, None).await.verbs(), vec!["Hangup"]);
}

/// An app whose stores count calls, to prove rejected requests touch nothing.
pub(crate) async fn counting_app() -> (TestApp, Arc<TestStore<MemoryStore>>) {
    spawn_behind_test_store(&[]).await
}

#[tokio::test]
async fn a_bad_or_missing_signature_is_refused_before_any_store_access() {
    let (app, counting) = counting_app().await;
    let before = counting.calls();
    let params = call_params(SALES);
    let (status, _) = app
        .webhook_with("/phone/voice/incoming", &params, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let wrong = sign(
        "not-the-token",
        &format!("{}/phone/voice/incoming", app.base),
        &params,
    );
    let (status, _) = app
        .webhook_with("/phone/voice/incoming", &params, Some(wrong))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed for other parameters (a tampered `To`).
    let signed_for_other = sign(
        AUTH_TOKEN,
        &format!("{}/phone/voice/incoming", app.base),
        &call_params(NIGHT),
    );
    let (status, _) = app
        .webhook_with("/phone/voice/incoming", &params, Some(signed_for_other))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Signed for another path.
    let other_path = sign(
        AUTH_TOKEN,
        &format!("{}/phone/voice/dial-status", app.base),
        &params,
    );
    let (status, _) = app
        .webhook_with("/phone/voice/incoming", &params, Some(other_path))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Correctly signed, but for another Twilio account.
    let mut foreign = params.clone();
    foreign[0].1 = "AC99999999999999999999999999999999".into();
    let signature = sign(
        AUTH_TOKEN,
        &format!("{}/phone/voice/dial-status", app.base),
        &foreign,
    );
    let (status, _) = app
        .webhook_with("/phone/voice/dial-status", &foreign, Some(signature))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        counting.calls(),
        before,
        "rejected webhooks read and wrote nothing"
    );

    // And a good one does reach the store.
    app.call(SALES).await;
    assert!(counting.calls() > before);
}

#[tokio::test]
async fn webhooks_configured_as_get_work_too() {
    let app = spawn_app(StoreKind::Memory).await;
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(call_params(ALICE_DIRECT))
        .finish();
    let url = format!("{}/phone/voice/incoming?{query}", app.base);
    let response = app
        .http
        .get(&url)
        .header("x-twilio-signature", sign(AUTH_TOKEN, &url, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let twiml = Twiml {
        xml: response.text().await.unwrap(),
    };
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."]);
}

/// During an auth-token rotation a signature by either token is accepted on `path`, and one by
/// any other token refused; without the secondary, only the auth token signs.
async fn either_token_signs(path: &str, params: &[(String, String)]) {
    let next = "the-next-twilio-auth-token";
    let app = spawn_app_with(StoreKind::Memory, &[("TWILIO_AUTH_TOKEN_SECONDARY", next)]).await;
    for (token, expected) in [
        (AUTH_TOKEN, StatusCode::OK),
        (next, StatusCode::OK),
        ("neither-of-the-tokens", StatusCode::FORBIDDEN),
    ] {
        let signature = sign(token, &format!("{}{path}", app.base), params);
        let (status, body) = app.webhook_with(path, params, Some(signature)).await;
        assert_eq!(status, expected, "{path}, {token}: {body}");
    }
    let app = spawn_app(StoreKind::Memory).await;
    let signature = sign(next, &format!("{}{path}", app.base), params);
    let (status, _) = app.webhook_with(path, params, Some(signature)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
}

#[tokio::test]
async fn during_an_auth_token_rotation_either_token_signs() {
    let call = call_params(SALES);
    let mut recorded = call.clone();
    recorded.extend(
        [
            ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "17"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    for (path, params) in [
        ("/phone/voice/incoming", &call),
        ("/phone/voice/dial-status", &call),
        ("/phone/voice/call-status", &call),
        ("/phone/voice/fallback", &call),
        ("/phone/voice/recording-status", &recorded),
    ] {
        either_token_signs(path, params).await;
    }
}

#[tokio::test]
async fn during_an_auth_token_rotation_either_token_signs_the_sms_webhooks() {
    let text = sms_params(&message_sid(1), CUSTOMER, SALES, "hello");
    let delivered: Vec<(String, String)> = [
        ("MessageSid", message_sid(2).as_str()),
        ("MessageStatus", "delivered"),
        ("AccountSid", ACCOUNT_SID),
        ("From", SALES),
        ("To", CUSTOMER),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (path, params) in [
        ("/phone/sms/incoming", &text),
        ("/phone/sms/status", &delivered),
        ("/phone/sms/fallback", &text),
    ] {
        either_token_signs(path, params).await;
    }
}

#[tokio::test]
async fn special_characters_in_the_directory_and_caller_make_well_formed_twiml() {
    let app = spawn_app(StoreKind::Memory).await;
    let tricky_email = "o'brien&co<x>@example.com";
    let greeting = r#"Tom & Jerry's <"Sales"> line"#;
    let name = r#"R&D <Line> "1""#;
    let directory = json!({"orgs": [{"orgId": ORG,
        "groups": [{"id": "odd", "name": "Odd & <Co>", "members": [tricky_email, "alice@example.com"],
            "fallback": {"type": "voicemail", "greeting": greeting}}],
        "phones": [{"id": "odd-line", "phoneNumber": "+14155558888", "friendlyName": name, "groupId": "odd"}]}]});
    app.stores
        .directory
        .import(
            &Directory::parse(&directory.to_string()).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();

    let nobody = app.call("+14155558888").await;
    assert_eq!(
        nobody.texts("Say"),
        vec![greeting.to_owned()],
        "same text after escaping"
    );

    app.register_with(tricky_email, "desk", &["voice"]).await;
    let mut params = call_params("+14155558888");
    params[4].1 = r#"Caller "<&>""#.into();
    let twiml = app.webhook("/phone/voice/incoming", &params).await;
    let identity = &twiml.clients()[0];
    assert!(
        identity
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "{identity}"
    );
    let params = twiml.parameters();
    assert!(params.contains(&("friendlyName".to_owned(), name.to_owned())));
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some(r#"Caller "<&>""#)
    );
}

#[tokio::test]
async fn a_stuck_store_still_gets_200_twiml_by_the_deadline() {
    // Presence never answers; the directory is known, so the group's own fallback plays.
    let app = spawn_with_presence(
        hanging(StoreName::Presence),
        &[("WEBHOOK_DEADLINE_MS", "300")],
    )
    .await;
    let request = app.call(SALES);
    let twiml = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("answered by the deadline, not when the store gives up");
    assert_eq!(
        twiml.texts("Say"),
        vec!["Sales is busy. Please leave a message."]
    );
}

/// Through the Lambda adapter: events as a Function URL and as API Gateway deliver them.
mod lambda_events {
    use super::*;
    use shared::config::{Config, Needs};

    /// The webhooks function as a Lambda builds it: only the webhook section configured.
    async fn app(overrides: &[(&str, &str)]) -> Webhooks {
        let env = test_env(overrides);
        let needs = Needs {
            webhooks: true,
            ..Needs::default()
        };
        let config = Config::from_env(&|k| env.get(k).cloned(), needs).unwrap();
        let store = Arc::new(shared::store::memory::MemoryStore::new());
        let demo = Directory::parse(crate::helpers::DEMO_DIRECTORY).unwrap();
        shared::store::DirectoryStore::import(
            store.as_ref(),
            &demo,
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
        let core = Core::new(config.presence.clone(), shared::app::Stores::of(store));
        Webhooks::build(core, &config).unwrap()
    }

    fn event(host: &str, stage: &str, raw_path: &str, signature: &str, body: &str) -> String {
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": "",
            "headers": {
                "host": host,
                "x-forwarded-proto": "https",
                "content-type": "application/x-www-form-urlencoded",
                "x-twilio-signature": signature,
                "i-twilio-idempotency-token": "abc"
            },
            "requestContext": {
                "accountId": "anonymous", "apiId": "abc", "domainName": host, "domainPrefix": "abc",
                "requestId": "r1", "routeKey": "$default", "stage": stage,
                "time": "20/Nov/2026:12:00:00 +0000", "timeEpoch": 1795219200000i64,
                "http": {"method": "POST", "path": raw_path, "protocol": "HTTP/1.1",
                         "sourceIp": "54.172.60.1", "userAgent": "TwilioProxy/1.1"}
            },
            "body": base64::engine::general_purpose::STANDARD.encode(body),
            "isBase64Encoded": true
        })
        .to_string()
    }

    async fn invoke(app: &Webhooks, event: &str) -> (u16, String) {
        let request = shared::lambda::from_lambda(lambda_http::request::from_str(event).unwrap());
        let response = shared::lambda::invoke(app, request).await;
        (
            response.status().as_u16(),
            String::from_utf8(response.body().to_vec()).unwrap(),
        )
    }

    fn form(params: &[(String, String)]) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish()
    }

    #[tokio::test]
    async fn signed_for_the_function_url_validates() {
        let app = app(&[]).await;
        let host = "abcdefghij.lambda-url.us-east-1.on.aws";
        let params = call_params(ALICE_DIRECT);
        let signature = sign(
            AUTH_TOKEN,
            &format!("https://{host}/phone/voice/incoming"),
            &params,
        );
        let (status, xml) = invoke(
            &app,
            &event(
                host,
                "$default",
                "/phone/voice/incoming",
                &signature,
                &form(&params),
            ),
        )
        .await;
        assert_eq!(status, 200, "{xml}");
        assert!(xml.contains("Alice is away."));
        assert!(xml.contains(&format!(
            "action=\"https://{host}/phone/voice/dial-status?kind=voicemail&amp;ho=org_demo&amp;hk=n"
        )));
        let (status, _) = invoke(
            &app,
            &event(
                host,
                "$default",
                "/phone/voice/incoming",
                "bad",
                &form(&params),
            ),
        )
        .await;
        assert_eq!(status, 403);
    }

    #[tokio::test]
    async fn signed_for_an_api_gateway_stage_validates_whether_or_not_raw_path_has_the_stage() {
        let app = app(&[]).await;
        let host = "abc123.execute-api.us-east-1.amazonaws.com";
        let params = call_params(ALICE_DIRECT);
        let url = format!("https://{host}/prod/phone/voice/incoming");
        let signature = sign(AUTH_TOKEN, &url, &params);
        for raw_path in ["/prod/phone/voice/incoming", "/phone/voice/incoming"] {
            let (status, xml) = invoke(
                &app,
                &event(host, "prod", raw_path, &signature, &form(&params)),
            )
            .await;
            assert_eq!(status, 200, "{raw_path}: {xml}");
            assert!(
                xml.contains(&format!(
                    "action=\"https://{host}/prod/phone/voice/dial-status?kind=voicemail&amp;ho=org_demo&amp;hk=n"
                )),
                "{xml}"
            );
        }
        // A Twilio signature over `:443` is accepted too.
        let with_port = sign(
            AUTH_TOKEN,
            &format!("https://{host}:443/prod/phone/voice/incoming"),
            &params,
        );
        let (status, _) = invoke(
            &app,
            &event(
                host,
                "prod",
                "/prod/phone/voice/incoming",
                &with_port,
                &form(&params),
            ),
        )
        .await;
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn behind_a_custom_domain_public_base_url_decides() {
        let app = app(&[("PUBLIC_BASE_URL", "https://voice.example.com")]).await;
        let params = call_params(ALICE_DIRECT);
        let signature = sign(
            AUTH_TOKEN,
            "https://voice.example.com/phone/voice/incoming",
            &params,
        );
        let event = event(
            "abc123.execute-api.us-east-1.amazonaws.com",
            "$default",
            "/phone/voice/incoming",
            &signature,
            &form(&params),
        );
        let (status, xml) = invoke(&app, &event).await;
        assert_eq!(status, 200, "{xml}");
        assert!(xml.contains(
            "action=\"https://voice.example.com/phone/voice/dial-status?kind=voicemail&amp;ho=org_demo&amp;hk=n"
        ));
    }
}

#[tokio::test]
async fn an_unreachable_directory_still_answers_twiml() {
    let down = unreachable_dynamo().await;
    let env = test_env(&[]);
    let needs = shared::config::Needs {
        webhooks: true,
        ..Default::default()
    };
    let cfg = shared::config::Config::from_env(&|k| env.get(k).cloned(), needs).unwrap();
    let core = Core::new(
        cfg.presence.clone(),
        shared::app::Stores::of(Arc::new(down)),
    );
    let app = Webhooks::build(core, &cfg).unwrap();
    let params = call_params(SALES);
    let url = "http://localhost/phone/voice/incoming";
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let request = http::Request::post(url)
        .header("host", "localhost")
        .header("x-twilio-signature", sign(AUTH_TOKEN, url, &params))
        .body(bytes::Bytes::from(body))
        .unwrap();
    let response = shared::http::handle(&app, Route::VoiceIncoming, request).await;
    assert_eq!(response.status(), 200);
    let xml = String::from_utf8(response.body().to_vec()).unwrap();
    let twiml = Twiml { xml };
    assert_eq!(twiml.verbs(), vec!["Say", "Hangup"]);
}
