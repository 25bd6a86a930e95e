//! The call history's app endpoints: the caller's recent calls, their seen mark, and the
//! voicemail left on their calls (played and deleted through Twilio's REST API with the API
//! key; only by the users of the number it was left on, or the colleague it was for).

use futures::future::join;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::json;

use super::body::{body_object, string_field};
use super::query::{limit, param, query};
use super::sms::{profile, rest_failure};
use super::{Answer, key};
use crate::domain::{CallSid, Caller, FieldError, RecordingSid};
use crate::events::EventKind;
use crate::history::{AnsweredBy, Direction, Entry, Offer, Outcome, Voicemail};
use crate::http::routes::voicemail_sid;
use crate::http::{ApiError, Request, Response, json_response};
use crate::store::history::{SeenMark, VoicemailRef, position};
use crate::store::messages::Notice;
use crate::store::{DirectoryStore, HistoryStore};
use crate::twilio::rest::{RestError, TwilioRest};

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// An entry as `GET /phone/calls` shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallView<'a> {
    call_sid: &'a str,
    direction: Option<Direction>,
    from: &'a str,
    to: &'a str,
    phone_id: Option<&'a str>,
    phone_number: Option<&'a str>,
    outcome: Outcome,
    reason: Option<&'static str>,
    answered_by: Option<&'a AnsweredBy>,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    duration_seconds: Option<u32>,
    voicemail: Option<&'a Voicemail>,
    /// Who was offered the call, step by step.
    offered_to: &'a [Offer],
    seen: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallsResponse<'a> {
    calls: Vec<CallView<'a>>,
    cursor: Option<&'a str>,
    unseen_missed: usize,
}

fn view<'a>(entry: &'a Entry, seen: bool) -> CallView<'a> {
    CallView {
        call_sid: &entry.call_sid,
        direction: entry.direction,
        from: &entry.from,
        to: &entry.to,
        phone_id: entry.phone_id.as_deref(),
        phone_number: entry.phone_number.as_deref(),
        outcome: entry.outcome(),
        reason: entry.missed.map(|r| r.as_str()),
        answered_by: entry.answered_by.as_ref(),
        started_at: entry.started_at,
        answered_at: entry.answered_at,
        ended_at: entry.ended_at,
        duration_seconds: entry.duration_seconds,
        voicemail: entry.voicemail.as_ref(),
        offered_to: &entry.offered_to,
        seen,
    }
}

/// `GET /phone/calls?before=<cursor>&limit=<n>`: newest first, in one read (the page and the
/// seen mark together). `unseenMissed` counts the missed calls and voicemails to the caller in
/// this page that are newer than their seen mark.
pub async fn history(
    history: &dyn HistoryStore,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let params = query(request);
    let limit = limit(&params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let before = match param(&params, "before") {
        None | Some("") => None,
        Some(raw) if is_position(raw) => Some(raw.to_owned()),
        Some(_) => {
            return Err(FieldError::new("before", "must be a cursor this service returned").into());
        }
    };
    let page = history
        .history(&key(caller), before.as_deref(), limit, now_ms)
        .await?;
    let calls = page
        .entries
        .iter()
        .map(|(position, entry)| view(entry, page.is_seen(position)))
        .collect();
    let unseen_missed = page.unseen_missed(caller.email.as_str());
    let cursor = (page.entries.len() == limit)
        .then(|| page.entries.last().map(|(p, _)| p.as_str()))
        .flatten();
    let body = CallsResponse {
        calls,
        cursor,
        unseen_missed,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// A history position: 16 hex digits, `:`, a `CallSid`.
fn is_position(raw: &str) -> bool {
    raw.split_once(':').is_some_and(|(time, sid)| {
        time.len() == 16 && time.bytes().all(|b| b.is_ascii_hexdigit()) && CallSid::is_valid(sid)
    })
}

/// `POST /phone/calls/seen {"upTo": "<CallSid>"}`: the caller has seen their history up to
/// that call (never back); their other devices hear `calls.seen`. A call of someone else's
/// history gets the same answer as one that never was, so nothing about it is confirmed.
pub async fn seen(
    history: &dyn HistoryStore,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let body = body_object(request)?;
    let up_to = string_field(&body, "upTo")?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new("upTo", "is required (a callSid)"))?;
    let up_to = CallSid::parse_field(up_to, "upTo")?;
    let not_yours = || FieldError::new("upTo", "is no call of your history").into();
    let started = history.call_started(up_to.as_str()).await?;
    let Some((_, started_at)) = started.filter(|(org, _)| *org == caller.org) else {
        return Err(not_yours());
    };
    let user = key(caller);
    let notice = Notice {
        kind: EventKind::CallsSeen,
        data: json!({ "upTo": up_to.as_str() }),
        at: now_ms,
        to: vec![user.clone()],
    };
    let mark = history
        .mark_seen(&user, &position(started_at, up_to.as_str()), &notice)
        .await?;
    match mark {
        SeenMark::Moved | SeenMark::AlreadySeen => Ok(json_response(
            StatusCode::OK,
            &json!({ "upTo": up_to.as_str() }),
        )),
        SeenMark::NotInHistory => Err(not_yours()),
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such voicemail among your calls".into())
}

/// The voicemail the path names, and its SID, if the caller may have it: a user of the number
/// it was left on (as the directory says now), or the colleague it was for.
async fn allowed_voicemail(
    history: &dyn HistoryStore,
    directory: &dyn DirectoryStore,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Result<(RecordingSid, VoicemailRef), ApiError> {
    let sid = voicemail_sid(request.uri().path()).unwrap_or_default();
    let sid = RecordingSid::parse_field(sid, "recordingSid")?;
    let (profile, voicemail) =
        join(profile(directory, caller), history.voicemail(sid.as_str())).await;
    let (profile, voicemail) = (profile?, voicemail?);
    // Past the retention it is gone, whether or not DynamoDB's TTL has deleted it yet.
    let now_s = now_ms.div_euclid(1000);
    let voicemail = voicemail
        .filter(|vm| vm.org == caller.org && vm.expires_at > now_s)
        .ok_or_else(not_found)?;
    let allowed = match &voicemail.phone_id {
        Some(phone_id) => profile
            .iter()
            .flat_map(|p| p.assigned_phones.iter())
            .any(|p| &p.id == phone_id),
        None => voicemail.users.contains(&key(caller)),
    };
    if allowed {
        Ok((sid, voicemail))
    } else {
        Err(not_found())
    }
}

/// `GET /phone/voicemail/{recordingSid}` (`?format=wav` for WAV) streams the recording,
/// fetched from Twilio with the API key; `DELETE` deletes it at Twilio and takes it off every
/// entry that shows it.
pub async fn voicemail(
    history: &dyn HistoryStore,
    directory: &dyn DirectoryStore,
    now_ms: i64,
    rest: &TwilioRest,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let (sid, voicemail) = allowed_voicemail(history, directory, now_ms, caller, request).await?;
    if request.method() == http::Method::DELETE {
        rest.delete_recording(&sid).await.map_err(rest_failure)?;
        // Every device of everyone it was for drops it at once.
        let notice = Notice {
            kind: EventKind::VoicemailDeleted,
            data: json!({ "callSid": voicemail.call_sid, "recordingSid": voicemail.recording_sid }),
            at: now_ms,
            to: voicemail.users.clone(),
        };
        history.remove_voicemail(&voicemail, &notice).await?;
        let body = json!({ "recordingSid": voicemail.recording_sid, "deleted": true });
        return Ok(json_response(StatusCode::OK, &body));
    }
    let params = query(request);
    let (format, content_type) = match param(&params, "format") {
        None | Some("mp3") => ("mp3", "audio/mpeg"),
        Some("wav") => ("wav", "audio/wav"),
        Some(_) => return Err(FieldError::new("format", "must be mp3 or wav").into()),
    };
    let audio = rest
        .fetch_recording(&sid, format)
        .await
        .map_err(|e| match e {
            RestError::Refused { status: 404, .. } => {
                ApiError::NotFound("Twilio no longer has this recording".into())
            }
            other => rest_failure(other),
        })?;
    let mut response = Response::new(audio.bytes);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}
