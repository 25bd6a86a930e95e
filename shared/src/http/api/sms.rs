//! The SMS inbox's app endpoints: the caller's conversations, a conversation's messages, the
//! caller's read mark, and a message's media. Only numbers assigned to the caller (directly or
//! through a group, as the directory says now) are readable: any other is 404, so a user who
//! leaves a group loses its inbox and nobody learns what another number holds.

use futures::future::{join, join3};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::body::{body_object, string_field};
use super::query::{limit, param, query, required};
use super::{Answer, key};
use crate::directory::{AssignedPhone, UserProfile};
use crate::domain::{Caller, FieldError, MessageSid, UserKey};
use crate::http::{ApiError, ErrorCode, Request, Response, json_response};
use crate::sms::message::{ConversationView, Inbox, Message, Party};
use crate::store::messages::ReadMark;
use crate::store::messages::{ReadWrite, SidState};
use crate::store::{DirectoryStore, MessageStore, StoreError};
use crate::twilio::rest::{RestError, TwilioRest};

pub const CONVERSATIONS_DEFAULT_LIMIT: usize = 20;
pub const CONVERSATIONS_MAX_LIMIT: usize = 100;
pub const MESSAGES_DEFAULT_LIMIT: usize = 50;
pub const MESSAGES_MAX_LIMIT: usize = 200;

/// A paging cursor this service returned: a position, hex and short.
fn cursor(params: &[(String, String)], name: &str) -> Result<Option<String>, FieldError> {
    match param(params, name) {
        None | Some("") => Ok(None),
        Some(raw) if raw.len() <= 40 && raw.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(raw.to_owned()))
        }
        Some(_) => Err(FieldError::new(
            name,
            "must be a cursor this service returned",
        )),
    }
}

/// The caller's profile, if the directory has them in their token's org.
pub(super) async fn profile(
    directory: &dyn DirectoryStore,
    caller: &Caller,
) -> Result<Option<UserProfile>, StoreError> {
    let profile = directory
        .user(&UserKey::for_identity(&caller.identity))
        .await?;
    Ok(profile.filter(|p| p.org_id == caller.org))
}

/// The caller's inbox of `phone_id`, if the number is theirs.
pub(super) fn inbox_of<'p>(
    caller: &Caller,
    profile: Option<&'p UserProfile>,
    phone_id: &str,
) -> Option<(Inbox, &'p AssignedPhone)> {
    let phone = profile?.assigned_phones.iter().find(|p| p.id == phone_id)?;
    Some((
        Inbox {
            org: caller.org.clone(),
            phone_id: phone.id.clone(),
        },
        phone,
    ))
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such number among yours (or no such message on it)".into())
}

#[derive(Serialize)]
struct ConversationsResponse<'a> {
    conversations: Vec<ConversationView<'a>>,
    cursor: Option<&'a str>,
}

/// `GET /phone/sms/conversations?before=<cursor>&limit=<n>`: newest activity first, with the
/// caller's own unread counts. Two rounds: the profile, then the conversations of each of
/// their numbers and their read marks together.
pub async fn conversations(
    messages: &dyn MessageStore,
    directory: &dyn DirectoryStore,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let params = query(request);
    let limit = limit(
        &params,
        CONVERSATIONS_DEFAULT_LIMIT,
        CONVERSATIONS_MAX_LIMIT,
    )?;
    let before = cursor(&params, "before")?;
    let profile = profile(directory, caller).await?;
    let inboxes = profile.map(|p| p.inboxes()).unwrap_or_default();
    if inboxes.is_empty() {
        let body = ConversationsResponse {
            conversations: Vec::new(),
            cursor: None,
        };
        return Ok(json_response(StatusCode::OK, &body));
    }
    let user = key(caller);
    let (found, marks) = join(
        messages.conversations(&inboxes, before.as_deref(), limit),
        messages.read_marks(&user),
    )
    .await;
    let (found, marks) = (found?, marks?);
    let views = found
        .iter()
        .map(|c| c.view(ReadMark::read_in(&marks, c)))
        .collect();
    let next = (found.len() == limit)
        .then(|| found.last().map(|c| c.activity.as_str()))
        .flatten();
    let body = ConversationsResponse {
        conversations: views,
        cursor: next,
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Serialize)]
struct MessagesResponse<'a> {
    messages: Vec<&'a Message>,
    cursor: Option<&'a str>,
}

/// `GET /phone/sms/messages?phoneId=…&with=…&before=<cursor>&limit=<n>`: newest first. One
/// round: the profile and the page are read together; the page is dropped unless the number
/// is the caller's.
pub async fn messages(
    messages: &dyn MessageStore,
    directory: &dyn DirectoryStore,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let params = query(request);
    let phone_id = required(&params, "phoneId")?.to_owned();
    let with = Party::parse_field(required(&params, "with")?, "with")?;
    let limit = limit(&params, MESSAGES_DEFAULT_LIMIT, MESSAGES_MAX_LIMIT)?;
    let before = cursor(&params, "before")?;
    let asked = Inbox {
        org: caller.org.clone(),
        phone_id,
    };
    let (profile, page) = join(
        profile(directory, caller),
        messages.messages(&asked, &with, before.as_deref(), limit),
    )
    .await;
    let profile = profile?;
    if inbox_of(caller, profile.as_ref(), &asked.phone_id).is_none() {
        return Err(not_found());
    }
    let page = page?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|(position, _)| position.as_str()))
        .flatten();
    let body = MessagesResponse {
        messages: page.iter().map(|(_, m)| m).collect(),
        cursor: next,
    };
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadResponse<'a> {
    phone_id: &'a str,
    with: &'a Party,
    unread: u64,
}

/// `POST /phone/sms/read {"phoneId", "with", "upTo"}`: the caller's read mark moves up to that
/// message (never back); their other devices hear `sms.read`.
pub async fn read(
    messages: &dyn MessageStore,
    directory: &dyn DirectoryStore,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let body = body_object(request)?;
    let phone_id = string_field(&body, "phoneId")?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new("phoneId", "is required"))?;
    let with = string_field(&body, "with")?
        .ok_or_else(|| FieldError::new("with", "is required"))
        .and_then(|w| Party::parse_field(w, "with"))?;
    let up_to = string_field(&body, "upTo")?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new("upTo", "is required (a messageSid)"))?;
    let up_to_sid = MessageSid::parse_field(up_to, "upTo")?;
    let up_to = up_to_sid.as_str();
    let inbox = Inbox {
        org: caller.org.clone(),
        phone_id: phone_id.to_owned(),
    };
    let (profile, state, conversation) = join3(
        profile(directory, caller),
        messages.sid_state(up_to, now_ms),
        messages.conversation(&inbox, &with),
    )
    .await;
    let profile = profile?;
    if inbox_of(caller, profile.as_ref(), phone_id).is_none() {
        return Err(not_found());
    }
    let location = match state? {
        SidState::Stored(location) if location.inbox == inbox && location.with == with => location,
        _ => {
            return Err(ApiError::InvalidField(FieldError::new(
                "upTo",
                "is no message of this conversation",
            )));
        }
    };
    let inbound = conversation?.map_or(0, |c| c.inbound);
    let read = ReadWrite {
        up_to: location,
        up_to_sid: up_to.to_owned(),
        inbound,
        now_ms,
    };
    let mark = messages.mark_read(&key(caller), &read).await?;
    let body = ReadResponse {
        phone_id,
        with: &with,
        unread: inbound.saturating_sub(mark.read_inbound),
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /phone/sms/media?messageSid=…&index=0`: the file, fetched from Twilio with the API key
/// (so it works when the account enforces HTTP auth on media), only from Twilio's API.
pub async fn media(
    messages: &dyn MessageStore,
    directory: &dyn DirectoryStore,
    now_ms: i64,
    rest: &TwilioRest,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let params = query(request);
    let sid = MessageSid::parse_field(required(&params, "messageSid")?, "messageSid")?;
    let index: u32 = required(&params, "index")?
        .parse()
        .map_err(|_| FieldError::new("index", "must be a whole number"))?;
    let (profile, state) = join(
        profile(directory, caller),
        messages.sid_state(sid.as_str(), now_ms),
    )
    .await;
    let profile = profile?;
    let SidState::Stored(location) = state? else {
        return Err(not_found());
    };
    if location.inbox.org != caller.org
        || inbox_of(caller, profile.as_ref(), &location.inbox.phone_id).is_none()
    {
        return Err(not_found());
    }
    let message = messages.message(&location).await?.ok_or_else(not_found)?;
    let file = message
        .media
        .iter()
        .find(|m| m.index == index)
        .ok_or_else(not_found)?;
    let download = async { rest.fetch_media(&rest.media_file(&file.url, &sid)?).await };
    let download = download.await.map_err(|e| match e {
        RestError::Refused { status: 404, .. } => {
            ApiError::NotFound("Twilio no longer has this file (media is kept 13 months)".into())
        }
        // Never fetched: the stored URL names no file of this message in this account.
        RestError::ForeignUrl => {
            ApiError::NotFound("this file is not served by this account's Twilio API".into())
        }
        other => rest_failure(other),
    })?;
    let mut response = Response::new(download.bytes);
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&download.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

/// A Twilio failure a request could not work around, as the client sees it.
pub(super) fn rest_failure(error: RestError) -> ApiError {
    match error {
        RestError::Unavailable {
            retry_after_seconds,
            cause,
        } => ApiError::TwilioUnavailable {
            retry_after_seconds: retry_after_seconds.unwrap_or(5),
            cause,
        },
        RestError::Refused {
            status,
            code,
            message,
        } => ApiError::refused(
            ErrorCode::TwilioRefused,
            format!("Twilio refused ({status}, code {code:?}): {message}"),
        ),
        RestError::ForeignUrl => {
            ApiError::Internal("a stored media URL is not under TWILIO_API_BASE_URL".into())
        }
        RestError::Malformed(why) => ApiError::Internal(format!("Twilio's answer: {why}")),
    }
}
