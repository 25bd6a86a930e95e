//! `PresenceStore`: devices registered, kept alive, evicted, signed out and expired, and the
//! calls a user is on.

use shared::domain::{Capabilities, DeviceId, Email, Platform, Reachability, TwilioState};
use shared::events::EventKind;
use shared::store::{
    CallEvent, CallProgress, DeviceTtls, HeartbeatOutcome, HeartbeatUpdate, RegisterOutcome,
    Registration, Unregistration,
};

use super::{T0, key, key_in, told};
use crate::helpers::{StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    expiry_is_exact_and_filtered_on_every_read,
    heartbeat_extends_only_live_devices,
    heartbeat_keeps_the_stored_ttl_unless_the_platform_changes,
    unregister_removes_only_the_named_device,
    registering_beyond_the_limit_evicts_least_recently_seen,
    a_sign_out_bars_automatic_registers_until_it_expires,
    calls_converge_whatever_the_order_and_expire,
    an_unregister_naming_an_older_registration_leaves_the_device,
    a_push_registered_device_stays_callable_until_its_push_ttl,
    an_explicit_sign_in_lifts_a_sign_out,
    each_user_and_org_has_their_own_devices_and_calls,
    each_change_of_the_device_list_is_told_once,
);

pub(super) fn registration(
    email: &str,
    device: &str,
    now_ms: i64,
    ttl_seconds: u32,
) -> Registration {
    Registration {
        key: key(email),
        device_id: DeviceId::parse(device).unwrap(),
        user_email: Email::parse_field(email, "email").unwrap(),
        platform: Platform::Web,
        label: None,
        capabilities: Capabilities::voice_only(),
        user_agent: Some("UA".into()),
        ip: Some("198.51.100.7".into()),
        now_ms,
        ttls: DeviceTtls::foreground_only(ttl_seconds),
        max_live: 10,
        twilio_state: None,
        registration_id: format!("reg{device}"),
        sign_in: false,
        notifications: None,
    }
}

/// A remote sign-out at `now_ms`, barring the device until an hour after T0.
fn signed_out_for_an_hour(now_ms: i64) -> Unregistration {
    Unregistration {
        signed_out_until: Some(T0 / 1000 + 3600),
        ..Unregistration::at(now_ms)
    }
}

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

async fn expiry_is_exact_and_filtered_on_every_read(kind: StoreKind) {
    let s = stores(kind).await;
    let reg = s
        .presence
        .register(registration("a@x.io", "d1", T0 + 500, 90))
        .await
        .unwrap()
        .registered()
        .unwrap();
    // Registered at 1 800 000 000.5 s with 90 s: expires at ceil(…)+90.
    assert_eq!(reg.device.expires_at, 1_800_000_091);
    let k = key("a@x.io");
    assert_eq!(
        s.presence
            .live_devices(&k, T0 + 90_999)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.presence
            .live_devices(&k, T0 + 91_000)
            .await
            .unwrap()
            .is_empty()
    );
    // Unregistering an expired device reports it was not live.
    assert!(
        !s.presence
            .unregister(&k, &id("d1"), Unregistration::at(T0 + 91_000))
            .await
            .unwrap()
    );
}

async fn heartbeat_extends_only_live_devices(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let update = |now_ms| HeartbeatUpdate {
        now_ms,
        ..HeartbeatUpdate::default()
    };
    let beat = s
        .presence
        .heartbeat(&k, &id("d1"), update(T0 + 60_000))
        .await
        .unwrap()
        .live()
        .unwrap();
    assert_eq!(beat.last_seen, T0 + 60_000);
    assert_eq!(beat.expires_at, (T0 + 60_000) / 1000 + 90);
    assert_eq!(
        beat.user_agent.as_deref(),
        Some("UA"),
        "unchanged fields are kept"
    );
    // Expired: no resurrection, and still absent afterwards.
    assert!(
        s.presence
            .heartbeat(&k, &id("d1"), update(T0 + 200_000))
            .await
            .unwrap()
            .live()
            .is_none()
    );
    assert!(
        s.presence
            .live_devices(&k, T0 + 200_000)
            .await
            .unwrap()
            .is_empty()
    );
    // Unknown device: nothing is created.
    assert!(
        s.presence
            .heartbeat(&k, &id("d2"), update(T0))
            .await
            .unwrap()
            .live()
            .is_none()
    );
    assert!(
        s.presence
            .live_devices(&k, T0)
            .await
            .unwrap()
            .iter()
            .all(|d| d.device_id != id("d2"))
    );
}

async fn heartbeat_keeps_the_stored_ttl_unless_the_platform_changes(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    let mut reg = registration("a@x.io", "phone", T0, 600);
    reg.platform = Platform::Ios;
    s.presence.register(reg).await.unwrap();
    let kept = s
        .presence
        .heartbeat(
            &k,
            &id("phone"),
            HeartbeatUpdate {
                now_ms: T0 + 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .live()
        .unwrap();
    assert_eq!(kept.expires_at, (T0 + 1000) / 1000 + 600);
    let changed = s
        .presence
        .heartbeat(
            &k,
            &id("phone"),
            HeartbeatUpdate {
                now_ms: T0 + 2000,
                platform: Some((Platform::Web, DeviceTtls::foreground_only(90))),
                capabilities: Some(Capabilities::parse(&["sms"]).unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .live()
        .unwrap();
    assert_eq!(changed.platform, Platform::Web);
    assert_eq!(changed.expires_at, (T0 + 2000) / 1000 + 90);
    assert_eq!(changed.capabilities, Capabilities::parse(&["sms"]).unwrap());
}

async fn unregister_removes_only_the_named_device(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    s.presence
        .register(registration("a@x.io", "d2", T0 + 1, 90))
        .await
        .unwrap();
    s.presence
        .register(registration("b@x.io", "d1", T0, 90))
        .await
        .unwrap();
    assert!(
        s.presence
            .unregister(&k, &id("d1"), Unregistration::at(T0 + 2))
            .await
            .unwrap()
    );
    assert!(
        !s.presence
            .unregister(&k, &id("d1"), Unregistration::at(T0 + 2))
            .await
            .unwrap()
    );
    let left: Vec<_> = s
        .presence
        .live_devices(&k, T0 + 2)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(left, vec![id("d2")]);
    assert_eq!(
        s.presence
            .live_devices(&key("b@x.io"), T0 + 2)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn registering_beyond_the_limit_evicts_least_recently_seen(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    // An expired row does not count against the limit.
    s.presence
        .register(registration("a@x.io", "stale", T0 - 200_000, 90))
        .await
        .unwrap();
    for i in 0..4 {
        let mut reg = registration("a@x.io", &format!("d{i}"), T0 + i * 1000, 90);
        reg.max_live = 4;
        let out = s
            .presence
            .register(reg)
            .await
            .unwrap()
            .registered()
            .unwrap();
        assert!(out.evicted.is_empty());
    }
    let mut reg = registration("a@x.io", "d4", T0 + 10_000, 90);
    reg.max_live = 3;
    let out = s
        .presence
        .register(reg)
        .await
        .unwrap()
        .registered()
        .unwrap();
    assert_eq!(out.evicted, vec![id("d0"), id("d1")]);
    let live: Vec<_> = s
        .presence
        .live_devices(&k, T0 + 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.device_id)
        .collect();
    assert_eq!(live, vec![id("d4"), id("d3"), id("d2")]);
}

async fn a_sign_out_bars_automatic_registers_until_it_expires(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let sign_out = Unregistration {
        now_ms: T0 + 1000,
        registration_id: None,
        signed_out_until: Some(T0 / 1000 + 60),
    };
    assert!(
        s.presence
            .unregister(&k, &id("d1"), sign_out)
            .await
            .unwrap()
    );
    let beat = s
        .presence
        .heartbeat(
            &k,
            &id("d1"),
            HeartbeatUpdate {
                now_ms: T0 + 2000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(matches!(beat, HeartbeatOutcome::SignedOut), "{beat:?}");
    let again = s
        .presence
        .register(registration("a@x.io", "d1", T0 + 59_000, 90))
        .await
        .unwrap();
    assert!(matches!(again, RegisterOutcome::SignedOut));
    assert!(
        s.presence
            .live_devices(&k, T0 + 59_000)
            .await
            .unwrap()
            .is_empty()
    );
    // Once the tombstone expires, the device is a stranger again: it may register.
    let later = s
        .presence
        .register(registration("a@x.io", "d1", T0 + 60_000, 90))
        .await
        .unwrap();
    assert!(later.registered().is_some(), "the sign-out expired");
}

async fn calls_converge_whatever_the_order_and_expire(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    let event = |sid: &str, progress, now_ms: i64| CallEvent {
        call_sid: sid.to_owned(),
        progress,
        now_ms,
        expires_at: now_ms / 1000 + 100,
    };
    let calls = |now_ms| {
        let presence = s.presence.clone();
        let k = k.clone();
        async move { presence.presence(&k, now_ms).await.unwrap().calls }
    };
    // Answered, duplicated: one call since the first answer.
    s.presence
        .record_call(&k, event("CAa", CallProgress::Answered, T0))
        .await
        .unwrap();
    s.presence
        .record_call(&k, event("CAa", CallProgress::Answered, T0 + 500))
        .await
        .unwrap();
    let now = calls(T0 + 1000).await;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].since_ms, T0);
    // Ended, then a late answered: over for good.
    s.presence
        .record_call(&k, event("CAa", CallProgress::Ended, T0 + 2000))
        .await
        .unwrap();
    s.presence
        .record_call(&k, event("CAa", CallProgress::Answered, T0 + 3000))
        .await
        .unwrap();
    assert!(calls(T0 + 3000).await.is_empty());
    // Never ended: gone at its expiry (and devices are untouched by call rows).
    s.presence
        .record_call(&k, event("CAb", CallProgress::Answered, T0))
        .await
        .unwrap();
    assert_eq!(calls(T0 + 99_999).await.len(), 1);
    assert!(calls(T0 + 100_000).await.is_empty());
    assert!(s.presence.live_devices(&k, T0).await.unwrap().is_empty());
}

/// Registering a live device again replaces it (nothing evicted, nothing added); an
/// unregister that names the older registration (a closing tab's late `pagehide`) leaves it.
async fn an_unregister_naming_an_older_registration_leaves_the_device(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let mut again = registration("a@x.io", "d1", T0 + 1000, 90);
    again.registration_id = "newer".into();
    again.max_live = 1;
    let out = s
        .presence
        .register(again)
        .await
        .unwrap()
        .registered()
        .unwrap();
    assert!(out.evicted.is_empty());
    let live = s.presence.live_devices(&k, T0 + 1000).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].last_seen, T0 + 1000);
    let named = |registration_id: &str| Unregistration {
        registration_id: Some(registration_id.into()),
        ..Unregistration::at(T0 + 2000)
    };
    assert!(
        !s.presence
            .unregister(&k, &id("d1"), named("regd1"))
            .await
            .unwrap()
    );
    assert_eq!(
        s.presence.live_devices(&k, T0 + 2000).await.unwrap().len(),
        1
    );
    assert!(
        s.presence
            .unregister(&k, &id("d1"), named("newer"))
            .await
            .unwrap()
    );
    assert!(
        s.presence
            .live_devices(&k, T0 + 2000)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A phone whose Twilio SDK reports `registered` stays callable (by push) until its push TTL
/// after it was last heard from, online only for its foreground TTL; once it reports
/// `unregistered`, only the foreground TTL counts.
async fn a_push_registered_device_stays_callable_until_its_push_ttl(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    let mut phone = registration("a@x.io", "phone", T0, 90);
    phone.platform = Platform::Ios;
    phone.ttls = DeviceTtls {
        foreground: 90,
        push: 3600,
    };
    phone.twilio_state = Some(TwilioState::Registered);
    let device = s
        .presence
        .register(phone)
        .await
        .unwrap()
        .registered()
        .unwrap()
        .device;
    assert_eq!(device.expires_at, T0 / 1000 + 3600);
    let live = |now_ms| {
        let (presence, k) = (s.presence.clone(), k.clone());
        async move { presence.live_devices(&k, now_ms).await.unwrap() }
    };
    assert_eq!(
        live(T0 + 89_999).await[0].reachability(T0 + 89_999),
        Reachability::Online
    );
    assert_eq!(
        live(T0 + 90_000).await[0].reachability(T0 + 90_000),
        Reachability::Push
    );
    assert_eq!(live(T0 + 3_599_999).await.len(), 1);
    assert!(live(T0 + 3_600_000).await.is_empty());

    let asleep = s
        .presence
        .heartbeat(
            &k,
            &id("phone"),
            HeartbeatUpdate {
                now_ms: T0 + 100_000,
                twilio_state: Some(TwilioState::Unregistered),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .live()
        .expect("callable by push, so a heartbeat finds it");
    assert_eq!(asleep.twilio_state, Some(TwilioState::Unregistered));
    assert_eq!(asleep.expires_at, (T0 + 100_000) / 1000 + 90);
    assert!(live(T0 + 190_000).await.is_empty());
}

/// A remote sign-out refuses automatic registers, but the user signing in again lifts it.
async fn an_explicit_sign_in_lifts_a_sign_out(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let sign_out = signed_out_for_an_hour(T0 + 1000);
    s.presence
        .unregister(&k, &id("d1"), sign_out)
        .await
        .unwrap();
    let mut sign_in = registration("a@x.io", "d1", T0 + 2000, 90);
    sign_in.sign_in = true;
    assert!(
        s.presence
            .register(sign_in)
            .await
            .unwrap()
            .registered()
            .is_some()
    );
    let automatic = registration("a@x.io", "d1", T0 + 3000, 90);
    assert!(
        s.presence
            .register(automatic)
            .await
            .unwrap()
            .registered()
            .is_some(),
        "the sign-out is lifted"
    );
    let beat = HeartbeatUpdate {
        now_ms: T0 + 4000,
        ..Default::default()
    };
    let beat = s.presence.heartbeat(&k, &id("d1"), beat).await.unwrap();
    assert!(matches!(beat, HeartbeatOutcome::Live(_)), "{beat:?}");
}

/// The same email and device id in another org is another user: their devices, calls and
/// sign-outs never mix.
async fn each_user_and_org_has_their_own_devices_and_calls(kind: StoreKind) {
    let s = stores(kind).await;
    let (here, there) = (key("a@x.io"), key_in("org_other", "a@x.io"));
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let answered = CallEvent {
        call_sid: "CAa".into(),
        progress: CallProgress::Answered,
        now_ms: T0,
        expires_at: T0 / 1000 + 100,
    };
    s.presence.record_call(&here, answered).await.unwrap();
    let theirs = s.presence.presence(&there, T0).await.unwrap();
    assert!(theirs.devices.is_empty() && theirs.calls.is_empty());
    assert!(
        s.presence
            .presence(&key("b@x.io"), T0)
            .await
            .unwrap()
            .devices
            .is_empty()
    );

    let mut elsewhere = registration("a@x.io", "d1", T0, 90);
    elsewhere.key = there.clone();
    s.presence.register(elsewhere).await.unwrap();
    let sign_out = signed_out_for_an_hour(T0 + 1000);
    s.presence
        .unregister(&there, &id("d1"), sign_out)
        .await
        .unwrap();
    let ours = s.presence.presence(&here, T0 + 1000).await.unwrap();
    assert_eq!(
        ours.devices.len(),
        1,
        "untouched by the other org's sign-out"
    );
    assert_eq!(ours.on_call_since(), Some(T0));
    let again = s
        .presence
        .register(registration("a@x.io", "d1", T0 + 2000, 90))
        .await
        .unwrap();
    assert!(again.registered().is_some());
}

/// Each change of the device list writes one `devices.changed` event (a sign-out also a
/// `device.signedOut`); a heartbeat that changes nothing the list shows writes none.
async fn each_change_of_the_device_list_is_told_once(kind: StoreKind) {
    let s = stores(kind).await;
    let k = key("a@x.io");
    let mut first = registration("a@x.io", "d1", T0, 90);
    first.max_live = 1;
    s.presence.register(first).await.unwrap();
    let beat = |now_ms, twilio_state| HeartbeatUpdate {
        now_ms,
        twilio_state,
        ..Default::default()
    };
    s.presence
        .heartbeat(&k, &id("d1"), beat(T0 + 1000, None))
        .await
        .unwrap();
    let registered = Some(TwilioState::Registered);
    s.presence
        .heartbeat(&k, &id("d1"), beat(T0 + 2000, registered))
        .await
        .unwrap();
    s.presence
        .heartbeat(&k, &id("d1"), beat(T0 + 3000, registered))
        .await
        .unwrap();
    let mut second = registration("a@x.io", "d2", T0 + 4000, 90);
    second.max_live = 1;
    s.presence.register(second).await.unwrap();
    s.presence
        .unregister(&k, &id("d2"), Unregistration::at(T0 + 5000))
        .await
        .unwrap();
    s.presence
        .unregister(&k, &id("d2"), Unregistration::at(T0 + 6000))
        .await
        .unwrap();
    let sign_out = signed_out_for_an_hour(T0 + 7000);
    s.presence
        .unregister(&k, &id("d3"), sign_out)
        .await
        .unwrap();

    // The events' order is the clock's; here only which were written counts.
    let mut changes: Vec<String> = told(&s, &k)
        .await
        .into_iter()
        .map(|e| match e.kind {
            EventKind::DevicesChanged => format!("{} {}", e.data["deviceId"], e.data["change"]),
            other => format!("{} {other:?}", e.data["deviceId"]),
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        vec![
            r#""d1" "evicted""#,
            r#""d1" "registered""#,
            r#""d1" "updated""#,
            r#""d2" "registered""#,
            r#""d2" "unregistered""#,
            r#""d3" "signedOut""#,
            r#""d3" DeviceSignedOut"#,
        ]
    );
}
