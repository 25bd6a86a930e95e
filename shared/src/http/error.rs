//! Every HTTP refusal the service makes (app routes, webhooks, the local server's pages) and its
//! one mapping to a status code, a JSON error body and the request's log line.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::{LogNote, Response, json_response};
use crate::auth::AuthError;
use crate::destinations::Refusal;
use crate::domain::FieldError;
use crate::store::StoreError;
use crate::store::rates::RateKind;

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
    /// Authenticated and well-formed, but refused for a reason with its own code
    /// (`phone_not_assigned`, `destination_refused` (Twilio cannot reach it): 403; `recipient_opted_out`,
    /// `send_in_progress`: 409; `twilio_refused`: 400).
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
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
    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            status,
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
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidField(_) => "invalid_field",
            Self::MalformedBody(_) => "malformed_body",
            Self::Unauthorized(_) => "unauthorized",
            Self::NotFound(_) => "not_found",
            Self::DeviceNotRegistered => "device_not_registered",
            Self::DeviceSignedOut => "device_signed_out",
            Self::CursorExpired => "cursor_expired",
            Self::Forbidden(_) => "forbidden",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Store(StoreError::Unavailable(_)) => "store_unavailable",
            Self::Store(StoreError::Internal(_)) | Self::Internal(_) => "internal_error",
            Self::MissingSignature => "missing_signature",
            Self::InvalidSignature => "invalid_signature",
            Self::WrongAccount => "wrong_account",
            Self::WrongApplication(_) => "wrong_application",
            Self::Refused { code, .. } => code,
            Self::DestinationNotAllowed(_) => "destination_not_allowed",
            Self::RateLimited { .. } => "rate_limited",
            Self::TwilioUnavailable { .. } => "twilio_unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidField(_) | Self::MalformedBody(_) | Self::MissingSignature => {
                StatusCode::BAD_REQUEST
            }
            Self::InvalidSignature
            | Self::WrongAccount
            | Self::WrongApplication(_)
            | Self::Forbidden(_)
            | Self::DestinationNotAllowed(_) => StatusCode::FORBIDDEN,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) | Self::DeviceNotRegistered => StatusCode::NOT_FOUND,
            Self::DeviceSignedOut | Self::CursorExpired => StatusCode::GONE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Store(StoreError::Internal(_)) | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Refused { status, .. } => *status,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TwilioUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
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
                code: self.code(),
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
            outcome: Some(self.code()),
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
