//! `GET /phone/events/connect`: the WebSocket handshake (the ticket checked, the subprotocol
//! echoed, or the upgrade refused with nothing stored) and each connection's life, with API
//! Gateway's limits: 32 KB frames and 128 KB messages (larger closes with 1009), ten minutes
//! idle, two hours at most, five connections per device (a sixth closes the oldest). A
//! connection whose client reads too slowly for the hub's queue is closed with 1013, so that it
//! reconnects and catches up. A frame that is not a ping is ignored; nothing a client sends can
//! affect another connection.
//!
//! Socket presence as in AWS (`shared::realtime::websocket`): the connection opening and each
//! ping lease the device its presence, a close ends it after the grace unless the device has
//! another connection open. Beyond API Gateway, the server pings each connection itself
//! (WebSocket ping frames, which browsers answer on their own) and takes one silent for
//! [`VANISHED_SECONDS`] as vanished: closed, with the grace, without waiting for its lease.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use hyper_util::rt::TokioIo;
use shared::auth::AuthError;
use shared::domain::{DeviceId, Team, TwilioState};
use shared::http::{ApiError, Request, Response};
use shared::realtime::protocol::{
    self, IDLE_SECONDS, MAX_CONNECTIONS_PER_DEVICE, MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, SUBPROTOCOL,
};
use shared::realtime::{Ticket, TicketError, team};
use shared::store::{
    CONNECTION_MAX_SECONDS, Connected, Connection, PresenceKey, SocketAlive, SocketClosed, expiry,
};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, handshake::derive_accept_key};

use super::{Goodbye, Hub, QUEUE_FRAMES, Socket};

/// Upgrade `request` to a realtime connection, or refuse it.
pub async fn connect(hub: &Arc<Hub>, request: &mut Request) -> Response {
    match accept(hub, request).await {
        Ok(response) => response,
        Err(refusal) => refusal.response(),
    }
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn accept(hub: &Arc<Hub>, request: &mut Request) -> Result<Response, ApiError> {
    let headers = request.headers();
    let upgrade =
        header(headers, header::UPGRADE).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let key = header(headers, header::SEC_WEBSOCKET_KEY).map(str::to_owned);
    let (true, Some(key)) = (upgrade, key) else {
        return Err(ApiError::MalformedBody(
            "this endpoint takes a WebSocket upgrade (new WebSocket(url, [\"softphone-presence.v1\", ticket]))".into(),
        ));
    };
    let offered = header(headers, header::SEC_WEBSOCKET_PROTOCOL).unwrap_or_default();
    let ticket = protocol::offered_ticket(offered).ok_or_else(|| {
        unauthorized("offer the subprotocol softphone-presence.v1 and a ticket from POST /phone/events/ticket")
    })?;
    let ticket = hub.tickets.get().verify(ticket).map_err(|e| match e {
        TicketError::Expired => unauthorized("the ticket has expired; ask for a new one"),
        TicketError::Invalid => unauthorized("not a ticket of this service"),
    })?;
    let now_ms = hub.clock.now_ms();
    live_device(hub, &ticket, now_ms).await?;
    let upgrade = hyper::upgrade::on(&mut *request);

    let (frames, queue) = mpsc::channel(QUEUE_FRAMES);
    let (goodbye, told) = oneshot::channel();
    let id = connection_id();
    let connection = Connection {
        id: id.clone(),
        device_id: ticket.device_id.clone(),
        capabilities: ticket.capabilities.clone(),
        expires_at: now_ms.div_euclid(1000) + i64::from(CONNECTION_MAX_SECONDS),
    };
    let events = hub
        .events
        .get()
        .ok_or_else(|| ApiError::Internal("no store".into()))?;
    if events
        .connect(&ticket.user, &connection, &ticket.spent)
        .await?
        == Connected::TicketSpent
    {
        return Err(unauthorized(
            "the ticket has opened a connection already; ask for a new one",
        ));
    }
    let socket = Socket {
        frames,
        goodbye,
        user: ticket.user.clone(),
        device: ticket.device_id.to_string(),
        opened_ms: now_ms,
    };
    let replaced = hub.open(&id, socket);
    for old in replaced {
        let _ = events.disconnect(&ticket.user, &old).await;
    }
    let keeper = Keeper {
        hub: hub.clone(),
        user: ticket.user.clone(),
        device_id: ticket.device_id.clone(),
        connection_id: id.clone(),
        expires_at: connection.expires_at,
    };
    // Open whatever this write does: the first ping renews what it could not record.
    if let Err(err) = keeper.alive(None).await {
        tracing::warn!(error = %err, "socket presence unrecorded");
    }

    let hub = hub.clone();
    let user = ticket.user.clone();
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                // tungstenite's 128 KiB read buffer, though it is most of a quiet connection's
                // memory (scripts/bench --realtime): with a 4 KiB one a connection took 11 KiB
                // instead of 143, but an oversized frame is then refused before the client has
                // finished sending it, and the unread rest resets the TCP connection before
                // the 1009 close reaches the client.
                let config = WebSocketConfig::default()
                    .max_frame_size(Some(MAX_FRAME_BYTES))
                    .max_message_size(Some(MAX_MESSAGE_BYTES));
                let io = TokioIo::new(upgraded);
                let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                serve(socket, queue, told, &keeper).await;
            }
            Err(err) => tracing::debug!(error = %err, "realtime upgrade failed"),
        }
        hub.sockets().remove(&id);
        if let Some(events) = hub.events.get() {
            let _ = events.disconnect(&user, &id).await;
        }
        if let Err(err) = keeper.closed().await {
            tracing::warn!(error = %err, "socket presence: close unrecorded");
        }
    });

    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| ApiError::Internal("accept key".into()))?;
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    Ok(response)
}

fn unauthorized(why: &str) -> ApiError {
    ApiError::Unauthorized(AuthError::InvalidToken(why.to_owned()))
}

/// The ticket's device must still be live: a device signed out or unregistered since its
/// ticket was issued does not connect.
async fn live_device(hub: &Hub, ticket: &Ticket, now_ms: i64) -> Result<(), ApiError> {
    let presence = hub
        .presence
        .get()
        .ok_or_else(|| ApiError::Internal("no store".into()))?;
    let devices = presence.live_devices(&ticket.user, now_ms).await?;
    if devices.iter().any(|d| d.device_id == ticket.device_id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "the ticket's device is no longer registered; register it and ask for a new ticket",
        ))
    }
}

/// An unguessable id: the `@connections` id of API Gateway plays the same part.
fn connection_id() -> String {
    let mut bytes = [0u8; 12];
    // Without randomness the id is still unique enough for one local process.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        bytes[..8].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
    }
    shared::domain::lower_hex(&bytes)
}

impl Hub {
    /// Add a connection; the ids of the device's oldest ones it closes to stay within the
    /// limit.
    fn open(&self, id: &str, socket: Socket) -> Vec<String> {
        let mut sockets = self.sockets();
        let mut same: Vec<(i64, String)> = sockets
            .iter()
            .filter(|(_, s)| s.user == socket.user && s.device == socket.device)
            .map(|(id, s)| (s.opened_ms, id.clone()))
            .collect();
        same.sort();
        let excess = (same.len() + 1).saturating_sub(MAX_CONNECTIONS_PER_DEVICE);
        let closed: Vec<String> = same.into_iter().take(excess).map(|(_, id)| id).collect();
        for old in &closed {
            // Dropping it ends the connection (closed with "replaced").
            sockets.remove(old);
        }
        sockets.insert(id.to_owned(), socket);
        closed
    }
}

/// What one connection does to its device's socket presence.
struct Keeper {
    hub: Arc<Hub>,
    user: PresenceKey,
    device_id: DeviceId,
    connection_id: String,
    /// The connection's end at the latest (epoch s): its subscriptions end with it.
    expires_at: i64,
}

impl Keeper {
    /// The connection opened or pinged: a lease. `Ok(false)`: the device is no longer live.
    async fn alive(&self, twilio_state: Option<TwilioState>) -> Result<bool, ApiError> {
        let presence = self
            .hub
            .presence
            .get()
            .ok_or_else(|| ApiError::Internal("no store".into()))?;
        let now_ms = self.hub.clock.now_ms();
        let alive = SocketAlive {
            connection_id: self.connection_id.clone(),
            until: expiry(now_ms, self.hub.socket.lease_seconds()),
            now_ms,
            twilio_state,
        };
        Ok(presence
            .socket_alive(&self.user, &self.device_id, alive)
            .await?)
    }

    /// The connection ended (already out of the hub): the grace, unless the device has
    /// another connection open here.
    async fn closed(&self) -> Result<(), ApiError> {
        let others = self
            .hub
            .sockets()
            .values()
            .any(|s| s.user == self.user && s.device == self.device_id.as_str());
        let Some(presence) = self.hub.presence.get() else {
            return Ok(());
        };
        if others {
            return Ok(());
        }
        let now_ms = self.hub.clock.now_ms();
        let closed = SocketClosed {
            connection_id: self.connection_id.clone(),
            until: expiry(now_ms, self.hub.socket.grace_seconds),
        };
        Ok(presence
            .socket_closed(&self.user, &self.device_id, closed)
            .await?)
    }

    /// A subscribe (or unsubscribe) of this connection: its answer; an outage is said in it.
    async fn watch(&self, team: Option<Team>, subscribe: bool) -> String {
        let kind = if subscribe {
            "subscribed"
        } else {
            "unsubscribed"
        };
        let Some(stores) = self.hub.team_stores() else {
            return protocol::subscription_answer(kind, team.as_ref(), Some("unavailable"));
        };
        let now_ms = self.hub.clock.now_ms();
        let answer = if subscribe {
            let (user, id) = (&self.user, &self.connection_id);
            team::subscribe(&stores, user, id, self.expires_at, team.clone(), now_ms).await
        } else {
            team::unsubscribe(stores.events, &self.user, &self.connection_id, team.clone()).await
        };
        answer.unwrap_or_else(|err| {
            tracing::warn!(error = %err, "team subscription unrecorded");
            let why = "the store is unavailable: try again";
            protocol::subscription_answer(kind, team.as_ref(), Some(why))
        })
    }

    /// A ping's pong, after renewing the lease; an outage still answers.
    async fn pong(&self, twilio_state: Option<TwilioState>, bad_twilio_state: bool) -> String {
        let live = match self.alive(twilio_state).await {
            Ok(live) => live,
            Err(err) => {
                tracing::warn!(error = %err, "socket presence: ping unrecorded");
                true
            }
        };
        protocol::pong(live, bad_twilio_state)
    }
}

/// How often the server pings a connection itself (a WebSocket ping frame, answered by the
/// client's WebSocket on its own), and how long a connection may stay silent, answering none,
/// before it counts as vanished.
const SERVER_PING_SECONDS: u64 = 15;
pub const VANISHED_SECONDS: u64 = 40;

fn close(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// The close frame for what the hub told a connection; told nothing, its `Socket` was dropped
/// for a newer connection of the device.
fn farewell(told: Result<Goodbye, oneshot::error::RecvError>) -> Message {
    match told {
        Ok(Goodbye::FellBehind) => close(CloseCode::Again, "fell behind: reconnect and catch up"),
        Err(_) => close(CloseCode::Policy, "replaced by a newer connection"),
    }
}

/// How long a close frame may take to reach a client that stopped reading before the
/// connection is dropped without it.
const GOODBYE_SECONDS: u64 = 10;

/// One connection's life: answer pings (renewing the device's socket presence), send what the
/// hub queues, ping the client and drop it when it has vanished, close at the limits or when
/// the hub says so (`told`), even while a frame waits for a client that stopped reading.
async fn serve<S>(
    socket: WebSocketStream<S>,
    mut queue: mpsc::Receiver<String>,
    mut told: oneshot::Receiver<Goodbye>,
    keeper: &Keeper,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut outgoing, mut incoming) = socket.split();
    let idle = Duration::from_secs(IDLE_SECONDS);
    let cap = tokio::time::sleep(Duration::from_secs(u64::from(CONNECTION_MAX_SECONDS)));
    tokio::pin!(cap);
    // Idle counts the client's own frames (as API Gateway's idle close does); vanished counts
    // anything, the answers to the server's pings included.
    let mut last_frame = tokio::time::Instant::now();
    let mut last_heard = last_frame;
    let mut pings = tokio::time::interval(Duration::from_secs(SERVER_PING_SECONDS));
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let goodbye = tokio::select! {
            told = &mut told => Some(farewell(told)),
            frame = incoming.next() => {
                last_heard = tokio::time::Instant::now();
                match frame {
                    None | Some(Ok(Message::Close(_))) => break,
                    Some(Ok(Message::Text(text))) => {
                        last_frame = last_heard;
                        match protocol::frame(&text) {
                            Some(protocol::Frame::Ping { twilio_state, bad_twilio_state }) => {
                                let pong = keeper.pong(twilio_state, bad_twilio_state).await;
                                if outgoing.send(Message::text(pong)).await.is_err() {
                                    break;
                                }
                                None
                            }
                            Some(protocol::Frame::Subscribe { team }) => {
                                let answer = keeper.watch(team, true).await;
                                if outgoing.send(Message::text(answer)).await.is_err() {
                                    break;
                                }
                                None
                            }
                            Some(protocol::Frame::Unsubscribe { team }) => {
                                let answer = keeper.watch(team, false).await;
                                if outgoing.send(Message::text(answer)).await.is_err() {
                                    break;
                                }
                                None
                            }
                            None => None,
                        }
                    }
                    // Pongs answer the server's pings; binary frames are not part of the
                    // protocol; the client's own pings tungstenite answers.
                    Some(Ok(Message::Pong(_))) => None,
                    Some(Ok(_)) => {
                        last_frame = last_heard;
                        None
                    }
                    Some(Err(WsError::Capacity(_))) => Some(close(CloseCode::Size, "too large")),
                    Some(Err(_)) => break,
                }
            },
            _ = pings.tick() => {
                let now = tokio::time::Instant::now();
                if now.duration_since(last_heard) >= Duration::from_secs(VANISHED_SECONDS) {
                    // Gone without a close: nothing to say goodbye to.
                    break;
                }
                if now.duration_since(last_frame) >= idle {
                    Some(close(CloseCode::Away, "idle"))
                } else if outgoing.send(Message::Ping(Bytes::new())).await.is_err() {
                    break;
                } else {
                    None
                }
            },
            frame = queue.recv() => match frame {
                Some(frame) => tokio::select! {
                    told = &mut told => Some(farewell(told)),
                    sent = outgoing.send(Message::text(frame)) => {
                        if sent.is_err() {
                            break;
                        }
                        None
                    }
                },
                None => Some(close(CloseCode::Policy, "replaced by a newer connection")),
            },
            () = &mut cap => Some(close(CloseCode::Away, "connection time limit")),
        };
        if let Some(goodbye) = goodbye {
            // After whatever the client has yet to read; a client that never reads again is
            // dropped without it.
            let _ = tokio::time::timeout(Duration::from_secs(GOODBYE_SECONDS), async {
                let _ = outgoing.send(goodbye).await;
                let _ = outgoing.close().await;
            })
            .await;
            break;
        }
    }
}
