//! `MessageStore`: texts stored once, sends claimed once, statuses that only move forward (or
//! wait for their message), conversations and messages paged newest first, read marks, and
//! the budgets a text counts against.

use serde_json::json;
use shared::events::{Cursor, EventKind};
use shared::sms::keywords::OptChange;
use shared::sms::message::{Conversation, Direction, Inbox, Message, MessageLocation, Party};
use shared::store::PresenceKey;
use shared::store::messages::{
    InboundWrite, Notice, ReadMark, ReadWrite, SendClaim, SentWrite, SidState, StatusWrite,
};
use shared::store::rates::{Budget, NewRecipient, RateKind};

use super::{T0, key, key_in, kinds_told, told};
use crate::helpers::{StoreKind, Stores, stores};
use crate::on_both_stores;

on_both_stores!(
    text_budgets_count_to_their_limit_per_user_and_window,
    a_received_text_is_stored_once_and_told_once,
    an_older_text_fills_the_gap_without_becoming_the_latest,
    a_send_is_claimed_once_and_then_points_at_its_message,
    statuses_only_move_forward_whatever_their_order,
    a_status_that_beats_its_message_waits_for_it,
    conversations_page_newest_first_over_the_inboxes_asked_for,
    messages_page_newest_first_within_their_conversation,
    read_marks_only_move_forward_and_tell_the_readers_devices,
    an_opt_out_is_kept_on_the_conversation_even_before_any_text,
    a_send_claim_is_kept_a_day,
    a_first_read_mark_tells_even_before_any_inbound_text,
    a_held_status_is_kept_two_days,
    a_text_stored_as_latest_never_hides_a_newer_one,
);

const SALES: &str = "+14155551234";

fn inbox(phone_id: &str) -> Inbox {
    Inbox {
        org: key("x@x.io").org,
        phone_id: phone_id.into(),
    }
}

fn party(raw: &str) -> Party {
    Party::parse_field(raw, "with").unwrap()
}

/// The position of a message received or sent `seconds` after T0.
fn position(seconds: i64) -> String {
    Cursor::at(T0 + seconds * 1000).to_string()
}

fn sid(n: u32) -> String {
    format!("SM{n:032x}")
}

fn received(n: u32, from: &Party, seconds: i64) -> Message {
    Message {
        message_sid: sid(n),
        direction: Direction::Inbound,
        from: from.to_string(),
        to: SALES.into(),
        body: format!("text {n}"),
        media: Vec::new(),
        segments: 1,
        status: "received".into(),
        error_code: None,
        at: T0 + seconds * 1000,
        sent_by: None,
    }
}

fn sent(n: u32, to: &Party, seconds: i64) -> Message {
    Message {
        message_sid: sid(n),
        direction: Direction::Outbound,
        from: SALES.into(),
        to: to.to_string(),
        body: format!("reply {n}"),
        media: Vec::new(),
        segments: 1,
        status: "queued".into(),
        error_code: None,
        at: T0 + seconds * 1000,
        sent_by: Some("alice@example.com".into()),
    }
}

fn notice(kind: EventKind, to: &[&PresenceKey], data: serde_json::Value) -> Notice {
    Notice {
        kind,
        data,
        at: T0,
        to: to.iter().map(|&u| u.clone()).collect(),
    }
}

/// `message` received just now on `inbox`, telling `to`.
fn inbound(inbox: &Inbox, message: Message, seconds: i64, to: &[&PresenceKey]) -> InboundWrite {
    InboundWrite {
        inbox: inbox.clone(),
        phone_number: SALES.into(),
        with: party(&message.from),
        position: position(seconds),
        latest: true,
        opt_change: None,
        notice: notice(
            EventKind::SmsReceived,
            to,
            json!({"messageSid": message.message_sid}),
        ),
        message,
    }
}

/// `message` sent by alice with `client_message_id`, telling `to`.
fn outbound(
    inbox: &Inbox,
    message: Message,
    seconds: i64,
    client_message_id: &str,
    to: &[&PresenceKey],
) -> SentWrite {
    SentWrite {
        inbox: inbox.clone(),
        phone_number: SALES.into(),
        with: party(&message.to),
        position: position(seconds),
        sender: key("alice@example.com"),
        client_message_id: client_message_id.into(),
        notice: notice(EventKind::SmsSent, to, json!({"message": null})),
        message,
    }
}

fn location(inbox: &Inbox, with: &Party, seconds: i64) -> MessageLocation {
    MessageLocation {
        inbox: inbox.clone(),
        with: with.clone(),
        position: position(seconds),
    }
}

fn status(
    location: &MessageLocation,
    n: u32,
    status: &str,
    rank: u8,
    to: &[&PresenceKey],
) -> StatusWrite {
    StatusWrite {
        location: location.clone(),
        message_sid: sid(n),
        status: status.into(),
        rank,
        error_code: None,
        notice: notice(EventKind::SmsStatus, to, json!({"status": status})),
    }
}

/// Store `texts` on `inbox`, telling nobody: received ones as webhooks do, sent ones as sends
/// do (claim `c{n}`), each at the position of its time.
async fn store(s: &Stores, inbox: &Inbox, texts: &[Message]) {
    for text in texts {
        let seconds = (text.at - T0) / 1000;
        match text.direction {
            Direction::Inbound => {
                let write = inbound(inbox, text.clone(), seconds, &[]);
                assert!(s.messages.store_inbound(&write).await.unwrap());
            }
            Direction::Outbound => {
                let claim = format!("c{}", text.message_sid);
                let write = outbound(inbox, text.clone(), seconds, &claim, &[]);
                s.messages.store_sent(&write).await.unwrap();
            }
        }
    }
}

/// The conversation of `inbox` with `with`, which must be stored.
async fn stored_conversation(s: &Stores, inbox: &Inbox, with: &Party) -> Conversation {
    let conversation = s.messages.conversation(inbox, with).await.unwrap();
    conversation.expect("a stored conversation")
}

fn count(kinds: &[EventKind], kind: EventKind) -> usize {
    kinds.iter().filter(|k| **k == kind).count()
}

/// A repeated webhook stores nothing and tells nobody again; the text is found by its
/// location and its `MessageSid`, and its conversation counts it once.
async fn a_received_text_is_stored_once_and_told_once(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob, carol) = (
        key("alice@example.com"),
        key("bob@example.com"),
        key("carol@example.com"),
    );
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    let write = inbound(&sales, received(1, &customer, 1), 1, &[&alice, &bob]);
    assert!(s.messages.store_inbound(&write).await.unwrap());
    assert!(!s.messages.store_inbound(&write).await.unwrap(), "a repeat");

    let here = location(&sales, &customer, 1);
    assert_eq!(
        s.messages.message(&here).await.unwrap(),
        Some(received(1, &customer, 1))
    );
    assert_eq!(
        s.messages.sid_state(&sid(1), T0).await.unwrap(),
        SidState::Stored(here.clone())
    );
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert_eq!(conversation.last_message, Some(received(1, &customer, 1)));
    assert_eq!(conversation.inbound, 1, "counted once");
    assert!(conversation.started_inbound);
    assert!(!conversation.opted_out);
    assert_eq!(conversation.activity, position(1));
    assert_eq!(
        (
            conversation.phone_id.as_str(),
            conversation.phone_number.as_str()
        ),
        ("phone-sales", SALES)
    );
    for user in [&alice, &bob] {
        assert_eq!(
            kinds_told(&s, user).await,
            vec![EventKind::SmsReceived],
            "told once"
        );
    }
    assert!(
        told(&s, &carol).await.is_empty(),
        "only the notice's users are told"
    );

    // Nothing of it in another inbox, nor in the same phone id of another org.
    let elsewhere = Inbox {
        org: key_in("org_other", "x@x.io").org,
        phone_id: "phone-sales".into(),
    };
    for other in [inbox("phone-support"), elsewhere] {
        assert_eq!(
            s.messages.conversation(&other, &customer).await.unwrap(),
            None
        );
        let there = MessageLocation {
            inbox: other.clone(),
            ..here.clone()
        };
        assert_eq!(s.messages.message(&there).await.unwrap(), None);
    }
    assert_eq!(
        s.messages.sid_state(&sid(2), T0).await.unwrap(),
        SidState::Unknown
    );

    // STOP and START move the conversation's opt-out with the text that says them.
    let mut stop = inbound(&sales, received(2, &customer, 2), 2, &[&alice]);
    stop.opt_change = Some(OptChange::OptOut);
    assert!(s.messages.store_inbound(&stop).await.unwrap());
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert!(conversation.opted_out);
    assert_eq!(conversation.inbound, 2);
    let mut start = inbound(&sales, received(3, &customer, 3), 3, &[&alice]);
    start.opt_change = Some(OptChange::OptIn);
    assert!(s.messages.store_inbound(&start).await.unwrap());
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert!(!conversation.opted_out);
}

/// A reconciled text older than what the conversation shows is stored and counted, but the
/// conversation keeps showing the newer one.
async fn an_older_text_fills_the_gap_without_becoming_the_latest(kind: StoreKind) {
    let s = stores(kind).await;
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    let alice = key("alice@example.com");
    let newer = inbound(&sales, received(2, &customer, 20), 20, &[&alice]);
    assert!(s.messages.store_inbound(&newer).await.unwrap());
    let mut older = inbound(&sales, received(1, &customer, 10), 10, &[&alice]);
    older.latest = false;
    assert!(s.messages.store_inbound(&older).await.unwrap());
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert_eq!(
        conversation.last_message.map(|m| m.message_sid),
        Some(sid(2))
    );
    assert_eq!(conversation.activity, position(20));
    assert_eq!(conversation.inbound, 2);
    assert_eq!(
        s.messages
            .message(&location(&sales, &customer, 10))
            .await
            .unwrap(),
        Some(received(1, &customer, 10))
    );
    // A first text that is reconciled still starts its conversation.
    let other = party("+14158675310");
    let mut first = inbound(&sales, received(3, &other, 5), 5, &[&alice]);
    first.latest = false;
    assert!(s.messages.store_inbound(&first).await.unwrap());
    let conversation = stored_conversation(&s, &sales, &other).await;
    assert_eq!(
        conversation.last_message.map(|m| m.message_sid),
        Some(sid(3))
    );
    assert_eq!(conversation.activity, position(5));
}

/// A `clientMessageId` is the sender's own: claimed once, given up only while in flight, and
/// once sent it answers where the message is. The sent text is stored with its conversation
/// and told to every user of the number with the message as stored.
async fn a_send_is_claimed_once_and_then_points_at_its_message(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    let texts = Budget::per_minute(RateKind::Texts, 100);
    let claim = |user: &PresenceKey, id: &'static str| {
        let (messages, user) = (s.messages.clone(), user.clone());
        async move { messages.claim_send(&user, id, &texts, T0).await.unwrap() }
    };
    assert_eq!(claim(&alice, "c1").await, SendClaim::Claimed);
    assert_eq!(claim(&alice, "c1").await, SendClaim::InFlight);
    assert_eq!(
        claim(&bob, "c1").await,
        SendClaim::Claimed,
        "each sender's own ids"
    );
    s.messages.release_send(&alice, "c1").await.unwrap();
    assert_eq!(
        claim(&alice, "c1").await,
        SendClaim::Claimed,
        "released: sendable again"
    );
    assert_eq!(
        claim(&bob, "c1").await,
        SendClaim::InFlight,
        "bob's claim stands"
    );

    let stored = s
        .messages
        .store_sent(&outbound(
            &sales,
            sent(1, &customer, 1),
            1,
            "c1",
            &[&alice, &bob],
        ))
        .await
        .unwrap();
    assert_eq!(stored, sent(1, &customer, 1));
    let here = location(&sales, &customer, 1);
    assert_eq!(claim(&alice, "c1").await, SendClaim::Sent(here.clone()));
    s.messages.release_send(&alice, "c1").await.unwrap();
    assert_eq!(
        claim(&alice, "c1").await,
        SendClaim::Sent(here.clone()),
        "a sent claim stays"
    );

    assert_eq!(
        s.messages.message(&here).await.unwrap(),
        Some(sent(1, &customer, 1))
    );
    assert_eq!(
        s.messages.sid_state(&sid(1), T0).await.unwrap(),
        SidState::Stored(here)
    );
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert_eq!(conversation.last_message, Some(sent(1, &customer, 1)));
    assert_eq!(conversation.inbound, 0);
    assert!(!conversation.started_inbound, "started by this side");
    for user in [&alice, &bob] {
        let events = told(&s, user).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::SmsSent);
        assert_eq!(
            events[0].data["message"]["messageSid"],
            sid(1),
            "the stored message"
        );
    }
}

/// Status callbacks twice or out of order converge on the furthest status; only a status
/// that moved the message is told. The conversation's copy follows while it is the latest.
async fn statuses_only_move_forward_whatever_their_order(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    s.messages
        .store_sent(&outbound(&sales, sent(1, &customer, 1), 1, "c1", &[]))
        .await
        .unwrap();
    let first = location(&sales, &customer, 1);
    let apply = |write: StatusWrite| {
        let messages = s.messages.clone();
        async move { messages.apply_status(&write).await.unwrap() }
    };
    assert!(apply(status(&first, 1, "delivered", 3, &[&alice])).await);
    assert!(
        !apply(status(&first, 1, "sent", 2, &[&alice])).await,
        "late"
    );
    assert!(
        !apply(status(&first, 1, "delivered", 3, &[&alice])).await,
        "repeated"
    );
    assert!(
        !apply(status(&first, 1, "failed", 3, &[&alice])).await,
        "a final status stays"
    );
    assert!(apply(status(&first, 1, "read", 4, &[&alice])).await);
    let message = s.messages.message(&first).await.unwrap().unwrap();
    assert_eq!(message.status, "read");
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert_eq!(
        conversation.last_message.unwrap().status,
        "read",
        "the latest follows"
    );
    assert_eq!(
        count(&kinds_told(&s, &alice).await, EventKind::SmsStatus),
        2,
        "told per move"
    );

    // An error code comes with its status; the conversation's latest is now another message.
    s.messages
        .store_sent(&outbound(&sales, sent(2, &customer, 2), 2, "c2", &[]))
        .await
        .unwrap();
    let mut undelivered = status(&first, 1, "undelivered", 3, &[]);
    undelivered.location = location(&sales, &customer, 2);
    undelivered.message_sid = sid(2);
    undelivered.error_code = Some(30005);
    assert!(apply(undelivered).await);
    let second = s
        .messages
        .message(&location(&sales, &customer, 2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.status.as_str(), second.error_code),
        ("undelivered", Some(30005))
    );
    let conversation = stored_conversation(&s, &sales, &customer).await;
    let last = conversation.last_message.unwrap();
    assert_eq!(
        (last.message_sid, last.status, last.error_code),
        (sid(2), "undelivered".into(), Some(30005))
    );
    assert_eq!(
        s.messages.message(&first).await.unwrap().unwrap().status,
        "read",
        "untouched"
    );

    // A status for a location that holds nothing changes and tells nothing.
    let before = told(&s, &alice).await.len();
    assert!(
        !apply(status(
            &location(&sales, &customer, 3),
            9,
            "sent",
            2,
            &[&alice]
        ))
        .await
    );
    assert_eq!(
        s.messages
            .message(&location(&sales, &customer, 3))
            .await
            .unwrap(),
        None
    );
    assert_eq!(told(&s, &alice).await.len(), before);
}

/// A status callback that comes before its message is stored is held (the furthest one), and
/// the message takes it when it is stored; after that the message's location answers.
async fn a_status_that_beats_its_message_waits_for_it(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    let hold = |status: &'static str, rank, error_code| {
        let messages = s.messages.clone();
        async move {
            messages
                .hold_status(&sid(1), status, rank, error_code, T0)
                .await
                .unwrap()
        }
    };
    let pending = |status: &str, rank, error_code| SidState::Pending {
        status: status.into(),
        rank,
        error_code,
    };
    assert_eq!(hold("sent", 2, None).await, pending("sent", 2, None));
    assert_eq!(
        hold("sending", 1, None).await,
        pending("sent", 2, None),
        "late"
    );
    assert_eq!(
        hold("sent", 2, None).await,
        pending("sent", 2, None),
        "repeated"
    );
    assert_eq!(
        hold("undelivered", 3, Some(30005)).await,
        pending("undelivered", 3, Some(30005))
    );
    assert_eq!(
        s.messages.sid_state(&sid(1), T0).await.unwrap(),
        pending("undelivered", 3, Some(30005))
    );

    let stored = s
        .messages
        .store_sent(&outbound(&sales, sent(1, &customer, 1), 1, "c1", &[&alice]))
        .await
        .unwrap();
    assert_eq!(
        (stored.status.as_str(), stored.error_code),
        ("undelivered", Some(30005))
    );
    let here = location(&sales, &customer, 1);
    assert_eq!(
        s.messages.message(&here).await.unwrap(),
        Some(stored.clone())
    );
    let last = stored_conversation(&s, &sales, &customer)
        .await
        .last_message;
    assert_eq!(last, Some(stored));
    assert_eq!(
        s.messages.sid_state(&sid(1), T0).await.unwrap(),
        SidState::Stored(here.clone())
    );
    assert_eq!(
        hold("read", 4, None).await,
        SidState::Stored(here),
        "apply it instead"
    );
    let events = told(&s, &alice).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].data["message"]["status"], "undelivered",
        "told as stored"
    );
}

/// The conversations of the inboxes asked for, by latest activity, newest first, paged by
/// activity; never another inbox's or org's, nor one that holds no message yet.
async fn conversations_page_newest_first_over_the_inboxes_asked_for(kind: StoreKind) {
    let s = stores(kind).await;
    let (sales, support) = (inbox("phone-sales"), inbox("phone-support"));
    let other_org = Inbox {
        org: key_in("org_other", "x@x.io").org,
        phone_id: "phone-sales".into(),
    };
    let (p1, p2, p3) = (
        party("+14158675301"),
        party("+14158675302"),
        party("+14158675303"),
    );
    let store = |inbox: &Inbox, n: u32, with: &Party, seconds| {
        let (messages, write) = (
            s.messages.clone(),
            inbound(inbox, received(n, with, seconds), seconds, &[]),
        );
        async move { assert!(messages.store_inbound(&write).await.unwrap()) }
    };
    store(&sales, 1, &p1, 1).await;
    store(&support, 2, &p2, 2).await;
    store(&sales, 3, &p3, 3).await;
    store(&other_org, 4, &p1, 4).await;
    s.messages
        .set_opted_out(&sales, SALES, &party("+14158675304"), true)
        .await
        .unwrap();

    let list = |inboxes: Vec<Inbox>, before: Option<String>, limit| {
        let messages = s.messages.clone();
        async move {
            messages
                .conversations(&inboxes, before.as_deref(), limit)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.phone_id, c.with.to_string()))
                .collect::<Vec<_>>()
        }
    };
    let both = vec![sales.clone(), support.clone()];
    let entry = |phone: &str, with: &Party| (phone.to_owned(), with.to_string());
    assert_eq!(
        list(both.clone(), None, 10).await,
        vec![
            entry("phone-sales", &p3),
            entry("phone-support", &p2),
            entry("phone-sales", &p1)
        ]
    );
    assert_eq!(
        list(both.clone(), None, 2).await,
        vec![entry("phone-sales", &p3), entry("phone-support", &p2)]
    );
    assert_eq!(
        list(both.clone(), Some(position(2)), 2).await,
        vec![entry("phone-sales", &p1)]
    );
    assert_eq!(list(both.clone(), Some(position(1)), 2).await, Vec::new());
    assert_eq!(
        list(vec![sales.clone()], None, 10).await,
        vec![entry("phone-sales", &p3), entry("phone-sales", &p1)]
    );
    assert_eq!(list(Vec::new(), None, 10).await, Vec::new());
    // New activity moves a conversation up.
    store(&sales, 5, &p1, 5).await;
    assert_eq!(list(both, None, 1).await, vec![entry("phone-sales", &p1)]);
    let latest = s.messages.conversations(&[sales], None, 1).await.unwrap();
    assert_eq!(latest[0].activity, position(5));
}

/// A conversation's messages newest first, each with its position, paged by position; never
/// another party's, even one whose number begins with this one's.
async fn messages_page_newest_first_within_their_conversation(kind: StoreKind) {
    let s = stores(kind).await;
    let sales = inbox("phone-sales");
    let (customer, longer) = (party("+1415867530"), party("+14158675309"));
    let texts = [
        received(1, &customer, 1),
        sent(2, &customer, 2),
        received(3, &longer, 3),
        received(4, &customer, 4),
    ];
    store(&s, &sales, &texts).await;
    store(&s, &inbox("phone-support"), &[received(5, &customer, 5)]).await;
    let page = |before: Option<String>, limit| {
        let (messages, sales, customer) = (s.messages.clone(), sales.clone(), customer.clone());
        async move {
            messages
                .messages(&sales, &customer, before.as_deref(), limit)
                .await
                .unwrap()
                .into_iter()
                .map(|(position, m)| (position, m.message_sid))
                .collect::<Vec<_>>()
        }
    };
    let at = |n: u32, seconds| (position(seconds), sid(n));
    assert_eq!(page(None, 10).await, vec![at(4, 4), at(2, 2), at(1, 1)]);
    assert_eq!(page(None, 2).await, vec![at(4, 4), at(2, 2)]);
    assert_eq!(
        page(Some(position(2)), 2).await,
        vec![at(1, 1)],
        "before is exclusive"
    );
    assert_eq!(
        page(Some(position(3)), 1).await,
        vec![at(2, 2)],
        "between two positions"
    );
    assert_eq!(page(Some(position(1)), 10).await, Vec::new());
    let full = s
        .messages
        .messages(&sales, &customer, None, 1)
        .await
        .unwrap();
    assert_eq!(
        full[0].1,
        received(4, &customer, 4),
        "the message as stored"
    );
    assert!(
        s.messages
            .messages(&sales, &party("+1415"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A read mark counts the inbound texts up to the message read, never moves back, and tells
/// the reader's own devices when it moves; each user has their own.
async fn read_marks_only_move_forward_and_tell_the_readers_devices(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    let texts = [
        received(1, &customer, 1),
        sent(2, &customer, 2),
        received(3, &customer, 3),
    ];
    store(&s, &sales, &texts).await;
    let read = |user: &PresenceKey, n: u32, seconds| {
        let (messages, user) = (s.messages.clone(), user.clone());
        let write = ReadWrite {
            up_to: location(&sales, &customer, seconds),
            up_to_sid: sid(n),
            inbound: 2,
            now_ms: T0 + 10_000,
        };
        async move {
            messages
                .mark_read(&user, &write)
                .await
                .unwrap()
                .read_inbound
        }
    };
    assert_eq!(
        read(&alice, 2, 2).await,
        1,
        "one inbound text up to the reply"
    );
    assert_eq!(read(&alice, 1, 1).await, 1, "never back");
    assert_eq!(read(&alice, 2, 2).await, 1, "again");
    assert_eq!(read(&alice, 3, 3).await, 2);
    // Told only when it moved (in either order: both events have the same time).
    let mut events: Vec<_> = told(&s, &alice)
        .await
        .into_iter()
        .map(|e| (e.kind, e.data["upTo"].clone(), e.data["unread"].clone()))
        .collect();
    events.sort_by_key(|(_, up_to, _)| up_to.to_string());
    assert_eq!(
        events,
        vec![
            (EventKind::SmsRead, json!(sid(2)), json!(1)),
            (EventKind::SmsRead, json!(sid(3)), json!(0)),
        ]
    );

    assert_eq!(
        s.messages.read_marks(&alice).await.unwrap(),
        vec![ReadMark {
            phone_id: "phone-sales".into(),
            with: customer.clone(),
            read_inbound: 2
        }]
    );
    assert!(
        s.messages.read_marks(&bob).await.unwrap().is_empty(),
        "each user's own"
    );
    assert!(told(&s, &bob).await.is_empty());
    let namesake = key_in("org_other", "alice@example.com");
    assert!(
        s.messages.read_marks(&namesake).await.unwrap().is_empty(),
        "each org's own"
    );
    assert_eq!(read(&bob, 1, 1).await, 1);
    assert_eq!(
        s.messages.read_marks(&bob).await.unwrap()[0].read_inbound,
        1
    );
}

/// An opt-out learnt from a refused send is kept on the conversation, created if need be; a
/// conversation holding no text is not listed, but it makes the party a known one.
async fn an_opt_out_is_kept_on_the_conversation_even_before_any_text(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    s.messages
        .set_opted_out(&sales, SALES, &customer, true)
        .await
        .unwrap();
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert!(conversation.opted_out);
    assert_eq!(conversation.last_message, None);
    assert_eq!(
        (conversation.inbound, conversation.phone_number.as_str()),
        (0, SALES)
    );
    assert!(
        s.messages
            .conversations(std::slice::from_ref(&sales), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.messages
            .conversation(&inbox("phone-support"), &customer)
            .await
            .unwrap(),
        None
    );
    let budget = Budget::per_day(RateKind::NewRecipients, 10);
    assert_eq!(
        s.messages
            .count_new_recipient(&alice, &budget, &sales, &customer, T0)
            .await
            .unwrap(),
        NewRecipient::Known
    );

    // A text then keeps the opt-out, and the conversation is listed.
    s.messages
        .store_inbound(&inbound(&sales, received(1, &customer, 1), 1, &[]))
        .await
        .unwrap();
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert!(conversation.opted_out);
    assert!(conversation.started_inbound);
    assert_eq!(
        s.messages
            .conversations(std::slice::from_ref(&sales), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    s.messages
        .set_opted_out(&sales, SALES, &customer, false)
        .await
        .unwrap();
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert!(!conversation.opted_out);
    assert_eq!(
        conversation.last_message.map(|m| m.message_sid),
        Some(sid(1)),
        "kept"
    );
}

async fn text_budgets_count_to_their_limit_per_user_and_window(kind: StoreKind) {
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
}

/// A claim is remembered a day (what the trait says): after that, the same id is a new send.
async fn a_send_claim_is_kept_a_day(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let texts = Budget::per_minute(RateKind::Texts, 100);
    let claim = |now_ms| {
        let (messages, alice) = (s.messages.clone(), alice.clone());
        async move {
            messages
                .claim_send(&alice, "c1", &texts, now_ms)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim(T0).await, SendClaim::Claimed);
    assert_eq!(claim(T0 + 86_399_000).await, SendClaim::InFlight);
    assert_eq!(claim(T0 + 86_400_000).await, SendClaim::Claimed);
}

/// A status waits two days for its message (the DynamoDB store's `HELD_STATUS_SECONDS`);
/// after that it is forgotten, and a later callback is held afresh whatever its rank.
async fn a_held_status_is_kept_two_days(kind: StoreKind) {
    let s = stores(kind).await;
    let two_days = 2 * 86_400_000;
    s.messages
        .hold_status(&sid(1), "delivered", 3, None, T0)
        .await
        .unwrap();
    let delivered = SidState::Pending {
        status: "delivered".into(),
        rank: 3,
        error_code: None,
    };
    assert_eq!(
        s.messages
            .sid_state(&sid(1), T0 + two_days - 1000)
            .await
            .unwrap(),
        delivered
    );
    assert_eq!(
        s.messages.sid_state(&sid(1), T0 + two_days).await.unwrap(),
        SidState::Unknown
    );
    let later = s
        .messages
        .hold_status(&sid(1), "sent", 2, None, T0 + two_days)
        .await
        .unwrap();
    let held = SidState::Pending {
        status: "sent".into(),
        rank: 2,
        error_code: None,
    };
    assert_eq!(later, held);
    assert_eq!(
        s.messages.sid_state(&sid(1), T0 + two_days).await.unwrap(),
        held,
        "held afresh, not refused by the expired rank"
    );
}

/// A first mark is set (and told) even when it covers no inbound text, on a conversation of
/// replies only: the reader's other devices learn it is read; a repeat tells nothing.
async fn a_first_read_mark_tells_even_before_any_inbound_text(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    s.messages
        .store_sent(&outbound(&sales, sent(1, &customer, 1), 1, "c1", &[]))
        .await
        .unwrap();
    let read = ReadWrite {
        up_to: location(&sales, &customer, 1),
        up_to_sid: sid(1),
        inbound: 0,
        now_ms: T0 + 2000,
    };
    let mark = s.messages.mark_read(&alice, &read).await.unwrap();
    assert_eq!(mark.read_inbound, 0);
    let events: Vec<_> = told(&s, &alice)
        .await
        .into_iter()
        .map(|e| (e.kind, e.data["upTo"].clone(), e.data["unread"].clone()))
        .collect();
    assert_eq!(events, vec![(EventKind::SmsRead, json!(sid(1)), json!(0))]);
    s.messages.mark_read(&alice, &read).await.unwrap();
    assert_eq!(told(&s, &alice).await.len(), 1, "a repeat tells nothing");
    assert_eq!(s.messages.read_marks(&alice).await.unwrap(), vec![mark]);
}

/// A conversation's latest is its newest message by position, whichever was stored last (a
/// webhook's text whose cursor was taken before a reply that was stored first).
async fn a_text_stored_as_latest_never_hides_a_newer_one(kind: StoreKind) {
    let s = stores(kind).await;
    let (sales, customer) = (inbox("phone-sales"), party("+14158675309"));
    s.messages
        .store_sent(&outbound(&sales, sent(2, &customer, 20), 20, "c2", &[]))
        .await
        .unwrap();
    let alice = key("alice@example.com");
    let stored = s
        .messages
        .store_inbound(&inbound(&sales, received(1, &customer, 10), 10, &[&alice]))
        .await
        .unwrap();
    assert!(stored, "stored and told, only not the latest");
    assert_eq!(kinds_told(&s, &alice).await, vec![EventKind::SmsReceived]);
    // A reply whose cursor was taken before the newest text, stored after it, likewise.
    s.messages
        .store_sent(&outbound(&sales, sent(3, &customer, 15), 15, "c3", &[]))
        .await
        .unwrap();
    let conversation = stored_conversation(&s, &sales, &customer).await;
    assert_eq!(
        conversation.last_message.map(|m| m.message_sid),
        Some(sid(2))
    );
    assert_eq!(conversation.activity, position(20));
    assert_eq!(conversation.inbound, 1);
    let listed: Vec<_> = s
        .messages
        .messages(&sales, &customer, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, m)| m.message_sid)
        .collect();
    assert_eq!(listed, vec![sid(2), sid(3), sid(1)]);
    let repeat = s
        .messages
        .store_inbound(&inbound(&sales, received(1, &customer, 10), 10, &[&alice]))
        .await
        .unwrap();
    assert!(!repeat, "a repeat is still a repeat");
    assert_eq!(kinds_told(&s, &alice).await.len(), 1);
}
