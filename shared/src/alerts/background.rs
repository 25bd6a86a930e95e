//! The local server's sender of alerts: an [`EventSink`] that hands each batch of a user's
//! alerting events to that user's own task, so no request waits on APNs or FCM, a provider
//! that is down delays only the alerts behind it, and one user's alerts go in the order their
//! events were written (a voicemail's alert after its missed call's, as the stream keeps them
//! on AWS, where the `alerts` function sends them: `lambda::alerts`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::mpsc::error::TrySendError;

use super::dispatch::{Report, Sending, Sources, alert_user, alerts_on};
use super::provider::Providers;
use crate::app::Stores;
use crate::clock::Clock;
use crate::domain::IdentityStyle;
use crate::events::Event;
use crate::store::{EventSink, PresenceKey};

/// How long one batch may keep retrying a provider.
pub const BATCH_BUDGET: Duration = Duration::from_secs(30);
/// Batches one user may have waiting for a provider that is slow or down.
const QUEUED_BATCHES: usize = 64;

pub struct Background {
    providers: Arc<Providers>,
    clock: Clock,
    style: IdentityStyle,
    claim_seconds: u32,
    stores: OnceLock<Stores>,
    /// Told each batch's report (tests wait on it); logged in any case.
    reports: Option<tokio::sync::mpsc::UnboundedSender<Report>>,
    /// Each user's queue of batches, and the task that sends them in turn.
    queues: Mutex<HashMap<PresenceKey, tokio::sync::mpsc::Sender<Vec<Event>>>>,
}

impl Background {
    pub fn new(
        providers: Providers,
        clock: Clock,
        style: IdentityStyle,
        claim_seconds: u32,
    ) -> Arc<Self> {
        Arc::new(Self::with_reports(
            providers,
            clock,
            style,
            claim_seconds,
            None,
        ))
    }

    /// As [`Self::new`], telling each batch's report on the channel returned.
    pub fn reporting(
        providers: Providers,
        clock: Clock,
        style: IdentityStyle,
        claim_seconds: u32,
    ) -> (Arc<Self>, tokio::sync::mpsc::UnboundedReceiver<Report>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let background = Self::with_reports(providers, clock, style, claim_seconds, Some(tx));
        (Arc::new(background), rx)
    }

    fn with_reports(
        providers: Providers,
        clock: Clock,
        style: IdentityStyle,
        claim_seconds: u32,
        reports: Option<tokio::sync::mpsc::UnboundedSender<Report>>,
    ) -> Self {
        Self {
            providers: Arc::new(providers),
            clock,
            style,
            claim_seconds,
            stores: OnceLock::new(),
            reports,
            queues: Mutex::default(),
        }
    }

    /// The stores it reads, once they exist (they hold this sink).
    pub fn attach(&self, stores: Stores) {
        let _ = self.stores.set(stores);
    }
}

impl Background {
    /// The task that sends `user`'s batches one after another, as they come.
    fn worker(&self, stores: Stores, user: PresenceKey) -> tokio::sync::mpsc::Sender<Vec<Event>> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Event>>(QUEUED_BATCHES);
        let (providers, clock, style, claim_seconds) = (
            self.providers.clone(),
            self.clock.clone(),
            self.style,
            self.claim_seconds,
        );
        let reports = self.reports.clone();
        tokio::spawn(async move {
            while let Some(events) = rx.recv().await {
                let started = Instant::now();
                let sources = Sources {
                    presence: stores.presence.as_ref(),
                    events: stores.events.as_ref(),
                    directory: stores.directory.as_ref(),
                    messages: stores.messages.as_ref(),
                    history: stores.history.as_ref(),
                };
                let sending = Sending {
                    providers: &providers,
                    clock: &clock,
                    style,
                    claim_seconds,
                };
                let until = started + BATCH_BUDGET;
                let outcome = alert_user(sources, &sending, &user, &events, until).await;
                let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
                match outcome {
                    Ok(report) => {
                        log(&report, latency_ms);
                        if let Some(reports) = &reports {
                            let _ = reports.send(report);
                        }
                    }
                    Err(err) => {
                        let cause = err.to_string();
                        tracing::warn!(route = "alerts", cause, latency_ms, "request");
                    }
                }
            }
        });
        tx
    }
}

#[async_trait]
impl EventSink for Background {
    async fn published(&self, user: &PresenceKey, events: &[Event]) {
        if !events.iter().any(|e| alerts_on(e.kind)) || !self.providers.any() {
            return;
        }
        let Some(stores) = self.stores.get() else {
            return;
        };
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let queue = queues
            .entry(user.clone())
            .or_insert_with(|| self.worker(stores.clone(), user.clone()));
        match queue.try_send(events.to_vec()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                // A provider has been down for a while: alerts this late are no use, and the
                // events are in the user's log for the app to catch up.
                let cause = "alerts of a user queued past the limit: these are not sent";
                tracing::warn!(route = "alerts", events = events.len(), cause, "request");
            }
            Err(TrySendError::Closed(returned)) => {
                // Its task has ended (the runtime is stopping): a new one takes the batch.
                let queue = self.worker(stores.clone(), user.clone());
                let _ = queue.try_send(returned);
                queues.insert(user.clone(), queue);
            }
        }
    }
}

/// One line per batch: what was sent, and why anything was given up.
pub fn log(report: &Report, latency_ms: f64) {
    let failed = report.gave_up.len() + report.deferred;
    let cause = (failed > 0).then(|| report.gave_up.join("; "));
    let (events, sent, repeated, dead, no_provider, deferred) = (
        report.events,
        report.sent,
        report.repeated,
        report.dead,
        report.no_provider,
        report.deferred,
    );
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                route = "alerts",
                events,
                sent,
                repeated,
                dead,
                no_provider,
                deferred,
                failed,
                cause,
                latency_ms,
                "request"
            )
        };
    }
    if failed > 0 {
        line!(warn);
    } else {
        line!(info);
    }
}

/// Several sinks as one: the local server hands events to its realtime hub and to alerts.
pub struct Fanout(pub Vec<Arc<dyn EventSink>>);

#[async_trait]
impl EventSink for Fanout {
    async fn published(&self, user: &PresenceKey, events: &[Event]) {
        for sink in &self.0 {
            sink.published(user, events).await;
        }
    }
}
