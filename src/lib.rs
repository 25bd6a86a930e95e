//! The local server: every endpoint the Lambda functions serve, plus what only a developer's
//! machine has (the settings page, development sign-in, the realtime channel's WebSocket),
//! over the memory store or a DynamoDB table. `main.rs` is its command line; the end-to-end
//! tests start it through [`local_app`] and [`local_routes`].

pub mod local_pages;
pub mod realtime;

use std::sync::Arc;

use shared::App;
use shared::alerts::Providers;
use shared::alerts::background::{Background, Fanout};
use shared::app::{Core, StartupError, Stores};
use shared::clock::Clock;
use shared::config::Config;
use shared::http::Endpoint;
use shared::outbound::Outbound;
use shared::realtime::Tickets;
use shared::secrets::Secrets;
use shared::server::LocalRoutes;
use shared::store::EventSink;
use shared::store::dynamo::DynamoStore;
use shared::store::memory::MemoryStore;

pub use realtime::Hub;

/// Where the local server keeps its state.
pub enum Backend {
    /// In memory, gone when the server stops.
    Memory,
    /// A DynamoDB table (or moto's).
    Dynamo(DynamoStore),
}

/// The app over `backend`'s stores, with the realtime hub as their event sink, so that what
/// they write reaches open connections at once, and alerts to sleeping phones as another when
/// the configuration turns a provider on. Keys made from secrets follow `secrets`' re-reads
/// (when the secrets come from `SECRETS_ARN`), but for the alert providers' keys, which are
/// made at start (docs/alerts.md). The app and the hub read `clock`.
pub fn local_app(
    config: &Config,
    backend: Backend,
    secrets: Option<Secrets>,
    clock: Clock,
) -> Result<(Arc<App>, Arc<Hub>), StartupError> {
    let alerts = config.alerts.as_ref().filter(|a| a.any()).map(|a| {
        let http = Outbound::new(a.timeout);
        let providers = Providers::new(a, &http);
        let style = config.presence.identity_style;
        Background::new(
            providers,
            clock.clone(),
            style,
            config.presence.event_retention_seconds,
        )
    });
    local_app_with(config, backend, secrets, clock, alerts)
}

/// [`local_app`] with `alerts` as the sender of alerts (a test's, whose providers trust its
/// fakes), or none.
pub fn local_app_with(
    config: &Config,
    backend: Backend,
    secrets: Option<Secrets>,
    clock: Clock,
    alerts: Option<Arc<Background>>,
) -> Result<(Arc<App>, Arc<Hub>), StartupError> {
    let tickets = Tickets::rotating(config, secrets.as_ref())
        .ok_or(StartupError::Missing("the realtime channel"))?;
    let hub = Hub::new(tickets, config.presence.socket, clock.clone());
    let retention = config.presence.event_retention_seconds;
    let sink: Arc<dyn EventSink> = match &alerts {
        Some(alerts) => Arc::new(Fanout(vec![hub.clone(), alerts.clone()])),
        None => hub.clone(),
    };
    let stores = match backend {
        Backend::Memory => Stores::of(Arc::new(
            MemoryStore::new()
                .with_event_retention(retention)
                .with_sink(sink),
        )),
        Backend::Dynamo(store) => Stores::of(Arc::new(
            store.with_event_retention(retention).with_sink(sink),
        )),
    };
    hub.attach(
        stores.events.clone(),
        stores.presence.clone(),
        stores.directory.clone(),
    );
    if let Some(alerts) = &alerts {
        alerts.attach(stores.clone());
    }
    let core = Core {
        clock,
        ..Core::new(config.presence.clone(), stores)
    }
    .with_secrets(secrets);
    Ok((Arc::new(App::build(core, config)?), hub))
}

/// The routes only the local server has. `dev_secret`: the development JWT secret when it is
/// the one in use (only then does `/dev/*` sign in).
pub fn local_routes(
    app: Arc<App>,
    hub: Arc<Hub>,
    dev_secret: Option<String>,
) -> Arc<dyn LocalRoutes> {
    Arc::new(local_pages::LocalPages::new(app, hub, dev_secret))
}
