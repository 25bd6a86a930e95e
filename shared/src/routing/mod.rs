//! Routing a call: number → phone → target users → their live voice devices and current calls
//! → one `<Dial>` of `<Client>`s, or the fallback. Every path ends in TwiML: a store that fails
//! or is slow yields the best fallback known, never an error.
//!
//! [`incoming`] answers calls to the org's numbers and their dial-status callbacks;
//! [`outgoing`] answers calls a softphone places; [`call_status`] keeps track of who is on a
//! call. [`ring`] plans and carries out a dial, [`fallback`] says what a caller hears when
//! nobody can take the call, [`params`] reads Twilio's parameters and writes callback URLs.
//!
//! Routing sees only a [`Context`]: the stores it reads, the recent-routes cache, the settings
//! it uses, the time. The webhook layer (`http/webhooks.rs`) builds one per request.

pub mod call_status;
pub mod fallback;
mod guard;
mod history;
pub mod incoming;
pub mod outgoing;
pub mod params;
mod recent;
pub mod recording;
pub mod ring;

#[cfg(test)]
mod tests;

use tokio::time::Instant;

use crate::domain::{Identity, IdentityStyle};
use crate::history::MissedReason;
use crate::store::rates::Budget;
use crate::store::{DirectoryStore, HistoryStore, PresenceStore, StoreError};
use crate::twilio::twiml::Twiml;

pub use call_status::call_status;
pub use fallback::{fallback, primary_failed};
pub use incoming::{dial_status, incoming};
pub use outgoing::outgoing;
pub use params::{CallParams, Callbacks};
pub use recent::RecentRoutes;
pub use recording::recording_status;

/// What routing reads and knows for one webhook.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub presence: &'a dyn PresenceStore,
    pub directory: &'a dyn DirectoryStore,
    /// Where the calls' history is recorded.
    pub history: &'a dyn HistoryStore,
    /// Routes looked up lately, for Twilio's fallback URL (which must not read the store).
    pub recent_routes: &'a RecentRoutes,
    pub settings: Settings<'a>,
    /// Where Twilio should call back, next to the webhook it called.
    pub callbacks: &'a Callbacks,
    /// Epoch milliseconds, read once for the request.
    pub now_ms: i64,
    /// When the store must have answered; after it, the caller gets the fallback.
    pub deadline: Instant,
}

/// The settings routing uses.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub identity_style: IdentityStyle,
    /// How long call state counts without its `completed` callback.
    pub max_call_seconds: u32,
    /// `OUTBOUND_ALLOWED_PREFIXES`: E.164 prefixes every call to the public network must
    /// start with, whatever the caller's org allows; `None`: no such limit.
    pub outbound_allowed_prefixes: Option<&'a [String]>,
    /// Calls one user may place to the public network per minute.
    pub calls: Budget,
    /// How long call history entries are kept.
    pub call_history_retention_days: u32,
}

/// What a webhook decided, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Rang softphones or a number.
    Dial,
    /// Nobody could be rung (or the store failed): the fallback.
    Fallback,
    UnknownNumber,
    Hangup,
    /// Refusals of an outgoing call.
    CallerUnknown,
    DestinationRefused,
    /// The caller's org (or the operator) does not allow the number: its region, a premium line.
    DestinationNotAllowed,
    /// The caller's calls-per-minute budget is spent.
    RateLimited,
    CallerIdRefused,
    /// Call-progress callbacks.
    OnCall,
    CallEnded,
    Ignored,
    /// A recording-status callback: a voicemail kept, or nothing to keep.
    VoicemailKept,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dial => "dial",
            Self::Fallback => "fallback",
            Self::UnknownNumber => "unknown_number",
            Self::Hangup => "hangup",
            Self::CallerUnknown => "caller_unknown",
            Self::DestinationRefused => "destination_refused",
            Self::DestinationNotAllowed => "destination_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::CallerIdRefused => "caller_id_refused",
            Self::OnCall => "on_call",
            Self::CallEnded => "call_ended",
            Self::Ignored => "ignored",
            Self::VoicemailKept => "voicemail_kept",
        }
    }
}

/// What happened: the TwiML to answer and what the request's log line says.
#[derive(Debug, Clone)]
pub struct Decision {
    pub twiml: Twiml,
    pub outcome: Outcome,
    /// Why a fallback was chosen, or what failed.
    pub reason: Option<String>,
    /// The store failed or was too slow: the caller got less than the directory promised.
    pub degraded: bool,
    /// Live users not rung because they were on a call.
    pub skipped_busy: usize,
    /// The identities a `<Dial>` rings, in its order; none when nobody is rung.
    pub rung: Vec<Identity>,
    /// Nobody could be rung, and why (not a store failure): a missed call.
    pub unrung: Option<MissedReason>,
    /// How long the `<Dial>` rings, and, for a step of a group's call, the query of its
    /// action (what the next step starts from): what a simulated call follows.
    pub dial: Option<DialSummary>,
}

/// What a [`Decision`]'s `<Dial>` of softphones does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialSummary {
    pub seconds: u32,
    /// The step callback's query, for a call that rings in steps.
    pub next_step: Option<Vec<(String, String)>>,
}

impl Context<'_> {
    /// The same context, for a call whose callbacks carry `callbacks`.
    pub fn with_callbacks<'b>(&self, callbacks: &'b Callbacks) -> Context<'b>
    where
        Self: 'b,
    {
        Context { callbacks, ..*self }
    }
}

/// The fallback `twiml`, because the store failed reading `what`.
pub(crate) fn store_failed(twiml: Twiml, what: &str, err: &StoreError) -> Decision {
    Decision::new(twiml, Outcome::Fallback, Some(format!("{what}: {err}"))).degraded()
}

/// The fallback `twiml`, because the store had not answered `what` by the deadline.
pub(crate) fn deadline_passed(twiml: Twiml, what: &str) -> Decision {
    Decision::new(
        twiml,
        Outcome::Fallback,
        Some(format!("{what}: deadline passed")),
    )
    .degraded()
}

/// `decision`, noting a write that `failed` after it was made.
pub(crate) fn noted(mut decision: Decision, failed: String) -> Decision {
    decision.reason = Some(match decision.reason.take() {
        Some(reason) => format!("{reason}; {failed}"),
        None => failed,
    });
    decision.degraded()
}

impl Decision {
    pub fn new(twiml: Twiml, outcome: Outcome, reason: impl Into<Option<String>>) -> Self {
        Self {
            twiml,
            outcome,
            reason: reason.into(),
            degraded: false,
            skipped_busy: 0,
            rung: Vec::new(),
            unrung: None,
            dial: None,
        }
    }

    pub fn degraded(mut self) -> Self {
        self.degraded = true;
        self
    }
}
