//! The table's key schema and attribute names: the only place they are spelled. The template's
//! IAM conditions (`dynamodb:LeadingKeys`) name the same partition prefixes; the test
//! `template_keys_match_the_key_schema` in `tests/api/contract.rs` holds them together.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | device | `softphone:{orgId}:{identity}` | `{deviceId}` | `userEmail`, `platform`, `label`?, `capabilities` (string set), `userAgent`?, `ip`?, `lastSeen` (ms), `onlineUntil` (s), `reachUntil` (s: the end of its push reach), `socketUntil`? and `socketConnection`? (s, the connection: socket presence), `expiresAt` (s, TTL: never before any of them ends), `ttlSeconds`, `pushTtlSeconds`, `registrationId`, `twilioState`?, `pushProvider`? and `pushToken`? (the phone's alert registration) |
//! | signed-out device | `softphone:{orgId}:{identity}` | `{deviceId}` | `signedOutAt` (ms), `expiresAt` (s, TTL) |
//! | call | `softphone:{orgId}:{identity}` | `#call:{CallSid}` | `since` (ms), `ended`?, `expiresAt` (s, TTL) |
//! | user | `user:{sha256(identity)}` | `profile` | `doc` (JSON: org, email, identity, name, numbers, direct phone, the org's outbound policy) |
//! | user (in org) | `org:{orgId}` | `user:{email}` | `doc` (JSON), `pos` |
//! | group | `org:{orgId}` | `group:{id}` | `doc` (JSON), `pos` |
//! | phone | `org:{orgId}` | `phone:{id}` | `doc` (JSON), `pos` |
//! | org outbound settings | `org:{orgId}` | `outbound` | `doc` (JSON: `allowRegions`?, `allowPremium`?), `pos` (0); only when not the default |
//! | org notification settings | `org:{orgId}` | `notifications` | `doc` (JSON: `preview`), `pos` (0); only when not the default |
//! | number route | `number:{e164}` | `route` | `doc` (JSON: org, phone, and its group) |
//! | org index | `directory` | `org:{orgId}` | (none) |
//! | org directory version | `dirmeta:{orgId}` | `meta` | `version` (N: each write adds one), `lock` and `lockedUntil` (ms) while a write is under way, `dirty` after a write that failed half-way |
//! | audit entry | `audit:{orgId}` | `{at:016x}:{version:010}:{seq:05}` | `at` (ms), `actor`, `action`, `kind`, `id`, `before`? and `after`? (JSON), `expiresAt` (s, TTL: `AUDIT_RETENTION_DAYS`) |
//! | event | `softphone:{orgId}:{identity}` | `~evt:{cursor}` | `type`, `at` (ms), `data` (JSON), `expiresAt` (s, TTL: `EVENT_RETENTION_SECONDS`) |
//! | device state | `softphone:{orgId}:{identity}` | `~state:{deviceId}` | `platform`, `capabilities`, `twilioState`, `label`, `expiresAt` (s, TTL) |
//! | connection | `softphone:{orgId}:{identity}` | `~conn:{connectionId}` | `deviceId`, `capabilities` (string set), `expiresAt` (s, TTL: two hours) |
//! | connection owner | `connection:{connectionId}` | `owner` | `user` (the user's `pk`), `expiresAt` (s, TTL: two hours) |
//! | alert claim | `softphone:{orgId}:{identity}` | `~alert:{cursor}:{deviceId}` | `expiresAt` (s, TTL: `EVENT_RETENTION_SECONDS`): the alert of that event went to that device |
//! | spent ticket | `softphone:{orgId}:{identity}` | `~ticket:{jti}` | `expiresAt` (s, TTL: the ticket's expiry) |
//! | conversation | `sms:{orgId}:{phoneId}` | `conv:{with}` | `phoneId`, `phoneNumber`, `with`, `inbound` (count), `optedOut`?, `startedBy` (`inbound` or `outbound`: its first message), `last` (JSON), `lastSid`, `lastStatus`, `lastRank`, `lastErrorCode`?; once it has a message: `inbox` (= pk) and `activity` (the newest position), the keys of the `inbox-activity` index |
//! | message | `sms:{orgId}:{phoneId}` | `msg:{with}:{position}` | `doc` (JSON), `direction`, `status`, `statusRank`, `errorCode`? |
//! | message pointer | `smsid:{MessageSid}` | `msg` | `inbox`, `with`, `position`; or, before its message is stored, `pendingStatus`, `pendingRank`, `pendingErrorCode`?, `expiresAt` (s, TTL) |
//! | read mark | `softphone:{orgId}:{identity}` | `~smsread:{phoneId}:{with}` | `phoneId`, `with`, `readInbound` |
//! | send claim | `softphone:{orgId}:{identity}` | `~smssend:{clientMessageId}` | `inbox`, `with`, `position` once sent; `expiresAt` (s, TTL: a day) |
//! | rate counter | `softphone:{orgId}:{identity}` | `~rate:{sms\|newto\|calls}:{windowStart}` | `count`, `expiresAt` (s, TTL: the window's end) |
//! | call history entry | `softphone:{orgId}:{identity}` | `~hist:{startedAt:016x}:{CallSid}` | `callSid`, `direction`, `from`, `to`, `phoneId`?, `phoneNumber`?, `startedAt`; facts: `answeredBy`, `answeredByName`, `answeredAt`, `endedAt`, `durationSeconds`, `missed`, `canceled`, `recordingSid`, `recordingDuration`, `voicemailDeleted`, `offeredTo` (SS, one element per step of ringing); `expiresAt` (s, TTL: `CALL_HISTORY_RETENTION_DAYS`) |
//! | calls seen mark | `softphone:{orgId}:{identity}` | `~hist:~seen` | `upTo` (a history position) |
//! | call pointer | `callhist:{CallSid}` | `call` | `org`, `startedAt`, `expiresAt` |
//! | voicemail pointer | `voicemail:{RecordingSid}` | `vm` | `org`, `phoneId`?, `callSid`, `startedAt`, `users` (the users' `pk`s, a string set), `expiresAt` |
//! | warm-up | `warmup` | `warmup` | (never written) |
//!
//! Device ids are `[A-Za-z0-9._:-]`, so no device's sort key starts with `#` or `~`: call rows
//! share the user's partition (one query reads devices and calls) without colliding, and
//! everything presence does not read sorts after `~`, outside its query's range.

use crate::domain::{DeviceId, E164, OrgId, UserKey};
use crate::events::Cursor;
use crate::sms::message::{Inbox, Party};
use crate::store::PresenceKey;

/// The partition key attribute.
pub const PK: &str = "pk";
/// The sort key attribute.
pub const SK: &str = "sk";
/// Epoch seconds after which an item is gone: the table's TTL attribute, filtered on by every
/// read because DynamoDB deletes expired items days late.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// One user's devices, remote sign-outs and calls.
pub const PRESENCE_PREFIX: &str = "softphone:";

pub fn presence_pk(key: &PresenceKey) -> String {
    format!("{PRESENCE_PREFIX}{}:{}", key.org, key.identity)
}

pub const CALL_SK_PREFIX: &str = "#call:";

pub fn call_sk(call_sid: &str) -> String {
    format!("{CALL_SK_PREFIX}{call_sid}")
}

/// The person: the status they set, and which devices and calls of theirs to read for the
/// team view (`person::DEVICES`, `person::CALLS`). `#` never occurs in a device id.
pub const PERSON_SK: &str = "#person";

/// Presence reads the sort keys below this: devices, sign-outs, calls and the person.
pub const PRESENCE_SK_END: &str = "~";
pub const EVENT_SK_PREFIX: &str = "~evt:";
pub const STATE_SK_PREFIX: &str = "~state:";
pub const CONNECTION_SK_PREFIX: &str = "~conn:";

pub fn event_sk(cursor: &Cursor) -> String {
    format!("{EVENT_SK_PREFIX}{cursor}")
}

/// The last event sort key of any partition: cursors are hex, `~` sorts after them.
pub const EVENT_SK_END: &str = "~evt:~";

pub fn state_sk(device_id: &DeviceId) -> String {
    format!("{STATE_SK_PREFIX}{device_id}")
}

pub fn connection_sk(connection_id: &str) -> String {
    format!("{CONNECTION_SK_PREFIX}{connection_id}")
}

/// An event's alert sent to one device, in its user's partition: a second claim fails the
/// write's condition.
pub const ALERT_SK_PREFIX: &str = "~alert:";

pub fn alert_sk(cursor: &str, device_id: &DeviceId) -> String {
    format!("{ALERT_SK_PREFIX}{cursor}:{device_id}")
}

/// A realtime ticket that opened a connection, in its user's partition: a second use fails the
/// write's condition.
pub const TICKET_SK_PREFIX: &str = "~ticket:";

pub fn ticket_sk(ticket_id: &str) -> String {
    format!("{TICKET_SK_PREFIX}{ticket_id}")
}

/// One person's directory profile, under the hash of their identity (which names their org).
pub const USER_PREFIX: &str = "user:";
pub const PROFILE_SK: &str = "profile";

pub fn user_pk(key: &UserKey) -> String {
    format!("{USER_PREFIX}{key}")
}

/// One org's directory records, each under a prefix of its kind.
pub const ORG_PREFIX: &str = "org:";
pub const ORG_USER_SK_PREFIX: &str = "user:";
pub const GROUP_SK_PREFIX: &str = "group:";
pub const PHONE_SK_PREFIX: &str = "phone:";
/// The org's `outbound` settings, when the file sets them.
pub const ORG_OUTBOUND_SK: &str = "outbound";
/// The org's `notifications` settings, when the file sets them.
pub const ORG_NOTIFICATIONS_SK: &str = "notifications";

pub fn org_pk(org: &OrgId) -> String {
    format!("{ORG_PREFIX}{org}")
}

/// Everything routing needs about one number.
pub const NUMBER_PREFIX: &str = "number:";
pub const ROUTE_SK: &str = "route";

pub fn number_pk(number: &E164) -> String {
    format!("{NUMBER_PREFIX}{}", number.as_str())
}

/// One number's SMS inbox: its conversations and their messages.
pub const SMS_PREFIX: &str = "sms:";
pub const CONVERSATION_SK_PREFIX: &str = "conv:";
pub const MESSAGE_SK_PREFIX: &str = "msg:";
/// The index of conversations by latest activity, per inbox (sparse: only conversations with
/// a message carry its keys).
pub const INBOX_INDEX: &str = "inbox-activity";

pub fn inbox_pk(inbox: &Inbox) -> String {
    format!("{SMS_PREFIX}{}:{}", inbox.org, inbox.phone_id)
}

pub fn conversation_sk(with: &Party) -> String {
    format!("{CONVERSATION_SK_PREFIX}{with}")
}

/// A conversation's messages sort by position under this prefix (parties hold no `:`).
pub fn messages_sk_prefix(with: &Party) -> String {
    format!("{MESSAGE_SK_PREFIX}{with}:")
}

pub fn message_sk(with: &Party, position: &str) -> String {
    format!("{MESSAGE_SK_PREFIX}{with}:{position}")
}

/// Where a `MessageSid` is stored: what status callbacks and media requests name.
pub const SMSID_PREFIX: &str = "smsid:";
pub const SMSID_SK: &str = "msg";

pub fn smsid_pk(message_sid: &str) -> String {
    format!("{SMSID_PREFIX}{message_sid}")
}

/// In a user's partition, after `~` like everything presence does not read.
pub const READ_MARK_SK_PREFIX: &str = "~smsread:";
pub const SEND_CLAIM_SK_PREFIX: &str = "~smssend:";

pub fn read_mark_sk(phone_id: &str, with: &Party) -> String {
    format!("{READ_MARK_SK_PREFIX}{phone_id}:{with}")
}

pub fn send_claim_sk(client_message_id: &str) -> String {
    format!("{SEND_CLAIM_SK_PREFIX}{client_message_id}")
}

/// A user's outbound budgets, one counter per kind and window (epoch s of its start), in
/// their partition after `~` (outside presence's range).
pub const RATE_SK_PREFIX: &str = "~rate:";

/// `kind`: the budget's own name (`RateKind::as_str`); the table's keys know no budget.
pub fn rate_sk(kind: &str, window_start: i64) -> String {
    format!("{RATE_SK_PREFIX}{kind}:{window_start}")
}

/// A user's call history, in their partition after `~` (outside presence's range); the seen
/// mark sorts after every entry (`~` after hex digits).
pub const HISTORY_SK_PREFIX: &str = "~hist:";
pub const SEEN_SK: &str = "~hist:~seen";

pub fn history_sk(position: &str) -> String {
    format!("{HISTORY_SK_PREFIX}{position}")
}

/// When a call started, by its `CallSid` (what a seen mark names).
pub const CALLHIST_PREFIX: &str = "callhist:";
pub const CALLHIST_SK: &str = "call";

pub fn callhist_pk(call_sid: &str) -> String {
    format!("{CALLHIST_PREFIX}{call_sid}")
}

/// Where a voicemail is and whose it is, by its `RecordingSid`.
pub const VOICEMAIL_PREFIX: &str = "voicemail:";
pub const VOICEMAIL_SK: &str = "vm";

pub fn voicemail_pk(recording_sid: &str) -> String {
    format!("{VOICEMAIL_PREFIX}{recording_sid}")
}

/// An org's subscriptions to team presence, one item per connection and team: one `Query`
/// finds whom a change of the org's people is told to.
pub const TEAM_PREFIX: &str = "team:";

pub fn team_pk(org: &OrgId) -> String {
    format!("{TEAM_PREFIX}{org}")
}

/// In an org's `team:` partition, after every subscription: the people last told to its
/// watchers as not offline (`~live#{identity}`), which the sweep looks at again.
pub const LIVE_SK_PREFIX: &str = "~live#";
/// Subscriptions sort below this; the live marks above.
pub const SUBSCRIPTIONS_SK_END: &str = "~";

/// An org directory's version and write lock: `dirmeta:{orgId}`, sort key `meta`.
pub const DIRMETA_PREFIX: &str = "dirmeta:";
pub const DIRMETA_SK: &str = "meta";

pub fn dirmeta_pk(org: &OrgId) -> String {
    format!("{DIRMETA_PREFIX}{org}")
}

/// An org's audit log of directory changes.
pub const AUDIT_PREFIX: &str = "audit:";

pub fn audit_pk(org: &OrgId) -> String {
    format!("{AUDIT_PREFIX}{org}")
}

/// Attribute names of the directory's version item and audit entries.
pub mod admin {
    pub const VERSION: &str = "version";
    pub const LOCK: &str = "lock";
    pub const LOCKED_UNTIL: &str = "lockedUntil";
    /// Set when a write failed after writing: the org's next write rewrites every view.
    pub const DIRTY: &str = "dirty";
    pub const AT: &str = "at";
    pub const ACTOR: &str = "actor";
    pub const ACTION: &str = "action";
    pub const KIND: &str = "kind";
    pub const ID: &str = "id";
    pub const BEFORE: &str = "before";
    pub const AFTER: &str = "after";
}

/// A round-robin group's turn counter: `turn:{orgId}`, sort key the group id, attribute `n`.
pub const TURN_PREFIX: &str = "turn:";

pub fn turn_pk(org: &OrgId) -> String {
    format!("{TURN_PREFIX}{org}")
}

/// The orgs a connection has subscribed in (sort key: the org id): where the sweep looks.
pub const TEAMS_PK: &str = "teams";

/// A subscription's sort key: its connection, then its team, so that one connection's are a
/// prefix.
pub fn subscription_sk(connection_id: &str, team: &str) -> String {
    format!("{connection_id}#{team}")
}

pub mod subscription {
    pub const SUBSCRIBER: &str = "subscriber";
    pub const TEAM: &str = "team";
    pub const MEMBERS: &str = "members";
    /// On a live mark: the person's `pk`.
    pub const PERSON: &str = "person";
}

/// Whose a realtime connection is: API Gateway's `$disconnect` names only the connection.
pub const CONNECTION_PREFIX: &str = "connection:";
pub const OWNER_SK: &str = "owner";

pub fn connection_pk(connection_id: &str) -> String {
    format!("{CONNECTION_PREFIX}{connection_id}")
}

/// The user of a presence partition key (the inverse of [`presence_pk`]): org ids never hold
/// `:`, identities may.
pub fn presence_key_of(pk: &str) -> Option<PresenceKey> {
    let (org, identity) = pk.strip_prefix(PRESENCE_PREFIX)?.split_once(':')?;
    Some(PresenceKey {
        org: OrgId::parse_field(org, "org").ok()?,
        identity: crate::domain::Identity::parse(identity).ok()?,
    })
}

/// The partition listing every org that has a directory (sort keys `org:{orgId}`).
pub const DIRECTORY_PK: &str = "directory";
/// The key every function may read at init (template.yaml grants `GetItem` on it alone) and no
/// record uses: reading it opens a connection, costs half a read unit and finds nothing.
pub const WARMUP_KEY: &str = "warmup";

/// Every partition key or prefix an IAM condition may name.
pub const PARTITIONS: &[&str] = &[
    PRESENCE_PREFIX,
    CONNECTION_PREFIX,
    TEAM_PREFIX,
    TEAMS_PK,
    TURN_PREFIX,
    USER_PREFIX,
    ORG_PREFIX,
    NUMBER_PREFIX,
    SMS_PREFIX,
    SMSID_PREFIX,
    CALLHIST_PREFIX,
    VOICEMAIL_PREFIX,
    DIRMETA_PREFIX,
    AUDIT_PREFIX,
    DIRECTORY_PK,
    WARMUP_KEY,
];

/// Attribute names of device items.
pub mod device {
    pub const USER_EMAIL: &str = "userEmail";
    pub const PLATFORM: &str = "platform";
    pub const LABEL: &str = "label";
    pub const CAPABILITIES: &str = "capabilities";
    pub const USER_AGENT: &str = "userAgent";
    pub const IP: &str = "ip";
    pub const LAST_SEEN: &str = "lastSeen";
    /// Epoch seconds: `lastSeen` plus the foreground TTL. Rows written before push
    /// reachability lack it; their `expiresAt` is that time.
    pub const ONLINE_UNTIL: &str = "onlineUntil";
    /// The foreground TTL.
    pub const TTL_SECONDS: &str = "ttlSeconds";
    /// The TTL while push-registered: `reachUntil` is `lastSeen` plus this.
    pub const PUSH_TTL_SECONDS: &str = "pushTtlSeconds";
    /// Epoch seconds: the end of the device's push reach (`lastSeen` plus `pushTtlSeconds`).
    /// Rows written before socket presence lack it; their `expiresAt` is that time.
    pub const REACH_UNTIL: &str = "reachUntil";
    /// Epoch seconds: until when a realtime connection keeps the device live.
    pub const SOCKET_UNTIL: &str = "socketUntil";
    /// The connection whose keep-alive set `socketUntil`.
    pub const SOCKET_CONNECTION: &str = "socketConnection";
    pub const REGISTRATION_ID: &str = "registrationId";
    pub const TWILIO_STATE: &str = "twilioState";
    /// A phone's alert registration (issue 31): `apns`, `apns-sandbox` or `fcm`, and its token.
    pub const PUSH_PROVIDER: &str = "pushProvider";
    pub const PUSH_TOKEN: &str = "pushToken";
    /// Present only on a remotely signed-out device's tombstone.
    pub const SIGNED_OUT_AT: &str = "signedOutAt";
}

/// Attribute names of event items.
pub mod event {
    pub const TYPE: &str = "type";
    pub const AT: &str = "at";
    pub const DATA: &str = "data";
}

/// Attribute names of device-state and connection items beyond the device's own.
pub mod state {
    /// A connection's device.
    pub const DEVICE_ID: &str = "deviceId";
    /// A connection's owner: the user's partition key.
    pub const USER: &str = "user";
}

/// Attribute names of call items.
pub mod call {
    pub const SINCE: &str = "since";
    pub const ENDED: &str = "ended";
}

pub mod person {
    pub const STATUS: &str = "status";
    pub const UNTIL: &str = "until";
    pub const NOTE: &str = "note";
    pub const STATUS_AT: &str = "statusAt";
    /// The ids of the person's devices (a string set): added by register, removed by
    /// unregister, sign-out and eviction; ids of devices that expired stay until then.
    pub const DEVICES: &str = "devices";
    /// The `CallSid`s of the calls they answered and that have not ended (a string set).
    pub const CALLS: &str = "calls";
    /// What their watchers were last told of their presence (`team.presence`), and when that
    /// was read (epoch ms): an older reading never overwrites a newer one.
    pub const SHOWN: &str = "shown";
    pub const SHOWN_AT: &str = "shownAt";
    /// `true` once a write has kept `devices` and `calls` (since people presence came): the
    /// team read trusts them only then, and reads the partition otherwise.
    pub const KEPT: &str = "kept";
    /// When their last call ended (epoch ms): longest idle first.
    pub const LAST_CALL_ENDED: &str = "lastCallEnded";
}

/// Attribute names of directory items (a JSON document and its place in the file).
pub mod doc {
    pub const DOC: &str = "doc";
    pub const POS: &str = "pos";
}

/// Attribute names of the SMS inbox's items.
pub mod sms {
    pub const PHONE_ID: &str = "phoneId";
    pub const PHONE_NUMBER: &str = "phoneNumber";
    pub const WITH: &str = "with";
    pub const INBOUND: &str = "inbound";
    pub const OPTED_OUT: &str = "optedOut";
    /// `inbound` or `outbound`: the direction of the conversation's first message.
    pub const STARTED_BY: &str = "startedBy";
    pub const LAST: &str = "last";
    pub const LAST_SID: &str = "lastSid";
    pub const LAST_STATUS: &str = "lastStatus";
    pub const LAST_RANK: &str = "lastRank";
    pub const LAST_ERROR_CODE: &str = "lastErrorCode";
    /// The index keys: the inbox's partition key and the newest position.
    pub const INBOX: &str = "inbox";
    pub const ACTIVITY: &str = "activity";
    pub const DIRECTION: &str = "direction";
    pub const STATUS: &str = "status";
    pub const STATUS_RANK: &str = "statusRank";
    pub const ERROR_CODE: &str = "errorCode";
    pub const POSITION: &str = "position";
    pub const PENDING_STATUS: &str = "pendingStatus";
    pub const PENDING_RANK: &str = "pendingRank";
    pub const PENDING_ERROR_CODE: &str = "pendingErrorCode";
    pub const READ_INBOUND: &str = "readInbound";
}

/// Attribute names of rate counters.
pub mod rate {
    /// How many the window has counted.
    pub const COUNT: &str = "count";
}

/// Attribute names of call history items.
pub mod hist {
    pub const CALL_SID: &str = "callSid";
    pub const DIRECTION: &str = "direction";
    pub const FROM: &str = "from";
    pub const TO: &str = "to";
    pub const PHONE_ID: &str = "phoneId";
    pub const PHONE_NUMBER: &str = "phoneNumber";
    pub const STARTED_AT: &str = "startedAt";
    pub const ANSWERED_BY: &str = "answeredBy";
    pub const ANSWERED_BY_NAME: &str = "answeredByName";
    pub const ANSWERED_AT: &str = "answeredAt";
    pub const ENDED_AT: &str = "endedAt";
    pub const DURATION: &str = "durationSeconds";
    pub const MISSED: &str = "missed";
    pub const CANCELED: &str = "canceled";
    pub const RECORDING_SID: &str = "recordingSid";
    pub const RECORDING_DURATION: &str = "recordingDuration";
    pub const VOICEMAIL_DELETED: &str = "voicemailDeleted";
    /// A string set: each step of ringing, as [`crate::history::Offer::encode`] writes it.
    pub const OFFERED_TO: &str = "offeredTo";
    pub const UP_TO: &str = "upTo";
    pub const ORG: &str = "org";
    pub const USERS: &str = "users";
}
