//! The presence store on DynamoDB: devices, remote sign-outs and call rows in each user's
//! partition (`dynamo/keys.rs`), each write with the events it causes in the same round trip.
//! Here the trait: the reads, a register and a heartbeat, call rows; the device writes'
//! requests (and the device-state item that tells whether a write changed what the device
//! list shows) in `devices.rs`; the device item in `item.rs`.
//!
//! Whether a register or heartbeat changes what the device list shows is decided by the
//! device's state item (`~state:{deviceId}`): its update is conditioned on a change and
//! written with the `devices.changed` event in one transaction, sent together with the device
//! write. A register of a device that was not live writes its event with the consistent read
//! it makes anyway for the limit; unregisters and evictions delete the device, its state and
//! write the event in one transaction, so a repeated one logs nothing.

mod alerts;
mod devices;
mod item;
mod person;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use futures::future::{OptionFuture, join, join3, try_join_all};

use self::devices::{reported_fields, state_fields};
use self::item::{
    REGISTER_REMOVES, device_attributes, device_from_item, is_live_device, is_signed_out,
};
use self::person::SetChange;
use crate::domain::{DeviceId, PersonStatus};
use crate::events::{DeviceChange, Event};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{keyed, n};
use crate::store::dynamo::keys::{
    PK, PRESENCE_SK_END, TTL_ATTRIBUTE, call, call_sk, device, presence_pk,
};
use crate::store::dynamo::outcome::{Conditional, conditional};
use crate::store::dynamo::query::SkRange;
use crate::store::dynamo::tx::{TxOutcome, built};
use crate::store::{
    CallEvent, CallProgress, HeartbeatOutcome, HeartbeatUpdate, PresenceKey, PresenceStore,
    RegisterOutcome, Registered, Registration, SocketAlive, SocketClosed, StoreError, StoreName,
    Unregistration, UserPresence, eviction_candidates,
};

const STORE: StoreName = StoreName::Presence;

#[async_trait]
impl PresenceStore for DynamoStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        let key = &registration.key;
        let now_ms = registration.now_ms;
        let device = registration.record();
        // An update, not a put: it replaces what the device reports and leaves its socket
        // presence (an open connection's lease) as it was.
        let mut sets = Vec::new();
        let mut put = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device.device_id.as_str())))
            .return_values(ReturnValue::AllOld);
        let attributes = device_attributes(&device);
        for (i, (name, value)) in attributes.iter().enumerate() {
            sets.push(format!("#r{i} = :r{i}"));
            put = put
                .expression_attribute_names(format!("#r{i}"), name)
                .expression_attribute_values(format!(":r{i}"), value.clone());
        }
        let mut removes = Vec::new();
        for (i, name) in REGISTER_REMOVES.iter().enumerate() {
            if !attributes.contains_key(*name) {
                removes.push(format!("#x{i}"));
                put = put.expression_attribute_names(format!("#x{i}"), *name);
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        put = put.update_expression(expression);
        if !registration.sign_in {
            // Only an explicit sign-in may overwrite a remote sign-out still in force.
            put = put
                .condition_expression("attribute_not_exists(#out) OR #exp <= :nowFloor")
                .expression_attribute_names("#out", device::SIGNED_OUT_AT)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":nowFloor", n(now_ms.div_euclid(1000)));
        }
        let changed = Event::devices_changed(&device.device_id, DeviceChange::Registered, now_ms);
        let fields = state_fields(&device);
        // The person item names the device for the team view: beside the write, no round more.
        let (put, logged, listed) = join3(
            put.send(),
            self.change_state(key, &device.device_id, &fields, &changed),
            self.add_person_device(key, &device.device_id, now_ms),
        )
        .await;
        listed?;
        let old = match conditional(STORE, "UpdateItem", put)? {
            Conditional::Written(out) => out.attributes.unwrap_or_default(),
            Conditional::Refused(_) => return Ok(RegisterOutcome::SignedOut),
        };
        let mut events = Vec::new();
        if logged? {
            events.push(changed.clone());
        }
        // Re-registering a live device (after a token renewal) leaves the count as it was: the
        // write alone tells, so the common case costs one round trip.
        if is_live_device(&old, now_ms) {
            self.publish(key, events).await;
            let registered = Registered {
                device,
                evicted: Vec::new(),
            };
            return Ok(RegisterOutcome::Registered(registered));
        }

        // Read after the write (consistently), so that of several racing registers the last
        // to read sees all of them and trims to the limit. A device that comes back without a
        // change of state logs its return with that read.
        let log_return: OptionFuture<_> = events
            .is_empty()
            .then(|| self.write_event(STORE, key, &changed))
            .into();
        let (live, returned) = join(self.live_devices(key, now_ms), log_return).await;
        if let Some(returned) = returned {
            returned?;
            events.push(changed);
        }
        let live = live?;
        let mut evicted = Vec::new();
        if live.len() > registration.max_live {
            let candidates = eviction_candidates(live, registration.max_live);
            let evictions = candidates
                .iter()
                .map(|victim| self.evict(key, victim, now_ms));
            for (id, event) in try_join_all(evictions).await?.into_iter().flatten() {
                evicted.push(id);
                events.push(event);
            }
        }
        self.publish(key, events).await;
        Ok(RegisterOutcome::Registered(Registered { device, evicted }))
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let now_ms = update.now_ms;
        let changed = Event::devices_changed(device_id, DeviceChange::Updated, now_ms);
        let fields = reported_fields(&update);
        // Only a heartbeat that reports state can change it.
        let log: OptionFuture<_> = (!fields.is_empty())
            .then(|| self.change_state(key, device_id, &fields, &changed))
            .into();
        let (result, logged) =
            join(self.heartbeat_request(key, device_id, update).send(), log).await;
        let logged = logged.transpose()?.unwrap_or(false);
        match conditional(STORE, "UpdateItem", result)? {
            Conditional::Written(out) => {
                let item = out.attributes.unwrap_or_default();
                let device = device_from_item(key, &item)?;
                if logged {
                    self.publish(key, vec![changed]).await;
                }
                Ok(HeartbeatOutcome::Live(device))
            }
            Conditional::Refused(old) => Ok(match old {
                Some(old) if is_signed_out(&old, now_ms) => HeartbeatOutcome::SignedOut,
                _ => HeartbeatOutcome::NotRegistered,
            }),
        }
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        match how.signed_out_until {
            Some(until) => self.sign_out(key, device_id, how.now_ms, until).await,
            None => self.remove(key, device_id, &how).await,
        }
    }

    async fn socket_alive(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        alive: SocketAlive,
    ) -> Result<bool, StoreError> {
        let changed = Event::devices_changed(device_id, DeviceChange::Updated, alive.now_ms);
        // Only a keep-alive that reports the Twilio state can change what the list shows.
        let fields: Vec<(&'static str, String)> = alive
            .twilio_state
            .map(|state| (device::TWILIO_STATE, state.as_str().to_owned()))
            .into_iter()
            .collect();
        let log: OptionFuture<_> = (!fields.is_empty())
            .then(|| self.change_state(key, device_id, &fields, &changed))
            .into();
        let request = self.socket_alive_request(key, device_id, &alive);
        let (result, logged) = join(request.send(), log).await;
        let logged = logged.transpose()?.unwrap_or(false);
        match conditional(STORE, "UpdateItem", result)? {
            Conditional::Written(_) => {
                if logged {
                    self.publish(key, vec![changed]).await;
                }
                Ok(true)
            }
            Conditional::Refused(_) => Ok(false),
        }
    }

    async fn socket_closed(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        closed: SocketClosed,
    ) -> Result<(), StoreError> {
        self.socket_closed_request(key, device_id, &closed).await
    }

    /// One query of the user's partition, below `~`: devices, sign-outs and calls, not the
    /// event log.
    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let range = SkRange::Below(PRESENCE_SK_END);
        let live_after = Some(now_ms.div_euclid(1000));
        let items = self
            .query(STORE, presence_pk(key), range, live_after)
            .await?;
        person::presence_from_items(key, &items, now_ms)
    }

    async fn set_status(&self, key: &PresenceKey, status: &PersonStatus) -> Result<(), StoreError> {
        self.write_status(key, status).await
    }

    async fn shown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<bool, StoreError> {
        self.write_shown(key, told, read_at).await
    }

    async fn unshown(&self, key: &PresenceKey, told: &str, read_at: i64) -> Result<(), StoreError> {
        self.remove_shown(key, told, read_at).await
    }

    async fn people(
        &self,
        keys: &[PresenceKey],
        now_ms: i64,
    ) -> Result<Vec<UserPresence>, StoreError> {
        self.read_people(keys, now_ms).await
    }

    /// One row per dialled leg in the user's partition, with the `call.state` event of each
    /// change, written together. A repeated or late callback changes nothing and logs nothing.
    async fn claim_alert(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        cursor: &str,
        _now_s: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        // DynamoDB's TTL deletes expired claims.
        self.put_alert_claim(key, device_id, cursor, expires_at)
            .await
    }

    async fn drop_push_token(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        token: &str,
    ) -> Result<bool, StoreError> {
        self.remove_push_token(key, device_id, token).await
    }

    async fn record_call(&self, key: &PresenceKey, leg: CallEvent) -> Result<(), StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), call_sk(&leg.call_sid))))
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#since", call::SINCE)
            .expression_attribute_values(":exp", n(leg.expires_at))
            .expression_attribute_values(":now", n(leg.now_ms));
        let (update, event) = match leg.progress {
            // First word wins: a duplicate, or an `answered` arriving after its end, finds the
            // row and changes nothing.
            CallProgress::Answered => (
                update
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
                    .update_expression("SET #since = :now, #exp = :exp"),
                Event::call_state(&leg.call_sid, Some(leg.now_ms), leg.now_ms),
            ),
            // Final whatever came before (keeping `since` if the answer was seen); a second
            // end finds it ended.
            CallProgress::Ended => (
                update
                    .condition_expression("attribute_not_exists(#ended)")
                    .update_expression(
                        "SET #ended = :yes, #exp = :exp, #since = if_not_exists(#since, :now)",
                    )
                    .expression_attribute_names("#ended", call::ENDED)
                    .expression_attribute_values(":yes", AttributeValue::Bool(true)),
                Event::call_state(&leg.call_sid, None, leg.now_ms),
            ),
        };
        // The person item lists the calls they are on, for the team view (which reads by key).
        let change = match leg.progress {
            CallProgress::Answered => SetChange::Add,
            CallProgress::Ended => SetChange::Remove,
        };
        let writes = vec![
            TransactWriteItem::builder()
                .update(built(update.build())?)
                .build(),
            self.put_event(key, &event)?,
            self.person_set_write(
                key,
                crate::store::dynamo::keys::person::CALLS,
                &leg.call_sid,
                change,
                leg.now_ms,
            )?,
        ];
        if let TxOutcome::Written = self.transact(STORE, writes).await? {
            self.publish(key, vec![event]).await;
        }
        Ok(())
    }
}

impl DynamoStore {
    /// Every device row of one identity, expired ones included (what a raw table read shows).
    #[cfg(feature = "test-util")]
    pub async fn stored_rows(&self, key: &PresenceKey) -> Result<usize, StoreError> {
        use crate::store::dynamo::codec::get_s;
        use crate::store::dynamo::keys::{CALL_SK_PREFIX, PERSON_SK, SK};
        let range = SkRange::Below(PRESENCE_SK_END);
        let rows = self.query(STORE, presence_pk(key), range, None).await?;
        let devices = rows.iter().filter(|item| {
            get_s(item, SK).is_some_and(|sk| !sk.starts_with(CALL_SK_PREFIX) && sk != PERSON_SK)
        });
        Ok(devices.count())
    }
}
