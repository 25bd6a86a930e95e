//! Every HTTP refusal the service makes (app routes, webhooks, the local server's pages): the
//! one vocabulary of error codes and the status each answers ([`ErrorCode`]), and the one
//! mapping of a refusal ([`ApiError`]) to its code, a JSON error body and the request's log line.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::{LogNote, Response, json_response};
use crate::auth::AuthError;
use crate::destinations::Refusal;
use crate::domain::FieldError;
use crate::store::StoreError;
use crate::store::rates::RateKind;

/// The error codes and the status each answers with, stated once: an [`ErrorCode`] variant,
/// its `code` on the wire and its status. `tests/api/errors.rs` holds the published tables
/// (docs/openapi.yaml, the README's, docs/client-contract.md's) to these statuses.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal => $status:ident,)*) => {
        /// Every `error.code` the service answers.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(Self::$variant,)*];

            /// The `code` of the JSON error body, and the log line's `outcome`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The status every answer with this code has.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(Self::$variant => StatusCode::$status,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidField = "invalid_field" => BAD_REQUEST,
    MalformedBody = "malformed_body" => BAD_REQUEST,
    MissingSignature = "missing_signature" => BAD_REQUEST,
    Unauthorized = "unauthorized" => UNAUTHORIZED,
    InvalidSignature = "invalid_signature" => FORBIDDEN,
    WrongAccount = "wrong_account" => FORBIDDEN,
    WrongApplication = "wrong_application" => FORBIDDEN,
    Forbidden = "forbidden" => FORBIDDEN,
    /// `phoneId` is not one of the caller's numbers.
    PhoneNotAssigned = "phone_not_assigned" => FORBIDDEN,
    /// Twilio cannot reach the destination from this number.
    DestinationRefused = "destination_refused" => FORBIDDEN,
    DestinationNotAllowed = "destination_not_allowed" => FORBIDDEN,
    NotFound = "not_found" => NOT_FOUND,
    /// A directory (or one of its records) that would not be valid: `problems` lists each.
    InvalidDirectory = "invalid_directory" => BAD_REQUEST,
    /// A change of the directory without `If-Match` (or `If-None-Match: *` to create).
    PreconditionRequired = "precondition_required" => PRECONDITION_REQUIRED,
    /// The record or org changed since its `ETag` was read.
    PreconditionFailed = "precondition_failed" => PRECONDITION_FAILED,
    /// Something refers to the record (`referencedBy`), or another change is being written.
    Conflict = "conflict" => CONFLICT,
    DeviceNotRegistered = "device_not_registered" => NOT_FOUND,
    MethodNotAllowed = "method_not_allowed" => METHOD_NOT_ALLOWED,
    /// The local server: a body that stopped arriving.
    RequestTimeout = "request_timeout" => REQUEST_TIMEOUT,
    /// The recipient replied STOP to this number.
    RecipientOptedOut = "recipient_opted_out" => CONFLICT,
    /// A send with this `clientMessageId` is still on its way.
    SendInProgress = "send_in_progress" => CONFLICT,
    DeviceSignedOut = "device_signed_out" => GONE,
    CursorExpired = "cursor_expired" => GONE,
    PayloadTooLarge = "payload_too_large" => PAYLOAD_TOO_LARGE,
    RateLimited = "rate_limited" => TOO_MANY_REQUESTS,
    InternalError = "internal_error" => INTERNAL_SERVER_ERROR,
    /// Twilio refused a request for a reason with no code of its own here.
    TwilioRefused = "twilio_refused" => BAD_GATEWAY,
    StoreUnavailable = "store_unavailable" => SERVICE_UNAVAILABLE,
    TwilioUnavailable = "twilio_unavailable" => SERVICE_UNAVAILABLE,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidField(#[from] FieldError),
    #[error("{0}")]
    MalformedBody(String),
    #[error("{0}")]
    Unauthorized(#[from] AuthError),
    #[error("{0}")]
    NotFound(String),
    #[error("device not registered")]
    DeviceNotRegistered,
    #[error("device signed out")]
    DeviceSignedOut,
    /// Authenticated, but not allowed to do this: why.
    #[error("forbidden")]
    Forbidden(&'static str),
    /// A catch-up cursor older than the event log keeps.
    #[error("cursor expired")]
    CursorExpired,
    #[error("method not allowed")]
    /// The methods the endpoint does take, as the `Allow` header lists them.
    MethodNotAllowed(&'static str),
    #[error("body too large")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
    /// A webhook without `X-Twilio-Signature`.
    #[error("missing signature")]
    MissingSignature,
    /// A webhook whose signature does not match: not Twilio, or the wrong URL or auth token.
    #[error("invalid signature")]
    InvalidSignature,
    /// A signed webhook for another Twilio account.
    #[error("wrong account")]
    WrongAccount,
    /// The outgoing-call webhook for another TwiML App (or none configured): why.
    #[error("wrong application")]
    WrongApplication(&'static str),
    /// Refused for a reason with its own code and no more to say than `message`
    /// (`phone_not_assigned`, `destination_refused`, `recipient_opted_out`, `send_in_progress`,
    /// `twilio_refused`, `request_timeout`); its status is the code's.
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    /// A text or call to a number the caller's org (or the operator) does not allow: why.
    #[error("destination not allowed: {}", .0.reason())]
    DestinationNotAllowed(Refusal),
    /// A per-user budget of texts or calls is spent for its window: nothing was sent; try
    /// again after this many seconds.
    #[error("rate limited: {}", .kind.as_str())]
    RateLimited {
        kind: RateKind,
        retry_after_seconds: u32,
    },
    /// Twilio's REST API failed, throttled or timed out: try again after this many seconds.
    #[error("Twilio unavailable: {cause}")]
    TwilioUnavailable {
        retry_after_seconds: u32,
        cause: String,
    },
}

impl ApiError {
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }
}

/// `{"error": {"code", "field"?, "message"}}`, serialized straight from these structs (no
/// `serde_json::Value` map to build and sort for every refused request).
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Which rule refused: `region` or `premium` for `destination_not_allowed`; which budget
    /// (`texts_per_minute`, `new_recipients_per_day`) for `rate_limited`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    message: &'a str,
}

/// The `reason` of a `rate_limited` answer.
fn budget_name(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Texts => "texts_per_minute",
        RateKind::NewRecipients => "new_recipients_per_day",
        RateKind::Calls => "calls_per_minute",
    }
}

/// Seconds a client should wait before retrying after the store was unavailable.
const RETRY_AFTER_SECONDS: &str = "2";

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidField(_) => ErrorCode::InvalidField,
            Self::MalformedBody(_) => ErrorCode::MalformedBody,
            Self::Unauthorized(_) => ErrorCode::Unauthorized,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::DeviceNotRegistered => ErrorCode::DeviceNotRegistered,
            Self::DeviceSignedOut => ErrorCode::DeviceSignedOut,
            Self::CursorExpired => ErrorCode::CursorExpired,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::Store(StoreError::Unavailable(_)) => ErrorCode::StoreUnavailable,
            Self::Store(StoreError::Internal(_)) | Self::Internal(_) => ErrorCode::InternalError,
            Self::MissingSignature => ErrorCode::MissingSignature,
            Self::InvalidSignature => ErrorCode::InvalidSignature,
            Self::WrongAccount => ErrorCode::WrongAccount,
            Self::WrongApplication(_) => ErrorCode::WrongApplication,
            Self::Refused { code, .. } => *code,
            Self::DestinationNotAllowed(_) => ErrorCode::DestinationNotAllowed,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::TwilioUnavailable { .. } => ErrorCode::TwilioUnavailable,
        }
    }

    /// The status of the answer: its code's, always.
    pub fn status(&self) -> StatusCode {
        self.code().status()
    }

    /// What the client reads: actionable, and free of internal detail.
    fn message(&self) -> String {
        match self {
            Self::InvalidField(e) => format!("{}: {}", e.field, e.message),
            Self::MalformedBody(m) | Self::NotFound(m) => m.clone(),
            Self::Unauthorized(e) => e.to_string(),
            Self::DeviceNotRegistered => {
                "this device is not registered or its presence expired; call register-device again"
                    .into()
            }
            Self::DeviceSignedOut => "this device was signed out from another device; only a new \
                 sign-in (register-device with \"signIn\": true) registers it again"
                .into(),
            Self::CursorExpired => "the cursor is older than the event log keeps; reload \
                 everything (devices, calls, inbox), then catch up from the cursor \
                 GET /phone/events returns without `after`"
                .into(),
            Self::MethodNotAllowed(allow) => format!("use {allow} for this endpoint"),
            Self::PayloadTooLarge(limit) => format!("request body must be at most {limit} bytes"),
            Self::Store(StoreError::Unavailable(outage)) => {
                format!(
                    "{} store temporarily unavailable; retry shortly",
                    outage.store
                )
            }
            Self::Store(StoreError::Internal(_)) | Self::Internal(_) => "internal error".into(),
            Self::MissingSignature => "X-Twilio-Signature header is required".into(),
            Self::InvalidSignature => "X-Twilio-Signature does not match this request".into(),
            Self::WrongAccount => "AccountSid is not this service's Twilio account".into(),
            Self::WrongApplication(why) | Self::Forbidden(why) => (*why).into(),
            Self::Refused { message, .. } => message.clone(),
            Self::DestinationNotAllowed(refusal) => {
                format!("{}; nothing was sent", refusal.explain())
            }
            Self::RateLimited {
                kind,
                retry_after_seconds,
            } => {
                let what = match kind {
                    RateKind::Texts => "texts a minute",
                    RateKind::NewRecipients => "new recipients a day",
                    RateKind::Calls => "calls a minute",
                };
                format!(
                    "you reached your limit of {what}; nothing was sent, retry after \
                     {retry_after_seconds} s"
                )
            }
            Self::TwilioUnavailable { .. } => {
                "Twilio is not answering or is throttling; nothing was sent, retry later".into()
            }
        }
    }

    /// Refusals an operator should look at: a misconfigured webhook URL or token, or someone
    /// who is not Twilio.
    fn is_webhook_refusal(&self) -> bool {
        matches!(
            self,
            Self::MissingSignature
                | Self::InvalidSignature
                | Self::WrongAccount
                | Self::WrongApplication(_)
        )
    }

    pub fn response(&self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().as_str(),
                field: match self {
                    Self::InvalidField(e) => Some(&e.field),
                    _ => None,
                },
                reason: match self {
                    Self::DestinationNotAllowed(refusal) => Some(refusal.reason()),
                    Self::RateLimited { kind, .. } => Some(budget_name(*kind)),
                    _ => None,
                },
                message: &self.message(),
            },
        };
        let mut response = json_response(self.status(), &body);
        let headers = response.headers_mut();
        match self {
            Self::Store(StoreError::Unavailable(_)) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_SECONDS),
                );
            }
            Self::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::MethodNotAllowed(allow) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            Self::TwilioUnavailable {
                retry_after_seconds,
                ..
            }
            | Self::RateLimited {
                retry_after_seconds,
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            _ => {}
        }
        let cause = match self {
            Self::Store(cause) => Some(cause.to_string()),
            Self::DestinationNotAllowed(refusal) => Some(refusal.explain()),
            Self::RateLimited { kind, .. } => Some(format!("{} spent", budget_name(*kind))),
            Self::Internal(cause) => Some(cause.clone()),
            Self::TwilioUnavailable { cause, .. } => Some(cause.clone()),
            _ => None,
        };
        response.extensions_mut().insert(LogNote {
            outcome: Some(self.code().as_str()),
            cause,
            warn: self.is_webhook_refusal(),
            ..LogNote::default()
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(error: ApiError) -> String {
        String::from_utf8_lossy(error.response().body()).into_owned()
    }

    /// The documented error shape, byte for byte: `field` only when a field is at fault, and
    /// the message escaped as JSON.
    #[test]
    fn error_bodies_keep_their_shape() {
        assert_eq!(
            body(FieldError::new("deviceId", "must be a string").into()),
            r#"{"error":{"code":"invalid_field","field":"deviceId","message":"deviceId: must be a string"}}"#
        );
        assert_eq!(
            body(ApiError::NotFound("no endpoint at /a\"b".into())),
            r#"{"error":{"code":"not_found","message":"no endpoint at /a\"b"}}"#
        );
    }

    /// Outbound refusals name their rule (`reason`), and a spent budget says when to retry.
    #[test]
    fn outbound_refusals_name_their_reason_and_when_to_retry() {
        let premium = ApiError::DestinationNotAllowed(Refusal::Premium {
            line: crate::destinations::LineType::PremiumRate,
        });
        let response = premium.response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let text = String::from_utf8_lossy(response.body()).into_owned();
        assert!(
            text.starts_with(r#"{"error":{"code":"destination_not_allowed","reason":"premium","#),
            "{text}"
        );
        let limited = ApiError::RateLimited {
            kind: RateKind::Texts,
            retry_after_seconds: 17,
        }
        .response();
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "17");
        let text = String::from_utf8_lossy(limited.body()).into_owned();
        assert!(text.contains(r#""reason":"texts_per_minute""#), "{text}");
    }
}
