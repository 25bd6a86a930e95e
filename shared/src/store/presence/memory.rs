//! Presence in memory: devices, remote sign-outs and call rows, with the events each change
//! writes to the user's log (the same ones the DynamoDB store writes).

use std::collections::btree_map::Entry;

use async_trait::async_trait;

use crate::domain::{DeviceId, PersonStatus};
use crate::events::{DeviceChange, Event};
use crate::store::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, HeartbeatOutcome, HeartbeatUpdate,
    PresenceKey, PresenceStore, RegisterOutcome, Registered, Registration, SocketAlive,
    SocketClosed, StoreError, Unregistration, UserPresence, eviction_candidates, is_live,
    sort_most_recent_first,
};
use crate::store::{CallRow, MemoryStore};

#[async_trait]
impl PresenceStore for MemoryStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        let now_ms = registration.now_ms;
        let device = registration.record();
        let (registered, events) = {
            let mut presence = self.presence();
            let partition = presence.entry(registration.key.clone()).or_default();
            if partition.signed_out(&device.device_id, now_ms) && !registration.sign_in {
                return Ok(RegisterOutcome::SignedOut);
            }
            partition.signed_out.remove(&device.device_id);
            // A register replaces what the device reported, not its open connection's presence.
            let mut device = device;
            if let Some(old) = partition.devices.get(&device.device_id) {
                device.socket_until = old.socket_until;
                device.socket_connection = old.socket_connection.clone();
            }
            let old = partition
                .devices
                .insert(device.device_id.clone(), device.clone())
                .filter(|old| old.is_live(now_ms));
            let mut events = Vec::new();
            let change = match &old {
                None => Some(DeviceChange::Registered),
                Some(old) if old.state() != device.state() => Some(DeviceChange::Updated),
                Some(_) => None,
            };
            if let Some(change) = change {
                events.push(Event::devices_changed(&device.device_id, change, now_ms));
            }
            // A device that was already live adds nothing to the count: no eviction to consider.
            let evicted: Vec<DeviceId> = if old.is_some() {
                Vec::new()
            } else {
                let live = partition
                    .devices
                    .values()
                    .filter(|d| d.is_live(now_ms))
                    .cloned()
                    .collect();
                eviction_candidates(live, registration.max_live)
                    .into_iter()
                    .map(|d| d.device_id)
                    .collect()
            };
            for id in &evicted {
                partition.devices.remove(id);
                events.push(Event::devices_changed(id, DeviceChange::Evicted, now_ms));
            }
            self.log(partition, &events);
            (Registered { device, evicted }, events)
        };
        self.publish(&registration.key, events).await;
        Ok(RegisterOutcome::Registered(registered))
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let now_ms = update.now_ms;
        let (device, events) = {
            let mut presence = self.presence();
            let Some(partition) = presence.get_mut(key) else {
                return Ok(HeartbeatOutcome::NotRegistered);
            };
            if partition.signed_out(device_id, now_ms) {
                return Ok(HeartbeatOutcome::SignedOut);
            }
            let Some(device) = partition.devices.get_mut(device_id) else {
                return Ok(HeartbeatOutcome::NotRegistered);
            };
            if !device.is_live(now_ms) {
                return Ok(HeartbeatOutcome::NotRegistered);
            }
            let before = device.state();
            apply(device, update);
            let device = device.clone();
            let mut events = Vec::new();
            if device.state() != before {
                events.push(Event::devices_changed(
                    device_id,
                    DeviceChange::Updated,
                    now_ms,
                ));
            }
            self.log(partition, &events);
            (device, events)
        };
        self.publish(key, events).await;
        Ok(HeartbeatOutcome::Live(device))
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        let now_ms = how.now_ms;
        let (removed, events) = {
            let mut presence = self.presence();
            let partition = presence.entry(key.clone()).or_default();
            let mut events = Vec::new();
            if let Some(until) = how.signed_out_until {
                partition.signed_out.insert(device_id.clone(), until);
                events.push(Event::devices_changed(
                    device_id,
                    DeviceChange::SignedOut,
                    now_ms,
                ));
                events.push(Event::device_signed_out(device_id, now_ms));
            } else if let Some(wanted) = &how.registration_id {
                let current = partition.devices.get(device_id).map(|d| &d.registration_id);
                if current != Some(wanted) {
                    return Ok(false);
                }
            }
            let removed = partition
                .devices
                .remove(device_id)
                .is_some_and(|d| d.is_live(now_ms));
            if removed && how.signed_out_until.is_none() {
                let change = DeviceChange::Unregistered;
                events.push(Event::devices_changed(device_id, change, now_ms));
            }
            self.log(partition, &events);
            (removed, events)
        };
        self.publish(key, events).await;
        Ok(removed)
    }

    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let presence = self.presence();
        let Some(partition) = presence.get(key) else {
            return Ok(UserPresence::default());
        };
        let mut devices: Vec<DeviceRecord> = partition
            .devices
            .values()
            .filter(|d| d.is_live(now_ms))
            .cloned()
            .collect();
        sort_most_recent_first(&mut devices);
        let calls = partition
            .calls
            .iter()
            .filter(|(_, row)| !row.ended && is_live(row.expires_at, now_ms))
            .map(|(sid, row)| ActiveCall {
                call_sid: sid.clone(),
                since_ms: row.since_ms,
            })
            .collect();
        Ok(UserPresence {
            devices,
            calls,
            status: partition.status.clone(),
            shown: partition.shown.as_ref().map(|(told, _)| told.clone()),
            last_call_ended: partition.last_call_ended,
        })
    }

    async fn set_status(&self, key: &PresenceKey, status: &PersonStatus) -> Result<(), StoreError> {
        let event = Event::presence_status(status, status.set_at);
        {
            let mut presence = self.presence();
            let partition = presence.entry(key.clone()).or_default();
            partition.status = Some(status.clone());
            self.log(partition, std::slice::from_ref(&event));
        }
        self.publish(key, vec![event]).await;
        Ok(())
    }

    async fn shown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<bool, StoreError> {
        let mut presence = self.presence();
        let partition = presence.entry(key.clone()).or_default();
        let claimed = match &partition.shown {
            Some((shown, at)) => shown != told && *at < read_at,
            None => true,
        };
        if claimed {
            partition.shown = Some((told.to_owned(), read_at));
        }
        Ok(claimed)
    }

    async fn unshown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<(), StoreError> {
        let mut presence = self.presence();
        if let Some(partition) = presence.get_mut(key)
            && partition
                .shown
                .as_ref()
                .is_some_and(|(s, at)| s == told && *at == read_at)
        {
            partition.shown = None;
        }
        Ok(())
    }

    async fn people(
        &self,
        keys: &[PresenceKey],
        now_ms: i64,
    ) -> Result<Vec<UserPresence>, StoreError> {
        let mut people = Vec::with_capacity(keys.len());
        for key in keys {
            people.push(PresenceStore::presence(self, key, now_ms).await?);
        }
        Ok(people)
    }

    async fn socket_alive(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        alive: SocketAlive,
    ) -> Result<bool, StoreError> {
        let now_ms = alive.now_ms;
        let events = {
            let mut presence = self.presence();
            let Some(partition) = presence.get_mut(key) else {
                return Ok(false);
            };
            if partition.signed_out(device_id, now_ms) {
                return Ok(false);
            }
            let Some(device) = partition.devices.get_mut(device_id) else {
                return Ok(false);
            };
            if !device.is_live(now_ms) {
                return Ok(false);
            }
            let before = device.state();
            device.last_seen = now_ms;
            device.socket_until = alive.until;
            device.socket_connection = Some(alive.connection_id);
            if alive.twilio_state.is_some() {
                device.twilio_state = alive.twilio_state;
            }
            let mut events = Vec::new();
            if device.state() != before {
                let change = DeviceChange::Updated;
                events.push(Event::devices_changed(device_id, change, now_ms));
            }
            self.log(partition, &events);
            events
        };
        self.publish(key, events).await;
        Ok(true)
    }

    async fn socket_closed(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        closed: SocketClosed,
    ) -> Result<(), StoreError> {
        let mut presence = self.presence();
        let device = presence
            .get_mut(key)
            .and_then(|partition| partition.devices.get_mut(device_id));
        if let Some(device) = device
            && device.socket_connection.as_deref() == Some(closed.connection_id.as_str())
        {
            device.socket_until = closed.until;
        }
        Ok(())
    }

    async fn claim_alert(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        cursor: &str,
        now_s: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let mut presence = self.presence();
        let claims = &mut presence.entry(key.clone()).or_default().alerts;
        // What DynamoDB's TTL does: expired claims go (the events they were of are gone too).
        claims.retain(|_, until| *until > now_s);
        match claims.entry((cursor.to_owned(), device_id.clone())) {
            Entry::Occupied(_) => Ok(false),
            Entry::Vacant(slot) => {
                slot.insert(expires_at);
                Ok(true)
            }
        }
    }

    async fn drop_push_token(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        token: &str,
    ) -> Result<bool, StoreError> {
        let mut presence = self.presence();
        let device = presence
            .get_mut(key)
            .and_then(|p| p.devices.get_mut(device_id))
            .filter(|d| d.notifications.as_ref().is_some_and(|n| n.token == token));
        Ok(match device {
            Some(device) => {
                device.notifications = None;
                true
            }
            None => false,
        })
    }

    async fn record_call(&self, key: &PresenceKey, call: CallEvent) -> Result<(), StoreError> {
        let now_ms = call.now_ms;
        let events = {
            let mut presence = self.presence();
            let partition = presence.entry(key.clone()).or_default();
            let calls = &mut partition.calls;
            let mut events = Vec::new();
            match call.progress {
                // First word wins; a row that exists (answered before, or already ended) stays.
                CallProgress::Answered => {
                    if let Entry::Vacant(vacant) = calls.entry(call.call_sid) {
                        events.push(Event::call_state(vacant.key(), Some(now_ms), now_ms));
                        vacant.insert(CallRow {
                            since_ms: now_ms,
                            ended: false,
                            expires_at: call.expires_at,
                        });
                    }
                }
                CallProgress::Ended => {
                    let old = calls.get(&call.call_sid);
                    if !old.is_some_and(|r| r.ended) {
                        events.push(Event::call_state(&call.call_sid, None, now_ms));
                        partition.last_call_ended = Some(now_ms);
                    }
                    let row = CallRow {
                        since_ms: old.map_or(now_ms, |r| r.since_ms),
                        ended: true,
                        expires_at: call.expires_at,
                    };
                    calls.insert(call.call_sid, row);
                }
            }
            self.log(partition, &events);
            events
        };
        self.publish(key, events).await;
        Ok(())
    }
}

/// What a heartbeat changes of a live device.
fn apply(device: &mut DeviceRecord, update: HeartbeatUpdate) {
    if let Some((platform, ttls)) = update.platform {
        device.platform = platform;
        device.ttls = ttls;
    }
    if let Some(capabilities) = update.capabilities {
        device.capabilities = capabilities;
    }
    if update.user_agent.is_some() {
        device.user_agent = update.user_agent;
    }
    if update.ip.is_some() {
        device.ip = update.ip;
    }
    if update.twilio_state.is_some() {
        device.twilio_state = update.twilio_state;
    }
    device.seen_at(update.now_ms);
}
