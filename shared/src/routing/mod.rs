//! Routing a call (design §Routing a call): number → phone → target users → their live voice
//! devices and current calls → one `<Dial>` of `<Client>`s, or the fallback. Every path ends
//! in TwiML: a store that fails or is slow yields the best fallback known, never an error.
//!
//! [`incoming`] and [`dial_status`] answer calls to the org's numbers; [`outgoing`] answers
//! calls a softphone places; [`call_status`] keeps track of who is on a call.

pub mod call_status;
pub mod outgoing;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use tokio::time::{Instant, timeout_at};

use crate::app::App;
use crate::directory::{
    Assignment, DEFAULT_RING_TIMEOUT_SECONDS, Fallback, NumberRoute, Voicemail, WhenBusy,
};
use crate::domain::{Capability, E164, Email, Identity, OrgId};
use crate::store::{PresenceKey, StoreError, UserPresence};
use crate::twilio::twiml::{ClientNoun, DialNoun, DialVerb, RecordVerb, Twiml};

pub use call_status::call_status;
pub use outgoing::outgoing;

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
    /// `dial`, `fallback`, `unknown_number`, `hangup`; a refusal of an outgoing call
    /// (`caller_unknown`, `destination_refused`, `caller_id_refused`); for call-progress
    /// callbacks `on_call`, `call_ended` or `ignored`.
    pub outcome: &'static str,
    /// Why a fallback was chosen, or what failed.
    pub reason: Option<String>,
    /// The store failed or was too slow: the caller got less than the directory promised.
    pub degraded: bool,
    /// Live users not rung because they were on a call.
    pub skipped_busy: usize,
}

impl Decision {
    fn new(twiml: Twiml, outcome: &'static str, reason: impl Into<Option<String>>) -> Self {
        Self {
            twiml,
            outcome,
            reason: reason.into(),
            degraded: false,
            skipped_busy: 0,
        }
    }

    fn degraded(mut self) -> Self {
        self.degraded = true;
        self
    }
}

/// A Twilio webhook's parameters: the form Twilio posted, and the query string of the URL
/// it called (which carries what this service put there, authenticated by the signature).
#[derive(Debug, Clone, Default)]
pub struct CallParams {
    pub form: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

impl CallParams {
    /// A form parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn query<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.query_all(name).next()
    }

    pub fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// URLs Twilio should call back, absolute so API Gateway stages and base paths survive.
#[derive(Debug, Clone)]
pub struct Callbacks {
    pub dial_status_url: String,
    pub call_status_url: String,
}

impl Callbacks {
    /// The dial-status URL with `query` appended (values encoded).
    fn dial_status(&self, query: &[(&str, &str)]) -> String {
        with_query(&self.dial_status_url, query)
    }

    /// Where a dialled leg reports progress: the org and the identities the leg makes busy
    /// travel in the query string, which the signature covers.
    fn call_status(&self, org: &OrgId, identities: &[&Identity]) -> String {
        let mut query = vec![("org", org.as_str())];
        query.extend(identities.iter().map(|i| ("identity", i.as_str())));
        with_query(&self.call_status_url, &query)
    }
}

fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{url}?{encoded}")
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
            action_url: callbacks.dial_status(&[("kind", "voicemail")]),
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

/// Routes this process looked up lately, so Twilio's fallback URL can answer with a number's
/// own fallback without touching the store (it is called when the store, or this function,
/// failed). Bounded; possibly stale by as long as the process lives, which for a fallback is
/// better than nothing.
#[derive(Default)]
pub struct RecentRoutes {
    /// Shared with the request that looked the route up: remembering costs a reference count,
    /// not a copy of the route (a group's member list) on every call.
    routes: Mutex<HashMap<E164, Arc<NumberRoute>>>,
}

impl RecentRoutes {
    const MAX_ROUTES: usize = 1024;

    fn remember(&self, route: &Arc<NumberRoute>) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = routes.get_mut(&route.phone.phone_number) {
            *known = route.clone();
            return;
        }
        if routes.len() >= Self::MAX_ROUTES {
            routes.clear();
        }
        routes.insert(route.phone.phone_number.clone(), route.clone());
    }

    fn get(&self, number: &E164) -> Option<Arc<NumberRoute>> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.get(number).cloned()
    }
}

/// Find the number's route within the deadline; `Err` is a finished decision (fallback).
async fn lookup(
    app: &App,
    to: Option<&str>,
    deadline: Instant,
    callbacks: &Callbacks,
) -> Result<Arc<NumberRoute>, Decision> {
    let Some(number) = to.and_then(|to| E164::parse_field(to, "To").ok()) else {
        let twiml = Twiml::new().say(NOT_IN_SERVICE).hangup();
        return Err(Decision::new(
            twiml,
            "unknown_number",
            Some("To is missing or not E.164".to_owned()),
        ));
    };
    match timeout_at(deadline, app.directory.route_for_number(&number)).await {
        Ok(Ok(Some(route))) => {
            let route = Arc::new(route);
            app.recent_routes.remember(&route);
            Ok(route)
        }
        Ok(Ok(None)) => Err(unknown_number(&number)),
        Ok(Err(err)) => Err(store_failed(fallback(None, callbacks), "directory", &err)),
        Err(_) => Err(deadline_passed(fallback(None, callbacks), "directory")),
    }
}

fn unknown_number(number: &E164) -> Decision {
    Decision::new(
        Twiml::new().say(NOT_IN_SERVICE).hangup(),
        "unknown_number",
        Some(format!("no phone for {}", number.as_str())),
    )
}

fn store_failed(twiml: Twiml, what: &str, err: &StoreError) -> Decision {
    Decision::new(twiml, "fallback", Some(format!("{what}: {err}"))).degraded()
}

fn deadline_passed(twiml: Twiml, what: &str) -> Decision {
    Decision::new(twiml, "fallback", Some(format!("{what}: deadline passed"))).degraded()
}

/// One user a call may ring, as presence saw them.
#[derive(Debug)]
struct Candidate {
    identity: Identity,
    /// When their most recently seen voice device was seen.
    last_seen: i64,
    busy: bool,
}

/// The users with a live voice device, read in one concurrent round.
struct Survey {
    live: Vec<Candidate>,
    /// Users whose presence could not be read.
    failures: Vec<String>,
}

async fn survey(
    app: &App,
    org: &OrgId,
    identities: &[Identity],
    now_ms: i64,
    deadline: Instant,
) -> Option<Survey> {
    let reads = identities.iter().map(|identity| {
        let key = PresenceKey {
            org: org.clone(),
            identity: identity.clone(),
        };
        async move { app.presence.presence(&key, now_ms).await }
    });
    let results = timeout_at(deadline, join_all(reads)).await.ok()?;
    let mut survey = Survey {
        live: Vec::new(),
        failures: Vec::new(),
    };
    for (identity, result) in identities.iter().zip(results) {
        match result {
            Ok(presence) => {
                if let Some(candidate) = candidate(identity, &presence) {
                    survey.live.push(candidate);
                }
            }
            Err(err) => survey
                .failures
                .push(format!("presence of {identity}: {err}")),
        }
    }
    Some(survey)
}

fn candidate(identity: &Identity, presence: &UserPresence) -> Option<Candidate> {
    let last_seen = presence
        .devices
        .iter()
        .filter(|d| d.capabilities.contains(Capability::Voice))
        .map(|d| d.last_seen)
        .max()?;
    Some(Candidate {
        identity: identity.clone(),
        last_seen,
        busy: !presence.calls.is_empty(),
    })
}

/// Who to ring and how: built by each kind of call, carried out by [`ring`].
struct RingPlan<'a> {
    org: &'a OrgId,
    targets: Vec<Identity>,
    /// A group call: members on a call are not rung.
    skip_busy: bool,
    /// A direct call whose number sends callers to the fallback while its user is busy.
    busy_to_fallback: bool,
    /// `<Parameter>`s every `<Client>` carries (after `timestamp`).
    parameters: Vec<(&'static str, String)>,
    timeout_seconds: u32,
    action_url: String,
    caller_id: Option<String>,
    /// A softphone placing the call: on the call too once a callee answers.
    caller: Option<&'a Identity>,
    /// What the caller hears when nobody can be rung: built only then, since most calls
    /// ring someone (a voicemail's TwiML is as long as the dial's).
    fallback: Box<dyn FnOnce() -> Twiml + Send + 'a>,
}

async fn ring(app: &App, plan: RingPlan<'_>, callbacks: &Callbacks, deadline: Instant) -> Decision {
    let now_ms = app.now_ms();
    let Some(survey) = survey(app, plan.org, &plan.targets, now_ms, deadline).await else {
        return deadline_passed((plan.fallback)(), "presence");
    };
    // A partial store failure still rings whoever could be read.
    let failure_note = (!survey.failures.is_empty()).then(|| survey.failures.join("; "));
    let degraded = failure_note.is_some();
    let live_count = survey.live.len();
    let mut ringing: Vec<Candidate> = survey.live;
    let any_busy = ringing.iter().any(|c| c.busy);
    if plan.skip_busy {
        ringing.retain(|c| !c.busy);
    } else if plan.busy_to_fallback && any_busy {
        ringing.clear();
    }
    let skipped_busy = live_count - ringing.len();

    if ringing.is_empty() {
        let reason = match (live_count, &failure_note) {
            (0, Some(note)) => note.clone(),
            (0, None) => "no live voice device".to_owned(),
            _ if plan.skip_busy => "all members busy".to_owned(),
            _ => "user busy".to_owned(),
        };
        return Decision {
            degraded,
            skipped_busy,
            ..Decision::new((plan.fallback)(), "fallback", Some(reason))
        };
    }
    ringing.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.identity.cmp(&b.identity))
    });
    ringing.truncate(MAX_CLIENTS_PER_DIAL);

    let timestamp = now_ms.to_string();
    let nouns = ringing
        .iter()
        .map(|c| {
            let mut parameters = vec![("timestamp", timestamp.clone())];
            parameters.extend(plan.parameters.iter().cloned());
            let mut busy: Vec<&Identity> = vec![&c.identity];
            busy.extend(plan.caller);
            DialNoun::Client(ClientNoun {
                identity: c.identity.to_string(),
                parameters,
                status_callback: Some(callbacks.call_status(plan.org, &busy)),
            })
        })
        .collect();
    let dial = DialVerb {
        timeout_seconds: plan.timeout_seconds,
        action_url: plan.action_url,
        caller_id: plan.caller_id,
        nouns,
    };
    Decision {
        degraded,
        skipped_busy,
        ..Decision::new(Twiml::new().dial(&dial), "dial", failure_note)
    }
}

/// The plan for a call to one of the org's numbers: its group, or its user.
fn number_plan<'a>(
    app: &App,
    route: &'a NumberRoute,
    callbacks: &'a Callbacks,
    caller_id: Option<String>,
    caller: Option<&'a Identity>,
    extra: Vec<(&'static str, String)>,
) -> RingPlan<'a> {
    let phone = &route.phone;
    let mut parameters = vec![
        ("phoneId", phone.id.clone()),
        ("phoneNumber", phone.phone_number.as_str().to_owned()),
        ("friendlyName", phone.friendly_name.clone()),
    ];
    parameters.extend(extra);
    RingPlan {
        org: &route.org_id,
        targets: targets(route)
            .iter()
            .filter_map(|email| Identity::for_email(email, app.settings.identity_style).ok())
            .collect(),
        skip_busy: route.group.as_ref().is_some_and(|g| g.skip_busy_members),
        busy_to_fallback: route.group.is_none() && phone.when_busy == WhenBusy::Fallback,
        parameters,
        timeout_seconds: route
            .group
            .as_ref()
            .map_or(DEFAULT_RING_TIMEOUT_SECONDS, |g| g.ring_timeout_seconds),
        action_url: callbacks.dial_status_url.clone(),
        caller_id,
        caller,
        fallback: Box::new(move || fallback(Some(route), callbacks)),
    }
}

/// `POST /phone/voice/incoming`: ring the live, free devices of the number's users, or fall
/// back.
pub async fn incoming(
    app: &App,
    params: &CallParams,
    callbacks: &Callbacks,
    deadline: Instant,
) -> Decision {
    let route = match lookup(app, params.get("To"), deadline, callbacks).await {
        Ok(route) => route,
        Err(decision) => return decision,
    };
    let caller_id = params.get("From").map(str::to_owned);
    let plan = number_plan(app, &route, callbacks, caller_id, None, Vec::new());
    ring(app, plan, callbacks, deadline).await
}

/// `POST /phone/voice/fallback`: Twilio's "primary handler fails" URL, called when the
/// incoming webhook errored or timed out (a Lambda throttle, a store outage). It reads nothing:
/// the number's own fallback if this process routed the number lately, else a voicemail
/// that still takes the caller's message.
pub fn primary_failed(app: &App, params: &CallParams, callbacks: &Callbacks) -> Decision {
    let failure = format!(
        "Twilio fallback after error {}",
        params.get("ErrorCode").unwrap_or("unknown")
    );
    let number = params
        .get("To")
        .and_then(|to| E164::parse_field(to, "To").ok());
    match number.and_then(|n| app.recent_routes.get(&n)) {
        Some(route) => Decision::new(
            fallback(Some(&route), callbacks),
            "fallback",
            Some(format!("{failure}; the number's own fallback")),
        )
        .degraded(),
        None => Decision::new(
            voicemail_twiml(
                &Voicemail {
                    greeting: Some(SERVICE_TROUBLE.to_owned()),
                    ..Voicemail::default()
                },
                callbacks,
            ),
            "fallback",
            Some(format!("{failure}; route unknown here, generic voicemail")),
        )
        .degraded(),
    }
}

const SERVICE_TROUBLE: &str = "Sorry, we cannot connect your call right now. \
    Please leave a message after the tone and we will call you back.";

/// `POST /phone/voice/dial-status`: after an unanswered dial, the fallback; otherwise hang up.
/// The action URL's `kind` says which call the dial belonged to.
pub async fn dial_status(
    app: &App,
    params: &CallParams,
    callbacks: &Callbacks,
    deadline: Instant,
) -> Decision {
    let status = params.get("DialCallStatus");
    match (params.query("kind"), status) {
        (Some("voicemail"), _) | (None, None) => Decision::new(
            Twiml::new().hangup(),
            "hangup",
            Some("voicemail recorded".to_owned()),
        ),
        (_, Some("completed" | "answered")) => {
            Decision::new(Twiml::new().hangup(), "hangup", Some("answered".to_owned()))
        }
        (_, Some("canceled")) => Decision::new(
            Twiml::new().hangup(),
            "hangup",
            Some("caller hung up".to_owned()),
        ),
        (Some("outgoing"), status) => outgoing::dial_ended(status),
        (Some("internal"), status) => {
            outgoing::internal_dial_ended(app, params, status, callbacks, deadline).await
        }
        (_, status) => {
            let reason = format!("dial ended {}", status.unwrap_or("without a status"));
            match lookup(app, params.get("To"), deadline, callbacks).await {
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
