//! Softphone presence for Twilio Voice: which softphones are online, and calls that ring only
//! those. Read top-down: [`domain`], [`auth`], [`twilio`], [`directory`], [`store`], [`http`],
//! [`config`]; [`lambda`] and [`server`] are the two ways the handlers are served.

pub mod app;
pub mod auth;
pub mod config;
pub mod directory;
pub mod domain;
pub mod http;
pub mod lambda;
pub mod local;
pub mod routing;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod twilio;

pub use app::App;

/// Every binary (the Lambda functions, the local server, the tests) allocates through
/// mimalloc: a request is dozens of small allocations, and glibc's malloc spent a quarter of
/// the webhooks' CPU on them (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
