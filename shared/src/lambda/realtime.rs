//! The realtime channel's two functions, which API Gateway's WebSocket API and the table's
//! stream call with their own event types rather than HTTP requests: [`run_websocket`] (the
//! `realtime` function) and [`run_push`] (`realtime-push`). Both built on `lambda_runtime`,
//! so no function turns on `lambda_http`'s WebSocket support.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

use super::{Error, lambda_sdk_config, warm_up};
use crate::app::StartupError;
use crate::clock::Clock;
use crate::config::{Config, Needs};
use crate::realtime::Tickets;
use crate::realtime::websocket::Gateway;
use crate::secrets::{self, Env, Secrets};
use crate::store::dynamo::DynamoStore;

/// Logging, the configuration for `needs` (from the environment and `SECRETS_ARN`'s secret,
/// re-read on `clock`) and the table's store, handed to `build` for what the function serves,
/// while the DynamoDB connection is warmed up; a failure is logged before the runtime reports
/// it.
pub(super) async fn start<T>(
    needs: Needs,
    clock: &Clock,
    build: impl FnOnce(
        Config,
        Option<Secrets>,
        DynamoStore,
        &aws_config::SdkConfig,
    ) -> Result<T, StartupError>,
) -> Result<T, Error> {
    crate::telemetry::init(crate::telemetry::Format::Json);
    let env: Env = Arc::new(|name: &str| std::env::var(name).ok());
    let needs = Needs {
        table: true,
        ..needs
    };
    let sdk = lambda_sdk_config();
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = env("TABLE_NAME").unwrap_or_default().trim().to_owned();
    let built = async {
        let (config, secrets) =
            secrets::configure(env, needs, async { sdk.clone() }, clock).await?;
        let store = DynamoStore::new(
            client.clone(),
            config.table_name.clone().unwrap_or_default(),
        )
        .with_event_retention(config.presence.event_retention_seconds);
        build(config, secrets, store, &sdk)
    };
    let warm = async {
        warm_up(&client, &table, 1).await;
        Ok(())
    };
    let (built, ()) = tokio::try_join!(built, warm).inspect_err(|e| {
        tracing::error!(error = %e, "start-up failed");
    })?;
    Ok(built)
}

/// `$connect`, `$disconnect` and `$default` of the WebSocket API.
pub async fn run_websocket() -> Result<(), Error> {
    let needs = Needs {
        realtime: true,
        ..Needs::default()
    };
    let clock = Clock::system();
    let gateway = Arc::new(
        start(needs, &clock, |config, secrets, store, _| {
            let tickets = Tickets::rotating(&config, secrets.as_ref())
                .ok_or(StartupError::Missing("the realtime channel"))?;
            let store = Arc::new(store);
            Ok(Gateway {
                presence: store.clone(),
                directory: store.clone(),
                events: store,
                tickets,
                socket: config.presence.socket,
                clock: clock.clone(),
            })
        })
        .await?,
    );
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
            let gateway = gateway.clone();
            async move {
                let started = Instant::now();
                let route = event.payload.request_context.route_key.clone();
                let (response, outcome) = gateway.handle(&event.payload).await;
                let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
                let route = route.as_deref().unwrap_or("$default");
                let cause = outcome.cause.as_deref();
                tracing::info!(
                    route,
                    status = outcome.status,
                    outcome = outcome.what,
                    cause,
                    latency_ms,
                    "request"
                );
                Ok::<_, Infallible>(response)
            }
        },
    ))
    .await
}

/// The table's stream: new events to their users' connections; and, on its schedule, the team
/// presence sweep (who went offline without a word: `realtime::team::sweep`). One function
/// for both, since both post to the same connections with the same grants.
#[cfg(feature = "push")]
pub async fn run_push() -> Result<(), Error> {
    use crate::realtime::gateway::ConnectionsApi;
    use crate::realtime::stream::{StreamBatch, consume};
    use crate::realtime::team;
    let needs = Needs {
        push: true,
        ..Needs::default()
    };
    let clock = Clock::system();
    let (store, sender) = start(needs, &clock, |config, _, store, sdk| {
        let push = StartupError::require(&config.push, "the push endpoint")?;
        Ok((store, ConnectionsApi::new(sdk, &push.management_url)))
    })
    .await?;
    let (store, sender) = (Arc::new(store), Arc::new(sender));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (store, sender, clock) = (store.clone(), sender.clone(), clock.clone());
        async move {
            let started = Instant::now();
            let now_ms = clock.now_ms();
            let stores = team::Stores {
                presence: store.as_ref(),
                directory: store.as_ref(),
                events: store.as_ref(),
            };
            if event.payload.get("Records").is_none() {
                // EventBridge's schedule: the sweep.
                let swept = team::sweep(&stores, sender.as_ref(), now_ms).await;
                let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
                return Ok::<_, Infallible>(match swept {
                    Ok(swept) => {
                        let failed = swept.delivery.failed.len() + swept.errors.len();
                        let cause = (failed > 0).then(|| {
                            let mut causes = swept.delivery.failed.clone();
                            causes.extend(swept.errors.iter().cloned());
                            causes.join("; ")
                        });
                        tracing::info!(
                            route = "team-sweep",
                            orgs = swept.orgs,
                            people = swept.people,
                            told = swept.told,
                            sent = swept.delivery.sent,
                            failed,
                            cause,
                            latency_ms,
                            "request"
                        );
                        serde_json::json!({"orgs": swept.orgs, "people": swept.people,
                                           "told": swept.told, "sent": swept.delivery.sent})
                    }
                    Err(err) => {
                        let cause = err.to_string();
                        tracing::warn!(route = "team-sweep", cause, latency_ms, "request");
                        serde_json::json!({"error": cause})
                    }
                });
            }
            let batch: StreamBatch = match serde_json::from_value(event.payload) {
                Ok(batch) => batch,
                Err(err) => {
                    let cause = format!("not a stream batch: {err}");
                    tracing::warn!(route = "realtime-push", cause, "request");
                    return Ok(serde_json::json!({"batchItemFailures": []}));
                }
            };
            let records = batch.records.len();
            let (response, summary) = consume(&stores, sender.as_ref(), &batch, now_ms).await;
            let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
            let failed = summary.delivery.failed.len();
            let cause = (failed > 0).then(|| summary.delivery.failed.join("; "));
            let retried = response.batch_item_failures.len();
            let (events, sent, gone) =
                (summary.events, summary.delivery.sent, summary.delivery.gone);
            // One line per batch; tracing's level is part of the call site, hence two sites.
            macro_rules! log_batch {
                ($level:ident) => {
                    tracing::$level!(
                        route = "realtime-push",
                        records,
                        events,
                        sent,
                        gone,
                        failed,
                        retried,
                        cause,
                        latency_ms,
                        "request"
                    )
                };
            }
            if failed > 0 {
                log_batch!(warn);
            } else {
                log_batch!(info);
            }
            Ok(serde_json::to_value(&response).unwrap_or_default())
        }
    }))
    .await
}
