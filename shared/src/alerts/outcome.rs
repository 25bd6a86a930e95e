//! What one request to a push provider came to, as APNs and FCM each read their answers.

use std::time::Duration;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The registration is gone (uninstalled app, stale or foreign token): forget it.
    Dead(String),
    /// Worth another try, after the provider's `Retry-After` if it gave one.
    Retry(Option<Duration>, String),
    /// Not worth another try (a refused payload, a bad key): logged.
    Failed(String),
}

/// `Retry-After` in seconds (the HTTP-date form is not used by either provider).
pub(super) fn retry_after(header: Option<&str>) -> Option<Duration> {
    header
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
