//! Routing a call (design §Routing a call): number → phone → target users → their live voice
//! devices → one `<Dial>` of `<Client>`s, or the fallback. Every path ends in TwiML: a store
//! that fails or is slow yields the best fallback known, never an error.

use futures::future::join_all;
use tokio::time::{Instant, timeout_at};

use crate::app::App;
use crate::directory::{
    Assignment, DEFAULT_RING_TIMEOUT_SECONDS, Fallback, NumberRoute, Voicemail,
};
use crate::domain::{Capability, E164, Email, Identity};
use crate::store::PresenceKey;
use crate::twilio::twiml::{ClientNoun, DialVerb, RecordVerb, Twiml};

/// Twilio allows at most 10 nouns in one `<Dial>`.
pub const MAX_CLIENTS_PER_DIAL: usize = 10;

const NOBODY_AVAILABLE: &str =
    "Sorry, nobody is available to take your call. Please try again later. Goodbye.";
const NOT_IN_SERVICE: &str = "Sorry, the number you called is not in service. Goodbye.";
const DEFAULT_VOICEMAIL_GREETING: &str = "Please leave a message after the tone.";

/// What happened, for the request's log line.
#[derive(Debug, Clone)]
pub struct Decision {
    pub twiml: Twiml,
    /// `dial`, `fallback`, `unknown_number`, `hangup`.
    pub outcome: &'static str,
    /// Why a fallback was chosen, or what failed.
    pub reason: Option<String>,
    /// The store failed or was too slow: the caller got less than the directory promised.
    pub degraded: bool,
}

impl Decision {
    fn new(twiml: Twiml, outcome: &'static str, reason: impl Into<Option<String>>) -> Self {
        Self {
            twiml,
            outcome,
            reason: reason.into(),
            degraded: false,
        }
    }

    fn degraded(mut self) -> Self {
        self.degraded = true;
        self
    }
}

/// The parts of a Twilio voice request routing reads.
#[derive(Debug, Clone, Default)]
pub struct CallParams {
    pub to: Option<String>,
    pub from: Option<String>,
    pub dial_call_status: Option<String>,
}

/// URLs Twilio should call back, absolute so API Gateway stages and base paths survive.
#[derive(Debug, Clone)]
pub struct Callbacks {
    pub dial_status_url: String,
}

fn voicemail_twiml(voicemail: &Voicemail, callbacks: &Callbacks) -> Twiml {
    let twiml = match (&voicemail.greeting_url, &voicemail.greeting) {
        (Some(url), _) => Twiml::new().play(url),
        (None, Some(text)) => Twiml::new().say(text),
        (None, None) => Twiml::new().say(DEFAULT_VOICEMAIL_GREETING),
    };
    // The record action points at dial-status, which hangs up once the message is taken;
    // without an action Twilio would post back to the incoming webhook and ring again.
    twiml
        .record(&RecordVerb {
            max_length_seconds: voicemail.max_length_seconds,
            transcribe: voicemail.transcribe,
            recording_status_callback: voicemail.recording_status_callback.clone(),
            action_url: callbacks.dial_status_url.clone(),
        })
        .hangup()
}

/// The group's fallback, else the number's voicemail, else a short message and hangup.
pub fn fallback(route: Option<&NumberRoute>, callbacks: &Callbacks) -> Twiml {
    let group_fallback = route
        .and_then(|r| r.group.as_ref())
        .and_then(|g| g.fallback.as_ref());
    if let Some(fallback) = group_fallback {
        return match fallback {
            Fallback::Voicemail(vm) => voicemail_twiml(vm, callbacks),
            Fallback::AiAssistant { url } if url.starts_with("wss://") => {
                Twiml::new().connect_stream(url)
            }
            Fallback::AiAssistant { url } | Fallback::Automation { url } => {
                Twiml::new().redirect(url)
            }
            Fallback::Hangup { message } => match message {
                Some(text) => Twiml::new().say(text).hangup(),
                None => Twiml::new().hangup(),
            },
        };
    }
    if let Some(vm) = route.and_then(|r| r.phone.voicemail.as_ref()) {
        return voicemail_twiml(vm, callbacks);
    }
    Twiml::new().say(NOBODY_AVAILABLE).hangup()
}

fn targets(route: &NumberRoute) -> Vec<Email> {
    match (&route.phone.assignment, &route.group) {
        (Assignment::User(email), _) => vec![email.clone()],
        (Assignment::Group(_), Some(group)) => group.members.clone(),
        (Assignment::Group(_), None) => Vec::new(),
    }
}

/// Find the number's route within the deadline; `Err` is a finished decision (fallback).
async fn lookup(
    app: &App,
    params: &CallParams,
    deadline: Instant,
    callbacks: &Callbacks,
) -> Result<NumberRoute, Decision> {
    let Some(number) = params
        .to
        .as_deref()
        .and_then(|to| E164::parse_field(to, "To").ok())
    else {
        let twiml = Twiml::new().say(NOT_IN_SERVICE).hangup();
        return Err(Decision::new(
            twiml,
            "unknown_number",
            Some("To is missing or not E.164".to_owned()),
        ));
    };
    match timeout_at(deadline, app.directory.route_for_number(&number)).await {
        Ok(Ok(Some(route))) => Ok(route),
        Ok(Ok(None)) => {
            let twiml = Twiml::new().say(NOT_IN_SERVICE).hangup();
            Err(Decision::new(
                twiml,
                "unknown_number",
                Some(format!("no phone for {}", number.as_str())),
            ))
        }
        Ok(Err(err)) => Err(Decision::new(
            fallback(None, callbacks),
            "fallback",
            Some(format!("directory: {err}")),
        )
        .degraded()),
        Err(_) => Err(Decision::new(
            fallback(None, callbacks),
            "fallback",
            Some("directory: deadline passed".to_owned()),
        )
        .degraded()),
    }
}

/// `POST /phone/voice/incoming`: ring the live devices of the number's users, or fall back.
pub async fn incoming(
    app: &App,
    params: &CallParams,
    callbacks: &Callbacks,
    deadline: Instant,
) -> Decision {
    let route = match lookup(app, params, deadline, callbacks).await {
        Ok(route) => route,
        Err(decision) => return decision,
    };
    let now_ms = app.now_ms();
    let identities: Vec<Identity> = targets(&route)
        .iter()
        .filter_map(|email| Identity::for_email(email, app.settings.identity_style).ok())
        .collect();
    let reads = identities.iter().map(|identity| {
        let key = PresenceKey {
            org: route.org_id.clone(),
            identity: identity.clone(),
        };
        async move { app.presence.live_devices(&key, now_ms).await }
    });
    let Ok(results) = timeout_at(deadline, join_all(reads)).await else {
        return Decision::new(
            fallback(Some(&route), callbacks),
            "fallback",
            Some("presence: deadline passed".to_owned()),
        )
        .degraded();
    };

    let mut failures = Vec::new();
    let mut ringing: Vec<(i64, &Identity)> = Vec::new();
    for (identity, result) in identities.iter().zip(results) {
        match result {
            Ok(devices) => {
                let newest_voice = devices
                    .iter()
                    .filter(|d| d.capabilities.contains(Capability::Voice))
                    .map(|d| d.last_seen)
                    .max();
                if let Some(seen) = newest_voice {
                    ringing.push((seen, identity));
                }
            }
            Err(err) => failures.push(format!("presence of {identity}: {err}")),
        }
    }
    // A partial store failure still rings whoever could be read.
    let failure_note = (!failures.is_empty()).then(|| failures.join("; "));
    let degraded = failure_note.is_some();
    if ringing.is_empty() {
        let reason = failure_note.unwrap_or_else(|| "no live voice device".to_owned());
        let decision = Decision::new(fallback(Some(&route), callbacks), "fallback", Some(reason));
        return Decision {
            degraded,
            ..decision
        };
    }
    ringing.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    ringing.truncate(MAX_CLIENTS_PER_DIAL);

    let phone = &route.phone;
    let timestamp = now_ms.to_string();
    let clients = ringing
        .into_iter()
        .map(|(_, identity)| ClientNoun {
            identity: identity.to_string(),
            parameters: vec![
                ("timestamp", timestamp.clone()),
                ("phoneId", phone.id.clone()),
                ("phoneNumber", phone.phone_number.as_str().to_owned()),
                ("friendlyName", phone.friendly_name.clone()),
            ],
        })
        .collect();
    let dial = DialVerb {
        timeout_seconds: route
            .group
            .as_ref()
            .map_or(DEFAULT_RING_TIMEOUT_SECONDS, |g| g.ring_timeout_seconds),
        action_url: callbacks.dial_status_url.clone(),
        caller_id: params.from.clone().filter(|f| !f.is_empty()),
        clients,
    };
    let decision = Decision::new(Twiml::new().dial(&dial), "dial", failure_note);
    Decision {
        degraded,
        ..decision
    }
}

/// `POST /phone/voice/dial-status`: after an unanswered dial, the fallback; otherwise hang up.
pub async fn dial_status(
    app: &App,
    params: &CallParams,
    callbacks: &Callbacks,
    deadline: Instant,
) -> Decision {
    match params.dial_call_status.as_deref() {
        Some("completed" | "answered") => {
            Decision::new(Twiml::new().hangup(), "hangup", Some("answered".to_owned()))
        }
        Some("canceled") => Decision::new(
            Twiml::new().hangup(),
            "hangup",
            Some("caller hung up".to_owned()),
        ),
        // The `<Record>` of a voicemail reports here too, without a dial status: message taken.
        None => Decision::new(
            Twiml::new().hangup(),
            "hangup",
            Some("voicemail recorded".to_owned()),
        ),
        Some(status) => {
            let reason = format!("dial ended {status}");
            match lookup(app, params, deadline, callbacks).await {
                Ok(route) => {
                    Decision::new(fallback(Some(&route), callbacks), "fallback", Some(reason))
                }
                Err(mut decision) => {
                    decision.reason =
                        Some(format!("{reason}; {}", decision.reason.unwrap_or_default()));
                    decision
                }
            }
        }
    }
}
