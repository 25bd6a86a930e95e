//! Where a text may go and how many a user may send: their org's policy (its regions, premium
//! lines; `destinations::policy`), the operator's limits (`OUTBOUND_*` settings), and the
//! answers when either refuses (`destination_not_allowed`, `rate_limited`).

use crate::config::OutboundSettings;
use crate::destinations::Occasion;
use crate::directory::UserProfile;
use crate::domain::E164;
use crate::http::ApiError;
use crate::sms::message::Conversation;
use crate::store::rates::{Budget, NewRecipient, RateKind};

/// The limits a text is checked against.
pub struct Guard<'a> {
    /// Texts per user per minute.
    pub texts: Budget,
    /// Texts per user per day to parties the number has no conversation with.
    pub new_recipients: Budget,
    /// `OUTBOUND_ALLOWED_PREFIXES`.
    prefixes: Option<&'a [String]>,
}

impl<'a> Guard<'a> {
    pub fn texts(settings: &'a OutboundSettings) -> Self {
        Self {
            texts: Budget::per_minute(RateKind::Texts, settings.sms_per_minute),
            new_recipients: Budget::per_day(
                RateKind::NewRecipients,
                settings.new_recipients_per_day,
            ),
            prefixes: settings.allowed_prefixes.as_deref(),
        }
    }

    /// Whether the sender's org lets them text `to`; a reply in a conversation `to` started
    /// may reach any region, never a premium line.
    pub fn destination(
        &self,
        sender: &UserProfile,
        to: &E164,
        conversation: Option<&Conversation>,
    ) -> Result<(), ApiError> {
        let occasion = if conversation.is_some_and(|c| c.started_inbound) {
            Occasion::Reply
        } else {
            Occasion::Chosen
        };
        sender
            .outbound
            .check(to, occasion, self.prefixes)
            .map(drop)
            .map_err(ApiError::DestinationNotAllowed)
    }

    /// Whether the new-recipients budget let this text through.
    pub fn new_recipient(&self, counted: NewRecipient) -> Result<(), ApiError> {
        match counted {
            NewRecipient::Known | NewRecipient::Counted => Ok(()),
            NewRecipient::Over {
                retry_after_seconds,
            } => Err(ApiError::RateLimited {
                kind: RateKind::NewRecipients,
                retry_after_seconds,
            }),
        }
    }
}

/// The texts-per-minute budget is spent.
pub fn texts_spent(retry_after_seconds: u32) -> ApiError {
    ApiError::RateLimited {
        kind: RateKind::Texts,
        retry_after_seconds,
    }
}
