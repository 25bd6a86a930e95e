//! Every fixture in `events/` through the Lambda adapter, as AWS would deliver it, with the
//! local server's development settings the fixtures are made for. A fixture added without a
//! check here fails `every_fixture_is_exercised`, so none can rot.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use shared::App;
use shared::config::Config;
use shared::directory::Directory;
use shared::http::Route;
use shared::local::with_dev_defaults;
use shared::store::DirectoryStore;
use shared::store::memory::MemoryStore;

use crate::helpers::DEMO_DIRECTORY;

const URL_HOST: &str = "k2vbxr5ghqmzexample7uzvnve0vdqwe.lambda-url.us-east-1.on.aws";

/// Fixture → the routes of the function that receives it.
const FIXTURES: &[(&str, &[Route])] = &[
    ("register-device.json", &[Route::RegisterDevice]),
    (
        "register-device-gateway-authorizer.json",
        &[Route::RegisterDevice],
    ),
    ("register-device-evicts.json", &[Route::RegisterDevice]),
    ("heartbeat.json", &[Route::Heartbeat]),
    ("list-devices.json", &[Route::ListDevices]),
    ("list-devices-bad-jwt.json", &[Route::ListDevices]),
    (
        "events-catch-up.json",
        &[Route::Events, Route::EventsTicket],
    ),
    (
        "events-expired-cursor.json",
        &[Route::Events, Route::EventsTicket],
    ),
    ("events-ticket.json", &[Route::Events, Route::EventsTicket]),
    ("user-phones.json", &[Route::UserPhones]),
    ("unregister-device.json", &[Route::UnregisterDevice]),
    ("voice-incoming-function-url.json", &Route::WEBHOOKS),
    ("voice-incoming-http-api.json", &Route::WEBHOOKS),
    ("voice-incoming-bad-signature.json", &Route::WEBHOOKS),
    ("dial-status-no-answer-function-url.json", &Route::WEBHOOKS),
    ("dial-status-completed-function-url.json", &Route::WEBHOOKS),
    ("voice-incoming-closed-function-url.json", &Route::WEBHOOKS),
    ("dial-status-step-function-url.json", &Route::WEBHOOKS),
    ("voice-outgoing-function-url.json", &Route::WEBHOOKS),
    ("call-status-answered-function-url.json", &Route::WEBHOOKS),
    ("call-status-completed-function-url.json", &Route::WEBHOOKS),
    ("voice-fallback-function-url.json", &Route::WEBHOOKS),
    ("sms-incoming-function-url.json", &Route::WEBHOOKS),
    ("sms-status-function-url.json", &Route::WEBHOOKS),
    ("sms-fallback-function-url.json", &Route::WEBHOOKS),
    ("sms-conversations.json", &Route::SMS),
    ("sms-messages.json", &Route::SMS),
    ("sms-read.json", &Route::SMS),
    ("sms-media-not-found.json", &Route::SMS),
    ("sms-send-twilio-unreachable.json", &Route::SMS),
    ("sms-send.json", &Route::SMS),
    ("recording-status-function-url.json", &Route::WEBHOOKS),
    ("calls-history.json", &Route::CALLS),
    ("calls-seen.json", &Route::CALLS),
    ("voicemail-twilio-unreachable.json", &Route::CALLS),
    ("voicemail-not-found.json", &Route::CALLS),
    ("presence-status-set.json", &Route::PEOPLE),
    ("presence-status.json", &Route::PEOPLE),
    ("team.json", &Route::PEOPLE),
    ("team-unknown-group.json", &Route::PEOPLE),
    ("admin-directory.json", &Route::ADMIN),
    ("admin-user-create.json", &Route::ADMIN),
    ("admin-group-stale.json", &Route::ADMIN),
    ("admin-audit.json", &Route::ADMIN),
    ("admin-forbidden.json", &Route::ADMIN),
];

/// Fixtures that are not HTTP requests: API Gateway's WebSocket events (the `realtime`
/// function), stream batches (`realtime-push`, `alerts`) and a schedule's event
/// (`sms-reconcile`).
const OTHER_FIXTURES: &[&str] = &[
    "realtime-connect.json",
    "realtime-connect-bad-ticket.json",
    "realtime-ping.json",
    "realtime-subscribe.json",
    "realtime-disconnect.json",
    "realtime-push-stream.json",
    "realtime-push-sweep-schedule.json",
    "alerts-stream.json",
    "sms-reconcile-schedule.json",
];

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

async fn dev_app(overrides: &[(&'static str, &'static str)]) -> App {
    let overrides = overrides.to_vec();
    let env = with_dev_defaults(move |name| {
        overrides
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    });
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&env, needs).unwrap();
    let store = Arc::new(MemoryStore::new());
    store
        .import(
            &Directory::parse(DEMO_DIRECTORY).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    App::new(&config, shared::app::Stores::of(store)).unwrap()
}

/// Invoke a fixture; the status and the body (JSON or TwiML text).
async fn invoke(app: &App, name: &str) -> (u16, String) {
    let routes = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .expect("listed fixture");
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let response =
        shared::lambda::serve_one(app, routes, shared::lambda::from_lambda(request)).await;
    let lambda_response = shared::lambda::to_lambda(response);
    let body = match lambda_response.body() {
        lambda_http::Body::Text(text) => text.clone(),
        other => panic!("{name}: expected a text body, got {other:?}"),
    };
    (lambda_response.status().as_u16(), body)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[test]
fn every_fixture_is_exercised() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let checked: BTreeSet<String> = FIXTURES
        .iter()
        .map(|(n, _)| *n)
        .chain(OTHER_FIXTURES.iter().copied())
        .map(str::to_owned)
        .collect();
    assert_eq!(on_disk, checked);
}

#[tokio::test]
async fn the_app_and_webhook_fixtures_play_a_device_lifecycle_and_a_call() {
    let app = dev_app(&[]).await;

    let (status, body) = invoke(&app, "register-device.json").await;
    assert_eq!(status, 200, "{body}");
    let reg = json(&body);
    assert_eq!(reg["identity"], "u_org_5Fdemo__alice_40example_2Ecom");
    assert_eq!(
        reg["device"]["ip"], "203.0.113.10",
        "API Gateway's sourceIp"
    );
    assert_eq!(
        reg["device"]["userAgent"],
        "Mozilla/5.0 (Macintosh) Chrome/131.0"
    );

    let (status, body) = invoke(&app, "heartbeat.json").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = invoke(&app, "list-devices.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["devices"][0]["deviceId"], "dev_a1b2c3");
    let (status, body) = invoke(&app, "user-phones.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["assignedPhones"].as_array().unwrap().len(), 2);

    // Alice is live: the Sales number (Function URL) and her direct number (HTTP API) ring her.
    let (status, xml) = invoke(&app, "voice-incoming-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Identity>u_org_5Fdemo__alice_40example_2Ecom</Identity>"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "action=\"https://{URL_HOST}/phone/voice/dial-status?n=1&amp;ts="
        )),
        "{xml}"
    );
    let (status, xml) = invoke(&app, "voice-incoming-http-api.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Parameter name=\"phoneId\" value=\"phone-alice\"/>"),
        "{xml}"
    );

    let (status, xml) = invoke(&app, "dial-status-no-answer-function-url.json").await;
    assert_eq!(status, 200);
    assert!(
        xml.contains("<Say>Sales is busy. Please leave a message.</Say><Record"),
        "{xml}"
    );
    // Twilio's fallback URL, after this process routed Sales: Sales' own voicemail.
    let (status, xml) = invoke(&app, "voice-fallback-function-url.json").await;
    assert_eq!(status, 200);
    assert!(
        xml.contains("<Say>Sales is busy. Please leave a message.</Say>"),
        "{xml}"
    );
    let (status, xml) = invoke(&app, "dial-status-completed-function-url.json").await;
    assert_eq!(status, 200);
    assert!(xml.ends_with("<Response><Hangup/></Response>"), "{xml}");
    let (status, _) = invoke(&app, "voice-incoming-bad-signature.json").await;
    assert_eq!(status, 403);

    let (status, body) = invoke(&app, "unregister-device.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["removed"], true);
    let (_, xml) = invoke(&app, "voice-incoming-function-url.json").await;
    assert!(
        !xml.contains("<Dial"),
        "nobody live after unregister: {xml}"
    );
}

#[tokio::test]
async fn the_gateway_fixture_authenticates_from_authorizer_claims() {
    let app = dev_app(&[("AUTH_MODE", "gateway")]).await;
    let (status, body) = invoke(&app, "register-device-gateway-authorizer.json").await;
    assert_eq!(status, 200, "{body}");
    let reg = json(&body);
    assert_eq!(reg["identity"], "u_org_5Fdemo__bob_40example_2Ecom");
    assert_eq!(reg["device"]["platform"], "ios");
    // Without gateway mode the placeholder bearer token is refused.
    let jwt_app = dev_app(&[]).await;
    assert_eq!(
        invoke(&jwt_app, "register-device-gateway-authorizer.json")
            .await
            .0,
        401
    );
}

/// Bob's second phone beyond a limit of one evicts his first (what the sam-local run's IAM
/// check sees register-device delete).
#[tokio::test]
async fn the_eviction_fixture_evicts_bobs_first_phone() {
    let app = dev_app(&[("MAX_DEVICES_PER_IDENTITY", "1")]).await;
    // His iPhone first: the same request for the other device.
    let text = std::fs::read_to_string(events_dir().join("register-device-evicts.json")).unwrap();
    let iphone = text.replace("bob_pixel", "bob_iphone");
    let request = lambda_http::request::from_str(&iphone).unwrap();
    let response = shared::lambda::serve_one(
        &app,
        &[Route::RegisterDevice],
        shared::lambda::from_lambda(request),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let (status, body) = invoke(&app, "register-device-evicts.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["device"]["deviceId"], "bob_pixel");
    let bob = shared::store::PresenceKey {
        org: shared::domain::OrgId::parse_field("org_demo", "org").unwrap(),
        identity: shared::domain::Identity::parse("u_org_5Fdemo__bob_40example_2Ecom").unwrap(),
    };
    let now = shared::clock::Clock::system().now_ms();
    let live = app
        .core()
        .stores
        .presence
        .live_devices(&bob, now)
        .await
        .unwrap();
    let ids: Vec<String> = live.iter().map(|d| d.device_id.to_string()).collect();
    assert_eq!(ids, vec!["bob_pixel".to_owned()]);
}

#[tokio::test]
async fn the_outgoing_and_call_status_fixtures_place_a_call_and_track_it() {
    let app = dev_app(&[]).await;
    let (status, xml) = invoke(&app, "voice-outgoing-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("callerId=\"+14155551234\""), "{xml}");
    assert!(xml.contains(">+14155559999</Number>"), "{xml}");
    assert!(
        xml.contains(&format!("statusCallback=\"https://{URL_HOST}/phone/voice/call-status?org=org_demo&amp;identity=u_org_5Fdemo__alice_40example_2Ecom&amp;ho=org_demo&amp;hk=o&amp;hs=")),
        "{xml}"
    );

    assert!(!on_call(&app).await);
    let (status, xml) = invoke(&app, "call-status-answered-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(on_call(&app).await, "answered: Alice is on a call");
    let (status, _) = invoke(&app, "call-status-completed-function-url.json").await;
    assert_eq!(status, 200);
    assert!(!on_call(&app).await, "completed: free again");
    // A duplicate, late answered changes nothing.
    invoke(&app, "call-status-answered-function-url.json").await;
    assert!(
        !on_call(&app).await,
        "a late answered after completed is ignored"
    );
}

async fn on_call(app: &App) -> bool {
    let (status, body) = invoke(app, "list-devices.json").await;
    assert_eq!(status, 200, "{body}");
    json(&body)["onCall"].as_bool().unwrap()
}

#[tokio::test]
async fn a_bad_jwt_fixture_is_refused() {
    let app = dev_app(&[]).await;
    let (status, body) = invoke(&app, "list-devices-bad-jwt.json").await;
    assert_eq!(status, 401, "{body}");
}

/// The sender of a push that records what it would post, per connection.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(String, String)>>);

#[async_trait::async_trait]
impl shared::realtime::push::Sender for Recorded {
    async fn send(
        &self,
        connection_id: &str,
        frame: &str,
    ) -> Result<(), shared::realtime::push::SendError> {
        let sent = (connection_id.to_owned(), frame.to_owned());
        self.0.lock().unwrap().push(sent);
        Ok(())
    }
}

fn websocket_fixture(
    name: &str,
) -> lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest {
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[tokio::test]
async fn the_realtime_fixtures_issue_a_ticket_connect_ping_push_and_disconnect() {
    use shared::realtime::stream::{StreamBatch, consume};
    use shared::realtime::websocket::Gateway;
    let app = dev_app(&[]).await;
    let core = app.core();
    let secret = shared::local::dev_default("REALTIME_TICKET_SECRET").unwrap();
    let gateway = Gateway {
        presence: core.stores.presence.clone(),
        directory: core.stores.directory.clone(),
        events: core.stores.events.clone(),
        tickets: shared::secrets::Rotating::fixed(shared::realtime::Tickets::new(
            &secret.to_owned().into(),
        )),
        socket: Default::default(),
        clock: shared::clock::Clock::system(),
    };
    assert_eq!(invoke(&app, "register-device.json").await.0, 200);
    let (status, body) = invoke(&app, "events-ticket.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["expiresIn"], 60);
    let (status, body) = invoke(&app, "events-catch-up.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["events"], serde_json::json!([]));
    let (status, body) = invoke(&app, "events-expired-cursor.json").await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(json(&body)["error"]["code"], "cursor_expired");

    let (refused, _) = gateway
        .handle(&websocket_fixture("realtime-connect-bad-ticket.json"))
        .await;
    assert_eq!(refused.status_code, 401);
    let (connected, outcome) = gateway
        .handle(&websocket_fixture("realtime-connect.json"))
        .await;
    assert_eq!(connected.status_code, 200, "{outcome:?}");
    assert_eq!(
        connected.headers["sec-websocket-protocol"],
        "softphone-presence.v1"
    );
    let (pong, _) = gateway
        .handle(&websocket_fixture("realtime-ping.json"))
        .await;
    let pong = serde_json::to_value(&pong).unwrap();
    assert_eq!(pong["body"], r#"{"type":"pong"}"#);

    let text = std::fs::read_to_string(events_dir().join("realtime-push-stream.json")).unwrap();
    let batch: StreamBatch = serde_json::from_str(&text).unwrap();
    let sent = Recorded::default();
    let now = shared::clock::Clock::system().now_ms();
    let stores = shared::realtime::team::Stores {
        presence: core.stores.presence.as_ref(),
        directory: core.stores.directory.as_ref(),
        events: core.stores.events.as_ref(),
    };
    let (response, summary) = consume(&stores, &sent, &batch, now).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        (summary.events, summary.skipped),
        (1, 1),
        "the device record is skipped"
    );
    let frames = sent.0.lock().unwrap().clone();
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(frames[0].0, "Jk1cXdwKoAMCEfw=");
    assert_eq!(json(&frames[0].1)["data"]["deviceId"], "dev_phone");

    // Alice watches Sales; her disconnect drops the subscription.
    let (subscribed, _) = gateway
        .handle(&websocket_fixture("realtime-subscribe.json"))
        .await;
    let subscribed = serde_json::to_value(&subscribed).unwrap();
    let answer = json(subscribed["body"].as_str().unwrap());
    assert_eq!(
        answer,
        serde_json::json!({"type": "subscribed", "team": "grp-sales"})
    );
    let org = shared::domain::OrgId::parse_field("org_demo", "org").unwrap();
    assert_eq!(
        core.stores.events.watchers(&org, now).await.unwrap().len(),
        1
    );

    let (gone, _) = gateway
        .handle(&websocket_fixture("realtime-disconnect.json"))
        .await;
    assert_eq!(gone.status_code, 200);
    assert!(
        core.stores
            .events
            .watchers(&org, now)
            .await
            .unwrap()
            .is_empty()
    );
    let user = shared::store::PresenceKey {
        org: shared::domain::OrgId::parse_field("org_demo", "org").unwrap(),
        identity: shared::domain::Identity::parse("u_org_5Fdemo__alice_40example_2Ecom").unwrap(),
    };
    assert!(
        core.stores
            .events
            .connections(&user, now)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The SMS fixtures in order: a customer texts Sales, Alice lists, reads, finds no media, and
/// cannot reply while Twilio is unreachable; a status callback for a text not stored yet is
/// kept; the SMS fallback of a number this process has not seen forwards nothing.
#[tokio::test]
async fn the_sms_fixtures_play_a_text_and_a_reply() {
    let app = dev_app(&[("TWILIO_API_BASE_URL", "http://127.0.0.1:9")]).await;
    let (status, xml) = invoke(&app, "sms-incoming-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.ends_with("<Response></Response>"), "{xml}");
    let (status, body) = invoke(&app, "sms-conversations.json").await;
    assert_eq!(status, 200, "{body}");
    let list = json(&body);
    assert_eq!(list["conversations"][0]["with"], "+14155550199");
    assert_eq!(list["conversations"][0]["unread"], 1);
    let (status, body) = invoke(&app, "sms-messages.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        json(&body)["messages"][0]["body"],
        "Is the blue one in stock?"
    );
    let (status, body) = invoke(&app, "sms-read.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["unread"], 0);
    let (status, body) = invoke(&app, "sms-media-not-found.json").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = invoke(&app, "sms-send-twilio-unreachable.json").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(json(&body)["error"]["code"], "twilio_unavailable");
    let (status, xml) = invoke(&app, "sms-status-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    let (status, xml) = invoke(&app, "sms-fallback-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.ends_with("<Response></Response>"), "{xml}");
}

/// The send fixture, with Twilio (the test's fake) taking the text: sent once, with its body,
/// from Sales' number, and stored under the sid Twilio gave.
#[tokio::test]
async fn the_send_fixture_stores_the_text_twilio_took() {
    use crate::helpers::{ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID};
    let twilio = crate::fake_twilio::FakeTwilio::start().await;
    twilio.next_message_sid("SM5e0d1c2b3a4958677685a4b3c2d1e0f9");
    let base: &'static str = Box::leak(twilio.base.clone().into_boxed_str());
    let app = dev_app(&[
        ("TWILIO_API_BASE_URL", base),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_API_KEY_SID", API_KEY_SID),
        ("TWILIO_API_KEY_SECRET", API_KEY_SECRET),
    ])
    .await;
    let (status, body) = invoke(&app, "sms-send.json").await;
    assert_eq!(status, 200, "{body}");
    let sent = json(&body);
    assert_eq!(sent["messageSid"], "SM5e0d1c2b3a4958677685a4b3c2d1e0f9");
    assert_eq!(sent["body"], "Yes, in stock.");
    let sends = twilio.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].field("To"), Some("+14155550199"));
    assert_eq!(sends[0].field("From"), Some("+14155551234"));
}

/// The call-history fixtures: a voicemail left on Sales is in Alice's recent calls (the
/// fixture's call started 2026-11-21, so the longest retention keeps it readable for years),
/// she marks it seen, playing it reaches for Twilio's REST API (unreachable: 503, so she
/// may play it), and another recording is none of hers.
#[tokio::test]
async fn the_call_history_fixtures_keep_a_voicemail_and_mark_it_seen() {
    let app = dev_app(&[
        ("TWILIO_API_BASE_URL", "http://127.0.0.1:9"),
        ("CALL_HISTORY_RETENTION_DAYS", "3650"),
    ])
    .await;
    let (status, xml) = invoke(&app, "recording-status-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.ends_with("<Response></Response>"), "{xml}");
    let (status, body) = invoke(&app, "calls-history.json").await;
    assert_eq!(status, 200, "{body}");
    let calls = json(&body);
    assert_eq!(calls["calls"][0]["outcome"], "voicemail", "{body}");
    assert_eq!(calls["calls"][0]["voicemail"]["durationSeconds"], 17);
    assert_eq!(calls["unseenMissed"], 1);
    let (status, body) = invoke(&app, "calls-seen.json").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = invoke(&app, "calls-history.json").await;
    assert_eq!(json(&body)["unseenMissed"], 0);
    let (status, body) = invoke(&app, "voicemail-twilio-unreachable.json").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(json(&body)["error"]["code"], "twilio_unavailable");
    let (status, body) = invoke(&app, "voicemail-not-found.json").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(json(&body)["error"]["code"], "not_found");
}

/// The history of `email` of the demo org, as the store keeps it.
async fn history_of(app: &App, email: &str) -> Vec<shared::history::Entry> {
    let org = shared::domain::OrgId::parse_field("org_demo", "org").unwrap();
    let email = shared::domain::Email::parse_field(email, "email").unwrap();
    let identity =
        shared::domain::Identity::for_person(&org, &email, shared::domain::IdentityStyle::Safe)
            .unwrap();
    let key = shared::store::PresenceKey { org, identity };
    let now = app.core().now_ms();
    let page = app.core().stores.history.history(&key, None, 10, now);
    page.await
        .unwrap()
        .entries
        .into_iter()
        .map(|(_, e)| e)
        .collect()
}

/// Routing policies' fixtures: a call to the Night line, closed at every hour, rings nobody
/// and is Dave's missed call, `closed`; the end of the first step of a call to Support (begun
/// long ago, past its ring timeout) answers Support's fallback, and Carol's and Bob's history
/// say the call was missed after it rang Carol.
#[tokio::test]
async fn the_routing_policy_fixtures_answer_a_closed_number_and_a_step() {
    let app = dev_app(&[("CALL_HISTORY_RETENTION_DAYS", "3650")]).await;
    let (status, xml) = invoke(&app, "voice-incoming-closed-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.ends_with(
            "<Say>We are closed. Please call again during office hours.</Say><Hangup/></Response>"
        ),
        "{xml}"
    );
    let dave = history_of(&app, "dave@example.com").await;
    assert_eq!(dave.len(), 1);
    assert_eq!(dave[0].missed, Some(shared::history::MissedReason::Closed));

    let (status, xml) = invoke(&app, "dial-status-step-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Stream url=\"wss://assistant.example.com/stream\""),
        "{xml}"
    );
    for email in ["carol@example.com", "bob@example.com"] {
        let entries = history_of(&app, email).await;
        assert_eq!(entries.len(), 1, "{email}");
        assert_eq!(
            entries[0].missed,
            Some(shared::history::MissedReason::NoAnswer)
        );
        let offered: Vec<_> = entries[0]
            .offered_to
            .iter()
            .map(|o| (o.step, &o.to))
            .collect();
        assert_eq!(offered, [(1, &vec!["carol@example.com".to_owned()])]);
    }
}

/// The admin API's fixtures, as the admin function gets them: Erin (an admin by the development
/// admin claim) reads the org at its first version, creates Frank, is refused a group by a
/// stale ETag, and finds Frank's creation in the audit log; Alice, no admin, gets 403.
#[tokio::test]
async fn the_admin_fixtures_read_create_refuse_and_audit() {
    let app = dev_app(&[]).await;
    let (status, body) = invoke(&app, "admin-directory.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["orgId"], "org_demo");
    let (status, body) = invoke(&app, "admin-user-create.json").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["name"], "Frank Fisher");
    let (status, body) = invoke(&app, "admin-user-create.json").await;
    assert_eq!(status, 412, "a second create: {body}");
    let (status, body) = invoke(&app, "admin-group-stale.json").await;
    assert_eq!(status, 412, "{body}");
    assert_eq!(json(&body)["error"]["code"], "precondition_failed");
    let (status, body) = invoke(&app, "admin-audit.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["entries"][0]["action"], "user.created");
    assert_eq!(json(&body)["entries"][0]["actor"], "erin@example.com");
    let (status, body) = invoke(&app, "admin-forbidden.json").await;
    assert_eq!(status, 403, "{body}");
}

/// People presence's fixtures: Alice, live, sets "away" with a note and reads it back; her
/// team lists her as away; a group her org does not have is 404.
#[tokio::test]
async fn the_people_fixtures_set_a_status_and_list_the_team() {
    let app = dev_app(&[]).await;
    let (status, body) = invoke(&app, "register-device.json").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = invoke(&app, "presence-status-set.json").await;
    assert_eq!(status, 200, "{body}");
    let set = json(&body);
    assert_eq!(
        (
            set["status"].clone(),
            set["effective"].clone(),
            set["note"].clone()
        ),
        (
            serde_json::json!("away"),
            serde_json::json!("away"),
            serde_json::json!("At the fixture")
        )
    );
    let (status, body) = invoke(&app, "presence-status.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), set);
    let (status, body) = invoke(&app, "team.json").await;
    assert_eq!(status, 200, "{body}");
    let team = json(&body);
    let people = team["people"].as_array().unwrap();
    assert_eq!(people.len(), 5, "{body}");
    assert_eq!(people[0]["email"], "alice@example.com");
    assert_eq!(people[0]["effective"], "away");
    let (status, body) = invoke(&app, "team-unknown-group.json").await;
    assert_eq!(status, 404, "{body}");
}

/// The push function's schedule: the team presence sweep, here with nobody watching.
#[tokio::test]
async fn the_sweep_schedule_fixture_is_a_scheduled_event_the_sweep_runs_on() {
    let text =
        std::fs::read_to_string(events_dir().join("realtime-push-sweep-schedule.json")).unwrap();
    let schedule: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schedule["detail-type"], "Scheduled Event");
    assert!(
        schedule.get("Records").is_none(),
        "told apart from a stream batch by that"
    );
    let app = dev_app(&[]).await;
    let stores = app.core().stores.clone();
    let team = shared::realtime::team::Stores {
        presence: stores.presence.as_ref(),
        directory: stores.directory.as_ref(),
        events: stores.events.as_ref(),
    };
    let sent = Recorded::default();
    let swept = shared::realtime::team::sweep(&team, &sent, 0)
        .await
        .unwrap();
    assert_eq!((swept.orgs, swept.people), (0, 0));
}

/// The reconciler's schedule event: one run against the fake Twilio, which has a text the
/// webhooks missed.
#[tokio::test]
async fn the_reconcile_schedule_fixture_recovers_a_missed_text() {
    let text = std::fs::read_to_string(events_dir().join("sms-reconcile-schedule.json")).unwrap();
    let schedule: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schedule["detail-type"], "Scheduled Event");
    let twilio = crate::fake_twilio::FakeTwilio::start().await;
    let now = shared::clock::Clock::system().now_ms();
    twilio.add_inbound(
        "+14155550199",
        "+14155551234",
        "missed",
        "Tue, 01 Dec 2026 09:00:00 +0000",
        &[],
    );
    let store = MemoryStore::new();
    store
        .import(
            &Directory::parse(DEMO_DIRECTORY).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let rest = shared::twilio::rest::TwilioRest::new(
        shared::twilio::rest::RestConfig {
            base_url: twilio.base.clone(),
            account_sid: crate::helpers::ACCOUNT_SID.into(),
            api_key_sid: crate::helpers::API_KEY_SID.into(),
            api_key_secret: crate::helpers::API_KEY_SECRET.to_owned().into(),
        },
        std::time::Duration::from_secs(5),
    );
    let style = shared::domain::IdentityStyle::Safe;
    let outcome = shared::lambda::reconcile::reconcile_scheduled(&store, &store, &rest, style, now)
        .await
        .unwrap();
    assert_eq!(outcome["recovered"], 1, "{outcome}");
    // From the start of yesterday (GMT): runs overlap, so a text just before midnight is found.
    let yesterday = shared::domain::dates::day_of(now - 86_400_000);
    let lists: Vec<_> = twilio
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .collect();
    assert_eq!(lists.len(), 5, "one list per number of the demo directory");
    for list in lists {
        assert!(
            list.query
                .contains(&("DateSent>".to_owned(), yesterday.clone())),
            "{list:?}"
        );
    }
}
