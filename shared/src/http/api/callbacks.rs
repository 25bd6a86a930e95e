//! Where Twilio is told to call back when an app request asks Twilio for something (a sent
//! text's `StatusCallback`): `PUBLIC_BASE_URL`, else the local server's own address. Never the
//! request's `Host` or `X-Forwarded-*`: an app client chooses those, and would choose where
//! Twilio posts the service's callbacks.
//!
//! In Lambda the domain a request arrived on (API Gateway's `requestContext.domainName`) is
//! set by AWS, not by the client, so it could be believed; but it is the app API's domain,
//! where Twilio's webhooks are not served (they are on the webhook function's URL unless
//! `WebhooksOnHttpApi`), so it is no place for a callback either. A function that hands Twilio
//! callbacks therefore needs `PUBLIC_BASE_URL` and refuses to start without it
//! ([`require_public_base`]); the template always sets it.
//!
//! The webhooks are different: they rebuild the URL Twilio called from the headers
//! ([`crate::http::webhooks::public_url`]) only to check its signature, which nobody but
//! Twilio can make, and the callbacks their TwiML names sit next to that signed URL.

use super::{Request, RequestMeta};
use crate::app::StartupError;
use crate::config::ConfigError;
use crate::http::Route;

/// The scheme and host (and any base path) Twilio calls back at: `PUBLIC_BASE_URL`, else the
/// address the local server took the request on; none in Lambda without `PUBLIC_BASE_URL`
/// (which [`require_public_base`] refuses at start-up).
pub fn callback_base(request: &Request, public_base_url: Option<&str>) -> Option<String> {
    if let Some(base) = public_base_url {
        return Some(base.trim_end_matches('/').to_owned());
    }
    let local = request.extensions().get::<RequestMeta>()?.local_addr?;
    Some(format!("http://{local}"))
}

/// Where Twilio reaches `route` (a webhook) for this request, if anywhere.
pub fn callback_url(
    request: &Request,
    public_base_url: Option<&str>,
    route: Route,
) -> Option<String> {
    callback_base(request, public_base_url).map(|base| format!("{base}{}", route.path()))
}

/// A Lambda function that hands Twilio callbacks starts only with `PUBLIC_BASE_URL`: without
/// it, they could go nowhere Twilio reaches (see the module's notes on the request's domain).
pub fn require_public_base(
    public_base_url: Option<&str>,
    what_for: &str,
) -> Result<(), StartupError> {
    match public_base_url {
        Some(_) => Ok(()),
        None => Err(StartupError::Config(ConfigError(vec![format!(
            "PUBLIC_BASE_URL is required ({what_for}): the scheme and host Twilio reaches the \
             webhooks at, such as the webhook function's URL"
        )]))),
    }
}
