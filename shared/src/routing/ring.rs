//! Ringing softphones: who a call may ring (users with a live voice device, read in one
//! concurrent round), the busy rules, and the `<Dial>` of at most ten `<Client>`s, or the
//! fallback when nobody can be rung.

use futures::future::join_all;
use tokio::time::timeout_at;

use super::fallback::{fallback, when_closed};
use super::{Callbacks, Context, Decision, DialSummary, Outcome, deadline_passed};
use crate::directory::{Assignment, DEFAULT_RING_TIMEOUT_SECONDS, NumberRoute, Strategy, WhenBusy};
use crate::domain::{
    Availability, Capability, Email, Identity, OrgId, PersonStatus, Platform, TwilioState,
};
use crate::history::MissedReason;
use crate::store::{PresenceKey, UserPresence};
use crate::twilio::twiml::{ClientNoun, DialNoun, DialVerb, Twiml};

/// Twilio allows at most 10 nouns in one `<Dial>`.
pub const MAX_CLIENTS_PER_DIAL: usize = 10;

/// One user a call may ring, as presence saw them.
#[derive(Debug)]
struct Candidate {
    identity: Identity,
    /// When their most recently seen voice device was seen.
    last_seen: i64,
    busy: bool,
    /// Their status is "do not disturb": not rung.
    dnd: bool,
}

/// The users with a live voice device, read in one concurrent round.
struct Survey {
    live: Vec<Candidate>,
    /// Users whose presence could not be read.
    failures: Vec<String>,
}

async fn survey(ctx: &Context<'_>, org: &OrgId, identities: &[Identity]) -> Option<Survey> {
    let reads = identities.iter().map(|identity| {
        let key = PresenceKey {
            org: org.clone(),
            identity: identity.clone(),
        };
        async move { ctx.presence.presence(&key, ctx.now_ms).await }
    });
    let results = timeout_at(ctx.deadline, join_all(reads)).await.ok()?;
    let mut survey = Survey {
        live: Vec::new(),
        failures: Vec::new(),
    };
    for (identity, result) in identities.iter().zip(results) {
        match result {
            Ok(presence) => {
                if let Some(candidate) = candidate(identity, &presence, ctx.now_ms) {
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

/// A user with a live voice device Twilio can reach: a browser whose Voice SDK last said
/// `unregistered` (in a ping, heartbeat or register) has no registration for Twilio to ring,
/// so a user with only such devices is not rung and the call goes on to the fallback at once.
/// (A phone's state is about its push registration, which decides how long it stays callable:
/// `callable_until`.) Whether they set "do not disturb" is the status in force at `now_ms`.
fn candidate(identity: &Identity, presence: &UserPresence, now_ms: i64) -> Option<Candidate> {
    let last_seen = presence
        .devices
        .iter()
        .filter(|d| d.capabilities.contains(Capability::Voice))
        .filter(|d| {
            !(d.platform == Platform::Web && d.twilio_state == Some(TwilioState::Unregistered))
        })
        .map(|d| d.last_seen)
        .max()?;
    Some(Candidate {
        identity: identity.clone(),
        last_seen,
        busy: !presence.calls.is_empty(),
        dnd: PersonStatus::in_force(presence.status.as_ref(), now_ms).availability
            == Availability::Dnd,
    })
}

/// Who to ring and how: built by each kind of call, carried out by [`ring`].
pub struct RingPlan<'a> {
    pub org: &'a OrgId,
    pub targets: Vec<Identity>,
    /// A group call: members on a call are not rung.
    pub skip_busy: bool,
    /// A direct call whose number sends callers to the fallback while its user is busy.
    pub busy_to_fallback: bool,
    /// `<Parameter>`s every `<Client>` carries (after `timestamp`).
    pub parameters: Vec<(&'static str, String)>,
    pub timeout_seconds: u32,
    /// The dial-status callback's own query (its `kind` and what it needs); `ring` adds the
    /// step of ringing the dial is (its number, start and who it rang), for the history.
    pub action: Vec<(&'static str, String)>,
    pub caller_id: Option<String>,
    /// A softphone placing the call: on the call too once a callee answers.
    pub caller: Option<&'a Identity>,
    /// What the caller hears when nobody can be rung: built only then, since most calls
    /// ring someone (a voicemail's TwiML is as long as the dial's).
    pub fallback: Box<dyn FnOnce() -> Twiml + Send + 'a>,
    /// A step of a `sequential` group: `targets` are its members from `start` on, rung in
    /// that order, `batch` at a time; the dial's action (a step callback) says where the next
    /// step starts, so it needs no read to know.
    pub step: Option<Step>,
}

/// Where a step of a group's call is: the order of its members for this call (positions in
/// the group's list: listed, turned for round robin, longest idle first), and where this step
/// starts in it.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1 for the call's first step.
    pub number: u32,
    pub order: Vec<usize>,
    /// The position in `order` of the step's first target.
    pub at: usize,
    /// When the call's first step began (epoch ms): the group's ring timeout counts from it.
    pub started_at: i64,
    pub batch: usize,
    /// A simultaneous group of more than ten: waves of ten, but everyone at once (for this
    /// many seconds, what is left of the ring timeout) when ten or fewer can take the call.
    pub waves: Option<u32>,
}

pub async fn ring(ctx: &Context<'_>, plan: RingPlan<'_>) -> Decision {
    let Some(survey) = survey(ctx, plan.org, &plan.targets).await else {
        return deadline_passed((plan.fallback)(), "presence");
    };
    // A partial store failure still rings whoever could be read.
    let failure_note = (!survey.failures.is_empty()).then(|| survey.failures.join("; "));
    let degraded = failure_note.is_some();
    let live_count = survey.live.len();
    // Do not disturb first: such a person is not rung, busy or not.
    let (_, mut ringing): (Vec<Candidate>, Vec<Candidate>) =
        survey.live.into_iter().partition(|c| c.dnd);
    let available = ringing.len();
    let any_busy = ringing.iter().any(|c| c.busy);
    if plan.skip_busy {
        ringing.retain(|c| !c.busy);
    } else if plan.busy_to_fallback && any_busy {
        ringing.clear();
    }
    let skipped_busy = available - ringing.len();

    if ringing.is_empty() {
        let (reason, unrung) = match (live_count, &failure_note) {
            (0, Some(note)) => (note.clone(), None),
            (0, None) => (
                "no live voice device".to_owned(),
                Some(MissedReason::NobodyLive),
            ),
            _ if available == 0 => ("do not disturb".to_owned(), Some(MissedReason::Dnd)),
            _ if plan.skip_busy => ("all members busy".to_owned(), Some(MissedReason::AllBusy)),
            _ => ("user busy".to_owned(), Some(MissedReason::AllBusy)),
        };
        return Decision {
            degraded,
            skipped_busy,
            unrung,
            ..Decision::new((plan.fallback)(), Outcome::Fallback, Some(reason))
        };
    }
    let mut timeout_seconds = plan.timeout_seconds;
    let step = match plan.step {
        // Waves of a large simultaneous group, but few enough to take the call: all at once.
        Some(Step {
            waves: Some(full), ..
        }) if ringing.len() <= MAX_CLIENTS_PER_DIAL => {
            timeout_seconds = full;
            None
        }
        step => step,
    };
    let mut action = plan.action;
    let number = step.as_ref().map_or(1, |step| step.number);
    let stepped = step.is_some();
    match step {
        // The call's order: the first `batch` callable members from the step's start; the
        // next step starts after the last of them.
        Some(step) => {
            ringing.truncate(step.batch.clamp(1, MAX_CLIENTS_PER_DIAL));
            let last = ringing
                .last()
                .and_then(|c| plan.targets.iter().position(|t| *t == c.identity))
                .unwrap_or(0);
            let order: Vec<String> = step.order.iter().map(usize::to_string).collect();
            action.extend([
                ("kind", "step".to_owned()),
                ("o", order.join(".")),
                ("at", (step.at + last + 1).to_string()),
                ("t0", step.started_at.to_string()),
            ]);
        }
        None => {
            ringing.sort_by(|a, b| {
                b.last_seen
                    .cmp(&a.last_seen)
                    .then_with(|| a.identity.cmp(&b.identity))
            });
            ringing.truncate(MAX_CLIENTS_PER_DIAL);
        }
    }
    // The step of ringing, for the history: which, since when, and whom.
    action.extend([("n", number.to_string()), ("ts", ctx.now_ms.to_string())]);
    action.extend(ringing.iter().map(|c| ("r", c.identity.display_email())));
    let query: Vec<(&str, &str)> = action.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let action_url = ctx.callbacks.dial_status(&query);
    let summary = DialSummary {
        seconds: timeout_seconds,
        next_step: stepped.then(|| {
            action
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        }),
    };

    let timestamp = ctx.now_ms.to_string();
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
                status_callback: Some(ctx.callbacks.call_status(plan.org, &busy)),
            })
        })
        .collect();
    let dial = DialVerb {
        timeout_seconds,
        action_url,
        caller_id: plan.caller_id,
        nouns,
    };
    Decision {
        degraded,
        skipped_busy,
        rung: ringing.into_iter().map(|c| c.identity).collect(),
        dial: Some(summary),
        ..Decision::new(Twiml::new().dial(&dial), Outcome::Dial, failure_note)
    }
}

fn targets(route: &NumberRoute) -> Vec<Email> {
    match (&route.phone.assignment, &route.group) {
        (Assignment::User(email), _) => vec![email.clone()],
        (Assignment::Group(_), Some(group)) => group.members.clone(),
        (Assignment::Group(_), None) => Vec::new(),
    }
}

/// A call to one of the org's numbers, from the public network or a colleague: outside the
/// number's business hours (its own, else its group's) nobody is rung and the call goes to
/// the hours' `whenClosed`, else the number's fallback, a missed call `closed`; otherwise its
/// group or user is rung.
pub async fn ring_number<'a>(
    ctx: &Context<'a>,
    route: &'a NumberRoute,
    caller_id: Option<String>,
    caller: Option<&'a Identity>,
    extra: Vec<(&'static str, String)>,
) -> Decision {
    if let Some(hours) = route.hours().filter(|h| !h.is_open(ctx.now_ms)) {
        return Decision {
            unrung: Some(MissedReason::Closed),
            ..Decision::new(
                when_closed(hours, route, ctx.callbacks),
                Outcome::Fallback,
                Some("closed".to_owned()),
            )
        };
    }
    // A group with a strategy, or more members than one dial takes, rings in steps for a call
    // from outside; a colleague's call rings its members at once, as before.
    if let (Some(group), None) = (route.group.as_ref(), caller) {
        let n = group.members.len();
        let listed: Vec<usize> = (0..n).collect();
        let order = match group.strategy {
            Strategy::Simultaneous if n <= MAX_CLIENTS_PER_DIAL => None,
            Strategy::Simultaneous | Strategy::Sequential => Some(listed),
            Strategy::RoundRobin => {
                // One atomic turn per call: concurrent calls each start one member further.
                match ctx.directory.next_turn(&route.org_id, &group.id).await {
                    Ok(turn) => {
                        let first = usize::try_from(turn.saturating_sub(1)).unwrap_or(0) % n.max(1);
                        Some(
                            listed[first..]
                                .iter()
                                .chain(&listed[..first])
                                .copied()
                                .collect(),
                        )
                    }
                    // Without its turn the call still rings, in the listed order.
                    Err(_) => Some(listed),
                }
            }
            Strategy::LongestIdle => Some(longest_idle_first(ctx, route, listed).await),
        };
        if let Some(order) = order {
            let first = Position {
                order,
                at: 0,
                number: 1,
                started_at: ctx.now_ms,
            };
            return ring_step(ctx, route, first, caller_id).await;
        }
    }
    let plan = number_plan(ctx, route, caller_id, caller, extra);
    ring(ctx, plan).await
}

/// The group's members, whoever's last call ended longest ago first; those never called (or
/// unreadable) first of all, in the listed order.
async fn longest_idle_first(
    ctx: &Context<'_>,
    route: &NumberRoute,
    listed: Vec<usize>,
) -> Vec<usize> {
    let Some(group) = route.group.as_ref() else {
        return listed;
    };
    let reads = group.members.iter().map(|email| async move {
        let identity =
            Identity::for_person(&route.org_id, email, ctx.settings.identity_style).ok()?;
        let key = PresenceKey {
            org: route.org_id.clone(),
            identity,
        };
        ctx.presence
            .presence(&key, ctx.now_ms)
            .await
            .ok()?
            .last_call_ended
    });
    let ended = join_all(reads).await;
    let mut order = listed;
    // Stable: equal keys (never called) keep the listed order.
    order.sort_by_key(|&i| ended.get(i).copied().flatten());
    order
}

/// Where a group's call is, as the first step sets it and each step's callback URL says.
pub struct Position {
    /// The call's order of members: positions in the group's list.
    pub order: Vec<usize>,
    /// The position in `order` the step starts at.
    pub at: usize,
    /// The step's number, 1 for the first.
    pub number: u32,
    /// When the first step began, epoch ms.
    pub started_at: i64,
}

/// One step of a group's call: its next `batchSize` callable members (ten for waves) from
/// position `at` of `order` (members without a live voice device, in do not disturb, or busy
/// when the group skips busy members are passed over without a step), for
/// `memberRingSeconds` or what is left of the group's ring timeout since `started_at`. Nobody
/// left to ring: the fallback, as `ring` answers it.
pub async fn ring_step<'a>(
    ctx: &Context<'a>,
    route: &'a NumberRoute,
    position: Position,
    caller_id: Option<String>,
) -> Decision {
    let Position {
        order,
        at,
        number,
        started_at,
    } = position;
    let mut plan = number_plan(ctx, route, caller_id, None, Vec::new());
    let Some(group) = route.group.as_ref() else {
        return ring(ctx, plan).await;
    };
    plan.targets = order
        .iter()
        .skip(at)
        .filter_map(|&i| group.members.get(i))
        .filter_map(|email| {
            Identity::for_person(&route.org_id, email, ctx.settings.identity_style).ok()
        })
        .collect();
    let elapsed_s = u32::try_from((ctx.now_ms - started_at).max(0) / 1000).unwrap_or(u32::MAX);
    let left_s = group.ring_timeout_seconds.saturating_sub(elapsed_s).max(1);
    plan.timeout_seconds = group.member_ring_seconds.min(left_s);
    let waves = group.strategy == Strategy::Simultaneous;
    plan.step = Some(Step {
        number,
        order,
        at,
        started_at,
        batch: if waves {
            MAX_CLIENTS_PER_DIAL
        } else {
            usize::try_from(group.batch_size).unwrap_or(1)
        },
        // Whether to ring in waves at all is the first step's to decide (more than ten can
        // take the call); a later wave of ten or fewer is still a wave.
        waves: (waves && at == 0).then_some(left_s),
    });
    ring(ctx, plan).await
}

/// The plan for a call to one of the org's numbers: its group, or its user.
pub fn number_plan<'a>(
    ctx: &Context<'a>,
    route: &'a NumberRoute,
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
    let callbacks: &'a Callbacks = ctx.callbacks;
    RingPlan {
        org: &route.org_id,
        targets: targets(route)
            .iter()
            .filter_map(|email| {
                Identity::for_person(&route.org_id, email, ctx.settings.identity_style).ok()
            })
            .collect(),
        skip_busy: route.group.as_ref().is_some_and(|g| g.skip_busy_members),
        busy_to_fallback: route.group.is_none() && phone.when_busy == WhenBusy::Fallback,
        parameters,
        timeout_seconds: route
            .group
            .as_ref()
            .map_or(DEFAULT_RING_TIMEOUT_SECONDS, |g| g.ring_timeout_seconds),
        action: Vec::new(),
        caller_id,
        caller,
        fallback: Box::new(move || fallback(Some(route), callbacks)),
        step: None,
    }
}
