//! Who is on a call, from Twilio's call-progress callbacks, and how routing uses it: a group
//! call skips busy members, a direct call rings or falls back as its number says. Everything
//! here goes through HTTP with signed callbacks, as Twilio would send them.

use std::time::Duration;

use reqwest::StatusCode;
use shared::twilio::signature::sign;

use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, ORG, StoreKind, TestApp, alice, app_token, spawn_app, spawn_app_with,
};
use crate::on_both_stores;
use crate::webhooks::{ALICE_DIRECT, BOB_DIRECT, SALES, counting_app};

const ALICE_ID: &str = "u_org_5Fdemo__alice_40example_2Ecom";
const BOB_ID: &str = "u_org_5Fdemo__bob_40example_2Ecom";
const CALL_A: &str = "CA0000000000000000000000000000000a";
const CALL_B: &str = "CA0000000000000000000000000000000b";

pub(crate) fn progress_params(
    call_sid: &str,
    status: &str,
    sequence: u32,
) -> Vec<(String, String)> {
    [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("ParentCallSid", "CAffffffffffffffffffffffffffffffff"),
        ("CallStatus", status),
        ("CallbackSource", "call-progress-events"),
        ("Direction", "outbound-dial"),
        ("SequenceNumber", &sequence.to_string()),
        ("Timestamp", "Sat, 21 Nov 2026 08:00:00 +0000"),
        ("From", "+14158675309"),
        ("To", "client:someone"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl TestApp {
    /// Post one call-progress callback to `url_path` (path and query, as the TwiML set it).
    async fn progress_at(&self, url_path: &str, call_sid: &str, status: &str, sequence: u32) {
        let params = progress_params(call_sid, status, sequence);
        let twiml = self.webhook(url_path, &params).await;
        assert!(
            twiml.verbs().is_empty(),
            "a callback answers an empty Response"
        );
    }

    /// A callback for a leg that rang `identity`.
    pub(crate) async fn progress(
        &self,
        identity: &str,
        call_sid: &str,
        status: &str,
        sequence: u32,
    ) {
        let path = format!("/phone/voice/call-status?org={ORG}&identity={identity}");
        self.progress_at(&path, call_sid, status, sequence).await;
    }

    async fn on_call(&self, token: &str) -> (bool, Option<i64>) {
        let (status, body) = self.get("/phone/voice/devices", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (
            body["onCall"].as_bool().unwrap(),
            body["onCallSince"].as_i64(),
        )
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

on_both_stores!(
    an_answered_member_is_skipped_until_the_call_completes,
    when_every_live_member_is_busy_the_group_falls_back_at_once,
    a_direct_call_rings_a_busy_user_or_falls_back_as_the_number_says,
    late_duplicate_and_out_of_order_callbacks_converge,
    an_agent_on_an_outgoing_call_is_skipped_by_group_calls,
);

async fn live_pair(kind: StoreKind) -> TestApp {
    let app = spawn_app(kind).await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    app
}

async fn an_answered_member_is_skipped_until_the_call_completes(kind: StoreKind) {
    let app = live_pair(kind).await;
    assert_eq!(sorted(app.call(SALES).await.clients()), [ALICE_ID, BOB_ID]);
    // Every rung leg reports back, naming its identity.
    let twiml = app.call(SALES).await;
    let callback = twiml.attr("Client", "statusCallback").unwrap();
    assert!(
        callback.contains("/phone/voice/call-status?org=org_demo&identity=u_org_5Fdemo__"),
        "{callback}"
    );
    assert_eq!(
        twiml.attr("Client", "statusCallbackEvent").as_deref(),
        Some("answered completed")
    );

    app.progress(BOB_ID, CALL_A, "in-progress", 2).await;
    assert_eq!(app.call(SALES).await.clients(), [ALICE_ID], "Bob is busy");
    let (on_call, since) = app.on_call(&app_token("bob@example.com", ORG)).await;
    assert!(on_call);
    assert!(
        since.is_some_and(|ms| ms > 1_700_000_000_000),
        "since when: {since:?}"
    );
    assert_eq!(app.on_call(&alice()).await, (false, None));

    app.progress(BOB_ID, CALL_A, "completed", 3).await;
    assert_eq!(
        sorted(app.call(SALES).await.clients()),
        [ALICE_ID, BOB_ID],
        "Bob is free again"
    );
}

async fn when_every_live_member_is_busy_the_group_falls_back_at_once(kind: StoreKind) {
    let app = live_pair(kind).await;
    app.progress(ALICE_ID, CALL_A, "in-progress", 1).await;
    app.progress(BOB_ID, CALL_B, "in-progress", 1).await;
    let twiml = app.call(SALES).await;
    assert_eq!(
        twiml.verbs(),
        vec!["Say", "Record", "Hangup"],
        "{}",
        twiml.xml
    );
    assert_eq!(
        twiml.texts("Say"),
        vec!["Sales is busy. Please leave a message."]
    );
}

async fn a_direct_call_rings_a_busy_user_or_falls_back_as_the_number_says(kind: StoreKind) {
    let app = live_pair(kind).await;
    app.progress(ALICE_ID, CALL_A, "in-progress", 1).await;
    app.progress(BOB_ID, CALL_B, "in-progress", 1).await;
    // Alice's number: whenBusy ring (the default), so she decides.
    assert_eq!(app.call(ALICE_DIRECT).await.clients(), [ALICE_ID]);
    // Bob's number: whenBusy fallback, straight to his voicemail.
    let twiml = app.call(BOB_DIRECT).await;
    assert_eq!(
        twiml.verbs(),
        vec!["Say", "Record", "Hangup"],
        "{}",
        twiml.xml
    );
    app.progress(BOB_ID, CALL_B, "completed", 2).await;
    assert_eq!(app.call(BOB_DIRECT).await.clients(), [BOB_ID]);
}

async fn late_duplicate_and_out_of_order_callbacks_converge(kind: StoreKind) {
    let app = live_pair(kind).await;
    let bob = app_token("bob@example.com", ORG);
    // Completed overtakes answered: the late answered must not make Bob busy.
    app.progress(BOB_ID, CALL_A, "completed", 3).await;
    app.progress(BOB_ID, CALL_A, "in-progress", 2).await;
    assert!(!app.on_call(&bob).await.0, "late answered after completed");
    // Duplicates: twice answered, twice completed.
    app.progress(BOB_ID, CALL_B, "in-progress", 1).await;
    let since = app.on_call(&bob).await.1;
    app.progress(BOB_ID, CALL_B, "in-progress", 1).await;
    assert_eq!(
        app.on_call(&bob).await,
        (true, since),
        "a duplicate keeps the first answer"
    );
    // Two calls at once: ending one leaves the other.
    app.progress(
        BOB_ID,
        "CA0000000000000000000000000000000c",
        "in-progress",
        1,
    )
    .await;
    app.progress(BOB_ID, CALL_B, "completed", 2).await;
    app.progress(BOB_ID, CALL_B, "completed", 2).await;
    assert!(app.on_call(&bob).await.0, "still on the other call");
    app.progress(BOB_ID, "CA0000000000000000000000000000000c", "no-answer", 2)
        .await;
    assert!(!app.on_call(&bob).await.0);
    // Events that change nothing, and callbacks that name nobody, are answered and ignored.
    app.progress(BOB_ID, CALL_B, "ringing", 0).await;
    app.progress_at("/phone/voice/call-status", CALL_B, "in-progress", 1)
        .await;
    app.progress_at(
        "/phone/voice/call-status?org=org_demo&identity=alice",
        CALL_B,
        "in-progress",
        1,
    )
    .await;
    assert!(!app.on_call(&alice()).await.0);
}

async fn an_agent_on_an_outgoing_call_is_skipped_by_group_calls(kind: StoreKind) {
    let app = live_pair(kind).await;
    let twiml = app
        .place_call(
            "client:u_org_5Fdemo__alice_40example_2Ecom",
            "+14155559999",
            &[],
        )
        .await;
    let callback = twiml.attr("Number", "statusCallback").unwrap();
    let path = callback.strip_prefix(&app.base).unwrap().to_owned();
    app.progress_at(&path, CALL_A, "in-progress", 1).await;
    assert_eq!(
        app.call(SALES).await.clients(),
        [BOB_ID],
        "Alice is on her own call"
    );
    app.progress_at(&path, CALL_A, "completed", 2).await;
    assert_eq!(sorted(app.call(SALES).await.clients()), [ALICE_ID, BOB_ID]);
}

#[tokio::test]
async fn a_lost_completed_expires_after_max_call_seconds() {
    for kind in [StoreKind::Memory, StoreKind::Dynamo] {
        // Three seconds, not one: the callback and the next call must both land before the row
        // expires, and on a loaded machine against moto they can take over a second.
        let app = spawn_app_with(kind, &[("MAX_CALL_SECONDS", "3")]).await;
        app.register_with("alice@example.com", "alice_web", &["voice"])
            .await;
        app.register_with("bob@example.com", "bob_web", &["voice"])
            .await;
        app.progress(BOB_ID, CALL_A, "in-progress", 1).await;
        assert_eq!(app.call(SALES).await.clients(), [ALICE_ID]);
        // Expiry has whole-second resolution: past the next second boundary plus one.
        app.advance(Duration::from_millis(4100));
        assert_eq!(
            sorted(app.call(SALES).await.clients()),
            [ALICE_ID, BOB_ID],
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn callbacks_are_signed_like_every_webhook() {
    let (app, counting) = counting_app().await;
    counting.reset();
    let path = format!("/phone/voice/call-status?org={ORG}&identity={BOB_ID}");
    let params = progress_params(CALL_A, "in-progress", 1);
    let (status, _) = app.webhook_with(&path, &params, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Signed for another identity in the query: the URL is part of what is signed.
    let forged = sign(
        AUTH_TOKEN,
        &format!(
            "{}/phone/voice/call-status?org={ORG}&identity={ALICE_ID}",
            app.base
        ),
        &params,
    );
    let (status, _) = app.webhook_with(&path, &params, Some(forged)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(counting.calls(), 0, "refused callbacks touch nothing");
}
