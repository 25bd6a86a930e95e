//! What one function binary serves. Each [`Endpoint`] is built once at start-up from the
//! configuration and holds exactly what its routes use, so that what start-up proved (a
//! webhook function has its auth token, register-device its API key) is a field, not an
//! `Option` tested per request; and each binary names, and links, only its own handlers.
//! [`App`] serves every route: the local server and the tests.

use futures::future::BoxFuture;

use super::api::sms_send::{self, Sending};
use super::api::{self, Api, calls, devices, events, sms};
use super::webhooks::Webhooks;
use super::{Request, Response, Route};
use crate::app::{Core, StartupError, Stores};
use crate::config::Config;
use crate::realtime::Tickets;
use crate::twilio::rest::TwilioRest;
use crate::twilio::token::VoiceTokenMinter;

pub trait Endpoint: Send + Sync + Sized + 'static {
    /// The routes served; a function serving several picks one by path.
    const ROUTES: &'static [Route];

    /// Everything the routes use, from the configuration `Route::needs_of(ROUTES)` loaded.
    fn build(core: Core, config: &Config) -> Result<Self, StartupError>;

    /// The answer on `route` (one of [`Self::ROUTES`]), method and size already checked.
    fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response>;
}

/// The endpoints of the function binaries.
pub mod endpoints {
    use super::*;

    /// An app endpoint whose handler needs nothing beyond [`Api`].
    macro_rules! app_endpoint {
        ($(#[$doc:meta])* $name:ident: $route:ident => $handler:path) => {
            $(#[$doc])*
            pub struct $name(Api);

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
            }
        };
    }

    /// `POST /phone/voice/register-device`: the only app endpoint that mints voice tokens.
    pub struct RegisterDevice {
        api: Api,
        tokens: VoiceTokenMinter,
    }

    impl Endpoint for RegisterDevice {
        const ROUTES: &'static [Route] = &[Route::RegisterDevice];

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            let tokens = StartupError::require(&config.voice_tokens, "voice tokens")?;
            let tokens = VoiceTokenMinter::new(tokens, core.settings.voice_token_ttl_seconds);
            Ok(Self {
                api: Api::new(core, config)?,
                tokens,
            })
        }

        fn serve<'a>(&'a self, _: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            Box::pin(api::answer(&self.api, request, move |caller| async move {
                devices::register_device(&self.api, &self.tokens, &caller, request).await
            }))
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
        tickets: Tickets,
        /// The WebSocket API's URL; none on the local server (its own address).
        url: Option<String>,
    }

    impl Endpoint for Events {
        const ROUTES: &'static [Route] = &[Route::Events, Route::EventsTicket];

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            let realtime = StartupError::require(&config.realtime, "the realtime channel")?;
            Ok(Self {
                tickets: Tickets::new(&realtime.ticket_secret),
                url: realtime.url.clone(),
                api: Api::new(core, config)?,
            })
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                if route == Route::Events {
                    events::catch_up(api, &caller, request).await
                } else {
                    let url = self.url.as_deref();
                    events::issue_ticket(api, &self.tickets, url, &caller, request).await
                }
            }))
        }
    }

    /// The SMS inbox's app routes, one function chosen by path.
    pub struct Sms {
        api: Api,
        sending: Sending,
    }

    impl Endpoint for Sms {
        const ROUTES: &'static [Route] = &Route::SMS;

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            let twilio = StartupError::require(&config.twilio_api, "Twilio's REST API")?;
            Ok(Self {
                sending: Sending::new(twilio),
                api: Api::new(core, config)?,
            })
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                match route {
                    Route::SmsConversations => sms::conversations(api, &caller, request).await,
                    Route::SmsMessages => sms::messages(api, &caller, request).await,
                    Route::SmsRead => sms::read(api, &caller, request).await,
                    Route::SmsMedia => sms::media(api, &self.sending.rest, &caller, request).await,
                    _ => sms_send::send(api, &self.sending, &caller, request).await,
                }
            }))
        }
    }

    /// The call history's app routes, one function chosen by path.
    pub struct Calls {
        api: Api,
        rest: TwilioRest,
    }

    impl Endpoint for Calls {
        const ROUTES: &'static [Route] = &Route::CALLS;

        fn build(core: Core, config: &Config) -> Result<Self, StartupError> {
            let twilio = StartupError::require(&config.twilio_api, "Twilio's REST API")?;
            Ok(Self {
                rest: TwilioRest::new(twilio.rest.clone(), twilio.timeout),
                api: Api::new(core, config)?,
            })
        }

        fn serve<'a>(&'a self, route: Route, request: &'a Request) -> BoxFuture<'a, Response> {
            let api = &self.api;
            Box::pin(api::answer(api, request, move |caller| async move {
                match route {
                    Route::CallHistory => calls::history(api, &caller, request).await,
                    Route::CallsSeen => calls::seen(api, &caller, request).await,
                    _ => calls::voicemail(api, &self.rest, &caller, request).await,
                }
            }))
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
        Ok(Self {
            register_device: RegisterDevice::build(core.clone(), config)?,
            heartbeat: Heartbeat::build(core.clone(), config)?,
            unregister_device: UnregisterDevice::build(core.clone(), config)?,
            list_devices: ListDevices::build(core.clone(), config)?,
            user_phones: UserPhones::build(core.clone(), config)?,
            events: Events::build(core.clone(), config)?,
            sms: Sms::build(core.clone(), config)?,
            calls: Calls::build(core.clone(), config)?,
            webhooks: VoiceWebhooks::build(core, config)?,
        })
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
