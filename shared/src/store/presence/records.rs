//! The records of presence: a user's devices and current calls, and what a register,
//! heartbeat, unregister or call-progress callback asks of the store. Expiry is decided here
//! once ([`is_live`], [`callable_until`]) for both stores and every read.

use serde::Serialize;

use crate::domain::{
    Capabilities, DeviceId, Email, Identity, Label, OrgId, PersonStatus, Platform, PushTarget,
    Reachability, TwilioState,
};

/// The partition that holds one user's devices.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PresenceKey {
    pub org: OrgId,
    pub identity: Identity,
}

/// A device as stored. `lastSeen` is epoch milliseconds (the unit of Twilio's `timestamp`
/// parameter); `expiresAt` is epoch seconds (the unit of DynamoDB TTL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    pub device_id: DeviceId,
    pub identity: Identity,
    pub user_email: Email,
    pub platform: Platform,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    pub capabilities: Capabilities,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub last_seen: i64,
    /// Until when the device may be called: [`callable_until`].
    pub expires_at: i64,
    /// Until when it counts as online: its foreground TTL after `lastSeen`.
    #[serde(skip)]
    pub online_until: i64,
    /// What the device's Twilio SDK last reported: can Twilio reach it?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub twilio_state: Option<TwilioState>,
    /// The TTLs this device was registered with; a heartbeat extends by these.
    #[serde(skip)]
    pub ttls: DeviceTtls,
    /// New on every register; an unregister that names an older one is ignored (a closing
    /// tab's late `pagehide` must not remove the registration another tab just made).
    #[serde(skip)]
    pub registration_id: String,
    /// Socket presence: until when (epoch s) an open realtime connection keeps the device live
    /// and online without heartbeats (the lease its last keep-alive set, or the grace after
    /// its connection closed); 0 if it never had one. Shown as `socketUntil`.
    #[serde(skip_serializing_if = "is_zero")]
    pub socket_until: i64,
    /// The connection whose keep-alive set `socket_until`: only its close may shorten it.
    #[serde(skip)]
    pub socket_connection: Option<String>,
    /// Where its alerts go while the app sleeps (a phone's APNs or FCM registration); shown
    /// as its provider and the token's last characters only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<PushTarget>,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

impl DeviceRecord {
    /// Live while its heartbeats or push registration say so ([`callable_until`]), or while a
    /// realtime connection does (`socket_until`): either is enough.
    pub fn is_live(&self, now_ms: i64) -> bool {
        is_live(self.expires_at.max(self.socket_until), now_ms)
    }

    /// How a call reaches this (live) device at `now_ms`.
    pub fn reachability(&self, now_ms: i64) -> Reachability {
        if is_live(self.online_until.max(self.socket_until), now_ms) {
            Reachability::Online
        } else {
            Reachability::Push
        }
    }

    /// Heard from at `now_ms` (a register or heartbeat): both expiries start again, from the
    /// TTLs and Twilio state it now has.
    pub fn seen_at(&mut self, now_ms: i64) {
        self.last_seen = now_ms;
        self.online_until = expiry(now_ms, self.ttls.foreground);
        self.expires_at = callable_until(
            self.online_until,
            self.ttls.reach_until(now_ms),
            self.twilio_state,
        );
    }

    /// What the user's device list shows of this device beyond its presence: a change in it
    /// is a `devices.changed` event, a plain heartbeat is not.
    pub fn state(&self) -> String {
        let capabilities: Vec<&str> = self.capabilities.iter().map(|c| c.as_str()).collect();
        format!(
            "{}|{}|{}|{}",
            self.platform.as_str(),
            capabilities.join(","),
            self.twilio_state.map_or("", |s| s.as_str()),
            self.label.as_ref().map_or("", |l| l.as_str()),
        )
    }
}

/// `expiresAt > floor(now)`: the single definition of "live" that both stores and every
/// read use, because DynamoDB's TTL deletion lags by hours or days.
pub fn is_live(expires_at: i64, now_ms: i64) -> bool {
    expires_at > now_ms.div_euclid(1000)
}

/// Expiry in epoch seconds: rounded up, so a device lives at least its full TTL.
pub fn expiry(now_ms: i64, ttl_seconds: u32) -> i64 {
    (now_ms + 999).div_euclid(1000) + i64::from(ttl_seconds)
}

/// The longest a socket lease may run past its keep-alive: the keep-alive interval (at most
/// 570 s), the grace (at most 120 s) and 60 s of slack (`config::SocketSettings`). Every write
/// of a device keeps its stored row at least this long after now, so no lease outlives its row.
pub const SOCKET_LEASE_MAX_SECONDS: i64 = 570 + 120 + 60;

/// How long a device stays callable after it was last heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceTtls {
    /// While it heartbeats (an open app, a browser tab): `PRESENCE_TTL_SECONDS`, or
    /// `PRESENCE_TTL_SECONDS_MOBILE` on a phone. Within it the device is online.
    pub foreground: u32,
    /// While its Twilio SDK reports `registered`: `PRESENCE_TTL_SECONDS_PUSH` on a phone, whose
    /// push registration rings it asleep; the foreground TTL on the web, which has no push.
    pub push: u32,
}

impl DeviceTtls {
    /// One TTL whatever the Twilio state: no push reachability (the web).
    pub fn foreground_only(ttl_seconds: u32) -> Self {
        Self {
            foreground: ttl_seconds,
            push: ttl_seconds,
        }
    }

    /// Until when (epoch s) a push registration keeps a device heard from at `now_ms`
    /// callable; never before its foreground TTL ends. The DynamoDB row's `expiresAt` (its
    /// TTL attribute): no later read can need the row after it.
    pub fn reach_until(&self, now_ms: i64) -> i64 {
        expiry(now_ms, self.push.max(self.foreground))
    }
}

/// Until when (epoch s) a device may be called, the one rule both stores and every read use:
/// while online (`online_until`, its foreground TTL after it was last heard from), and
/// beyond that while its Twilio SDK reports `registered`, until `reach_until` (its push TTL,
/// [`DeviceTtls::reach_until`]). `unregistered`, `registering` or no state: online only.
pub fn callable_until(
    online_until: i64,
    reach_until: i64,
    twilio_state: Option<TwilioState>,
) -> i64 {
    match twilio_state {
        Some(TwilioState::Registered) => online_until.max(reach_until),
        _ => online_until,
    }
}

/// Most recently seen first; device id breaks ties so every reader agrees on the order.
pub fn sort_most_recent_first(devices: &mut [DeviceRecord]) {
    devices.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| b.device_id.cmp(&a.device_id))
    });
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub key: PresenceKey,
    pub device_id: DeviceId,
    pub user_email: Email,
    pub platform: Platform,
    pub label: Option<Label>,
    pub capabilities: Capabilities,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub now_ms: i64,
    pub ttls: DeviceTtls,
    /// Live devices allowed for this identity, the new one included.
    pub max_live: usize,
    pub twilio_state: Option<TwilioState>,
    pub registration_id: String,
    /// An explicit sign-in by the user, which lifts a remote sign-out. Automatic registers
    /// (after a 404, a token renewal, a tab taking over) are refused while one stands.
    pub sign_in: bool,
    /// The phone's alert registration; none removes any the device had.
    pub notifications: Option<PushTarget>,
}

impl Registration {
    pub fn record(&self) -> DeviceRecord {
        let mut record = DeviceRecord {
            device_id: self.device_id.clone(),
            identity: self.key.identity.clone(),
            user_email: self.user_email.clone(),
            platform: self.platform,
            label: self.label.clone(),
            capabilities: self.capabilities.clone(),
            user_agent: self.user_agent.clone(),
            ip: self.ip.clone(),
            last_seen: self.now_ms,
            expires_at: 0,
            online_until: 0,
            twilio_state: self.twilio_state,
            ttls: self.ttls,
            registration_id: self.registration_id.clone(),
            socket_until: 0,
            socket_connection: None,
            notifications: self.notifications.clone(),
        };
        record.seen_at(self.now_ms);
        record
    }
}

// Returned once per request and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RegisterOutcome {
    Registered(Registered),
    /// The device was signed out remotely and this was not an explicit sign-in.
    SignedOut,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum HeartbeatOutcome {
    Live(DeviceRecord),
    /// Unknown, unregistered, evicted or expired: register again.
    NotRegistered,
    /// Signed out remotely: only an explicit sign-in brings it back.
    SignedOut,
}

impl RegisterOutcome {
    pub fn registered(self) -> Option<Registered> {
        match self {
            Self::Registered(registered) => Some(registered),
            Self::SignedOut => None,
        }
    }
}

impl HeartbeatOutcome {
    pub fn live(self) -> Option<DeviceRecord> {
        match self {
            Self::Live(device) => Some(device),
            Self::NotRegistered | Self::SignedOut => None,
        }
    }
}

/// How an unregister should act beyond removing the device.
#[derive(Debug, Clone, Default)]
pub struct Unregistration {
    pub now_ms: i64,
    /// Remove only if the device's current registration is this one.
    pub registration_id: Option<String>,
    /// Remote sign-out: leave a tombstone until this epoch second, so the device's automatic
    /// re-registers are refused until then (it expires like a device, so none pile up).
    pub signed_out_until: Option<i64>,
}

impl Unregistration {
    /// A plain unregister at `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        Self {
            now_ms,
            ..Self::default()
        }
    }
}

/// A call one of the user's legs is on, known from Twilio's call-progress callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveCall {
    pub call_sid: String,
    /// When the leg was answered (epoch ms).
    pub since_ms: i64,
}

/// Everything routing and the device list need about one user, read in one query.
#[derive(Debug, Clone, Default)]
pub struct UserPresence {
    /// Live devices, most recently seen first.
    pub devices: Vec<DeviceRecord>,
    /// Calls answered and not yet over (nor expired).
    pub calls: Vec<ActiveCall>,
    /// The status the person last set, as stored (read it with [`PersonStatus::at`]).
    pub status: Option<PersonStatus>,
    /// What their colleagues were last told of them (`PresenceStore::shown`).
    pub shown: Option<String>,
    /// When their last call ended (epoch ms), if one has since people presence came.
    pub last_call_ended: Option<i64>,
}

impl UserPresence {
    /// Since when the user has been on a call, if they are.
    pub fn on_call_since(&self) -> Option<i64> {
        self.calls.iter().map(|c| c.since_ms).min()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallProgress {
    Answered,
    /// completed, busy, no-answer, failed or canceled: final, whatever arrives after it.
    Ended,
}

#[derive(Debug, Clone)]
pub struct CallEvent {
    /// The dialled leg's `CallSid`.
    pub call_sid: String,
    pub progress: CallProgress,
    pub now_ms: i64,
    /// When the state stops counting (epoch s): `MAX_CALL_SECONDS` after now, so a lost
    /// `completed` cannot leave a user busy for ever.
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct Registered {
    pub device: DeviceRecord,
    /// Devices removed to stay within the per-identity limit, least recently seen first. Holds
    /// the registered device itself only if a racing register with a later clock outranked it.
    pub evicted: Vec<DeviceId>,
}

/// Which live devices to evict: everything beyond the `max_live` most recently seen, least
/// recently seen first.
///
/// Every register runs this on a consistent read taken after its own write, and ranks by one
/// total order (`lastSeen`, then device id) with no exception for the device just written.
/// That is what makes racing registers converge on exactly `max_live`: a device is evicted
/// only when `max_live` devices outrank it, so the overall top `max_live` are never evicted,
/// and the last register to read sees every write and evicts everything else. (Favouring the
/// caller's own device would let two registers each evict a different top device.)
pub fn eviction_candidates(mut live: Vec<DeviceRecord>, max_live: usize) -> Vec<DeviceRecord> {
    sort_most_recent_first(&mut live);
    let mut evict = live.split_off(max_live.min(live.len()));
    evict.reverse();
    evict
}

#[derive(Debug, Clone, Default)]
pub struct HeartbeatUpdate {
    pub now_ms: i64,
    /// Set when the platform changes, since mobile and web may have different TTLs.
    pub platform: Option<(Platform, DeviceTtls)>,
    pub capabilities: Option<Capabilities>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub twilio_state: Option<TwilioState>,
}

impl HeartbeatUpdate {
    /// Whether it carries anything the device list shows, so it may change the device's state.
    pub fn reports_state(&self) -> bool {
        self.platform.is_some() || self.capabilities.is_some() || self.twilio_state.is_some()
    }
}

/// A keep-alive of one of the device's realtime connections (or the connection opening): the
/// device is live until `until` (epoch s) without heartbeats.
#[derive(Debug, Clone)]
pub struct SocketAlive {
    pub connection_id: String,
    /// The lease: keep-alive interval + grace + slack after `now_ms`
    /// ([`crate::config::SocketSettings::lease_seconds`]).
    pub until: i64,
    pub now_ms: i64,
    /// What the device's Twilio SDK reports now, when the keep-alive carries it: recorded as a
    /// heartbeat's would be (a change is a `devices.changed`).
    pub twilio_state: Option<TwilioState>,
}

/// A realtime connection of the device closed: its socket presence lasts until `until`, the
/// grace, unless another connection renews it meanwhile.
#[derive(Debug, Clone)]
pub struct SocketClosed {
    pub connection_id: String,
    pub until: i64,
}
