//! One contract, both stores: what every store trait promises, specified once and run on the
//! memory store and on DynamoDB (moto). One file per trait. Time is passed in, so expiry is
//! tested to the millisecond without sleeping.

mod alerts;
mod directory;
mod events;
mod history;
mod messages;
mod people;
mod presence;
mod socket;

use shared::domain::{Email, Identity, IdentityStyle, OrgId};
use shared::events::{Cursor, Event, EventKind};
use shared::store::PresenceKey;

use crate::helpers::Stores;

const T0: i64 = 1_800_000_000_000;

fn key(email: &str) -> PresenceKey {
    key_in("org_demo", email)
}

/// A user of another org than [`key`]'s.
fn key_in(org: &str, email: &str) -> PresenceKey {
    let email = Email::parse_field(email, "email").unwrap();
    let org = OrgId::parse_field(org, "org").unwrap();
    PresenceKey {
        identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
        org,
    }
}

/// The events `user` has been told so far (their whole log, oldest first).
async fn told(s: &Stores, user: &PresenceKey) -> Vec<Event> {
    s.events
        .events_after(user, &Cursor::at(0), 1000, T0)
        .await
        .unwrap()
}

/// The kinds of the events `user` has been told so far.
async fn kinds_told(s: &Stores, user: &PresenceKey) -> Vec<EventKind> {
    told(s, user).await.into_iter().map(|e| e.kind).collect()
}
