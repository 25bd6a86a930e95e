//! People presence: what a person looks like to their colleagues. One shape everywhere (their
//! own status, the team view): the status they set, as in force now, and what their devices
//! and calls say, with `effective` derived on every read and never stored.

use serde::Serialize;

use crate::domain::{Availability, Capability, Email, Identity, PersonStatus, Reachability};
use crate::store::UserPresence;

/// What a colleague sees at a glance, most telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Effective {
    /// No live voice device.
    Offline,
    /// On a call (whatever their status).
    OnCall,
    Dnd,
    Away,
    Available,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceCounts {
    /// Live devices reachable now (heartbeating or on their socket).
    pub online: usize,
    /// Live devices reachable only through a push (a phone asleep).
    pub push: usize,
}

/// A person's presence: `GET`/`PUT /phone/presence/status`, each entry of `GET /phone/team`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonPresence {
    pub email: String,
    pub name: Option<String>,
    pub identity: String,
    pub status: &'static str,
    pub until: Option<i64>,
    pub note: Option<String>,
    pub effective: Effective,
    pub on_call: bool,
    pub on_call_since: Option<i64>,
    /// When one of their live devices was last heard from (epoch ms); none when offline.
    pub last_seen: Option<i64>,
    pub devices: DeviceCounts,
}

/// Who the person is, as the directory says.
pub struct Person<'a> {
    pub email: &'a Email,
    pub name: Option<&'a str>,
    pub identity: &'a Identity,
}

impl PersonPresence {
    /// `person`'s presence at `now_ms`, from what the presence store read of them.
    pub fn of(person: &Person<'_>, presence: &UserPresence, now_ms: i64) -> Self {
        let status = PersonStatus::in_force(presence.status.as_ref(), now_ms);
        let mut devices = DeviceCounts { online: 0, push: 0 };
        for device in &presence.devices {
            match device.reachability(now_ms) {
                Reachability::Online => devices.online += 1,
                Reachability::Push => devices.push += 1,
            }
        }
        let voice = presence
            .devices
            .iter()
            .any(|d| d.capabilities.contains(Capability::Voice));
        let on_call_since = presence.on_call_since();
        let effective = match (voice, on_call_since, status.availability) {
            (false, _, _) => Effective::Offline,
            (true, Some(_), _) => Effective::OnCall,
            (true, None, Availability::Dnd) => Effective::Dnd,
            (true, None, Availability::Away) => Effective::Away,
            (true, None, Availability::Available) => Effective::Available,
        };
        Self {
            email: person.email.to_string(),
            name: person.name.map(str::to_owned),
            identity: person.identity.to_string(),
            status: status.availability.as_str(),
            until: status.until,
            note: status.note,
            effective,
            on_call: on_call_since.is_some(),
            on_call_since,
            last_seen: presence.devices.iter().map(|d| d.last_seen).max(),
            devices,
        }
    }
}

impl PersonPresence {
    /// What a colleague is told of when it changes (`team.presence`): not a heartbeat's
    /// `lastSeen`, nor the device counts alone.
    pub fn told(&self) -> (Effective, &str, Option<i64>, Option<&str>, bool) {
        (
            self.effective,
            self.status,
            self.until,
            self.note.as_deref(),
            self.on_call,
        )
    }

    /// The `team.presence` frame of this presence.
    pub fn frame(&self) -> String {
        serde_json::json!({"type": "team.presence", "data": self}).to_string()
    }
}
