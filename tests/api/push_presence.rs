//! Phones that ring while their app sleeps: a phone whose Twilio SDK reports `registered` stays
//! callable for its push TTL after it was last heard from, listed with `reachability: "push"`
//! once its foreground TTL has passed. First the store contract (time passed in, to the second),
//! then the same over HTTP with short TTLs from the environment, on both stores.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::domain::{
    Capabilities, DeviceId, Email, Identity, IdentityStyle, OrgId, Platform, Reachability,
    TwilioState,
};
use shared::store::{DeviceTtls, HeartbeatUpdate, PresenceKey, Registration, Unregistration};

use crate::helpers::{
    StoreKind, Stores, TestApp, alice, dynamo_store, spawn_app_with, spawn_on, stores,
};
use crate::on_both_stores;
use crate::webhooks::SALES;

on_both_stores!(
    a_push_registered_phone_is_callable_until_its_push_ttl,
    unregistered_returns_a_phone_to_its_foreground_ttl_and_nothing_revives_it,
    eviction_counts_push_reachable_phones,
    a_phone_asleep_is_listed_as_push_and_rung_until_its_push_ttl,
    unregistered_phones_and_browsers_keep_the_foreground_ttl,
    a_push_device_counts_against_the_limit_and_leaves_at_once_when_asked,
);

const T0: i64 = 1_800_000_000_000;
const T0_S: i64 = T0 / 1000;
/// Foreground 90 s, one hour by push.
const PHONE: DeviceTtls = DeviceTtls {
    foreground: 90,
    push: 3600,
};

fn key() -> PresenceKey {
    let email = Email::parse_field("a@x.io", "email").unwrap();
    let org = OrgId::parse_field("org_demo", "org").unwrap();
    PresenceKey {
        identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
        org,
    }
}

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

/// An iPhone with the phone TTLs, reporting `state`.
fn phone(device: &str, now_ms: i64, state: Option<TwilioState>) -> Registration {
    Registration {
        key: key(),
        device_id: id(device),
        user_email: Email::parse_field("a@x.io", "email").unwrap(),
        platform: Platform::Ios,
        label: None,
        capabilities: Capabilities::voice_only(),
        user_agent: None,
        ip: None,
        now_ms,
        ttls: PHONE,
        max_live: 10,
        twilio_state: state,
        registration_id: format!("reg{device}"),
        sign_in: false,
        notifications: None,
    }
}

/// `seconds` after T0, in epoch ms.
fn at(seconds: i64) -> i64 {
    T0 + seconds * 1000
}

/// The live devices at `now_ms`, with how a call reaches each.
async fn listed(s: &Stores, now_ms: i64) -> Vec<(String, Reachability)> {
    let presence = s.presence.presence(&key(), now_ms).await.unwrap();
    let devices = presence.devices.iter();
    devices
        .map(|d| (d.device_id.as_str().to_owned(), d.reachability(now_ms)))
        .collect()
}

/// A heartbeat of `device`: the device while it is live, else `None`.
async fn beat(
    s: &Stores,
    device: &str,
    update: HeartbeatUpdate,
) -> Option<shared::store::DeviceRecord> {
    let outcome = s.presence.heartbeat(&key(), &id(device), update).await;
    outcome.unwrap().live()
}

fn update(now_ms: i64, state: Option<TwilioState>) -> HeartbeatUpdate {
    HeartbeatUpdate {
        now_ms,
        twilio_state: state,
        ..HeartbeatUpdate::default()
    }
}

async fn unregister(s: &Stores, device: &str, now_ms: i64) -> bool {
    let how = Unregistration::at(now_ms);
    s.presence
        .unregister(&key(), &id(device), how)
        .await
        .unwrap()
}

const REGISTERED: Option<TwilioState> = Some(TwilioState::Registered);
const UNREGISTERED: Option<TwilioState> = Some(TwilioState::Unregistered);
const ONLINE: Reachability = Reachability::Online;
const PUSH: Reachability = Reachability::Push;

fn only(device: &str, reachability: Reachability) -> Vec<(String, Reachability)> {
    vec![(device.to_owned(), reachability)]
}

async fn a_push_registered_phone_is_callable_until_its_push_ttl(kind: StoreKind) {
    let s = stores(kind).await;
    let reg = s.presence.register(phone("iphone", T0, REGISTERED)).await;
    let device = reg.unwrap().registered().unwrap().device;
    assert_eq!(device.expires_at, T0_S + 3600, "callable for the push TTL");
    assert_eq!(device.reachability(T0), ONLINE);
    assert_eq!(listed(&s, at(89)).await, only("iphone", ONLINE));
    assert_eq!(listed(&s, at(90)).await, only("iphone", PUSH));
    assert_eq!(listed(&s, at(3599)).await, only("iphone", PUSH));
    assert!(listed(&s, at(3600)).await.is_empty());

    // Opening the app within the push TTL starts both TTLs again, from then.
    let opened = beat(&s, "iphone", update(at(3000), None)).await;
    let opened = opened.expect("still registered");
    assert_eq!(opened.expires_at, T0_S + 3000 + 3600);
    assert_eq!(opened.reachability(at(3089)), ONLINE);
    assert_eq!(opened.reachability(at(3090)), PUSH);

    // After the push TTL nothing brings it back but a register.
    let late = beat(&s, "iphone", update(at(6600), REGISTERED)).await;
    assert!(late.is_none(), "a heartbeat revived it");
    assert!(listed(&s, at(6600)).await.is_empty());
    assert!(!unregister(&s, "iphone", at(6600)).await);
}

async fn unregistered_returns_a_phone_to_its_foreground_ttl_and_nothing_revives_it(
    kind: StoreKind,
) {
    let s = stores(kind).await;
    let reg = s.presence.register(phone("pixel", T0, REGISTERED)).await;
    reg.unwrap();
    // The SDK lost its push registration (its push token was invalidated, say).
    let lost = beat(&s, "pixel", update(at(10), UNREGISTERED)).await;
    assert_eq!(
        lost.unwrap().expires_at,
        T0_S + 10 + 90,
        "back to the foreground TTL"
    );
    assert!(listed(&s, at(100)).await.is_empty());
    // Its row outlives that in DynamoDB (expiresAt is its push reach), yet it is not live:
    // no heartbeat, not even one that reports `registered` again, and no unregister finds it.
    for state in [None, REGISTERED] {
        let again = beat(&s, "pixel", update(at(100), state)).await;
        assert!(again.is_none(), "revived by {state:?}");
    }
    assert!(!unregister(&s, "pixel", at(100)).await);

    // Within its foreground TTL, `registered` again makes it push-reachable again.
    let reg = s
        .presence
        .register(phone("pixel", at(200), UNREGISTERED))
        .await;
    reg.unwrap();
    let back = beat(&s, "pixel", update(at(250), REGISTERED)).await;
    assert_eq!(back.unwrap().expires_at, T0_S + 250 + 3600);
    assert_eq!(listed(&s, at(1000)).await, only("pixel", PUSH));

    // A heartbeat that makes it a browser takes the push TTL away with the platform.
    let web = HeartbeatUpdate {
        platform: Some((Platform::Web, DeviceTtls::foreground_only(90))),
        ..update(at(1000), None)
    };
    let web = beat(&s, "pixel", web).await;
    assert_eq!(web.unwrap().expires_at, T0_S + 1000 + 90);
    assert!(listed(&s, at(1090)).await.is_empty());
}

async fn eviction_counts_push_reachable_phones(kind: StoreKind) {
    let s = stores(kind).await;
    s.presence
        .register(phone("asleep", T0, REGISTERED))
        .await
        .unwrap();
    s.presence
        .register(phone("lapsed", T0, UNREGISTERED))
        .await
        .unwrap();
    // Ten minutes later, past both foreground TTLs: two browsers within a limit of two.
    let browser = |device: &str, now_ms| Registration {
        platform: Platform::Web,
        ttls: DeviceTtls::foreground_only(90),
        max_live: 2,
        ..phone(device, now_ms, REGISTERED)
    };
    let first = s.presence.register(browser("desk", at(600))).await.unwrap();
    let first = first.registered().unwrap();
    assert!(first.evicted.is_empty(), "the lapsed phone counts not");
    let second = s
        .presence
        .register(browser("laptop", at(601)))
        .await
        .unwrap();
    assert_eq!(second.registered().unwrap().evicted, vec![id("asleep")]);
    let live = listed(&s, at(601)).await;
    assert_eq!(live, [("laptop".into(), ONLINE), ("desk".into(), ONLINE)]);
}

// ── over HTTP, with short TTLs ──────────────────────────────────────────────

/// Browsers and phones heard from within a second are online; a push registration keeps a
/// phone callable for `push` seconds.
async fn short_ttls(kind: StoreKind, push: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("PRESENCE_TTL_SECONDS", "1"),
        ("PRESENCE_TTL_SECONDS_MOBILE", "1"),
        ("PRESENCE_TTL_SECONDS_PUSH", push),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(kind, &env).await
}

impl TestApp {
    /// Register one of alice's devices reporting `twilioState`; the device as answered.
    async fn register_in_state(&self, device: &str, platform: &str, state: &str) -> Value {
        let body = json!({"deviceId": device, "platform": platform, "twilioState": state});
        let (status, body) = self
            .post("/phone/voice/register-device", &alice(), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Alice's devices as listed: (deviceId, reachability).
    async fn reachability(&self) -> Vec<(String, String)> {
        let (status, body) = self.get("/phone/voice/devices", &alice()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let devices = body["devices"].as_array().unwrap();
        devices
            .iter()
            .map(|d| {
                let of = |f: &str| d[f].as_str().unwrap().to_owned();
                (of("deviceId"), of("reachability"))
            })
            .collect()
    }

    /// Who a call to the Sales group (alice and bob) rings.
    async fn sales_rings(&self) -> Vec<String> {
        self.call(SALES).await.clients()
    }
}

const ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";

fn pair(device: &str, reachability: &str) -> (String, String) {
    (device.to_owned(), reachability.to_owned())
}

async fn a_phone_asleep_is_listed_as_push_and_rung_until_its_push_ttl(kind: StoreKind) {
    let app = short_ttls(kind, "3", &[]).await;
    let reg = app.register_in_state("iphone", "ios", "registered").await;
    assert_eq!(reg["device"]["reachability"], "online");
    // The heartbeat interval follows the foreground TTL; expiresAt the push TTL.
    assert_eq!(reg["presence"]["ttlSeconds"], 1);
    let seen = reg["device"]["lastSeen"].as_i64().unwrap();
    let expires = reg["device"]["expiresAt"].as_i64().unwrap();
    assert!((3000..4000).contains(&(expires * 1000 - seen)), "{reg}");

    app.advance(Duration::from_millis(2100));
    assert_eq!(app.reachability().await, [pair("iphone", "push")]);
    assert_eq!(app.sales_rings().await, [ALICE], "a phone asleep is rung");
    // One that does not answer (asleep for good: uninstalled) sends the caller on as before.
    let unanswered = app.dial_status(SALES, Some("no-answer")).await;
    assert_eq!(unanswered.verbs(), ["Say", "Record", "Hangup"]);

    // Gone 3 to 4 s after it was seen, as the TTL counts from the next whole second.
    app.advance(Duration::from_millis(2000));
    assert!(
        app.reachability().await.is_empty(),
        "listed past its push TTL"
    );
    let twiml = app.call(SALES).await;
    assert!(twiml.clients().is_empty(), "rung past its push TTL");
    assert_eq!(
        twiml.verbs(),
        ["Say", "Record", "Hangup"],
        "the group's voicemail"
    );
    let beat = json!({"deviceId": "iphone", "twilioState": "registered"});
    let (status, body) = app.post("/phone/voice/heartbeat", &alice(), beat).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "device_not_registered");
}

async fn unregistered_phones_and_browsers_keep_the_foreground_ttl(kind: StoreKind) {
    let app = short_ttls(kind, "60", &[]).await;
    app.register_in_state("pixel", "android", "registered")
        .await;
    let lost = json!({"deviceId": "pixel", "twilioState": "unregistered"});
    let (status, hb) = app.post("/phone/voice/heartbeat", &alice(), lost).await;
    assert_eq!(status, StatusCode::OK, "{hb}");
    assert_eq!(hb["device"]["reachability"], "online");
    // A browser's Twilio Device says `registered` too, but a browser has no push.
    app.register_in_state("browser", "web", "registered").await;
    app.register_in_state("ipad", "ios", "registering").await;
    let mut listed = app.reachability().await;
    listed.sort();
    let online = [
        pair("browser", "online"),
        pair("ipad", "online"),
        pair("pixel", "online"),
    ];
    assert_eq!(listed, online);
    assert_eq!(app.sales_rings().await, [ALICE]);

    app.advance(Duration::from_millis(2100));
    assert!(app.reachability().await.is_empty());
    assert!(app.call(SALES).await.clients().is_empty());
    for device in ["pixel", "browser", "ipad"] {
        let (status, _) = app.heartbeat(&alice(), device).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{device} revived");
    }
}

async fn a_push_device_counts_against_the_limit_and_leaves_at_once_when_asked(kind: StoreKind) {
    let app = short_ttls(kind, "60", &[("MAX_DEVICES_PER_IDENTITY", "2")]).await;
    let token = alice();
    app.register_in_state("iphone", "ios", "registered").await;
    app.register_in_state("pixel", "android", "registered")
        .await;
    app.advance(Duration::from_millis(2100));
    assert_eq!(
        app.reachability().await,
        [pair("pixel", "push"), pair("iphone", "push")]
    );
    // A third device makes room by evicting the least recently seen phone, as Twilio pushes
    // only to an identity's most recent registrations.
    let reg = app.register_in_state("browser", "web", "registered").await;
    assert_eq!(reg["evictedDeviceIds"], json!(["iphone"]));
    assert_eq!(
        app.reachability().await,
        [pair("browser", "online"), pair("pixel", "push")]
    );
    assert_eq!(
        app.heartbeat(&token, "iphone").await.0,
        StatusCode::NOT_FOUND
    );

    // Unregister (the app signing out) and a sign-out from another device take effect at once.
    let (_, un) = app.unregister(&token, "pixel").await;
    assert_eq!(un["removed"], true, "{un}");
    app.register_in_state("iphone", "ios", "registered").await;
    app.advance(Duration::from_millis(2100));
    let out = json!({"deviceId": "iphone", "signOut": true});
    let (_, out) = app
        .post("/phone/voice/unregister-device", &token, out)
        .await;
    assert_eq!(out["removed"], true, "{out}");
    assert!(app.reachability().await.is_empty());
    assert!(app.sales_rings().await.is_empty());
}

/// A device row as the version before push reachability wrote it (no `onlineUntil`, no
/// `pushTtlSeconds`), still live when that version is replaced: listed and rung until its
/// `expiresAt` as before, removable; its heartbeat is refused once, and the client's register
/// writes today's row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_row_from_before_push_reachability_lives_out_its_ttl() {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S, Ss};
    let store = dynamo_store().await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let row = [
        ("pk", S(format!("softphone:org_demo:{ALICE}"))),
        ("sk", S("old_phone".into())),
        ("userEmail", S("alice@example.com".into())),
        ("platform", S("ios".into())),
        ("capabilities", Ss(vec!["voice".into()])),
        ("lastSeen", N(now_ms.to_string())),
        ("expiresAt", N((now_ms / 1000 + 300).to_string())),
        ("ttlSeconds", N("300".into())),
        ("registrationId", S("0123456789abcdef01234567".into())),
        ("twilioState", S("registered".into())),
    ];
    let put = store.client().put_item().table_name(store.table());
    let put = row.into_iter().fold(put, |put, (k, v)| put.item(k, v));
    put.send().await.unwrap();
    let app = spawn_on(Stores::on_dynamo(store), &[]).await;

    assert_eq!(app.reachability().await, [pair("old_phone", "online")]);
    assert_eq!(app.sales_rings().await, [ALICE]);
    let (status, _) = app.heartbeat(&alice(), "old_phone").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "register again");
    assert_eq!(app.reachability().await, [pair("old_phone", "online")]);
    let (_, un) = app.unregister(&alice(), "old_phone").await;
    assert_eq!(un["removed"], true, "{un}");
    app.register_in_state("old_phone", "ios", "registered")
        .await;
    assert_eq!(app.heartbeat(&alice(), "old_phone").await.0, StatusCode::OK);
}
