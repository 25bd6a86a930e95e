//! Calls to the org's numbers: `POST /phone/voice/incoming` rings the live, free devices of
//! the number's users, or falls back; `POST /phone/voice/dial-status` decides what follows a
//! dial that ended.

use std::sync::Arc;

use tokio::time::timeout_at;

use super::fallback::{NOT_IN_SERVICE, fallback};
use super::outgoing;
use super::ring::{number_plan, ring};
use super::{CallParams, Context, Decision, Outcome};
use crate::directory::NumberRoute;
use crate::domain::E164;
use crate::store::StoreError;
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

pub(super) fn store_failed(twiml: Twiml, what: &str, err: &StoreError) -> Decision {
    Decision::new(twiml, Outcome::Fallback, Some(format!("{what}: {err}"))).degraded()
}

pub(super) fn deadline_passed(twiml: Twiml, what: &str) -> Decision {
    Decision::new(
        twiml,
        Outcome::Fallback,
        Some(format!("{what}: deadline passed")),
    )
    .degraded()
}

/// `POST /phone/voice/incoming`: ring the live, free devices of the number's users, or fall
/// back.
pub async fn incoming(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let route = match lookup(ctx, params.get("To")).await {
        Ok(route) => route,
        Err(decision) => return decision,
    };
    let caller_id = params.get("From").map(str::to_owned);
    let plan = number_plan(ctx, &route, caller_id, None, Vec::new());
    ring(ctx, plan).await
}

fn hangup(reason: &str) -> Decision {
    Decision::new(
        Twiml::new().hangup(),
        Outcome::Hangup,
        Some(reason.to_owned()),
    )
}

/// `POST /phone/voice/dial-status`: after an unanswered dial, the fallback; otherwise hang up.
/// The action URL's `kind` says which call the dial belonged to.
pub async fn dial_status(ctx: &Context<'_>, params: &CallParams) -> Decision {
    let status = params.get("DialCallStatus");
    match (params.query("kind"), status) {
        (Some("voicemail"), _) | (None, None) => hangup("voicemail recorded"),
        (_, Some("completed" | "answered")) => hangup("answered"),
        (_, Some("canceled")) => hangup("caller hung up"),
        (Some("outgoing"), status) => outgoing::dial_ended(status),
        (Some("internal"), status) => outgoing::internal_dial_ended(ctx, params, status).await,
        (_, status) => {
            let reason = format!("dial ended {}", status.unwrap_or("without a status"));
            match lookup(ctx, params.get("To")).await {
                Ok(route) => Decision::new(
                    fallback(Some(&route), ctx.callbacks),
                    Outcome::Fallback,
                    Some(reason),
                ),
                Err(mut decision) => {
                    decision.reason =
                        Some(format!("{reason}; {}", decision.reason.unwrap_or_default()));
                    decision
                }
            }
        }
    }
}
