//! The requests of the device writes: a heartbeat's update, an eviction, a remote sign-out
//! and a plain unregister, and the device's state item, whose conditional update tells
//! whether a write changed what the device list shows (and logs its event when it did).

use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use futures::future::join;

use super::STORE;
use super::item::is_live_device;
use super::person::SetChange;
use crate::domain::{DeviceId, TwilioState};
use crate::events::{DeviceChange, Event};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{Item, caps_value, get_s, keyed, n, s};
use crate::store::dynamo::keys::{PK, TTL_ATTRIBUTE, device, person, presence_pk, state_sk};
use crate::store::dynamo::outcome::{classify, conditional};
use crate::store::dynamo::tx::{TxOutcome, built};
use crate::store::{
    DeviceRecord, HeartbeatUpdate, PresenceKey, SOCKET_LEASE_MAX_SECONDS, SocketAlive,
    SocketClosed, StoreError, Unregistration, expiry,
};

/// How long a device's state item outlives its last change. A device silent for longer gets a
/// `devices.changed` at its next register even if nothing changed: harmless, and rare.
const STATE_TTL_SECONDS: i64 = 30 * 86_400;

/// "The device is live" as a condition on its row, what [`super::item::is_live_device`] says in
/// code: online, or push-registered within its push reach (`reachUntil`; `expiresAt` on a row
/// from before it), or kept live by a realtime connection (`socketUntil`). A row written
/// before `onlineUntil` existed is live until its `expiresAt`. Binds `#online`, `#state`,
/// `#exp`, `#reach`, `#sock`, `:registered` and `:nowFloor` ([`LIVE_NAMES`], [`registered`]).
const LIVE: &str = "(#online > :nowFloor OR #sock > :nowFloor OR \
     ((#state = :registered OR attribute_not_exists(#online)) AND \
      (#reach > :nowFloor OR (attribute_not_exists(#reach) AND #exp > :nowFloor))))";

/// The attribute names [`LIVE`] uses.
const LIVE_NAMES: [(&str, &str); 5] = [
    ("#online", device::ONLINE_UNTIL),
    ("#state", device::TWILIO_STATE),
    ("#exp", TTL_ATTRIBUTE),
    ("#reach", device::REACH_UNTIL),
    ("#sock", device::SOCKET_UNTIL),
];

/// `:registered` of [`LIVE`].
fn registered() -> AttributeValue {
    s(TwilioState::Registered.as_str())
}

/// The state fields a device record shows, for its state item.
pub(super) fn state_fields(record: &DeviceRecord) -> Vec<(&'static str, String)> {
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
pub(super) fn reported_fields(update: &HeartbeatUpdate) -> Vec<(&'static str, String)> {
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
    /// The person item no longer names the device (with its removal, in its transaction).
    fn forget_person_device(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let ids = device_id.as_str();
        self.person_set_write(key, person::DEVICES, ids, SetChange::Remove, now_ms)
    }

    /// Remove `victim` for the limit, only if not seen since it was read (a device that just
    /// heartbeated stays), with its state and the event, together.
    pub(super) async fn evict(
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
            self.forget_person_device(key, &victim.device_id, now_ms)?,
        ];
        Ok(match self.transact(STORE, writes).await? {
            TxOutcome::Written => Some((victim.device_id.clone(), event)),
            TxOutcome::Refused(_) => None,
        })
    }

    /// An `UpdateItem` of a live device's row at `now_ms`, for a heartbeat or a keep-alive: a
    /// device row and still live (an expired row waiting for TTL deletion must not revive, nor
    /// may a sign-out's tombstone become a device again; a row from before `pushTtlSeconds`,
    /// which the updates read, is refused too: the client registers again, as after any 404,
    /// and writes a row of today's shape). Binds `#seen`, `#pushTtl`, `:now` and [`LIVE`]'s.
    fn live_device_update(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        now_ms: i64,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
            .condition_expression(format!(
                "attribute_exists(#pushTtl) AND attribute_not_exists(#out) AND {LIVE}"
            ))
            .expression_attribute_names("#out", device::SIGNED_OUT_AT)
            .expression_attribute_names("#seen", device::LAST_SEEN)
            .expression_attribute_names("#pushTtl", device::PUSH_TTL_SECONDS)
            .expression_attribute_values(":registered", registered())
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":nowFloor", n(now_ms.div_euclid(1000)));
        for (name, attribute) in LIVE_NAMES {
            request = request.expression_attribute_names(name, attribute);
        }
        request
    }

    /// The heartbeat's `UpdateItem`: extend a live device, with what else it reports.
    pub(super) fn heartbeat_request(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut sets = vec!["#seen = :now".to_owned()];
        let mut request = self
            .live_device_update(key, device_id, update.now_ms)
            // On refusal the row comes back in the same round trip, to tell 404 from 410.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#ttl", device::TTL_SECONDS)
            .return_values(ReturnValue::AllNew);
        // Both expiries start again. Whether the device is still callable after
        // `onlineUntil` is its Twilio state's to say, at every read, so reporting a state
        // needs no TTL of its own here. The row (`expiresAt`) outlives the push reach and any
        // socket lease set before now (`SOCKET_LEASE_MAX_SECONDS`).
        let now_ceil = (update.now_ms + 999).div_euclid(1000);
        match update.platform {
            Some((platform, ttls)) => {
                sets.push(
                    "#online = :online, #reach = :reach, #exp = :exp, #ttl = :ttl, \
                     #pushTtl = :pushTtl, #platform = :platform"
                        .to_owned(),
                );
                let reach = ttls.reach_until(update.now_ms);
                let keep = now_ceil + SOCKET_LEASE_MAX_SECONDS;
                request = request
                    .expression_attribute_names("#platform", device::PLATFORM)
                    .expression_attribute_values(
                        ":online",
                        n(expiry(update.now_ms, ttls.foreground)),
                    )
                    .expression_attribute_values(":reach", n(reach))
                    .expression_attribute_values(":exp", n(reach.max(keep)))
                    .expression_attribute_values(":ttl", n(ttls.foreground))
                    .expression_attribute_values(":pushTtl", n(ttls.push))
                    .expression_attribute_values(":platform", s(platform.as_str()));
            }
            None => {
                // The stored TTLs decide, so a phone keeps its mobile and push TTLs.
                sets.push(
                    "#online = #ttl + :nowCeil, #reach = #pushTtl + :nowCeil, \
                     #exp = #pushTtl + :keep"
                        .to_owned(),
                );
                request = request
                    .expression_attribute_values(":nowCeil", n(now_ceil))
                    .expression_attribute_values(":keep", n(now_ceil + SOCKET_LEASE_MAX_SECONDS));
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

    /// A keep-alive's `UpdateItem`: the lease, the connection that set it, `lastSeen`, and the
    /// row's TTL past the lease (`pushTtlSeconds` + the lease: never before the push reach,
    /// which ends at most that long after now). Only on a live device's row.
    pub(super) fn socket_alive_request(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        alive: &SocketAlive,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let mut sets = "#seen = :now, #sock = :until, #conn = :conn, #exp = #pushTtl + :until";
        let mut request = self
            .live_device_update(key, device_id, alive.now_ms)
            .expression_attribute_names("#conn", device::SOCKET_CONNECTION)
            .expression_attribute_values(":until", n(alive.until))
            .expression_attribute_values(":conn", s(&alive.connection_id));
        if let Some(state) = alive.twilio_state {
            sets = "#seen = :now, #sock = :until, #conn = :conn, #exp = #pushTtl + :until, \
                    #state = :twilioState";
            request = request.expression_attribute_values(":twilioState", s(state.as_str()));
        }
        request.update_expression(format!("SET {sets}"))
    }

    /// A close's `UpdateItem`: the lease shortened to the grace, only if this connection set
    /// it (a reconnect that renewed it first stays), and the row's TTL past it.
    pub(super) async fn socket_closed_request(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        closed: &SocketClosed,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
            .condition_expression("#conn = :conn AND attribute_exists(#pushTtl)")
            .update_expression("SET #sock = :until, #exp = #pushTtl + :until")
            .expression_attribute_names("#conn", device::SOCKET_CONNECTION)
            .expression_attribute_names("#pushTtl", device::PUSH_TTL_SECONDS)
            .expression_attribute_names("#sock", device::SOCKET_UNTIL)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":conn", s(&closed.connection_id))
            .expression_attribute_values(":until", n(closed.until))
            .send()
            .await;
        // Refused: another connection renewed it since, or the device is gone.
        conditional(STORE, "UpdateItem", result).map(|_| ())
    }

    /// A remote sign-out: the tombstone takes the device's place (one write removes it and bars
    /// its automatic re-registers; TTL deletes the tombstone in time), and the device and its
    /// user's other devices are told, whether or not it was live.
    pub(super) async fn sign_out(
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
        let mut writes = vec![
            self.state_delete(key, device_id)?,
            self.forget_person_device(key, device_id, now_ms)?,
        ];
        for event in &events {
            writes.push(self.put_event(key, event)?);
        }
        let (put, logged) = join(put, self.transact(STORE, writes)).await;
        let old = put.map_err(|e| classify(STORE, "PutItem", e))?.attributes;
        logged?;
        self.publish(key, events).await;
        Ok(old.is_some_and(|old| is_live_device(&old, now_ms)))
    }

    /// A plain unregister: the live device, its state and the event together, or nothing. It
    /// never lifts a remote sign-out, and a late one from a registration since replaced does
    /// nothing.
    pub(super) async fn remove(
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
            self.forget_person_device(key, device_id, how.now_ms)?,
        ];
        match self.transact(STORE, writes).await? {
            TxOutcome::Written => {
                self.publish(key, vec![event]).await;
                Ok(true)
            }
            TxOutcome::Refused(items) => {
                // Not live: an expired row (of this registration) is still removed, as DynamoDB
                // would only much later; a tombstone or another registration's row stays.
                let stale = items.into_iter().next().flatten().filter(|old| {
                    !old.contains_key(device::SIGNED_OUT_AT)
                        && how
                            .registration_id
                            .as_deref()
                            .is_none_or(|id| get_s(old, device::REGISTRATION_ID) == Some(id))
                });
                if stale.is_some() {
                    self.client
                        .delete_item()
                        .table_name(&self.table)
                        .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
                        .send()
                        .await
                        .map_err(|e| classify(STORE, "DeleteItem", e))?;
                }
                Ok(false)
            }
        }
    }

    /// Set the device's state `fields`, only where one differs from what is stored (or none
    /// is): with the event of that change, a write that fails its condition when nothing
    /// changed.
    pub(super) fn state_update(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        fields: &[(&'static str, String)],
        now_ms: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), state_sk(device_id))))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":exp", n(now_ms.div_euclid(1000) + STATE_TTL_SECONDS));
        let mut sets = vec!["#exp = :exp".to_owned()];
        let mut differs = vec!["attribute_not_exists(#pk)".to_owned()];
        for (i, (name, value)) in fields.iter().enumerate() {
            sets.push(format!("#f{i} = :f{i}"));
            differs.push(format!("attribute_not_exists(#f{i}) OR #f{i} <> :f{i}"));
            update = update
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":f{i}"), s(value));
        }
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(differs.join(" OR "));
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }

    pub(super) fn state_delete(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
    ) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), state_sk(device_id))));
        Ok(TransactWriteItem::builder()
            .delete(built(delete.build())?)
            .build())
    }

    /// Record the device's new state and `event` together if the state changed; whether it
    /// did.
    pub(super) async fn change_state(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        fields: &[(&'static str, String)],
        event: &Event,
    ) -> Result<bool, StoreError> {
        let writes = vec![
            self.state_update(key, device_id, fields, event.at)?,
            self.put_event(key, event)?,
        ];
        Ok(matches!(
            self.transact(STORE, writes).await?,
            TxOutcome::Written
        ))
    }
}
