//! Who hears of a text and what they are told: the `sms.*` events' data, for every user of the
//! number (its direct user, or each member of its group).

use serde_json::{Value, json};

use crate::directory::NumberRoute;
use crate::domain::{Email, Identity, IdentityStyle, OrgId};
use crate::events::EventKind;
use crate::sms::keywords::OptChange;
use crate::sms::message::{Inbox, Message};
use crate::store::PresenceKey;
use crate::store::messages::Notice;

/// The presence keys of `emails` in `org` (an email that makes no identity is skipped: the
/// directory's validation refuses those).
pub fn users_in(org: &OrgId, emails: &[&Email], style: IdentityStyle) -> Vec<PresenceKey> {
    emails
        .iter()
        .filter_map(|email| {
            Some(PresenceKey {
                org: org.clone(),
                identity: Identity::for_person(org, email, style).ok()?,
            })
        })
        .collect()
}

/// The users of the number `route` describes.
pub fn recipients(route: &NumberRoute, style: IdentityStyle) -> Vec<PresenceKey> {
    users_in(&route.org_id, &route.users(), style)
}

/// `{phoneId, phoneNumber, with}`: which conversation an event is about.
fn conversation_ref(inbox: &Inbox, phone_number: &str, with: &str) -> Value {
    json!({ "phoneId": inbox.phone_id, "phoneNumber": phone_number, "with": with })
}

/// `sms.received`: the conversation and the message; `optedOut` when the text changed it.
pub fn received_notice(
    inbox: &Inbox,
    route: &NumberRoute,
    message: &Message,
    opt_change: Option<OptChange>,
    to: Vec<PresenceKey>,
    now_ms: i64,
) -> Notice {
    let mut conversation =
        conversation_ref(inbox, route.phone.phone_number.as_str(), message.party());
    if let Some(change) = opt_change {
        conversation["optedOut"] = Value::Bool(change == OptChange::OptOut);
    }
    Notice {
        kind: EventKind::SmsReceived,
        data: json!({ "conversation": conversation, "message": message }),
        at: now_ms,
        to,
    }
}

/// `sms.sent`: the conversation and the message as stored.
pub fn sent_notice(
    inbox: &Inbox,
    phone_number: &str,
    message: &Message,
    to: Vec<PresenceKey>,
    now_ms: i64,
) -> Notice {
    Notice {
        kind: EventKind::SmsSent,
        data: json!({
            "conversation": conversation_ref(inbox, phone_number, message.party()),
            "message": message,
        }),
        at: now_ms,
        to,
    }
}

/// `sms.status`.
pub fn status_notice(data: Value, to: Vec<PresenceKey>, now_ms: i64) -> Notice {
    Notice {
        kind: EventKind::SmsStatus,
        data,
        at: now_ms,
        to,
    }
}
