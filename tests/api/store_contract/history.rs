//! `HistoryStore`: facts recorded once per call and user, pages of a user's history, the seen
//! mark, voicemails, and the budget of calls placed to the public network.

use serde_json::json;
use shared::events::EventKind;
use shared::history::{
    AnsweredBy, CallBase, Direction, Fact, MissedReason, Offer, Outcome, Voicemail,
};
use shared::store::PresenceKey;
use shared::store::history::{HistoryWrite, SeenMark, VoicemailRef, position};
use shared::store::messages::Notice;
use shared::store::rates::{Budget, Counted, RateKind};

use super::{T0, key, key_in, kinds_told, told};
use crate::helpers::{StoreKind, Stores, stores};
use crate::on_both_stores;

on_both_stores!(
    the_seen_mark_moves_only_to_an_entry_of_the_users_own_history,
    the_call_budget_counts_to_its_limit_per_window,
    a_fact_is_recorded_once_per_user_and_told_only_when_new,
    a_later_callback_fills_in_what_an_earlier_one_could_not_tell,
    a_history_pages_newest_first_and_skips_expired_entries,
    a_voicemail_is_found_by_its_recording_and_removed_from_every_entry,
    the_seen_mark_tells_the_users_devices_only_when_it_moves,
    removing_a_voicemail_touches_only_the_entries_that_show_it,
    only_a_fact_that_may_tell_is_refused_as_a_repeat,
    a_repeated_fact_still_fills_in_the_call,
    the_steps_of_ringing_converge_whatever_order_their_callbacks_come_in,
    a_call_to_a_group_of_150_is_in_each_members_history_and_told_once,
);

fn sid(n: u32) -> String {
    format!("CA{n:032x}")
}

fn base(n: u32, started_at: i64) -> CallBase {
    CallBase {
        call_sid: sid(n),
        direction: Direction::Inbound,
        from: "+14158675309".into(),
        to: "+14155551234".into(),
        phone_id: Some("phone-sales".into()),
        phone_number: Some("+14155551234".into()),
        started_at,
    }
}

/// `fact` about call `n` for `users`, kept a day, telling `told` when new.
fn write(n: u32, users: &[&PresenceKey], fact: Fact, told: &[&PresenceKey]) -> HistoryWrite {
    let started_at = T0 + i64::from(n) * 1000;
    HistoryWrite {
        base: base(n, started_at),
        users: users.iter().map(|&u| u.clone()).collect(),
        fact,
        offer: None,
        expires_at: started_at / 1000 + 86_400,
        notice: (!told.is_empty()).then(|| notice(EventKind::CallMissed, told)),
    }
}

fn notice(kind: EventKind, to: &[&PresenceKey]) -> Notice {
    Notice {
        kind,
        data: json!({}),
        at: T0,
        to: to.iter().map(|&u| u.clone()).collect(),
    }
}

async fn entries(s: &Stores, user: &PresenceKey) -> Vec<(String, shared::history::Entry)> {
    s.history
        .history(user, None, 100, T0)
        .await
        .unwrap()
        .entries
}

/// A repeated callback adds nothing and tells nobody again; a fact already known stays as
/// first learnt; each involved user has the entry, nobody else.
async fn a_fact_is_recorded_once_per_user_and_told_only_when_new(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob, carol) = (
        key("alice@example.com"),
        key("bob@example.com"),
        key("carol@example.com"),
    );
    let missed = write(
        1,
        &[&alice, &bob],
        Fact::Missed(MissedReason::NoAnswer),
        &[&alice, &bob],
    );
    assert!(s.history.record(&missed, None).await.unwrap());
    assert!(!s.history.record(&missed, None).await.unwrap(), "a repeat");
    let mut busy = missed.clone();
    busy.fact = Fact::Missed(MissedReason::Busy);
    assert!(
        !s.history.record(&busy, None).await.unwrap(),
        "known already"
    );
    for user in [&alice, &bob] {
        assert_eq!(
            kinds_told(&s, user).await,
            vec![EventKind::CallMissed],
            "told once"
        );
        let entries = entries(&s, user).await;
        assert_eq!(entries.len(), 1);
        let (at, entry) = &entries[0];
        assert_eq!(*at, position(T0 + 1000, &sid(1)));
        assert_eq!(entry.call_sid, sid(1));
        assert_eq!(entry.direction, Some(Direction::Inbound));
        assert_eq!(
            (entry.from.as_str(), entry.to.as_str()),
            ("+14158675309", "+14155551234")
        );
        assert_eq!(entry.phone_id.as_deref(), Some("phone-sales"));
        assert_eq!(entry.started_at, T0 + 1000);
        assert_eq!(
            entry.missed,
            Some(MissedReason::NoAnswer),
            "as first learnt"
        );
        assert_eq!(entry.outcome(), Outcome::Missed);
    }
    assert!(entries(&s, &carol).await.is_empty());
    assert!(told(&s, &carol).await.is_empty());
    assert!(
        entries(&s, &key_in("org_other", "alice@example.com"))
            .await
            .is_empty()
    );

    // Answered by the first who took it, whatever a repeat says.
    let by = |name: &str| AnsweredBy {
        identity: format!("id-{name}"),
        name: name.into(),
    };
    let answered = |name: &str, at| write(2, &[&alice], Fact::Answered { by: by(name), at }, &[]);
    assert!(
        s.history
            .record(&answered("Bob", T0 + 3000), None)
            .await
            .unwrap()
    );
    assert!(
        !s.history
            .record(&answered("Carol", T0 + 4000), None)
            .await
            .unwrap()
    );
    let entries = entries(&s, &alice).await;
    let (_, entry) = entries.iter().find(|(_, e)| e.call_sid == sid(2)).unwrap();
    assert_eq!(entry.answered_by, Some(by("Bob")));
    assert_eq!(entry.answered_at, Some(T0 + 3000));
    assert_eq!(entry.outcome(), Outcome::Answered);

    // The call's pointer: its org and start.
    assert_eq!(
        s.history.call_started(&sid(1)).await.unwrap(),
        Some((alice.org.clone(), T0 + 1000))
    );
    assert_eq!(s.history.call_started(&sid(9)).await.unwrap(), None);
}

/// The first callback of a call may not know its caller; a later one that does fills it in,
/// and an end is kept as first learnt.
async fn a_later_callback_fills_in_what_an_earlier_one_could_not_tell(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let mut placed = write(1, &[&alice], Fact::Placed, &[]);
    placed.base.from = String::new();
    placed.base.phone_id = None;
    s.history.record(&placed, None).await.unwrap();
    let entry = entries(&s, &alice).await.remove(0).1;
    assert_eq!((entry.from.as_str(), entry.phone_id.as_deref()), ("", None));
    assert_eq!(entry.outcome(), Outcome::Ringing);

    let ended = |at, duration_seconds| {
        write(
            1,
            &[&alice],
            Fact::Ended {
                at,
                duration_seconds,
            },
            &[],
        )
    };
    s.history
        .record(&ended(T0 + 61_000, 60), None)
        .await
        .unwrap();
    s.history
        .record(&ended(T0 + 99_000, 98), None)
        .await
        .unwrap();
    let entry = entries(&s, &alice).await.remove(0).1;
    assert_eq!(entry.from, "+14158675309", "filled in");
    assert_eq!(entry.phone_id.as_deref(), Some("phone-sales"));
    assert_eq!(
        (entry.ended_at, entry.duration_seconds),
        (Some(T0 + 61_000), Some(60))
    );
    s.history
        .record(&write(1, &[&alice], Fact::Canceled, &[]), None)
        .await
        .unwrap();
    assert!(entries(&s, &alice).await[0].1.canceled);
}

/// Newest first, at most `limit`, before an exclusive position; an expired entry is never
/// answered, and a page skips it rather than coming back short.
async fn a_history_pages_newest_first_and_skips_expired_entries(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    for n in 1..=5 {
        let mut canceled = write(n, &[&alice], Fact::Canceled, &[]);
        // Calls 4 and 5 are kept a minute only.
        if n >= 4 {
            canceled.expires_at = (T0 + 60_000) / 1000;
        }
        s.history.record(&canceled, None).await.unwrap();
    }
    let page = |before: Option<String>, limit, now_ms| {
        let (history, alice) = (s.history.clone(), alice.clone());
        async move {
            let page = history
                .history(&alice, before.as_deref(), limit, now_ms)
                .await
                .unwrap();
            page.entries
                .into_iter()
                .map(|(at, entry)| {
                    assert_eq!(at, position(entry.started_at, &entry.call_sid));
                    entry.call_sid
                })
                .collect::<Vec<_>>()
        }
    };
    let at = |n: u32| position(T0 + i64::from(n) * 1000, &sid(n));
    assert_eq!(
        page(None, 10, T0).await,
        vec![sid(5), sid(4), sid(3), sid(2), sid(1)]
    );
    assert_eq!(page(None, 2, T0).await, vec![sid(5), sid(4)]);
    assert_eq!(
        page(Some(at(4)), 2, T0).await,
        vec![sid(3), sid(2)],
        "exclusive"
    );
    assert_eq!(page(Some(at(1)), 2, T0).await, Vec::<String>::new());
    // At the minute's end calls 4 and 5 have expired: the page is still full.
    assert_eq!(page(None, 10, T0 + 59_999).await.len(), 5);
    assert_eq!(page(None, 2, T0 + 60_000).await, vec![sid(3), sid(2)]);
    assert_eq!(page(Some(at(5)), 1, T0 + 60_000).await, vec![sid(3)]);
    let fresh = s.history.history(&alice, None, 10, T0).await.unwrap();
    assert_eq!(fresh.seen_up_to, None, "nothing seen yet");
}

/// A voicemail's pointer is written with the fact that shows it, once; deleting it takes it
/// off every entry (which then shows a missed call) and forgets it, and it never comes back.
async fn a_voicemail_is_found_by_its_recording_and_removed_from_every_entry(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let recording = Voicemail {
        recording_sid: format!("RE{:032x}", 1),
        duration_seconds: 12,
    };
    let reference = VoicemailRef {
        recording_sid: recording.recording_sid.clone(),
        org: alice.org.clone(),
        phone_id: Some("phone-sales".into()),
        call_sid: sid(1),
        started_at: T0 + 1000,
        users: vec![alice.clone(), bob.clone()],
        expires_at: (T0 + 1000) / 1000 + 86_400,
    };
    let mut left = write(1, &[&alice, &bob], Fact::Voicemail(recording.clone()), &[]);
    left.notice = Some(notice(EventKind::VoicemailReceived, &[&alice, &bob]));
    assert_eq!(
        s.history.voicemail(&recording.recording_sid).await.unwrap(),
        None
    );
    assert!(s.history.record(&left, Some(&reference)).await.unwrap());
    assert!(
        !s.history.record(&left, Some(&reference)).await.unwrap(),
        "a repeat"
    );
    let mut found = s
        .history
        .voicemail(&recording.recording_sid)
        .await
        .unwrap()
        .unwrap();
    found
        .users
        .sort_by(|a, b| a.identity.as_str().cmp(b.identity.as_str()));
    let mut expected = reference.clone();
    expected
        .users
        .sort_by(|a, b| a.identity.as_str().cmp(b.identity.as_str()));
    assert_eq!(found, expected);
    for user in [&alice, &bob] {
        let entry = entries(&s, user).await.remove(0).1;
        assert_eq!(entry.voicemail, Some(recording.clone()));
        assert_eq!(entry.outcome(), Outcome::Voicemail);
        assert_eq!(
            kinds_told(&s, user).await,
            vec![EventKind::VoicemailReceived]
        );
    }

    // Told later than the voicemail (by more than the second a cursor may lead its time),
    // so the log's order is certain.
    let deleted = Notice {
        at: T0 + 5000,
        ..notice(EventKind::VoicemailDeleted, &[&alice])
    };
    s.history
        .remove_voicemail(&reference, &deleted)
        .await
        .unwrap();
    assert_eq!(
        s.history.voicemail(&recording.recording_sid).await.unwrap(),
        None
    );
    for user in [&alice, &bob] {
        let entries = entries(&s, user).await;
        assert_eq!(entries.len(), 1, "the entry stays");
        let entry = &entries[0].1;
        assert_eq!(entry.voicemail, None);
        assert!(entry.voicemail_deleted);
        assert_eq!(entry.outcome(), Outcome::Missed);
    }
    assert_eq!(
        kinds_told(&s, &alice).await,
        vec![EventKind::VoicemailReceived, EventKind::VoicemailDeleted]
    );
    assert_eq!(
        kinds_told(&s, &bob).await,
        vec![EventKind::VoicemailReceived]
    );
    // A late repeat of the recording callback does not bring it back.
    assert!(!s.history.record(&left, Some(&reference)).await.unwrap());
    assert_eq!(entries(&s, &alice).await[0].1.voicemail, None);
    assert_eq!(
        s.history.voicemail(&recording.recording_sid).await.unwrap(),
        None
    );
}

/// Marking seen tells the user's devices when the mark moves, and only then.
async fn the_seen_mark_tells_the_users_devices_only_when_it_moves(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    s.history
        .record(&write(1, &[&alice, &bob], Fact::Canceled, &[]), None)
        .await
        .unwrap();
    s.history
        .record(&write(2, &[&alice], Fact::Canceled, &[]), None)
        .await
        .unwrap();
    let (first, second) = (position(T0 + 1000, &sid(1)), position(T0 + 2000, &sid(2)));
    let seen = notice(EventKind::CallsSeen, &[&alice]);
    assert_eq!(
        s.history.mark_seen(&alice, &second, &seen).await.unwrap(),
        SeenMark::Moved
    );
    assert_eq!(
        s.history.mark_seen(&alice, &first, &seen).await.unwrap(),
        SeenMark::AlreadySeen,
        "never back"
    );
    assert_eq!(kinds_told(&s, &alice).await, vec![EventKind::CallsSeen]);
    let page = s.history.history(&alice, None, 10, T0).await.unwrap();
    assert_eq!(page.seen_up_to, Some(second));
    assert_eq!(
        s.history
            .history(&bob, None, 10, T0)
            .await
            .unwrap()
            .seen_up_to,
        None
    );
    assert!(told(&s, &bob).await.is_empty());
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
        offer: None,
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

async fn the_call_budget_counts_to_its_limit_per_window(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let minute = 60_000;
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
    let bob = key("bob@example.com");
    assert_eq!(
        s.history
            .count_call(&bob, &calls, T0 + 59_000)
            .await
            .unwrap(),
        Counted::Counted,
        "each caller's own"
    );
}

/// Only an answer, a miss or a voicemail is refused as a repeat: a placed, ended or canceled
/// call is written every time (`true`), keeping what the entry knows.
async fn only_a_fact_that_may_tell_is_refused_as_a_repeat(kind: StoreKind) {
    let s = stores(kind).await;
    let alice = key("alice@example.com");
    let ended = |at| Fact::Ended {
        at,
        duration_seconds: 59,
    };
    for fact in [Fact::Placed, ended(T0 + 60_000), Fact::Canceled] {
        let write = write(1, &[&alice], fact, &[]);
        assert!(s.history.record(&write, None).await.unwrap(), "{write:?}");
        assert!(s.history.record(&write, None).await.unwrap(), "{write:?}");
    }
    let later = write(1, &[&alice], ended(T0 + 90_000), &[]);
    assert!(s.history.record(&later, None).await.unwrap());
    assert_eq!(
        entries(&s, &alice).await[0].1.ended_at,
        Some(T0 + 60_000),
        "an end kept as first learnt"
    );
    let missed = write(1, &[&alice], Fact::Missed(MissedReason::Busy), &[]);
    assert!(s.history.record(&missed, None).await.unwrap());
    assert!(!s.history.record(&missed, None).await.unwrap(), "a repeat");
}

/// A repeated answer, miss or voicemail adds no fact and tells nobody again, but what it knows
/// of the call that the entry does not (its caller) is filled in; and a user listed for the
/// first time gets the fact (and is told) even though the others had it.
async fn a_repeated_fact_still_fills_in_the_call(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let mut first = write(1, &[&alice], Fact::Missed(MissedReason::Busy), &[&alice]);
    first.base.from = String::new();
    assert!(s.history.record(&first, None).await.unwrap());
    let again = write(
        1,
        &[&alice],
        Fact::Missed(MissedReason::NoAnswer),
        &[&alice],
    );
    assert!(!s.history.record(&again, None).await.unwrap());
    let entry = entries(&s, &alice).await.remove(0).1;
    assert_eq!(entry.from, "+14158675309");
    assert_eq!(entry.missed, Some(MissedReason::Busy), "as first learnt");
    assert_eq!(kinds_told(&s, &alice).await, vec![EventKind::CallMissed]);

    let joined = write(
        1,
        &[&alice, &bob],
        Fact::Missed(MissedReason::Busy),
        &[&bob],
    );
    assert!(s.history.record(&joined, None).await.unwrap());
    let entry = entries(&s, &bob).await.remove(0).1;
    assert_eq!(entry.missed, Some(MissedReason::Busy));
    assert_eq!(entry.from, "+14158675309");
    assert_eq!(kinds_told(&s, &bob).await, vec![EventKind::CallMissed]);
    assert_eq!(kinds_told(&s, &alice).await, vec![EventKind::CallMissed]);
}

/// Removing a voicemail changes the entries that show it and nothing else, even when its
/// reference names a user whose history has no entry of the call: the others' entries still
/// lose it, its pointer goes, and everyone named is told.
async fn removing_a_voicemail_touches_only_the_entries_that_show_it(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let recording = Voicemail {
        recording_sid: format!("RE{:032x}", 1),
        duration_seconds: 12,
    };
    let reference = VoicemailRef {
        recording_sid: recording.recording_sid.clone(),
        org: bob.org.clone(),
        phone_id: None,
        call_sid: sid(1),
        started_at: T0 + 1000,
        users: vec![alice.clone(), bob.clone()],
        expires_at: (T0 + 1000) / 1000 + 86_400,
    };
    let left = write(1, &[&alice], Fact::Voicemail(recording), &[]);
    assert!(s.history.record(&left, Some(&reference)).await.unwrap());
    s.history
        .remove_voicemail(
            &reference,
            &notice(EventKind::VoicemailDeleted, &[&alice, &bob]),
        )
        .await
        .unwrap();
    assert_eq!(entries(&s, &bob).await, Vec::new());
    let entry = entries(&s, &alice).await.remove(0).1;
    assert_eq!(entry.voicemail, None);
    assert!(entry.voicemail_deleted);
    assert_eq!(
        s.history.voicemail(&reference.recording_sid).await.unwrap(),
        None
    );
    for user in [&alice, &bob] {
        assert_eq!(
            kinds_told(&s, user).await,
            vec![EventKind::VoicemailDeleted]
        );
    }
}

/// The steps of ringing of a call (each reported by its dial's callback) end up in step
/// order, each once, whether their callbacks come late, twice or out of order, and also when
/// they ride on a fact that is a refused repeat.
async fn the_steps_of_ringing_converge_whatever_order_their_callbacks_come_in(kind: StoreKind) {
    let s = stores(kind).await;
    let (alice, bob) = (key("alice@example.com"), key("bob@example.com"));
    let step = |step: u32, to: &[&str]| Offer {
        step,
        at: T0 + i64::from(step) * 15_000,
        to: to.iter().map(|t| (*t).to_owned()).collect(),
    };
    let with = |fact: Fact, offer: Offer| HistoryWrite {
        offer: Some(offer),
        ..write(1, &[&alice, &bob], fact, &[])
    };
    let missed = Fact::Missed(MissedReason::NoAnswer);
    s.history
        .record(&with(missed.clone(), step(3, &["carol@example.com"])), None)
        .await
        .unwrap();
    s.history
        .record(&with(Fact::Placed, step(1, &["alice@example.com"])), None)
        .await
        .unwrap();
    // A repeat of the miss (refused) carrying a step not yet known, then a repeated step.
    s.history
        .record(
            &with(missed, step(2, &["bob@example.com", "dan@example.com"])),
            None,
        )
        .await
        .unwrap();
    s.history
        .record(&with(Fact::Placed, step(1, &["alice@example.com"])), None)
        .await
        .unwrap();
    for user in [&alice, &bob] {
        let entry = entries(&s, user).await.remove(0).1;
        assert_eq!(
            entry.offered_to,
            vec![
                step(1, &["alice@example.com"]),
                step(2, &["bob@example.com", "dan@example.com"]),
                step(3, &["carol@example.com"]),
            ],
            "{user:?}"
        );
        assert_eq!(entry.missed, Some(MissedReason::NoAnswer));
    }
}

/// More people than one DynamoDB transaction takes (100 items): every member has the entry and
/// is told once; a repeat tells nobody.
async fn a_call_to_a_group_of_150_is_in_each_members_history_and_told_once(kind: StoreKind) {
    let s = stores(kind).await;
    let members: Vec<PresenceKey> = (0..150)
        .map(|i| key(&format!("agent{i:03}@example.com")))
        .collect();
    let all: Vec<&PresenceKey> = members.iter().collect();
    let missed = write(1, &all, Fact::Missed(MissedReason::NoAnswer), &all);
    assert!(s.history.record(&missed, None).await.unwrap());
    assert!(!s.history.record(&missed, None).await.unwrap(), "a repeat");
    for user in [&members[0], &members[97], &members[98], &members[149]] {
        let entry = entries(&s, user).await.remove(0).1;
        assert_eq!(entry.missed, Some(MissedReason::NoAnswer), "{user:?}");
        assert_eq!(kinds_told(&s, user).await, vec![EventKind::CallMissed]);
    }
}
