//! The app endpoints, authenticated by the app's sign-in JWT: what they share ([`Api`]), how a
//! request becomes a [`Caller`] and an answer ([`answer`]), reading bodies ([`body`]), where
//! Twilio calls back for them ([`callbacks`]) and the device endpoints ([`devices`]).

pub mod admin;
pub mod body;
pub mod callbacks;
pub mod calls;
pub mod devices;
pub mod events;
mod outbound_guard;
pub mod people;
mod query;
pub mod sms;
pub mod sms_send;

use std::sync::Arc;

use http::header;

use super::{ApiError, Request, RequestMeta, Response};
use crate::app::{Core, StartupError};
use crate::auth::Authenticator;
use crate::config::Config;
use crate::domain::Caller;
use crate::store::PresenceKey;

/// What an app handler returns: its response, or the refusal [`answer`] turns into one.
pub type Answer = Result<Response, ApiError>;

/// What every app endpoint borrows: the core and the verifier of app tokens. Cheap to clone:
/// the local server's endpoints share one verifier (and one identity provider key set).
#[derive(Clone)]
pub struct Api {
    pub core: Core,
    auth: Arc<Authenticator>,
}

impl Api {
    pub fn new(core: Core, config: &Config) -> Result<Self, StartupError> {
        StartupError::require(&config.app_auth, "app authentication")?;
        let style = core.settings.identity_style;
        let auth = Authenticator::new(config, style, core.secrets.as_ref(), &core.clock)?;
        Ok(Self {
            core,
            auth: Arc::new(auth),
        })
    }

    /// What to fetch during init, beside the DynamoDB warm-up: the identity provider's keys.
    pub async fn warm(&self) {
        self.auth.prefetch().await;
    }

    async fn authenticate(&self, request: &Request) -> Result<Caller, ApiError> {
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            // Any UTF-8 reaches the verifier, which names what is wrong with it.
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok());
        let claims = request
            .extensions()
            .get::<RequestMeta>()
            .and_then(|m| m.gateway_claims.as_ref());
        Ok(self.auth.authenticate(header, claims).await?)
    }
}

/// Authenticate the request, run `handler` for the caller, and map its error to a response.
pub async fn answer<F, Fut>(api: &Api, request: &Request, handler: F) -> Response
where
    F: FnOnce(Caller) -> Fut,
    Fut: Future<Output = Answer>,
{
    let result = match api.authenticate(request).await {
        Ok(caller) => handler(caller).await,
        Err(err) => Err(err),
    };
    result.unwrap_or_else(|err| err.response())
}

/// The partition of the caller's devices.
pub fn key(caller: &Caller) -> PresenceKey {
    PresenceKey {
        org: caller.org.clone(),
        identity: caller.identity.clone(),
    }
}
