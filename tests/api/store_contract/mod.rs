//! One contract, both stores: what every store trait promises, specified once and run on the
//! memory store and on DynamoDB (moto). One file per trait. Time is passed in, so expiry is
//! tested to the millisecond without sleeping.

mod directory;
mod history;
mod messages;
mod presence;

use shared::domain::{Email, Identity, IdentityStyle, OrgId};
use shared::store::PresenceKey;

const T0: i64 = 1_800_000_000_000;

fn key(email: &str) -> PresenceKey {
    let email = Email::parse_field(email, "email").unwrap();
    let org = OrgId::parse_field("org_demo", "org").unwrap();
    PresenceKey {
        identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
        org,
    }
}
