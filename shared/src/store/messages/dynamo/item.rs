//! The SMS inbox's items and back: a message (a JSON document beside the status attributes
//! that callbacks update in place), a conversation (its summary and latest message), a
//! pointer from a `MessageSid`, a read mark.

use serde::{Deserialize, Serialize};

use crate::domain::OrgId;
use crate::sms::message::{
    Conversation, Direction, Inbox, Media, Message, MessageLocation, Party, StoredMedia,
    status_rank,
};
use crate::store::StoreError;
use crate::store::dynamo::codec::{Item, get_n, get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    MESSAGE_SK_PREFIX, SK, SMS_PREFIX, SMSID_SK, TTL_ATTRIBUTE, doc, inbox_pk, message_sk, sms,
    smsid_pk,
};
use crate::store::messages::{ReadMark, SidState};

/// A message's fields but its status (kept in their own attributes).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageDoc {
    message_sid: String,
    direction: Direction,
    from: String,
    to: String,
    body: String,
    #[serde(default)]
    media: Vec<StoredMedia>,
    segments: u32,
    at: i64,
    #[serde(default)]
    sent_by: Option<String>,
}

fn bad(what: &str) -> StoreError {
    StoreError::Internal(format!("malformed SMS item: {what}"))
}

fn doc_json(message: &Message) -> String {
    let doc = MessageDoc {
        message_sid: message.message_sid.clone(),
        direction: message.direction,
        from: message.from.clone(),
        to: message.to.clone(),
        body: message.body.clone(),
        media: message
            .media
            .iter()
            .map(|m| StoredMedia {
                index: m.index,
                content_type: m.content_type.clone(),
                url: m.url.clone(),
            })
            .collect(),
        segments: message.segments,
        at: message.at,
        sent_by: message.sent_by.clone(),
    };
    // Plain data with string keys: serializing cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

fn message_of(json: &str, status: &str, error_code: Option<i64>) -> Result<Message, StoreError> {
    let doc: MessageDoc = serde_json::from_str(json).map_err(|_| bad("message document"))?;
    Ok(Message {
        message_sid: doc.message_sid,
        direction: doc.direction,
        from: doc.from,
        to: doc.to,
        body: doc.body,
        media: doc
            .media
            .into_iter()
            .map(|m| Media {
                index: m.index,
                content_type: m.content_type,
                url: m.url,
            })
            .collect(),
        segments: doc.segments,
        status: status.to_owned(),
        error_code: error_code.and_then(|c| u32::try_from(c).ok()),
        at: doc.at,
        sent_by: doc.sent_by,
    })
}

pub(super) fn message_item(inbox: &Inbox, with: &Party, position: &str, message: &Message) -> Item {
    let mut item = keyed(inbox_pk(inbox), message_sk(with, position));
    item.insert(doc::DOC.to_owned(), s(doc_json(message)));
    item.insert(sms::DIRECTION.to_owned(), s(message.direction.as_str()));
    item.insert(sms::STATUS.to_owned(), s(&message.status));
    item.insert(
        sms::STATUS_RANK.to_owned(),
        n(status_rank(&message.status).unwrap_or(0)),
    );
    if let Some(code) = message.error_code {
        item.insert(sms::ERROR_CODE.to_owned(), n(code));
    }
    item
}

pub(super) fn message_from_item(item: &Item) -> Result<Message, StoreError> {
    message_of(
        get_s(item, doc::DOC).ok_or_else(|| bad("doc"))?,
        get_s(item, sms::STATUS).unwrap_or("queued"),
        get_n(item, sms::ERROR_CODE),
    )
}

/// A message item's position: the end of its sort key.
pub(super) fn position_of(item: &Item) -> Option<String> {
    let sk = get_s(item, SK)?.strip_prefix(MESSAGE_SK_PREFIX)?;
    sk.rsplit_once(':').map(|(_, position)| position.to_owned())
}

/// The attribute values a conversation's latest message sets: `(name, value)` pairs.
pub(super) fn last_message_values(
    message: &Message,
) -> Vec<(&'static str, aws_sdk_dynamodb::types::AttributeValue)> {
    let mut values = vec![
        (sms::LAST, s(doc_json(message))),
        (sms::LAST_SID, s(&message.message_sid)),
        (sms::LAST_STATUS, s(&message.status)),
        (sms::LAST_RANK, n(status_rank(&message.status).unwrap_or(0))),
    ];
    if let Some(code) = message.error_code {
        values.push((sms::LAST_ERROR_CODE, n(code)));
    }
    values
}

pub(super) fn conversation_from_item(item: &Item) -> Result<Conversation, StoreError> {
    let last_message = match get_s(item, sms::LAST) {
        Some(json) => Some(message_of(
            json,
            get_s(item, sms::LAST_STATUS).unwrap_or("queued"),
            get_n(item, sms::LAST_ERROR_CODE),
        )?),
        None => None,
    };
    let with = get_s(item, sms::WITH)
        .and_then(|w| Party::parse_field(w, "with").ok())
        .ok_or_else(|| bad("with"))?;
    let inbound = get_n(item, sms::INBOUND)
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0);
    // Conversations stored before `startedBy` count as started by the other party when they
    // ever wrote.
    let started_inbound = match get_s(item, sms::STARTED_BY) {
        Some(direction) => direction == Direction::Inbound.as_str(),
        None => inbound > 0,
    };
    Ok(Conversation {
        phone_id: get_s(item, sms::PHONE_ID).unwrap_or_default().to_owned(),
        phone_number: get_s(item, sms::PHONE_NUMBER)
            .unwrap_or_default()
            .to_owned(),
        with,
        last_message,
        inbound,
        started_inbound,
        opted_out: item
            .get(sms::OPTED_OUT)
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        activity: get_s(item, sms::ACTIVITY).unwrap_or_default().to_owned(),
    })
}

/// The pointer's location attributes.
pub(super) fn location_values(location: &MessageLocation) -> [(&'static str, String); 4] {
    [
        (sms::INBOX, inbox_pk(&location.inbox)),
        (sms::PHONE_ID, location.inbox.phone_id.clone()),
        (sms::WITH, location.with.to_string()),
        (sms::POSITION, location.position.clone()),
    ]
}

/// A location written by [`location_values`], with the org it belongs to.
pub(super) fn location_from_item(item: &Item) -> Option<MessageLocation> {
    let pk = get_s(item, sms::INBOX)?;
    let phone_id = get_s(item, sms::PHONE_ID)?;
    // `sms:{org}:{phoneId}`; org ids hold no `:`.
    let org = pk
        .strip_prefix(SMS_PREFIX)?
        .strip_suffix(phone_id)?
        .strip_suffix(':')?;
    Some(MessageLocation {
        inbox: Inbox {
            org: OrgId::parse_field(org, "org").ok()?,
            phone_id: phone_id.to_owned(),
        },
        with: Party::parse_field(get_s(item, sms::WITH)?, "with").ok()?,
        position: get_s(item, sms::POSITION)?.to_owned(),
    })
}

pub(super) fn sid_state_of(item: Option<&Item>, now_ms: i64) -> SidState {
    let Some(item) = item else {
        return SidState::Unknown;
    };
    if let Some(location) = location_from_item(item) {
        return SidState::Stored(location);
    }
    let live = get_n(item, TTL_ATTRIBUTE).is_none_or(|exp| exp > now_ms.div_euclid(1000));
    match (
        get_s(item, sms::PENDING_STATUS),
        get_n(item, sms::PENDING_RANK),
        live,
    ) {
        (Some(status), Some(rank), true) => SidState::Pending {
            status: status.to_owned(),
            rank: u8::try_from(rank).unwrap_or(0),
            error_code: get_n(item, sms::PENDING_ERROR_CODE).and_then(|c| u32::try_from(c).ok()),
        },
        _ => SidState::Unknown,
    }
}

pub(super) fn pointer_key(message_sid: &str) -> Item {
    keyed(smsid_pk(message_sid), SMSID_SK)
}

pub(super) fn read_mark_from_item(item: &Item) -> Option<ReadMark> {
    Some(ReadMark {
        phone_id: get_s(item, sms::PHONE_ID)?.to_owned(),
        with: Party::parse_field(get_s(item, sms::WITH)?, "with").ok()?,
        read_inbound: get_n(item, sms::READ_INBOUND).and_then(|v| u64::try_from(v).ok())?,
    })
}
