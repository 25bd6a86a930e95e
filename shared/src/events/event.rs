//! What a user's devices learn: an event, its kind, and the data each kind carries. Events are
//! written to the user's log by the request that caused them (never a plain heartbeat), read
//! back by catch-up (`GET /phone/events`) and pushed over the realtime channel.

use serde::Serialize;
use serde_json::{Value, json};

use super::Cursor;
use crate::domain::{DeviceId, PersonStatus, Reachability};

/// The kinds of events, as their `type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The user's device list changed: a device registered, changed its label, platform,
    /// capabilities or Twilio state, unregistered, was evicted or signed out.
    DevicesChanged,
    /// This device was signed out from another one (`data.deviceId`).
    DeviceSignedOut,
    /// A leg of the user's calls was answered or ended (`data.onCall`, `data.onCallSince`).
    CallState,
    /// A text reached one of the user's numbers (`data.conversation`, `data.message`).
    SmsReceived,
    /// A user of one of the user's numbers sent a text from it (`data.conversation`,
    /// `data.message`).
    SmsSent,
    /// A sent text's delivery status moved (`data.phoneId`, `data.with`, `data.messageSid`,
    /// `data.status`, `data.errorCode`).
    SmsStatus,
    /// The user read a conversation up to a message on another device (`data.phoneId`,
    /// `data.with`, `data.upTo`, `data.unread`).
    SmsRead,
    /// A call to the user was missed (nobody could be rung, or the dial ended unanswered),
    /// before any voicemail is left: the call's history entry.
    CallMissed,
    /// A caller left a voicemail on a call to the user: the call's history entry.
    VoicemailReceived,
    /// The user marked their history seen on another device (`data.upTo`, a `CallSid`).
    CallsSeen,
    /// A voicemail on a call to the user was deleted, on any device of any user of the number
    /// (`data.callSid`, `data.recordingSid`).
    VoicemailDeleted,
    /// The user set their status, on any of their devices (`data.status`, `data.until`,
    /// `data.note`).
    PresenceStatus,
    /// An admin's change of the directory changed the numbers that ring the user
    /// (`data.assignedPhones`, as `GET /phone/user-phones` shows them).
    PhonesChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::DevicesChanged,
        EventKind::DeviceSignedOut,
        EventKind::CallState,
        EventKind::SmsReceived,
        EventKind::SmsSent,
        EventKind::SmsStatus,
        EventKind::SmsRead,
        EventKind::CallMissed,
        EventKind::VoicemailReceived,
        EventKind::CallsSeen,
        EventKind::VoicemailDeleted,
        EventKind::PresenceStatus,
        EventKind::PhonesChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DevicesChanged => "devices.changed",
            Self::DeviceSignedOut => "device.signedOut",
            Self::CallState => "call.state",
            Self::SmsReceived => "sms.received",
            Self::SmsSent => "sms.sent",
            Self::SmsStatus => "sms.status",
            Self::SmsRead => "sms.read",
            Self::CallMissed => "call.missed",
            Self::VoicemailReceived => "voicemail.received",
            Self::CallsSeen => "calls.seen",
            Self::VoicemailDeleted => "voicemail.deleted",
            Self::PresenceStatus => "presence.status",
            Self::PhonesChanged => "phones.changed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Whether only devices with the `sms` capability are told (the inbox's events).
    pub fn for_sms_devices(self) -> bool {
        matches!(
            self,
            Self::SmsReceived | Self::SmsSent | Self::SmsStatus | Self::SmsRead
        )
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One event of a user's log: `{"cursor", "type", "at", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub cursor: Cursor,
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it happened, epoch milliseconds.
    pub at: i64,
    pub data: Value,
}

/// Why a device list changed, in `devices.changed`'s `data.change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceChange {
    Registered,
    Updated,
    Unregistered,
    Evicted,
    SignedOut,
}

impl DeviceChange {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Updated => "updated",
            Self::Unregistered => "unregistered",
            Self::Evicted => "evicted",
            Self::SignedOut => "signedOut",
        }
    }
}

impl Event {
    /// A new event at `now_ms`, with a fresh cursor.
    pub fn new(kind: EventKind, now_ms: i64, data: Value) -> Self {
        Self {
            cursor: Cursor::next(now_ms),
            kind,
            at: now_ms,
            data,
        }
    }

    pub fn devices_changed(device_id: &DeviceId, change: DeviceChange, now_ms: i64) -> Self {
        let mut data = json!({ "deviceId": device_id, "change": change.as_str() });
        // A register or a heartbeat is the device itself speaking: online at that moment. Its
        // passing from online to push later is no write, and so no event.
        if matches!(change, DeviceChange::Registered | DeviceChange::Updated) {
            data["reachability"] = Reachability::Online.as_str().into();
        }
        Self::new(EventKind::DevicesChanged, now_ms, data)
    }

    pub fn device_signed_out(device_id: &DeviceId, now_ms: i64) -> Self {
        Self::new(
            EventKind::DeviceSignedOut,
            now_ms,
            json!({ "deviceId": device_id }),
        )
    }

    /// A call leg of the user answered (`since_ms`) or over (`None`).
    pub fn call_state(call_sid: &str, since_ms: Option<i64>, now_ms: i64) -> Self {
        let data = json!({
            "callSid": call_sid,
            "onCall": since_ms.is_some(),
            "onCallSince": since_ms,
        });
        Self::new(EventKind::CallState, now_ms, data)
    }

    /// The user set `status` (as they set it: its end by time is each reader's to apply).
    pub fn presence_status(status: &PersonStatus, now_ms: i64) -> Self {
        let data = json!({
            "status": status.availability.as_str(),
            "until": status.until,
            "note": status.note,
        });
        Self::new(EventKind::PresenceStatus, now_ms, data)
    }

    /// The frame pushed over the realtime channel: the event as catch-up returns it.
    pub fn frame(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
