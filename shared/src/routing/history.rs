//! Recording what routing learns into the call history: a call nobody could be rung for, a
//! dial that ended, a leg answered or ended, a voicemail recorded. Each is a fact for the
//! entries of the call's people ([`crate::history`]): the users of the number it came in on,
//! or the caller, or both colleagues of an internal call, as the callback URL's reference says.
//!
//! Recording never changes what Twilio is answered: a store that fails or is slow here costs
//! the fact (logged with the decision), never the call.

use futures::future::join_all;
use serde_json::json;
use tokio::time::timeout_at;

use super::{CallParams, Context};
use crate::directory::NumberRoute;
use crate::domain::{CallSid, Identity, RecordingSid};
use crate::events::EventKind;
use crate::history::{CallBase, Direction, Fact, HistoryRef, MissedReason, Offer, Voicemail};
use crate::store::history::{HistoryWrite, VoicemailRef};
use crate::store::messages::Notice;
use crate::store::{PresenceKey, StoreError};

const DAY_MS: i64 = 86_400_000;

/// One group of a call's entries and how they describe it.
pub(super) struct Party {
    pub base: CallBase,
    pub users: Vec<PresenceKey>,
    /// Whether a miss or a voicemail is news to them (the people a call was for).
    pub told: bool,
}

/// The email an identity stands for, else the identity itself (how an entry names a person).
fn person(identity: &Identity) -> String {
    identity.display_email()
}

/// The entries a call's reference asks for: the number's users (and a softphone caller's own
/// outbound entry), the caller of an outbound call, or both colleagues of an internal one.
pub(super) fn parties(
    ctx: &Context<'_>,
    history: &HistoryRef,
    call_sid: &str,
    from: &str,
    to: &str,
    route: Option<&NumberRoute>,
) -> Vec<Party> {
    let org = history.org.clone();
    let key = |identity: &Identity| PresenceKey {
        org: org.clone(),
        identity: identity.clone(),
    };
    let base = |direction, from: String, to: String| CallBase {
        call_sid: call_sid.to_owned(),
        direction,
        from,
        to,
        phone_id: route.map(|r| r.phone.id.clone()),
        phone_number: route.map(|r| r.phone.phone_number.to_string()),
        started_at: history.started_at,
    };
    match history.direction {
        Direction::Inbound => {
            let Some(route) = route else {
                return Vec::new();
            };
            let users = route
                .users()
                .into_iter()
                .filter_map(|email| {
                    Identity::for_person(&route.org_id, email, ctx.settings.identity_style).ok()
                })
                .map(|identity| key(&identity))
                .collect();
            let number = route.phone.phone_number.to_string();
            let mut parties = vec![Party {
                base: base(Direction::Inbound, from.to_owned(), number.clone()),
                users,
                told: true,
            }];
            if let Some(caller) = history.people.first() {
                parties.push(Party {
                    base: base(Direction::Outbound, person(caller), number),
                    users: vec![key(caller)],
                    told: false,
                });
            }
            parties
        }
        Direction::Outbound => history
            .people
            .first()
            .map(|caller| Party {
                base: base(Direction::Outbound, from.to_owned(), to.to_owned()),
                users: vec![key(caller)],
                told: false,
            })
            .into_iter()
            .collect(),
        Direction::Internal => match history.people.as_slice() {
            [callee, caller] => {
                let base = base(Direction::Internal, person(caller), person(callee));
                vec![
                    Party {
                        base: base.clone(),
                        users: vec![key(callee)],
                        told: true,
                    },
                    Party {
                        base,
                        users: vec![key(caller)],
                        told: false,
                    },
                ]
            }
            _ => Vec::new(),
        },
    }
}

/// The event a new fact tells the party's users, if any.
fn notice(ctx: &Context<'_>, party: &Party, fact: &Fact) -> Option<Notice> {
    if !party.told {
        return None;
    }
    let base = &party.base;
    let (kind, extra) = match fact {
        Fact::Missed(reason) => (EventKind::CallMissed, json!({ "reason": reason.as_str() })),
        Fact::Voicemail(vm) => (
            EventKind::VoicemailReceived,
            json!({ "voicemail": { "recordingSid": vm.recording_sid, "durationSeconds": vm.duration_seconds } }),
        ),
        _ => return None,
    };
    let mut data = json!({
        "callSid": base.call_sid,
        "direction": base.direction.as_str(),
        "from": base.from,
        "to": base.to,
        "phoneId": base.phone_id,
        "phoneNumber": base.phone_number,
        "startedAt": base.started_at,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    Some(Notice {
        kind,
        data,
        at: ctx.now_ms,
        to: party.users.clone(),
    })
}

/// Add `fact` (and the step of ringing `offer`, if any) to every party's entries, concurrently, within the deadline; what failed, for
/// the decision's log line.
pub(super) async fn record(
    ctx: &Context<'_>,
    parties: &[Party],
    fact: &Fact,
    offer: Option<&Offer>,
    voicemail: Option<&VoicemailRef>,
) -> Option<String> {
    let retention = i64::from(ctx.settings.call_history_retention_days) * DAY_MS;
    let writes = parties.iter().filter(|p| !p.users.is_empty()).map(|party| {
        let write = HistoryWrite {
            base: party.base.clone(),
            users: party.users.clone(),
            fact: fact.clone(),
            offer: offer.cloned(),
            expires_at: (party.base.started_at + retention).div_euclid(1000),
            notice: notice(ctx, party, fact),
        };
        // The voicemail's pointer goes with the entries that show it.
        let vm = voicemail.filter(|_| party.told);
        async move { ctx.history.record(&write, vm).await }
    });
    match timeout_at(ctx.deadline, join_all(writes)).await {
        Err(_) => Some("history: deadline passed".to_owned()),
        Ok(results) => {
            let failures: Vec<String> = results
                .into_iter()
                .filter_map(Result::err)
                .map(|e: StoreError| e.to_string())
                .collect();
            (!failures.is_empty()).then(|| format!("history: {}", failures.join("; ")))
        }
    }
}

/// The route of the number the call's reference names (inbound calls and calls to an org
/// number), read within the deadline; none for other calls, or when the store cannot say:
/// then a fact is lost, never the call.
pub(super) async fn number_route(ctx: &Context<'_>) -> Option<NumberRoute> {
    let number = ctx.callbacks.history.as_ref()?.number.as_ref()?;
    match timeout_at(ctx.deadline, ctx.directory.route_for_number(number)).await {
        Ok(Ok(route)) => route,
        _ => None,
    }
}

/// The parent call's `CallSid` a callback reports on: a leg's parent, or the call itself; none
/// when it is not a `CallSid`'s shape (then no history is written, and the call goes on).
pub(super) fn call_sid(params: &CallParams) -> Option<&str> {
    params
        .get("ParentCallSid")
        .or_else(|| params.get("CallSid"))
        .filter(|sid| CallSid::is_valid(sid))
}

/// What a recording says: a voicemail worth keeping (completed, with sound), or nothing.
pub(super) fn voicemail(params: &CallParams) -> Option<Voicemail> {
    if params.get("RecordingStatus") != Some("completed") {
        return None;
    }
    let recording_sid = params
        .get("RecordingSid")
        .filter(|sid| RecordingSid::is_valid(sid))?;
    let duration_seconds = params
        .get("RecordingDuration")
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| *d > 0)?;
    Some(Voicemail {
        recording_sid: recording_sid.to_owned(),
        duration_seconds,
    })
}

/// The miss a dial's end means, if it is one.
pub(super) fn missed(status: Option<&str>) -> Option<MissedReason> {
    status.and_then(MissedReason::of_dial)
}
