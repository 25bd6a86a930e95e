//! Socket presence (`PresenceStore::socket_alive`, `socket_closed`): an open realtime
//! connection keeps its device live without heartbeats, for the lease its last keep-alive gave;
//! a close ends it after the grace unless a connection renews it; a register or heartbeat
//! leaves it as it was.

use shared::domain::{DeviceId, Reachability, TwilioState};
use shared::events::EventKind;
use shared::store::{
    HeartbeatOutcome, HeartbeatUpdate, PresenceKey, SocketAlive, SocketClosed, Unregistration,
};

use super::presence::registration;
use super::{T0, key, key_in, kinds_told};
use crate::helpers::{StoreKind, Stores, stores};
use crate::on_both_stores;

on_both_stores!(
    an_open_connection_keeps_its_device_live_without_heartbeats,
    a_close_ends_it_after_the_grace_and_a_reconnect_does_not_flap,
    a_register_or_heartbeat_leaves_an_open_connections_lease,
    only_a_live_device_is_kept_alive,
    the_twilio_state_a_keep_alive_reports_is_recorded_and_told_once,
    a_heartbeat_within_the_grace_finds_the_device_live,
    socket_presence_is_each_users_own,
);

/// Seconds after T0, in ms.
fn at(seconds: i64) -> i64 {
    T0 + seconds * 1000
}

fn alive(connection: &str, now_s: i64, lease_s: i64) -> SocketAlive {
    SocketAlive {
        connection_id: connection.into(),
        until: T0 / 1000 + now_s + lease_s,
        now_ms: at(now_s),
        twilio_state: None,
    }
}

fn closed(connection: &str, now_s: i64, grace_s: i64) -> SocketClosed {
    SocketClosed {
        connection_id: connection.into(),
        until: T0 / 1000 + now_s + grace_s,
    }
}

fn d1() -> DeviceId {
    DeviceId::parse("d1").unwrap()
}

async fn live_at(s: &Stores, user: &PresenceKey, seconds: i64) -> bool {
    let devices = s.presence.live_devices(user, at(seconds)).await.unwrap();
    devices.iter().any(|d| d.device_id == d1())
}

/// Registered once with a 90 s TTL, the device lives on its keep-alives alone, online, to the
/// second of its lease; its `lastSeen` is its last keep-alive.
async fn an_open_connection_keeps_its_device_live_without_heartbeats(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    for (now, lease) in [(10, 620), (550, 620), (1090, 620)] {
        let kept = s
            .presence
            .socket_alive(&alice, &d1(), alive("c1", now, lease))
            .await;
        assert!(kept.unwrap(), "keep-alive at {now} s");
    }
    assert!(live_at(&s, &alice, 1500).await, "between keep-alives");
    let devices = s.presence.live_devices(&alice, at(1500)).await.unwrap();
    assert_eq!(devices[0].reachability(at(1500)), Reachability::Online);
    assert_eq!(devices[0].last_seen, at(1090));
    assert_eq!(devices[0].socket_until, T0 / 1000 + 1710);
    assert!(live_at(&s, &alice, 1709).await);
    assert!(
        !live_at(&s, &alice, 1710).await,
        "the lease ends to the second"
    );
}

/// A close shortens the lease to the grace; a connection that renewed it before (a reconnect
/// racing the old close) or after keeps the device live throughout.
async fn a_close_ends_it_after_the_grace_and_a_reconnect_does_not_flap(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    s.presence
        .register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let p = &s.presence;
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 50, 620))
            .await
            .unwrap()
    );
    p.socket_closed(&alice, &d1(), closed("c1", 200, 20))
        .await
        .unwrap();
    assert!(live_at(&s, &alice, 219).await, "within the grace");
    assert!(!live_at(&s, &alice, 220).await, "and not after");

    // A reconnect within the grace renews it: no gap.
    p.register(registration("a@x.io", "d1", at(300), 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 310, 620))
            .await
            .unwrap()
    );
    p.socket_closed(&alice, &d1(), closed("c1", 400, 20))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c2", 410, 620))
            .await
            .unwrap()
    );
    for t in [419, 420, 1000, 1029] {
        assert!(
            live_at(&s, &alice, t).await,
            "after the reconnect, at {t} s"
        );
    }
    // The old connection's close arriving after the new one renewed changes nothing.
    assert!(
        p.socket_alive(&alice, &d1(), alive("c3", 1020, 620))
            .await
            .unwrap()
    );
    p.socket_closed(&alice, &d1(), closed("c2", 1021, 20))
        .await
        .unwrap();
    assert!(live_at(&s, &alice, 1500).await, "c3 still holds it");
}

/// A token renewal's register and a heartbeat change the device, not its connection's lease.
async fn a_register_or_heartbeat_leaves_an_open_connections_lease(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    let p = &s.presence;
    p.register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 50, 620))
            .await
            .unwrap()
    );
    p.register(registration("a@x.io", "d1", at(300), 90))
        .await
        .unwrap();
    let update = HeartbeatUpdate {
        now_ms: at(400),
        ..HeartbeatUpdate::default()
    };
    let beat = p.heartbeat(&alice, &d1(), update).await.unwrap();
    assert!(matches!(beat, HeartbeatOutcome::Live(_)));
    assert!(
        live_at(&s, &alice, 669).await,
        "the lease of the keep-alive at 50 s"
    );
    assert!(!live_at(&s, &alice, 670).await);
}

/// A keep-alive keeps only a live device: not one never registered, unregistered, signed out
/// or expired (its client registers again).
async fn only_a_live_device_is_kept_alive(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    let p = &s.presence;
    assert!(
        !p.socket_alive(&alice, &d1(), alive("c1", 1, 620))
            .await
            .unwrap()
    );
    assert!(!live_at(&s, &alice, 2).await);
    p.register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    assert!(
        !p.socket_alive(&alice, &d1(), alive("c1", 100, 620))
            .await
            .unwrap(),
        "expired"
    );
    p.register(registration("a@x.io", "d1", at(200), 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 210, 620))
            .await
            .unwrap()
    );
    p.unregister(&alice, &d1(), Unregistration::at(at(220)))
        .await
        .unwrap();
    assert!(
        !live_at(&s, &alice, 221).await,
        "unregister ends it at once"
    );
    assert!(
        !p.socket_alive(&alice, &d1(), alive("c1", 230, 620))
            .await
            .unwrap()
    );
    assert!(!live_at(&s, &alice, 231).await);

    p.register(registration("a@x.io", "d1", at(300), 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 310, 620))
            .await
            .unwrap()
    );
    let sign_out = Unregistration {
        signed_out_until: Some(T0 / 1000 + 86_400),
        ..Unregistration::at(at(320))
    };
    p.unregister(&alice, &d1(), sign_out).await.unwrap();
    assert!(
        !live_at(&s, &alice, 321).await,
        "a sign-out ends it at once"
    );
    assert!(
        !p.socket_alive(&alice, &d1(), alive("c1", 330, 620))
            .await
            .unwrap()
    );
}

/// A keep-alive may carry the Twilio state: a change is recorded and told (one
/// `devices.changed`), the same state again tells nothing.
async fn the_twilio_state_a_keep_alive_reports_is_recorded_and_told_once(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    let p = &s.presence;
    p.register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    let before = kinds_told(&s, &alice).await.len();
    for _ in 0..2 {
        let report = SocketAlive {
            twilio_state: Some(TwilioState::Unregistered),
            ..alive("c1", 10, 620)
        };
        assert!(p.socket_alive(&alice, &d1(), report).await.unwrap());
    }
    let devices = p.live_devices(&alice, at(20)).await.unwrap();
    assert_eq!(devices[0].twilio_state, Some(TwilioState::Unregistered));
    let told = kinds_told(&s, &alice).await;
    assert_eq!(told[before..], [EventKind::DevicesChanged]);
}

/// A client whose connection dropped heartbeats within the grace: the device is still live, so
/// the heartbeat keeps it (no 404, no new register); after the grace it is gone.
async fn a_heartbeat_within_the_grace_finds_the_device_live(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("a@x.io");
    let p = &s.presence;
    p.register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 50, 620))
            .await
            .unwrap()
    );
    p.socket_closed(&alice, &d1(), closed("c1", 600, 20))
        .await
        .unwrap();
    let device = d1();
    let beat = |t| {
        let update = HeartbeatUpdate {
            now_ms: at(t),
            ..HeartbeatUpdate::default()
        };
        p.heartbeat(&alice, &device, update)
    };
    assert!(matches!(
        beat(610).await.unwrap(),
        HeartbeatOutcome::Live(_)
    ));
    assert!(
        live_at(&s, &alice, 699).await,
        "the heartbeat's own TTL now"
    );
    assert!(!live_at(&s, &alice, 701).await);
    assert!(matches!(
        beat(800).await.unwrap(),
        HeartbeatOutcome::NotRegistered
    ));
}

/// A keep-alive of one user's device keeps nobody else's: not a colleague's device of the same
/// id, not a namesake's in another org.
async fn socket_presence_is_each_users_own(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("a@x.io"), key("b@x.io"));
    let namesake = key_in("org_other", "a@x.io");
    let p = &s.presence;
    p.register(registration("a@x.io", "d1", T0, 90))
        .await
        .unwrap();
    p.register(registration("b@x.io", "d1", T0, 90))
        .await
        .unwrap();
    assert!(
        p.socket_alive(&alice, &d1(), alive("c1", 10, 620))
            .await
            .unwrap()
    );
    assert!(
        !p.socket_alive(&namesake, &d1(), alive("c9", 10, 620))
            .await
            .unwrap()
    );
    assert!(live_at(&s, &alice, 500).await);
    assert!(!live_at(&s, &bob, 500).await);
    assert!(!live_at(&s, &namesake, 500).await);
    // Bob's close of a connection that is not his changes nothing of Alice's.
    p.socket_closed(&bob, &d1(), closed("c1", 20, 20))
        .await
        .unwrap();
    assert!(live_at(&s, &alice, 500).await);
}
