//! End-to-end tests: the real handlers over HTTP, on the memory store and on a real
//! DynamoDB-protocol server (moto, started by `scripts/test`). One binary for all of them.

mod auth;
mod binary;
mod call_history;
mod call_state;
mod contract;
mod errors;
mod events;
mod fake_twilio;
mod fallback;
mod fault_proxy;
mod faults;
mod helpers;
mod idp;
mod jwks;
mod operator;
mod outbound_guards;
mod outgoing;
mod presence;
mod push_presence;
mod realtime;
mod realtime_aws;
mod round_trips;
mod secrets;
mod security;
mod sign_out;
mod sms;
mod sms_reconcile;
mod sms_send;
mod store_contract;
mod template;
mod voice_token;
mod webhooks;
