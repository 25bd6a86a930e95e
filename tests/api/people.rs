//! People presence over HTTP: the status a person sets (`GET`/`PUT /phone/presence/status`),
//! the team view (`GET /phone/team`), and routing that does not ring "do not disturb".

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::directory::Directory;
use shared::domain::IdentityStyle;

use crate::helpers::{ORG, StoreKind, TestApp, alice, app_token, now_s, spawn_app};
use crate::on_both_stores;

const STATUS: &str = "/phone/presence/status";
const ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";
const BOB: &str = "u_org_5Fdemo__bob_40example_2Ecom";
const ALICE_DIRECT: &str = "+14155550001";
const SALES: &str = "+14155551234";

on_both_stores!(
    a_person_sets_reads_and_outlives_their_status,
    the_team_is_the_callers_org_sorted_by_name_and_paged,
    another_org_with_the_same_emails_sees_only_its_own_people,
    do_not_disturb_is_not_rung_and_is_missed_with_reason_dnd,
    a_colleague_in_do_not_disturb_is_not_rung,
);

fn bob() -> String {
    app_token("bob@example.com", ORG)
}

impl TestApp {
    async fn set_status(&self, token: &str, body: Value) -> Value {
        let (status, answer) = self.put(STATUS, token, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    async fn team(&self, token: &str, query: &str) -> Value {
        let (status, body) = self.get(&format!("/phone/team{query}"), token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The emails of a team page, in order.
fn emails(page: &Value) -> Vec<&str> {
    page["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect()
}

fn person<'a>(page: &'a Value, email: &str) -> &'a Value {
    let people = page["people"].as_array().unwrap();
    people.iter().find(|p| p["email"] == email).unwrap()
}

/// Available and offline by default; with a live voice device available; `dnd` until a time
/// with a note, answered and read back; past the time available again without the note.
async fn a_person_sets_reads_and_outlives_their_status(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    let (status, me) = app.get(STATUS, &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["status"].clone(), me["effective"].clone()),
        (json!("available"), json!("offline"))
    );
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["name"], "Alice Adams");
    assert_eq!(me["identity"], ALICE);
    assert_eq!(me["devices"], json!({"online": 0, "push": 0}));

    app.register_with("alice@example.com", "laptop", &["voice"])
        .await;
    let (_, me) = app.get(STATUS, &token).await;
    assert_eq!(me["effective"], "available");
    assert_eq!(me["devices"], json!({"online": 1, "push": 0}));
    assert!(me["lastSeen"].as_i64().is_some());

    let until = now_s() + 3600;
    let set = app
        .set_status(
            &token,
            json!({"status": "dnd", "until": until, "note": " Focus time "}),
        )
        .await;
    assert_eq!(set["status"], "dnd");
    assert_eq!(set["effective"], "dnd");
    assert_eq!(set["until"], until);
    assert_eq!(set["note"], "Focus time");
    let (_, me) = app.get(STATUS, &token).await;
    assert_eq!(me, set, "read back as set");

    // An hour and a second later: available again, without the note (and the device, which
    // has not heartbeated since, is gone too).
    app.advance(Duration::from_secs(3601));
    let (_, me) = app.get(STATUS, &token).await;
    assert_eq!(me["status"], "available");
    assert_eq!(
        (me["until"].clone(), me["note"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(me["effective"], "offline");

    // Cleared by hand: away with no end, then available.
    app.set_status(&token, json!({"status": "away"})).await;
    let cleared = app.set_status(&token, json!({"status": "available"})).await;
    assert_eq!(cleared["status"], "available");
    assert_eq!(cleared["note"], Value::Null);
}

/// Every refusal names its field, and nothing is stored by it.
#[tokio::test]
async fn bad_statuses_are_refused_naming_the_field() {
    let app = spawn_app(StoreKind::Memory).await;
    let token = alice();
    let now = now_s();
    let cases = [
        (json!({"status": "busy"}), "status"),
        (json!({}), "status"),
        (json!({"status": null}), "status"),
        (json!({"status": ["dnd"]}), "status"),
        (json!({"status": "dnd", "until": now - 1}), "until"),
        (
            json!({"status": "dnd", "until": now + 31 * 86_400}),
            "until",
        ),
        (json!({"status": "dnd", "until": "later"}), "until"),
        (json!({"status": "available", "until": now + 60}), "until"),
        (json!({"status": "away", "note": 12}), "note"),
        (json!({"status": "away", "note": "n".repeat(101)}), "note"),
        (json!({"status": "away", "note": "line\nbreak"}), "note"),
        (json!({"status": "away", "colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let (status, answer) = app.put(STATUS, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, answer) = app.put(STATUS, &token, json!("dnd")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (_, me) = app.get(STATUS, &token).await;
    assert_eq!(me["status"], "available", "nothing was stored");
    let (status, _) = app
        .put(STATUS, "not-a-token", json!({"status": "dnd"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.post(STATUS, &token, json!({"status": "dnd"})).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The demo org's five people by name, each as their devices and status say; pages of two
/// follow `next`; a group is its members; an unknown group or `after` is refused.
async fn the_team_is_the_callers_org_sorted_by_name_and_paged(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    app.register_with("carol@example.com", "carol_tablet", &["sms"])
        .await;
    app.set_status(&bob(), json!({"status": "away", "note": "Lunch"}))
        .await;

    let page = app.team(&alice(), "").await;
    assert_eq!(
        emails(&page),
        [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "erin@example.com"
        ]
    );
    assert_eq!(page["next"], Value::Null);
    assert_eq!(person(&page, "alice@example.com")["effective"], "available");
    let bob_seen = person(&page, "bob@example.com");
    assert_eq!(
        (bob_seen["effective"].clone(), bob_seen["note"].clone()),
        (json!("away"), json!("Lunch"))
    );
    assert_eq!(bob_seen["identity"], BOB);
    assert_eq!(bob_seen["name"], "Bob Brown");
    // Carol's only device takes texts, not calls: offline, with one device online.
    let carol = person(&page, "carol@example.com");
    assert_eq!(carol["effective"], "offline");
    assert_eq!(carol["devices"], json!({"online": 1, "push": 0}));
    assert_eq!(person(&page, "dave@example.com")["effective"], "offline");

    let first = app.team(&alice(), "?limit=2").await;
    assert_eq!(emails(&first), ["alice@example.com", "bob@example.com"]);
    assert_eq!(first["next"], "bob@example.com");
    let second = app.team(&alice(), "?limit=2&after=bob@example.com").await;
    assert_eq!(emails(&second), ["carol@example.com", "dave@example.com"]);
    let last = app.team(&alice(), "?limit=2&after=dave@example.com").await;
    assert_eq!(emails(&last), ["erin@example.com"]);
    assert_eq!(last["next"], Value::Null);

    let support = app.team(&alice(), "?group=grp-support").await;
    assert_eq!(emails(&support), ["bob@example.com", "carol@example.com"]);

    let (status, body) = app.get("/phone/team?group=grp-nope", &alice()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = app
        .get("/phone/team?after=stranger@example.com", &alice())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "after");
    for limit in ["0", "501", "ten"] {
        let (status, body) = app
            .get(&format!("/phone/team?limit={limit}"), &alice())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["field"], "limit");
    }
}

/// Another org with the same emails: each org's team is its own people, and a status set in
/// one is not the other's, though the email is the same.
async fn another_org_with_the_same_emails_sees_only_its_own_people(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let other = r#"{"orgs": [{"orgId": "org_other", "users": [
        {"email": "alice@example.com", "name": "Alice Other"},
        {"email": "zed@example.com", "name": "Zed Zane"}]}]}"#;
    let directory = Directory::parse(other).unwrap();
    app.stores
        .directory
        .import(&directory, IdentityStyle::Safe)
        .await
        .unwrap();
    let other_alice = app_token("alice@example.com", "org_other");
    app.set_status(&other_alice, json!({"status": "dnd", "note": "Other org"}))
        .await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;

    let theirs = app.team(&other_alice, "").await;
    assert_eq!(emails(&theirs), ["alice@example.com", "zed@example.com"]);
    let their_alice = person(&theirs, "alice@example.com");
    assert_eq!(their_alice["name"], "Alice Other");
    assert_eq!(their_alice["status"], "dnd");
    assert_eq!(
        their_alice["effective"], "offline",
        "the demo org's device is not theirs"
    );

    let ours = app.team(&alice(), "").await;
    assert_eq!(emails(&ours).len(), 5);
    assert!(!emails(&ours).contains(&"zed@example.com"));
    let our_alice = person(&ours, "alice@example.com");
    assert_eq!(our_alice["status"], "available");
    assert_eq!(our_alice["effective"], "available");
    // Another org's group is no group of this one.
    let (status, _) = app.get("/phone/team?group=grp-sales", &other_alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Alice in do not disturb: her direct number goes to its voicemail without ringing her, and
/// her history says missed, `dnd`, with the `call.missed` she is told. Sales rings Bob alone;
/// with Bob in dnd too, Sales' fallback. `away` still rings.
async fn do_not_disturb_is_not_rung_and_is_missed_with_reason_dnd(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    assert_eq!(app.call(ALICE_DIRECT).await.clients(), [ALICE]);
    let start = app.start_cursor(&token).await;

    app.set_status(&token, json!({"status": "dnd"})).await;
    let twiml = app.call(ALICE_DIRECT).await;
    assert!(twiml.clients().is_empty(), "not rung: {}", twiml.xml);
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."], "{}", twiml.xml);
    let call = app.only_call(&token).await;
    assert_eq!(
        (call["outcome"].clone(), call["reason"].clone()),
        (json!("missed"), json!("dnd"))
    );
    let (events, _) = app.catch_up(&token, &start).await;
    let missed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "call.missed")
        .collect();
    assert_eq!(missed.len(), 1, "{events:?}");
    assert_eq!(missed[0]["data"]["reason"], "dnd");

    assert_eq!(
        app.call(SALES).await.clients(),
        [BOB],
        "the group rings the others"
    );
    app.set_status(&bob(), json!({"status": "dnd"})).await;
    let twiml = app.call(SALES).await;
    assert!(twiml.clients().is_empty(), "{}", twiml.xml);
    assert_eq!(
        twiml.texts("Say"),
        vec!["Sales is busy. Please leave a message."],
        "{}",
        twiml.xml
    );

    app.set_status(&token, json!({"status": "away"})).await;
    assert_eq!(
        app.call(ALICE_DIRECT).await.clients(),
        [ALICE],
        "away still rings"
    );
}

/// A colleague's call to Alice in do not disturb reaches her voicemail without ringing her.
async fn a_colleague_in_do_not_disturb_is_not_rung(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    let to_alice = app
        .place_call(&format!("client:{BOB}"), "alice@example.com", &[])
        .await;
    assert_eq!(to_alice.clients(), [ALICE], "{}", to_alice.xml);
    app.set_status(&alice(), json!({"status": "dnd"})).await;
    let twiml = app
        .place_call(&format!("client:{BOB}"), "alice@example.com", &[])
        .await;
    assert!(twiml.clients().is_empty(), "{}", twiml.xml);
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."], "{}", twiml.xml);
}
