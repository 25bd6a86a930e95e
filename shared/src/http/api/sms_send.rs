//! `POST /phone/sms/send`: a reply from one of the caller's numbers, through Twilio's REST API.
//!
//! Two DynamoDB rounds around the Twilio request: first the caller's profile, the
//! conversation (for its opt-out and who started it), the claim of the `clientMessageId` with
//! the text's count against the sender's budget, and the new-recipient count, together; then
//! the message, its pointer, the conversation, the claim and the events in one transaction.
//! The claim makes a retried request return the same message instead of texting twice. Where
//! a text may go and how many: `outbound_guard.rs`.

use futures::future::join4;
use http::StatusCode;

use super::body::{body_object, string_field};
use super::callbacks::callback_url;
use super::outbound_guard::{self, Guard};
use super::sms::{inbox_of, profile, rest_failure};
use super::{Answer, key};
use crate::config::{OutboundSettings, PresenceSettings, TwilioApiConfig};
use crate::domain::{Caller, E164, FieldError};
use crate::http::{ApiError, ErrorCode, Request, Route, json_response};
use crate::inbox::notices::{sent_notice, users_in};
use crate::sms::message::{Direction, Inbox, MAX_BODY_CHARS, Message, Party};
use crate::sms::segments;
use crate::store::messages::{SendClaim, SentWrite};
use crate::store::{DirectoryStore, MessageStore, PresenceKey};
use crate::twilio::rest::{NewMessage, RestError, TwilioRest};

/// What sending needs beyond the stores: Twilio's API, where its status callbacks go, and the
/// operator's outbound limits.
pub struct Sending {
    pub rest: TwilioRest,
    pub public_base_url: Option<String>,
    pub outbound: OutboundSettings,
}

impl Sending {
    pub fn new(config: &TwilioApiConfig) -> Self {
        Self {
            rest: TwilioRest::new(config.rest.clone(), config.timeout),
            public_base_url: config.public_base_url.clone(),
            outbound: config.outbound.clone(),
        }
    }
}

struct SendRequest {
    phone_id: String,
    to: E164,
    body: String,
    client_message_id: String,
}

fn parse(request: &Request) -> Result<SendRequest, ApiError> {
    let body = body_object(request)?;
    let phone_id = string_field(&body, "phoneId")?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new("phoneId", "is required"))?;
    let to = string_field(&body, "to")?
        .ok_or_else(|| FieldError::new("to", "is required"))
        .and_then(|raw| E164::parse_field(raw, "to"))?;
    let text = string_field(&body, "body")?.unwrap_or_default();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_BODY_CHARS {
        return Err(
            FieldError::new("body", format!("must be 1 to {MAX_BODY_CHARS} characters")).into(),
        );
    }
    let client_message_id = string_field(&body, "clientMessageId")?
        .filter(|id| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .ok_or_else(|| {
            FieldError::new(
                "clientMessageId",
                "is required: 1 to 64 of A-Z a-z 0-9 - _ . (a new one per message; the same one to retry)",
            )
        })?;
    Ok(SendRequest {
        phone_id: phone_id.to_owned(),
        to,
        body: text.to_owned(),
        client_message_id: client_message_id.to_owned(),
    })
}

pub async fn send(
    messages: &dyn MessageStore,
    directory: &dyn DirectoryStore,
    settings: &PresenceSettings,
    now_ms: i64,
    sending: &Sending,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let asked = parse(request)?;
    let sender = key(caller);
    let inbox = Inbox {
        org: caller.org.clone(),
        phone_id: asked.phone_id.clone(),
    };
    let with = Party::from(&asked.to);
    let guard = Guard::texts(&sending.outbound);
    let (profile, conversation, claim, new_recipient) = join4(
        profile(directory, caller),
        messages.conversation(&inbox, &with),
        messages.claim_send(&sender, &asked.client_message_id, &guard.texts, now_ms),
        messages.count_new_recipient(&sender, &guard.new_recipients, &inbox, &with, now_ms),
    )
    .await;
    match claim? {
        SendClaim::Claimed => {}
        SendClaim::OverBudget {
            retry_after_seconds,
        } => return Err(outbound_guard::texts_spent(retry_after_seconds)),
        SendClaim::InFlight => {
            return Err(ApiError::refused(
                ErrorCode::SendInProgress,
                "a send with this clientMessageId is in progress; retry shortly for its result",
            ));
        }
        SendClaim::Sent(location) => {
            let sent = messages.message(&location).await?;
            let sent =
                sent.ok_or_else(|| ApiError::Internal("a claimed message is gone".into()))?;
            return Ok(json_response(StatusCode::OK, &sent));
        }
    }
    // From here the claim is this request's: give it up on every refusal so that a retry with
    // the same id can succeed once the cause is fixed.
    let release = || messages.release_send(&sender, &asked.client_message_id);
    let checked = (|| {
        let profile = profile?;
        let Some((_, phone)) = inbox_of(caller, profile.as_ref(), &asked.phone_id) else {
            return Err(ApiError::refused(
                ErrorCode::PhoneNotAssigned,
                "phoneId is not one of your numbers",
            ));
        };
        let profile = profile
            .as_ref()
            .ok_or_else(|| ApiError::Internal("no profile".into()))?;
        let conversation = conversation?;
        guard.destination(profile, &asked.to, conversation.as_ref())?;
        if conversation.is_some_and(|c| c.opted_out) {
            return Err(opted_out());
        }
        guard.new_recipient(new_recipient?)?;
        let users = profile.phone_users.get(&asked.phone_id);
        let to: Vec<PresenceKey> = match users {
            Some(emails) => users_in(
                &caller.org,
                &emails.iter().collect::<Vec<_>>(),
                settings.identity_style,
            ),
            None => vec![sender.clone()],
        };
        Ok((phone.phone_number.clone(), to))
    })();
    let (from, recipients) = match checked {
        Ok(checked) => checked,
        Err(refusal) => {
            release().await?;
            return Err(refusal);
        }
    };
    let status_callback = callback_url(
        request,
        sending.public_base_url.as_deref(),
        Route::SmsStatus,
    );
    let new = NewMessage {
        from: from.as_str(),
        to: asked.to.as_str(),
        body: &asked.body,
        status_callback: status_callback.as_deref(),
    };
    let created = match sending.rest.send_message(&new).await {
        Ok(created) => created,
        Err(error) => {
            if matches!(
                error,
                RestError::Refused {
                    code: Some(21610),
                    ..
                }
            ) {
                messages
                    .set_opted_out(&inbox, from.as_str(), &with, true)
                    .await?;
            }
            release().await?;
            return Err(twilio_refusal(error));
        }
    };
    let (_, segments) = segments::count(&asked.body);
    let message = Message {
        message_sid: created.sid,
        direction: Direction::Outbound,
        from: from.to_string(),
        to: asked.to.to_string(),
        body: asked.body,
        media: Vec::new(),
        segments,
        status: created.status.unwrap_or_else(|| "queued".into()),
        error_code: created.error_code,
        at: now_ms,
        sent_by: Some(caller.email.to_string()),
    };
    let write = SentWrite {
        notice: sent_notice(&inbox, from.as_str(), &message, recipients, now_ms),
        inbox,
        phone_number: from.to_string(),
        with,
        position: crate::events::Cursor::next(now_ms).to_string(),
        sender,
        client_message_id: asked.client_message_id,
        message,
    };
    // Twilio has the text now: the claim is never given up from here (a retry must not text
    // again), so a store that fails is tried once more before the error is answered; the
    // retries then answer send_in_progress until the claim expires (docs/client-contract.md).
    let stored = match messages.store_sent(&write).await {
        Ok(stored) => stored,
        Err(_) => messages.store_sent(&write).await?,
    };
    Ok(json_response(StatusCode::OK, &stored))
}

fn opted_out() -> ApiError {
    ApiError::refused(
        ErrorCode::RecipientOptedOut,
        "the recipient replied STOP to this number; they must text START before you can text them",
    )
}

/// Twilio's refusals as the API's: each code that means something to the user gets its own.
fn twilio_refusal(error: RestError) -> ApiError {
    match error {
        RestError::Refused {
            code: Some(21610), ..
        } => opted_out(),
        RestError::Refused {
            code: Some(21211),
            message,
            ..
        } => ApiError::InvalidField(FieldError::new("to", format!("Twilio: {message}"))),
        RestError::Refused {
            code: Some(21408 | 21612),
            message,
            ..
        } => ApiError::refused(
            ErrorCode::DestinationRefused,
            format!("Twilio cannot text this number from yours: {message}"),
        ),
        other => rest_failure(other),
    }
}
