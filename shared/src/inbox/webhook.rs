//! Twilio's Messaging webhooks, once their signature is checked: a text arriving on a number,
//! a sent text's status callback, and the number's fallback URL.
//!
//! A text is acknowledged only once stored: when the store fails or is slower than the
//! deadline, the answer is a 503, and Twilio calls the fallback URL, which forwards the text
//! without touching the store. Twilio never redelivers an inbound text later (the reconciler
//! recovers one both URLs missed).

use futures::future::{join, join_all};
use serde_json::json;
use tokio::time::{Instant, timeout_at};

use super::notices::{received_notice, recipients, status_notice};
use crate::directory::NumberRoute;
use crate::domain::{Capability, E164, FieldError, IdentityStyle, MessageSid};
use crate::events::Cursor;
use crate::routing::RecentRoutes;
use crate::sms::keywords::opt_change;
use crate::sms::message::{Direction, Inbox, MAX_BODY_CHARS, Media, Message, Party, status_rank};
use crate::store::messages::{InboundWrite, SidState, StatusWrite};
use crate::store::{DirectoryStore, MessageStore, PresenceKey, PresenceStore, StoreError};
use crate::twilio::twiml::Twiml;

/// What the webhooks read and write, for one request.
pub struct SmsContext<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub presence: &'a dyn PresenceStore,
    pub messages: &'a dyn MessageStore,
    pub recent_routes: &'a RecentRoutes,
    pub identity_style: IdentityStyle,
    pub now_ms: i64,
    /// When the answer must be on its way (`WEBHOOK_DEADLINE_MS` after the request came).
    pub deadline: Instant,
}

/// How a webhook is answered.
#[derive(Debug)]
pub enum Reply {
    /// 200 with this TwiML.
    Twiml(Twiml),
    /// 503: the store failed or was too slow; Twilio tries the fallback URL.
    Unavailable,
    /// 400: a parameter Twilio always sends is missing or malformed.
    Invalid(FieldError),
}

/// The answer and what the request's log line says of it.
#[derive(Debug)]
pub struct Answer {
    pub reply: Reply,
    pub outcome: &'static str,
    pub cause: Option<String>,
    pub message_sid: Option<String>,
    pub warn: bool,
}

impl Answer {
    fn twiml(twiml: Twiml, outcome: &'static str) -> Self {
        Self {
            reply: Reply::Twiml(twiml),
            outcome,
            cause: None,
            message_sid: None,
            warn: false,
        }
    }

    fn invalid(error: FieldError) -> Self {
        Self {
            cause: Some(error.to_string()),
            reply: Reply::Invalid(error),
            outcome: "invalid",
            message_sid: None,
            warn: true,
        }
    }

    fn unavailable(cause: String) -> Self {
        Self {
            reply: Reply::Unavailable,
            outcome: "store_unavailable",
            cause: Some(cause),
            message_sid: None,
            warn: true,
        }
    }

    fn with_sid(mut self, sid: Option<&str>) -> Self {
        self.message_sid = sid.map(str::to_owned);
        self
    }
}

/// The form's parameters by name.
pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, FieldError> {
        self.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| FieldError::new(name, "is required"))
    }

    fn message_sid(&self) -> Result<String, FieldError> {
        let sid = MessageSid::parse_field(self.required("MessageSid")?, "MessageSid")?;
        Ok(sid.into())
    }
}

/// A received text, as the webhook (or the message list) describes it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: Party,
    pub to: E164,
    pub message: Message,
    pub opt_out_type: Option<String>,
}

/// The webhook's parameters as a received text.
pub fn received(params: &Params<'_>, now_ms: i64) -> Result<Received, FieldError> {
    let message_sid = params.message_sid()?;
    let from = Party::parse_field(params.required("From")?, "From")?;
    let to = E164::parse_field(params.required("To")?, "To")?;
    let body: String = params
        .get("Body")
        .unwrap_or_default()
        .chars()
        .take(MAX_BODY_CHARS)
        .collect();
    let count = |name: &str, max: u32| -> Result<u32, FieldError> {
        match params.get(name) {
            None | Some("") => Ok(0),
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    FieldError::new(name, format!("must be a whole number up to {max}"))
                }),
        }
    };
    let num_media = count("NumMedia", 10)?;
    let mut media = Vec::new();
    for index in 0..num_media {
        let url = params.required(&format!("MediaUrl{index}"))?;
        let content_type = params
            .get(&format!("MediaContentType{index}"))
            .unwrap_or("application/octet-stream");
        media.push(Media {
            index,
            content_type: content_type.to_owned(),
            url: url.to_owned(),
        });
    }
    let segments = count("NumSegments", 100)?.max(1);
    Ok(Received {
        message: Message {
            message_sid,
            direction: Direction::Inbound,
            from: from.to_string(),
            to: to.to_string(),
            body,
            media,
            segments,
            status: "received".to_owned(),
            error_code: None,
            at: now_ms,
            sent_by: None,
        },
        from,
        to,
        opt_out_type: params.get("OptOutType").map(str::to_owned),
    })
}

/// Store a received text for the number's users, exactly once; whether it was new. Shared by
/// the webhook and the reconciler.
pub async fn store_received(
    messages: &dyn MessageStore,
    route: &NumberRoute,
    identity_style: IdentityStyle,
    received: &Received,
    latest: bool,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let inbox = Inbox {
        org: route.org_id.clone(),
        phone_id: route.phone.id.clone(),
    };
    let opt_change = opt_change(&received.message.body, received.opt_out_type.as_deref());
    let to = recipients(route, identity_style);
    let write = InboundWrite {
        phone_number: route.phone.phone_number.to_string(),
        with: received.from.clone(),
        position: if latest {
            Cursor::next(received.message.at)
        } else {
            Cursor::stamped(received.message.at)
        }
        .to_string(),
        latest,
        opt_change,
        notice: received_notice(&inbox, route, &received.message, opt_change, to, now_ms),
        message: received.message.clone(),
        inbox,
    };
    messages.store_inbound(&write).await
}

/// `POST /phone/sms/incoming`: store the text, tell the number's users, and forward it when
/// none of them can read it in the app.
pub async fn incoming(ctx: &SmsContext<'_>, params: &Params<'_>) -> Answer {
    let received = match received(params, ctx.now_ms) {
        Ok(received) => received,
        Err(error) => return Answer::invalid(error),
    };
    let sid = received.message.message_sid.clone();
    let route = match timeout_at(ctx.deadline, ctx.directory.route_for_number(&received.to)).await {
        Ok(Ok(Some(route))) => route,
        Ok(Ok(None)) => {
            let mut answer = Answer::twiml(Twiml::new(), "unknown_number");
            answer.cause = Some(format!("{} is in no directory", received.to));
            answer.warn = true;
            return answer.with_sid(Some(&sid));
        }
        Ok(Err(e)) => return Answer::unavailable(e.to_string()).with_sid(Some(&sid)),
        Err(_) => return Answer::unavailable("deadline passed".into()).with_sid(Some(&sid)),
    };
    let route = std::sync::Arc::new(route);
    ctx.recent_routes.remember(&route);
    let forward_to = route.phone.sms.as_ref().and_then(|s| s.forward_to.clone());
    let store = store_received(
        ctx.messages,
        &route,
        ctx.identity_style,
        &received,
        true,
        ctx.now_ms,
    );
    // Whether anyone could read it in the app matters only where there is somewhere else to
    // send it; read with the write, not after it.
    let readers = async {
        match forward_to {
            Some(_) => {
                Some(any_live_sms_device(ctx, &recipients(&route, ctx.identity_style)).await)
            }
            None => None,
        }
    };
    let (stored, readers) = match timeout_at(ctx.deadline, join(store, readers)).await {
        Ok(done) => done,
        Err(_) => return Answer::unavailable("deadline passed".into()).with_sid(Some(&sid)),
    };
    match stored {
        Err(e) => Answer::unavailable(e.to_string()).with_sid(Some(&sid)),
        Ok(false) => Answer::twiml(Twiml::new(), "duplicate").with_sid(Some(&sid)),
        Ok(true) => match (forward_to, readers) {
            (Some(to), Some(Ok(false))) => {
                let text = forwarded_text(&received);
                Answer::twiml(Twiml::new().message(to.as_str(), &text), "forwarded")
                    .with_sid(Some(&sid))
            }
            (Some(to), Some(Err(e))) => {
                // Stored, but who can read it is unknown: forward rather than risk silence.
                let mut answer = Answer::twiml(
                    Twiml::new().message(to.as_str(), &forwarded_text(&received)),
                    "forwarded",
                );
                answer.cause = Some(format!("presence unknown: {e}"));
                answer.with_sid(Some(&sid))
            }
            _ => Answer::twiml(Twiml::new(), "delivered").with_sid(Some(&sid)),
        },
    }
}

/// Whether any of `users` has a live device with the `sms` capability.
async fn any_live_sms_device(
    ctx: &SmsContext<'_>,
    users: &[PresenceKey],
) -> Result<bool, StoreError> {
    let reads = users
        .iter()
        .map(|user| ctx.presence.live_devices(user, ctx.now_ms));
    let mut any = false;
    for devices in join_all(reads).await {
        any |= devices?
            .iter()
            .any(|d| d.capabilities.contains(Capability::Sms));
    }
    Ok(any)
}

/// `From +1…: body`, within the 1,600 characters of one text.
pub fn forwarded_text(received: &Received) -> String {
    let mut text = format!("From {}: ", received.from);
    let body = match (
        received.message.body.is_empty(),
        received.message.media.len(),
    ) {
        (true, n) if n > 0 => format!("({n} media file{})", if n == 1 { "" } else { "s" }),
        _ => received.message.body.clone(),
    };
    let room = MAX_BODY_CHARS.saturating_sub(text.chars().count());
    text.extend(body.chars().take(room));
    text
}

/// `POST /phone/sms/fallback`: Twilio could not get an answer from the incoming webhook. No
/// store access (it is what failed): forward the text where the number's route, seen lately by
/// this process, says; else nothing. Logged with its `MessageSid` for the reconciler.
pub fn fallback(ctx: &SmsContext<'_>, params: &Params<'_>) -> Answer {
    let received = match received(params, ctx.now_ms) {
        Ok(received) => received,
        Err(error) => return Answer::invalid(error),
    };
    let sid = received.message.message_sid.clone();
    let forward_to = ctx
        .recent_routes
        .get(&received.to)
        .and_then(|route| route.phone.sms.as_ref().and_then(|s| s.forward_to.clone()));
    let mut answer = match forward_to {
        Some(to) => Answer::twiml(
            Twiml::new().message(to.as_str(), &forwarded_text(&received)),
            "fallback_forwarded",
        ),
        None => Answer::twiml(Twiml::new(), "fallback_unforwarded"),
    };
    answer.warn = true;
    answer.cause = params.get("ErrorCode").map(|code| {
        format!("Twilio error {code}; the reconciler (sms-reconcile) stores the text later")
    });
    answer.with_sid(Some(&sid))
}

/// `POST /phone/sms/status`: a sent text's status, applied only when it moves the message
/// forward; a callback that beats the message's own write waits on its pointer.
pub async fn status(ctx: &SmsContext<'_>, params: &Params<'_>) -> Answer {
    let sid = match params.message_sid() {
        Ok(sid) => sid,
        Err(error) => return Answer::invalid(error),
    };
    let status = params
        .get("MessageStatus")
        .or_else(|| params.get("SmsStatus"))
        .unwrap_or_default()
        .to_owned();
    let Some(rank) = status_rank(&status) else {
        let mut answer = Answer::twiml(Twiml::new(), "status_ignored");
        answer.cause = Some(format!("status {status:?} is not tracked"));
        return answer.with_sid(Some(&sid));
    };
    let error_code = params.get("ErrorCode").and_then(|c| c.parse::<u32>().ok());
    let from = params
        .get("From")
        .and_then(|f| E164::parse_field(f, "From").ok());
    let work = async {
        let route = async {
            match &from {
                Some(number) => ctx.directory.route_for_number(number).await,
                None => Ok(None),
            }
        };
        let (state, route) = join(ctx.messages.sid_state(&sid, ctx.now_ms), route).await;
        let (mut state, route) = (state?, route?);
        if !matches!(state, SidState::Stored(_)) {
            state = ctx
                .messages
                .hold_status(&sid, &status, rank, error_code, ctx.now_ms)
                .await?;
        }
        let SidState::Stored(location) = state else {
            return Ok("status_held");
        };
        let to = route
            .as_ref()
            .map(|r| recipients(r, ctx.identity_style))
            .unwrap_or_default();
        let data = json!({
            "phoneId": location.inbox.phone_id,
            "with": location.with,
            "messageSid": sid,
            "status": status,
            "errorCode": error_code,
        });
        let write = StatusWrite {
            notice: status_notice(data, to, ctx.now_ms),
            location,
            message_sid: sid.clone(),
            status: status.clone(),
            rank,
            error_code,
        };
        Ok::<_, StoreError>(if ctx.messages.apply_status(&write).await? {
            "status_applied"
        } else {
            "status_stale"
        })
    };
    match timeout_at(ctx.deadline, work).await {
        Ok(Ok(outcome)) => Answer::twiml(Twiml::new(), outcome).with_sid(Some(&sid)),
        Ok(Err(e)) => Answer::unavailable(e.to_string()).with_sid(Some(&sid)),
        Err(_) => Answer::unavailable("deadline passed".into()).with_sid(Some(&sid)),
    }
}
