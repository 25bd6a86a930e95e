//! The SMS reconciler against the fake Twilio's message list: texts both webhook URLs missed
//! are stored and told once, media included, across pages; a second run finds nothing new.

use reqwest::StatusCode;
use serde_json::Value;
use shared::domain::IdentityStyle;
use shared::inbox::reconcile::reconcile;
use shared::twilio::rest::{RestConfig, TwilioRest};

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{
    ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, ORG, StoreKind, alice, app_token, spawn_app_with,
};
use crate::on_both_stores;
use crate::sms::{CUSTOMER, SALES_ID};
use crate::webhooks::SALES;

on_both_stores!(missed_texts_are_stored_and_told_once_across_pages);

fn rest(twilio: &FakeTwilio) -> TwilioRest {
    let config = RestConfig {
        base_url: twilio.base.clone(),
        account_sid: ACCOUNT_SID.into(),
        api_key_sid: API_KEY_SID.into(),
        api_key_secret: API_KEY_SECRET.to_owned().into(),
    };
    TwilioRest::new(config, std::time::Duration::from_secs(5))
}

async fn missed_texts_are_stored_and_told_once_across_pages(kind: StoreKind) {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(kind, &[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    let bob = app_token("bob@example.com", ORG);
    let start = app.start_cursor(&bob).await;
    // One text the webhook stored, then Twilio's list: it, two the webhooks missed (one an
    // MMS), and more than a page of another customer's texts.
    let date = "Tue, 01 Dec 2026 09:00:00 +0000";
    let stored = twilio.add_inbound(CUSTOMER, SALES, "seen by the webhook", date, &[]);
    let params = crate::sms::sms_params(&stored, CUSTOMER, SALES, "seen by the webhook");
    let (status, _) = app.sms_webhook("/phone/sms/incoming", &params).await;
    assert_eq!(status, StatusCode::OK);
    twilio.add_inbound(
        CUSTOMER,
        SALES,
        "missed while down",
        "Tue, 01 Dec 2026 09:01:00 +0000",
        &[],
    );
    let mms = twilio.add_inbound(
        CUSTOMER,
        SALES,
        "",
        "Tue, 01 Dec 2026 09:02:00 +0000",
        &[("image/jpeg", b"jpeg-bytes")],
    );
    for n in 0..201 {
        twilio.add_inbound("+14155550123", SALES, &format!("bulk {n}"), date, &[]);
    }

    let run = || async {
        reconcile(
            app.stores.directory.as_ref(),
            app.stores.messages.as_ref(),
            &rest(&twilio),
            IdentityStyle::Safe,
            "2026-11-30",
            shared::clock::Clock::system().now_ms(),
        )
        .await
        .unwrap()
    };
    let report = run().await;
    assert_eq!(report.failed, Vec::<String>::new());
    assert_eq!(report.listed, 204);
    assert_eq!(report.recovered, 203, "all but the one the webhook stored");
    let listed = twilio
        .received()
        .into_iter()
        .filter(|r| {
            r.path.ends_with("/Messages.json")
                && r.query.iter().any(|(k, v)| k == "To" && v == SALES)
        })
        .count();
    assert_eq!(listed, 2, "two pages for Sales");
    assert!(
        twilio
            .received()
            .iter()
            .all(|r| r.path.starts_with("/cdn/") || r.authorization.is_some())
    );

    let (_, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    let bodies: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    // Newest first, each at its own time: the webhook's just now, the recovered ones this
    // morning as Twilio dates them.
    assert_eq!(bodies, vec!["seen by the webhook", "", "missed while down"]);
    assert_eq!(
        thread["messages"][1]["media"][0]["contentType"],
        "image/jpeg"
    );
    let response = app
        .http
        .get(format!(
            "{}/phone/sms/media?messageSid={mms}&index=0",
            app.base
        ))
        .bearer_auth(alice())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(&response.bytes().await.unwrap()[..], b"jpeg-bytes");

    let told = |events: Vec<Value>| {
        events
            .iter()
            .filter(|e| e["type"] == "sms.received")
            .count()
    };
    let (events, _) = app.catch_up(&bob, &start).await;
    let first = told(events);
    assert!(first >= 100, "a page of events at least: {first}");

    // Again: nothing new stored, nothing told again.
    let again = run().await;
    assert_eq!((again.listed, again.recovered), (204, 0));
    let mut all = Vec::new();
    let mut after = start.clone();
    loop {
        let (events, cursor) = app.catch_up(&bob, &after).await;
        let done = events.is_empty() || cursor == after;
        all.extend(events);
        after = cursor;
        if done {
            break;
        }
    }
    let mut sids: Vec<String> = all
        .iter()
        .filter(|e| e["type"] == "sms.received")
        .map(|e| {
            e["data"]["message"]["messageSid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let total = sids.len();
    sids.sort();
    sids.dedup();
    assert_eq!(
        (total, sids.len()),
        (204, 204),
        "every text told exactly once"
    );
}
