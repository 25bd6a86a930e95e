//! API Gateway's WebSocket routes (the `realtime` function): `$connect` checks the ticket the
//! client offers in `Sec-WebSocket-Protocol` (and that its device is still registered), records
//! the connection and spends the ticket in one write (a ticket opens one connection), starts
//! the device's socket presence and echoes the subprotocol, or refuses before anything is
//! stored; `$default` answers a ping and renews the socket presence (a keep-alive), and
//! records a team subscription or its end (`subscribe`, `unsubscribe`, answered in the route's
//! response);
//! `$disconnect` forgets the connection and, unless the device has another one open, ends its
//! socket presence after the grace. The local server does the same in the CLI
//! (`src/realtime/`).

use std::sync::Arc;

use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest,
};
use lambda_http::aws_lambda_events::encodings::Body;
use lambda_http::http::HeaderValue;

use super::protocol::{self, SUBPROTOCOL};
use super::team;
use super::{TicketError, Tickets};
use crate::clock::Clock;
use crate::config::SocketSettings;
use crate::headers::SEC_WEBSOCKET_PROTOCOL;
use crate::secrets::Rotating;
use crate::store::{
    CONNECTION_MAX_SECONDS, Connected, Connection, DirectoryStore, EventStore, PresenceStore,
    SocketAlive, SocketClosed, expiry,
};

/// What the `realtime` function holds: the stores, the ticket key and the clock.
pub struct Gateway {
    pub presence: Arc<dyn PresenceStore>,
    pub events: Arc<dyn EventStore>,
    /// For a group's members, when a connection subscribes to it.
    pub directory: Arc<dyn DirectoryStore>,
    /// Rekeyed when a re-read of `SECRETS_ARN`'s secret changes the ticket secret.
    pub tickets: Rotating<Tickets>,
    pub socket: SocketSettings,
    pub clock: Clock,
}

/// What a route did, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: i64,
    pub what: &'static str,
    pub cause: Option<String>,
}

fn response(status: i64, body: Option<&str>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = body.map(|b| Body::Text(b.to_owned()));
    response
}

fn outcome(status: i64, what: &'static str, cause: Option<String>) -> Outcome {
    Outcome {
        status,
        what,
        cause,
    }
}

impl Gateway {
    /// One route's event: the answer API Gateway relays, and what happened.
    pub async fn handle(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
    ) -> (ApiGatewayProxyResponse, Outcome) {
        let context = &event.request_context;
        let Some(connection_id) = context.connection_id.as_deref() else {
            return (response(400, None), outcome(400, "no_connection_id", None));
        };
        match context.event_type.as_deref() {
            Some("CONNECT") => self.connect(event, connection_id).await,
            Some("DISCONNECT") => self.disconnect(connection_id).await,
            _ => match event.body.as_deref().and_then(protocol::frame) {
                Some(protocol::Frame::Ping {
                    twilio_state,
                    bad_twilio_state,
                }) => {
                    self.keep_alive(connection_id, twilio_state, bad_twilio_state)
                        .await
                }
                Some(protocol::Frame::Subscribe { team }) => {
                    self.watch(connection_id, team, true).await
                }
                Some(protocol::Frame::Unsubscribe { team }) => {
                    self.watch(connection_id, team, false).await
                }
                None => (response(200, None), outcome(200, "ignored", None)),
            },
        }
    }

    /// A subscribe or unsubscribe: its answer, as the route's response (the connection's
    /// owner read first: API Gateway names only the connection).
    async fn watch(
        &self,
        connection_id: &str,
        team: Option<crate::domain::Team>,
        subscribe: bool,
    ) -> (ApiGatewayProxyResponse, Outcome) {
        let now_ms = self.clock.now_ms();
        let owner = match self.events.connection_owner(connection_id).await {
            Ok(Some(owner)) => owner,
            Ok(None) => {
                return (
                    response(410, None),
                    outcome(410, "unknown_connection", None),
                );
            }
            Err(err) => {
                let cause = Some(err.to_string());
                return (response(500, None), outcome(500, "watch_unrecorded", cause));
            }
        };
        let answer = if subscribe {
            let stores = team::Stores {
                presence: self.presence.as_ref(),
                directory: self.directory.as_ref(),
                events: self.events.as_ref(),
            };
            // Until the connection's two hours are up at the latest; `$disconnect` ends it.
            let until = now_ms.div_euclid(1000) + i64::from(CONNECTION_MAX_SECONDS);
            team::subscribe(&stores, &owner.user, connection_id, until, team, now_ms).await
        } else {
            team::unsubscribe(self.events.as_ref(), &owner.user, connection_id, team).await
        };
        match answer {
            Ok(answer) => (response(200, Some(&answer)), outcome(200, "watch", None)),
            Err(err) => {
                let cause = Some(err.to_string());
                (response(500, None), outcome(500, "watch_unrecorded", cause))
            }
        }
    }

    /// A ping: the pong, and the device's socket presence renewed for a lease. An outage
    /// still answers the pong (the connection is fine); the lease then runs on as it was.
    async fn keep_alive(
        &self,
        connection_id: &str,
        twilio_state: Option<crate::domain::TwilioState>,
        bad_twilio_state: bool,
    ) -> (ApiGatewayProxyResponse, Outcome) {
        let now_ms = self.clock.now_ms();
        let renewed = match self.events.connection_owner(connection_id).await {
            Ok(Some(owner)) => match owner.device_id {
                Some(device_id) => {
                    let alive = SocketAlive {
                        connection_id: connection_id.to_owned(),
                        until: expiry(now_ms, self.socket.lease_seconds()),
                        now_ms,
                        twilio_state,
                    };
                    self.presence
                        .socket_alive(&owner.user, &device_id, alive)
                        .await
                }
                // Recorded before owners named their device: it rolls over within two hours.
                None => Ok(true),
            },
            Ok(None) => Ok(false),
            Err(err) => Err(err),
        };
        let (live, what, cause) = match renewed {
            Ok(true) => (true, "pong", None),
            Ok(false) => (false, "pong_not_live", None),
            Err(err) => (true, "pong_unrecorded", Some(err.to_string())),
        };
        let pong = protocol::pong(live, bad_twilio_state);
        (response(200, Some(&pong)), outcome(200, what, cause))
    }

    async fn connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> (ApiGatewayProxyResponse, Outcome) {
        let offered = event
            .headers
            .get(SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let Some(ticket) = protocol::offered_ticket(offered) else {
            return (response(401, None), outcome(401, "no_ticket", None));
        };
        let ticket = match self.tickets.get().verify(ticket) {
            Ok(ticket) => ticket,
            Err(TicketError::Expired) => {
                return (response(401, None), outcome(401, "ticket_expired", None));
            }
            Err(TicketError::Invalid) => {
                return (response(401, None), outcome(401, "ticket_invalid", None));
            }
        };
        let now_ms = self.clock.now_ms();
        match self.presence.live_devices(&ticket.user, now_ms).await {
            Ok(devices) if devices.iter().any(|d| d.device_id == ticket.device_id) => {}
            Ok(_) => return (response(403, None), outcome(403, "device_gone", None)),
            Err(err) => {
                let cause = Some(err.to_string());
                return (
                    response(503, None),
                    outcome(503, "store_unavailable", cause),
                );
            }
        }
        let connection = Connection {
            id: connection_id.to_owned(),
            device_id: ticket.device_id.clone(),
            capabilities: ticket.capabilities,
            expires_at: now_ms.div_euclid(1000) + i64::from(CONNECTION_MAX_SECONDS),
        };
        match self
            .events
            .connect(&ticket.user, &connection, &ticket.spent)
            .await
        {
            Ok(Connected::Opened) => {}
            Ok(Connected::TicketSpent) => {
                return (response(401, None), outcome(401, "ticket_spent", None));
            }
            Err(err) => {
                let cause = Some(err.to_string());
                return (
                    response(503, None),
                    outcome(503, "store_unavailable", cause),
                );
            }
        }
        let alive = SocketAlive {
            connection_id: connection_id.to_owned(),
            until: expiry(now_ms, self.socket.lease_seconds()),
            now_ms,
            twilio_state: None,
        };
        // Open, whatever this write does: the first ping renews what it could not record.
        let cause = match self
            .presence
            .socket_alive(&ticket.user, &ticket.device_id, alive)
            .await
        {
            Ok(_) => None,
            Err(err) => Some(err.to_string()),
        };
        let mut answer = response(200, None);
        answer.headers.insert(
            SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
        (answer, outcome(200, "connected", cause))
    }

    /// Best effort, as API Gateway's `$disconnect` itself: a connection not forgotten here
    /// expires, and a push to it finds it gone; a socket presence not ended here ends with its
    /// lease. The grace starts unless another connection of the device is still open (two
    /// tabs): its keep-alives go on renewing the presence.
    async fn disconnect(&self, connection_id: &str) -> (ApiGatewayProxyResponse, Outcome) {
        let now_ms = self.clock.now_ms();
        let forgotten = match self.events.connection_owner(connection_id).await {
            Ok(Some(owner)) => {
                // The device's other connections are read beside the delete: one round.
                let (forgotten, open) = futures::future::join(
                    self.events.disconnect(&owner.user, connection_id),
                    self.events.connections(&owner.user, now_ms),
                )
                .await;
                match (forgotten, open, owner.device_id) {
                    (Ok(()), Ok(open), Some(device_id)) => {
                        let others = open
                            .iter()
                            .any(|c| c.device_id == device_id && c.id != connection_id);
                        if others {
                            Ok(())
                        } else {
                            let closed = SocketClosed {
                                connection_id: connection_id.to_owned(),
                                until: expiry(now_ms, self.socket.grace_seconds),
                            };
                            self.presence
                                .socket_closed(&owner.user, &device_id, closed)
                                .await
                        }
                    }
                    (Err(err), _, _) | (_, Err(err), _) => Err(err),
                    (Ok(()), Ok(_), None) => Ok(()),
                }
            }
            Ok(None) => Ok(()),
            Err(err) => Err(err),
        };
        match forgotten {
            Ok(()) => (response(200, None), outcome(200, "disconnected", None)),
            Err(err) => {
                let cause = Some(err.to_string());
                (
                    response(200, None),
                    outcome(200, "disconnect_unrecorded", cause),
                )
            }
        }
    }
}
