//! `PresenceStore`'s alert operations: an event's alert claimed once per device (whatever
//! repeats it), and a dead registration dropped only while it is still the one registered.

use shared::domain::{DeviceId, Platform, PushProvider, PushTarget};

use super::presence::registration;
use super::{T0, key};
use crate::helpers::{StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    an_alert_is_claimed_once_per_event_and_device,
    a_dead_registration_is_dropped_only_while_it_is_the_one_registered,
);

const APNS: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const NEWER: &str = "b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).unwrap()
}

async fn an_alert_is_claimed_once_per_event_and_device(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let until = T0 / 1000 + 3600;
    let claim = |user, device: &'static str, cursor: &'static str| {
        let presence = s.presence.clone();
        async move {
            presence
                .claim_alert(&user, &id(device), cursor, T0 / 1000, until)
                .await
                .unwrap()
        }
    };
    assert!(claim(alice.clone(), "phone", "c1").await);
    assert!(!claim(alice.clone(), "phone", "c1").await, "a repeat");
    assert!(claim(alice.clone(), "tablet", "c1").await, "another device");
    assert!(claim(alice.clone(), "phone", "c2").await, "another event");
    assert!(claim(bob.clone(), "phone", "c1").await, "another user");
    // Claims never show as devices.
    let devices = s.presence.presence(&alice, T0).await.unwrap().devices;
    assert!(devices.is_empty(), "{devices:?}");
    // Once expired, a claim is gone (the memory store forgets it; DynamoDB's TTL deletes it
    // in time, and a stream never brings back an event that old).
    if kind == StoreKind::Memory {
        let later = until + 1;
        let again = s
            .presence
            .claim_alert(&alice, &id("phone"), "c1", later, later + 3600)
            .await
            .unwrap();
        assert!(again);
    }
}

async fn a_dead_registration_is_dropped_only_while_it_is_the_one_registered(kind: StoreKind) {
    let s = stores(kind).await;
    let register = |token: &str| {
        let mut reg = registration("alice@example.com", "phone", T0, 90);
        reg.platform = Platform::Ios;
        reg.notifications = Some(PushTarget::new(PushProvider::Apns, token).unwrap());
        reg
    };
    let alice = key("alice@example.com");
    s.presence.register(register(APNS)).await.unwrap();
    // The app registered a new token since the provider called the old one dead.
    s.presence.register(register(NEWER)).await.unwrap();
    assert!(
        !s.presence
            .drop_push_token(&alice, &id("phone"), APNS)
            .await
            .unwrap()
    );
    let device = &s.presence.presence(&alice, T0).await.unwrap().devices[0];
    assert_eq!(device.notifications.as_ref().unwrap().token, NEWER);
    // The new one is dead too: dropped; the device stays.
    assert!(
        s.presence
            .drop_push_token(&alice, &id("phone"), NEWER)
            .await
            .unwrap()
    );
    let devices = s.presence.presence(&alice, T0).await.unwrap().devices;
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].notifications, None);
    assert!(
        !s.presence
            .drop_push_token(&alice, &id("phone"), NEWER)
            .await
            .unwrap()
    );
    // A device that is gone is not brought back.
    assert!(
        !s.presence
            .drop_push_token(&alice, &id("gone"), NEWER)
            .await
            .unwrap()
    );
    assert_eq!(
        s.presence.presence(&alice, T0).await.unwrap().devices.len(),
        1
    );
}
