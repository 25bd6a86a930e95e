//! Sending texts and their status callbacks, over HTTP on both stores against the fake Twilio
//! REST API: a reply goes out once from the caller's number and reaches the number's other
//! users, every refusal comes before Twilio when it can and names its cause after when it
//! cannot, and status callbacks in any order, repeated or early, converge.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{
    ACCOUNT_SID, API_KEY_SID, ORG, StoreKind, TestApp, alice, app_token, spawn_app_with,
};
use crate::on_both_stores;
use crate::sms::{CUSTOMER, SALES_ID};
use crate::webhooks::SALES;

on_both_stores!(
    a_reply_goes_out_once_from_the_number_and_reaches_every_user_of_it,
    refusals_come_before_twilio_and_send_nothing,
    twilio_errors_become_clear_errors_and_a_failed_send_can_be_retried,
    status_callbacks_in_any_order_converge_and_reach_every_user,
    a_status_that_beats_its_message_is_kept_for_it,
);

fn bob() -> String {
    app_token("bob@example.com", ORG)
}

async fn sending_app(kind: StoreKind) -> (TestApp, FakeTwilio) {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(
        kind,
        &[
            ("TWILIO_API_BASE_URL", &twilio.base),
            ("TWILIO_API_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    (app, twilio)
}

impl TestApp {
    pub(crate) async fn send_text(
        &self,
        token: &str,
        to: &str,
        body: &str,
        id: &str,
    ) -> (StatusCode, Value) {
        let request = json!({ "phoneId": SALES_ID, "to": to, "body": body, "clientMessageId": id });
        self.post("/phone/sms/send", token, request).await
    }

    /// A signed status callback for `sid`.
    async fn status_callback(
        &self,
        sid: &str,
        status: &str,
        error_code: Option<&str>,
    ) -> StatusCode {
        let mut params: Vec<(String, String)> = [
            ("AccountSid", ACCOUNT_SID),
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("MessageStatus", status),
            ("From", SALES),
            ("To", CUSTOMER),
            ("ApiVersion", "2010-04-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        if let Some(code) = error_code {
            params.push(("ErrorCode".into(), code.into()));
        }
        let (status, _) = self.sms_webhook("/phone/sms/status", &params).await;
        status
    }

    /// The caller's events of `kind` after `after` (a cursor from `start_cursor`).
    async fn events_of(&self, token: &str, kind: &str, after: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/phone/events?after={after}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind)
            .cloned()
            .collect()
    }
}

async fn a_reply_goes_out_once_from_the_number_and_reaches_every_user_of_it(kind: StoreKind) {
    let (app, twilio) = sending_app(kind).await;
    let start = app.start_cursor(&bob()).await;
    let (status, sent) = app
        .send_text(
            &alice(),
            CUSTOMER,
            "Yes, the blue one is in stock 😀",
            "reply-1",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let sends = twilio.sends();
    assert_eq!(sends.len(), 1);
    let request = &sends[0];
    assert_eq!(request.field("To"), Some(CUSTOMER));
    assert_eq!(
        request.field("From"),
        Some(SALES),
        "from the number, not a person"
    );
    assert_eq!(
        request.field("Body"),
        Some("Yes, the blue one is in stock 😀")
    );
    assert_eq!(
        request.field("StatusCallback"),
        Some(format!("{}/phone/sms/status", app.base).as_str()),
        "where the request came in, without PUBLIC_BASE_URL"
    );
    assert!(
        request
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    assert!(
        !format!("{:?}", request.form).contains(API_KEY_SID),
        "the key goes in the header only"
    );

    let sid = sent["messageSid"].as_str().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert_eq!(sent["direction"], "outbound");
    assert_eq!(sent["from"], SALES);
    assert_eq!(sent["to"], CUSTOMER);
    assert_eq!(sent["status"], "queued");
    assert_eq!(sent["segments"], 1, "32 UCS-2 units: one segment");
    assert_eq!(sent["sentBy"], "alice@example.com");

    // Bob (the other member of Sales) hears of it and sees it in the conversation.
    let told = app.events_of(&bob(), "sms.sent", &start).await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["data"]["message"]["messageSid"], sid);
    assert_eq!(told[0]["data"]["conversation"]["phoneId"], SALES_ID);
    let list = app.conversations(&bob()).await;
    assert_eq!(list[0]["lastMessage"]["messageSid"], sid);
    assert_eq!(list[0]["unread"], 0, "an outbound text is nobody's unread");

    // The same clientMessageId again (a retry after a lost answer): the same message, no text.
    let (status, again) = app
        .send_text(
            &alice(),
            CUSTOMER,
            "Yes, the blue one is in stock 😀",
            "reply-1",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, sent);
    assert_eq!(twilio.sends().len(), 1);
    assert_eq!(app.events_of(&bob(), "sms.sent", &start).await.len(), 1);

    // Segments as Twilio counts them.
    let (_, long) = app
        .send_text(&alice(), CUSTOMER, &"a".repeat(161), "reply-2")
        .await;
    assert_eq!(long["segments"], 2);
    let (_, ucs2) = app
        .send_text(&alice(), CUSTOMER, &"ê".repeat(71), "reply-3")
        .await;
    assert_eq!(ucs2["segments"], 2);
}

async fn refusals_come_before_twilio_and_send_nothing(kind: StoreKind) {
    let (app, twilio) = sending_app(kind).await;
    let carol = app_token("carol@example.com", ORG);
    let (status, body) = app.send_text(&carol, CUSTOMER, "hi", "c-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "phone_not_assigned");
    let (status, body) = app.send_text(&alice(), "+442071838750", "hi", "a-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "destination_not_allowed");
    assert_eq!(body["error"]["reason"], "region");
    for (request, field) in [
        (
            json!({"phoneId": SALES_ID, "to": CUSTOMER, "body": "", "clientMessageId": "a-2"}),
            "body",
        ),
        (
            json!({"phoneId": SALES_ID, "to": CUSTOMER, "body": "x".repeat(1601), "clientMessageId": "a-2"}),
            "body",
        ),
        (
            json!({"phoneId": SALES_ID, "to": "555-0199", "body": "hi", "clientMessageId": "a-2"}),
            "to",
        ),
        (
            json!({"phoneId": SALES_ID, "to": CUSTOMER, "body": "hi"}),
            "clientMessageId",
        ),
        (
            json!({"phoneId": SALES_ID, "to": CUSTOMER, "body": "hi", "clientMessageId": "a b"}),
            "clientMessageId",
        ),
        (
            json!({"to": CUSTOMER, "body": "hi", "clientMessageId": "a-2"}),
            "phoneId",
        ),
        (
            json!({"phoneId": SALES_ID, "to": CUSTOMER, "body": 7, "clientMessageId": "a-2"}),
            "body",
        ),
    ] {
        let (status, body) = app.post("/phone/sms/send", &alice(), request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        assert_eq!(body["error"]["field"], field);
    }
    // The customer texted STOP: refused here, Twilio never asked.
    app.text(1, CUSTOMER, SALES, "STOP").await;
    let (status, body) = app.send_text(&alice(), CUSTOMER, "hi", "a-3").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "recipient_opted_out");
    assert_eq!(twilio.sends().len(), 0);
    // START lifts it; the same id, refused before, now sends.
    app.text(2, CUSTOMER, SALES, "START").await;
    let (status, body) = app.send_text(&alice(), CUSTOMER, "hi", "a-3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(twilio.sends().len(), 1);
}

async fn twilio_errors_become_clear_errors_and_a_failed_send_can_be_retried(kind: StoreKind) {
    let (app, twilio) = sending_app(kind).await;
    // To, Twilio's status and code; the API's status, error code and field.
    type Case = (
        &'static str,
        u16,
        u32,
        StatusCode,
        &'static str,
        Option<&'static str>,
    );
    let cases: [Case; 5] = [
        (
            "+14155550101",
            400,
            21211,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            Some("to"),
        ),
        (
            "+14155550102",
            400,
            21612,
            StatusCode::FORBIDDEN,
            "destination_refused",
            None,
        ),
        (
            "+14155550103",
            400,
            21408,
            StatusCode::FORBIDDEN,
            "destination_refused",
            None,
        ),
        (
            "+14155550104",
            429,
            20429,
            StatusCode::SERVICE_UNAVAILABLE,
            "twilio_unavailable",
            None,
        ),
        (
            "+14155550105",
            500,
            20500,
            StatusCode::SERVICE_UNAVAILABLE,
            "twilio_unavailable",
            None,
        ),
    ];
    for (to, twilio_status, code, status, error, field) in cases {
        twilio.refuse(to, twilio_status, code, "refused by the fake");
        let (got, body) = app
            .send_text(&alice(), to, "hi", &format!("id-{code}"))
            .await;
        assert_eq!(got, status, "{code}: {body}");
        assert_eq!(body["error"]["code"], error, "{code}");
        assert_eq!(body["error"]["field"].as_str(), field, "{code}");
    }
    // Too slow (over TWILIO_API_TIMEOUT_MS): 503 with Retry-After, and nothing stored.
    twilio.slow("+14155550106", Duration::from_secs(2));
    let response = app
        .http
        .post(format!("{}/phone/sms/send", app.base))
        .bearer_auth(alice())
        .json(&json!({"phoneId": SALES_ID, "to": "+14155550106", "body": "hi", "clientMessageId": "slow-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    // A failed send leaves its id free: the retry sends.
    twilio.clear("+14155550104");
    let (status, body) = app
        .send_text(&alice(), "+14155550104", "hi", "id-20429")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 21610: Twilio says the recipient opted out; recorded, so the next send is refused here.
    twilio.refuse(
        CUSTOMER,
        400,
        21610,
        "Attempt to send to unsubscribed recipient",
    );
    let (status, body) = app.send_text(&alice(), CUSTOMER, "hi", "opt-1").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("recipient_opted_out"))
    );
    let sends_before = twilio.sends().len();
    let (status, _) = app.send_text(&alice(), CUSTOMER, "hi", "opt-2").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        twilio.sends().len(),
        sends_before,
        "refused without asking Twilio"
    );
    assert_eq!(
        app.conversations(&alice())
            .await
            .iter()
            .filter(|c| c["optedOut"] == true)
            .count(),
        0,
        "an opt-out alone is no conversation to list"
    );
}

async fn status_callbacks_in_any_order_converge_and_reach_every_user(kind: StoreKind) {
    let (app, _twilio) = sending_app(kind).await;
    let start = app.start_cursor(&bob()).await;
    let (_, sent) = app.send_text(&alice(), CUSTOMER, "on its way", "s-1").await;
    let sid = sent["messageSid"].as_str().unwrap();
    for (status, code) in [
        ("sent", None),
        ("delivered", None),
        ("sending", None),
        ("sent", None),
        ("undelivered", Some("30003")),
        ("delivered", None),
    ] {
        assert_eq!(app.status_callback(sid, status, code).await, StatusCode::OK);
    }
    let (_, thread) = app.thread(&bob(), SALES_ID, CUSTOMER).await;
    assert_eq!(thread["messages"][0]["status"], "delivered");
    assert_eq!(thread["messages"][0]["errorCode"], Value::Null);
    assert_eq!(
        app.conversations(&bob()).await[0]["lastMessage"]["status"],
        "delivered"
    );
    for token in [alice(), bob()] {
        let statuses: Vec<Value> = app
            .events_of(&token, "sms.status", &start)
            .await
            .iter()
            .map(|e| e["data"]["status"].clone())
            .collect();
        assert_eq!(
            statuses,
            vec![json!("sent"), json!("delivered")],
            "only the moves forward"
        );
    }
    // A failure with its code, for another text.
    let (_, failed) = app.send_text(&alice(), CUSTOMER, "again", "s-2").await;
    let failed_sid = failed["messageSid"].as_str().unwrap();
    app.status_callback(failed_sid, "failed", Some("30007"))
        .await;
    app.status_callback(failed_sid, "sent", None).await;
    let (_, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    assert_eq!(thread["messages"][0]["status"], "failed");
    assert_eq!(thread["messages"][0]["errorCode"], 30007);
    // A callback for a text this service never sent is answered and changes nothing.
    let unknown = format!("SM{:032x}", 999);
    assert_eq!(
        app.status_callback(&unknown, "delivered", None).await,
        StatusCode::OK
    );
}

async fn a_status_that_beats_its_message_is_kept_for_it(kind: StoreKind) {
    let (app, twilio) = sending_app(kind).await;
    let sid = format!("SM{:032x}", 4242);
    // Twilio's callback arrives before the send's own answer was stored.
    assert_eq!(
        app.status_callback(&sid, "delivered", None).await,
        StatusCode::OK
    );
    twilio.next_message_sid(&sid);
    let (status, sent) = app
        .send_text(&alice(), CUSTOMER, "fast network", "f-1")
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["messageSid"], sid.as_str());
    assert_eq!(sent["status"], "delivered");
    let (_, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    assert_eq!(thread["messages"][0]["status"], "delivered");
    // A later, older status does not undo it.
    app.status_callback(&sid, "sent", None).await;
    let (_, thread) = app.thread(&alice(), SALES_ID, CUSTOMER).await;
    assert_eq!(thread["messages"][0]["status"], "delivered");
}

/// Twilio reaches the webhooks at PUBLIC_BASE_URL (the webhook Function URL in the template),
/// not at the host the app called: status callbacks are sent there.
#[tokio::test]
async fn status_callbacks_go_to_the_public_base_url() {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(
        StoreKind::Memory,
        &[
            ("TWILIO_API_BASE_URL", &twilio.base),
            ("PUBLIC_BASE_URL", "https://hooks.example.com/"),
        ],
    )
    .await;
    let (status, body) = app.send_text(&alice(), CUSTOMER, "hi", "p-1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        twilio.sends()[0].field("StatusCallback"),
        Some("https://hooks.example.com/phone/sms/status")
    );
}
