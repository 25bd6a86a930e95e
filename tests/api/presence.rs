//! The five app endpoints over HTTP, on the memory store and on DynamoDB.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ORG, StoreKind, alice, app_token, spawn_app, spawn_app_with};
use crate::on_both_stores;

on_both_stores!(
    register_heartbeat_list_unregister,
    user_phones_match_register,
    expired_devices_vanish_at_once,
    heartbeat_never_resurrects,
    twenty_five_concurrent_registers_leave_ten,
    concurrent_traffic_of_other_users_loses_nothing,
    eleventh_register_evicts_the_least_recently_seen,
    users_cannot_touch_each_others_devices,
    mobile_devices_get_their_own_ttl,
    heartbeat_updates_capabilities,
    register_names_the_heartbeat_url_when_there_is_one,
);

/// With `HEARTBEAT_URL` (the heartbeat function's own URL in AWS), register and heartbeat tell
/// clients where to send heartbeats; without it they say nothing and clients use the API's path.
async fn register_names_the_heartbeat_url_when_there_is_one(kind: StoreKind) {
    let url = "https://abc123.lambda-url.us-east-1.on.aws/phone/voice/heartbeat";
    let app = spawn_app_with(kind, &[("HEARTBEAT_URL", url)]).await;
    let token = alice();
    let (_, reg) = app.register(&token, "browser", "web").await;
    assert_eq!(reg["presence"]["heartbeatUrl"], url);
    let (status, beat) = app
        .post(
            "/phone/voice/heartbeat",
            &token,
            json!({"deviceId": "browser"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{beat}");
    assert_eq!(beat["presence"]["heartbeatUrl"], url);

    let plain = spawn_app(kind).await;
    let (_, reg) = plain.register(&token, "browser", "web").await;
    assert!(reg["presence"].get("heartbeatUrl").is_none(), "{reg}");
}

async fn register_heartbeat_list_unregister(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();

    let body = json!({"deviceId": "dev_a1b2c3", "platform": "web", "label": "Chrome on MacBook",
        "capabilities": ["voice", "sms"]});
    let (status, reg) = app.post("/phone/voice/register-device", &token, body).await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(reg["identity"], "u_org_5Fdemo__alice_40example_2Ecom");
    assert_eq!(reg["expiresIn"], 3600);
    assert!(reg["token"].as_str().unwrap().split('.').count() == 3);
    assert_eq!(reg["device"]["deviceId"], "dev_a1b2c3");
    assert_eq!(reg["device"]["label"], "Chrome on MacBook");
    assert_eq!(reg["device"]["capabilities"], json!(["voice", "sms"]));
    assert_eq!(reg["device"]["userEmail"], "alice@example.com");
    assert_eq!(reg["device"]["userAgent"], "TestAgent/1.0");
    assert_eq!(reg["device"]["ip"], "127.0.0.1");
    assert_eq!(
        reg["presence"],
        json!({"ttlSeconds": 90, "heartbeatIntervalSeconds": 60,
               "socket": {"keepAliveSeconds": 540, "graceSeconds": 20}})
    );
    assert_eq!(reg["evictedDeviceIds"], json!([]));
    let expires = reg["device"]["expiresAt"].as_i64().unwrap();
    let seen = reg["device"]["lastSeen"].as_i64().unwrap();
    assert!(expires * 1000 >= seen + 90_000);

    assert_eq!(app.device_ids(&token).await, vec!["dev_a1b2c3"]);

    tokio::time::sleep(Duration::from_millis(20)).await;
    let (status, hb) = app.heartbeat(&token, "dev_a1b2c3").await;
    assert_eq!(status, StatusCode::OK, "{hb}");
    assert!(hb["device"]["lastSeen"].as_i64().unwrap() > seen);
    assert_eq!(
        hb["device"]["label"], "Chrome on MacBook",
        "heartbeat keeps what it does not change"
    );

    let (status, un) = app.unregister(&token, "dev_a1b2c3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(un, json!({"deviceId": "dev_a1b2c3", "removed": true}));
    assert!(app.device_ids(&token).await.is_empty());

    let (status, again) = app.unregister(&token, "dev_a1b2c3").await;
    assert_eq!(status, StatusCode::OK, "unregister is idempotent");
    assert_eq!(again["removed"], false);
}

async fn user_phones_match_register(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let (_, reg) = app.register(&alice(), "dev_1", "web").await;
    let (status, phones) = app.get("/phone/user-phones", &alice()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phones["assignedPhones"], reg["assignedPhones"]);
    assert_eq!(
        phones["assignedPhones"],
        json!([
            {"id": "phone-sales", "phoneNumber": "+14155551234", "friendlyName": "Sales",
             "assignment": "group", "groupId": "grp-sales", "groupName": "Sales"},
            {"id": "phone-alice", "phoneNumber": "+14155550001", "friendlyName": "Alice direct",
             "assignment": "direct"}
        ])
    );
    let (_, carol) = app
        .get("/phone/user-phones", &app_token("carol@example.com", ORG))
        .await;
    assert_eq!(carol["assignedPhones"].as_array().unwrap().len(), 1);
    assert_eq!(carol["assignedPhones"][0]["groupId"], "grp-support");
    let (_, stranger) = app
        .get("/phone/user-phones", &app_token("zed@example.com", ORG))
        .await;
    assert_eq!(stranger["assignedPhones"], json!([]));
    let (_, other_org) = app
        .get(
            "/phone/user-phones",
            &app_token("alice@example.com", "org_other"),
        )
        .await;
    assert_eq!(
        other_org["assignedPhones"],
        json!([]),
        "assignments are per org"
    );
}

async fn expired_devices_vanish_at_once(kind: StoreKind) {
    let app = spawn_app_with(kind, &[("PRESENCE_TTL_SECONDS", "1")]).await;
    let token = alice();
    assert_eq!(
        app.register(&token, "short_lived", "web").await.0,
        StatusCode::OK
    );
    assert_eq!(app.device_ids(&token).await, vec!["short_lived"]);
    app.advance(Duration::from_millis(2100));
    assert!(
        app.device_ids(&token).await.is_empty(),
        "expired device still listed"
    );
    assert_eq!(
        app.stored_rows("alice@example.com").await,
        1,
        "the row itself may linger, like DynamoDB TTL"
    );
}

async fn heartbeat_never_resurrects(kind: StoreKind) {
    let app = spawn_app_with(kind, &[("PRESENCE_TTL_SECONDS", "1")]).await;
    let token = alice();

    // After unregister.
    app.register(&token, "gone", "web").await;
    app.unregister(&token, "gone").await;
    let (status, body) = app.heartbeat(&token, "gone").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "device_not_registered");

    // After expiry.
    app.register(&token, "lapsed", "web").await;
    app.advance(Duration::from_millis(2100));
    let (status, body) = app.heartbeat(&token, "lapsed").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "device_not_registered");

    // Never known.
    assert_eq!(
        app.heartbeat(&token, "never").await.0,
        StatusCode::NOT_FOUND
    );
    assert!(app.device_ids(&token).await.is_empty());

    // Re-registering is how a client comes back.
    assert_eq!(
        app.register(&token, "lapsed", "web").await.0,
        StatusCode::OK
    );
    assert_eq!(app.device_ids(&token).await, vec!["lapsed"]);
}

async fn twenty_five_concurrent_registers_leave_ten(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    let registers = (0..25).map(|i| {
        let app = &app;
        let token = &token;
        async move { app.register(token, &format!("dev_{i:02}"), "web").await }
    });
    for (status, body) in join_all(registers).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let live = app.device_ids(&token).await;
    assert_eq!(live.len(), 10, "{live:?}");
}

async fn concurrent_traffic_of_other_users_loses_nothing(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let users: Vec<String> = (0..6)
        .map(|i| app_token(&format!("agent{i}@example.com"), ORG))
        .collect();
    // Each user first registers two devices, then heartbeats one while registering a third,
    // all users at once.
    join_all(users.iter().map(|t| async {
        app.register(t, "desk", "web").await;
        app.register(t, "phone", "ios").await;
    }))
    .await;
    let mixed = users.iter().map(|t| async {
        let (hb, reg) = tokio::join!(
            app.heartbeat(t, "desk"),
            app.register(t, "tablet", "android")
        );
        assert_eq!(hb.0, StatusCode::OK, "{}", hb.1);
        assert_eq!(reg.0, StatusCode::OK, "{}", reg.1);
    });
    join_all(mixed).await;
    for token in &users {
        let mut ids = app.device_ids(token).await;
        ids.sort();
        assert_eq!(ids, vec!["desk", "phone", "tablet"]);
    }
}

async fn eleventh_register_evicts_the_least_recently_seen(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    for i in 0..10 {
        let (_, body) = app.register(&token, &format!("dev_{i}"), "web").await;
        assert_eq!(body["evictedDeviceIds"], json!([]));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // dev_0 heartbeats, so dev_1 becomes the least recently seen.
    app.heartbeat(&token, "dev_0").await;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let (status, body) = app.register(&token, "dev_new", "web").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["evictedDeviceIds"], json!(["dev_1"]));
    let live = app.device_ids(&token).await;
    assert_eq!(live.len(), 10);
    assert_eq!(live[0], "dev_new", "most recently seen first");
    assert_eq!(live[1], "dev_0");
    assert!(!live.contains(&"dev_1".to_owned()));
}

async fn users_cannot_touch_each_others_devices(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let alice = alice();
    let bob = app_token("bob@example.com", ORG);
    let alice_elsewhere = app_token("alice@example.com", "org_other");
    app.register(&alice, "shared_name", "web").await;

    assert_eq!(
        app.heartbeat(&bob, "shared_name").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.heartbeat(&alice_elsewhere, "shared_name").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.unregister(&bob, "shared_name").await.1["removed"],
        false
    );
    assert_eq!(
        app.unregister(&alice_elsewhere, "shared_name").await.1["removed"],
        false
    );
    assert!(app.device_ids(&bob).await.is_empty());
    assert!(app.device_ids(&alice_elsewhere).await.is_empty());
    assert_eq!(
        app.device_ids(&alice).await,
        vec!["shared_name"],
        "alice's device untouched"
    );

    // A body naming another user changes nothing: identity comes from the token only.
    let body = json!({"deviceId": "sneaky", "platform": "web", "userEmail": "alice@example.com",
        "identity": "u_org_5Fdemo__alice_40example_2Ecom", "orgId": ORG});
    let (_, reg) = app.post("/phone/voice/register-device", &bob, body).await;
    assert_eq!(reg["identity"], "u_org_5Fdemo__bob_40example_2Ecom");
    assert_eq!(app.device_ids(&alice).await, vec!["shared_name"]);
}

async fn mobile_devices_get_their_own_ttl(kind: StoreKind) {
    let app = spawn_app_with(kind, &[("PRESENCE_TTL_SECONDS_MOBILE", "600")]).await;
    let token = alice();
    let (_, web) = app.register(&token, "browser", "web").await;
    let (_, ios) = app.register(&token, "iphone", "ios").await;
    assert_eq!(web["presence"]["ttlSeconds"], 90);
    assert_eq!(
        ios["presence"],
        json!({"ttlSeconds": 600, "heartbeatIntervalSeconds": 400,
               "socket": {"keepAliveSeconds": 540, "graceSeconds": 20}})
    );
    // A heartbeat that does not name the platform keeps the stored (mobile) TTL.
    let (_, hb) = app.heartbeat(&token, "iphone").await;
    assert_eq!(hb["presence"]["ttlSeconds"], 600);
    let expires = hb["device"]["expiresAt"].as_i64().unwrap();
    let seen = hb["device"]["lastSeen"].as_i64().unwrap();
    assert!(expires * 1000 >= seen + 600_000 && expires * 1000 <= seen + 602_000);
}

async fn heartbeat_updates_capabilities(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = alice();
    app.register(&token, "desk", "web").await;
    let body = json!({"deviceId": "desk", "platform": "web", "capabilities": ["sms"]});
    let (status, hb) = app.post("/phone/voice/heartbeat", &token, body).await;
    assert_eq!(status, StatusCode::OK, "{hb}");
    assert_eq!(hb["device"]["capabilities"], json!(["sms"]));
    let (_, list) = app.get("/phone/voice/devices", &token).await;
    assert_eq!(list["devices"][0]["capabilities"], json!(["sms"]));
}
