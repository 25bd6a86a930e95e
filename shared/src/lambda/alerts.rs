//! The `alerts` function: the table's stream (new events of the alerting kinds) to the users'
//! sleeping phones through APNs and FCM (`alerts::stream`). Its providers are made from the
//! configuration, and made again when a re-read of the secret brings a new key.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use super::Error;
use super::realtime::start;
use crate::alerts::background::log;
use crate::alerts::stream::consume;
use crate::alerts::{Providers, Sending, Sources};
use crate::clock::Clock;
use crate::config::Needs;
use crate::outbound::Outbound;
use crate::realtime::stream::StreamBatch;
use crate::secrets::Rotating;

/// What a batch leaves of the invocation's time for its answer to reach Lambda.
const MARGIN: Duration = Duration::from_secs(2);

pub async fn run_alerts() -> Result<(), Error> {
    let needs = Needs {
        alerts: true,
        ..Needs::default()
    };
    let clock = Clock::system();
    let (store, providers, style, claim_seconds) =
        start(needs, &clock, |config, secrets, store, _| {
            let providers = Rotating::new(&config, secrets.as_ref(), |config| {
                let alerts = config.alerts.as_ref()?;
                Some(Providers::new(alerts, &Outbound::new(alerts.timeout)))
            })
            .ok_or(crate::app::StartupError::Missing("the alerts settings"))?;
            let presence = &config.presence;
            Ok((
                store,
                providers,
                presence.identity_style,
                presence.event_retention_seconds,
            ))
        })
        .await?;
    if !providers.get().any() {
        tracing::warn!(
            "no alert provider is configured (APNS_KEY, FCM_SERVICE_ACCOUNT): nothing will be sent"
        );
    }
    let (store, providers) = (Arc::new(store), Arc::new(providers));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (store, providers, clock) = (store.clone(), providers.clone(), clock.clone());
        async move {
            let started = Instant::now();
            let left = Duration::from_millis(
                event
                    .context
                    .deadline
                    .saturating_sub(u64::try_from(clock.now_ms()).unwrap_or(0)),
            );
            let until = started + left.saturating_sub(MARGIN).max(Duration::from_secs(1));
            let batch: StreamBatch = match serde_json::from_value(event.payload) {
                Ok(batch) => batch,
                Err(err) => {
                    let cause = format!("not a stream batch: {err}");
                    tracing::warn!(route = "alerts", cause, "request");
                    return Ok::<_, Infallible>(serde_json::json!({"batchItemFailures": []}));
                }
            };
            let sources = Sources {
                presence: store.as_ref(),
                events: store.as_ref(),
                directory: store.as_ref(),
                messages: store.as_ref(),
                history: store.as_ref(),
            };
            let providers = providers.get();
            let sending = Sending {
                providers: &providers,
                clock: &clock,
                style,
                claim_seconds,
            };
            let (response, report) = consume(sources, &sending, &batch, until).await;
            log(&report, started.elapsed().as_micros() as f64 / 1000.0);
            Ok(serde_json::to_value(&response).unwrap_or_default())
        }
    }))
    .await
}
