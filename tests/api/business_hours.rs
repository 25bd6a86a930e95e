//! Business hours (issue 29): a call while the number is closed rings nobody, goes to the hours'
//! `whenClosed` (else the number's own fallback or voicemail), and is a missed call, `closed`,
//! with its `call.missed`; a number's own hours win over its group's. Which moments are open
//! (weekdays, midnight, dates, daylight saving in two hemispheres) is unit-tested with a clock
//! in `shared/src/directory/hours.rs`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, alice, spawn_app};
use crate::on_both_stores;

const ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";
const ALICE_DIRECT: &str = "+14155550001";
const SALES: &str = "+14155551234";

on_both_stores!(
    a_closed_number_rings_nobody_and_is_missed_as_closed,
    a_numbers_own_hours_win_over_its_groups,
);

/// Open every minute of every day.
fn always_open() -> Value {
    let day = json!([["00:00", "24:00"]]);
    json!({"timeZone": "Europe/Berlin", "weekly": {
        "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day}})
}

/// No day with a range: closed at every moment.
fn always_closed(when_closed: Option<Value>) -> Value {
    let mut hours = json!({"timeZone": "America/New_York", "weekly": {}});
    if let Some(fallback) = when_closed {
        hours["whenClosed"] = fallback;
    }
    hours
}

/// The demo directory with `hours` set on the phones and groups named.
async fn with_hours(app: &TestApp, phones: &[(&str, Value)], groups: &[(&str, Value)]) {
    app.import_demo_with(|org| {
        for (list, set) in [("phones", phones), ("groups", groups)] {
            for (id, hours) in set {
                let records = org[list].as_array_mut().unwrap();
                let record = records.iter_mut().find(|r| r["id"] == *id).unwrap();
                record["hours"] = hours.clone();
            }
        }
    })
    .await;
}

async fn a_closed_number_rings_nobody_and_is_missed_as_closed(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    let closed = json!({"type": "hangup", "message": "We are closed. Please call back tomorrow."});
    with_hours(&app, &[("phone-alice", always_closed(Some(closed)))], &[]).await;
    let start = app.start_cursor(&token).await;

    let twiml = app.call(ALICE_DIRECT).await;
    assert!(twiml.clients().is_empty(), "nobody rung: {}", twiml.xml);
    assert_eq!(
        twiml.texts("Say"),
        vec!["We are closed. Please call back tomorrow."],
        "{}",
        twiml.xml
    );
    let call = app.only_call(&token).await;
    assert_eq!(
        (call["outcome"].clone(), call["reason"].clone()),
        (json!("missed"), json!("closed"))
    );
    let (events, _) = app.catch_up(&token, &start).await;
    let missed: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "call.missed")
        .collect();
    assert_eq!(missed.len(), 1, "{events:?}");
    assert_eq!(missed[0]["data"]["reason"], "closed");

    // A colleague calling the number while it is closed: the same.
    let bob = "client:u_org_5Fdemo__bob_40example_2Ecom";
    let twiml = app.place_call(bob, ALICE_DIRECT, &[]).await;
    assert!(twiml.clients().is_empty(), "{}", twiml.xml);
    assert_eq!(
        twiml.texts("Say"),
        vec!["We are closed. Please call back tomorrow."],
        "{}",
        twiml.xml
    );

    // Without `whenClosed`: the number's own voicemail.
    with_hours(&app, &[("phone-alice", always_closed(None))], &[]).await;
    let twiml = app.call(ALICE_DIRECT).await;
    assert!(twiml.clients().is_empty(), "{}", twiml.xml);
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."], "{}", twiml.xml);

    // Open: rung as before.
    with_hours(&app, &[("phone-alice", always_open())], &[]).await;
    assert_eq!(app.call(ALICE_DIRECT).await.clients(), [ALICE]);
    let (status, _) = app.get("/phone/calls", &token).await;
    assert_eq!(status, StatusCode::OK);
}

/// Sales' group is closed, but the Sales number keeps hours of its own (open): it rings; and
/// the other way round, the number's closed hours win over its group's open ones.
async fn a_numbers_own_hours_win_over_its_groups(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    with_hours(
        &app,
        &[("phone-sales", always_open())],
        &[("grp-sales", always_closed(None))],
    )
    .await;
    assert_eq!(
        app.call(SALES).await.clients(),
        [ALICE],
        "the number's own hours"
    );

    with_hours(
        &app,
        &[("phone-sales", always_closed(None))],
        &[("grp-sales", always_open())],
    )
    .await;
    let twiml = app.call(SALES).await;
    assert!(twiml.clients().is_empty(), "{}", twiml.xml);
    assert_eq!(
        twiml.texts("Say"),
        vec!["Sales is busy. Please leave a message."],
        "the group's fallback: {}",
        twiml.xml
    );
    // Only the group's hours (closed), the number without any: closed.
    with_hours(&app, &[], &[("grp-sales", always_closed(None))]).await;
    assert!(app.call(SALES).await.clients().is_empty());
}
