//! End-to-end tests: the real handlers over HTTP, on the memory store and on a real
//! DynamoDB-protocol server (moto, started by `scripts/test`). One binary for all of them.

mod auth;
mod binary;
mod contract;
mod errors;
mod events;
mod fault_proxy;
mod faults;
mod helpers;
mod operator;
mod presence;
mod security;
mod store_contract;
mod voice_token;
mod webhooks;
