//! `POST /phone/voice/recording-status`: a voicemail's recording is done. A completed
//! recording with sound is attached to the call's history entries of the people it was for
//! (the number's users, or the colleague called), who hear `voicemail.received`; an absent or
//! empty one leaves the missed call as it was. The directory's own `recordingStatusCallback`,
//! if the voicemail has one, then gets the same parameters (signed for its URL with the current
//! auth token, as Twilio would), best effort: a slow or failing receiver never holds Twilio up.

use std::time::Duration;

use bytes::Bytes;
use futures::future::join;
use tokio::time::timeout_at;

use super::history;
use super::{CallParams, Context, Decision, Outcome, noted};
use crate::directory::{Fallback, NumberRoute, UserProfile};
use crate::domain::UserKey;
use crate::headers::{CONTENT_TYPE, TWILIO_SIGNATURE};
use crate::history::{Direction, Fact};
use crate::outbound::Outbound;
use crate::store::history::VoicemailRef;
use crate::twilio::signature::SignatureKey;
use crate::twilio::twiml::Twiml;

/// How long the directory's own receiver gets.
pub const FORWARD_DEADLINE: Duration = Duration::from_secs(2);

/// Where recording reports are passed on, and the key that signs them: the auth token's as
/// of this request (the rotated one once a re-read of the secret brought it).
pub struct Forwarder<'a> {
    pub http: &'a Outbound,
    pub key: &'a SignatureKey,
}

const DAY_MS: i64 = 86_400_000;

/// The directory's `recordingStatusCallback` of the voicemail a call went to.
fn receiver(route: Option<&NumberRoute>, callee: Option<&UserProfile>) -> Option<String> {
    if let Some(route) = route {
        let group = route
            .group
            .as_ref()
            .and_then(|g| g.fallback.as_ref())
            .and_then(|f| match f {
                Fallback::Voicemail(vm) => vm.recording_status_callback.clone(),
                _ => None,
            });
        return group.or_else(|| {
            route
                .phone
                .voicemail
                .as_ref()
                .and_then(|vm| vm.recording_status_callback.clone())
        });
    }
    callee?
        .direct_phone
        .as_ref()?
        .voicemail
        .as_ref()?
        .recording_status_callback
        .clone()
}

async fn forward(forwarder: &Forwarder<'_>, url: &str, params: &CallParams) -> Option<String> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params.form)
        .finish();
    let request = http::Request::post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(TWILIO_SIGNATURE, forwarder.key.sign(url, &params.form))
        .body(Bytes::from(body))
        .ok()?;
    match forwarder.http.send(request, 64 * 1024).await {
        Ok(answer) if (200..300).contains(&answer.status) => None,
        Ok(answer) => Some(format!("forward: HTTP {}", answer.status)),
        Err(e) => Some(format!("forward: {e}")),
    }
}

pub async fn recording_status(
    ctx: &Context<'_>,
    params: &CallParams,
    forwarder: &Forwarder<'_>,
) -> Decision {
    let ignore = |reason: &str| Decision::new(Twiml::new(), Outcome::Ignored, Some(reason.into()));
    let Some(reference) = ctx.callbacks.history.as_ref() else {
        return ignore("callback URL carries no call reference");
    };
    let Some(call_sid) = history::call_sid(params) else {
        return ignore("CallSid is missing or malformed");
    };
    // Round one: the number's route, or the colleague's profile (whose voicemail it was).
    let route = history::number_route(ctx);
    let callee = async {
        if reference.direction != Direction::Internal {
            return None;
        }
        let key = UserKey::for_identity(reference.people.first()?);
        match timeout_at(ctx.deadline, ctx.directory.user(&key)).await {
            // Only a person of the call's own org has their voicemail settings read.
            Ok(Ok(profile)) => profile.filter(|p| p.org_id == reference.org),
            _ => None,
        }
    };
    let (route, callee) = join(route, callee).await;
    let to_receiver = receiver(route.as_ref(), callee.as_ref());
    let forwarded = async {
        match &to_receiver {
            Some(url) => forward(forwarder, url, params).await,
            None => None,
        }
    };
    let Some(voicemail) = history::voicemail(params) else {
        let failed = forwarded.await;
        let decision = ignore("no voicemail: the recording is absent or empty");
        return failed.map_or(decision.clone(), |f| noted(decision, f));
    };
    let (from, to) = params.parties();
    let parties = history::parties(ctx, reference, call_sid, from, to, route.as_ref());
    let told = parties.iter().find(|p| p.told);
    let retention = i64::from(ctx.settings.call_history_retention_days) * DAY_MS;
    let pointer = told.map(|party| VoicemailRef {
        recording_sid: voicemail.recording_sid.clone(),
        org: reference.org.clone(),
        phone_id: party.base.phone_id.clone(),
        call_sid: call_sid.to_owned(),
        started_at: reference.started_at,
        users: party.users.clone(),
        expires_at: (reference.started_at + retention).div_euclid(1000),
    });
    let told_only: Vec<_> = parties.into_iter().filter(|p| p.told).collect();
    let (recorded, forwarded) = join(
        history::record(
            ctx,
            &told_only,
            &Fact::Voicemail(voicemail.clone()),
            None,
            pointer.as_ref(),
        ),
        forwarded,
    )
    .await;
    let decision = Decision::new(
        Twiml::new(),
        Outcome::VoicemailKept,
        Some(format!(
            "{} s for {} user(s)",
            voicemail.duration_seconds,
            told_only.iter().map(|p| p.users.len()).sum::<usize>()
        )),
    );
    match (recorded, forwarded) {
        (None, None) => decision,
        (a, b) => noted(
            decision,
            [a, b].into_iter().flatten().collect::<Vec<_>>().join("; "),
        ),
    }
}
