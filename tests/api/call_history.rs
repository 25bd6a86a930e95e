//! Call history and voicemail over HTTP on both stores, driven as Twilio drives a call: the
//! incoming webhook, then the callbacks at the URLs its TwiML gave (late, twice, out of order).
//! Each user sees the calls to their numbers and their own calls, a group call answered by
//! one member shows who took it to the others, every miss says why, voicemail plays only for
//! the people it was left for, and nobody else can list, play or delete any of it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{
    ACCOUNT_SID, ORG, StoreKind, TWIML_APP_SID, TestApp, alice, app_token, spawn_app_with,
};
use crate::on_both_stores;
use crate::webhooks::{SALES, Twiml};

pub(crate) const CALLER: &str = "+14158675309";
const ALICE_ID: &str = "u_org_5Fdemo__alice_40example_2Ecom";
pub(crate) const RECORDING: &str = "RE0123456789abcdef0123456789abcdef";
pub(crate) const AUDIO: &[u8] = b"ID3\x04\x00\x00\x00\x00\x00\x00fake mp3 frames";

on_both_stores!(
    a_group_call_answered_by_one_member_shows_who_took_it_to_both,
    every_miss_says_why_and_a_cancel_is_no_miss,
    voicemail_plays_only_for_the_numbers_users_and_delete_removes_it,
    the_seen_mark_counts_unseen_misses_and_reaches_the_other_devices,
    outbound_and_internal_calls_are_in_their_callers_history,
    late_repeated_and_reordered_callbacks_converge_and_tell_once,
    history_pages_newest_first_and_refuses_bad_input,
);

fn bob() -> String {
    app_token("bob@example.com", ORG)
}

fn carol() -> String {
    app_token("carol@example.com", ORG)
}

fn stranger() -> String {
    app_token("alice@example.com", "org_other")
}

pub(crate) fn call_sid(n: u32) -> String {
    format!("CA{n:032x}")
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn spawn(kind: StoreKind) -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(kind, &[("TWILIO_API_BASE_URL", twilio.base.as_str())]).await;
    (app, twilio)
}

impl TestApp {
    /// A callback posted, signed, to a URL the service's TwiML gave (as Twilio posts it).
    pub(crate) async fn follow(&self, url: &str, params: &[(String, String)]) -> Twiml {
        let path = url
            .strip_prefix(&self.base)
            .unwrap_or_else(|| panic!("{url} is not under {}", self.base));
        self.webhook(path, params).await
    }

    /// A call from `CALLER` to `to` with `CallSid` `sid`: the incoming webhook's TwiML.
    pub(crate) async fn ring(&self, sid: &str, to: &str) -> Twiml {
        let call = params(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", CALLER),
            ("To", to),
        ]);
        self.webhook("/phone/voice/incoming", &call).await
    }

    /// The dial's end, at the `<Dial action>` the TwiML gave.
    pub(crate) async fn dial_ended(
        &self,
        twiml: &Twiml,
        sid: &str,
        to: &str,
        status: &str,
    ) -> Twiml {
        let action = twiml.attr("Dial", "action").expect("a Dial with an action");
        let duration = if status == "completed" { "42" } else { "0" };
        let ended = params(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid),
            ("From", CALLER),
            ("To", to),
            ("DialCallStatus", status),
            ("DialCallSid", &call_sid(0xd1a1)),
            ("DialCallDuration", duration),
        ]);
        self.follow(&action, &ended).await
    }

    /// A leg's call-progress callback, at the `statusCallback` the TwiML gave the `<Client>`
    /// of `identity` (or the first `<Number>`).
    pub(crate) async fn leg(
        &self,
        twiml: &Twiml,
        parent: &str,
        to: &str,
        status: &str,
        seconds: u32,
    ) {
        let doc = twiml.doc();
        let element = doc
            .descendants()
            .find(|n| match to.strip_prefix("client:") {
                Some(identity) => {
                    n.has_tag_name("Client")
                        && n.descendants()
                            .any(|i| i.has_tag_name("Identity") && i.text() == Some(identity))
                }
                None => n.has_tag_name("Number"),
            })
            .unwrap_or_else(|| panic!("no dial of {to} in {}", twiml.xml));
        let callback = element.attribute("statusCallback").unwrap().to_owned();
        let leg = params(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", &call_sid(0x1e9)),
            ("ParentCallSid", parent),
            ("CallStatus", status),
            ("CallDuration", &seconds.to_string()),
            ("From", CALLER),
            ("To", to),
        ]);
        let answer = self.follow(&callback, &leg).await;
        assert!(answer.verbs().is_empty(), "{}", answer.xml);
    }

    /// The voicemail's recording callback, at the `<Record recordingStatusCallback>` given,
    /// with what Twilio posts: no `From` or `To`.
    pub(crate) async fn recorded(
        &self,
        twiml: &Twiml,
        sid: &str,
        to: &str,
        status: &str,
        seconds: u32,
    ) {
        let callback = twiml
            .attr("Record", "recordingStatusCallback")
            .unwrap_or_else(|| panic!("a Record with its callback: {}", twiml.xml));
        let _ = to;
        let report = params(&[
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid),
            ("RecordingSid", RECORDING),
            ("RecordingStatus", status),
            ("RecordingDuration", &seconds.to_string()),
            (
                "RecordingUrl",
                "https://evil.example.com/2010-04-01/Recordings/steal",
            ),
        ]);
        let answer = self.follow(&callback, &report).await;
        assert!(answer.verbs().is_empty(), "{}", answer.xml);
    }

    pub(crate) async fn calls(&self, token: &str) -> Value {
        let (status, body) = self.get("/phone/calls", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// The only entry of the caller's history.
    pub(crate) async fn only_call(&self, token: &str) -> Value {
        let body = self.calls(token).await;
        let calls = body["calls"].as_array().unwrap();
        assert_eq!(calls.len(), 1, "{body}");
        calls[0].clone()
    }

    pub(crate) async fn register_voice(&self, token: &str, device: &str) {
        let body = json!({"deviceId": device, "platform": "web", "capabilities": ["voice"]});
        let (status, body) = self.post("/phone/voice/register-device", token, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// The types of the events the caller's devices got since `after`.
    async fn event_types(&self, token: &str, after: &str) -> Vec<(String, Value)> {
        let (events, _) = self.catch_up(token, after).await;
        events
            .into_iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"].clone()))
            .collect()
    }
}

async fn a_group_call_answered_by_one_member_shows_who_took_it_to_both(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    app.register_voice(&alice(), "alice-desk").await;
    app.register_voice(&bob(), "bob-desk").await;
    let sid = call_sid(1);
    let twiml = app.ring(&sid, SALES).await;
    assert_eq!(twiml.clients().len(), 2, "{}", twiml.xml);
    let alice_leg = format!("client:{ALICE_ID}");
    app.leg(&twiml, &sid, &alice_leg, "in-progress", 0).await;
    app.leg(&twiml, &sid, &alice_leg, "completed", 42).await;
    app.dial_ended(&twiml, &sid, SALES, "completed").await;

    for token in [alice(), bob()] {
        let call = app.only_call(&token).await;
        assert_eq!(call["callSid"], sid);
        assert_eq!(call["direction"], "inbound");
        assert_eq!(call["from"], CALLER);
        assert_eq!(call["to"], SALES);
        assert_eq!(call["phoneId"], "phone-sales");
        assert_eq!(call["outcome"], "answered");
        assert_eq!(
            call["answeredBy"],
            json!({"identity": ALICE_ID, "name": "Alice Adams"})
        );
        assert_eq!(call["durationSeconds"], 42);
        assert!(call["answeredAt"].as_i64().unwrap() >= call["startedAt"].as_i64().unwrap());
        assert!(call["endedAt"].as_i64().is_some(), "{call}");
        assert_eq!(call["voicemail"], Value::Null);
        assert_eq!(app.calls(&token).await["unseenMissed"], 0);
    }
    // Carol is in the org but not in Sales; the same email in another org is someone else.
    for token in [carol(), stranger()] {
        assert_eq!(app.calls(&token).await["calls"], json!([]));
    }
}

async fn every_miss_says_why_and_a_cancel_is_no_miss(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    let start = app.start_cursor(&bob()).await;
    // Nobody live: the incoming webhook writes the miss itself.
    let nobody = app.ring(&call_sid(1), SALES).await;
    assert!(
        nobody.verbs().contains(&"Record".to_owned()),
        "{}",
        nobody.xml
    );
    // Rung, nobody answered.
    app.register_voice(&alice(), "alice-desk").await;
    let rung = app.ring(&call_sid(2), SALES).await;
    app.dial_ended(&rung, &call_sid(2), SALES, "no-answer")
        .await;
    // Rung, the caller hung up first.
    let hung_up = app.ring(&call_sid(3), SALES).await;
    app.dial_ended(&hung_up, &call_sid(3), SALES, "canceled")
        .await;

    let body = app.calls(&bob()).await;
    let calls = body["calls"].as_array().unwrap();
    let summary: Vec<(Value, Value, Value)> = calls
        .iter()
        .map(|c| {
            (
                c["callSid"].clone(),
                c["outcome"].clone(),
                c["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!(call_sid(3)), json!("canceled"), Value::Null),
            (json!(call_sid(2)), json!("missed"), json!("no_answer")),
            (json!(call_sid(1)), json!("missed"), json!("nobody_live")),
        ]
    );
    assert_eq!(body["unseenMissed"], 2, "a cancel is not a missed call");
    let missed: Vec<Value> = app
        .event_types(&bob(), &start)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "call.missed")
        .map(|(_, data)| data["callSid"].clone())
        .collect();
    assert_eq!(missed, vec![json!(call_sid(1)), json!(call_sid(2))]);
}

async fn voicemail_plays_only_for_the_numbers_users_and_delete_removes_it(kind: StoreKind) {
    let (app, twilio) = spawn(kind).await;
    twilio.add_recording(RECORDING, AUDIO);
    let start = app.start_cursor(&alice()).await;
    let sid = call_sid(7);
    let twiml = app.ring(&sid, SALES).await;
    app.recorded(&twiml, &sid, SALES, "completed", 17).await;

    let call = app.only_call(&bob()).await;
    assert_eq!(call["outcome"], "voicemail");
    assert_eq!(
        call["voicemail"],
        json!({"recordingSid": RECORDING, "durationSeconds": 17})
    );
    let told: Vec<Value> = app
        .event_types(&alice(), &start)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "voicemail.received")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    // Twilio's recording callback names no caller: the service wrote it into the URL.
    assert_eq!(told[0]["from"], CALLER);
    assert_eq!(told[0]["voicemail"]["recordingSid"], RECORDING);
    assert_eq!(call["from"], CALLER);

    let path = format!("/phone/voicemail/{RECORDING}");
    let played = app
        .http
        .get(format!("{}{path}", app.base))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    assert_eq!(played.status(), StatusCode::OK);
    assert_eq!(played.headers()["content-type"], "audio/mpeg");
    assert_eq!(played.bytes().await.unwrap().as_ref(), AUDIO);
    // Fetched by its SID from the fake Twilio (which checks the API key), never from the
    // callback's RecordingUrl (a host that does not exist).

    for token in [carol(), stranger()] {
        let (status, body) = app.get(&path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
        let (status, _) = app.delete(&path, &token).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert!(twilio.has_recording(RECORDING), "others cannot delete it");
    let (status, body) = app.get("/phone/voicemail/RE12", &alice()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "recordingSid");

    let before_delete = app.start_cursor(&alice()).await;
    let (status, body) = app.delete(&path, &bob()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!twilio.has_recording(RECORDING));
    // Alice's devices hear of Bob's delete at once.
    let deleted: Vec<Value> = app
        .event_types(&alice(), &before_delete)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "voicemail.deleted")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(
        deleted,
        vec![json!({"callSid": sid, "recordingSid": RECORDING})]
    );
    let call = app.only_call(&alice()).await;
    assert_eq!(call["voicemail"], Value::Null);
    assert_eq!(call["outcome"], "missed");
    assert_eq!(app.get(&path, &alice()).await.0, StatusCode::NOT_FOUND);

    // A recording of silence leaves a plain missed call.
    let quiet = call_sid(8);
    let twiml = app.ring(&quiet, SALES).await;
    app.recorded(&twiml, &quiet, SALES, "absent", 0).await;
    let body = app.calls(&alice()).await;
    assert_eq!(body["calls"][0]["callSid"], quiet);
    assert_eq!(body["calls"][0]["outcome"], "missed");
    assert_eq!(body["calls"][0]["voicemail"], Value::Null);
}

async fn the_seen_mark_counts_unseen_misses_and_reaches_the_other_devices(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    app.ring(&call_sid(1), SALES).await;
    app.ring(&call_sid(2), SALES).await;
    assert_eq!(app.calls(&alice()).await["unseenMissed"], 2);
    let start = app.start_cursor(&alice()).await;

    let (status, body) = app
        .post("/phone/calls/seen", &alice(), json!({"upTo": call_sid(2)}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = app.calls(&alice()).await;
    assert_eq!(body["unseenMissed"], 0);
    assert!(
        body["calls"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["seen"] == true)
    );
    // (A catch-up from a fresh cursor repeats the last seconds' events: clients keep cursors.)
    let told: Vec<(String, Value)> = app
        .event_types(&alice(), &start)
        .await
        .into_iter()
        .filter(|(kind, _)| kind != "call.missed")
        .collect();
    assert_eq!(
        told,
        vec![("calls.seen".to_owned(), json!({"upTo": call_sid(2)}))]
    );

    // Never back; Bob's mark is his own.
    app.post("/phone/calls/seen", &alice(), json!({"upTo": call_sid(1)}))
        .await;
    assert_eq!(app.calls(&alice()).await["unseenMissed"], 0);
    assert_eq!(app.calls(&bob()).await["unseenMissed"], 2);
    // A newer miss counts again.
    app.ring(&call_sid(3), SALES).await;
    assert_eq!(app.calls(&alice()).await["unseenMissed"], 1);

    for (token, up_to) in [
        (alice(), json!(call_sid(99))),
        (stranger(), json!(call_sid(1))),
        (alice(), json!("")),
        (alice(), json!(5)),
    ] {
        let (status, body) = app
            .post("/phone/calls/seen", &token, json!({ "upTo": up_to }))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], "upTo", "{body}");
    }
}

async fn outbound_and_internal_calls_are_in_their_callers_history(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    let outgoing = |sid: &str, to: &str| {
        params(&[
            ("AccountSid", ACCOUNT_SID),
            ("ApplicationSid", TWIML_APP_SID),
            ("CallSid", sid),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
            ("From", &format!("client:{ALICE_ID}")),
            ("To", to),
        ])
    };
    let customer = "+14155559999";
    let out = call_sid(0x0a);
    let twiml = app
        .webhook("/phone/voice/outgoing", &outgoing(&out, customer))
        .await;
    app.leg(&twiml, &out, customer, "in-progress", 0).await;
    app.leg(&twiml, &out, customer, "completed", 65).await;
    let call = app.only_call(&alice()).await;
    assert_eq!(call["direction"], "outbound");
    assert_eq!(call["to"], customer);
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["durationSeconds"], 65);
    assert_eq!(app.calls(&bob()).await["calls"], json!([]));

    // Alice calls Bob, who has no live device: missed for Bob, unanswered for Alice.
    let internal = call_sid(0x0b);
    app.webhook(
        "/phone/voice/outgoing",
        &outgoing(&internal, "bob@example.com"),
    )
    .await;
    let bobs = app.only_call(&bob()).await;
    assert_eq!(bobs["direction"], "internal");
    assert_eq!(bobs["from"], "alice@example.com");
    assert_eq!(bobs["outcome"], "missed");
    assert_eq!(app.calls(&bob()).await["unseenMissed"], 1);
    let alices = app.calls(&alice()).await;
    assert_eq!(alices["calls"][0]["callSid"], internal);
    assert_eq!(alices["calls"][0]["to"], "bob@example.com");
    assert_eq!(
        alices["unseenMissed"], 0,
        "a call Alice placed is no miss of hers"
    );
}

async fn late_repeated_and_reordered_callbacks_converge_and_tell_once(kind: StoreKind) {
    let (app, twilio) = spawn(kind).await;
    twilio.add_recording(RECORDING, AUDIO);
    app.register_voice(&alice(), "alice-desk").await;
    let start = app.start_cursor(&bob()).await;
    let sid = call_sid(5);
    let twiml = app.ring(&sid, SALES).await;
    let alice_leg = format!("client:{ALICE_ID}");
    // The end before the answer, each twice.
    for _ in 0..2 {
        app.dial_ended(&twiml, &sid, SALES, "completed").await;
        app.leg(&twiml, &sid, &alice_leg, "completed", 42).await;
    }
    for _ in 0..2 {
        app.leg(&twiml, &sid, &alice_leg, "in-progress", 0).await;
    }
    let call = app.only_call(&bob()).await;
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["answeredBy"]["identity"], ALICE_ID);
    assert_eq!(call["durationSeconds"], 42);
    let answered_at = call["answeredAt"].clone();
    app.leg(&twiml, &sid, &alice_leg, "in-progress", 0).await;
    assert_eq!(app.only_call(&bob()).await["answeredAt"], answered_at);

    // A missed call whose miss and voicemail come twice each, the voicemail first.
    let missed = call_sid(6);
    let rung = app.ring(&missed, SALES).await;
    let record = app.dial_ended(&rung, &missed, SALES, "no-answer").await;
    app.recorded(&record, &missed, SALES, "completed", 9).await;
    app.recorded(&record, &missed, SALES, "completed", 9).await;
    app.dial_ended(&rung, &missed, SALES, "no-answer").await;
    let body = app.calls(&bob()).await;
    assert_eq!(body["calls"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["calls"][0]["outcome"], "voicemail");
    let told: Vec<String> = app
        .event_types(&bob(), &start)
        .await
        .into_iter()
        .map(|(kind, _)| kind)
        .filter(|kind| kind != "devices.changed")
        .collect();
    assert_eq!(told, vec!["call.missed", "voicemail.received"]);
}

async fn history_pages_newest_first_and_refuses_bad_input(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    for n in 1..=5 {
        app.ring(&call_sid(n), SALES).await;
    }
    let mut seen = Vec::new();
    let mut path = "/phone/calls?limit=2".to_owned();
    loop {
        let (status, body) = app.get(&path, &alice()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for call in body["calls"].as_array().unwrap() {
            seen.push(call["callSid"].as_str().unwrap().to_owned());
        }
        match body["cursor"].as_str() {
            Some(cursor) => path = format!("/phone/calls?limit=2&before={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=5).rev().map(call_sid).collect();
    assert_eq!(seen, expected);

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=two", "limit"),
        ("before=nope", "before"),
    ] {
        let (status, body) = app.get(&format!("/phone/calls?{query}"), &alice()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["field"], field);
    }
    let (status, _) = app.get("/phone/calls", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
