//! People presence (`PresenceStore::set_status`, `people`): the status a person sets, read
//! back with their presence; and many people's presence at once (the team view), which must
//! say exactly what `presence` says of each, whatever wrote it, and nothing across orgs.

use shared::domain::{Availability, DeviceId, PersonStatus};
use shared::store::{CallEvent, CallProgress, PresenceKey, Unregistration, UserPresence};

use super::presence::registration;
use super::{T0, key, key_in};
use crate::helpers::{StoreKind, Stores, stores};
use crate::on_both_stores;

on_both_stores!(
    a_status_is_read_back_replaced_and_kept_past_its_until,
    many_peoples_presence_is_each_ones_own_presence,
    the_team_read_follows_registers_unregisters_sign_outs_and_calls,
    the_same_email_in_another_org_is_another_person,
    a_telling_is_claimed_once_and_never_by_an_older_reading,
);

fn status(availability: Availability, until: Option<i64>, note: Option<&str>) -> PersonStatus {
    PersonStatus {
        availability,
        until,
        note: note.map(str::to_owned),
        set_at: T0,
    }
}

fn call(sid: &str, progress: CallProgress, now_ms: i64) -> CallEvent {
    CallEvent {
        call_sid: sid.to_owned(),
        progress,
        now_ms,
        expires_at: now_ms / 1000 + 3600,
    }
}

/// What the team view shows of a presence, comparable across the two reads.
fn summary(p: &UserPresence) -> (Vec<String>, Vec<String>, Option<PersonStatus>) {
    let mut devices: Vec<String> = p.devices.iter().map(|d| d.device_id.to_string()).collect();
    devices.sort();
    let mut calls: Vec<String> = p.calls.iter().map(|c| c.call_sid.clone()).collect();
    calls.sort();
    (devices, calls, p.status.clone())
}

async fn team(s: &Stores, keys: &[PresenceKey], now_ms: i64) -> Vec<UserPresence> {
    s.presence.people(keys, now_ms).await.unwrap()
}

/// None before one is set; then exactly what was set; a second replaces the first, until and
/// note included (an absent note is none, not the old one). The store keeps what was set past
/// its `until`: that it no longer stands is the reader's (`PersonStatus::at`).
async fn a_status_is_read_back_replaced_and_kept_past_its_until(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    assert_eq!(s.presence.presence(&alice, T0).await.unwrap().status, None);

    let dnd = status(Availability::Dnd, Some(T0 / 1000 + 60), Some("Focus"));
    s.presence.set_status(&alice, &dnd).await.unwrap();
    let read = s.presence.presence(&alice, T0).await.unwrap().status;
    assert_eq!(read.as_ref(), Some(&dnd));
    let later = T0 + 61_000;
    let stored = s.presence.presence(&alice, later).await.unwrap().status;
    let in_force = PersonStatus::in_force(stored.as_ref(), later);
    assert_eq!(
        (in_force.availability, in_force.note),
        (Availability::Available, None)
    );

    let away = status(Availability::Away, None, None);
    s.presence.set_status(&alice, &away).await.unwrap();
    let read = s.presence.presence(&alice, T0).await.unwrap().status;
    assert_eq!(read, Some(away));
    // A status alone is no device: the person has none live.
    assert!(
        s.presence
            .presence(&alice, T0)
            .await
            .unwrap()
            .devices
            .is_empty()
    );
}

/// `people` answers, in the order asked, what `presence` answers of each: devices, calls and
/// status; someone never seen is an empty presence.
async fn many_peoples_presence_is_each_ones_own_presence(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let bob = key("bob@example.com");
    let nobody = key("nobody@example.com");
    for (email, device) in [
        ("alice@example.com", "a1"),
        ("alice@example.com", "a2"),
        ("bob@example.com", "b1"),
    ] {
        let r = registration(email, device, T0, 90);
        s.presence.register(r).await.unwrap();
    }
    s.presence
        .set_status(&bob, &status(Availability::Dnd, None, Some("Out")))
        .await
        .unwrap();
    s.presence
        .record_call(&alice, call("CAone", CallProgress::Answered, T0))
        .await
        .unwrap();

    let keys = vec![bob.clone(), nobody.clone(), alice.clone()];
    let read = team(&s, &keys, T0 + 1000).await;
    assert_eq!(read.len(), 3);
    for (k, p) in keys.iter().zip(&read) {
        let one = s.presence.presence(k, T0 + 1000).await.unwrap();
        assert_eq!(summary(p), summary(&one), "{k:?}");
    }
    assert_eq!(summary(&read[2]).0, vec!["a1", "a2"]);
    assert_eq!(summary(&read[2]).1, vec!["CAone"]);
    assert_eq!(
        read[0].status.as_ref().map(|s| s.availability),
        Some(Availability::Dnd)
    );
    assert_eq!(summary(&read[1]), (vec![], vec![], None));
    // Past the devices' TTL, nobody is live: the read by key applies expiry as the query does.
    let expired = team(&s, &keys, T0 + 91_000).await;
    assert!(expired.iter().all(|p| p.devices.is_empty()));
}

/// What writes the person's devices and calls keeps the team read true: a register adds, an
/// unregister, a sign-out and an eviction remove, an answer puts them on a call and its end
/// takes them off, and an end that came first is not undone by its late answer.
async fn the_team_read_follows_registers_unregisters_sign_outs_and_calls(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let read = |now_ms: i64| {
        let (s, alice) = (&s, alice.clone());
        async move { summary(&team(s, &[alice], now_ms).await[0]) }
    };
    for device in ["a1", "a2", "a3"] {
        let r = registration("alice@example.com", device, T0, 90);
        s.presence.register(r).await.unwrap();
    }
    assert_eq!(read(T0).await.0, vec!["a1", "a2", "a3"]);

    let a1 = DeviceId::parse("a1").unwrap();
    let removed = s
        .presence
        .unregister(&alice, &a1, Unregistration::at(T0))
        .await;
    assert!(removed.unwrap());
    let a2 = DeviceId::parse("a2").unwrap();
    let signed_out = Unregistration {
        signed_out_until: Some(T0 / 1000 + 3600),
        ..Unregistration::at(T0)
    };
    s.presence
        .unregister(&alice, &a2, signed_out)
        .await
        .unwrap();
    assert_eq!(read(T0).await.0, vec!["a3"]);

    // A fourth and fifth device with a limit of two: the least recently seen is evicted.
    for (device, at) in [("a4", T0 + 10), ("a5", T0 + 20)] {
        let mut r = registration("alice@example.com", device, at, 90);
        r.max_live = 2;
        s.presence.register(r).await.unwrap();
    }
    assert_eq!(read(T0 + 30).await.0, vec!["a4", "a5"]);

    s.presence
        .record_call(&alice, call("CAx", CallProgress::Answered, T0))
        .await
        .unwrap();
    assert_eq!(read(T0).await.1, vec!["CAx"]);
    s.presence
        .record_call(&alice, call("CAx", CallProgress::Ended, T0 + 5))
        .await
        .unwrap();
    assert!(read(T0 + 10).await.1.is_empty());
    // The end of another call first, then its answer: never on it.
    s.presence
        .record_call(&alice, call("CAy", CallProgress::Ended, T0))
        .await
        .unwrap();
    s.presence
        .record_call(&alice, call("CAy", CallProgress::Answered, T0 + 1))
        .await
        .unwrap();
    assert!(read(T0 + 10).await.1.is_empty());
}

/// The same email in another org is another person: their status, devices and calls never
/// show in this org's read, nor this org's in theirs.
async fn the_same_email_in_another_org_is_another_person(kind: StoreKind) {
    let s = stores(kind).await;
    let here = key("ann@example.com");
    let there = key_in("org_other", "ann@example.com");
    s.presence
        .register(registration("ann@example.com", "here1", T0, 90))
        .await
        .unwrap();
    s.presence
        .set_status(&there, &status(Availability::Dnd, None, Some("There")))
        .await
        .unwrap();
    let read = team(&s, &[here.clone(), there.clone()], T0).await;
    assert_eq!(summary(&read[0]).0, vec!["here1"]);
    assert_eq!(read[0].status, None);
    assert!(read[1].devices.is_empty());
    assert_eq!(
        read[1].status.as_ref().and_then(|s| s.note.as_deref()),
        Some("There")
    );
}

/// What colleagues are told is claimed: the same news once, never by a reading older than the
/// one claimed last; a claim given back is news again.
async fn a_telling_is_claimed_once_and_never_by_an_older_reading(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let p = &s.presence;
    assert!(p.shown(&alice, "available", T0 + 10).await.unwrap());
    assert!(
        !p.shown(&alice, "available", T0 + 20).await.unwrap(),
        "the same news"
    );
    assert!(
        !p.shown(&alice, "offline", T0 + 5).await.unwrap(),
        "an older reading"
    );
    assert!(p.shown(&alice, "offline", T0 + 30).await.unwrap());
    let read = p.presence(&alice, T0).await.unwrap();
    assert_eq!(read.shown.as_deref(), Some("offline"));
    // A claim whose telling failed, given back: the next look tells it again.
    p.unshown(&alice, "offline", T0 + 30).await.unwrap();
    assert!(p.shown(&alice, "offline", T0 + 40).await.unwrap());
    // Giving back another claim than the one standing changes nothing.
    p.unshown(&alice, "offline", T0 + 30).await.unwrap();
    assert!(!p.shown(&alice, "offline", T0 + 50).await.unwrap());
}

/// A device registered before people presence came has no id on a person item: the team read
/// finds it all the same, by a query of that person's partition, until a write keeps the keys
/// (DynamoDB only: the memory store reads every device anyway).
#[tokio::test]
async fn a_device_from_before_people_presence_is_read_by_its_partition() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use shared::store::PresenceStore;
    let store = crate::helpers::dynamo_store().await;
    let alice = key("alice@example.com");
    store
        .register(registration("alice@example.com", "old", T0, 90))
        .await
        .unwrap();
    // As a table from before: no person item at all.
    let pk = format!("softphone:{}:{}", alice.org, alice.identity);
    store
        .client()
        .delete_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S("#person".into()))
        .send()
        .await
        .unwrap();
    let read = store
        .people(std::slice::from_ref(&alice), T0)
        .await
        .unwrap();
    assert_eq!(summary(&read[0]).0, vec!["old"]);
    // The next register keeps the keys: read by key from then on, the same answer.
    store
        .register(registration("alice@example.com", "new", T0 + 1, 90))
        .await
        .unwrap();
    let read = store
        .people(std::slice::from_ref(&alice), T0 + 2)
        .await
        .unwrap();
    // The item keeps the keys from then on; the old device is named at its own next register
    // (a token renewal, within the hour), and then both are read by key.
    assert_eq!(summary(&read[0]).0, vec!["new"]);
    store
        .register(registration("alice@example.com", "old", T0 + 3, 90))
        .await
        .unwrap();
    let read = store
        .people(std::slice::from_ref(&alice), T0 + 4)
        .await
        .unwrap();
    assert_eq!(summary(&read[0]).0, vec!["new", "old"]);
}
