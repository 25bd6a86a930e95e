//! What the web client relies on beyond presence itself: a remote sign-out that sticks, a
//! registration id that makes a closing tab's late unregister harmless, and the Twilio SDK's
//! own registration state in the device list.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, alice, spawn_app};
use crate::on_both_stores;

on_both_stores!(
    a_remote_sign_out_sticks_until_the_device_signs_in_again,
    a_stale_registrations_unregister_leaves_the_new_one_alone,
    the_twilio_state_is_kept_and_listed,
);

const REGISTER: &str = "/phone/voice/register-device";
const HEARTBEAT: &str = "/phone/voice/heartbeat";
const UNREGISTER: &str = "/phone/voice/unregister-device";

impl TestApp {
    async fn register_body(&self, body: Value) -> (StatusCode, Value) {
        self.post(REGISTER, &alice(), body).await
    }
}

async fn a_remote_sign_out_sticks_until_the_device_signs_in_again(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    for device in ["office_desktop", "iphone"] {
        let (status, body) = app.register(&token, device, "web").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // From the iPhone's settings page: sign the office desktop out.
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "office_desktop", "signOut": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["removed"], true);
    assert_eq!(app.device_ids(&token).await, vec!["iphone"]);

    // The desktop's heartbeats and automatic re-registers are refused with 410.
    let (status, body) = app.heartbeat(&token, "office_desktop").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "device_signed_out");
    let (status, body) = app.register(&token, "office_desktop", "web").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "device_signed_out");
    // A plain unregister (its pagehide) does not lift the sign-out either.
    let (status, body) = app.unregister(&token, "office_desktop").await;
    assert_eq!(
        (status, body["removed"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (status, _) = app.register(&token, "office_desktop", "web").await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(
        app.device_ids(&token).await,
        vec!["iphone"],
        "nothing came back on its own"
    );

    // Signing in again on the desktop, explicitly, registers it normally.
    let (status, body) = app
        .register_body(json!({"deviceId": "office_desktop", "platform": "web", "signIn": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.heartbeat(&token, "office_desktop").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.register(&token, "office_desktop", "web").await;
    assert_eq!(status, StatusCode::OK, "automatic registers work again");

    // Signing out an unknown device is harmless, and bad flags are named.
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "never_seen", "signOut": true}),
        )
        .await;
    assert_eq!(
        (status, body["removed"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "iphone", "signOut": "yes"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "signOut");
    let (status, body) = app
        .register_body(json!({"deviceId": "iphone", "platform": "web", "signIn": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "signIn");
}

async fn a_stale_registrations_unregister_leaves_the_new_one_alone(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    // Tab 1 registers the browser's device; it closes while tab 2 takes over and registers.
    let (_, first) = app.register(&token, "web_shared", "web").await;
    let (_, second) = app.register(&token, "web_shared", "web").await;
    let (old, new) = (
        first["registrationId"].as_str().unwrap().to_owned(),
        second["registrationId"].as_str().unwrap().to_owned(),
    );
    assert_ne!(old, new, "every register gets a new registration id");
    // Tab 1's keepalive unregister arrives after tab 2's register: it must change nothing.
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "web_shared", "registrationId": old}),
        )
        .await;
    assert_eq!(
        (status, body["removed"].clone()),
        (StatusCode::OK, json!(false))
    );
    assert_eq!(app.device_ids(&token).await, vec!["web_shared"]);
    // The current registration's own unregister works.
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "web_shared", "registrationId": new}),
        )
        .await;
    assert_eq!(
        (status, body["removed"].clone()),
        (StatusCode::OK, json!(true))
    );
    assert!(app.device_ids(&token).await.is_empty());
    let (status, body) = app
        .post(
            UNREGISTER,
            &token,
            json!({"deviceId": "web_shared", "registrationId": "not/an id"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "registrationId");
}

async fn the_twilio_state_is_kept_and_listed(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    let (status, body) = app
        .register_body(
            json!({"deviceId": "web_1", "platform": "web", "twilioState": "registering"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["device"]["twilioState"], "registering");
    let listed = |body: &Value| body["devices"][0]["twilioState"].clone();
    let (_, list) = app.get("/phone/voice/devices", &token).await;
    assert_eq!(listed(&list), "registering");
    // A heartbeat reports what the SDK says now; one that says nothing keeps it.
    let (status, _) = app
        .post(
            HEARTBEAT,
            &token,
            json!({"deviceId": "web_1", "twilioState": "registered"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    app.heartbeat(&token, "web_1").await;
    let (_, list) = app.get("/phone/voice/devices", &token).await;
    assert_eq!(listed(&list), "registered");
    assert_eq!(list["onCall"], false);
    assert_eq!(list["onCallSince"], Value::Null);
    let (status, body) = app
        .post(
            HEARTBEAT,
            &token,
            json!({"deviceId": "web_1", "twilioState": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "twilioState");
}
