//! A phone's alert registration (issue 31, first part): `register-device` takes
//! `"notifications": {"provider", "token"}` from a phone, keeps it with the device, shows only
//! its provider and the token's last six characters, replaces it on the next register (which
//! may drop it), and it goes with the device; a bad one is refused naming the field.

use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, alice, spawn_app};
use crate::on_both_stores;

on_both_stores!(
    a_phones_alert_token_is_kept_shown_only_by_its_end_and_replaced,
    a_bad_alert_registration_is_refused_naming_its_field,
);

const APNS: &str = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad";
const FCM: &str = "dYk3fX1_R0eQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx0aB1c2D3";

async fn a_phones_alert_token_is_kept_shown_only_by_its_end_and_replaced(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    let register = |notifications: Value| {
        let body =
            json!({"deviceId": "alice_iphone", "platform": "ios", "notifications": notifications});
        app.post("/phone/voice/register-device", &token, body)
    };
    let (status, body) = register(json!({"provider": "apns", "token": APNS})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["device"]["notifications"],
        json!({"provider": "apns", "tokenSuffix": "bb78ad"})
    );
    assert!(!body.to_string().contains(APNS), "never the whole token");
    let (_, list) = app.get("/phone/voice/devices", &alice()).await;
    assert_eq!(
        list["devices"][0]["notifications"],
        json!({"provider": "apns", "tokenSuffix": "bb78ad"})
    );
    assert!(!list.to_string().contains(APNS));

    // A heartbeat keeps it; the next register replaces it, or drops it by leaving it out.
    let (status, beat) = app.heartbeat(&alice(), "alice_iphone").await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    assert_eq!(beat["device"]["notifications"]["tokenSuffix"], "bb78ad");
    let (_, body) = register(json!({"provider": "fcm", "token": FCM})).await;
    assert_eq!(
        body["device"]["notifications"],
        json!({"provider": "fcm", "tokenSuffix": &FCM[FCM.len() - 6..]})
    );
    let (_, body) = register(Value::Null).await;
    assert_eq!(body["device"].get("notifications"), None, "{body}");
    let (_, list) = app.get("/phone/voice/devices", &alice()).await;
    assert_eq!(list["devices"][0].get("notifications"), None);

    // It goes with the device.
    register(json!({"provider": "apns", "token": APNS})).await;
    let (status, _) = app.unregister(&alice(), "alice_iphone").await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get("/phone/voice/devices", &alice()).await;
    assert!(!list.to_string().contains("bb78ad"), "{list}");
    let body = json!({"deviceId": "alice_iphone", "platform": "ios"});
    let (_, again) = app
        .post("/phone/voice/register-device", &alice(), body)
        .await;
    assert_eq!(again["device"].get("notifications"), None, "{again}");
}

async fn a_bad_alert_registration_is_refused_naming_its_field(kind: StoreKind) {
    let app = spawn_app(kind).await;
    for (platform, notifications, field) in [
        (
            "ios",
            json!({"provider": "apns", "token": "not hex"}),
            "notifications.token",
        ),
        (
            "ios",
            json!({"provider": "apns", "token": &APNS[..40]}),
            "notifications.token",
        ),
        (
            "ios",
            json!({"provider": "voip", "token": APNS}),
            "notifications.provider",
        ),
        (
            "android",
            json!({"provider": "apns", "token": APNS}),
            "notifications.provider",
        ),
        ("android", json!({"provider": "fcm"}), "notifications.token"),
        (
            "web",
            json!({"provider": "fcm", "token": FCM}),
            "notifications",
        ),
        ("ios", json!(["apns", APNS]), "notifications"),
    ] {
        let body =
            json!({"deviceId": "phone1", "platform": platform, "notifications": notifications});
        let (status, body) = app
            .post("/phone/voice/register-device", &alice(), body)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{notifications}: {body}");
        assert_eq!(body["error"]["field"], field, "{notifications}");
    }
    let (_, list) = app.get("/phone/voice/devices", &alice()).await;
    assert_eq!(list["devices"], json!([]), "nothing registered");
}
