//! Softphone presence for Twilio Voice: which softphones are online, and calls that ring only
//! those. Read top-down: [`domain`], [`config`], [`auth`], [`twilio`], [`directory`],
//! [`store`], [`routing`], [`http`]; [`lambda`] and [`server`] are the two ways the handlers
//! are served. docs/architecture.md maps the modules and how a request crosses them.

pub mod alerts;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod destinations;
pub mod directory;
pub mod domain;
pub mod events;
pub mod headers;
pub mod history;
pub mod http;
pub mod inbox;
pub mod lambda;
#[cfg(any(test, feature = "local"))]
pub mod local;
pub mod outbound;
pub mod people;
pub mod realtime;
pub mod routing;
pub mod secrets;
pub mod server;
pub mod sms;
pub mod store;
pub mod telemetry;
pub mod twilio;

pub use http::App;

/// Every binary (the Lambda functions, the local server, the tests) allocates through
/// mimalloc: a request is dozens of small allocations, and glibc's malloc spent a quarter of
/// the webhooks' CPU on them (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
