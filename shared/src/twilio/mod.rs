//! Twilio protocol pieces: voice access tokens, webhook signatures, TwiML.

pub mod rest;
pub mod signature;
pub mod token;
pub mod twiml;
