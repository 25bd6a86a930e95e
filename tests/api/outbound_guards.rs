//! The outbound guards, for texts and calls alike: where a user may text or call (their org's
//! regions by libphonenumber's metadata, never a premium line unless the org allows it; a reply
//! reaches any region) and how many (per-user budgets). Every refusal comes before Twilio: the
//! fake Twilio receives nothing, and a refused call hears why and is hung up.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::directory::Directory;

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{DEMO_DIRECTORY, StoreKind, TestApp, alice, spawn_app_with};
use crate::on_both_stores;
use crate::sms::{CUSTOMER, SALES_ID};
use crate::webhooks::{SALES, Twiml};

const ALICE: &str = "client:u_org_5Fdemo__alice_40example_2Ecom";
/// A premium-rate number in the org's own region (US).
const PREMIUM_US: &str = "+19005551234";
/// Jamaica: `+1` like the org's numbers, but another region.
const JAMAICA: &str = "+18765551234";
const LONDON: &str = "+442079460000";

on_both_stores!(
    premium_numbers_are_refused_for_texts_and_calls,
    a_region_that_shares_the_calling_code_is_refused_until_the_org_allows_it,
    a_reply_to_a_conversation_the_other_party_started_reaches_any_region_but_no_premium_line,
    the_text_after_the_minutes_budget_is_429_with_retry_after_and_never_reaches_twilio,
    texts_to_new_recipients_are_limited_per_day_and_known_parties_are_not,
    calls_over_the_minutes_budget_hear_why_and_are_hung_up,
);

async fn guarded_app(kind: StoreKind, overrides: &[(&str, &str)]) -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let mut settings = vec![("TWILIO_API_BASE_URL", twilio.base.as_str())];
    settings.extend_from_slice(overrides);
    (spawn_app_with(kind, &settings).await, twilio)
}

/// A text from Alice on the Sales number; the whole answer, headers included.
async fn send(app: &TestApp, to: &str, id: &str) -> (StatusCode, Option<u64>, Value) {
    let response = app
        .http
        .post(format!("{}/phone/sms/send", app.base))
        .bearer_auth(alice())
        .json(&json!({"phoneId": SALES_ID, "to": to, "body": "hello", "clientMessageId": id}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn assert_not_allowed(answer: &(StatusCode, Option<u64>, Value), reason: &str) {
    let (status, _, body) = answer;
    assert_eq!(*status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "destination_not_allowed", "{body}");
    assert_eq!(body["error"]["reason"], reason, "{body}");
}

/// Spoken, then hung up; nothing dialled.
fn assert_hung_up(twiml: &Twiml, words: &str) {
    assert_eq!(twiml.verbs(), vec!["Say", "Hangup"], "{}", twiml.xml);
    let said = twiml.texts("Say").join(" ");
    assert!(said.contains(words), "{said:?} should say {words:?}");
}

/// The demo directory with `outbound` set on its org.
async fn import_with_outbound(app: &TestApp, outbound: Value) {
    let mut file: Value = serde_json::from_str(DEMO_DIRECTORY).unwrap();
    file["orgs"][0]["outbound"] = outbound;
    let directory = Directory::parse(&file.to_string()).unwrap();
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
}

/// Moves `app`'s clock to just past the start of the next minute, so that a test of a
/// per-minute budget runs in one window (the server's minute, not the wall clock's).
fn at_a_minutes_start(app: &TestApp) {
    let into = u64::try_from(app.clock.now_ms().rem_euclid(60_000)).unwrap();
    app.advance(Duration::from_millis(60_000 - into + 100));
}

async fn premium_numbers_are_refused_for_texts_and_calls(kind: StoreKind) {
    let (app, twilio) = guarded_app(kind, &[]).await;
    assert_not_allowed(&send(&app, PREMIUM_US, "p-1").await, "premium");
    // France's 089 premium range: the metadata knows it, whatever the org allows.
    assert_not_allowed(&send(&app, "+33891234567", "p-2").await, "premium");
    assert_eq!(twilio.sends().len(), 0, "Twilio never asked");
    let twiml = app.place_call(ALICE, PREMIUM_US, &[]).await;
    assert_hung_up(&twiml, "premium-rate numbers are not allowed");

    // An org that allows premium lines reaches them (in its own regions).
    import_with_outbound(&app, json!({"allowPremium": true})).await;
    let (status, _, body) = send(&app, PREMIUM_US, "p-3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let twiml = app.place_call(ALICE, PREMIUM_US, &[]).await;
    assert_eq!(twiml.texts("Number"), vec![PREMIUM_US], "{}", twiml.xml);
}

async fn a_region_that_shares_the_calling_code_is_refused_until_the_org_allows_it(kind: StoreKind) {
    let (app, twilio) = guarded_app(kind, &[]).await;
    // The demo org's numbers are all in the US: Jamaica is +1 too, and not allowed.
    let answer = send(&app, JAMAICA, "jm-1").await;
    assert_not_allowed(&answer, "region");
    assert!(
        answer.2["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JM")
    );
    assert_not_allowed(&send(&app, LONDON, "gb-1").await, "region");
    assert_eq!(twilio.sends().len(), 0);
    let twiml = app.place_call(ALICE, JAMAICA, &[]).await;
    assert_hung_up(&twiml, "not allowed");
    // The US itself stays allowed.
    let twiml = app.place_call(ALICE, "+12125550100", &[]).await;
    assert_eq!(twiml.verbs(), vec!["Dial"], "{}", twiml.xml);

    import_with_outbound(&app, json!({"allowRegions": ["US", "JM"]})).await;
    let (status, _, body) = send(&app, JAMAICA, "jm-2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(twilio.sends().len(), 1);
    let twiml = app.place_call(ALICE, JAMAICA, &[]).await;
    assert_eq!(twiml.texts("Number"), vec![JAMAICA], "{}", twiml.xml);
    // Listing regions replaces the default: those not listed stay refused.
    assert_not_allowed(&send(&app, LONDON, "gb-2").await, "region");
}

async fn a_reply_to_a_conversation_the_other_party_started_reaches_any_region_but_no_premium_line(
    kind: StoreKind,
) {
    let (app, twilio) = guarded_app(kind, &[]).await;
    app.text(1, LONDON, SALES, "Do you ship to London?").await;
    let (status, _, body) = send(&app, LONDON, "r-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(twilio.sends().len(), 1);
    assert_eq!(twilio.sends()[0].field("To"), Some(LONDON));
    // Another London number, which never wrote: not a reply.
    assert_not_allowed(&send(&app, "+442079460001", "r-2").await, "region");
    // A premium line that texts first is still a premium line (SMS pumping).
    app.text(2, PREMIUM_US, SALES, "You won! Reply YES").await;
    assert_not_allowed(&send(&app, PREMIUM_US, "r-3").await, "premium");
    assert_eq!(twilio.sends().len(), 1);
}

async fn the_text_after_the_minutes_budget_is_429_with_retry_after_and_never_reaches_twilio(
    kind: StoreKind,
) {
    // The default budget: 30 texts a minute per user.
    let (app, twilio) = guarded_app(kind, &[]).await;
    at_a_minutes_start(&app);
    for n in 1..=30 {
        let (status, _, body) = send(&app, CUSTOMER, &format!("burst-{n}")).await;
        assert_eq!(status, StatusCode::OK, "text {n}: {body}");
    }
    let (status, retry_after, body) = send(&app, CUSTOMER, "burst-31").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["reason"], "texts_per_minute");
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(twilio.sends().len(), 30, "the 31st never reached Twilio");
    // A retry of a text that went out is answered as before: the budget does not refuse it.
    let (status, _, again) = send(&app, CUSTOMER, "burst-30").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(twilio.sends().len(), 30);
}

async fn texts_to_new_recipients_are_limited_per_day_and_known_parties_are_not(kind: StoreKind) {
    let (app, twilio) = guarded_app(kind, &[("OUTBOUND_NEW_RECIPIENTS_PER_DAY", "2")]).await;
    app.text(1, CUSTOMER, SALES, "Hi there").await;
    for (n, to) in ["+12125550101", "+12125550102"].iter().enumerate() {
        let (status, _, body) = send(&app, to, &format!("new-{n}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, retry_after, body) = send(&app, "+12125550103", "new-3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["reason"], "new_recipients_per_day");
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    assert_eq!(twilio.sends().len(), 2);
    // A party who wrote first, and one already texted today, are no new recipients.
    for (id, to) in [("known-1", CUSTOMER), ("known-2", "+12125550101")] {
        let (status, _, body) = send(&app, to, id).await;
        assert_eq!(status, StatusCode::OK, "{to}: {body}");
    }
    assert_eq!(twilio.sends().len(), 4);
}

async fn calls_over_the_minutes_budget_hear_why_and_are_hung_up(kind: StoreKind) {
    let (app, _twilio) = guarded_app(kind, &[("OUTBOUND_CALLS_PER_MINUTE", "2")]).await;
    at_a_minutes_start(&app);
    // A refused destination is no call placed: it counts nothing.
    assert_hung_up(&app.place_call(ALICE, PREMIUM_US, &[]).await, "premium");
    for to in ["+12125550101", "+12125550102"] {
        let twiml = app.place_call(ALICE, to, &[]).await;
        assert_eq!(twiml.verbs(), vec!["Dial"], "{}", twiml.xml);
    }
    let twiml = app.place_call(ALICE, "+12125550103", &[]).await;
    assert_hung_up(&twiml, "too many calls");
    // Colleagues are no toll: an internal call is not counted, nor refused.
    let twiml = app.place_call(ALICE, "bob@example.com", &[]).await;
    assert_ne!(twiml.verbs(), vec!["Say", "Hangup"], "{}", twiml.xml);
}
