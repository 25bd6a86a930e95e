//! Alerts to sleeping phones (issue 31), end to end on the local server with its background
//! sender, against local fakes of APNs (HTTP/2 over TLS, provider tokens verified) and FCM
//! (OAuth assertion and bearer verified): who gets an alert and what it says, its badge, once
//! per event and device, dead registrations dropped, a provider that is down, another org.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::alerts::background::Background;
use shared::alerts::stream::consume;
use shared::alerts::{Providers, Report, Sending, Sources};
use shared::clock::Clock;
use shared::config::{Config, Needs};
use shared::outbound::Outbound;
use shared::realtime::stream::StreamBatch;
use shared::store::memory::MemoryStore;
use shared::store::{DirectoryStore, EventStore, HistoryStore, MessageStore, PresenceStore};
use tokio::sync::Mutex;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::fake_push::{APNS_TOPIC, FakeApns, FakeFcm, NOT_FOUND_ELSEWHERE};
use crate::helpers::{ORG, StoreKind, Stores, TestApp, alice, app_token, test_env};
use crate::on_both_stores;
use crate::realtime::spawn_local_with;
use crate::sms::CUSTOMER;
use crate::webhooks::SALES;

on_both_stores!(
    a_text_to_a_group_reaches_each_members_sleeping_phone_once_with_its_badge,
    a_dead_registration_is_dropped_and_gets_nothing_more,
    a_missed_call_and_its_voicemail_alert_and_a_seen_mark_clears_the_badge,
);

pub(crate) const ALICE_APNS: &str =
    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
pub(crate) const CAROL_APNS: &str =
    "c0c0c0c0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
pub(crate) const BOB_FCM: &str = "bob-fcm:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";

struct Alerting {
    app: TestApp,
    apns: FakeApns,
    fcm: FakeFcm,
    reports: Mutex<UnboundedReceiver<Report>>,
}

async fn spawn(kind: StoreKind) -> Alerting {
    spawn_with(kind, &[]).await
}

async fn spawn_with(kind: StoreKind, overrides: &[(&str, &str)]) -> Alerting {
    let (apns, fcm) = (FakeApns::start().await, FakeFcm::start().await);
    let mut settings: Vec<(&str, String)> = apns.env();
    settings.extend(fcm.env());
    settings.extend(overrides.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let env = test_env(&pairs);
    let needs = Needs {
        table: false,
        alerts: true,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).expect("test config");
    let alerts = config.alerts.as_ref().expect("alerts configured");
    // The client trusts the fake's certificate (and the system's roots): nothing else differs
    // from production.
    let http = Outbound::trusting(alerts.timeout, &apns.cert_pem);
    let clock = Clock::movable();
    let (background, reports) = Background::reporting(
        Providers::new(alerts, &http),
        clock.clone(),
        config.presence.identity_style,
        config.presence.event_retention_seconds,
    );
    let (app, _hub) = spawn_local_with(&config, None, kind, clock, Some(background)).await;
    Alerting {
        app,
        apns,
        fcm,
        reports: Mutex::new(reports),
    }
}

impl Alerting {
    /// The reports of the batches that come until `n` alerts were sent, found dead or given
    /// up (a batch of a user without a sleeping phone reports nothing done).
    async fn batches(&self, n: usize) -> Report {
        let mut total = Report::default();
        let mut reports = self.reports.lock().await;
        while total.sent + total.dead + total.gave_up.len() < n {
            let report = tokio::time::timeout(Duration::from_secs(20), reports.recv())
                .await
                .unwrap_or_else(|_| panic!("{n} alerts within 20 s, got {total:?}"))
                .expect("the sender runs");
            total.add(report);
        }
        total
    }

    /// The next `count` batches' reports, whatever they did.
    async fn next_reports(&self, count: usize) -> Report {
        let mut total = Report::default();
        let mut reports = self.reports.lock().await;
        for _ in 0..count {
            let report = tokio::time::timeout(Duration::from_secs(20), reports.recv())
                .await
                .unwrap_or_else(|_| panic!("{count} batches within 20 s, got {total:?}"))
                .expect("the sender runs");
            total.add(report);
        }
        total
    }

    async fn phone(&self, token: &str, device: &str, platform: &str, provider: &str, push: &str) {
        register_phone(&self.app, token, device, platform, provider, push).await;
    }
}

/// Register a phone of the token's user with its alert registration (and the `sms` capability).
async fn register_phone(
    app: &TestApp,
    token: &str,
    device: &str,
    platform: &str,
    provider: &str,
    push: &str,
) {
    let body = json!({
        "deviceId": device, "platform": platform, "capabilities": ["voice", "sms"],
        "notifications": {"provider": provider, "token": push},
    });
    let (status, body) = app.post("/phone/voice/register-device", token, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn now_ms() -> i64 {
    crate::helpers::now_s() * 1000
}

fn bob() -> String {
    app_token("bob@example.com", ORG)
}

fn carol() -> String {
    app_token("carol@example.com", ORG)
}

async fn a_text_to_a_group_reaches_each_members_sleeping_phone_once_with_its_badge(
    kind: StoreKind,
) {
    let t = spawn(kind).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    // Carol is not in Sales; Zed is in another org, with a number of its own.
    t.phone(&carol(), "carol_iphone", "ios", "apns", CAROL_APNS)
        .await;
    let zed = app_token("zed@other.example", "org_other");
    let zed_token = "dd".repeat(32);
    t.phone(&zed, "zed_iphone", "ios", "apns", &zed_token).await;
    let start = t.app.start_cursor(&alice()).await;

    t.app
        .text(1, CUSTOMER, SALES, "Hello there, is anyone in?")
        .await;
    let report = t.batches(2).await;
    assert_eq!((report.sent, report.gave_up.len()), (2, 0), "{report:?}");

    let to_alice = t.apns.fake.received_for(ALICE_APNS);
    assert_eq!(to_alice.len(), 1);
    let alert = &to_alice[0];
    assert_eq!(alert.headers["apns-push-type"], "alert");
    assert_eq!(alert.headers["apns-topic"], APNS_TOPIC);
    assert_eq!(alert.headers["apns-priority"], "10");
    let aps = &alert.body["aps"];
    assert_eq!(aps["alert"]["title"], "Text from +14155550199");
    assert_eq!(aps["alert"]["body"], "Hello there, is anyone in?");
    assert_eq!(aps["badge"], 1);
    assert_eq!(aps["thread-id"], "sms:phone-sales:+14155550199");
    assert_eq!(alert.body["type"], "sms.received");
    // The cursor is the event's: catch-up from just before it finds it.
    let (events, _) = t.app.catch_up(&alice(), &start).await;
    let cursor = alert.body["cursor"].as_str().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["cursor"] == cursor && e["type"] == "sms.received"),
        "{events:?}"
    );

    let to_bob = t.fcm.fake.received_for(BOB_FCM);
    assert_eq!(to_bob.len(), 1);
    let message = &to_bob[0].body["message"];
    assert_eq!(message["notification"]["title"], "Text from +14155550199");
    assert_eq!(message["android"]["notification"]["notification_count"], 1);
    assert_eq!(message["data"]["type"], "sms.received");
    assert_eq!(message["data"]["badge"], "1");

    // The same webhook again (Twilio retries): stored once, alerted once. The next text
    // counts two unread.
    t.app
        .text(1, CUSTOMER, SALES, "Hello there, is anyone in?")
        .await;
    t.app.text(2, CUSTOMER, SALES, "Second text").await;
    let report = t.batches(2).await;
    assert_eq!(report.sent, 2, "{report:?}");
    let to_alice = t.apns.fake.received_for(ALICE_APNS);
    assert_eq!(to_alice.len(), 2, "the repeated webhook sent nothing");
    assert_eq!(to_alice[1].body["aps"]["badge"], 2);
    assert_eq!(t.fcm.fake.received_for(BOB_FCM).len(), 2);

    // Nobody outside the number's users, and no other org, got anything.
    assert!(t.apns.fake.received_for(CAROL_APNS).is_empty());
    assert!(t.apns.fake.received_for(&zed_token).is_empty());
    assert!(
        t.apns.fake.refused().is_empty(),
        "{:?}",
        t.apns.fake.refused()
    );
    assert!(
        t.fcm.fake.refused().is_empty(),
        "{:?}",
        t.fcm.fake.refused()
    );
    // One provider token and one access token served every alert.
    let credentials: std::collections::BTreeSet<String> = t
        .apns
        .fake
        .received()
        .into_iter()
        .map(|r| r.credential)
        .collect();
    assert_eq!(credentials.len(), 1);
    assert_eq!(t.fcm.fake.token_requests(), 1);
}

async fn a_dead_registration_is_dropped_and_gets_nothing_more(kind: StoreKind) {
    let t = spawn(kind).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    t.apns.fake.answer(ALICE_APNS, &[410]);
    t.fcm.fake.answer(BOB_FCM, &[404]);

    t.app.text(1, CUSTOMER, SALES, "Anyone?").await;
    let report = t.batches(2).await;
    assert_eq!((report.dead, report.sent), (2, 0), "{report:?}");
    // The devices stay; their registrations are gone.
    for (token, device) in [(alice(), "alice_iphone"), (bob(), "bob_pixel")] {
        let (_, list) = t.app.get("/phone/voice/devices", &token).await;
        let found = list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["deviceId"] == device)
            .cloned()
            .unwrap_or_else(|| panic!("{device} is still there: {list}"));
        assert_eq!(found.get("notifications"), None, "{found}");
    }
    t.app.text(2, CUSTOMER, SALES, "Anyone now?").await;
    // Nothing is left to alert: the next text's two batches (Alice's, Bob's) send nothing.
    let report = t.next_reports(2).await;
    assert_eq!((report.events, report.sent), (2, 0), "{report:?}");
    assert_eq!(t.apns.fake.received_for(ALICE_APNS).len(), 1);
    assert_eq!(t.fcm.fake.received_for(BOB_FCM).len(), 1);

    // A new registration brings alerts back.
    t.apns.fake.answer(ALICE_APNS, &[200]);
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.app.text(3, CUSTOMER, SALES, "Third").await;
    let report = t.batches(1).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(t.apns.fake.received_for(ALICE_APNS).len(), 2);
}

async fn a_missed_call_and_its_voicemail_alert_and_a_seen_mark_clears_the_badge(kind: StoreKind) {
    let t = spawn(kind).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    let sid = crate::call_history::call_sid(9);
    let rung = t.app.ring(&sid, SALES).await;
    let record = t.app.dial_ended(&rung, &sid, SALES, "no-answer").await;
    t.app.recorded(&record, &sid, SALES, "completed", 17).await;
    let report = t.batches(2).await;
    assert_eq!(report.sent, 2, "{report:?}");
    let to_alice = t.apns.fake.received_for(ALICE_APNS);
    let bodies: Vec<&Value> = to_alice.iter().map(|r| &r.body).collect();
    assert_eq!(bodies[0]["aps"]["alert"]["title"], "Missed call");
    assert_eq!(
        bodies[0]["aps"]["alert"]["body"],
        format!("{} called to {SALES}", crate::call_history::CALLER)
    );
    assert_eq!(bodies[0]["aps"]["badge"], 1);
    assert_eq!(bodies[1]["aps"]["alert"]["title"], "New voicemail");
    assert_eq!(
        bodies[0]["aps"]["thread-id"], bodies[1]["aps"]["thread-id"],
        "the voicemail replaces the miss"
    );
    assert_eq!(
        to_alice[1].headers["apns-collapse-id"],
        format!("call:{sid}")
    );

    // Alice sees her calls on her laptop: the sleeping phone's badge goes to 0, silently.
    let calls = t.app.calls(&alice()).await;
    let position = calls["calls"][0]["callSid"].clone();
    assert_eq!(position, json!(sid));
    let (status, body) = t
        .app
        .post("/phone/calls/seen", &alice(), json!({"upTo": sid}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = t.batches(1).await;
    assert_eq!(report.sent, 1, "{report:?}");
    let update = t.apns.fake.received_for(ALICE_APNS).pop().unwrap();
    assert_eq!(
        update.body["aps"],
        json!({"badge": 0}),
        "no banner, no sound"
    );
    assert_eq!(update.headers["apns-priority"], "5");
    assert_eq!(update.body["type"], "calls.seen");
}

#[tokio::test]
async fn a_phone_with_an_open_socket_hears_the_event_live_and_gets_no_alert() {
    let t = spawn(StoreKind::Memory).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    // Alice's app is open: its socket is connected.
    let (status, ticket) = t.app.ticket(&alice(), "alice_iphone").await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    let protocols = format!(
        "softphone-presence.v1, {}",
        ticket["ticket"].as_str().unwrap()
    );
    let mut socket = t
        .app
        .open(ticket["url"].as_str().unwrap(), &protocols)
        .await
        .expect("connected");
    t.app.text(1, CUSTOMER, SALES, "Hi").await;
    assert_eq!(
        socket.next_of("sms.received").await["data"]["message"]["body"],
        "Hi"
    );
    let report = t.batches(1).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert!(t.apns.fake.received_for(ALICE_APNS).is_empty());
    assert_eq!(t.fcm.fake.received_for(BOB_FCM).len(), 1);
}

#[tokio::test]
async fn with_previews_off_an_alert_shows_no_text() {
    let t = spawn(StoreKind::Memory).await;
    t.app
        .import_demo_with(|org| org["notifications"] = json!({"preview": false}))
        .await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    t.app
        .text(1, CUSTOMER, SALES, "The door code is 4711")
        .await;
    t.batches(2).await;
    let to_alice = &t.apns.fake.received_for(ALICE_APNS)[0];
    assert_eq!(to_alice.body["aps"]["alert"]["body"], "New text message");
    let to_bob = &t.fcm.fake.received_for(BOB_FCM)[0];
    assert_eq!(
        to_bob.body["message"]["notification"]["body"],
        "New text message"
    );
    for sent in [to_alice, to_bob] {
        assert!(!sent.body.to_string().contains("4711"), "{}", sent.body);
    }
}

#[tokio::test]
async fn a_provider_that_is_down_is_retried_then_given_up_and_delays_nothing_else() {
    let t = spawn(StoreKind::Memory).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    // APNs throttles once, then succeeds; FCM is down.
    t.apns.fake.answer(ALICE_APNS, &[429, 200]);
    t.fcm.fake.answer(BOB_FCM, &[503]);
    let started = std::time::Instant::now();
    t.app.text(1, CUSTOMER, SALES, "Hi").await;
    let answered = started.elapsed();
    let report = t.batches(2).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(report.gave_up.len(), 1, "{report:?}");
    assert!(report.gave_up[0].contains("FCM 503"), "{report:?}");
    let to_alice = t.apns.fake.received_for(ALICE_APNS);
    let to_bob = t.fcm.fake.received_for(BOB_FCM);
    assert_eq!(to_alice.len(), 2, "throttled once, then sent");
    assert_eq!(
        to_bob.len(),
        shared::alerts::provider::MAX_ATTEMPTS as usize
    );
    // The webhook was answered before any provider was asked, and Alice's alert went while
    // FCM was still being retried.
    assert!(started + answered <= to_alice[0].at);
    assert!(to_alice[1].at < to_bob.last().unwrap().at);
    // The text itself is stored and readable whatever the providers did.
    assert_eq!(t.app.conversations(&alice()).await.len(), 1);
}

/// Webhook to fake provider, over many texts (printed, not asserted: performance is measured,
/// docs/alerts.md quotes it). Each text reaches each phone exactly once.
#[tokio::test]
async fn alert_latency_from_webhook_to_provider() {
    let t = spawn(StoreKind::Memory).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    let texts = 40u32;
    let mut latencies = Vec::new();
    for n in 1..=texts {
        let posted = std::time::Instant::now();
        t.app.text(n, CUSTOMER, SALES, &format!("Text {n}")).await;
        t.batches(2).await;
        for r in [
            t.apns.fake.received_for(ALICE_APNS).pop().unwrap(),
            t.fcm.fake.received_for(BOB_FCM).pop().unwrap(),
        ] {
            latencies.push(r.at.duration_since(posted));
        }
    }
    assert_eq!(t.apns.fake.received_for(ALICE_APNS).len(), texts as usize);
    assert_eq!(t.fcm.fake.received_for(BOB_FCM).len(), texts as usize);
    let last = &t.apns.fake.received_for(ALICE_APNS)[texts as usize - 1];
    assert_eq!(last.body["aps"]["badge"], texts);
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    println!(
        "alert latency webhook -> fake provider over {} alerts: p50 {:?}, p99 {:?}",
        latencies.len(),
        at(0.5),
        at(0.99)
    );
}

/// The `alerts` function's side of a test: the fakes, providers of their settings (trusting
/// the APNs fake's certificate), the settings the function reads and the system clock.
struct Consumer {
    apns: FakeApns,
    fcm: FakeFcm,
    providers: Providers,
    config: Config,
    clock: Clock,
}

impl Consumer {
    async fn start() -> Self {
        let (apns, fcm) = (FakeApns::start().await, FakeFcm::start().await);
        let mut settings: Vec<(&str, String)> = apns.env();
        settings.extend(fcm.env());
        let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let env = test_env(&pairs);
        let needs = Needs {
            alerts: true,
            ..Needs::default()
        };
        let config = Config::from_env(&|k| env.get(k).cloned(), needs).expect("config");
        let alerts = config.alerts.as_ref().expect("alerts");
        let http = Outbound::trusting(alerts.timeout, &apns.cert_pem);
        let providers = Providers::new(alerts, &http);
        Self {
            apns,
            fcm,
            providers,
            config,
            clock: Clock::system(),
        }
    }

    fn sending(&self) -> Sending<'_> {
        Sending {
            providers: &self.providers,
            clock: &self.clock,
            style: self.config.presence.identity_style,
            claim_seconds: self.config.presence.event_retention_seconds,
        }
    }
}

/// Every store an alert reads on `store`.
fn sources_on<S>(store: &S) -> Sources<'_>
where
    S: PresenceStore + EventStore + DirectoryStore + MessageStore + HistoryStore,
{
    Sources {
        presence: store,
        events: store,
        directory: store,
        messages: store,
        history: store,
    }
}

/// The server on a memory store the test keeps, with Alice's iPhone registered for alerts.
async fn alices_phone_on_memory() -> (TestApp, Arc<MemoryStore>) {
    let memory = Arc::new(MemoryStore::new());
    let app = crate::helpers::spawn_on(Stores::on_memory_arc(memory.clone()), &[]).await;
    register_phone(&app, &alice(), "alice_iphone", "ios", "apns", ALICE_APNS).await;
    (app, memory)
}

/// `events/alerts-stream.json`: a text to Sales in Alice's log, as the stream hands it over.
fn alerts_fixture() -> StreamBatch {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/alerts-stream.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn in_seconds(seconds: u64) -> std::time::Instant {
    std::time::Instant::now() + Duration::from_secs(seconds)
}

/// On AWS: the `alerts` function's consumer given moto's real stream records. A batch Lambda
/// delivers again (its retry after a later record failed) sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alerts_function_sends_from_the_stream_once_whatever_the_retries() {
    let store = crate::helpers::dynamo_store().await;
    let stream = store.enable_stream().await.unwrap();
    let app = crate::helpers::spawn_on(Stores::on_dynamo(store.clone()), &[]).await;
    let c = Consumer::start().await;
    let (apns, fcm) = (&c.apns, &c.fcm);
    register_phone(&app, &alice(), "alice_iphone", "ios", "apns", ALICE_APNS).await;
    register_phone(&app, &bob(), "bob_pixel", "android", "fcm", BOB_FCM).await;
    app.text(1, CUSTOMER, SALES, "From the stream").await;

    let batch: StreamBatch =
        serde_json::from_value(crate::realtime_aws::stream_batch(&stream).await).unwrap();
    let (sources, sending, until) = (sources_on(&store), c.sending(), in_seconds(20));
    let (response, report) = consume(sources, &sending, &batch, until).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!((report.sent, report.events), (2, 2), "{report:?}");
    let to_alice = apns.fake.received_for(ALICE_APNS);
    assert_eq!(to_alice.len(), 1);
    assert_eq!(to_alice[0].body["aps"]["alert"]["body"], "From the stream");
    assert_eq!(fcm.fake.received_for(BOB_FCM).len(), 1);

    let (response, again) = consume(sources, &sending, &batch, until).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!((again.sent, again.repeated), (0, 2), "{again:?}");
    assert_eq!(apns.fake.received().len(), 1);
    assert_eq!(fcm.fake.received().len(), 1);
}

/// What one alerting event costs the store: one round for the devices, their connections, the
/// person's numbers and the org's preview setting; one for the badge (conversations, read
/// marks, calls) and colleagues' names; then one claim per device, side by side.
#[tokio::test]
async fn an_alert_costs_three_rounds_of_store_calls() {
    use shared::store::testing::TestStore;

    let (app, memory) = alices_phone_on_memory().await;
    let counted = TestStore::new(memory.clone());
    let c = Consumer::start().await;
    let start = app.start_cursor(&alice()).await;
    app.text(1, CUSTOMER, SALES, "Count me").await;
    let user = crate::realtime_aws::user("alice@example.com");
    let after = shared::events::Cursor::parse(&start).unwrap();
    let events =
        shared::store::EventStore::events_after(memory.as_ref(), &user, &after, 10, now_ms())
            .await
            .unwrap();
    // The start cursor is the clock's: the registration's event just before it comes too.
    let events: Vec<_> = events
        .into_iter()
        .filter(|e| e.kind == shared::events::EventKind::SmsReceived)
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    counted.reset();
    let (sources, sending) = (sources_on(&counted), c.sending());
    let report = shared::alerts::alert_user(sources, &sending, &user, &events, in_seconds(20))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    // 4 + 3 + 1: presence, connections, profile, settings; conversations, read marks,
    // history; the claim.
    assert_eq!(counted.calls(), 8);
}

/// `events/alerts-stream.json` (a text to Sales in Alice's log, as the stream hands it to the
/// `alerts` function) alerts Alice's sleeping iPhone.
#[tokio::test]
async fn the_alerts_fixture_alerts_alices_sleeping_phone() {
    let (_app, memory) = alices_phone_on_memory().await;
    let c = Consumer::start().await;
    let (sources, sending) = (sources_on(memory.as_ref()), c.sending());
    let (response, report) = consume(sources, &sending, &alerts_fixture(), in_seconds(20)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(report.sent, 1, "{report:?}");
    let alert = &c.apns.fake.received_for(ALICE_APNS)[0];
    assert_eq!(
        alert.body["aps"]["alert"]["title"],
        "Text from +14155550199"
    );
    assert_eq!(
        alert.body["aps"]["alert"]["body"],
        "Is the blue one in stock?"
    );
    assert_eq!(alert.body["cursor"], "000662d2fa000000c3d4");
}

/// What only a failure of the service's side means: an FCM 404 without `UNREGISTERED` (a wrong
/// URL, a proxy) and APNs refusing the provider token (a wrong key) keep the registrations,
/// and neither is tried again.
#[tokio::test]
async fn a_refusal_that_is_not_about_the_token_keeps_the_registration_and_is_not_retried() {
    let t = spawn(StoreKind::Memory).await;
    t.phone(&alice(), "alice_iphone", "ios", "apns", ALICE_APNS)
        .await;
    t.phone(&bob(), "bob_pixel", "android", "fcm", BOB_FCM)
        .await;
    t.apns.fake.answer(ALICE_APNS, &[403]);
    t.fcm.fake.answer(BOB_FCM, &[NOT_FOUND_ELSEWHERE]);
    t.app.text(1, CUSTOMER, SALES, "Anyone?").await;
    let report = t.batches(2).await;
    assert_eq!((report.dead, report.gave_up.len()), (0, 2), "{report:?}");
    assert_eq!(t.apns.fake.received_for(ALICE_APNS).len(), 1, "not retried");
    assert_eq!(t.fcm.fake.received_for(BOB_FCM).len(), 1, "not retried");
    for (token, device) in [(alice(), "alice_iphone"), (bob(), "bob_pixel")] {
        let (_, list) = t.app.get("/phone/voice/devices", &token).await;
        let found = list["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["deviceId"] == device)
            .cloned()
            .unwrap();
        assert!(found.get("notifications").is_some(), "{found}");
    }
}

/// A batch whose time is spent sends nothing more (no attempt that would end past it), and
/// tells the stream to try those events again; the retry sends them once.
#[tokio::test]
async fn events_left_for_lack_of_time_are_retried_and_sent_once() {
    let (_app, memory) = alices_phone_on_memory().await;
    let c = Consumer::start().await;
    let (sources, sending, batch) = (sources_on(memory.as_ref()), c.sending(), alerts_fixture());
    // Less time than one attempt may take (ALERTS_TIMEOUT_MS, 5 s).
    let (response, report) = consume(sources, &sending, &batch, in_seconds(1)).await;
    assert_eq!(report.deferred, 1, "{report:?}");
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        response.batch_item_failures[0].item_identifier,
        "1200000000000000000001"
    );
    assert!(c.apns.fake.received().is_empty());
    let until = in_seconds(20);
    let (response, report) = consume(sources, &sending, &batch, until).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(report.sent, 1, "{report:?}");
    let (_, again) = consume(sources, &sending, &batch, until).await;
    assert_eq!((again.sent, again.repeated), (0, 1));
}
