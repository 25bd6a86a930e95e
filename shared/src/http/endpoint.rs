//! What one function binary serves. Each [`Endpoint`] is built once at start-up from the
//! configuration and holds exactly what its routes use, so that what start-up proved (a
//! webhook function has its auth token, register-device its API key) is a field, not an
//! `Option` tested per request; and each binary names, and links, only its own handlers.
//! Keys made from secrets are [`Rotating`]: remade when a re-read of `SECRETS_ARN`'s secret
//! changes them. [`App`] serves every route: the local server and the tests.

use futures::future::BoxFuture;

use super::api::sms_send::{self, Sending};
use super::api::{self, Api, admin, callbacks, calls, devices, events, people, sms};
use super::routes::{
    AdminRoute, CallsRoute, EventsRoute, Handler, PeopleRoute, SmsRoute, WebhookRoute,
};
use super::{Request, Response, Route};
use crate::app::{Core, StartupError, Stores};
use crate::config::Config;
use crate::realtime::Tickets;
use crate::secrets::Rotating;
use crate::twilio::rest::TwilioRest;
use crate::twilio::token::VoiceTokenMinter;

pub trait Endpoint: Send + Sync + Sized + 'static {
    /// The routes served, as this function's handlers name them: `serve` matches them
    /// exhaustively, so a route added to the function fails to compile until it is answered.
    type Route: Copy + Send + 'static;

    /// This function's route for `handler` (a route's [`Route::handler`]), if it serves it.
    fn route(handler: Handler) -> Option<Self::Route>;

    /// Everything the routes use, from the configuration `Route::needs_of(&routes())` loaded.
    fn build(core: Core, config: &Config) -> Result<Self, StartupError>;

    /// The answer on `route`, method and size already checked.
    fn serve<'a>(&'a self, route: Self::Route, request: &'a Request) -> BoxFuture<'a, Response>;

    /// The routes served; a function serving several picks one by path.
    fn routes() -> Vec<Route> {
        Route::ALL
            .into_iter()
            .filter(|r| Self::route(r.handler()).is_some())
            .collect()
    }

    /// What to fetch during init besides the DynamoDB warm-up (and concurrently with it): an
    /// identity provider's keys. Failures are logged, never fatal.
    fn warm(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The endpoints of the function binaries.
pub mod endpoints {
    use super::*;

    /// An app function of one route whose handler needs nothing beyond [`Api`]: `|core,
    /// caller, request|` calls the handler with the stores and settings it uses.
    macro_rules! app_endpoint {
        ($(#[$doc:meta])* $name:ident: $handler:ident => |$core:ident, $caller:ident, $request:ident| $call:expr) => {
            $(#[$doc])*
            pub struct $name(pub(in crate::http) Api);

            impl Endpoint for $name {
                type Route = ();

                fn route(handler: Handler) -> Option<()> {
                    (handler == Handler::$handler).then_some(())
                }

                fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
                    Api::new(core, config).map(Self)
                }

                fn serve<'a>(&'a self, (): (), request: &'a Request) -> BoxFuture<'a, Response> {
                    let $core = &self.0.core;
                    Box::pin(api::answer(&self.0, request, move |caller| async move {
                        let ($caller, $request) = (&caller, request);
                        $call.await
                    }))
                }

                fn warm(&self) -> BoxFuture<'_, ()> {
                    Box::pin(self.0.warm())
                }
            }
        };
    }

    /// `POST /phone/voice/register-device`: the only app endpoint that mints voice tokens.
    pub struct RegisterDevice {
        api: Api,
        tokens: Rotating<VoiceTokenMinter>,
    }

    impl RegisterDevice {
        pub(in crate::http) fn with_api(api: Api, config: &Config) -> Result<Self, StartupError> {
            let ttl = api.core.settings.voice_token_ttl_seconds;
            let tokens = Rotating::new(config, api.core.secrets.as_ref(), move |config| {
                let tokens = config.voice_tokens.as_ref()?;
                Some(VoiceTokenMinter::new(tokens, ttl))
            })
            .ok_or(StartupError::Missing("voice tokens"))?;
            Ok(Self { api, tokens })
        }
    }

    impl Endpoint for RegisterDevice {
        type Route = ();

        fn route(handler: Handler) -> Option<()> {
            (handler == Handler::RegisterDevice).then_some(())
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn serve<'a>(&'a self, (): (), request: &'a Request) -> BoxFuture<'a, Response> {
            let core = &self.api.core;
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                let tokens = self.tokens.get();
                let (presence, directory) = (
                    core.stores.presence.as_ref(),
                    core.stores.directory.as_ref(),
                );
                let (settings, now_ms) = (&core.settings, core.now_ms());
                devices::register_device(
                    presence, directory, settings, now_ms, &tokens, &caller, request,
                )
                .await
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }
    }

    app_endpoint!(
        /// `POST /phone/voice/heartbeat`.
        Heartbeat: Heartbeat => |core, caller, request| devices::heartbeat(
            core.stores.presence.as_ref(), &core.settings, core.now_ms(), caller, request,
        )
    );
    app_endpoint!(
        /// `POST /phone/voice/unregister-device`.
        UnregisterDevice: UnregisterDevice => |core, caller, request| devices::unregister_device(
            core.stores.presence.as_ref(), &core.settings, core.now_ms(), caller, request,
        )
    );
    app_endpoint!(
        /// `GET /phone/voice/devices`.
        ListDevices: ListDevices => |core, caller, request| devices::list_devices(
            core.stores.presence.as_ref(), core.now_ms(), caller, request,
        )
    );
    app_endpoint!(
        /// `GET /phone/user-phones`.
        UserPhones: UserPhones => |core, caller, request| devices::user_phones(
            core.stores.directory.as_ref(), caller, request,
        )
    );

    /// The realtime channel's app routes: catch-up and connection tickets, chosen by path.
    pub struct Events {
        api: Api,
        tickets: Rotating<Tickets>,
        /// The WebSocket API's URL; none on the local server (its own address).
        url: Option<String>,
    }

    impl Events {
        pub(in crate::http) fn with_api(api: Api, config: &Config) -> Result<Self, StartupError> {
            let realtime = StartupError::require(&config.realtime, "the realtime channel")?;
            Ok(Self {
                tickets: Tickets::rotating(config, api.core.secrets.as_ref())
                    .ok_or(StartupError::Missing("the realtime channel"))?,
                url: realtime.url.clone(),
                api,
            })
        }
    }

    impl Endpoint for Events {
        type Route = EventsRoute;

        fn route(handler: Handler) -> Option<EventsRoute> {
            match handler {
                Handler::Events(route) => Some(route),
                _ => None,
            }
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }

        fn serve<'a>(
            &'a self,
            route: EventsRoute,
            request: &'a Request,
        ) -> BoxFuture<'a, Response> {
            let core = &self.api.core;
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                let (presence, now_ms) = (core.stores.presence.as_ref(), core.now_ms());
                match route {
                    EventsRoute::CatchUp => {
                        let events = core.stores.events.as_ref();
                        let settings = &core.settings;
                        events::catch_up(events, presence, settings, now_ms, &caller, request).await
                    }
                    EventsRoute::Ticket => {
                        let url = self.url.as_deref();
                        let tickets = self.tickets.get();
                        events::issue_ticket(presence, now_ms, &tickets, url, &caller, request)
                            .await
                    }
                }
            }))
        }
    }

    /// The SMS inbox's app routes, one function chosen by path.
    pub struct Sms {
        api: Api,
        /// Twilio's REST API with the API key: remade when a re-read of the secret brings a
        /// new key.
        sending: Rotating<Sending>,
    }

    impl Sms {
        pub(in crate::http) fn with_api(api: Api, config: &Config) -> Result<Self, StartupError> {
            let sending = Rotating::new(config, api.core.secrets.as_ref(), |config| {
                config.twilio_api.as_ref().map(Sending::new)
            })
            .ok_or(StartupError::Missing("Twilio's REST API"))?;
            Ok(Self { api, sending })
        }
    }

    impl Endpoint for Sms {
        type Route = SmsRoute;

        fn route(handler: Handler) -> Option<SmsRoute> {
            match handler {
                Handler::Sms(route) => Some(route),
                _ => None,
            }
        }

        /// The Lambda function: its texts' status callbacks can go only to `PUBLIC_BASE_URL`
        /// (the local server's `App` uses its own address without it).
        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            let public_base_url = config
                .twilio_api
                .as_ref()
                .map(|t| t.public_base_url.as_deref());
            callbacks::require_public_base(
                public_base_url.flatten(),
                "where Twilio posts the status of the texts this function sends",
            )?;
            Self::with_api(Api::new(core, config)?, config)
        }

        fn serve<'a>(&'a self, route: SmsRoute, request: &'a Request) -> BoxFuture<'a, Response> {
            let core = &self.api.core;
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                let (messages, directory) = (
                    core.stores.messages.as_ref(),
                    core.stores.directory.as_ref(),
                );
                let caller = &caller;
                match route {
                    SmsRoute::Conversations => {
                        sms::conversations(messages, directory, caller, request).await
                    }
                    SmsRoute::Messages => sms::messages(messages, directory, caller, request).await,
                    SmsRoute::Read => {
                        sms::read(messages, directory, core.now_ms(), caller, request).await
                    }
                    SmsRoute::Media => {
                        let rest = &self.sending.get().rest;
                        let now_ms = core.now_ms();
                        sms::media(messages, directory, now_ms, rest, caller, request).await
                    }
                    SmsRoute::Send => {
                        let (settings, now_ms) = (&core.settings, core.now_ms());
                        let sending = &self.sending.get();
                        sms_send::send(
                            messages, directory, settings, now_ms, sending, caller, request,
                        )
                        .await
                    }
                }
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }
    }

    /// The call history's app routes, one function chosen by path.
    pub struct Calls {
        api: Api,
        /// Twilio's REST API with the API key, for recordings: remade when a re-read of the
        /// secret brings a new key.
        rest: Rotating<TwilioRest>,
    }

    impl Calls {
        pub(in crate::http) fn with_api(api: Api, config: &Config) -> Result<Self, StartupError> {
            let rest = TwilioRest::rotating(config, api.core.secrets.as_ref())
                .ok_or(StartupError::Missing("Twilio's REST API"))?;
            Ok(Self { api, rest })
        }
    }

    impl Endpoint for Calls {
        type Route = CallsRoute;

        fn route(handler: Handler) -> Option<CallsRoute> {
            match handler {
                Handler::Calls(route) => Some(route),
                _ => None,
            }
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn serve<'a>(&'a self, route: CallsRoute, request: &'a Request) -> BoxFuture<'a, Response> {
            let core = &self.api.core;
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                let (history, now_ms, caller) =
                    (core.stores.history.as_ref(), core.now_ms(), &caller);
                match route {
                    CallsRoute::History => calls::history(history, now_ms, caller, request).await,
                    CallsRoute::Seen => calls::seen(history, now_ms, caller, request).await,
                    CallsRoute::Voicemail => {
                        let (directory, rest) = (core.stores.directory.as_ref(), &self.rest.get());
                        calls::voicemail(history, directory, now_ms, rest, caller, request).await
                    }
                }
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }
    }

    /// People presence's app routes, one function chosen by path.
    pub struct People(pub(in crate::http) Api);

    impl Endpoint for People {
        type Route = PeopleRoute;

        fn route(handler: Handler) -> Option<PeopleRoute> {
            match handler {
                Handler::People(route) => Some(route),
                _ => None,
            }
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Api::new(core, config).map(Self)
        }

        fn serve<'a>(
            &'a self,
            route: PeopleRoute,
            request: &'a Request,
        ) -> BoxFuture<'a, Response> {
            let core = &self.0.core;
            Box::pin(api::answer(&self.0, request, move |caller| async move {
                let (presence, directory) = (
                    core.stores.presence.as_ref(),
                    core.stores.directory.as_ref(),
                );
                let (now_ms, caller) = (core.now_ms(), &caller);
                match route {
                    PeopleRoute::Status => {
                        people::status(presence, directory, now_ms, caller, request).await
                    }
                    PeopleRoute::Team => {
                        let style = core.settings.identity_style;
                        people::team(presence, directory, style, now_ms, caller, request).await
                    }
                }
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.0.warm())
        }
    }

    /// The admin API, one function chosen by path.
    pub struct Admin(pub(in crate::http) Api);

    impl Endpoint for Admin {
        type Route = AdminRoute;

        fn route(handler: Handler) -> Option<AdminRoute> {
            match handler {
                Handler::Admin(route) => Some(route),
                _ => None,
            }
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Api::new(core, config).map(Self)
        }

        fn serve<'a>(&'a self, route: AdminRoute, request: &'a Request) -> BoxFuture<'a, Response> {
            let core = &self.0.core;
            Box::pin(api::answer(&self.0, request, move |caller| async move {
                let ctx = admin::AdminContext {
                    directory: core.stores.directory.as_ref(),
                    caller: &caller,
                    now_ms: core.now_ms(),
                    style: core.settings.identity_style,
                    audit_retention_days: core.settings.audit_retention_days,
                };
                admin::admin(&ctx, route, request).await
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.0.warm())
        }
    }

    /// Twilio's webhooks (voice and SMS), one function chosen by path.
    pub use crate::http::webhooks::Webhooks;

    impl Endpoint for Webhooks {
        type Route = WebhookRoute;

        fn route(handler: Handler) -> Option<WebhookRoute> {
            match handler {
                Handler::Webhook(route) => Some(route),
                _ => None,
            }
        }

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Webhooks::new(core, config)
        }

        fn serve<'a>(
            &'a self,
            route: WebhookRoute,
            request: &'a Request,
        ) -> BoxFuture<'a, Response> {
            Box::pin(self.dispatch(route, request))
        }
    }
}

use endpoints::{
    Admin, Calls, Events, Heartbeat, ListDevices, People, RegisterDevice, Sms, UnregisterDevice,
    UserPhones, Webhooks,
};

/// Every route: the function binaries' endpoints side by side, for the local server and the
/// tests. It needs every section of the configuration.
pub struct App {
    core: Core,
    register_device: RegisterDevice,
    heartbeat: Heartbeat,
    unregister_device: UnregisterDevice,
    list_devices: ListDevices,
    user_phones: UserPhones,
    events: Events,
    sms: Sms,
    calls: Calls,
    people: People,
    admin: Admin,
    webhooks: Webhooks,
}

impl App {
    /// Every endpoint over `stores`, as `config` configures them.
    pub fn new(config: &Config, stores: Stores) -> Result<Self, StartupError> {
        Self::build(Core::new(config.presence.clone(), stores), config)
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }
}

impl Endpoint for App {
    type Route = Handler;

    fn route(handler: Handler) -> Option<Handler> {
        Some(handler)
    }

    fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
        // One verifier for every app endpoint: one key set to fetch and keep.
        let api = Api::new(core.clone(), config)?;
        Ok(Self {
            register_device: RegisterDevice::with_api(api.clone(), config)?,
            heartbeat: Heartbeat(api.clone()),
            unregister_device: UnregisterDevice(api.clone()),
            list_devices: ListDevices(api.clone()),
            user_phones: UserPhones(api.clone()),
            events: Events::with_api(api.clone(), config)?,
            sms: Sms::with_api(api.clone(), config)?,
            people: People(api.clone()),
            admin: Admin(api.clone()),
            calls: Calls::with_api(api, config)?,
            webhooks: Webhooks::build(core.clone(), config)?,
            core,
        })
    }

    fn warm(&self) -> BoxFuture<'_, ()> {
        self.heartbeat.warm()
    }

    fn serve<'a>(&'a self, route: Handler, request: &'a Request) -> BoxFuture<'a, Response> {
        match route {
            Handler::RegisterDevice => self.register_device.serve((), request),
            Handler::Heartbeat => self.heartbeat.serve((), request),
            Handler::UnregisterDevice => self.unregister_device.serve((), request),
            Handler::ListDevices => self.list_devices.serve((), request),
            Handler::UserPhones => self.user_phones.serve((), request),
            Handler::Events(route) => self.events.serve(route, request),
            Handler::Sms(route) => self.sms.serve(route, request),
            Handler::Calls(route) => self.calls.serve(route, request),
            Handler::People(route) => self.people.serve(route, request),
            Handler::Admin(route) => self.admin.serve(route, request),
            Handler::Webhook(route) => self.webhooks.serve(route, request),
        }
    }
}
