//! Ring strategies (issue 29): a `sequential` group rings its callable members in the listed
//! order, `batchSize` at a time, each step for `memberRingSeconds`; each step's `<Dial action>`
//! (signed, carrying where the next step starts) decides the next, as Twilio drives it here:
//! the incoming webhook, then each action posted with `DialCallStatus`.

use std::time::Duration;

use serde_json::{Value, json};
use shared::domain::IdentityStyle;

use crate::call_history::call_sid;
use crate::helpers::{ORG, StoreKind, TestApp, alice, app_token, spawn_app};
use crate::on_both_stores;
use crate::webhooks::{SALES, Twiml, call_params};

const ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";
const BOB: &str = "u_org_5Fdemo__bob_40example_2Ecom";
const CAROL: &str = "u_org_5Fdemo__carol_40example_2Ecom";

on_both_stores!(
    a_sequential_group_rings_one_member_after_another_then_falls_back,
    an_answer_ends_the_chain_and_the_ring_timeout_bounds_it,
    uncallable_members_are_passed_over_and_batches_ring_together,
    round_robin_starts_each_call_one_member_further_even_when_concurrent,
    longest_idle_rings_whoever_waited_longest_first,
    a_simultaneous_group_of_25_rings_in_waves_of_10_10_and_5,
    the_history_shows_who_each_step_rang_and_who_answered,
);

/// The demo directory with Sales as `members` and the group's `fields` set.
async fn sales_with(app: &TestApp, members: &[String], fields: Value, extra_users: &[String]) {
    app.import_demo_with(|org| {
        let users = org["users"].as_array_mut().unwrap();
        users.extend(extra_users.iter().map(|email| json!({"email": email})));
        let groups = org["groups"].as_array_mut().unwrap();
        let sales = groups.iter_mut().find(|g| g["id"] == "grp-sales").unwrap();
        sales["members"] = json!(members);
        for (k, v) in fields.as_object().unwrap() {
            sales[k] = v.clone();
        }
    })
    .await;
}

fn identity_of(email: &str) -> String {
    let org = shared::domain::OrgId::parse_field(ORG, "org").unwrap();
    let email = shared::domain::Email::parse_field(email, "email").unwrap();
    shared::domain::Identity::for_person(&org, &email, IdentityStyle::Safe)
        .unwrap()
        .to_string()
}

/// Sales as a sequential group of Alice, Bob and Carol, all three live.
async fn sequential_sales(app: &TestApp, batch: u32) {
    let members = ["alice@example.com", "bob@example.com", "carol@example.com"].map(String::from);
    let fields = json!({"strategy": "sequential", "memberRingSeconds": 10, "batchSize": batch});
    sales_with(app, &members, fields, &[]).await;
    for email in &members {
        app.register_with(email, &format!("{}_web", &email[..3]), &["voice"])
            .await;
    }
}

/// The step's `<Dial action>` posted as Twilio posts it when the dial ends with `status`.
async fn step_ended(app: &TestApp, twiml: &Twiml, status: &str) -> Twiml {
    let action = twiml.attr("Dial", "action").expect("a dial with an action");
    assert!(action.contains("kind=step"), "{action}");
    let mut params = call_params(SALES);
    params.push(("DialCallStatus".into(), status.into()));
    app.follow(&action, &params).await
}

async fn a_sequential_group_rings_one_member_after_another_then_falls_back(kind: StoreKind) {
    let app = spawn_app(kind).await;
    sequential_sales(&app, 1).await;
    let first = app.call(SALES).await;
    assert_eq!(first.clients(), [ALICE], "{}", first.xml);
    assert_eq!(first.attr("Dial", "timeout").as_deref(), Some("10"));
    let second = step_ended(&app, &first, "no-answer").await;
    assert_eq!(second.clients(), [BOB], "{}", second.xml);
    let third = step_ended(&app, &second, "busy").await;
    assert_eq!(third.clients(), [CAROL], "{}", third.xml);
    let last = step_ended(&app, &third, "no-answer").await;
    assert!(last.clients().is_empty(), "{}", last.xml);
    assert_eq!(
        last.texts("Say"),
        vec!["Sales is busy. Please leave a message."],
        "the group's fallback: {}",
        last.xml
    );
    let call = app.only_call(&alice()).await;
    assert_eq!(
        (call["outcome"].clone(), call["reason"].clone()),
        (json!("missed"), json!("no_answer"))
    );
}

async fn an_answer_ends_the_chain_and_the_ring_timeout_bounds_it(kind: StoreKind) {
    let app = spawn_app(kind).await;
    sequential_sales(&app, 1).await;
    let first = app.call(SALES).await;
    let second = step_ended(&app, &first, "no-answer").await;
    let answered = step_ended(&app, &second, "completed").await;
    assert_eq!(answered.verbs(), vec!["Hangup"], "{}", answered.xml);

    // The group's 25 s ring timeout: after it, no further step, the fallback.
    let first = app.call(SALES).await;
    app.advance(Duration::from_secs(26));
    let over = step_ended(&app, &first, "no-answer").await;
    assert!(over.clients().is_empty(), "{}", over.xml);
    // Within it, a step rings what is left of it.
    let first = app.call(SALES).await;
    app.advance(Duration::from_secs(20));
    let short = step_ended(&app, &first, "no-answer").await;
    assert_eq!(short.clients(), [BOB]);
    assert_eq!(short.attr("Dial", "timeout").as_deref(), Some("5"));
}

async fn uncallable_members_are_passed_over_and_batches_ring_together(kind: StoreKind) {
    let app = spawn_app(kind).await;
    sequential_sales(&app, 1).await;
    let bob = app_token("bob@example.com", ORG);
    app.put("/phone/presence/status", &bob, json!({"status": "dnd"}))
        .await;
    let first = app.call(SALES).await;
    assert_eq!(first.clients(), [ALICE]);
    let second = step_ended(&app, &first, "no-answer").await;
    assert_eq!(
        second.clients(),
        [CAROL],
        "Bob, in do not disturb, is passed over"
    );

    let app = spawn_app(kind).await;
    sequential_sales(&app, 2).await;
    let first = app.call(SALES).await;
    assert_eq!(
        first.clients(),
        [ALICE, BOB],
        "two at a time, in the listed order"
    );
    let second = step_ended(&app, &first, "no-answer").await;
    assert_eq!(second.clients(), [CAROL]);
}

/// Five members, twenty calls at once: each call starts one member further (one atomic turn
/// each), so each member is the first to ring for four of them.
async fn round_robin_starts_each_call_one_member_further_even_when_concurrent(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let emails: Vec<String> = ["alice", "bob", "carol", "dave", "erin"]
        .iter()
        .map(|n| format!("{n}@example.com"))
        .collect();
    sales_with(&app, &emails, json!({"strategy": "roundRobin"}), &[]).await;
    for email in &emails {
        app.register_with(email, &format!("{}_web", &email[..3]), &["voice"])
            .await;
    }
    let calls = (0..20).map(|_| app.call(SALES));
    let firsts: Vec<String> = futures::future::join_all(calls)
        .await
        .iter()
        .map(|twiml| twiml.clients().first().cloned().expect("someone rings"))
        .collect();
    for email in &emails {
        let n = firsts.iter().filter(|f| **f == identity_of(email)).count();
        assert_eq!(n, 4, "{email} starts {n} of 20: {firsts:?}");
    }
    // Each call rings one member at a time, in the turned order.
    let twiml = app.call(SALES).await;
    assert_eq!(
        twiml.clients(),
        [ALICE],
        "the 21st call starts with the first again"
    );
    let next = step_ended(&app, &twiml, "no-answer").await;
    assert_eq!(next.clients(), [BOB]);
}

/// Carol never had a call; Alice's ended before Bob's: Carol, then Alice, then Bob.
async fn longest_idle_rings_whoever_waited_longest_first(kind: StoreKind) {
    let app = spawn_app(kind).await;
    sequential_sales(&app, 1).await;
    sales_with(
        &app,
        &[
            "alice@example.com".into(),
            "bob@example.com".into(),
            "carol@example.com".into(),
        ],
        json!({"strategy": "longestIdle", "memberRingSeconds": 10}),
        &[],
    )
    .await;
    for (identity, sid) in [
        (ALICE, "CA00000000000000000000000000000a11"),
        (BOB, "CA00000000000000000000000000000b0b"),
    ] {
        app.progress(identity, sid, "in-progress", 1).await;
        app.advance(Duration::from_secs(1));
        app.progress(identity, sid, "completed", 2).await;
        app.advance(Duration::from_secs(1));
    }
    let first = app.call(SALES).await;
    assert_eq!(first.clients(), [CAROL], "never called: first");
    let second = step_ended(&app, &first, "no-answer").await;
    assert_eq!(second.clients(), [ALICE], "her call ended longest ago");
    let third = step_ended(&app, &second, "no-answer").await;
    assert_eq!(third.clients(), [BOB]);
}

/// A simultaneous group of 25 callable members: waves of ten in the listed order, each for
/// `memberRingSeconds`; with only eight callable, all eight at once for the ring timeout.
async fn a_simultaneous_group_of_25_rings_in_waves_of_10_10_and_5(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let emails: Vec<String> = (0..25)
        .map(|i| format!("agent{i:02}@example.com"))
        .collect();
    sales_with(
        &app,
        &emails,
        json!({"memberRingSeconds": 8, "ringTimeoutSeconds": 60}),
        &emails,
    )
    .await;
    for email in emails.iter().take(8) {
        app.register_with(email, &format!("{}_web", &email[..7]), &["voice"])
            .await;
    }
    let few = app.call(SALES).await;
    assert_eq!(few.clients().len(), 8, "{}", few.xml);
    assert_eq!(few.attr("Dial", "timeout").as_deref(), Some("60"));
    for email in emails.iter().skip(8) {
        app.register_with(email, &format!("{}_web", &email[..7]), &["voice"])
            .await;
    }
    let ids: Vec<String> = emails.iter().map(|e| identity_of(e)).collect();
    let first = app.call(SALES).await;
    assert_eq!(first.clients(), ids[..10], "{}", first.xml);
    assert_eq!(first.attr("Dial", "timeout").as_deref(), Some("8"));
    let second = step_ended(&app, &first, "no-answer").await;
    assert_eq!(second.clients(), ids[10..20]);
    let third = step_ended(&app, &second, "no-answer").await;
    assert_eq!(third.clients(), ids[20..]);
    let last = step_ended(&app, &third, "no-answer").await;
    assert!(last.clients().is_empty(), "{}", last.xml);
}

/// "It rang Alice, then Bob; Bob answered after 12 s", as every member's history shows it,
/// however often the callbacks come.
async fn the_history_shows_who_each_step_rang_and_who_answered(kind: StoreKind) {
    let app = spawn_app(kind).await;
    sequential_sales(&app, 1).await;
    let sid = call_sid(0x5e9);
    let first = app.ring(&sid, SALES).await;
    app.advance(Duration::from_secs(10));
    let second = app.dial_ended(&first, &sid, SALES, "no-answer").await;
    assert_eq!(second.clients(), [BOB]);
    app.advance(Duration::from_secs(2));
    app.leg(&second, &sid, &format!("client:{BOB}"), "in-progress", 0)
        .await;
    app.advance(Duration::from_secs(42));
    for _ in 0..2 {
        let ended = app.dial_ended(&second, &sid, SALES, "completed").await;
        assert_eq!(ended.verbs(), vec!["Hangup"]);
    }
    for email in ["alice@example.com", "carol@example.com"] {
        let call = app.only_call(&app_token(email, ORG)).await;
        let started = call["startedAt"].as_i64().unwrap();
        // The test's clock is moved on by hand and runs on with real time between requests.
        let after = |at: &Value| at.as_i64().unwrap() - started;
        let steps = call["offeredTo"].as_array().unwrap();
        let who: Vec<&Value> = steps.iter().map(|s| &s["to"]).collect();
        assert_eq!(
            who,
            [&json!(["alice@example.com"]), &json!(["bob@example.com"])],
            "{email}: {call}"
        );
        assert_eq!(
            (steps[0]["step"].clone(), after(&steps[0]["at"])),
            (json!(1), 0)
        );
        assert_eq!(steps[1]["step"], json!(2));
        assert!((10_000..11_000).contains(&after(&steps[1]["at"])), "{call}");
        assert_eq!(call["answeredBy"]["identity"], json!(BOB));
        assert!(
            (12_000..13_000).contains(&after(&call["answeredAt"])),
            "{call}"
        );
        assert_eq!(call["outcome"], json!("answered"));
    }
}
