//! Twilio's identifiers and the URLs made of them, as an attacker would send them: every SID
//! is checked for Twilio's shape (two letters, 32 lower-case hex digits) where it comes in, a
//! call can be marked seen only by a user whose history has it, and a media URL is fetched
//! only as the SIDs it names, so no separator, plain or encoded, walks out of a message's
//! media.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::call_history::{RECORDING, call_sid};
use crate::fake_twilio::{FakeTwilio, account_path};
use crate::helpers::{ACCOUNT_SID, ORG, StoreKind, TestApp, alice, app_token, spawn_app_with};
use crate::on_both_stores;
use crate::sms::{CUSTOMER, SALES_ID, sms_params};
use crate::webhooks::{SALES, SUPPORT};

on_both_stores!(
    calls_seen_takes_only_a_call_of_the_callers_own_history,
    a_recording_sid_of_the_wrong_shape_is_never_stored,
);

fn carol() -> String {
    app_token("carol@example.com", ORG)
}

/// 34 characters and the right prefix, which is all the old checks asked.
const TRAVERSAL: &str = "RE../../Accounts/AC1/Calls/abcdef0";

async fn spawn(kind: StoreKind) -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(kind, &[("TWILIO_API_BASE_URL", twilio.base.as_str())]).await;
    (app, twilio)
}

/// Carol (Support) names a call to Sales (Alice's and Bob's): the same 400 as a call that
/// never was, her mark does not move and she is told nothing; her own calls she can mark,
/// again and again.
async fn calls_seen_takes_only_a_call_of_the_callers_own_history(kind: StoreKind) {
    let (app, _twilio) = spawn(kind).await;
    let (sales, support) = (call_sid(1), call_sid(2));
    app.ring(&sales, SALES).await;
    app.ring(&support, SUPPORT).await;
    let start = app.start_cursor(&carol()).await;
    let token = carol();
    let seen = |up_to: &str| app.post("/phone/calls/seen", &token, json!({ "upTo": up_to }));

    let (status, theirs) = seen(&sales).await;
    let (_, never) = seen(&call_sid(0xdead)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{theirs}");
    assert_eq!(theirs["error"]["field"], "upTo", "{theirs}");
    assert_eq!(theirs, never, "nothing tells Alice's call from none");

    for _ in 0..2 {
        let (status, body) = seen(&support).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "upTo": support }));
    }
    // With her mark past it, Alice's call is still not hers.
    let (_, again) = seen(&sales).await;
    assert_eq!(again, never);

    let (events, _) = app.catch_up(&carol(), &start).await;
    let told: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "calls.seen")
        .map(|e| &e["data"])
        .collect();
    assert_eq!(told, [&json!({ "upTo": support })]);
    let history = app.calls(&carol()).await;
    assert_eq!(history["calls"][0]["callSid"], json!(support), "{history}");
    assert_eq!(history["calls"][0]["seen"], true);
    assert_eq!(
        app.calls(&alice()).await["unseenMissed"],
        1,
        "Alice's own mark is untouched"
    );
}

/// A recording callback signed by Twilio, with a `RecordingSid` that only looks like one:
/// 200 TwiML as always, and no voicemail to list, play or delete.
async fn a_recording_sid_of_the_wrong_shape_is_never_stored(kind: StoreKind) {
    let (app, twilio) = spawn(kind).await;
    let sid = call_sid(7);
    let twiml = app.ring(&sid, SALES).await;
    let callback = twiml
        .attr("Record", "recordingStatusCallback")
        .expect("Sales' voicemail");
    for recording in [
        TRAVERSAL.to_owned(),
        format!("RE{}", "0123456789ABCDEF0123456789ABCDEF"),
        format!("RE{}%2f..", &RECORDING[2..31]),
    ] {
        let report: Vec<(String, String)> = [
            ("AccountSid", ACCOUNT_SID),
            ("CallSid", sid.as_str()),
            ("RecordingSid", recording.as_str()),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "17"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let answer = app.follow(&callback, &report).await;
        assert!(answer.verbs().is_empty(), "{}", answer.xml);
    }
    let call = app.only_call(&alice()).await;
    assert_eq!(call["voicemail"], Value::Null, "{call}");
    assert_eq!(call["outcome"], "missed");
    assert!(twilio.received().is_empty());
}

/// Every app input that carries a SID refuses one of the wrong shape with a 400 naming it,
/// before any store or Twilio is asked.
#[tokio::test]
async fn sids_of_the_wrong_shape_get_400_naming_the_field() {
    let (app, twilio) = spawn(StoreKind::Memory).await;
    let upper = format!("CA{}", "0123456789ABCDEF0123456789ABCDEF");
    for (method, path, body, field) in [
        (
            "GET",
            "/phone/sms/media?messageSid=SM..%2F..%2FAccounts%2FAC1%2FCalls1&index=0".to_owned(),
            None,
            "messageSid",
        ),
        (
            "GET",
            format!(
                "/phone/calls?before=0000000000000000:{}",
                "CA../../../../../../../../../../.."
            ),
            None,
            "before",
        ),
        (
            "POST",
            "/phone/calls/seen".to_owned(),
            Some(json!({ "upTo": upper })),
            "upTo",
        ),
        (
            "POST",
            "/phone/calls/seen".to_owned(),
            Some(json!({ "upTo": "CA../../../../../../../../../../.." })),
            "upTo",
        ),
        (
            "GET",
            "/phone/voicemail/RE..%2f..%2fAccounts%2fAC1%2fCalls".to_owned(),
            None,
            "recordingSid",
        ),
        (
            "DELETE",
            format!("/phone/voicemail/{}", TRAVERSAL.replace('/', "%2F")),
            None,
            "recordingSid",
        ),
        (
            "POST",
            "/phone/sms/read".to_owned(),
            Some(
                json!({ "phoneId": SALES_ID, "with": CUSTOMER, "upTo": "SM../../../../../../../../../../.." }),
            ),
            "upTo",
        ),
    ] {
        let (status, answer) = match (method, body) {
            ("POST", Some(body)) => app.post(&path, &alice(), body).await,
            ("DELETE", _) => app.delete(&path, &alice()).await,
            _ => app.get(&path, &alice()).await,
        };
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{method} {path}: {answer}");
    }
    assert!(twilio.received().is_empty());

    // Twilio's own webhooks: a text whose MessageSid is not one is refused by name.
    let params = sms_params(
        &format!("SM{}", "0123456789ABCDEF0123456789ABCDEF"),
        CUSTOMER,
        SALES,
        "hi",
    );
    let (status, body) = app.sms_webhook("/phone/sms/incoming", &params).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["field"], "MessageSid");
}

/// A received MMS whose media URLs step out of the message's media with separators, plain or
/// encoded (`..%2f`, `%5c`, `\`, `%2e%2e`): stored as Twilio sent them, but each file is 404
/// and nothing at all is fetched from Twilio.
#[tokio::test]
async fn hostile_media_urls_are_never_fetched() {
    let (app, twilio) = spawn(StoreKind::Memory).await;
    let sid = format!("MM{:032x}", 9);
    let media = format!("{}{}/Messages/{sid}/Media", twilio.base, account_path());
    let file = format!("ME{:032x}", 1);
    let hostile = [
        format!("{media}/..%2f..%2f..%2fRecordings%2f{RECORDING}.mp3"),
        format!("{media}/..%2F..%2FMessages.json"),
        format!("{media}/{file}%5c..%5c..%5cCalls.json"),
        format!("{media}\\..\\..\\Calls.json"),
        format!("{media}/{file}\\..\\..\\..\\Recordings\\{RECORDING}.mp3"),
        format!("{media}/%2e%2e/%2e%2e/Calls.json"),
        format!("{media}/../../Calls.json"),
        format!("{media}/{file}?Page=../../Calls.json"),
    ];
    let mut params = sms_params(&sid, CUSTOMER, SALES, "");
    params.retain(|(k, _)| k != "NumMedia");
    params.push(("NumMedia".into(), hostile.len().to_string()));
    for (index, url) in hostile.iter().enumerate() {
        params.push((format!("MediaUrl{index}"), url.clone()));
        params.push((format!("MediaContentType{index}"), "image/png".into()));
    }
    let (status, xml) = app.sms_webhook("/phone/sms/incoming", &params).await;
    assert_eq!(status, StatusCode::OK, "{xml}");

    for (index, url) in hostile.iter().enumerate() {
        let (status, body) = app
            .get(
                &format!("/phone/sms/media?messageSid={sid}&index={index}"),
                &alice(),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}: {body}");
    }
    assert_eq!(
        twilio.received().len(),
        0,
        "nothing fetched: {:?}",
        twilio.received()
    );
}
