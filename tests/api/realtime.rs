//! The realtime channel end to end, on the local server (both stores) with a real WebSocket
//! client: what a change pushes, to whom, catch-up after being away, tickets, and frames a
//! client should not send.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::alerts::background::Background;
use shared::clock::Clock;
use shared::config::Config;
use shared::directory::Directory;
use shared::secrets::Secrets;
use softphone_presence::{Backend, Hub, local_app_with, local_routes};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::call_state::progress_params;
use crate::helpers::{
    DEMO_DIRECTORY, ORG, REALTIME_TICKET_SECRET, StoreKind, Stores, TestApp, alice, app_token,
    dynamo_store, test_env,
};
use crate::on_both_stores;

on_both_stores!(
    a_register_on_another_device_reaches_an_open_socket,
    a_remote_sign_out_reaches_the_signed_out_device,
    call_progress_reaches_the_users_devices,
    a_device_that_was_away_catches_up_in_order_exactly_once,
    another_user_or_org_never_receives_or_reads_an_event,
    bad_tampered_expired_and_other_device_tickets_are_refused,
    a_ticket_opens_one_connection_only,
    oversized_and_malformed_frames_are_survived,
);

/// The local server with its realtime hub, as `softphone-presence serve` runs it.
pub(crate) async fn spawn_realtime(kind: StoreKind) -> (TestApp, Arc<Hub>) {
    spawn_realtime_with(kind, &[]).await
}

/// [`spawn_realtime`] with settings beyond the tests' own.
pub(crate) async fn spawn_realtime_with(
    kind: StoreKind,
    overrides: &[(&str, &str)],
) -> (TestApp, Arc<Hub>) {
    let env = test_env(overrides);
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).expect("test config");
    spawn_local(&config, None, kind, Clock::movable()).await
}

/// The local server of `config` (and of `secrets`, when they come from Secrets Manager), as
/// `softphone-presence serve` runs it, reading `clock` (the one `secrets` were read on).
pub(crate) async fn spawn_local(
    config: &Config,
    secrets: Option<Secrets>,
    kind: StoreKind,
    clock: Clock,
) -> (TestApp, Arc<Hub>) {
    spawn_local_with(config, secrets, kind, clock, None).await
}

/// [`spawn_local`] with `alerts` as its sender of alerts to sleeping phones.
pub(crate) async fn spawn_local_with(
    config: &Config,
    secrets: Option<Secrets>,
    kind: StoreKind,
    clock: Clock,
    alerts: Option<Arc<Background>>,
) -> (TestApp, Arc<Hub>) {
    let backend = match kind {
        StoreKind::Memory => Backend::Memory,
        StoreKind::Dynamo => Backend::Dynamo(dynamo_store().await),
    };
    let (app, hub) = local_app_with(config, backend, secrets, clock.clone(), alerts).expect("app");
    let directory = Directory::parse(DEMO_DIRECTORY).expect("demo directory");
    app.core()
        .stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    let options = shared::server::Options {
        local: Some(local_routes(app.clone(), hub.clone(), None)),
        ..Default::default()
    };
    let core = app.core().clone();
    tokio::spawn(shared::server::serve_with(listener, app, options, async {
        let _ = rx.await;
    }));
    let stores = Stores {
        presence: core.stores.presence,
        directory: core.stores.directory,
        events: core.stores.events,
        messages: core.stores.messages,
        history: core.stores.history,
        memory: None,
        dynamo: None,
    };
    (TestApp::new(base, stores, clock, tx), hub)
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open realtime connection, as a device holds it.
pub(crate) struct Socket {
    ws: Ws,
}

/// How long a pushed event may take to arrive before a test gives up on it.
const ARRIVAL: Duration = Duration::from_secs(5);

impl Socket {
    /// The next event frame (pongs skipped), or `None` if none arrives within `wait`.
    pub(crate) async fn next_event_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            if let Ok(Message::Text(text)) = frame {
                let value: Value = serde_json::from_str(&text).ok()?;
                if value.get("cursor").is_some() {
                    return Some(value);
                }
            }
        }
    }

    pub(crate) async fn next_event(&mut self) -> Value {
        self.next_event_within(ARRIVAL)
            .await
            .expect("an event within 5 s")
    }

    /// The next event of `kind`, skipping others.
    pub(crate) async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next_event().await;
            if event["type"] == kind {
                return event;
            }
        }
    }

    /// Send a frame of the protocol.
    pub(crate) async fn send_frame(&mut self, frame: Value) {
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
    }

    /// The next frame whose `type` is `kind` (others skipped), or `None` within `wait`.
    pub(crate) async fn next_frame_of(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            if let Ok(Message::Text(text)) = frame
                && let Ok(value) = serde_json::from_str::<Value>(&text)
                && value["type"] == kind
            {
                return Some(value);
            }
        }
    }

    /// Close the connection as a client does.
    pub(crate) async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// Send a ping that reports the Twilio state, and wait for its pong.
    pub(crate) async fn ping_reporting(&mut self, twilio_state: &str) -> Option<Value> {
        let frame = json!({"type": "ping", "twilioState": twilio_state}).to_string();
        self.ws.send(Message::text(frame)).await.ok()?;
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if let Message::Text(text) = frame
                && let Ok(value) = serde_json::from_str::<Value>(&text)
                && value["type"] == "pong"
            {
                return Some(value);
            }
        }
        None
    }

    /// Send a ping frame of the protocol and wait for its pong.
    pub(crate) async fn ping(&mut self) -> bool {
        if self
            .ws
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .is_err()
        {
            return false;
        }
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            if frame == Message::text(r#"{"type":"pong"}"#) {
                return true;
            }
        }
        false
    }

    /// How the server closed the connection.
    async fn closed_with(&mut self) -> Option<CloseCode> {
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        loop {
            match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }
}

impl TestApp {
    /// A ticket for `device_id` of the token's user: the status and body.
    pub(crate) async fn ticket(&self, token: &str, device_id: &str) -> (StatusCode, Value) {
        let body = json!({ "deviceId": device_id });
        self.post("/phone/events/ticket", token, body).await
    }

    /// Open a WebSocket to `url` offering the subprotocol with `ticket`; the handshake's
    /// refusal status if it is refused.
    pub(crate) async fn open(&self, url: &str, protocols: &str) -> Result<Socket, u16> {
        let mut request = url.into_client_request().unwrap();
        request
            .headers_mut()
            .insert("sec-websocket-protocol", protocols.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, response)) => {
                let chosen = response.headers()["sec-websocket-protocol"]
                    .to_str()
                    .unwrap();
                assert_eq!(chosen, "softphone-presence.v1");
                Ok(Socket { ws })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(err) => panic!("handshake failed: {err}"),
        }
    }

    /// Register `device_id` for the token's user and connect it to the realtime channel.
    pub(crate) async fn connected(&self, token: &str, device_id: &str, caps: &[&str]) -> Socket {
        let body = json!({"deviceId": device_id, "platform": "web", "capabilities": caps});
        let (status, reg) = self.post("/phone/voice/register-device", token, body).await;
        assert_eq!(status, StatusCode::OK, "{reg}");
        let (status, ticket) = self.ticket(token, device_id).await;
        assert_eq!(status, StatusCode::OK, "{ticket}");
        assert_eq!(ticket["expiresIn"], 60);
        let url = ticket["url"].as_str().unwrap();
        assert!(url.ends_with("/phone/events/connect"), "{url}");
        let protocols = format!(
            "softphone-presence.v1, {}",
            ticket["ticket"].as_str().unwrap()
        );
        self.open(url, &protocols).await.expect("connected")
    }

    /// The connect URL of this server.
    fn connect_url(&self) -> String {
        format!(
            "{}/phone/events/connect",
            self.base.replacen("http", "ws", 1)
        )
    }

    pub(crate) async fn catch_up(&self, token: &str, after: &str) -> (Vec<Value>, String) {
        let (status, body) = self
            .get(&format!("/phone/events?after={after}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let events = body["events"].as_array().unwrap().clone();
        (events, body["cursor"].as_str().unwrap().to_owned())
    }

    pub(crate) async fn start_cursor(&self, token: &str) -> String {
        let (status, body) = self.get("/phone/events", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["events"], json!([]));
        body["cursor"].as_str().unwrap().to_owned()
    }
}

async fn a_register_on_another_device_reaches_an_open_socket(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let token = alice();
    let mut laptop = app.connected(&token, "laptop", &["voice"]).await;
    assert!(laptop.ping().await, "a ping gets a pong");
    app.register(&token, "phone", "ios").await;
    let event = laptop.next_of("devices.changed").await;
    assert_eq!(
        event["data"],
        json!({"deviceId": "phone", "change": "registered", "reachability": "online"})
    );
    assert!(event["at"].as_i64().unwrap() > 0);
    // A plain heartbeat is no event; a change of Twilio state is.
    app.heartbeat(&token, "phone").await;
    assert_eq!(
        laptop.next_event_within(Duration::from_millis(300)).await,
        None
    );
    let changed = json!({"deviceId": "phone", "twilioState": "registered"});
    assert_eq!(
        app.post("/phone/voice/heartbeat", &token, changed).await.0,
        StatusCode::OK
    );
    let event = laptop.next_event().await;
    assert_eq!(
        event["data"],
        json!({"deviceId": "phone", "change": "updated", "reachability": "online"})
    );
    // Re-registering as it is now changes nothing; an unregister does.
    let same = json!({"deviceId": "phone", "platform": "ios", "twilioState": "registered"});
    app.post("/phone/voice/register-device", &token, same).await;
    assert_eq!(
        laptop.next_event_within(Duration::from_millis(300)).await,
        None
    );
    app.unregister(&token, "phone").await;
    let event = laptop.next_event().await;
    assert_eq!(
        event["data"],
        json!({"deviceId": "phone", "change": "unregistered"})
    );
    app.unregister(&token, "phone").await;
    assert_eq!(
        laptop.next_event_within(Duration::from_millis(300)).await,
        None,
        "once"
    );
}

async fn a_remote_sign_out_reaches_the_signed_out_device(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let token = alice();
    let mut desk = app.connected(&token, "desk", &["voice"]).await;
    let mut kiosk = app.connected(&token, "kiosk", &["voice"]).await;
    let sign_out = json!({"deviceId": "kiosk", "signOut": true});
    let (status, _) = app
        .post("/phone/voice/unregister-device", &token, sign_out)
        .await;
    assert_eq!(status, StatusCode::OK);
    let told = kiosk.next_of("device.signedOut").await;
    assert_eq!(told["data"], json!({"deviceId": "kiosk"}));
    let mut changed = desk.next_of("devices.changed").await;
    if changed["data"]["change"] == "registered" {
        // The kiosk's own registration came first.
        changed = desk.next_of("devices.changed").await;
    }
    assert_eq!(
        changed["data"],
        json!({"deviceId": "kiosk", "change": "signedOut"})
    );
}

async fn call_progress_reaches_the_users_devices(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let token = alice();
    let mut socket = app.connected(&token, "laptop", &["voice"]).await;
    let path =
        format!("/phone/voice/call-status?org={ORG}&identity=u_org_5Fdemo__alice_40example_2Ecom");
    let sid = "CA00000000000000000000000000000011";
    app.webhook(&path, &progress_params(sid, "in-progress", 1))
        .await;
    let answered = socket.next_of("call.state").await;
    assert_eq!(answered["data"]["onCall"], true);
    assert_eq!(answered["data"]["callSid"], sid);
    assert!(answered["data"]["onCallSince"].as_i64().unwrap() > 0);
    // A duplicate changes nothing and tells nobody.
    app.webhook(&path, &progress_params(sid, "in-progress", 1))
        .await;
    app.webhook(&path, &progress_params(sid, "completed", 2))
        .await;
    let ended = socket.next_of("call.state").await;
    assert_eq!(ended["data"]["onCall"], false);
    assert_eq!(ended["data"]["onCallSince"], Value::Null);
    app.webhook(&path, &progress_params(sid, "completed", 2))
        .await;
    assert_eq!(
        socket.next_event_within(Duration::from_millis(300)).await,
        None
    );
}

async fn a_device_that_was_away_catches_up_in_order_exactly_once(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let token = alice();
    // A fresh start: the cursor before anything happened.
    let cursor = app.start_cursor(&token).await;
    let socket = app.connected(&token, "laptop", &["voice"]).await;
    drop(socket);
    // While away: three devices come, one changes, one goes.
    for device in ["a", "b", "c"] {
        app.register(&token, device, "web").await;
    }
    let changed = json!({"deviceId": "b", "twilioState": "registered"});
    app.post("/phone/voice/heartbeat", &token, changed).await;
    app.unregister(&token, "c").await;
    let expected = [
        ("laptop", "registered"),
        ("a", "registered"),
        ("b", "registered"),
        ("c", "registered"),
        ("b", "updated"),
        ("c", "unregistered"),
    ];
    let (events, resume) = app.catch_up(&token, &cursor).await;
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "devices.changed");
            let data = &e["data"];
            (
                data["deviceId"].as_str().unwrap().to_owned(),
                data["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(d, c)| ((*d).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(seen, want, "every event, in order, once");
    let cursors: Vec<&str> = events
        .iter()
        .map(|e| e["cursor"].as_str().unwrap())
        .collect();
    let mut sorted = cursors.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(cursors, sorted, "cursors increase");
    // Pages: two at a time, the last cursor of a full page resumes.
    let (page, next) = {
        let (status, body) = app
            .get(&format!("/phone/events?after={cursor}&limit=2"), &token)
            .await;
        assert_eq!(status, StatusCode::OK);
        (
            body["events"].as_array().unwrap().clone(),
            body["cursor"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(page.len(), 2);
    assert_eq!(next, page[1]["cursor"].as_str().unwrap());
    // Resuming from the returned cursor brings nothing new: at most the last seconds again,
    // which a client drops by cursor.
    let (again, _) = app.catch_up(&token, &resume).await;
    assert!(
        again
            .iter()
            .all(|e| cursors.contains(&e["cursor"].as_str().unwrap()))
    );
    // A reconnected device gets what happens next on its socket.
    let mut socket = app.connected(&token, "laptop", &["voice"]).await;
    app.register(&token, "d", "web").await;
    let event = socket.next_of("devices.changed").await;
    assert_eq!(event["data"]["deviceId"], "d");
}

async fn another_user_or_org_never_receives_or_reads_an_event(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let alice_token = alice();
    let bob_token = app_token("bob@example.com", ORG);
    // Alice's email in another org is another user.
    let elsewhere = app_token("alice@example.com", "org_other");
    let mut bob = app
        .connected(&bob_token, "bob_laptop", &["voice", "sms"])
        .await;
    let mut stranger = app.connected(&elsewhere, "laptop", &["voice"]).await;
    let bob_start = app.start_cursor(&bob_token).await;
    let elsewhere_start = app.start_cursor(&elsewhere).await;
    let mut alice_socket = app.connected(&alice_token, "laptop", &["voice"]).await;
    app.register(&alice_token, "phone", "ios").await;
    alice_socket.next_of("devices.changed").await;
    assert_eq!(
        bob.next_event_within(Duration::from_millis(500)).await,
        None
    );
    assert_eq!(
        stranger.next_event_within(Duration::from_millis(100)).await,
        None
    );
    // Each log holds its own user's events (their own device's registration), none of Alice's.
    let (bobs, _) = app.catch_up(&bob_token, &bob_start).await;
    assert!(
        bobs.iter().all(|e| e["data"]["deviceId"] == "bob_laptop"),
        "{bobs:?}"
    );
    let (theirs, _) = app.catch_up(&elsewhere, &elsewhere_start).await;
    assert!(
        theirs.iter().all(|e| e["data"]["deviceId"] == "laptop"),
        "{theirs:?}"
    );
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    // Nor can anyone ask for a ticket for Alice's device.
    assert_eq!(
        app.ticket(&bob_token, "laptop").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn bad_tampered_expired_and_other_device_tickets_are_refused(kind: StoreKind) {
    let (app, hub) = spawn_realtime(kind).await;
    let token = alice();
    let url = app.connect_url();
    app.register(&token, "laptop", "web").await;
    let (_, issued) = app.ticket(&token, "laptop").await;
    let ticket = issued["ticket"].as_str().unwrap().to_owned();
    let offer = |t: &str| format!("softphone-presence.v1, {t}");

    assert_eq!(
        app.open(&url, &ticket).await.err(),
        Some(401),
        "no subprotocol"
    );
    assert_eq!(
        app.open(&url, &offer("not.a.ticket")).await.err(),
        Some(401),
        "garbage"
    );
    let mut tampered = ticket.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        app.open(&url, &offer(&tampered)).await.err(),
        Some(401),
        "tampered"
    );
    let expired = expired_ticket();
    assert_eq!(
        app.open(&url, &offer(&expired)).await.err(),
        Some(401),
        "expired"
    );
    let app_jwt_as_ticket = offer(&token);
    assert_eq!(
        app.open(&url, &app_jwt_as_ticket).await.err(),
        Some(401),
        "an app JWT"
    );
    // A ticket issued before its device went away no longer connects.
    app.unregister(&token, "laptop").await;
    assert_eq!(
        app.open(&url, &offer(&ticket)).await.err(),
        Some(403),
        "device gone"
    );
    assert_eq!(app.ticket(&token, "laptop").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.ticket(&token, "never_registered").await.0,
        StatusCode::NOT_FOUND
    );
    // Nothing was stored for any of them.
    assert_eq!(hub.open_connections(), 0);
    let user = shared::store::PresenceKey {
        org: shared::domain::OrgId::parse_field(ORG, "org").unwrap(),
        identity: shared::domain::Identity::parse("u_org_5Fdemo__alice_40example_2Ecom").unwrap(),
    };
    let stored = app
        .stores
        .events
        .connections(&user, shared::clock::Clock::system().now_ms())
        .await;
    assert!(stored.unwrap().is_empty());
}

/// A ticket for Alice's laptop that expired a minute ago, signed with the service's key.
fn expired_ticket() -> String {
    let now = crate::helpers::now_s();
    let claims = json!({
        "iss": "softphone-presence", "aud": "softphone-presence/realtime",
        "sub": "u_org_5Fdemo__alice_40example_2Ecom", "org": ORG, "dev": "laptop", "caps": ["voice"],
        "iat": now - 120, "exp": now - 60, "jti": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(REALTIME_TICKET_SECRET.as_bytes()),
    )
    .unwrap()
}

/// A ticket is spent by the connection it opens: a replay within its minute (a ticket copied
/// from a log, a proxy, another tab) is refused with 401 and stores nothing.
async fn a_ticket_opens_one_connection_only(kind: StoreKind) {
    let (app, hub) = spawn_realtime(kind).await;
    let token = alice();
    let url = app.connect_url();
    app.register(&token, "laptop", "web").await;
    let (_, issued) = app.ticket(&token, "laptop").await;
    let offer = format!(
        "softphone-presence.v1, {}",
        issued["ticket"].as_str().unwrap()
    );
    let mut first = app
        .open(&url, &offer)
        .await
        .expect("the ticket's first use");
    assert_eq!(app.open(&url, &offer).await.err(), Some(401), "a replay");
    assert!(first.ping().await, "the first connection is untouched");
    assert_eq!(hub.open_connections(), 1);
    // Each new ticket opens its own connection, two in the same second included.
    let (_, again) = app.ticket(&token, "laptop").await;
    let (_, more) = app.ticket(&token, "laptop").await;
    for ticket in [&again, &more] {
        let offer = format!(
            "softphone-presence.v1, {}",
            ticket["ticket"].as_str().unwrap()
        );
        assert!(app.open(&url, &offer).await.is_ok());
    }
}

async fn oversized_and_malformed_frames_are_survived(kind: StoreKind) {
    let (app, hub) = spawn_realtime(kind).await;
    let token = alice();
    let mut sturdy = app.connected(&token, "laptop", &["voice"]).await;
    let mut reckless = app.connected(&token, "tablet", &["voice"]).await;
    for junk in [
        "not json",
        "{\"type\":",
        "[]",
        "{\"type\":\"explode\"}",
        "\u{0}\u{1}",
    ] {
        reckless.send_text(junk.to_owned()).await;
    }
    reckless
        .ws
        .send(Message::binary(vec![0u8; 64]))
        .await
        .unwrap();
    assert!(
        reckless.ping().await,
        "ignored frames leave the connection working"
    );
    // A 40 KB frame is over the 32 KB limit: that connection, only, is closed with 1009.
    reckless.send_text("x".repeat(40 * 1024)).await;
    assert_eq!(reckless.closed_with().await, Some(CloseCode::Size));
    assert!(sturdy.ping().await, "the other connection is untouched");
    app.register(&token, "phone", "ios").await;
    assert_eq!(
        sturdy.next_of("devices.changed").await["data"]["deviceId"],
        "phone"
    );
    // Five connections per device: a sixth closes the oldest.
    let mut laptops = Vec::new();
    for _ in 0..6 {
        laptops.push(app.connected(&token, "desk", &["voice"]).await);
    }
    assert_eq!(laptops[0].closed_with().await, Some(CloseCode::Policy));
    for laptop in &mut laptops[1..] {
        assert!(laptop.ping().await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        hub.open_connections() <= 1 + 5,
        "{}",
        hub.open_connections()
    );
}

/// A device that stops reading while its events pour in falls behind the hub's queue: it is
/// closed with 1013 and a reason, after the frames it had, so its client reconnects and catches
/// up (before, it was only forgotten, and lived on answering pings but receiving nothing).
#[tokio::test]
async fn a_socket_that_falls_behind_is_closed_to_reconnect_and_catch_up() {
    use shared::events::{Cursor, Event, EventKind};
    use shared::store::EventSink;
    let (app, hub) = spawn_realtime(StoreKind::Memory).await;
    let token = alice();
    let body = json!({"deviceId": "laptop", "platform": "web"});
    let (_, registered) = app.post("/phone/voice/register-device", &token, body).await;
    let user = shared::store::PresenceKey {
        org: shared::domain::OrgId::parse_field(ORG, "org").unwrap(),
        identity: shared::domain::Identity::parse(registered["identity"].as_str().unwrap())
            .unwrap(),
    };
    let mut deaf = app.connected(&token, "laptop", &["voice"]).await;

    // 16 KB frames, published as the stores publish, while the client reads nothing: first
    // the socket buffers fill, then the hub's queue.
    let now = shared::clock::Clock::system().now_ms();
    let padding = "x".repeat(16 * 1024);
    let events: Vec<Event> = (0..64)
        .map(|i| Event {
            cursor: Cursor::at(now + i),
            kind: EventKind::CallState,
            at: now,
            data: json!({ "onCall": false, "padding": padding }),
        })
        .collect();
    let connections = || app.stores.events.connections(&user, now);
    let mut rounds = 0;
    while !connections().await.unwrap().is_empty() {
        rounds += 1;
        assert!(rounds < 10_000, "64 MB and the socket never fell behind");
        hub.published(&user, &events).await;
        tokio::task::yield_now().await;
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let close = loop {
        match tokio::time::timeout_at(deadline, deaf.ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    let close = close.expect("a close code");
    assert_eq!(close.code, CloseCode::Again, "{close:?}");
    assert!(close.reason.contains("catch up"), "{close:?}");
    assert_eq!(hub.open_connections(), 0);
    // Its client does what the web client does on any close: a new ticket, a new connection.
    let mut again = app.connected(&token, "laptop", &["voice"]).await;
    assert!(again.ping().await);
}
