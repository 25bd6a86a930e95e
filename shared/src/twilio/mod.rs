//! Twilio protocol pieces: voice access tokens, webhook signatures, TwiML, and the REST API
//! calls the SMS inbox makes (`rest`, with the answers it reads in `resources`).

pub mod resources;
pub mod rest;
pub mod signature;
pub mod token;
pub mod twiml;
