//! `MessageStore`: texts stored once, sends claimed once, statuses that only move forward (or
//! wait for their message), conversations and messages paged newest first, read marks, and
//! the budgets a text counts against.

use shared::sms::message::{Inbox, Party};
use shared::store::messages::SendClaim;
use shared::store::rates::{Budget, NewRecipient, RateKind};

use super::{T0, key};
use crate::helpers::{StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(text_budgets_count_to_their_limit_per_user_and_window,);

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
