//! Connection tickets: what a device opens the realtime channel with. A ticket is a JWT the
//! service signs (HS256, `REALTIME_TICKET_SECRET`, by `jsonwebtoken`) for one device of one
//! user, valid for a minute and for one connection: its random id (`jti`) is recorded in the
//! same write as the connection it opens, and a second use is refused. It travels in `Sec-WebSocket-Protocol`, which browsers can set
//! (they cannot set headers) and which, unlike a query string, no access log records; JWTs use
//! only characters a protocol token allows. The app's own sign-in token never leaves the HTTP
//! API, so this works the same behind API Gateway's JWT authorizer.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{Config, ExposeSecret, SecretString};
use crate::domain::{Capabilities, DeviceId, Identity, OrgId};
use crate::secrets::{Rotating, Secrets};
use crate::store::{DeviceRecord, PresenceKey, SpentTicket};

/// How long a ticket may be used to connect.
pub const TICKET_SECONDS: i64 = 60;
const ISSUER: &str = "softphone-presence";
const AUDIENCE: &str = "softphone-presence/realtime";
/// Clock skew allowed between the process that issued a ticket and the one checking it.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The identity.
    sub: String,
    org: String,
    dev: String,
    caps: Vec<String>,
    iat: i64,
    exp: i64,
    /// Random, so that every ticket is spent once, even two for one device in one second.
    jti: String,
}

/// What a valid ticket says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub user: PresenceKey,
    pub device_id: DeviceId,
    pub capabilities: Capabilities,
    /// What connecting with it spends.
    pub spent: SpentTicket,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket has expired; ask for a new one")]
    Expired,
    #[error("not a ticket of this service")]
    Invalid,
}

/// Issues and checks tickets with one key, prepared at start-up.
pub struct Tickets {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tickets {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "jti"]);
        validation.leeway = LEEWAY_SECONDS;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// Tickets keyed with the configuration's `REALTIME_TICKET_SECRET`, rekeyed when a re-read
    /// of `secrets` changes it; `None` without the realtime section.
    pub fn rotating(config: &Config, secrets: Option<&Secrets>) -> Option<Rotating<Self>> {
        Rotating::new(config, secrets, |config| {
            Some(Self::new(&config.realtime.as_ref()?.ticket_secret))
        })
    }

    /// A ticket for `device` of `user`, issued at `now_s`.
    pub fn issue(
        &self,
        user: &PresenceKey,
        device: &DeviceRecord,
        now_s: i64,
    ) -> Result<String, String> {
        let mut id = [0u8; 16];
        aws_lc_rs::rand::fill(&mut id).map_err(|_| "no randomness for a ticket id".to_owned())?;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user.identity.to_string(),
            org: user.org.to_string(),
            dev: device.device_id.to_string(),
            caps: device
                .capabilities
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            iat: now_s,
            exp: now_s + TICKET_SECONDS,
            jti: crate::domain::lower_hex(&id),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// What `ticket` says, if this service signed it and it has not expired.
    pub fn verify(&self, ticket: &str) -> Result<Ticket, TicketError> {
        use jsonwebtoken::errors::ErrorKind;
        let claims = jsonwebtoken::decode::<Claims>(ticket, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TicketError::Expired,
                _ => TicketError::Invalid,
            })?
            .claims;
        let user = PresenceKey {
            org: OrgId::parse_field(&claims.org, "org").map_err(|_| TicketError::Invalid)?,
            identity: Identity::parse(&claims.sub).map_err(|_| TicketError::Invalid)?,
        };
        let id_ok = (16..=64).contains(&claims.jti.len())
            && claims.jti.bytes().all(|b| b.is_ascii_alphanumeric());
        if !id_ok {
            return Err(TicketError::Invalid);
        }
        Ok(Ticket {
            user,
            device_id: DeviceId::parse(&claims.dev).map_err(|_| TicketError::Invalid)?,
            capabilities: Capabilities::parse(&claims.caps).map_err(|_| TicketError::Invalid)?,
            spent: SpentTicket {
                id: claims.jti,
                // Checked with leeway: kept as long as it could be accepted.
                expires_at: claims.exp + LEEWAY_SECONDS as i64,
            },
        })
    }
}
