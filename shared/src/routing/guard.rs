//! The outbound guard of a call to the public network: the caller's org must allow the number
//! (its regions, premium lines: `destinations::policy`; and the operator's
//! `OUTBOUND_ALLOWED_PREFIXES`), and the caller must have calls left this minute. A refusal is
//! TwiML that says why and hangs up; nothing is dialled.

use tokio::time::timeout_at;

use super::{Context, Decision, Outcome, deadline_passed, store_failed};
use crate::destinations::{Occasion, Refusal};
use crate::directory::UserProfile;
use crate::domain::{E164, Identity};
use crate::store::PresenceKey;
use crate::store::rates::Counted;
use crate::twilio::twiml::Twiml;

const REGION_REFUSED: &str =
    "Sorry, calls to that country or network are not allowed from this phone. Goodbye.";
const PREMIUM_REFUSED: &str =
    "Sorry, calls to premium-rate numbers are not allowed from this phone. Goodbye.";
const TOO_MANY_CALLS: &str = "Sorry, you have placed too many calls in the last minute. \
     Please wait a moment and try again. Goodbye.";
const UNAVAILABLE: &str =
    "Sorry, your call cannot be placed right now. Please try again in a moment. Goodbye.";

fn hang_up(text: &str, outcome: Outcome, reason: String) -> Decision {
    Decision::new(Twiml::new().say(text).hangup(), outcome, Some(reason))
}

/// `Ok` when `caller` may dial `number` now (the call is counted); else the answer to give.
pub(super) async fn dial(
    ctx: &Context<'_>,
    caller: &UserProfile,
    caller_identity: &Identity,
    number: &E164,
) -> Result<(), Decision> {
    let prefixes = ctx.settings.outbound_allowed_prefixes;
    if let Err(refusal) = caller.outbound.check(number, Occasion::Chosen, prefixes) {
        let text = match refusal {
            Refusal::Premium { .. } => PREMIUM_REFUSED,
            Refusal::Region { .. } => REGION_REFUSED,
        };
        return Err(hang_up(
            text,
            Outcome::DestinationNotAllowed,
            format!(
                "{}: {} ({})",
                refusal.reason(),
                refusal.explain(),
                number.as_str()
            ),
        ));
    }
    let user = PresenceKey {
        org: caller.org_id.clone(),
        identity: caller_identity.clone(),
    };
    let budget = &ctx.settings.calls;
    let counted = timeout_at(
        ctx.deadline,
        ctx.history.count_call(&user, budget, ctx.now_ms),
    )
    .await;
    let apology = || Twiml::new().say(UNAVAILABLE).hangup();
    match counted {
        Ok(Ok(Counted::Counted)) => Ok(()),
        Ok(Ok(Counted::Over {
            retry_after_seconds,
        })) => Err(hang_up(
            TOO_MANY_CALLS,
            Outcome::RateLimited,
            format!(
                "{} calls a minute reached; the next in {retry_after_seconds} s",
                budget.limit
            ),
        )),
        Ok(Err(err)) => Err(store_failed(apology(), "call budget", &err)),
        Err(_) => Err(deadline_passed(apology(), "call budget")),
    }
}
