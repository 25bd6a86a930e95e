//! What one function binary serves. Each [`Endpoint`] is built once at start-up from the
//! configuration and holds exactly what its routes use, so that what start-up proved (a
//! webhook function has its auth token, register-device its API key) is a field, not an
//! `Option` tested per request; and each binary names, and links, only its own handlers.
//! Keys made from secrets are [`Rotating`]: remade when a re-read of `SECRETS_ARN`'s secret
//! changes them. [`App`] serves every route: the local server and the tests.

use futures::future::BoxFuture;

use super::api::sms_send::{self, Sending};
use super::api::{self, Api, callbacks, calls, devices, events, sms};
use super::webhooks::Webhooks;
use super::{Request, Response, Route};
use crate::app::{Core, StartupError, Stores};
use crate::config::Config;
use crate::realtime::Tickets;
use crate::secrets::Rotating;
use crate::twilio::rest::TwilioRest;
use crate::twilio::token::VoiceTokenMinter;

pub trait Endpoint: Send + Sync + Sized + 'static {
    /// The routes served; a function serving several picks one by path.
    const ROUTES: &'static [Route];

    /// Everything the routes use, from the configuration `Route::needs_of(ROUTES)` loaded.
    fn build(core: Core, config: &Config) -> Result<Self, StartupError>;

    /// The answer on `route` (one of [`Self::ROUTES`]), method and size already checked.
    fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response>;

    /// What to fetch during init besides the DynamoDB warm-up (and concurrently with it): an
    /// identity provider's keys. Failures are logged, never fatal.
    fn warm(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// The endpoints of the function binaries.
pub mod endpoints {
    use super::*;

    /// An app endpoint whose handler needs nothing beyond [`Api`].
    macro_rules! app_endpoint {
        ($(#[$doc:meta])* $name:ident: $route:ident => $handler:path) => {
            $(#[$doc])*
            pub struct $name(pub(in crate::http) Api);

            impl Endpoint for $name {
                const ROUTES: &'static [Route] = &[Route::$route];

                fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
                    Api::new(core, config).map(Self)
                }

                fn serve<'a>(&'a self, _: Route, request: &'a Request) -> BoxFuture<'a, Response> {
                    Box::pin(api::answer(&self.0, request, move |caller| async move {
                        $handler(&self.0, &caller, request).await
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
        const ROUTES: &'static [Route] = &[Route::RegisterDevice];

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn serve<'a>(&'a self, _: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                let tokens = self.tokens.get();
                devices::register_device(&self.api, &tokens, &caller, request).await
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }
    }

    app_endpoint!(
        /// `POST /phone/voice/heartbeat`.
        Heartbeat: Heartbeat => devices::heartbeat
    );
    app_endpoint!(
        /// `POST /phone/voice/unregister-device`.
        UnregisterDevice: UnregisterDevice => devices::unregister_device
    );
    app_endpoint!(
        /// `GET /phone/voice/devices`.
        ListDevices: ListDevices => devices::list_devices
    );
    app_endpoint!(
        /// `GET /phone/user-phones`.
        UserPhones: UserPhones => devices::user_phones
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
        const ROUTES: &'static [Route] = &[Route::Events, Route::EventsTicket];

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                if route == Route::Events {
                    events::catch_up(api, &caller, request).await
                } else {
                    let url = self.url.as_deref();
                    let tickets = self.tickets.get();
                    events::issue_ticket(api, &tickets, url, &caller, request).await
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
        const ROUTES: &'static [Route] = &Route::SMS;

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

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                match route {
                    Route::SmsConversations => sms::conversations(api, &caller, request).await,
                    Route::SmsMessages => sms::messages(api, &caller, request).await,
                    Route::SmsRead => sms::read(api, &caller, request).await,
                    Route::SmsMedia => {
                        let sending = self.sending.get();
                        sms::media(api, &sending.rest, &caller, request).await
                    }
                    _ => sms_send::send(api, &self.sending.get(), &caller, request).await,
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
        const ROUTES: &'static [Route] = &Route::CALLS;

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Self::with_api(Api::new(core, config)?, config)
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                match route {
                    Route::CallHistory => calls::history(api, &caller, request).await,
                    Route::CallsSeen => calls::seen(api, &caller, request).await,
                    _ => calls::voicemail(api, &self.rest.get(), &caller, request).await,
                }
            }))
        }

        fn warm(&self) -> BoxFuture<'_, ()> {
            Box::pin(self.api.warm())
        }
    }

    /// Twilio's webhooks (voice and SMS), one function chosen by path.
    pub struct VoiceWebhooks(pub Webhooks);

    impl Endpoint for VoiceWebhooks {
        const ROUTES: &'static [Route] = &Route::WEBHOOKS;

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            Webhooks::new(core, config).map(Self)
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            Box::pin(self.0.dispatch(route, request))
        }
    }
}

use endpoints::{
    Calls, Events, Heartbeat, ListDevices, RegisterDevice, Sms, UnregisterDevice, UserPhones,
    VoiceWebhooks,
};

/// Every route: the function binaries' endpoints side by side, for the local server and the
/// tests. It needs every section of the configuration.
pub struct App {
    register_device: RegisterDevice,
    heartbeat: Heartbeat,
    unregister_device: UnregisterDevice,
    list_devices: ListDevices,
    user_phones: UserPhones,
    events: Events,
    sms: Sms,
    calls: Calls,
    webhooks: VoiceWebhooks,
}

impl App {
    /// Every endpoint over `presence` and `directory`, as `config` configures them.
    pub fn new(config: &Config, stores: Stores) -> Result<Self, StartupError> {
        Self::build(Core::new(config.presence, stores), config)
    }

    pub fn core(&self) -> &Core {
        &self.webhooks.0.core
    }

    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks.0
    }
}

impl Endpoint for App {
    const ROUTES: &'static [Route] = &Route::ALL;

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
            calls: Calls::with_api(api, config)?,
            webhooks: VoiceWebhooks::build(core, config)?,
        })
    }

    fn warm(&self) -> BoxFuture<'_, ()> {
        self.heartbeat.warm()
    }

    fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
        match route {
            Route::RegisterDevice => self.register_device.serve(route, request),
            Route::Heartbeat => self.heartbeat.serve(route, request),
            Route::UnregisterDevice => self.unregister_device.serve(route, request),
            Route::ListDevices => self.list_devices.serve(route, request),
            Route::UserPhones => self.user_phones.serve(route, request),
            Route::Events | Route::EventsTicket => self.events.serve(route, request),
            Route::SmsConversations
            | Route::SmsMessages
            | Route::SmsRead
            | Route::SmsMedia
            | Route::SmsSend => self.sms.serve(route, request),
            Route::CallHistory | Route::CallsSeen | Route::Voicemail => {
                self.calls.serve(route, request)
            }
            Route::VoiceIncoming
            | Route::DialStatus
            | Route::VoiceOutgoing
            | Route::CallStatus
            | Route::VoiceFallback
            | Route::RecordingStatus
            | Route::SmsIncoming
            | Route::SmsStatus
            | Route::SmsFallback => self.webhooks.serve(route, request),
        }
    }
}
