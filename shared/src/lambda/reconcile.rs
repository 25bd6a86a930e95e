//! The `sms-reconcile` function: on a schedule, store the inbound texts Twilio has that the
//! webhooks missed (`crate::inbox::reconcile`). It lists from the start of yesterday (GMT), so
//! every run overlaps the last and a text missed just before midnight is still found.

use std::time::Instant;

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
use serde_json::{Value, json};

use super::Error;
use super::realtime::start;
use crate::app::StartupError;
use crate::clock::Clock;
use crate::config::Needs;
use crate::domain::IdentityStyle;
use crate::domain::dates::day_of;
use crate::inbox::reconcile::reconcile;
use crate::store::{DirectoryStore, MessageStore};
use crate::twilio::rest::TwilioRest;

const DAY_MS: i64 = 86_400_000;

pub async fn run_reconcile() -> Result<(), Error> {
    let needs = Needs {
        twilio_api: true,
        ..Needs::default()
    };
    let clock = Clock::system();
    let (store, rest, style) = start(needs, &clock, |config, secrets, store, _| {
        // The API key is remade when a re-read of the secret brings a new one.
        let rest = TwilioRest::rotating(&config, secrets.as_ref())
            .ok_or(StartupError::Missing("Twilio's REST API"))?;
        Ok((store, rest, config.presence.identity_style))
    })
    .await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| {
        let (store, rest, now_ms) = (store.clone(), rest.get(), clock.now_ms());
        async move { reconcile_scheduled(&store, &store, &rest, style, now_ms).await }
    }))
    .await
}

/// One scheduled run (whatever the schedule's event says): from the start of yesterday (GMT),
/// logged as one line; an error is the invocation's, so Lambda counts it.
pub async fn reconcile_scheduled(
    directory: &dyn DirectoryStore,
    messages: &dyn MessageStore,
    rest: &TwilioRest,
    style: IdentityStyle,
    now_ms: i64,
) -> Result<Value, Error> {
    let started = Instant::now();
    let since = day_of(now_ms - DAY_MS);
    let outcome = reconcile(directory, messages, rest, style, &since, now_ms).await;
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    match outcome {
        Ok(report) => {
            let failed = report.failed.len();
            tracing::info!(
                route = "sms-reconcile",
                since = since.as_str(),
                numbers = report.numbers,
                listed = report.listed,
                recovered = report.recovered,
                failed,
                latency_ms,
                "request"
            );
            Ok(json!({
                "since": since,
                "numbers": report.numbers,
                "listed": report.listed,
                "recovered": report.recovered,
                "failed": report.failed,
            }))
        }
        Err(e) => {
            tracing::warn!(route = "sms-reconcile", cause = %e, latency_ms, "request");
            Err(Error::from(e.to_string()))
        }
    }
}
