//! Every HTTP header name the service reads or writes, from one place: the standard ones as
//! the `http` crate names them, and the two it lacks. No code names a header by a string.

pub use http::header::*;

/// Twilio's signature of a webhook (and of the recording reports passed on to a directory).
pub const TWILIO_SIGNATURE: HeaderName = HeaderName::from_static("x-twilio-signature");

/// The scheme a proxy (API Gateway, a tunnel) was reached with.
pub const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
