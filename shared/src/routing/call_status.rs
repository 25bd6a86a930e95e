//! `POST /phone/voice/call-status`: Twilio's call-progress callbacks for every leg this
//! service dials. They tell who is on a call, so group calls can skip busy agents.
//!
//! The callback URL's query carries the org and the identities the leg makes busy (the callee,
//! and the softphone that placed the call, if any); the signature covers it, so those values
//! are as trustworthy as the TwiML that set them. State is keyed by the leg's `CallSid` and
//! converges whatever the order of arrival: `answered` creates a row only if none exists, a
//! terminal status marks it over for good, and every row expires after `MAX_CALL_SECONDS`, so
//! a lost `completed` frees the user in the end.

use futures::future::{join, join_all};
use tokio::time::timeout_at;

use super::history;
use super::{CallParams, Context, Decision, Outcome, noted};
use crate::domain::{CallSid, Identity, OrgId, UserKey};
use crate::history::{AnsweredBy, Fact};
use crate::store::{CallEvent, CallProgress, PresenceKey};
use crate::twilio::twiml::Twiml;

/// The most identities one callback names: the callee and the caller.
const MAX_IDENTITIES: usize = 2;

fn progress(status: &str) -> Option<CallProgress> {
    match status {
        // The `answered` event reports the leg as in progress.
        "in-progress" | "answered" => Some(CallProgress::Answered),
        "completed" | "busy" | "no-answer" | "failed" | "canceled" => Some(CallProgress::Ended),
        _ => None,
    }
}

pub async fn call_status(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let ignore = |reason: String| Decision::new(Twiml::new(), Outcome::Ignored, Some(reason));
    let Some(call_sid) = params.get("CallSid").filter(|s| CallSid::is_valid(s)) else {
        return ignore("CallSid is missing or malformed".to_owned());
    };
    let status = params.get("CallStatus").unwrap_or_default();
    let Some(progress) = progress(status) else {
        return ignore(format!("status {status:?} changes nothing"));
    };
    let Some(org) = params
        .query("org")
        .and_then(|raw| OrgId::parse_field(raw, "org").ok())
    else {
        return ignore("callback URL carries no org".to_owned());
    };
    let identities: Vec<Identity> = params
        .query_all("identity")
        .filter_map(|raw| Identity::parse(raw).ok())
        // The URL is this service's own, signed by Twilio: an identity of another org in it
        // was never dialed for this org's call.
        .filter(|identity| identity.may_belong_to(&org))
        .take(MAX_IDENTITIES)
        .collect();
    if identities.is_empty() {
        return ignore("callback URL carries no identity".to_owned());
    }
    let now_ms = ctx.now_ms;
    let expires_at = now_ms.div_euclid(1000) + i64::from(ctx.settings.max_call_seconds);
    let writes = identities.iter().map(|identity| {
        let key = PresenceKey {
            org: org.clone(),
            identity: identity.clone(),
        };
        let event = CallEvent {
            call_sid: call_sid.to_owned(),
            progress,
            now_ms,
            expires_at,
        };
        async move { ctx.presence.record_call(&key, event).await }
    });
    let outcome = match progress {
        CallProgress::Answered => Outcome::OnCall,
        CallProgress::Ended => Outcome::CallEnded,
    };
    let reason = format!("{status} for {}", identities.len());
    let (written, history_failed) = join(
        timeout_at(ctx.deadline, join_all(writes)),
        record_leg(ctx, params, status, &identities),
    )
    .await;
    let decision = decide(written, outcome, reason);
    match history_failed {
        Some(failed) => noted(decision, failed),
        None => decision,
    }
}

/// What a leg's progress adds to its call's history, recorded in at most two rounds: the
/// number's route and the answerer's profile together (beside the busy rows), then the fact.
async fn record_leg(
    ctx: &Context<'_>,
    params: &CallParams,
    status: &str,
    identities: &[Identity],
) -> Option<String> {
    let reference = ctx.callbacks.history.as_ref()?;
    let call_sid = history::call_sid(params)?;
    let to = params.get("To").unwrap_or_default();
    let softphone = to.starts_with("client:");
    let duration: u32 = params
        .get("CallDuration")
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let answered = matches!(status, "in-progress" | "answered");
    let route = history::number_route(ctx);
    let answerer = async {
        let callee = identities
            .first()
            .filter(|callee| answered && softphone && callee.may_belong_to(&reference.org))?;
        let key = UserKey::for_identity(callee);
        let profile = timeout_at(ctx.deadline, ctx.directory.user(&key)).await;
        let name = match profile {
            Ok(Ok(Some(profile))) if profile.org_id == reference.org => {
                profile.display_name().to_owned()
            }
            // Another org's person never answers this org's call.
            Ok(Ok(Some(_))) => return None,
            _ => callee.display_email(),
        };
        Some(AnsweredBy {
            identity: callee.to_string(),
            name,
        })
    };
    let (route, answerer) = join(route, answerer).await;
    let fact = match (status, softphone) {
        ("in-progress" | "answered", true) => Fact::Answered {
            by: answerer?,
            at: ctx.now_ms,
        },
        ("in-progress" | "answered", false) => Fact::Answered {
            by: AnsweredBy {
                identity: to.to_owned(),
                name: to.to_owned(),
            },
            at: ctx.now_ms,
        },
        ("completed", _) if duration > 0 => Fact::Ended {
            at: ctx.now_ms,
            duration_seconds: duration,
        },
        // A number that did not answer an outgoing call; a softphone that did not answer
        // is only one of those rung (the dial's end decides).
        ("canceled", false) => Fact::Canceled,
        (other, false) => Fact::Missed(history::missed(Some(other))?),
        _ => return None,
    };
    let from = params.get("From").unwrap_or_default();
    let parties = history::parties(ctx, reference, call_sid, from, to, route.as_ref());
    history::record(ctx, &parties, &fact, None, None).await
}

fn decide(
    written: Result<Vec<Result<(), crate::store::StoreError>>, tokio::time::error::Elapsed>,
    outcome: Outcome,
    reason: String,
) -> Decision {
    match written {
        Err(_) => Decision::new(
            Twiml::new(),
            outcome,
            Some(format!("{reason}; store: deadline passed")),
        )
        .degraded(),
        Ok(results) => {
            let failures: Vec<String> = results
                .into_iter()
                .filter_map(Result::err)
                .map(|e| e.to_string())
                .collect();
            if failures.is_empty() {
                Decision::new(Twiml::new(), outcome, Some(reason))
            } else {
                Decision::new(
                    Twiml::new(),
                    outcome,
                    Some(format!("{reason}; store: {}", failures.join("; "))),
                )
                .degraded()
            }
        }
    }
}
