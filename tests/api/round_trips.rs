//! DynamoDB round trips per endpoint, counted on the wire: an interceptor in the SDK client
//! sees every request the DynamoDB store sends to moto. A request's depth is one more than the
//! deepest request that had finished when it was sent; the deepest is the number of
//! sequential round trips, the latency a request pays (requests sent together share a depth).
//!
//! Budgets: heartbeat, unregister, list and user-phones one request each; register one round
//! (the write and the directory read together) when the device is known, plus one consistent
//! read when it is new; an incoming call at most 3 sequential steps; an outgoing call 2 rounds
//! to the public network (the caller's profile with the number's route, then the call's count
//! against the caller's budget, which lives in the caller's partition and so needs the org the
//! profile names) and 2 to a colleague; catch-up and a realtime ticket one read; API
//! Gateway's `$connect` 4 (the device, the ticket spent, the connection and its owner side by
//! side, the device's socket presence: once per connection, every two hours or so, and a
//! transaction of the middle two would cost twice their writes); a ping 2 (whose connection, then the lease: one write);
//! `$disconnect` 3 (whose, then the deletes and the connection's team subscriptions beside the
//! device's other connections, then the grace).
//!
//! The SMS inbox: an inbound text 2 rounds before it answers (the number's route, then the
//! message with its conversation and events in one transaction beside the presence reads a
//! forward needs); a send 2 around the Twilio request (the claim, the text's count and the
//! new-recipient count all in the first); a page of messages 1; the conversation
//! list 2; a status callback 2; a read mark 3 (the caller and the message, the count, the mark).
//!
//! The call history: a page 1 round; a seen mark 2 (the call's pointer, then the mark with a
//! check that the call is the caller's own), 3 when the call was already seen (the mark did not
//! move, and the entry is read to tell that from another user's call).
//!
//! Events never add a round: each is written in the same transaction as its change (a device's
//! state, an unregister, a call row), sent together with the change's own write, or with the
//! consistent read a new device makes anyway.

use std::sync::{Arc, Mutex};

use aws_smithy_types::config_bag::{Storable, StoreReplace};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::json;
use shared::store::dynamo::{DynamoStore, client_from_env};

use crate::call_state::progress_params;
use crate::helpers::{Stores, TestApp, alice, app_token, spawn_on};
use crate::webhooks::SALES;

#[derive(Debug, Default)]
struct Wire {
    state: Mutex<WireState>,
}

#[derive(Debug, Default)]
struct WireState {
    /// The deepest request finished so far.
    finished_depth: usize,
    deepest: usize,
    operations: Vec<String>,
}

/// One request's depth, kept in its own config bag from transmit to the end of the attempt.
#[derive(Debug, Clone)]
struct Depth(usize);

impl Storable for Depth {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone)]
struct Counter(Arc<Wire>);

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "round-trip counter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        let mut state = self.0.state.lock().unwrap();
        let depth = state.finished_depth + 1;
        state.deepest = state.deepest.max(depth);
        state.operations.push(operation);
        cfg.interceptor_state().store_put(Depth(depth));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Depth(depth)) = cfg.load::<Depth>().cloned() {
            let mut state = self.0.state.lock().unwrap();
            state.finished_depth = state.finished_depth.max(depth);
        }
        Ok(())
    }
}

impl Wire {
    /// (sequential rounds, requests by operation) since the last call, then start afresh.
    fn take(&self) -> (usize, Vec<String>) {
        let mut state = self.state.lock().unwrap();
        let mut operations = std::mem::take(&mut state.operations);
        operations.sort();
        let rounds = state.deepest;
        *state = WireState::default();
        (rounds, operations)
    }
}

/// The server on a fresh moto table whose client counts what it sends.
async fn counted_app() -> (TestApp, Arc<Wire>) {
    counted_app_with(&[]).await
}

/// A store on a fresh moto table whose client counts what it sends: the service's own client
/// settings, plus the counter.
async fn counted_store() -> (DynamoStore, Arc<Wire>) {
    let table = crate::helpers::dynamo_store().await;
    let wire = Arc::new(Wire::default());
    let config = client_from_env()
        .await
        .config()
        .to_builder()
        .interceptor(Counter(wire.clone()))
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table.table());
    (store, wire)
}

async fn counted_app_with(overrides: &[(&str, &str)]) -> (TestApp, Arc<Wire>) {
    let (store, wire) = counted_store().await;
    let app = spawn_on(Stores::on_dynamo(store), overrides).await;
    wire.take();
    (app, wire)
}

fn ops(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    names.sort();
    names
}

/// API Gateway's `$connect` (the `realtime` function): the device's presence, the ticket spent
/// by a conditional put, then the connection and its owner side by side (single-item puts: 3
/// write units where a transaction of the three took 6). A replay stops at the ticket and
/// writes nothing.
#[tokio::test]
async fn a_websocket_connect_spends_its_ticket_before_it_writes_anything_else() {
    use shared::store::PresenceStore;
    let (store, wire) = counted_store().await;
    let store = Arc::new(store);
    let gateway = crate::realtime_aws::gateway(&store, shared::clock::Clock::system());
    let now = shared::clock::Clock::system().now_ms();
    let alice = crate::realtime_aws::user("alice@example.com");
    crate::realtime_aws::register(&store, "alice@example.com", "laptop", now).await;
    let device = store.live_devices(&alice, now).await.unwrap().remove(0);
    let ticket = gateway
        .tickets
        .get()
        .issue(&alice, &device, now / 1000)
        .unwrap();
    let offer = format!("softphone-presence.v1, {ticket}");
    let headers = [("Sec-WebSocket-Protocol", offer.as_str())];
    let event = |id: &str| crate::realtime_aws::websocket_event("$connect", id, &headers, None);
    wire.take();
    let (answer, _) = gateway.handle(&event("c1")).await;
    assert_eq!(answer.status_code, 200);
    assert_eq!(
        wire.take(),
        (
            4,
            ops(&["Query", "PutItem", "PutItem", "PutItem", "UpdateItem"])
        ),
        "$connect: the device is live, the ticket spent, then the connection and its owner, \
         then the device's socket presence"
    );
    let (answer, _) = gateway.handle(&event("c2")).await;
    assert_eq!(answer.status_code, 401);
    assert_eq!(
        wire.take(),
        (2, ops(&["Query", "PutItem"])),
        "a replay: refused by the ticket's condition, nothing else written"
    );

    // Socket presence: the keep-alive is one read and one write (docs/performance.md prices
    // them); reporting the Twilio state adds its state write beside it.
    let message = |route: &str, body: Option<&str>| {
        crate::realtime_aws::websocket_event(route, "c1", &[], body)
    };
    let (answer, _) = gateway
        .handle(&message("$default", Some(r#"{"type":"ping"}"#)))
        .await;
    assert_eq!(answer.status_code, 200);
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "UpdateItem"])),
        "a ping: whose connection, then its device's lease"
    );
    let report = r#"{"type":"ping","twilioState":"unregistered"}"#;
    gateway.handle(&message("$default", Some(report))).await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "UpdateItem", "TransactWriteItems"])),
        "a ping with the Twilio state: its state and event beside the lease"
    );
    gateway.handle(&message("$default", Some("not json"))).await;
    assert_eq!(
        wire.take(),
        (0, ops(&[])),
        "a frame that is not a ping: nothing"
    );
    gateway.handle(&message("$disconnect", None)).await;
    assert_eq!(
        wire.take(),
        (
            3,
            ops(&[
                "GetItem",
                "DeleteItem",
                "DeleteItem",
                "Query",
                "Query",
                "UpdateItem"
            ])
        ),
        "$disconnect: whose, then the connection and its team subscriptions (a query: none \
         here) forgotten beside the device's other ones, \
         then the grace"
    );
}

#[tokio::test]
async fn every_endpoint_keeps_its_dynamodb_round_trip_budget() {
    let (app, wire) = counted_app().await;
    let token = alice();

    app.register(&token, "new_device", "web").await;
    assert_eq!(
        wire.take(),
        (
            2,
            ops(&[
                "UpdateItem",
                "TransactWriteItems",
                "UpdateItem",
                "GetItem",
                "Query"
            ])
        ),
        "a new device: the write, its state and event, the person item's device ids and the \
         caller's profile read together, then the consistent count"
    );
    app.register(&token, "new_device", "web").await;
    assert_eq!(
        wire.take(),
        (
            1,
            ops(&["UpdateItem", "TransactWriteItems", "UpdateItem", "GetItem"])
        ),
        "a known live device: the write tells, no count needed (its unchanged state logs nothing)"
    );
    app.heartbeat(&token, "new_device").await;
    assert_eq!(
        wire.take(),
        (1, ops(&["UpdateItem"])),
        "heartbeat: one write, the device's own (people presence adds none)"
    );
    let changed = json!({"deviceId": "new_device", "twilioState": "registered"});
    app.post("/phone/voice/heartbeat", &token, changed).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["UpdateItem", "TransactWriteItems"])),
        "a heartbeat that reports state: its change and event beside the write"
    );
    let (_, start) = app.get("/phone/events", &token).await;
    assert_eq!(wire.take(), (0, ops(&[])), "where to start reads nothing");
    let cursor = start["cursor"].as_str().unwrap();
    app.get(&format!("/phone/events?after={cursor}"), &token)
        .await;
    assert_eq!(wire.take(), (1, ops(&["Query"])), "catch-up");
    let ticket = json!({"deviceId": "new_device"});
    app.post("/phone/events/ticket", &token, ticket).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["Query"])),
        "a realtime ticket: the device is live"
    );
    app.get("/phone/voice/devices", &token).await;
    assert_eq!(wire.take(), (1, ops(&["Query"])), "list");
    app.get("/phone/user-phones", &token).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["GetItem"])),
        "user-phones: the caller's profile"
    );

    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    wire.take();
    let twiml = app.call(SALES).await;
    assert_eq!(twiml.clients().len(), 2);
    let (rounds, requests) = wire.take();
    assert_eq!(
        (rounds, requests),
        (2, ops(&["GetItem", "Query", "Query"])),
        "incoming group call: the route, then every member's devices and calls together"
    );
    assert!(rounds <= 3);

    app.place_call(
        "client:u_org_5Fdemo__alice_40example_2Ecom",
        "+14155559999",
        &[],
    )
    .await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "GetItem", "UpdateItem"])),
        "outgoing, public network: the profile and the route, then the call's count (in the \
         caller's partition, whose org only the profile names)"
    );
    app.place_call(
        "client:u_org_5Fdemo__alice_40example_2Ecom",
        "bob@example.com",
        &[],
    )
    .await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "GetItem", "Query"])),
        "outgoing to a colleague"
    );

    let (status, _) = app
        .post(
            "/phone/voice/unregister-device",
            &token,
            json!({"deviceId": "new_device"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (1, ops(&["TransactWriteItems"])),
        "unregister: the device, its state and the event together"
    );
    let (status, _) = app
        .post(
            "/phone/voice/unregister-device",
            &app_token("bob@example.com", "org_demo"),
            json!({"deviceId": "bob_web", "signOut": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (1, ops(&["PutItem", "TransactWriteItems"])),
        "remote sign-out: the tombstone, and the events beside it"
    );

    // A call-progress callback of an internal call names callee and caller: both rows are
    // written together.
    let callback = "/phone/voice/call-status?org=org_demo&identity=u_org_5Fdemo__bob_40example_2Ecom\
                    &identity=u_org_5Fdemo__alice_40example_2Ecom";
    let twiml = app
        .webhook(
            callback,
            &progress_params("CA0000000000000000000000000000000a", "in-progress", 1),
        )
        .await;
    assert!(twiml.verbs().is_empty());
    assert_eq!(
        wire.take(),
        (1, ops(&["TransactWriteItems", "TransactWriteItems"])),
        "call-status: each row with its event"
    );
}

/// A member on a call costs a group call no extra round trip (each member's calls are read
/// with their devices), and a softphone calling an org number reads its profile with the
/// number's route, then the members' presence.
#[tokio::test]
async fn a_busy_member_or_an_org_number_costs_no_extra_round_trip() {
    let (app, wire) = counted_app().await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    let bob_on_a_call = "/phone/voice/call-status?org=org_demo\
                         &identity=u_org_5Fdemo__bob_40example_2Ecom";
    for busy in [false, true] {
        if busy {
            let progress = progress_params("CA0000000000000000000000000000000b", "in-progress", 1);
            app.webhook(bob_on_a_call, &progress).await;
        }
        wire.take();
        let twiml = app.call(SALES).await;
        assert_eq!(twiml.verbs(), vec!["Dial"]);
        assert_eq!(
            wire.take(),
            (2, ops(&["GetItem", "Query", "Query"])),
            "busy: {busy}: the route, then both members' devices and calls together"
        );
    }
    let twiml = app
        .place_call("client:u_org_5Fdemo__alice_40example_2Ecom", SALES, &[])
        .await;
    assert_eq!(twiml.verbs(), vec!["Dial"], "{}", twiml.xml);
    let (rounds, requests) = wire.take();
    assert!(
        rounds <= 2,
        "org number: caller and route, then the members' presence: {rounds} {requests:?}"
    );
}

#[tokio::test]
async fn every_sms_endpoint_keeps_its_dynamodb_round_trip_budget() {
    let twilio = crate::fake_twilio::FakeTwilio::start().await;
    let (app, wire) = counted_app_with(&[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let token = alice();
    let customer = crate::sms::CUSTOMER;
    let sid = crate::sms::message_sid(1);

    app.text(1, customer, SALES, "hello").await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "inbound text: the route, then the message, its pointer, conversation and events"
    );
    app.text(1, customer, SALES, "hello").await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "a repeated webhook: the same two rounds, refused"
    );
    app.text(2, customer, crate::webhooks::SUPPORT, "help")
        .await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems", "Query", "Query"])),
        "a number that forwards: its users' devices read beside the write"
    );

    app.thread(&token, crate::sms::SALES_ID, customer).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["GetItem", "Query"])),
        "a page of messages: the caller's profile and the page together"
    );
    app.conversations(&token).await;
    let (rounds, requests) = wire.take();
    assert_eq!(
        rounds, 2,
        "conversations: the profile, then each number's index and the marks"
    );
    assert_eq!(requests.iter().filter(|r| *r == "GetItem").count(), 1);

    let (status, body) = app
        .read_up_to(&token, crate::sms::SALES_ID, customer, &sid)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        wire.take(),
        (
            3,
            ops(&[
                "GetItem",
                "GetItem",
                "GetItem",
                "Query",
                "TransactWriteItems"
            ])
        ),
        "read: profile, pointer and conversation; the count; the mark and its event"
    );

    let (status, sent) = app.send_text(&token, customer, "on it", "rt-1").await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        wire.take(),
        (
            2,
            ops(&[
                "GetItem",
                "GetItem",
                "TransactWriteItems",
                "TransactWriteItems",
                "TransactWriteItems"
            ])
        ),
        "send: profile, conversation, the claim with the text's count, and the new-recipient \
         count; then the message and everything it changes"
    );
    let sent_sid = sent["messageSid"].as_str().unwrap();
    let params: Vec<(String, String)> = [
        ("AccountSid", crate::helpers::ACCOUNT_SID),
        ("MessageSid", sent_sid),
        ("MessageStatus", "delivered"),
        ("From", SALES),
        ("To", customer),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let (status, _) = app.sms_webhook("/phone/sms/status", &params).await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (
            2,
            ops(&["GetItem", "GetItem", "TransactWriteItems", "UpdateItem"])
        ),
        "status: pointer and route; the message with its events, and the conversation's copy"
    );
}

#[tokio::test]
async fn every_call_history_endpoint_keeps_its_dynamodb_round_trip_budget() {
    use crate::call_history::{AUDIO, RECORDING, call_sid};
    let twilio = crate::fake_twilio::FakeTwilio::start().await;
    twilio.add_recording(RECORDING, AUDIO);
    let (app, wire) = counted_app_with(&[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let token = alice();

    let unrung = app.ring(&call_sid(1), SALES).await;
    assert_eq!(
        wire.take(),
        (3, ops(&["GetItem", "Query", "Query", "TransactWriteItems"])),
        "a call nobody can be rung for: the usual two rounds, then its missed entries, pointer \
         and events in one transaction"
    );
    app.recorded(&unrung, &call_sid(1), SALES, "completed", 12)
        .await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "recording-status: the number's route, then the voicemail on every entry with its \
         pointers and events"
    );

    app.register_voice(&token, "alice-desk").await;
    wire.take();
    let rung = app.ring(&call_sid(2), SALES).await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "Query", "Query"])),
        "a call that rings someone writes no history before it answers"
    );
    let alice_leg = "client:u_org_5Fdemo__alice_40example_2Ecom";
    app.leg(&rung, &call_sid(2), alice_leg, "in-progress", 0)
        .await;
    let (rounds, _) = wire.take();
    assert_eq!(
        rounds, 2,
        "an answered leg: its busy row beside the route and the answerer's profile, then the \
         fact"
    );
    app.dial_ended(&rung, &call_sid(2), SALES, "completed")
        .await;
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "dial-status: the number's route, then the end"
    );

    app.calls(&token).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["GetItem", "Query"])),
        "history: the page and the seen mark together"
    );
    let (status, _) = app
        .post("/phone/calls/seen", &token, json!({"upTo": call_sid(2)}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "seen: the call's pointer, then the mark and its event, with a check that the call is \
         in the caller's own history"
    );
    let (status, _) = app
        .post("/phone/calls/seen", &token, json!({"upTo": call_sid(2)}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (3, ops(&["GetItem", "TransactWriteItems", "GetItem"])),
        "seen again: the mark did not move, so the entry is read to tell a call already seen \
         from another user's (only then a third round)"
    );
    let carol = app_token("carol@example.com", "org_demo");
    let (status, _) = app
        .post("/phone/calls/seen", &carol, json!({"upTo": call_sid(2)}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "TransactWriteItems"])),
        "seen of another user's call: refused by the check on the caller's own partition"
    );
    let path = format!("/phone/voicemail/{RECORDING}");
    let played = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(played.status(), 200);
    assert_eq!(
        wire.take(),
        (1, ops(&["GetItem", "GetItem"])),
        "play: the caller's profile and the voicemail's pointer together, then Twilio"
    );
    let (status, _) = app.delete(&path, &token).await;
    assert_eq!(status, 200);
    assert_eq!(
        wire.take(),
        (2, ops(&["GetItem", "GetItem", "TransactWriteItems"])),
        "delete: profile and pointer, Twilio, then every entry and the pointer together"
    );
}

/// A web device's socket presence for one roll-over period of its connection (110 minutes,
/// as the client library reconnects before API Gateway's 2-hour cap), pinging every 540 s:
/// what docs/performance.md's cost model counts per device-hour, measured here on moto.
#[tokio::test]
async fn a_socket_device_hour_costs_what_the_cost_model_counts() {
    use shared::store::PresenceStore;
    let (store, wire) = counted_store().await;
    let store = Arc::new(store);
    let clock = shared::clock::Clock::movable();
    let gateway = crate::realtime_aws::gateway(&store, clock.clone());
    let alice = crate::realtime_aws::user("alice@example.com");
    crate::realtime_aws::register(&store, "alice@example.com", "laptop", clock.now_ms()).await;
    let device = store
        .live_devices(&alice, clock.now_ms())
        .await
        .unwrap()
        .remove(0);
    let connect = |id: &'static str| {
        let ticket = gateway
            .tickets
            .get()
            .issue(&alice, &device, clock.now_ms() / 1000)
            .unwrap();
        let offer = format!("softphone-presence.v1, {ticket}");
        let gateway = &gateway;
        async move {
            let headers = [("Sec-WebSocket-Protocol", offer.as_str())];
            let event = crate::realtime_aws::websocket_event("$connect", id, &headers, None);
            assert_eq!(gateway.handle(&event).await.0.status_code, 200);
        }
    };
    let route = |route: &'static str, id: &'static str, body: Option<&'static str>| {
        let gateway = &gateway;
        async move {
            let event = crate::realtime_aws::websocket_event(route, id, &[], body);
            assert_eq!(gateway.handle(&event).await.0.status_code, 200);
        }
    };
    connect("c1").await;
    wire.take();
    // Pings at 540 s, 1080 s, ... 6480 s: twelve within the 6,600 s.
    for _ in 0..12 {
        clock.advance(std::time::Duration::from_secs(540));
        route("$default", "c1", Some(r#"{"type":"ping"}"#)).await;
    }
    // The roll-over at 110 minutes: the next connection, then the old one's close.
    clock.advance(std::time::Duration::from_secs(6_600 - 12 * 540));
    connect("c2").await;
    route("$disconnect", "c1", None).await;
    let (_, operations) = wire.take();
    let count = |op: &str| operations.iter().filter(|o| *o == op).count();
    let counted = [
        ("GetItem", count("GetItem")),
        ("Query", count("Query")),
        ("PutItem", count("PutItem")),
        ("UpdateItem", count("UpdateItem")),
        ("DeleteItem", count("DeleteItem")),
        ("TransactWriteItems", count("TransactWriteItems")),
    ];
    assert_eq!(
        counted,
        [
            ("GetItem", 12 + 1),
            ("Query", 1 + 2),
            ("PutItem", 3),
            ("UpdateItem", 12 + 1),
            ("DeleteItem", 2),
            ("TransactWriteItems", 0),
        ],
        "12 pings (a read, a write each), the next connection (a query, the ticket's put, the \
         connection's and its owner's puts, a write), the old one's close (a read, two deletes, \
         the user's connections and the connection's team subscriptions, a query each; no \
         write: the device's new connection holds its presence)"
    );
    assert!(
        gateway
            .presence
            .live_devices(&alice, clock.now_ms())
            .await
            .unwrap()
            .iter()
            .any(|d| d.device_id == device.device_id),
        "live throughout, on its socket alone"
    );
}

/// People presence: setting a status is one round (its one write beside the presence and
/// profile reads), reading it one; the team view of an org of 500 people, each with a device
/// and 50 of them with a status, is 3 rounds (the org's directory, the person items by key,
/// their devices by key: `BatchGetItem`s of 100 sent together), never a request per person.
#[tokio::test]
async fn a_status_is_one_round_and_a_team_of_500_is_three() {
    use shared::directory::Directory;
    use shared::domain::IdentityStyle;
    let (app, wire) = counted_app().await;
    let token = alice();
    app.put("/phone/presence/status", &token, json!({"status": "dnd"}))
        .await;
    assert_eq!(
        wire.take(),
        (1, ops(&["TransactWriteItems", "Query", "GetItem"])),
        "a status set: the person item and its event written beside the presence and profile \
         reads"
    );
    app.get("/phone/presence/status", &token).await;
    assert_eq!(
        wire.take(),
        (1, ops(&["Query", "GetItem"])),
        "a status read"
    );

    let people: Vec<String> = (0..500).map(|i| format!("p{i:03}@big.example")).collect();
    let users: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, email)| json!({"email": email, "name": format!("Person {}", 500 - i)}))
        .collect();
    let file = json!({"orgs": [{"orgId": "org_big", "users": users}]}).to_string();
    let directory = Directory::parse(&file).unwrap();
    let style = IdentityStyle::Safe;
    app.stores
        .directory
        .import(&directory, style)
        .await
        .unwrap();
    // Ten at a time: a burst of fifty made moto slow enough for the other round-trip tests,
    // running beside this one, to time out and retry (and count twice).
    for chunk in people.chunks(10) {
        let registers = chunk.iter().map(|email| {
            let token = app_token(email, "org_big");
            let app = &app;
            async move { app.register(&token, "desk", "web").await }
        });
        futures::future::join_all(registers).await;
    }
    for email in people.iter().take(50) {
        let body = json!({"status": "away", "note": "Out"});
        let token = app_token(email, "org_big");
        app.put("/phone/presence/status", &token, body).await;
    }
    wire.take();
    let (status, page) = app
        .get(
            "/phone/team?limit=500",
            &app_token("p000@big.example", "org_big"),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    let listed = page["people"].as_array().unwrap();
    assert_eq!(listed.len(), 500);
    assert!(
        listed.iter().all(|p| p["effective"] != "offline"),
        "every one live"
    );
    assert_eq!(listed.iter().filter(|p| p["status"] == "away").count(), 50);
    let (depth, operations) = wire.take();
    let count = |op: &str| operations.iter().filter(|o| *o == op).count();
    assert_eq!(
        (
            depth,
            count("Query"),
            count("BatchGetItem"),
            operations.len()
        ),
        (3, 1, 10, 11),
        "the org's directory, then 5 + 5 BatchGetItems of 100 keys: {operations:?}"
    );
}

/// Ring strategies: a sequential group's first step is the route, then its members' presence
/// (two rounds, as any group call); a round-robin call takes its turn (one atomic write) between
/// the two (three rounds); each step's callback is the route, then the next members' presence.
#[tokio::test]
async fn a_ring_step_costs_two_rounds_and_a_round_robin_turn_one_write() {
    let (app, wire) = counted_app().await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    for (strategy, rounds, ops_then) in [
        ("sequential", 2, ops(&["GetItem", "Query", "Query"])),
        (
            "roundRobin",
            3,
            ops(&["GetItem", "UpdateItem", "Query", "Query"]),
        ),
    ] {
        app.import_demo_with(|org| {
            let groups = org["groups"].as_array_mut().unwrap();
            let sales = groups.iter_mut().find(|g| g["id"] == "grp-sales").unwrap();
            sales["strategy"] = json!(strategy);
        })
        .await;
        wire.take();
        let twiml = app.call(SALES).await;
        assert_eq!(wire.take(), (rounds, ops_then), "{strategy}: {}", twiml.xml);
        let action = twiml.attr("Dial", "action").unwrap();
        let mut params = crate::webhooks::call_params(SALES);
        params.push(("DialCallStatus".into(), "no-answer".into()));
        let next = app.follow(&action, &params).await;
        assert_eq!(next.verbs(), vec!["Dial"], "{}", next.xml);
        assert_eq!(
            wire.take(),
            (2, ops(&["GetItem", "Query", "TransactWriteItems"])),
            "{strategy}: a step's callback: the route, then the presence of the members left \
             beside the history's record of who the step that ended rang"
        );
    }
}

/// The admin API: reading a record or the audit log is one round (the org's records); changing
/// a record is five, whatever the org's size: the version, then the records (in that order, so
/// a write landing between makes the version read stale); the lock (which checks that version,
/// so the org is not read again) beside the owners of the routes it would rewrite (a number
/// another org routes is never taken); the record with its audit entry beside the routes and
/// profiles that differ; then the unlock (adding one to the version) beside the
/// `phones.changed` events of anyone whose numbers moved.
#[tokio::test]
async fn an_admin_read_is_one_round_and_a_records_change_five() {
    let (app, wire) = counted_app().await;
    let token = crate::helpers::admin_token("erin@example.com", crate::helpers::ORG);
    let url = format!("{}/phone/admin/groups/grp-sales", app.base);
    let read = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let mut sales: serde_json::Value = read.json().await.unwrap();
    assert_eq!(
        wire.take(),
        (1, ops(&["Query"])),
        "a record's read: the org's records"
    );

    sales["ringTimeoutSeconds"] = json!(40);
    let written = app
        .http
        .put(&url)
        .bearer_auth(&token)
        .header("if-match", etag)
        .json(&sales)
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 200);
    assert_eq!(
        wire.take(),
        (
            5,
            ops(&[
                "GetItem",
                "Query",
                "UpdateItem",
                "GetItem",
                "TransactWriteItems",
                "BatchWriteItem",
                "UpdateItem",
            ])
        ),
        "the version, then the records; the lock beside the owner of the route to rewrite; \
         Sales with its audit entry beside its number's route and the org index; the unlock"
    );

    let audit = format!("{}/phone/admin/audit", app.base);
    let page = app
        .http
        .get(&audit)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(wire.take(), (1, ops(&["Query"])), "the audit log");
}

/// An org at the admin API's limit of people: 5,000 users (and 10 groups of 100, 10 numbers)
/// written whole, read whole, and changed by one name, against moto. The first write is one
/// transaction per 50 records (each with its audit entry) beside the profiles in batches of 25;
/// a read is the org's records (pages of 1,000) beside its version; a change of one name writes
/// that record, its audit entry and one profile. The times are printed (moto on this machine,
/// not DynamoDB); the request counts are held.
#[tokio::test]
async fn an_org_of_5000_people_is_written_read_and_changed_within_the_limits() {
    let (app, wire) = counted_app().await;
    let org = "org_big";
    let token = crate::helpers::admin_token("admin0000@big.example.com", org);
    let users: Vec<serde_json::Value> = (0..5000)
        .map(|i| json!({"email": format!("agent{i:04}@big.example.com"), "name": format!("Agent {i}")}))
        .collect();
    let groups: Vec<serde_json::Value> = (0..10)
        .map(|g| {
            let members: Vec<String> = (g * 100..g * 100 + 100)
                .map(|i| format!("agent{i:04}@big.example.com"))
                .collect();
            json!({"id": format!("team{g}"), "name": format!("Team {g}"), "members": members})
        })
        .collect();
    let phones: Vec<serde_json::Value> = (0..10)
        .map(|g| {
            json!({"id": format!("line{g}"), "phoneNumber": format!("+1415555{:04}", 7000 + g),
                   "friendlyName": format!("Line {g}"), "groupId": format!("team{g}")})
        })
        .collect();
    let body = json!({"users": users, "groups": groups, "phones": phones});
    assert!(
        body.to_string().len() < 1024 * 1024,
        "within the body limit"
    );
    let url = format!("{}/phone/admin/directory", app.base);
    let put = |body: serde_json::Value, etag: String| {
        app.http
            .put(&url)
            .bearer_auth(&token)
            .header("if-match", etag)
            .json(&body)
            .send()
    };

    let started = std::time::Instant::now();
    let written = put(body.clone(), "\"v0\"".into()).await.unwrap();
    let first_ms = started.elapsed().as_millis();
    assert_eq!(written.status(), 200);
    let report: serde_json::Value = written.json().await.unwrap();
    assert_eq!(report["added"].as_array().unwrap().len(), 5020);
    let (_, first) = wire.take();
    let count = |ops: &[String], name: &str| ops.iter().filter(|o| *o == name).count();
    // 5,020 records, each with its audit entry: 50 pairs to a transaction; 5,000 profiles, 10
    // routes and the org index, 25 to a batch. The counter sees the SDK's retries too, and a
    // slow moto beside other tests times a few attempts out: a little room for those.
    let within = |n: usize, least: usize| (least..least + 10).contains(&n);
    let transactions = count(&first, "TransactWriteItems");
    assert!(within(transactions, 101), "{transactions} transactions");
    let batches = count(&first, "BatchWriteItem");
    assert!(within(batches, 201), "{batches} batches");

    let started = std::time::Instant::now();
    let read = app.http.get(&url).bearer_auth(&token).send().await.unwrap();
    let read_ms = started.elapsed().as_millis();
    assert_eq!(read.status(), 200);
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"v1\"");
    let mut org_now: serde_json::Value = read.json().await.unwrap();
    assert_eq!(org_now["users"].as_array().unwrap().len(), 5000);
    let (rounds, reads) = wire.take();
    // The version, then 5,030 records in pages of 1,000, one after another.
    assert_eq!(rounds, 7, "the org's pages, one after another: {reads:?}");

    org_now["users"][42]["name"] = json!("Agent Forty-Two");
    let started = std::time::Instant::now();
    let changed = put(org_now, etag).await.unwrap();
    let change_ms = started.elapsed().as_millis();
    assert_eq!(changed.status(), 200);
    let report: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(report["updated"], json!(["user:agent0042@big.example.com"]));
    let (_, change) = wire.take();
    let one = |name: &str| within(count(&change, name), 1);
    assert!(one("TransactWriteItems"), "{change:?}");
    assert!(
        one("BatchWriteItem"),
        "one profile and the index: {change:?}"
    );
    println!(
        "5,000 people on moto: first write {first_ms} ms ({} requests), read {read_ms} ms ({} \
         requests, {rounds} rounds), a change of one name {change_ms} ms ({} requests)",
        first.len(),
        reads.len(),
        change.len()
    );
}
