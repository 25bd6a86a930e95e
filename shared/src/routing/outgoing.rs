//! Calls a softphone places: the TwiML App's Voice Request URL (README, "Placing calls").
//!
//! Who calls comes only from `From` (`client:<identity>`), which Twilio copies from the voice
//! token this service minted; org, email and numbers come from the directory, never from a
//! parameter. `To` is user input: a phone number outside the org, a colleague (email or
//! identity), or one of the org's own numbers.
//!
//! Round trips: the caller's profile is read together with what `To` needs (the number's
//! route, or the colleague's profile); ringing softphones adds one presence round. A call to
//! the public network costs two (the second counts it against the caller's budget, which lives
//! in the caller's partition: its org is known only from the profile), an internal call or a
//! call to an org number two.

use futures::future::join;
use tokio::time::timeout_at;

use super::fallback::voicemail_twiml;
use super::guard;
use super::history;
use super::ring::{RingPlan, ring, ring_number};
use super::{
    CallParams, Callbacks, Context, Decision, Outcome, deadline_passed, noted, store_failed,
};
use crate::directory::{
    AssignedPhone, AssignmentKind, DEFAULT_RING_TIMEOUT_SECONDS, NumberRoute, UserProfile, WhenBusy,
};
use crate::domain::{E164, Email, Identity, UserKey};
use crate::history::{Direction, Fact, HistoryRef};
use crate::store::StoreError;
use crate::twilio::twiml::{DialNoun, DialVerb, NumberNoun, Twiml};

const CALLER_UNKNOWN: &str = "Sorry, this phone is not set up to place calls. Goodbye.";
const BAD_DESTINATION: &str =
    "Sorry, that number could not be dialled. Please check it and try again. Goodbye.";
const NOT_A_COLLEAGUE: &str = "Sorry, that person cannot be reached from this phone. Goodbye.";
const CALLER_ID_REFUSED: &str = "Sorry, you cannot place calls from that number. Please choose one of your own numbers. Goodbye.";
const NO_OUTBOUND_NUMBER: &str = "Sorry, you have no phone number to call out from. You can still call your colleagues. Goodbye.";
const CALL_SELF: &str = "Sorry, you cannot call yourself. Goodbye.";
const UNAVAILABLE: &str =
    "Sorry, your call cannot be placed right now. Please try again in a moment. Goodbye.";
const DIAL_FAILED: &str = "The call could not be completed. Goodbye.";
const DIAL_BUSY: &str = "The number you called is busy. Goodbye.";
const DIAL_NO_ANSWER: &str = "There was no answer. Goodbye.";

fn refuse(text: &str, outcome: Outcome, reason: String) -> Decision {
    Decision::new(Twiml::new().say(text).hangup(), outcome, Some(reason))
}

/// What `To` names, before anything is read.
enum Destination {
    Number(E164),
    /// A colleague by the identity their app registered with.
    Identity(Identity),
    /// A colleague by email: a person of the caller's own org.
    Email(Email),
}

fn destination(to: Option<&str>) -> Result<Destination, String> {
    let to = to
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("To is empty")?;
    if to.starts_with('+') {
        return E164::parse_field(to, "To")
            .map(Destination::Number)
            .map_err(|_| "To is not an E.164 number".to_owned());
    }
    let identity = to.strip_prefix("client:").unwrap_or(to);
    if identity.contains('@') && !identity.starts_with("user:") {
        let email = Email::parse_field(identity, "To").map_err(|_| "To is not an email")?;
        return Ok(Destination::Email(email));
    }
    Identity::parse(identity)
        .map(Destination::Identity)
        .map_err(|_| "To is neither a number, an email nor an identity".to_owned())
}

/// Run one directory read under the deadline; `Err` is the apology to answer.
fn settle<T>(
    result: Result<Result<T, StoreError>, tokio::time::error::Elapsed>,
    what: &str,
) -> Result<T, Decision> {
    let apology = || Twiml::new().say(UNAVAILABLE).hangup();
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(store_failed(apology(), what, &err)),
        Err(_) => Err(deadline_passed(apology(), what)),
    }
}

/// The caller's profile, read together with what `To` needs (one round trip); `Err` is the
/// answer to give: the caller is in no directory, or the store failed or was too slow.
async fn with_caller<T>(
    ctx: &Context<'_>,
    caller_key: &UserKey,
    caller_identity: &Identity,
    other: impl Future<Output = Result<T, StoreError>>,
) -> Result<(UserProfile, T), Decision> {
    let (caller, other) = join(
        timeout_at(ctx.deadline, ctx.directory.user(caller_key)),
        timeout_at(ctx.deadline, other),
    )
    .await;
    let caller = match settle(caller, "directory")? {
        Some(caller) => caller,
        None => return Err(caller_not_in_directory(caller_identity)),
    };
    Ok((caller, settle(other, "directory")?))
}

/// `POST /phone/voice/outgoing`.
pub async fn outgoing(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let from = params.get("From").unwrap_or_default();
    let Some(caller_identity) = from.strip_prefix("client:") else {
        return refuse(
            CALLER_UNKNOWN,
            Outcome::CallerUnknown,
            "From is not a softphone (client:<identity>)".to_owned(),
        );
    };
    let Ok(caller_identity) = Identity::parse(caller_identity) else {
        return refuse(
            CALLER_UNKNOWN,
            Outcome::CallerUnknown,
            format!("identity {caller_identity} was not minted by this service"),
        );
    };
    let caller_key = UserKey::for_identity(&caller_identity);
    let destination = match destination(params.get("To")) {
        Ok(d) => d,
        Err(reason) => return refuse(BAD_DESTINATION, Outcome::DestinationRefused, reason),
    };

    match destination {
        Destination::Number(number) => {
            let read = with_caller(
                ctx,
                &caller_key,
                &caller_identity,
                ctx.directory.route_for_number(&number),
            );
            let (caller, route) = match read.await {
                Ok(both) => both,
                Err(decision) => return decision,
            };
            let caller_id = match caller_id(params, &caller) {
                Ok(id) => id,
                Err(decision) => return decision,
            };
            match route {
                // One of the org's own numbers: ring it as an incoming call would.
                Some(route) if route.org_id == caller.org_id => {
                    let reference = HistoryRef {
                        org: caller.org_id.clone(),
                        direction: Direction::Inbound,
                        started_at: ctx.now_ms,
                        number: Some(route.phone.phone_number.clone()),
                        people: vec![caller_identity.clone()],
                    };
                    let callbacks = ctx.callbacks.with_history(reference.clone());
                    let ctx = ctx.with_callbacks(&callbacks);
                    let extra = caller_parameters(&caller);
                    let caller_id = caller_id.map(|p| p.phone_number.as_str().to_owned());
                    let caller = Some(&caller_identity);
                    let decision = ring_number(&ctx, &route, caller_id, caller, extra).await;
                    missed_if_unrung(&ctx, params, &reference, Some(&route), decision).await
                }
                _ => {
                    let reference = HistoryRef {
                        org: caller.org_id.clone(),
                        direction: Direction::Outbound,
                        started_at: ctx.now_ms,
                        number: None,
                        people: vec![caller_identity.clone()],
                    };
                    let callbacks = ctx.callbacks.with_history(reference);
                    let ctx = ctx.with_callbacks(&callbacks);
                    dial_number(&ctx, &caller, caller_id, &caller_identity, &number).await
                }
            }
        }
        Destination::Identity(callee) => {
            // An identity that names another org is nobody's colleague: refused unread.
            if caller_identity
                .org()
                .is_some_and(|org| !callee.may_belong_to(&org))
            {
                return not_a_colleague();
            }
            colleague(ctx, params, &caller_key, &caller_identity, &callee).await
        }
        Destination::Email(email) => {
            match colleague_by_email(ctx, &caller_key, &caller_identity, &email).await {
                Ok(callee) => colleague(ctx, params, &caller_key, &caller_identity, &callee).await,
                Err(decision) => decision,
            }
        }
    }
}

/// The identity `email` has in the caller's org. The caller's identity names their org where
/// it can; the hash form and the `user:<email>` style leave it to their profile, read first
/// (one more round).
async fn colleague_by_email(
    ctx: &Context<'_>,
    caller_key: &UserKey,
    caller_identity: &Identity,
    email: &Email,
) -> Result<Identity, Decision> {
    let org = match caller_identity.org() {
        Some(org) => org,
        None => {
            let read = timeout_at(ctx.deadline, ctx.directory.user(caller_key)).await;
            match settle(read, "directory")? {
                Some(caller) => caller.org_id,
                None => return Err(caller_not_in_directory(caller_identity)),
            }
        }
    };
    Identity::for_person(&org, email, ctx.settings.identity_style).map_err(|_| not_a_colleague())
}

fn not_a_colleague() -> Decision {
    refuse(
        NOT_A_COLLEAGUE,
        Outcome::DestinationRefused,
        "To is not a user of the caller's org".to_owned(),
    )
}

/// A call from one person of an org to another: both profiles in one read, and the callee
/// only if the directory has them in the caller's own org.
async fn colleague(
    ctx: &Context<'_>,
    params: &CallParams,
    caller_key: &UserKey,
    caller_identity: &Identity,
    callee: &Identity,
) -> Decision {
    let callee_key = UserKey::for_identity(callee);
    if &callee_key == caller_key {
        return refuse(
            CALL_SELF,
            Outcome::DestinationRefused,
            "caller called themselves".into(),
        );
    }
    let read = with_caller(
        ctx,
        caller_key,
        caller_identity,
        ctx.directory.user(&callee_key),
    );
    let (caller, callee) = match read.await {
        Ok(both) => both,
        Err(decision) => return decision,
    };
    let callee = match callee {
        Some(callee) if callee.org_id == caller.org_id => callee,
        _ => return not_a_colleague(),
    };
    let callee_identity = callee.identity.clone();
    let reference = HistoryRef {
        org: caller.org_id.clone(),
        direction: Direction::Internal,
        started_at: ctx.now_ms,
        number: None,
        people: vec![callee_identity.clone(), caller_identity.clone()],
    };
    let callbacks = ctx.callbacks.with_history(reference.clone());
    let ctx = ctx.with_callbacks(&callbacks);
    let decision = call_colleague(&ctx, &caller, caller_identity, &callee, callee_identity).await;
    missed_if_unrung(&ctx, params, &reference, None, decision).await
}

fn caller_not_in_directory(identity: &Identity) -> Decision {
    refuse(
        CALLER_UNKNOWN,
        Outcome::CallerUnknown,
        format!("{identity} is not a user of any org's directory"),
    )
}

/// The caller's own number to show: the one asked for (`callerId` or `phoneId`), else their
/// direct number, else their first group number; `Ok(None)` when they have none. A number
/// that is not theirs is refused, never used.
fn caller_id<'p>(
    params: &CallParams,
    caller: &'p UserProfile,
) -> Result<Option<&'p AssignedPhone>, Decision> {
    let phones = &caller.assigned_phones;
    let by_number = params.get("callerId").map(|wanted| {
        phones
            .iter()
            .find(|p| p.phone_number.as_str() == wanted)
            .ok_or_else(|| format!("callerId {wanted} is not assigned to the caller"))
    });
    let by_id = params.get("phoneId").map(|wanted| {
        phones
            .iter()
            .find(|p| p.id == wanted)
            .ok_or_else(|| format!("phoneId {wanted} is not assigned to the caller"))
    });
    let chosen = match (by_number, by_id) {
        (Some(Err(reason)), _) | (_, Some(Err(reason))) => {
            return Err(refuse(CALLER_ID_REFUSED, Outcome::CallerIdRefused, reason));
        }
        (Some(Ok(a)), Some(Ok(b))) if a.id != b.id => {
            return Err(refuse(
                CALLER_ID_REFUSED,
                Outcome::CallerIdRefused,
                "callerId and phoneId name different numbers".to_owned(),
            ));
        }
        (Some(Ok(phone)), _) | (None, Some(Ok(phone))) => Some(phone),
        (None, None) => phones
            .iter()
            .find(|p| p.assignment == AssignmentKind::Direct)
            .or_else(|| phones.first()),
    };
    Ok(chosen)
}

/// Who is calling, for the callee's app to show.
fn caller_parameters(caller: &UserProfile) -> Vec<(&'static str, String)> {
    vec![
        ("callerName", caller.display_name().to_owned()),
        ("callerEmail", caller.email.as_str().to_owned()),
    ]
}

async fn dial_number(
    ctx: &Context<'_>,
    caller: &UserProfile,
    caller_id: Option<&AssignedPhone>,
    caller_identity: &Identity,
    number: &E164,
) -> Decision {
    let Some(caller_id) = caller_id else {
        return refuse(
            NO_OUTBOUND_NUMBER,
            Outcome::CallerIdRefused,
            format!("{} has no assigned number", caller.email),
        );
    };
    if let Err(refused) = guard::dial(ctx, caller, caller_identity, number).await {
        return refused;
    }
    let dial = DialVerb {
        timeout_seconds: DEFAULT_RING_TIMEOUT_SECONDS,
        action_url: ctx.callbacks.dial_status(&[("kind", "outgoing")]),
        caller_id: Some(caller_id.phone_number.as_str().to_owned()),
        nouns: vec![DialNoun::Number(NumberNoun {
            number: number.as_str().to_owned(),
            status_callback: Some(
                ctx.callbacks
                    .call_status(&caller.org_id, &[caller_identity]),
            ),
        })],
    };
    Decision::new(
        Twiml::new().dial(&dial),
        Outcome::Dial,
        Some("public network".to_owned()),
    )
}

/// Ring a colleague's live softphones as a direct call to them would; when none is live (or
/// they are busy and their number says so), their voicemail.
async fn call_colleague<'a>(
    ctx: &Context<'a>,
    caller: &'a UserProfile,
    caller_identity: &'a Identity,
    callee: &'a UserProfile,
    callee_identity: Identity,
) -> Decision {
    let callbacks = ctx.callbacks;
    let callee_key = callee.key();
    let plan = RingPlan {
        org: &caller.org_id,
        targets: vec![callee_identity],
        skip_busy: false,
        busy_to_fallback: callee
            .direct_phone
            .as_ref()
            .is_some_and(|p| p.when_busy == WhenBusy::Fallback),
        parameters: caller_parameters(caller),
        timeout_seconds: DEFAULT_RING_TIMEOUT_SECONDS,
        action: vec![
            ("kind", "internal".to_owned()),
            ("user", callee_key.as_str().to_owned()),
        ],
        caller_id: None,
        caller: Some(caller_identity),
        fallback: Box::new(move || colleague_fallback(callee, callbacks)),
        step: None,
    };
    ring(ctx, plan).await
}

/// A call nobody could be rung for is a missed call for the people it was for, at once: no
/// callback will come.
async fn missed_if_unrung(
    ctx: &Context<'_>,
    params: &CallParams,
    reference: &HistoryRef,
    route: Option<&NumberRoute>,
    decision: Decision,
) -> Decision {
    let (Some(reason), Some(call_sid)) = (decision.unrung, history::call_sid(params)) else {
        return decision;
    };
    let from = params.get("From").unwrap_or_default();
    let to = params.get("To").unwrap_or_default();
    let parties = history::parties(ctx, reference, call_sid, from, to, route);
    match history::record(ctx, &parties, &Fact::Missed(reason), None, None).await {
        Some(failed) => noted(decision, failed),
        None => decision,
    }
}

/// The colleague's direct number's voicemail, else a spoken "not available".
fn colleague_fallback(callee: &UserProfile, callbacks: &Callbacks) -> Twiml {
    match callee
        .direct_phone
        .as_ref()
        .and_then(|p| p.voicemail.as_ref())
    {
        Some(voicemail) => voicemail_twiml(voicemail, callbacks),
        None => Twiml::new()
            .say(&format!(
                "Sorry, {} is not available. Goodbye.",
                callee.display_name()
            ))
            .hangup(),
    }
}

/// A dial to the public network ended without a conversation: say why, hang up.
pub(super) fn dial_ended(status: Option<&str>) -> Decision {
    let text = match status {
        Some("busy") => DIAL_BUSY,
        Some("no-answer") => DIAL_NO_ANSWER,
        _ => DIAL_FAILED,
    };
    Decision::new(
        Twiml::new().say(text).hangup(),
        Outcome::Hangup,
        Some(format!(
            "outgoing dial ended {}",
            status.unwrap_or("without a status")
        )),
    )
}

/// A colleague did not answer: their voicemail (the action URL names them).
pub(super) async fn internal_dial_ended(
    ctx: &Context<'_>,
    params: &CallParams,
    status: Option<&str>,
) -> Decision {
    let reason = format!(
        "internal dial ended {}",
        status.unwrap_or("without a status")
    );
    let Some(key) = params.query("user").and_then(UserKey::parse) else {
        return Decision::new(
            Twiml::new().say(DIAL_NO_ANSWER).hangup(),
            Outcome::Hangup,
            Some(reason),
        );
    };
    match settle(
        timeout_at(ctx.deadline, ctx.directory.user(&key)).await,
        "directory",
    ) {
        Ok(Some(callee)) => Decision::new(
            colleague_fallback(&callee, ctx.callbacks),
            Outcome::Fallback,
            Some(reason),
        ),
        Ok(None) => Decision::new(
            Twiml::new().say(DIAL_NO_ANSWER).hangup(),
            Outcome::Hangup,
            Some(reason),
        ),
        Err(decision) => decision,
    }
}
