//! `HistoryStore`: facts recorded once per call and user, pages of a user's history, the seen
//! mark, voicemails, and the budget of calls placed to the public network.

use shared::events::EventKind;
use shared::history::{CallBase, Direction, Fact};
use shared::store::PresenceKey;
use shared::store::history::{HistoryWrite, SeenMark, position};
use shared::store::messages::Notice;
use shared::store::rates::{Budget, Counted, RateKind};

use super::{T0, key};
use crate::helpers::{StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    the_seen_mark_moves_only_to_an_entry_of_the_users_own_history,
    the_call_budget_counts_to_its_limit_per_window,
);

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
}
