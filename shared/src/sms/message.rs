//! The inbox's records: a message, the conversation it belongs to (one of the org's numbers
//! and one remote party), and how the API and the events show them.

use serde::{Deserialize, Serialize};

use crate::domain::{E164, FieldError, OrgId};

/// The remote side of a conversation, as Twilio gives `From` (an E.164 number, a short code
/// or an alphanumeric sender id). Kept to characters that cannot break a sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Party(String);

impl Party {
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        let ok = (1..=32).contains(&raw.len())
            && raw.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b' ' | b'.' | b'-' | b'_')
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                field,
                "must be a phone number, short code or sender id (1 to 32 of A-Z a-z 0-9 + . - _ and space)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Party {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse_field(&raw, "with")
    }
}

impl From<Party> for String {
    fn from(value: Party) -> String {
        value.0
    }
}

impl From<&E164> for Party {
    fn from(number: &E164) -> Self {
        Self(number.as_str().to_owned())
    }
}

/// One number's inbox: every conversation on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inbox {
    pub org: OrgId,
    pub phone_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    /// As it is serialized: `inbound`, `outbound`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        }
    }
}

/// A media file of an MMS. `url` is Twilio's (never shown: the API serves the file itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub index: u32,
    pub content_type: String,
    #[serde(skip_serializing)]
    #[serde(default)]
    pub url: String,
}

/// The stored form of media: with its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMedia {
    pub index: u32,
    pub content_type: String,
    pub url: String,
}

/// A message as the inbox shows it (`GET /phone/sms/messages`, events, send's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub message_sid: String,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub body: String,
    pub media: Vec<Media>,
    pub segments: u32,
    pub status: String,
    pub error_code: Option<u32>,
    /// Received or sent, epoch milliseconds.
    pub at: i64,
    /// The email of the user who sent it (outbound from this service), else none.
    pub sent_by: Option<String>,
}

impl Message {
    /// Take a status that came (from a callback) before this message was stored, if it is
    /// further along than the message's own.
    pub fn fold_status(&mut self, status: String, rank: u8, error_code: Option<u32>) {
        if status_rank(&self.status).is_none_or(|current| advances(current, rank)) {
            self.status = status;
            self.error_code = error_code.or(self.error_code);
        }
    }

    /// The remote party: `from` of an inbound text, `to` of an outbound one.
    pub fn party(&self) -> &str {
        match self.direction {
            Direction::Inbound => &self.from,
            Direction::Outbound => &self.to,
        }
    }
}

/// A conversation's summary, as stored (without anyone's read state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub phone_id: String,
    pub phone_number: String,
    pub with: Party,
    pub last_message: Option<Message>,
    /// Inbound messages ever stored: a user's unread count is this less their read mark.
    pub inbound: u64,
    pub opted_out: bool,
    /// Its first message came from the other party: a reply may reach them wherever they are
    /// (docs/client-contract.md, "Where texts and calls may go").
    pub started_inbound: bool,
    /// The sort key of the latest activity (the newest message's position): the list's order
    /// and its paging cursor.
    pub activity: String,
}

/// A conversation as `GET /phone/sms/conversations` shows it to one user.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView<'a> {
    pub phone_id: &'a str,
    pub phone_number: &'a str,
    pub with: &'a Party,
    pub last_message: Option<&'a Message>,
    pub unread: u64,
    pub opted_out: bool,
}

impl Conversation {
    /// A conversation with nothing in it yet.
    pub fn empty(inbox: &Inbox, phone_number: &str, with: &Party) -> Self {
        Self {
            phone_id: inbox.phone_id.clone(),
            phone_number: phone_number.to_owned(),
            with: with.clone(),
            last_message: None,
            inbound: 0,
            opted_out: false,
            started_inbound: false,
            activity: String::new(),
        }
    }

    pub fn view(&self, read_inbound: u64) -> ConversationView<'_> {
        ConversationView {
            phone_id: &self.phone_id,
            phone_number: &self.phone_number,
            with: &self.with,
            last_message: self.last_message.as_ref(),
            unread: self.inbound.saturating_sub(read_inbound),
            opted_out: self.opted_out,
        }
    }
}

/// Where a message is: its inbox, its conversation and its position in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLocation {
    pub inbox: Inbox,
    pub with: Party,
    /// The message's position (a cursor of the `events` module): messages sort by it.
    pub position: String,
}

/// How far a status has come. A status applies only when its rank is higher than the
/// message's: the final statuses share one rank, so a final status stays (only WhatsApp's
/// `read` follows it), and callbacks that come twice or out of order converge.
pub fn status_rank(status: &str) -> Option<u8> {
    Some(match status {
        "queued" | "accepted" | "scheduled" => 0,
        "sending" => 1,
        "sent" => 2,
        "delivered" | "undelivered" | "failed" | "canceled" | "partially_delivered" => 3,
        "read" => 4,
        _ => return None,
    })
}

/// Whether a message at rank `current` takes a status of rank `next`.
pub fn advances(current: u8, next: u8) -> bool {
    next > current
}

/// The longest text Twilio takes (and delivers).
pub const MAX_BODY_CHARS: usize = 1600;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward_and_finals_stay() {
        let rank = |s| status_rank(s).unwrap();
        assert!(advances(rank("queued"), rank("sent")));
        assert!(advances(rank("sending"), rank("delivered")));
        assert!(!advances(rank("sent"), rank("sending")));
        assert!(!advances(rank("delivered"), rank("failed")));
        assert!(!advances(rank("failed"), rank("delivered")));
        assert!(!advances(rank("sent"), rank("sent")));
        assert_eq!(status_rank("receiving"), None);
    }

    #[test]
    fn parties_are_numbers_short_codes_or_sender_ids() {
        for ok in ["+14155550100", "12345", "ACME Corp", "my-sender_1"] {
            assert!(Party::parse_field(ok, "with").is_ok(), "{ok}");
        }
        for bad in ["", "a:b", "x".repeat(33).as_str(), "tab\there", "ünï"] {
            assert!(Party::parse_field(bad, "with").is_err(), "{bad}");
        }
    }
}
