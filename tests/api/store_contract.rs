//! One contract, both stores: what every `PresenceStore` and `DirectoryStore` must do, and the
//! call history's seen mark, and the outbound budgets the message and history stores count.
//! Time is passed in, so expiry is tested to the millisecond without sleeping.

use shared::directory::Directory;
use shared::domain::{
    Capabilities, DeviceId, E164, Email, Identity, IdentityStyle, OrgId, Platform,
};
use shared::store::{
    CallEvent, CallProgress, DeviceTtls, HeartbeatOutcome, HeartbeatUpdate, PresenceKey,
    RegisterOutcome, Registration, Unregistration,
};

use shared::events::EventKind;
use shared::history::{CallBase, Direction, Fact};
use shared::store::history::{HistoryWrite, SeenMark, position};
use shared::store::messages::Notice;

use crate::helpers::{DEMO_DIRECTORY, StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    expiry_is_exact_and_filtered_on_every_read,
    heartbeat_extends_only_live_devices,
    heartbeat_keeps_the_stored_ttl_unless_the_platform_changes,
    unregister_removes_only_the_named_device,
    registering_beyond_the_limit_evicts_least_recently_seen,
    directory_import_reports_changes_and_exports_what_it_stored,
    routes_resolve_a_number_in_one_read,
    a_number_moved_between_orgs_in_one_import_keeps_routing,
    a_sign_out_bars_automatic_registers_until_it_expires,
    calls_converge_whatever_the_order_and_expire,
    the_seen_mark_moves_only_to_an_entry_of_the_users_own_history,
    outbound_budgets_count_to_their_limit_per_user_and_window,
);

const T0: i64 = 1_800_000_000_000;

fn key(email: &str) -> PresenceKey {
    let email = Email::parse_field(email, "email").unwrap();
    let org = OrgId::parse_field("org_demo", "org").unwrap();
    PresenceKey {
        identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
        org,
    }
}

fn registration(email: &str, device: &str, now_ms: i64, ttl_seconds: u32) -> Registration {
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

async fn directory_import_reports_changes_and_exports_what_it_stored(kind: StoreKind) {
    let s = stores(kind).await;
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    let first = s
        .directory
        .import(&demo, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (first.added, first.updated, first.removed, first.unchanged),
        (13, 0, 0, 0)
    );
    let again = s
        .directory
        .import(&demo, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (again.added, again.updated, again.removed, again.unchanged),
        (0, 0, 0, 13)
    );
    assert_eq!(s.directory.export().await.unwrap(), demo);

    let mut changed = demo.clone();
    changed.orgs[0].phones.retain(|p| p.id != "phone-bob");
    changed.orgs[0].groups[0].name = "Sales team".into();
    let report = s
        .directory
        .import(&changed, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (
            report.added,
            report.updated,
            report.removed,
            report.unchanged
        ),
        (0, 1, 1, 11)
    );
    assert_eq!(s.directory.export().await.unwrap(), changed);
    let bob = E164::parse_field("+14155550002", "n").unwrap();
    assert!(
        s.directory.route_for_number(&bob).await.unwrap().is_none(),
        "removed number no longer routes"
    );
    let sales = E164::parse_field("+14155551234", "n").unwrap();
    let route = s.directory.route_for_number(&sales).await.unwrap().unwrap();
    assert_eq!(
        route.group.unwrap().name,
        "Sales team",
        "routes see group changes"
    );
}

async fn routes_resolve_a_number_in_one_read(kind: StoreKind) {
    let s = stores(kind).await;
    s.directory
        .import(
            &Directory::parse(DEMO_DIRECTORY).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let alice = E164::parse_field("+14155550001", "n").unwrap();
    let route = s.directory.route_for_number(&alice).await.unwrap().unwrap();
    assert_eq!(route.org_id.as_str(), "org_demo");
    assert_eq!(route.phone.id, "phone-alice");
    assert!(route.group.is_none());
    assert!(route.phone.voicemail.is_some());
    let unknown = E164::parse_field("+19995550000", "n").unwrap();
    assert!(
        s.directory
            .route_for_number(&unknown)
            .await
            .unwrap()
            .is_none()
    );
    let org = OrgId::parse_field("org_demo", "o").unwrap();
    assert_eq!(
        s.directory.org_directory(&org).await.unwrap().phones.len(),
        5
    );
    let none = OrgId::parse_field("org_none", "o").unwrap();
    assert!(
        s.directory
            .org_directory(&none)
            .await
            .unwrap()
            .phones
            .is_empty()
    );
}

async fn a_number_moved_between_orgs_in_one_import_keeps_routing(kind: StoreKind) {
    let s = stores(kind).await;
    let before = r#"{"orgs": [
        {"orgId": "org_b", "phones": [{"id": "p", "phoneNumber": "+14155550100", "friendlyName": "B", "userEmail": "b@x.io"}]}]}"#;
    s.directory
        .import(
            &Directory::parse(before).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    // The new owner comes first in the file, the old owner (now without it) second.
    let after = r#"{"orgs": [
        {"orgId": "org_a", "phones": [{"id": "p", "phoneNumber": "+14155550100", "friendlyName": "A", "userEmail": "a@x.io"}]},
        {"orgId": "org_b", "phones": []}]}"#;
    s.directory
        .import(
            &Directory::parse(after).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let number = E164::parse_field("+14155550100", "n").unwrap();
    let route = s
        .directory
        .route_for_number(&number)
        .await
        .unwrap()
        .expect("still routes");
    assert_eq!(route.org_id.as_str(), "org_a");
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

/// A seen mark moves up to a call of the user's own history only: another user's call (even
/// one below the user's mark) changes nothing and is told apart from a call already seen.
async fn the_seen_mark_moves_only_to_an_entry_of_the_users_own_history(kind: StoreKind) {
    let history = stores(kind).await.history;
    let (alice, carol) = (key("alice@example.com"), key("carol@example.com"));
    let call = |n: u32, started_at: i64, user: &PresenceKey| HistoryWrite {
        base: CallBase {
            call_sid: format!("CA{n:032x}"),
            direction: Direction::Inbound,
            from: "+14158675309".into(),
            to: "+14155551234".into(),
            phone_id: None,
            phone_number: None,
            started_at,
        },
        users: vec![user.clone()],
        fact: Fact::Canceled,
        expires_at: started_at / 1000 + 86_400,
        notice: None,
    };
    let notice = |user: &PresenceKey| Notice {
        kind: EventKind::CallsSeen,
        data: serde_json::json!({}),
        at: T0,
        to: vec![user.clone()],
    };
    history.record(&call(1, T0, &alice), None).await.unwrap();
    history
        .record(&call(2, T0 + 1000, &carol), None)
        .await
        .unwrap();
    let (alices, carols) = (
        position(T0, &format!("CA{:032x}", 1)),
        position(T0 + 1000, &format!("CA{:032x}", 2)),
    );

    let mark = |user: &PresenceKey, at: &str| {
        let history = history.clone();
        let (user, at, notice) = (user.clone(), at.to_owned(), notice(user));
        async move { history.mark_seen(&user, &at, &notice).await.unwrap() }
    };
    assert_eq!(mark(&carol, &alices).await, SeenMark::NotInHistory);
    assert_eq!(mark(&carol, &carols).await, SeenMark::Moved);
    assert_eq!(mark(&carol, &carols).await, SeenMark::AlreadySeen);
    assert_eq!(
        mark(&carol, &alices).await,
        SeenMark::NotInHistory,
        "below her mark, and still not hers"
    );
    assert_eq!(mark(&alice, &alices).await, SeenMark::Moved);
    let page = history.history(&carol, None, 10, T0).await.unwrap();
    assert_eq!(page.seen_up_to.as_deref(), Some(carols.as_str()));
}

async fn outbound_budgets_count_to_their_limit_per_user_and_window(kind: StoreKind) {
    use shared::sms::message::{Inbox, Party};
    use shared::store::messages::SendClaim;
    use shared::store::rates::{Budget, Counted, NewRecipient, RateKind};

    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let minute = 60_000;

    // Texts: the claim and its count together. A claimed id counts nothing again; one over
    // the budget is not claimed, so it sends in the next window.
    let texts = Budget::per_minute(RateKind::Texts, 2);
    let claim = |user, id: &'static str, now_ms| {
        let messages = s.messages.clone();
        async move {
            messages
                .claim_send(&user, id, &texts, now_ms)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim(alice.clone(), "m1", T0).await, SendClaim::Claimed);
    assert_eq!(claim(alice.clone(), "m1", T0).await, SendClaim::InFlight);
    assert_eq!(
        claim(alice.clone(), "m2", T0 + 1_000).await,
        SendClaim::Claimed
    );
    assert_eq!(
        claim(alice.clone(), "m3", T0 + 20_500).await,
        SendClaim::OverBudget {
            retry_after_seconds: 40
        },
        "until the minute ends, rounded up"
    );
    assert_eq!(
        claim(bob.clone(), "b1", T0).await,
        SendClaim::Claimed,
        "each user's own"
    );
    assert_eq!(
        claim(alice.clone(), "m3", T0 + minute).await,
        SendClaim::Claimed
    );

    // New recipients: counted only where the inbox has no conversation with the party.
    let inbox = Inbox {
        org: alice.org.clone(),
        phone_id: "phone-sales".into(),
    };
    let party = |raw| Party::parse_field(raw, "with").unwrap();
    let known = party("+14155550199");
    s.messages
        .set_opted_out(&inbox, "+14155551234", &known, false)
        .await
        .unwrap();
    let day = Budget::per_day(RateKind::NewRecipients, 1);
    let new_recipient = |with: Party| {
        let (messages, inbox, alice) = (s.messages.clone(), inbox.clone(), alice.clone());
        async move {
            messages
                .count_new_recipient(&alice, &day, &inbox, &with, T0)
                .await
                .unwrap()
        }
    };
    assert_eq!(new_recipient(known.clone()).await, NewRecipient::Known);
    assert_eq!(
        new_recipient(party("+14155550001")).await,
        NewRecipient::Counted
    );
    assert_eq!(
        new_recipient(party("+14155550002")).await,
        NewRecipient::Over {
            retry_after_seconds: day.retry_after(T0)
        }
    );
    assert_eq!(
        new_recipient(known).await,
        NewRecipient::Known,
        "never refused"
    );

    // Calls.
    let calls = Budget::per_minute(RateKind::Calls, 1);
    let count = |now_ms| {
        let (history, alice) = (s.history.clone(), alice.clone());
        async move { history.count_call(&alice, &calls, now_ms).await.unwrap() }
    };
    assert_eq!(count(T0).await, Counted::Counted);
    assert_eq!(
        count(T0 + 59_000).await,
        Counted::Over {
            retry_after_seconds: 1
        }
    );
    assert_eq!(count(T0 + minute).await, Counted::Counted);
}
