//! Calls to the org's numbers: `POST /phone/voice/incoming` rings the live, free devices of
//! the number's users, or falls back; `POST /phone/voice/dial-status` decides what follows a
//! dial that ended.

use std::sync::Arc;

use tokio::time::timeout_at;

use super::fallback::{NOT_IN_SERVICE, fallback};
use super::history;
use super::outgoing;
use super::ring::{MAX_CLIENTS_PER_DIAL, Position, ring_number, ring_step};
use super::{CallParams, Context, Decision, Outcome, deadline_passed, noted, store_failed};
use crate::directory::NumberRoute;
use crate::domain::E164;
use crate::domain::{Email, Identity};
use crate::history::{Direction, Fact, HistoryRef, MAX_STEPS, Offer};
use crate::twilio::twiml::Twiml;

/// Find the number's route within the deadline; `Err` is a finished decision (fallback).
pub(super) async fn lookup(
    ctx: &Context<'_>,
    to: Option<&str>,
) -> Result<Arc<NumberRoute>, Decision> {
    let Some(number) = to.and_then(|to| E164::parse_field(to, "To").ok()) else {
        let twiml = Twiml::new().say(NOT_IN_SERVICE).hangup();
        return Err(Decision::new(
            twiml,
            Outcome::UnknownNumber,
            Some("To is missing or not E.164".to_owned()),
        ));
    };
    match timeout_at(ctx.deadline, ctx.directory.route_for_number(&number)).await {
        Ok(Ok(Some(route))) => {
            let route = Arc::new(route);
            ctx.recent_routes.remember(&route);
            Ok(route)
        }
        Ok(Ok(None)) => Err(unknown_number(&number)),
        Ok(Err(err)) => Err(store_failed(
            fallback(None, ctx.callbacks),
            "directory",
            &err,
        )),
        Err(_) => Err(deadline_passed(fallback(None, ctx.callbacks), "directory")),
    }
}

fn unknown_number(number: &E164) -> Decision {
    Decision::new(
        Twiml::new().say(NOT_IN_SERVICE).hangup(),
        Outcome::UnknownNumber,
        Some(format!("no phone for {}", number.as_str())),
    )
}

/// `POST /phone/voice/incoming`: ring the live, free devices of the number's users, or fall
/// back. A call nobody could be rung for is a missed call in their history at once (the one
/// write round this path adds); a call that rings is recorded by its callbacks.
pub async fn incoming(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let route = match lookup(ctx, params.get("To")).await {
        Ok(route) => route,
        Err(decision) => return decision,
    };
    let reference = HistoryRef {
        org: route.org_id.clone(),
        direction: Direction::Inbound,
        started_at: ctx.now_ms,
        number: Some(route.phone.phone_number.clone()),
        people: Vec::new(),
    };
    let callbacks = ctx.callbacks.with_history(reference.clone());
    let ctx = ctx.with_callbacks(&callbacks);
    let caller_id = params.get("From").map(str::to_owned);
    let mut decision = ring_number(&ctx, &route, caller_id, None, Vec::new()).await;
    if let (Some(reason), Some(call_sid)) = (decision.unrung, history::call_sid(params)) {
        let from = params.get("From").unwrap_or_default();
        let to = params.get("To").unwrap_or_default();
        let parties = history::parties(&ctx, &reference, call_sid, from, to, Some(&route));
        let missed = Fact::Missed(reason);
        if let Some(failed) = history::record(&ctx, &parties, &missed, None, None).await {
            decision = noted(decision, failed);
        }
    }
    decision
}

/// A decision whose history could not be recorded: said in its log line.
fn hangup(reason: &str) -> Decision {
    Decision::new(
        Twiml::new().hangup(),
        Outcome::Hangup,
        Some(reason.to_owned()),
    )
}

/// `POST /phone/voice/dial-status`: after an unanswered dial, the fallback; otherwise hang up.
/// The action URL's `kind` says which call the dial belonged to. What the dial's end means is
/// recorded in the call's history: a miss (told to the number's users), a cancel, an end.
pub async fn dial_status(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let status = params.get("DialCallStatus");
    let fact = dial_fact(ctx, params, status);
    match (params.query("kind"), status) {
        (Some("voicemail"), _) | (None, None) => hangup("voicemail recorded"),
        (_, Some("completed" | "answered")) => {
            let route = history::number_route(ctx).await;
            record_dial(ctx, params, route.as_ref(), fact, hangup("answered")).await
        }
        (_, Some("canceled")) => {
            let route = history::number_route(ctx).await;
            record_dial(ctx, params, route.as_ref(), fact, hangup("caller hung up")).await
        }
        (Some("step"), _) => next_step(ctx, params, fact).await,
        (Some("outgoing"), status) => {
            record_dial(ctx, params, None, fact, outgoing::dial_ended(status)).await
        }
        (Some("internal"), status) => {
            let (decision, failed) = futures::future::join(
                outgoing::internal_dial_ended(ctx, params, status),
                record_facts(ctx, params, None, fact),
            )
            .await;
            match failed {
                Some(failed) => noted(decision, failed),
                None => decision,
            }
        }
        (_, status) => {
            let reason = format!("dial ended {}", status.unwrap_or("without a status"));
            match lookup(ctx, params.get("To")).await {
                Ok(route) => {
                    let decision = Decision::new(
                        fallback(Some(&route), ctx.callbacks),
                        Outcome::Fallback,
                        Some(reason),
                    );
                    record_dial(ctx, params, Some(&route), fact, decision).await
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

/// A step of a sequential group ended unanswered: the next step from where its URL says
/// (the number's route, then the next members' presence: two rounds), or, with nobody left or
/// the group's ring timeout spent, the fallback and the miss in the history.
async fn next_step(ctx: &Context<'_>, params: &CallParams, fact: Option<Fact>) -> Decision {
    let route = match lookup(ctx, params.get("To")).await {
        Ok(route) => route,
        Err(decision) => return decision,
    };
    let at = params.query("at").and_then(|v| v.parse::<usize>().ok());
    let started_at = params.query("t0").and_then(|v| v.parse::<i64>().ok());
    let members = route.group.as_ref().map_or(0, |g| g.members.len());
    // The call's order, as the first step fixed it: positions in the group's list, each once
    // (a directory changed since may have fewer members: those past its end are skipped).
    let order: Option<Vec<usize>> = params.query("o").and_then(|raw| {
        let order: Vec<usize> = raw
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let distinct: std::collections::BTreeSet<&usize> = order.iter().collect();
        (distinct.len() == order.len() && order.len() <= members.max(1) * 2).then_some(order)
    });
    let timeout_ms = route
        .group
        .as_ref()
        .map_or(0, |g| i64::from(g.ring_timeout_seconds) * 1000);
    let number = params.query("n").and_then(|v| v.parse::<u32>().ok());
    if let (Some(order), Some(at), Some(started_at), Some(number)) = (order, at, started_at, number)
        && ctx.now_ms - started_at < timeout_ms
        && number < MAX_STEPS
    {
        let caller_id = params.get("From").map(str::to_owned);
        let position = Position {
            order,
            at,
            number: number + 1,
            started_at,
        };
        // Who the step that ended rang goes into the history beside the next step's presence
        // read: the same round.
        let (decision, failed) = futures::future::join(
            ring_step(ctx, &route, position, caller_id),
            record_facts(ctx, params, Some(&route), Some(Fact::Placed)),
        )
        .await;
        if decision.outcome == Outcome::Dial {
            return match failed {
                Some(failed) => noted(decision, failed),
                None => decision,
            };
        }
    }
    let decision = Decision::new(
        fallback(Some(&route), ctx.callbacks),
        Outcome::Fallback,
        Some("no member answered".to_owned()),
    );
    record_dial(ctx, params, Some(&route), fact, decision).await
}

/// The step of ringing a dial-status callback reports the end of, as its URL names it: its
/// number, when it began, and who it rang (at most ten valid emails or identities).
fn offer(params: &CallParams) -> Option<Offer> {
    let step = params
        .query("n")?
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_STEPS).contains(n))?;
    let at = params.query("ts")?.parse::<i64>().ok().filter(|t| *t > 0)?;
    let to: Vec<String> = params
        .query_all("r")
        .filter(|person| Email::parse_field(person, "r").is_ok() || Identity::parse(person).is_ok())
        .take(MAX_CLIENTS_PER_DIAL)
        .map(str::to_owned)
        .collect();
    (!to.is_empty()).then_some(Offer { step, at, to })
}

/// What a dial's end adds to the call's history: an end (with its duration), a cancel, or a
/// miss.
fn dial_fact(ctx: &Context<'_>, params: &CallParams, status: Option<&str>) -> Option<Fact> {
    match status? {
        "completed" | "answered" => Some(Fact::Ended {
            at: ctx.now_ms,
            duration_seconds: params
                .get("DialCallDuration")
                .and_then(|d| d.parse().ok())
                .unwrap_or(0),
        }),
        "canceled" => Some(Fact::Canceled),
        other => history::missed(Some(other)).map(Fact::Missed),
    }
}

/// Record `fact` (if any), with the step of ringing the callback's URL names, for the call
/// this callback reports on; what failed.
async fn record_facts(
    ctx: &Context<'_>,
    params: &CallParams,
    route: Option<&NumberRoute>,
    fact: Option<Fact>,
) -> Option<String> {
    let (Some(reference), Some(fact), Some(call_sid)) = (
        ctx.callbacks.history.as_ref(),
        fact,
        history::call_sid(params),
    ) else {
        return None;
    };
    let from = params.get("From").unwrap_or_default();
    let to = params.get("To").unwrap_or_default();
    let parties = history::parties(ctx, reference, call_sid, from, to, route);
    history::record(ctx, &parties, &fact, offer(params).as_ref(), None).await
}

async fn record_dial(
    ctx: &Context<'_>,
    params: &CallParams,
    route: Option<&NumberRoute>,
    fact: Option<Fact>,
    decision: Decision,
) -> Decision {
    match record_facts(ctx, params, route, fact).await {
        Some(failed) => noted(decision, failed),
        None => decision,
    }
}
