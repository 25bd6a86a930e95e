//! Device writes on DynamoDB, each with the events it causes in the same round trip.
//!
//! Whether a register or heartbeat changes what the device list shows is decided by the
//! device's state item (`~state:{deviceId}`): its update is conditioned on a change and
//! written with the `devices.changed` event in one transaction, sent together with the device
//! write. A register of a device that was not live writes its event with the consistent read
//! it makes anyway for the limit; unregisters and evictions delete the device, its state and
//! write the event in one transaction, so a repeated one logs nothing.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use futures::future::{OptionFuture, join, try_join_all};

use super::codec::{
    Item, caps_value, device_from_item, device_item, is_live_device, is_signed_out, keyed, n, s,
};
use super::keys::{PK, TTL_ATTRIBUTE, device, presence_pk};
use super::tx::{TxOutcome, built};
use super::{DynamoStore, classify, is_conditional_failure};
use crate::domain::{DeviceId, TwilioState};
use crate::events::{DeviceChange, Event};
use crate::store::{
    DeviceRecord, HeartbeatOutcome, HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome,
    Registered, Registration, StoreError, Unregistration, eviction_candidates, expiry,
};

/// "The device is live" as a condition on its row, what [`super::codec::is_live_device`] says in
/// code: online, or push-registered within its push reach (`expiresAt`). A row written before
/// `onlineUntil` existed is live until its `expiresAt`. Binds `#online`, `#state`, `#exp`,
/// `:registered` and `:nowFloor` ([`LIVE_NAMES`], [`registered`]).
const LIVE: &str = "(#online > :nowFloor OR \
     ((#state = :registered OR attribute_not_exists(#online)) AND #exp > :nowFloor))";

/// The attribute names [`LIVE`] uses.
const LIVE_NAMES: [(&str, &str); 3] = [
    ("#online", device::ONLINE_UNTIL),
    ("#state", device::TWILIO_STATE),
    ("#exp", TTL_ATTRIBUTE),
];

/// `:registered` of [`LIVE`].
fn registered() -> AttributeValue {
    s(TwilioState::Registered.as_str())
}

/// The state fields a device record shows, for its state item.
fn state_fields(record: &DeviceRecord) -> Vec<(&'static str, String)> {
    vec![
        (device::PLATFORM, record.platform.as_str().to_owned()),
        (device::CAPABILITIES, capabilities_text(record)),
        (
            device::TWILIO_STATE,
            record.twilio_state.map_or("", |t| t.as_str()).to_owned(),
        ),
        (
            device::LABEL,
            record.label.as_ref().map_or("", |l| l.as_str()).to_owned(),
        ),
    ]
}

fn capabilities_text(record: &DeviceRecord) -> String {
    let names: Vec<&str> = record.capabilities.iter().map(|c| c.as_str()).collect();
    names.join(",")
}

/// The state fields a heartbeat reports.
fn reported_fields(update: &HeartbeatUpdate) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    if let Some((platform, _)) = update.platform {
        fields.push((device::PLATFORM, platform.as_str().to_owned()));
    }
    if let Some(capabilities) = &update.capabilities {
        let names: Vec<&str> = capabilities.iter().map(|c| c.as_str()).collect();
        fields.push((device::CAPABILITIES, names.join(",")));
    }
    if let Some(state) = update.twilio_state {
        fields.push((device::TWILIO_STATE, state.as_str().to_owned()));
    }
    fields
}

impl DynamoStore {
    pub(super) async fn register_device(
        &self,
        registration: Registration,
    ) -> Result<RegisterOutcome, StoreError> {
        let key = &registration.key;
        let now_ms = registration.now_ms;
        let device = registration.record();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(device_item(key, &device)))
            .return_values(ReturnValue::AllOld);
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
        let (put, logged) = join(
            put.send(),
            self.change_state(key, &device.device_id, &fields, &changed),
        )
        .await;
        let old = match put {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err) if is_conditional_failure(&err) => return Ok(RegisterOutcome::SignedOut),
            Err(err) => return Err(classify("PutItem", err)),
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
            .then(|| self.write_event(key, &changed))
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

    /// Remove `victim` for the limit, only if not seen since it was read (a device that just
    /// heartbeated stays), with its state and the event, together.
    async fn evict(
        &self,
        key: &PresenceKey,
        victim: &DeviceRecord,
        now_ms: i64,
    ) -> Result<Option<(DeviceId, Event)>, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), victim.device_id.as_str())))
            .condition_expression("#seen = :seen")
            .expression_attribute_names("#seen", device::LAST_SEEN)
            .expression_attribute_values(":seen", n(victim.last_seen));
        let event = Event::devices_changed(&victim.device_id, DeviceChange::Evicted, now_ms);
        let writes = vec![
            TransactWriteItem::builder()
                .delete(built(delete.build())?)
                .build(),
            self.state_delete(key, &victim.device_id)?,
            self.put_event(key, &event)?,
        ];
        Ok(match self.transact(writes).await? {
            TxOutcome::Written => Some((victim.device_id.clone(), event)),
            TxOutcome::Refused(_) => None,
        })
    }

    pub(super) async fn heartbeat_device(
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
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let device = device_from_item(key, &item)?;
                if logged {
                    self.publish(key, vec![changed]).await;
                }
                Ok(HeartbeatOutcome::Live(device))
            }
            Err(err) if is_conditional_failure(&err) => {
                let old = err
                    .as_service_error()
                    .and_then(|e| match e {
                        UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .cloned()
                    .unwrap_or_default();
                Ok(if is_signed_out(&old, now_ms) {
                    HeartbeatOutcome::SignedOut
                } else {
                    HeartbeatOutcome::NotRegistered
                })
            }
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }

    /// The heartbeat's `UpdateItem`: extend a live device, with what else it reports.
    fn heartbeat_request(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let now_s = update.now_ms.div_euclid(1000);
        let mut sets = vec!["#seen = :now".to_owned()];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
            // A device row and still live: an expired row waiting for TTL deletion must not
            // revive, nor may a sign-out's tombstone become a device again. A row from before
            // `pushTtlSeconds` (which the update reads) is refused too: the client registers
            // again, as after any 404, and writes a row of today's shape.
            .condition_expression(format!(
                "attribute_exists(#pushTtl) AND attribute_not_exists(#out) AND {LIVE}"
            ))
            .expression_attribute_names("#out", device::SIGNED_OUT_AT)
            // On refusal the row comes back in the same round trip, to tell 404 from 410.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#seen", device::LAST_SEEN)
            .expression_attribute_names("#ttl", device::TTL_SECONDS)
            .expression_attribute_names("#pushTtl", device::PUSH_TTL_SECONDS)
            .expression_attribute_values(":registered", registered())
            .expression_attribute_values(":now", n(update.now_ms))
            .expression_attribute_values(":nowFloor", n(now_s))
            .return_values(ReturnValue::AllNew);
        for (name, attribute) in LIVE_NAMES {
            request = request.expression_attribute_names(name, attribute);
        }
        // Both expiries start again. Whether the device is still callable after
        // `onlineUntil` is its Twilio state's to say, at every read, so reporting a state
        // needs no TTL of its own here.
        match update.platform {
            Some((platform, ttls)) => {
                sets.push(
                    "#online = :online, #exp = :exp, #ttl = :ttl, #pushTtl = :pushTtl, \
                     #platform = :platform"
                        .to_owned(),
                );
                request = request
                    .expression_attribute_names("#platform", device::PLATFORM)
                    .expression_attribute_values(
                        ":online",
                        n(expiry(update.now_ms, ttls.foreground)),
                    )
                    .expression_attribute_values(":exp", n(ttls.reach_until(update.now_ms)))
                    .expression_attribute_values(":ttl", n(ttls.foreground))
                    .expression_attribute_values(":pushTtl", n(ttls.push))
                    .expression_attribute_values(":platform", s(platform.as_str()));
            }
            None => {
                // The stored TTLs decide, so a phone keeps its mobile and push TTLs.
                sets.push("#online = #ttl + :nowCeil, #exp = #pushTtl + :nowCeil".to_owned());
                request = request.expression_attribute_values(
                    ":nowCeil",
                    n((update.now_ms + 999).div_euclid(1000)),
                );
            }
        }
        // What else the heartbeat reports replaces what was stored.
        let optional = [
            (
                device::CAPABILITIES,
                update.capabilities.as_ref().map(caps_value),
            ),
            (device::USER_AGENT, update.user_agent.map(s)),
            (device::IP, update.ip.map(s)),
            (
                device::TWILIO_STATE,
                update.twilio_state.map(|t| s(t.as_str())),
            ),
        ];
        for (n, (attribute, value)) in optional.into_iter().enumerate() {
            if let Some(value) = value {
                sets.push(format!("#a{n} = :a{n}"));
                request = request
                    .expression_attribute_names(format!("#a{n}"), attribute)
                    .expression_attribute_values(format!(":a{n}"), value);
            }
        }
        request.update_expression(format!("SET {}", sets.join(", ")))
    }

    pub(super) async fn unregister_device(
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

    /// A remote sign-out: the tombstone takes the device's place (one write removes it and bars
    /// its automatic re-registers; TTL deletes the tombstone in time), and the device and its
    /// user's other devices are told, whether or not it was live.
    async fn sign_out(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let mut tombstone: Item = keyed(presence_pk(key), device_id.as_str());
        tombstone.insert(device::SIGNED_OUT_AT.to_owned(), n(now_ms));
        tombstone.insert(TTL_ATTRIBUTE.to_owned(), n(until));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tombstone))
            .return_values(ReturnValue::AllOld)
            .send();
        let events = vec![
            Event::devices_changed(device_id, DeviceChange::SignedOut, now_ms),
            Event::device_signed_out(device_id, now_ms),
        ];
        let mut writes = vec![self.state_delete(key, device_id)?];
        for event in &events {
            writes.push(self.put_event(key, event)?);
        }
        let (put, logged) = join(put, self.transact(writes)).await;
        let old = put.map_err(|e| classify("PutItem", e))?.attributes;
        logged?;
        self.publish(key, events).await;
        Ok(old.is_some_and(|old| is_live_device(&old, now_ms)))
    }

    /// A plain unregister: the live device, its state and the event together, or nothing. It
    /// never lifts a remote sign-out, and a late one from a registration since replaced does
    /// nothing.
    async fn remove(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: &Unregistration,
    ) -> Result<bool, StoreError> {
        let mut condition =
            format!("attribute_exists(#pk) AND attribute_not_exists(#out) AND {LIVE}");
        let mut delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#out", device::SIGNED_OUT_AT)
            .expression_attribute_values(":registered", registered())
            .expression_attribute_values(":nowFloor", n(how.now_ms.div_euclid(1000)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, attribute) in LIVE_NAMES {
            delete = delete.expression_attribute_names(name, attribute);
        }
        if let Some(id) = &how.registration_id {
            condition.push_str(" AND #rid = :rid");
            delete = delete
                .expression_attribute_names("#rid", device::REGISTRATION_ID)
                .expression_attribute_values(":rid", s(id));
        }
        let delete = delete.condition_expression(condition);
        let event = Event::devices_changed(device_id, DeviceChange::Unregistered, how.now_ms);
        let writes = vec![
            TransactWriteItem::builder()
                .delete(built(delete.build())?)
                .build(),
            self.state_delete(key, device_id)?,
            self.put_event(key, &event)?,
        ];
        match self.transact(writes).await? {
            TxOutcome::Written => {
                self.publish(key, vec![event]).await;
                Ok(true)
            }
            TxOutcome::Refused(items) => {
                // Not live: an expired row (of this registration) is still removed, as DynamoDB
                // would only much later; a tombstone or another registration's row stays.
                let stale = items.into_iter().next().flatten().filter(|old| {
                    !old.contains_key(device::SIGNED_OUT_AT)
                        && how.registration_id.as_deref().is_none_or(|id| {
                            super::codec::get_s(old, device::REGISTRATION_ID) == Some(id)
                        })
                });
                if stale.is_some() {
                    self.client
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
                        .send()
                        .await
                        .map_err(|e| classify("DeleteItem", e))?;
                }
                Ok(false)
            }
        }
    }
}
