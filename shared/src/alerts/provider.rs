//! The providers an alert goes through (APNs, FCM) and the retries of one alert: a provider
//! that is throttling or failing (429, 5xx, unreachable) is tried again with backoff while the
//! caller's time allows, then given up; a dead registration is reported at once.

use std::time::{Duration, Instant};

use super::alert::Push;
use super::apns::Apns;
use super::fcm::Fcm;
use super::outcome::Outcome;
use crate::clock::Clock;
use crate::config::AlertsConfig;
use crate::domain::{PushProvider, PushTarget};
use crate::outbound::Outbound;

/// What sending one alert came to, retries included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    Sent {
        attempts: u32,
    },
    Dead(String),
    /// Failed, or still failing when the time or the attempts ran out.
    GaveUp(String),
    /// The device's provider is not configured here.
    NoProvider,
}

/// Attempts per alert, and the first wait between two (doubled each time).
pub const MAX_ATTEMPTS: u32 = 4;
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// A `Retry-After` longer than this is not waited for: the alert is given up.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The configured providers, each with its own token cache.
pub struct Providers {
    apns: Option<Apns>,
    fcm: Option<Fcm>,
    /// The longest one attempt takes (`ALERTS_TIMEOUT_MS`): none starts that would end past
    /// the caller's time.
    attempt_time: Duration,
}

impl Providers {
    /// The providers `config` turns on, sending through `http`.
    pub fn new(config: &AlertsConfig, http: &Outbound) -> Self {
        Self {
            apns: config
                .apns
                .as_ref()
                .and_then(|c| Apns::new(c, http.clone())),
            fcm: config.fcm.as_ref().and_then(|c| Fcm::new(c, http.clone())),
            attempt_time: http.deadline(),
        }
    }

    /// Whether an attempt started now would end by `until`.
    pub fn time_for_an_attempt(&self, until: Instant) -> bool {
        Instant::now()
            .checked_add(self.attempt_time)
            .is_some_and(|end| end <= until)
    }

    pub fn any(&self) -> bool {
        self.apns.is_some() || self.fcm.is_some()
    }

    /// Whether alerts to `provider` can be sent.
    pub fn serves(&self, provider: PushProvider) -> bool {
        if provider.is_apns() {
            self.apns.is_some()
        } else {
            self.fcm.is_some()
        }
    }

    async fn attempt(&self, target: &PushTarget, push: &Push, now_ms: i64) -> Option<Outcome> {
        Some(match target.provider {
            PushProvider::Fcm => self.fcm.as_ref()?.send(&target.token, push, now_ms).await,
            apns => {
                let sandbox = apns == PushProvider::ApnsSandbox;
                let client = self.apns.as_ref()?;
                client.send(&target.token, sandbox, push, now_ms).await
            }
        })
    }

    /// Send `push` to `target`, retrying what is worth it until `until`.
    pub async fn deliver(
        &self,
        target: &PushTarget,
        push: &Push,
        clock: &Clock,
        until: Instant,
    ) -> Delivered {
        let mut wait = FIRST_BACKOFF;
        let mut attempts = 0;
        if !self.time_for_an_attempt(until) {
            return Delivered::GaveUp("no time left for an attempt".into());
        }
        loop {
            attempts += 1;
            let Some(outcome) = self.attempt(target, push, clock.now_ms()).await else {
                return Delivered::NoProvider;
            };
            let (after, why) = match outcome {
                Outcome::Sent => return Delivered::Sent { attempts },
                Outcome::Dead(why) => return Delivered::Dead(why),
                Outcome::Failed(why) => return Delivered::GaveUp(why),
                Outcome::Retry(after, why) => (after, why),
            };
            let pause = after.unwrap_or(wait);
            // The next attempt must end in time, after the pause: a Retry-After longer than
            // MAX_WAIT is not waited for at all.
            let in_time = pause <= MAX_WAIT
                && Instant::now()
                    .checked_add(pause + self.attempt_time)
                    .is_some_and(|end| end <= until);
            if attempts >= MAX_ATTEMPTS || !in_time {
                return Delivered::GaveUp(format!("{why} (after {attempts} attempts)"));
            }
            tokio::time::sleep(pause).await;
            wait *= 2;
        }
    }
}
