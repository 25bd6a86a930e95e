//! `EventStore`: a user's event log read after a cursor, and their devices' realtime
//! connections, each opened once per ticket; `EventSink`: what a store hands on in-process.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use shared::domain::{Capabilities, DeviceId};
use shared::events::{Cursor, Event, EventKind};
use shared::history::{CallBase, Direction, Fact, MissedReason};
use shared::store::history::HistoryWrite;
use shared::store::memory::MemoryStore;
use shared::store::messages::Notice;
use shared::store::{
    CONNECTION_MAX_SECONDS, CallEvent, CallProgress, Connected, Connection, ConnectionOwner,
    EventSink, PresenceKey, SpentTicket,
};

use super::{T0, key, key_in, told};
use crate::helpers::{StoreKind, Stores, dynamo_store, stores};
use crate::on_both_stores;

on_both_stores!(
    events_are_read_after_a_cursor_oldest_first_up_to_a_limit,
    expired_events_are_never_read_nor_counted_against_the_limit,
    a_ticket_opens_one_connection_and_each_user_sees_their_own,
    a_connection_is_forgotten_on_disconnect_or_when_it_expires,
    the_sink_is_handed_exactly_the_events_written,
    a_disconnect_under_another_user_leaves_the_connection_alone,
);

/// Far from the other contract tests' times: a process's cursors only increase, and may run up
/// to a second ahead of their time when other writers are close by; events here are two
/// seconds apart, so their order in the log is their order in time.
const BASE: i64 = T0 + 30 * 86_400_000;
/// Events stay readable this long (the stores' default retention).
const RETENTION_MS: i64 = 7 * 86_400_000;

/// Event `n` of `user`: call `n` answered, at `BASE + 2n` seconds.
async fn write_event(s: &Stores, user: &PresenceKey, n: i64) {
    s.presence
        .record_call(
            user,
            CallEvent {
                call_sid: call_sid(n),
                progress: CallProgress::Answered,
                now_ms: BASE + n * 2000,
                expires_at: BASE / 1000 + 86_400,
            },
        )
        .await
        .unwrap();
}

fn call_sid(n: i64) -> String {
    format!("CA{n:032x}")
}

/// Which events these are: the calls they tell of.
fn calls(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            assert_eq!(e.kind, EventKind::CallState);
            e.data["callSid"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

fn sids(ns: &[i64]) -> Vec<String> {
    ns.iter().map(|n| call_sid(*n)).collect()
}

async fn events_are_read_after_a_cursor_oldest_first_up_to_a_limit(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    for n in 1..=5 {
        write_event(&s, &alice, n).await;
    }
    write_event(&s, &bob, 9).await;
    let now = BASE + 60_000;
    let read = |after: Cursor, limit| {
        let (events, alice) = (s.events.clone(), alice.clone());
        async move {
            events
                .events_after(&alice, &after, limit, now)
                .await
                .unwrap()
        }
    };
    let all = read(Cursor::at(0), 100).await;
    assert_eq!(calls(&all), sids(&[1, 2, 3, 4, 5]), "oldest first");
    assert_eq!(calls(&read(Cursor::at(0), 2).await), sids(&[1, 2]));
    let second = all[1].cursor.clone();
    assert_eq!(
        calls(&read(second.clone(), 100).await),
        sids(&[3, 4, 5]),
        "after is exclusive"
    );
    assert_eq!(calls(&read(second, 1).await), sids(&[3]));
    assert!(read(all[4].cursor.clone(), 100).await.is_empty());
    // A cursor at a time comes before every event at or after it.
    assert_eq!(
        calls(&read(Cursor::at(BASE + 4000), 100).await),
        sids(&[2, 3, 4, 5])
    );
    assert_eq!(
        calls(&read(Cursor::at(BASE + 5000), 100).await),
        sids(&[3, 4, 5])
    );

    // Each user's own log.
    let bobs = s
        .events
        .events_after(&bob, &Cursor::at(0), 100, now)
        .await
        .unwrap();
    assert_eq!(calls(&bobs), sids(&[9]));
    for stranger in [
        key("carol@example.com"),
        key_in("org_other", "alice@example.com"),
    ] {
        let none = s
            .events
            .events_after(&stranger, &Cursor::at(0), 100, now)
            .await;
        assert!(none.unwrap().is_empty());
    }
}

async fn expired_events_are_never_read_nor_counted_against_the_limit(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    for n in 1..=5 {
        write_event(&s, &alice, n).await;
    }
    let read = |limit, now_ms| {
        let (events, alice) = (s.events.clone(), alice.clone());
        async move {
            let read = events
                .events_after(&alice, &Cursor::at(0), limit, now_ms)
                .await;
            calls(&read.unwrap())
        }
    };
    // Event 3 (at BASE + 6 s) is readable until its retention ends, to the millisecond.
    let third_expires = BASE + 6000 + RETENTION_MS;
    assert_eq!(read(100, third_expires - 1).await, sids(&[3, 4, 5]));
    assert_eq!(read(100, third_expires).await, sids(&[4, 5]));
    assert_eq!(
        read(1, third_expires).await,
        sids(&[4]),
        "the page is still full"
    );
    assert!(read(100, BASE + 10_000 + RETENTION_MS).await.is_empty());
}

fn connection(id: &str, device: &str, opened_ms: i64) -> Connection {
    Connection {
        id: id.into(),
        device_id: DeviceId::parse(device).unwrap(),
        capabilities: Capabilities::parse(&["sms"]).unwrap(),
        expires_at: opened_ms / 1000 + i64::from(CONNECTION_MAX_SECONDS),
    }
}

fn ticket(id: &str, issued_ms: i64) -> SpentTicket {
    SpentTicket {
        id: id.into(),
        expires_at: issued_ms / 1000 + 60,
    }
}

/// Sorted by id: the order connections are listed in is not part of the contract.
async fn open(s: &Stores, user: &PresenceKey, now_ms: i64) -> Vec<Connection> {
    let mut open = s.events.connections(user, now_ms).await.unwrap();
    open.sort_by(|a, b| a.id.cmp(&b.id));
    open
}

/// A ticket already spent opens nothing, whichever connection presents it; each user lists
/// only their own connections, and each connection names its owner.
async fn a_ticket_opens_one_connection_and_each_user_sees_their_own(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let (c1, c2, c3) = (
        connection("c1", "d1", BASE),
        connection("c2", "d2", BASE),
        connection("c3", "d1", BASE),
    );
    let connect = |user: &PresenceKey, connection: &Connection, ticket_id: &str| {
        let (events, user, connection) = (s.events.clone(), user.clone(), connection.clone());
        let ticket = ticket(ticket_id, BASE);
        async move { events.connect(&user, &connection, &ticket).await.unwrap() }
    };
    assert_eq!(connect(&alice, &c1, "t1").await, Connected::Opened);
    assert_eq!(connect(&alice, &c2, "t1").await, Connected::TicketSpent);
    assert_eq!(
        open(&s, &alice, BASE).await,
        vec![c1.clone()],
        "nothing recorded"
    );
    assert_eq!(s.events.connection_owner("c2").await.unwrap(), None);
    assert_eq!(connect(&alice, &c2, "t2").await, Connected::Opened);
    assert_eq!(connect(&bob, &c3, "t3").await, Connected::Opened);

    assert_eq!(open(&s, &alice, BASE).await, vec![c1, c2]);
    assert_eq!(open(&s, &bob, BASE).await, vec![c3]);
    let namesake = key_in("org_other", "alice@example.com");
    assert!(open(&s, &namesake, BASE).await.is_empty());
    assert_eq!(
        s.events.connection_owner("c1").await.unwrap(),
        Some(owner(&alice, "d1"))
    );
    assert_eq!(
        s.events.connection_owner("c3").await.unwrap(),
        Some(owner(&bob, "d1"))
    );
    assert_eq!(s.events.connection_owner("c9").await.unwrap(), None);
}

/// A disconnect forgets the connection and its owner, and says so again when repeated; a
/// connection nobody closed stops counting when it expires, to the second.
async fn a_connection_is_forgotten_on_disconnect_or_when_it_expires(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let (c1, c2) = (
        connection("c1", "d1", BASE),
        connection("c2", "d2", BASE + 60_000),
    );
    for (connection, ticket_id, opened) in [(&c1, "t1", BASE), (&c2, "t2", BASE + 60_000)] {
        let ticket = ticket(ticket_id, opened);
        let connected = s.events.connect(&alice, connection, &ticket).await.unwrap();
        assert_eq!(connected, Connected::Opened);
    }
    s.events.disconnect(&alice, "c1").await.unwrap();
    assert_eq!(open(&s, &alice, BASE + 60_000).await, vec![c2.clone()]);
    assert_eq!(s.events.connection_owner("c1").await.unwrap(), None);
    s.events.disconnect(&alice, "c1").await.unwrap();
    s.events.disconnect(&alice, "never-opened").await.unwrap();
    assert_eq!(open(&s, &alice, BASE + 60_000).await, vec![c2.clone()]);

    let closes_ms = c2.expires_at * 1000;
    assert_eq!(open(&s, &alice, closes_ms - 1).await, vec![c2]);
    assert!(open(&s, &alice, closes_ms).await.is_empty());
}

/// A disconnect names the connection's user: under another user it forgets nothing.
async fn a_disconnect_under_another_user_leaves_the_connection_alone(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let c1 = connection("c1", "d1", BASE);
    let opened = s.events.connect(&alice, &c1, &ticket("t1", BASE)).await;
    assert_eq!(opened.unwrap(), Connected::Opened);
    s.events.disconnect(&bob, "c1").await.unwrap();
    assert_eq!(open(&s, &alice, BASE).await, vec![c1]);
    assert_eq!(
        s.events.connection_owner("c1").await.unwrap(),
        Some(owner(&alice, "d1"))
    );
}

/// Whose a connection is: its user and its device.
fn owner(user: &PresenceKey, device: &str) -> ConnectionOwner {
    ConnectionOwner {
        user: user.clone(),
        device_id: Some(DeviceId::parse(device).unwrap()),
    }
}

/// What a store hands its sink: each user's events, as written.
#[derive(Default)]
struct Handed(Mutex<Vec<(PresenceKey, Event)>>);

#[async_trait]
impl EventSink for Handed {
    async fn published(&self, user: &PresenceKey, events: &[Event]) {
        let mut handed = self.0.lock().unwrap();
        handed.extend(events.iter().map(|e| (user.clone(), e.clone())));
    }
}

impl Handed {
    /// The cursors handed for `user`, sorted.
    fn cursors(&self, user: &PresenceKey) -> Vec<Cursor> {
        let handed = self.0.lock().unwrap();
        let mut cursors: Vec<Cursor> = handed
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, e)| e.cursor.clone())
            .collect();
        cursors.sort();
        cursors
    }
}

/// The stores of `kind`, handing what they write to `sink`.
async fn stores_with_sink(kind: StoreKind, sink: Arc<Handed>) -> Stores {
    match kind {
        StoreKind::Memory => Stores::on_memory(MemoryStore::new().with_sink(sink)),
        StoreKind::Dynamo => Stores::on_dynamo(dynamo_store().await.with_sink(sink)),
    }
}

/// In-process delivery (the local server's realtime hub) gets every event written, once, to
/// its user, and nothing for a write that changed nothing: exactly what the log holds.
async fn the_sink_is_handed_exactly_the_events_written(kind: StoreKind) {
    let sink = Arc::new(Handed::default());
    let s = stores_with_sink(kind, sink.clone()).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    for n in 1..=2 {
        write_event(&s, &alice, n).await;
    }
    write_event(&s, &alice, 2).await;
    write_event(&s, &bob, 3).await;
    let seen = Notice {
        kind: EventKind::CallsSeen,
        data: serde_json::json!({}),
        at: BASE,
        to: vec![alice.clone()],
    };
    // A seen mark on a call not in the history changes nothing, so tells nothing.
    let position = shared::store::history::position(BASE, &call_sid(1));
    s.history.mark_seen(&alice, &position, &seen).await.unwrap();
    // A missed call tells both users once (in the transaction of the fact), a repeat nobody.
    let missed = HistoryWrite {
        base: CallBase {
            call_sid: call_sid(4),
            direction: Direction::Inbound,
            from: "+14158675309".into(),
            to: "+14155551234".into(),
            phone_id: None,
            phone_number: None,
            started_at: BASE,
        },
        users: vec![alice.clone(), bob.clone()],
        fact: Fact::Missed(MissedReason::NoAnswer),
        offer: None,
        expires_at: BASE / 1000 + 86_400,
        notice: Some(Notice {
            kind: EventKind::CallMissed,
            at: BASE + 10_000,
            to: vec![alice.clone(), bob.clone()],
            ..seen.clone()
        }),
    };
    for _ in 0..2 {
        s.history.record(&missed, None).await.unwrap();
    }

    for (user, told_events) in [(&alice, 3), (&bob, 2)] {
        let mut logged: Vec<Cursor> = told(&s, user).await.into_iter().map(|e| e.cursor).collect();
        logged.sort();
        assert_eq!(logged.len(), told_events);
        assert_eq!(sink.cursors(user), logged);
    }
}
