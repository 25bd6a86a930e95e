//! Twilio protocol pieces: voice access tokens.

pub mod token;
