//! Socket presence through API Gateway's WebSocket routes (the `realtime` function's handler
//! on moto): `$connect` makes the device live, each `$default` ping renews its lease (and may
//! report the Twilio state), `$disconnect` ends it after the grace unless the device has
//! another connection open; a connection that vanishes without `$disconnect` ends with its
//! lease. Time is a movable clock: nothing here sleeps.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use shared::clock::Clock;
use shared::domain::TwilioState;
use shared::realtime::websocket::Gateway;
use shared::store::dynamo::DynamoStore;
use shared::store::{DeviceRecord, PresenceStore};

use crate::helpers::dynamo_store;
use crate::realtime_aws::{register, user, websocket_event};

struct Routes {
    gateway: Gateway,
    store: Arc<DynamoStore>,
    clock: Clock,
    device: DeviceRecord,
}

const ALICE: &str = "alice@example.com";

/// Alice's laptop registered (90 s TTL, no heartbeats after), the routes on the same clock.
async fn routes() -> Routes {
    let store = Arc::new(dynamo_store().await);
    let clock = Clock::movable();
    let gateway = crate::realtime_aws::gateway(&store, clock.clone());
    let now = clock.now_ms();
    register(&store, ALICE, "laptop", now).await;
    let device = store
        .live_devices(&user(ALICE), now)
        .await
        .unwrap()
        .remove(0);
    Routes {
        gateway,
        store,
        clock,
        device,
    }
}

impl Routes {
    async fn connect(&self, id: &str) {
        let ticket = self
            .gateway
            .tickets
            .get()
            .issue(&user(ALICE), &self.device, self.clock.now_ms() / 1000)
            .unwrap();
        let offer = format!("softphone-presence.v1, {ticket}");
        let headers = [("Sec-WebSocket-Protocol", offer.as_str())];
        let (answer, outcome) = self
            .gateway
            .handle(&websocket_event("$connect", id, &headers, None))
            .await;
        assert_eq!(
            (answer.status_code, outcome.what),
            (200, "connected"),
            "{outcome:?}"
        );
    }

    /// The pong a ping frame gets.
    async fn ping(&self, id: &str, frame: &str) -> Value {
        let (answer, _) = self
            .gateway
            .handle(&websocket_event("$default", id, &[], Some(frame)))
            .await;
        let body = serde_json::to_value(&answer).unwrap();
        serde_json::from_str(body["body"].as_str().unwrap()).unwrap()
    }

    async fn disconnect(&self, id: &str) {
        let (answer, outcome) = self
            .gateway
            .handle(&websocket_event("$disconnect", id, &[], None))
            .await;
        assert_eq!((answer.status_code, outcome.what), (200, "disconnected"));
    }

    fn wait(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    async fn laptop(&self) -> Option<DeviceRecord> {
        let now = self.clock.now_ms();
        let devices = self.store.live_devices(&user(ALICE), now).await.unwrap();
        devices
            .into_iter()
            .find(|d| d.device_id.as_str() == "laptop")
    }
}

/// Open and pinging every 540 s, the laptop stays live for an hour without one heartbeat.
#[tokio::test]
async fn an_open_connection_pinging_keeps_its_device_live_for_an_hour() {
    let r = routes().await;
    r.connect("c1").await;
    for _ in 0..7 {
        r.wait(540);
        assert_eq!(
            r.ping("c1", r#"{"type":"ping"}"#).await,
            serde_json::json!({"type": "pong"})
        );
        assert!(r.laptop().await.is_some(), "live after {} s", 540);
    }
    r.wait(539);
    assert!(r.laptop().await.is_some());
}

/// `$disconnect` ends it after the grace (20 s), not before.
#[tokio::test]
async fn a_closed_connection_ends_its_device_after_the_grace() {
    let r = routes().await;
    r.connect("c1").await;
    r.wait(300);
    r.disconnect("c1").await;
    r.wait(19);
    assert!(r.laptop().await.is_some(), "within the grace");
    r.wait(2);
    assert!(r.laptop().await.is_none(), "after it");
}

/// A reconnect within the grace keeps the device live throughout; a second tab's connection
/// keeps it live when the first closes.
#[tokio::test]
async fn a_reconnect_or_a_second_connection_keeps_the_device_live() {
    let r = routes().await;
    r.connect("c1").await;
    r.wait(100);
    r.disconnect("c1").await;
    r.wait(10);
    r.connect("c2").await;
    r.wait(600);
    assert!(r.laptop().await.is_some(), "the new connection holds it");

    r.connect("c3").await;
    r.disconnect("c2").await;
    r.wait(500);
    assert!(r.laptop().await.is_some(), "c3 is still open");
}

/// A connection that vanishes (no pings, no `$disconnect`) ends its device at most
/// keep-alive + grace + 60 s after its last ping.
#[tokio::test]
async fn a_vanished_connection_ends_with_its_lease() {
    let r = routes().await;
    r.connect("c1").await;
    r.wait(200);
    r.ping("c1", r#"{"type":"ping"}"#).await;
    r.wait(540 + 20 + 59);
    assert!(r.laptop().await.is_some());
    r.wait(2);
    assert!(r.laptop().await.is_none(), "offline within the bound");
}

/// A ping may report the Twilio state; the list shows it; a bad value is named in the pong;
/// a device unregistered since answers `live: false` (register again).
#[tokio::test]
async fn a_ping_reports_the_twilio_state_and_learns_when_its_device_is_gone() {
    let r = routes().await;
    r.connect("c1").await;
    let pong = r
        .ping("c1", r#"{"type":"ping","twilioState":"unregistered"}"#)
        .await;
    assert_eq!(pong, serde_json::json!({"type": "pong"}));
    assert_eq!(
        r.laptop().await.unwrap().twilio_state,
        Some(TwilioState::Unregistered)
    );
    let pong = r
        .ping("c1", r#"{"type":"ping","twilioState":"asleep"}"#)
        .await;
    assert_eq!(pong["error"]["field"], "twilioState");
    assert_eq!(
        r.laptop().await.unwrap().twilio_state,
        Some(TwilioState::Unregistered),
        "a bad value changes nothing"
    );

    let how = shared::store::Unregistration::at(r.clock.now_ms());
    r.store
        .unregister(&user(ALICE), &r.device.device_id, how)
        .await
        .unwrap();
    let pong = r.ping("c1", r#"{"type":"ping"}"#).await;
    assert_eq!(pong, serde_json::json!({"type": "pong", "live": false}));
    assert!(r.laptop().await.is_none(), "a ping does not bring it back");
}

// ---- the local server: the same rules over a real WebSocket ------------------------------------

crate::on_both_stores!(
    on_the_local_server_an_open_socket_keeps_its_device_and_a_close_ends_it_after_the_grace,
    on_the_local_server_a_vanished_socket_is_dropped_by_the_servers_own_pings,
    a_browser_whose_ping_says_unregistered_is_not_rung,
);

/// A browser's ping reports that its Twilio Device lost its registration: a call to its user
/// goes straight to the fallback instead of dialing an identity Twilio would refuse; once it
/// reports `registered` again it rings.
async fn a_browser_whose_ping_says_unregistered_is_not_rung(kind: crate::helpers::StoreKind) {
    let (app, _hub) = crate::realtime::spawn_realtime(kind).await;
    let token = crate::helpers::alice();
    let mut socket = app.connected(&token, "laptop", &["voice"]).await;
    let alice = "u_org_5Fdemo__alice_40example_2Ecom";
    assert_eq!(app.call("+14155550001").await.clients(), [alice]);

    let pong = socket.ping_reporting("unregistered").await;
    assert_eq!(pong, Some(serde_json::json!({"type": "pong"})));
    let twiml = app.call("+14155550001").await;
    assert!(twiml.clients().is_empty(), "not rung: {}", twiml.xml);
    assert!(
        socket_until(&app, &token).await.is_some(),
        "still listed, with its state"
    );

    socket.ping_reporting("registered").await;
    assert_eq!(app.call("+14155550001").await.clients(), [alice]);
}

/// The laptop's `socketUntil` as the device list shows it; `None` when it is not listed.
async fn socket_until(app: &crate::helpers::TestApp, token: &str) -> Option<i64> {
    let (status, body) = app.get("/phone/voice/devices", token).await;
    assert_eq!(status, 200, "{body}");
    let devices = body["devices"].as_array().unwrap();
    let laptop = devices.iter().find(|d| d["deviceId"] == "laptop")?;
    Some(laptop["socketUntil"].as_i64().unwrap_or(0))
}

async fn on_the_local_server_an_open_socket_keeps_its_device_and_a_close_ends_it_after_the_grace(
    kind: crate::helpers::StoreKind,
) {
    let (app, _hub) = crate::realtime::spawn_realtime(kind).await;
    let token = crate::helpers::alice();
    let mut socket = app.connected(&token, "laptop", &["voice"]).await;
    for _ in 0..4 {
        app.advance(Duration::from_secs(300));
        assert!(socket.ping().await, "answered");
    }
    assert!(
        socket_until(&app, &token).await.is_some(),
        "20 minutes without a heartbeat"
    );

    let lease = socket_until(&app, &token).await.unwrap();
    drop(socket);
    // The server records the close after the socket's task ends: wait for it (real time,
    // up to 10 s; not the time tested, which is the movable clock's).
    for _ in 0..50 {
        if socket_until(&app, &token)
            .await
            .is_some_and(|until| until < lease)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        socket_until(&app, &token)
            .await
            .is_some_and(|until| until < lease),
        "the close recorded"
    );
    app.advance(Duration::from_secs(19));
    assert!(
        socket_until(&app, &token).await.is_some(),
        "within the grace"
    );
    app.advance(Duration::from_secs(2));
    assert_eq!(socket_until(&app, &token).await, None, "after it");
}

/// A client that stops answering anything (its socket no longer read) is dropped by the
/// server's own pings, and its device ends after the grace, long before its lease.
async fn on_the_local_server_a_vanished_socket_is_dropped_by_the_servers_own_pings(
    kind: crate::helpers::StoreKind,
) {
    let (app, hub) = crate::realtime::spawn_realtime(kind).await;
    let token = crate::helpers::alice();
    // Never read again: the server's pings go unanswered, as from a machine gone to sleep.
    let _silent = app.connected(&token, "laptop", &["voice"]).await;
    assert_eq!(hub.open_connections(), 1);
    // Past the register's own TTL (90 s): only the socket keeps the laptop live now.
    app.advance(Duration::from_secs(100));
    assert!(socket_until(&app, &token).await.is_some());
    let started = std::time::Instant::now();
    // Real time: the server's own pings are what is tested (every 15 s, dropped after 40 s
    // without an answer).
    eventually_within(Duration::from_secs(60), || hub.open_connections() == 0).await;
    assert!(
        started.elapsed() >= Duration::from_secs(35),
        "{:?}",
        started.elapsed()
    );
    app.advance(Duration::from_secs(21));
    assert_eq!(
        socket_until(&app, &token).await,
        None,
        "ended with the grace"
    );
}

async fn eventually_within(limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "not within {limit:?}");
        // Polling a counter the server's task clears.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
