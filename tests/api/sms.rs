//! The SMS inbox over HTTP on both stores: a text to a number reaches its users' `sms`
//! devices at once and is stored once, each user has their own unread count, nobody else can
//! read it, texts nobody can read are forwarded, a store that fails answers 503 so Twilio's
//! fallback forwards, opt-out words are recorded, and media comes only from Twilio's API.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::store::StoreName;
use shared::twilio::signature::sign;

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, DEMO_DIRECTORY, ORG, StoreKind, TestApp, alice, app_token, spawn_app,
    spawn_app_with, spawn_on, stores, unreachable_dynamo,
};
use crate::helpers::{failing, hanging};
use crate::on_both_stores;
use crate::realtime::spawn_realtime;
use crate::webhooks::{SALES, SUPPORT, Twiml};

pub(crate) const CUSTOMER: &str = "+14155550199";
pub(crate) const SALES_ID: &str = "phone-sales";
const SUPPORT_FORWARD_TO: &str = "+14155557777";

on_both_stores!(
    a_text_to_a_group_number_reaches_each_members_sms_devices_once,
    unread_counts_are_each_users_own_and_a_read_reaches_the_readers_devices,
    only_the_numbers_users_can_read_its_inbox,
    a_text_nobody_can_read_in_the_app_is_forwarded,
    opt_out_words_mark_the_sender_and_start_lifts_it,
    media_is_fetched_with_the_api_key_from_twilio_only,
    messages_and_conversations_are_paged_newest_first,
    catch_up_leaves_the_inbox_out_for_a_voice_only_device,
);

/// A Messaging webhook's parameters, as Twilio posts them.
pub(crate) fn sms_params(sid: &str, from: &str, to: &str, body: &str) -> Vec<(String, String)> {
    [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("MessageSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub(crate) fn message_sid(n: u32) -> String {
    format!("SM{n:032x}")
}

impl TestApp {
    /// A signed Messaging webhook on `path`: the status and the body.
    pub(crate) async fn sms_webhook(
        &self,
        path: &str,
        params: &[(String, String)],
    ) -> (StatusCode, String) {
        let signature = sign(AUTH_TOKEN, &format!("{}{path}", self.base), params);
        self.webhook_with(path, params, Some(signature)).await
    }

    /// A text from `from` to `to`; panics unless Twilio would get 200 TwiML.
    pub(crate) async fn text(&self, n: u32, from: &str, to: &str, body: &str) -> Twiml {
        let params = sms_params(&message_sid(n), from, to, body);
        let (status, xml) = self.sms_webhook("/phone/sms/incoming", &params).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        Twiml { xml }
    }

    pub(crate) async fn conversations(&self, token: &str) -> Vec<Value> {
        let (status, body) = self.get("/phone/sms/conversations", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["conversations"].as_array().unwrap().clone()
    }

    pub(crate) async fn thread(
        &self,
        token: &str,
        phone_id: &str,
        with: &str,
    ) -> (StatusCode, Value) {
        let with = form_urlencoded::byte_serialize(with.as_bytes()).collect::<String>();
        self.get(
            &format!("/phone/sms/messages?phoneId={phone_id}&with={with}"),
            token,
        )
        .await
    }

    pub(crate) async fn read_up_to(
        &self,
        token: &str,
        phone_id: &str,
        with: &str,
        sid: &str,
    ) -> (StatusCode, Value) {
        let body = json!({ "phoneId": phone_id, "with": with, "upTo": sid });
        self.post("/phone/sms/read", token, body).await
    }
}

fn bob() -> String {
    app_token("bob@example.com", ORG)
}

fn carol() -> String {
    app_token("carol@example.com", ORG)
}

async fn a_text_to_a_group_number_reaches_each_members_sms_devices_once(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let mut alice_inbox = app.connected(&alice(), "alice-desk", &["sms"]).await;
    let mut alice_phone = app.connected(&alice(), "alice-phone", &["voice"]).await;
    let mut bob_inbox = app.connected(&bob(), "bob-laptop", &["voice", "sms"]).await;
    let mut carol_inbox = app.connected(&carol(), "carol-desk", &["sms"]).await;

    let twiml = app
        .text(1, CUSTOMER, SALES, "Is the blue one in stock?")
        .await;
    assert_eq!(
        twiml.verbs(),
        Vec::<String>::new(),
        "no reply: {}",
        twiml.xml
    );

    for socket in [&mut alice_inbox, &mut bob_inbox] {
        let event = socket.next_of("sms.received").await;
        assert_eq!(
            event["data"]["message"]["body"],
            "Is the blue one in stock?"
        );
        assert_eq!(event["data"]["message"]["messageSid"], message_sid(1));
        assert_eq!(event["data"]["message"]["direction"], "inbound");
        assert_eq!(event["data"]["conversation"]["phoneId"], SALES_ID);
        assert_eq!(event["data"]["conversation"]["with"], CUSTOMER);
    }
    // A voice-only device and a user outside the group hear nothing.
    let quiet = Duration::from_millis(400);
    assert_eq!(alice_phone.next_event_within(quiet).await, None);
    assert_eq!(carol_inbox.next_event_within(quiet).await, None);

    // Twilio repeats the webhook: answered, nothing stored or pushed again.
    let again = app
        .text(1, CUSTOMER, SALES, "Is the blue one in stock?")
        .await;
    assert_eq!(again.verbs(), Vec::<String>::new());
    assert_eq!(alice_inbox.next_event_within(quiet).await, None);
    assert_eq!(bob_inbox.next_event_within(quiet).await, None);
    let (status, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    assert_eq!(thread["messages"].as_array().unwrap().len(), 1);
    let message = &thread["messages"][0];
    assert_eq!(message["from"], CUSTOMER);
    assert_eq!(message["to"], SALES);
    assert_eq!(message["segments"], 1);
    assert_eq!(message["status"], "received");
    assert_eq!(message["sentBy"], Value::Null);
    assert_eq!(message["media"], json!([]));
}

async fn unread_counts_are_each_users_own_and_a_read_reaches_the_readers_devices(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let mut alice_other = app.connected(&alice(), "alice-tablet", &["sms"]).await;
    app.text(1, CUSTOMER, SALES, "first").await;
    app.text(2, CUSTOMER, SALES, "second").await;
    app.text(3, CUSTOMER, SALES, "third").await;
    for token in [alice(), bob()] {
        let list = app.conversations(&token).await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["unread"], 3);
        assert_eq!(list[0]["lastMessage"]["body"], "third");
        assert_eq!(list[0]["phoneNumber"], SALES);
        assert_eq!(list[0]["optedOut"], false);
    }
    let (status, read) = app
        .read_up_to(&alice(), SALES_ID, CUSTOMER, &message_sid(2))
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["unread"], 1);
    let event = alice_other.next_of("sms.read").await;
    assert_eq!(event["data"]["upTo"], message_sid(2));
    assert_eq!(event["data"]["unread"], 1);
    assert_eq!(app.conversations(&alice()).await[0]["unread"], 1);
    assert_eq!(
        app.conversations(&bob()).await[0]["unread"],
        3,
        "Bob's count is his own"
    );

    // A read mark never moves back (an older read from a slow device).
    let (_, read) = app
        .read_up_to(&alice(), SALES_ID, CUSTOMER, &message_sid(3))
        .await;
    assert_eq!(read["unread"], 0);
    let (_, read) = app
        .read_up_to(&alice(), SALES_ID, CUSTOMER, &message_sid(1))
        .await;
    assert_eq!(read["unread"], 0);
    assert_eq!(app.conversations(&alice()).await[0]["unread"], 0);

    // A message of another conversation, or none, is named as the bad field.
    let (status, body) = app
        .read_up_to(&alice(), SALES_ID, "+14155550100", &message_sid(3))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "upTo");
    let (status, body) = app
        .read_up_to(&alice(), SALES_ID, CUSTOMER, &message_sid(99))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "upTo");
}

async fn only_the_numbers_users_can_read_its_inbox(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.text(1, CUSTOMER, SALES, "for Sales only").await;
    let outsiders = [
        carol(),
        // Alice's email in another org.
        app_token("alice@example.com", "org_other"),
    ];
    for token in &outsiders {
        assert_eq!(app.conversations(token).await, Vec::<Value>::new());
        let (status, body) = app.thread(token, SALES_ID, CUSTOMER).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
        let (status, _) = app
            .read_up_to(token, SALES_ID, CUSTOMER, &message_sid(1))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .get(
                &format!("/phone/sms/media?messageSid={}&index=0", message_sid(1)),
                token,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = app.thread(&bob(), SALES_ID, CUSTOMER).await;
    assert_eq!(status, StatusCode::OK);

    // Bob leaves Sales: its inbox goes with it.
    let without_bob = DEMO_DIRECTORY.replacen(
        r#""members": ["alice@example.com", "bob@example.com"]"#,
        r#""members": ["alice@example.com"]"#,
        1,
    );
    assert_ne!(without_bob, DEMO_DIRECTORY);
    let directory = shared::directory::Directory::parse(&without_bob).unwrap();
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(app.conversations(&bob()).await, Vec::<Value>::new());
    let (status, _) = app.thread(&bob(), SALES_ID, CUSTOMER).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.conversations(&alice()).await.len(), 1);
}

async fn a_text_nobody_can_read_in_the_app_is_forwarded(kind: StoreKind) {
    let app = spawn_app(kind).await;
    // Support (Carol and Bob) forwards to a phone when neither has a live `sms` device.
    app.register(&bob(), "bob-voice-only", "web").await;
    let twiml = app
        .text(1, CUSTOMER, SUPPORT, "My order & <invoice> are wrong")
        .await;
    assert_eq!(twiml.verbs(), vec!["Message"], "{}", twiml.xml);
    assert_eq!(
        twiml.attr("Message", "to").as_deref(),
        Some(SUPPORT_FORWARD_TO)
    );
    assert_eq!(
        twiml.texts("Message"),
        vec![format!("From {CUSTOMER}: My order & <invoice> are wrong")]
    );
    let body = json!({"deviceId": "carol-inbox", "platform": "web", "capabilities": ["sms"]});
    let (status, _) = app
        .post("/phone/voice/register-device", &carol(), body)
        .await;
    assert_eq!(status, StatusCode::OK);
    let twiml = app.text(2, CUSTOMER, SUPPORT, "Anyone there?").await;
    assert_eq!(
        twiml.verbs(),
        Vec::<String>::new(),
        "Carol reads it: {}",
        twiml.xml
    );
    // Stored either way.
    let (_, thread) = app.thread(&carol(), "phone-support", CUSTOMER).await;
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec!["Anyone there?", "My order & <invoice> are wrong"]
    );
    // Sales has nowhere to forward to: nothing, even with nobody live.
    let twiml = app.text(3, CUSTOMER, SALES, "hello").await;
    assert_eq!(twiml.verbs(), Vec::<String>::new());
    // A long text is cut to what one text can carry.
    app.unregister(&carol(), "carol-inbox").await;
    let long = "x".repeat(1600);
    let twiml = app.text(4, CUSTOMER, SUPPORT, &long).await;
    assert_eq!(twiml.texts("Message")[0].chars().count(), 1600);
}

async fn opt_out_words_mark_the_sender_and_start_lifts_it(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.text(1, CUSTOMER, SALES, "hi").await;
    assert_eq!(app.conversations(&alice()).await[0]["optedOut"], false);
    app.text(2, CUSTOMER, SALES, " stop ").await;
    let list = app.conversations(&alice()).await;
    assert_eq!(list[0]["optedOut"], true);
    assert_eq!(
        list[0]["lastMessage"]["body"], " stop ",
        "the keyword is a message too"
    );
    app.text(3, CUSTOMER, SALES, "please stop calling me").await;
    assert_eq!(
        app.conversations(&alice()).await[0]["optedOut"],
        true,
        "not a keyword"
    );
    app.text(4, CUSTOMER, SALES, "Start").await;
    assert_eq!(app.conversations(&alice()).await[0]["optedOut"], false);
    // Advanced Opt-Out says so in OptOutType, whatever the words.
    let mut params = sms_params(&message_sid(5), CUSTOMER, SALES, "arrêtez");
    params.push(("OptOutType".into(), "STOP".into()));
    let (status, _) = app.sms_webhook("/phone/sms/incoming", &params).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.conversations(&alice()).await[0]["optedOut"], true);
}

async fn media_is_fetched_with_the_api_key_from_twilio_only(kind: StoreKind) {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(kind, &[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let sid = format!("MM{:032x}", 7);
    let png: &[u8] = b"\x89PNG\r\n\x1a\n-a-picture";
    let url = twilio.add_media(&sid, 0, "image/png", png);
    let mut params = sms_params(&sid, CUSTOMER, SALES, "");
    params.retain(|(k, _)| k != "NumMedia");
    params.push(("NumMedia".into(), "2".into()));
    params.push(("MediaUrl0".into(), url));
    params.push(("MediaContentType0".into(), "image/png".into()));
    // A URL outside Twilio's API (it never is, from Twilio): stored, never fetched.
    params.push((
        "MediaUrl1".into(),
        "http://169.254.169.254/latest/meta-data".into(),
    ));
    params.push(("MediaContentType1".into(), "text/plain".into()));
    let (status, xml) = app.sms_webhook("/phone/sms/incoming", &params).await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    let (_, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    assert_eq!(
        thread["messages"][0]["media"],
        json!([{"index": 0, "contentType": "image/png"}, {"index": 1, "contentType": "text/plain"}]),
        "URLs are never shown"
    );

    let response = app
        .http
        .get(format!(
            "{}/phone/sms/media?messageSid={sid}&index=0",
            app.base
        ))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(&response.bytes().await.unwrap()[..], png);
    let fetches: Vec<_> = twilio
        .received()
        .into_iter()
        .filter(|r| r.path.contains("/Media/") || r.path.starts_with("/cdn/"))
        .collect();
    assert_eq!(
        fetches.len(),
        2,
        "the media URL, then its CDN redirect: {fetches:?}"
    );
    assert!(
        fetches[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(
        twilio.leaked_credentials(),
        0,
        "the CDN never sees the API key"
    );

    let (status, body) = app
        .get(
            &format!("/phone/sms/media?messageSid={sid}&index=1"),
            &alice(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(twilio.received().len(), 2, "nothing else was fetched");
    let (status, _) = app
        .get(
            &format!("/phone/sms/media?messageSid={sid}&index=0"),
            &carol(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            &format!("/phone/sms/media?messageSid={sid}&index=x"),
            &alice(),
        )
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("index"))
    );
}

async fn messages_and_conversations_are_paged_newest_first(kind: StoreKind) {
    let app = spawn_app(kind).await;
    for n in 1..=5 {
        app.text(n, CUSTOMER, SALES, &format!("message {n}")).await;
    }
    app.text(6, "+14155550111", SALES, "another customer").await;
    let with = form_urlencoded::byte_serialize(CUSTOMER.as_bytes()).collect::<String>();
    let mut bodies = Vec::new();
    let mut path = format!("/phone/sms/messages?phoneId={SALES_ID}&with={with}&limit=2");
    loop {
        let (status, page) = app.get(&path, &alice()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let messages = page["messages"].as_array().unwrap();
        assert!(messages.len() <= 2);
        bodies.extend(
            messages
                .iter()
                .map(|m| m["body"].as_str().unwrap().to_owned()),
        );
        match page["cursor"].as_str() {
            Some(cursor) => {
                path = format!(
                    "/phone/sms/messages?phoneId={SALES_ID}&with={with}&limit=2&before={cursor}"
                )
            }
            None => break,
        }
        assert!(bodies.len() < 10, "paging ends");
    }
    assert_eq!(
        bodies,
        [
            "message 5",
            "message 4",
            "message 3",
            "message 2",
            "message 1"
        ]
    );

    let (_, first) = app.get("/phone/sms/conversations?limit=1", &alice()).await;
    assert_eq!(first["conversations"][0]["with"], "+14155550111");
    let cursor = first["cursor"].as_str().unwrap();
    let (_, second) = app
        .get(
            &format!("/phone/sms/conversations?limit=1&before={cursor}"),
            &alice(),
        )
        .await;
    assert_eq!(second["conversations"][0]["with"], CUSTOMER);
    assert_eq!(second["conversations"][0]["unread"], 5);

    for (path, field) in [
        (
            "/phone/sms/messages?phoneId=phone-sales&with=%2B1&limit=0",
            "limit",
        ),
        ("/phone/sms/messages?phoneId=phone-sales&with=a:b", "with"),
        ("/phone/sms/messages?with=%2B14155550199", "phoneId"),
        (
            "/phone/sms/messages?phoneId=phone-sales&with=%2B1&before=zz",
            "before",
        ),
        ("/phone/sms/conversations?limit=101", "limit"),
    ] {
        let (status, body) = app.get(path, &alice()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}");
    }
}

async fn catch_up_leaves_the_inbox_out_for_a_voice_only_device(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    app.register(&token, "desk-phone", "web").await;
    let body = json!({"deviceId": "inbox", "platform": "web", "capabilities": ["sms"]});
    app.post("/phone/voice/register-device", &token, body).await;
    let first = app.start_cursor(&token).await;
    // After the registers' own events.
    let (registered, _) = app.catch_up(&token, &first).await;
    let start = registered.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    app.text(1, CUSTOMER, SALES, "hello").await;
    let types = |body: &Value| -> Vec<String> {
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, everyone) = app
        .get(&format!("/phone/events?after={start}"), &token)
        .await;
    assert_eq!(types(&everyone), vec!["sms.received"]);
    let (_, inbox) = app
        .get(
            &format!("/phone/events?after={start}&deviceId=inbox"),
            &token,
        )
        .await;
    assert_eq!(types(&inbox), vec!["sms.received"]);
    let (status, voice) = app
        .get(
            &format!("/phone/events?after={start}&deviceId=desk-phone&limit=1"),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{voice}");
    assert_eq!(
        types(&voice),
        Vec::<String>::new(),
        "never to a voice-only device"
    );
    assert_eq!(
        voice["more"], true,
        "the page was full before the text was left out"
    );
    assert_eq!(
        voice["cursor"], everyone["events"][0]["cursor"],
        "and resumes past the text it left out"
    );
    let (status, bad) = app
        .get(
            &format!("/phone/events?after={start}&deviceId=a%20b"),
            &token,
        )
        .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("deviceId"))
    );
}

/// The store fails or hangs: Twilio gets a 503 (and goes to the fallback URL), never a 200
/// for a text that was not stored; the fallback forwards without the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_or_hangs_is_a_503_and_the_fallback_forwards() {
    for messages in [
        Arc::new(unreachable_dynamo().await) as Arc<dyn shared::store::MessageStore>,
        hanging(StoreName::Inbox),
    ] {
        let memory = stores(StoreKind::Memory).await;
        let app = spawn_on(
            crate::helpers::Stores { messages, ..memory },
            &[("WEBHOOK_DEADLINE_MS", "300")],
        )
        .await;
        let params = sms_params(&message_sid(1), CUSTOMER, SUPPORT, "Help!");
        let started = std::time::Instant::now();
        let (status, body) = app.sms_webhook("/phone/sms/incoming", &params).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // Twilio's fallback: this process has seen Support's route, so it forwards.
        let (status, xml) = app.sms_webhook("/phone/sms/fallback", &params).await;
        assert_eq!(status, StatusCode::OK, "{xml}");
        let twiml = Twiml { xml };
        assert_eq!(
            twiml.attr("Message", "to").as_deref(),
            Some(SUPPORT_FORWARD_TO)
        );
        assert_eq!(
            twiml.texts("Message"),
            vec![format!("From {CUSTOMER}: Help!")]
        );
        // A number this process has not seen: nothing to forward to, still a 200.
        let params = sms_params(&message_sid(2), CUSTOMER, SALES, "Hello?");
        let (status, xml) = app.sms_webhook("/phone/sms/fallback", &params).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(Twiml { xml }.verbs(), Vec::<String>::new());
    }
    // The presence store failing is no reason to lose a text: stored, and forwarded.
    let app = crate::helpers::spawn_with_presence(failing(StoreName::Presence), &[]).await;
    let twiml = app.text(3, CUSTOMER, SUPPORT, "still there?").await;
    assert_eq!(twiml.verbs(), vec!["Message"]);
    let (_, thread) = app.thread(&carol(), "phone-support", CUSTOMER).await;
    assert_eq!(thread["messages"][0]["body"], "still there?");
}

#[tokio::test]
async fn malformed_texts_are_refused_naming_the_parameter() {
    let app = spawn_app(StoreKind::Memory).await;
    for (name, value) in [
        ("MessageSid", "SMnot-a-sid"),
        ("From", "a:b"),
        ("To", "12"),
        ("NumMedia", "11"),
    ] {
        let mut params = sms_params(&message_sid(1), CUSTOMER, SALES, "hi");
        params.retain(|(k, _)| k != name);
        params.push((name.to_owned(), value.to_owned()));
        let (status, body) = app.sms_webhook("/phone/sms/incoming", &params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["field"], name);
    }
    assert_eq!(app.conversations(&alice()).await, Vec::<Value>::new());
}
