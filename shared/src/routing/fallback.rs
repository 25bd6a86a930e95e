//! What a caller hears when nobody can take the call: the group's fallback, else the number's
//! voicemail, else a short message; and Twilio's fallback URL, answered without the store.

use super::{CallParams, Callbacks, Context, Decision, Outcome};
use crate::directory::{Fallback, Hours, NumberRoute, Voicemail};
use crate::domain::E164;
use crate::twilio::twiml::{RecordVerb, Twiml};

pub const NOBODY_AVAILABLE: &str =
    "Sorry, nobody is available to take your call. Please try again later. Goodbye.";
pub const NOT_IN_SERVICE: &str = "Sorry, the number you called is not in service. Goodbye.";
const DEFAULT_VOICEMAIL_GREETING: &str = "Please leave a message after the tone.";
const SERVICE_TROUBLE: &str = "Sorry, we cannot connect your call right now. \
    Please leave a message after the tone and we will call you back.";

pub fn voicemail_twiml(voicemail: &Voicemail, callbacks: &Callbacks) -> Twiml {
    let twiml = match (&voicemail.greeting_url, &voicemail.greeting) {
        (Some(url), _) => Twiml::new().play(url),
        (None, Some(text)) => Twiml::new().say(text),
        (None, None) => Twiml::new().say(DEFAULT_VOICEMAIL_GREETING),
    };
    // The record action points at dial-status, which hangs up once the message is taken;
    // without an action Twilio would post back to the incoming webhook and ring again. The
    // recording reports to this service, which keeps it in the call's history and passes the
    // report on to the directory's own `recordingStatusCallback`, if any.
    twiml
        .record(&RecordVerb {
            max_length_seconds: voicemail.max_length_seconds,
            transcribe: voicemail.transcribe,
            recording_status_callback: Some(callbacks.recording_status()),
            action_url: callbacks.dial_status(&[("kind", "voicemail")]),
        })
        .hangup()
}

/// What one fallback of the directory does.
fn fallback_twiml(fallback: &Fallback, callbacks: &Callbacks) -> Twiml {
    match fallback {
        Fallback::Voicemail(vm) => voicemail_twiml(vm, callbacks),
        Fallback::AiAssistant { url } if url.starts_with("wss://") => {
            Twiml::new().connect_stream(url)
        }
        Fallback::AiAssistant { url } | Fallback::Automation { url } => Twiml::new().redirect(url),
        Fallback::Hangup { message } => match message {
            Some(text) => Twiml::new().say(text).hangup(),
            None => Twiml::new().hangup(),
        },
    }
}

/// A call outside business hours: the hours' `whenClosed`, else what the number does when
/// nobody can take a call.
pub fn when_closed(hours: &Hours, route: &NumberRoute, callbacks: &Callbacks) -> Twiml {
    match &hours.when_closed {
        Some(closed) => fallback_twiml(closed, callbacks),
        None => fallback(Some(route), callbacks),
    }
}

/// The group's fallback, else the number's voicemail, else a short message and hangup.
pub fn fallback(route: Option<&NumberRoute>, callbacks: &Callbacks) -> Twiml {
    let group_fallback = route
        .and_then(|r| r.group.as_ref())
        .and_then(|g| g.fallback.as_ref());
    if let Some(fallback) = group_fallback {
        return fallback_twiml(fallback, callbacks);
    }
    if let Some(vm) = route.and_then(|r| r.phone.voicemail.as_ref()) {
        return voicemail_twiml(vm, callbacks);
    }
    Twiml::new().say(NOBODY_AVAILABLE).hangup()
}

/// `POST /phone/voice/fallback`: Twilio's "primary handler fails" URL, called when the
/// incoming webhook errored or timed out (a Lambda throttle, a store outage). It reads nothing:
/// the number's own fallback if this process routed the number lately, else a voicemail
/// that still takes the caller's message.
pub fn primary_failed(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let failure = format!(
        "Twilio fallback after error {}",
        params.get("ErrorCode").unwrap_or("unknown")
    );
    let number = params
        .get("To")
        .and_then(|to| E164::parse_field(to, "To").ok());
    let (twiml, reason) = match number.and_then(|n| ctx.recent_routes.get(&n)) {
        Some(route) => (
            fallback(Some(&route), ctx.callbacks),
            format!("{failure}; the number's own fallback"),
        ),
        None => (
            voicemail_twiml(
                &Voicemail {
                    greeting: Some(SERVICE_TROUBLE.to_owned()),
                    ..Voicemail::default()
                },
                ctx.callbacks,
            ),
            format!("{failure}; route unknown here, generic voicemail"),
        ),
    };
    Decision::new(twiml, Outcome::Fallback, Some(reason)).degraded()
}
