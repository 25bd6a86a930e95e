//! The realtime channel's app endpoints: catch-up (`GET /phone/events`) and the ticket a
//! device connects with (`POST /phone/events/ticket`).
//!
//! Catch-up returns the events after a cursor and the cursor to resume from. An event's
//! cursor is taken before its write lands, so a read cannot promise that no event with an
//! earlier cursor is still on its way until [`SETTLE_MS`] have passed: the resume cursor
//! trails the newest events by that much, and a client sees those again (and drops them by
//! cursor) at its next catch-up. Nothing is lost; little is repeated.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::body::device_body;
use super::{Answer, key};
use crate::config::PresenceSettings;
use crate::domain::{Caller, Capabilities, Capability, DeviceId, FieldError};
use crate::events::{Cursor, Event, SETTLE_MS};
use crate::headers::X_FORWARDED_PROTO;
use crate::http::{ApiError, Request, json_response};
use crate::realtime::Tickets;
use crate::realtime::ticket::TICKET_SECONDS;
use crate::store::{EventStore, PresenceStore, StoreError};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;
/// Where the local server accepts realtime connections.
pub const CONNECT_PATH: &str = "/phone/events/connect";

#[derive(Serialize)]
struct EventsResponse<'a> {
    events: &'a [Event],
    cursor: &'a Cursor,
    /// The page was full before a voice-only device's inbox events were left out: more wait.
    more: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TicketResponse<'a> {
    ticket: &'a str,
    url: &'a str,
    expires_in: i64,
}

/// What a catch-up asks for: events after a cursor, how many, and for which device.
struct CatchUp {
    after: Option<Cursor>,
    limit: usize,
    /// The asking device: a device without the `sms` capability is not given the inbox's
    /// events, as the push never sends it them.
    device_id: Option<DeviceId>,
}

/// `after`, `limit` and `deviceId` from the query string, each checked.
fn catch_up_query(request: &Request) -> Result<CatchUp, FieldError> {
    let query = request.uri().query().unwrap_or_default();
    let mut after = None;
    let mut limit = DEFAULT_LIMIT;
    let mut device_id = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "deviceId" => device_id = Some(DeviceId::parse(&value)?),
            "after" => {
                let cursor = Cursor::parse(&value).ok_or_else(|| {
                    FieldError::new("after", "must be a cursor this service returned")
                })?;
                after = Some(cursor);
            }
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        FieldError::new(
                            "limit",
                            format!("must be a whole number from 1 to {MAX_LIMIT}"),
                        )
                    })?;
            }
            _ => {}
        }
    }
    Ok(CatchUp {
        after,
        limit,
        device_id,
    })
}

/// Where the client resumes: past everything that cannot change any more (all but the last
/// [`SETTLE_MS`]), never before `after`; after a full page, past its last event.
pub fn resume_cursor(after: &Cursor, events: &[Event], full: bool, now_ms: i64) -> Cursor {
    if let (true, Some(last)) = (full, events.last()) {
        return last.cursor.clone();
    }
    Cursor::at(now_ms - SETTLE_MS).max(after.clone())
}

/// `GET /phone/events?after=<cursor>&limit=<n>`: the caller's events after the cursor, oldest
/// first. Without `after`, no events and the cursor to start from.
pub async fn catch_up(
    events: &dyn EventStore,
    presence: &dyn PresenceStore,
    settings: &PresenceSettings,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let CatchUp {
        after,
        limit,
        device_id,
    } = catch_up_query(request)?;
    let Some(after) = after else {
        let start = Cursor::at(now_ms - SETTLE_MS);
        let body = EventsResponse {
            events: &[],
            cursor: &start,
            more: false,
        };
        return Ok(json_response(StatusCode::OK, &body));
    };
    let retention_ms = i64::from(settings.event_retention_seconds) * 1000;
    if after.time_ms() < now_ms - retention_ms {
        return Err(ApiError::CursorExpired);
    }
    let user = key(caller);
    let events = events.events_after(&user, &after, limit, now_ms);
    // The device's capabilities, read beside the events (the same round).
    let capabilities = async {
        match &device_id {
            Some(id) => {
                let devices = presence.live_devices(&user, now_ms).await?;
                Ok(devices
                    .into_iter()
                    .find(|d| &d.device_id == id)
                    .map(|d| d.capabilities))
            }
            None => Ok::<_, StoreError>(None),
        }
    };
    let (events, capabilities) = futures::future::join(events, capabilities).await;
    let events = events?;
    let capabilities: Option<Capabilities> = capabilities?;
    let full = events.len() == limit;
    let cursor = resume_cursor(&after, &events, full, now_ms);
    let voice_only = capabilities.is_some_and(|c| !c.contains(Capability::Sms));
    let shown: Vec<Event> = events
        .iter()
        .filter(|e| !(voice_only && e.kind.for_sms_devices()))
        .cloned()
        .collect();
    let body = EventsResponse {
        events: &shown,
        cursor: &cursor,
        more: full,
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST /phone/events/ticket` `{"deviceId"}`: a ticket for one of the caller's live devices,
/// and where to connect with it.
pub async fn issue_ticket(
    presence: &dyn PresenceStore,
    now_ms: i64,
    tickets: &Tickets,
    url: Option<&str>,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let (_, device_id) = device_body(request)?;
    let user = key(caller);
    let presence = presence.presence(&user, now_ms).await?;
    let device = presence
        .devices
        .iter()
        .find(|d| d.device_id == device_id)
        .ok_or(ApiError::DeviceNotRegistered)?;
    let ticket = tickets
        .issue(&user, device, now_ms.div_euclid(1000))
        .map_err(|e| ApiError::Internal(format!("ticket: {e}")))?;
    let url = url.map_or_else(|| local_url(request), str::to_owned);
    let body = TicketResponse {
        ticket: &ticket,
        url: &url,
        expires_in: TICKET_SECONDS,
    };
    let mut response = json_response(StatusCode::OK, &body);
    // A ticket is a credential for a minute: no cache keeps it.
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The local server's own realtime URL, from the address the client reached it at. Unlike a
/// callback ([`super::callbacks`]) this URL goes back only to the client whose headers built
/// it, for its own ticket: a hostile `Host` misleads nobody but its sender, and a proxy in
/// front of the local server (a tunnel to a phone) gets its own address back.
fn local_url(request: &Request) -> String {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let secure = headers
        .get(X_FORWARDED_PROTO)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || request.uri().scheme_str() == Some("https");
    let scheme = if secure { "wss" } else { "ws" };
    format!("{scheme}://{host}{CONNECT_PATH}")
}
