//! The presence store on DynamoDB: devices, remote sign-outs and call rows in each user's
//! partition (`keys.rs`). Every write is one request; a register of a new device adds one
//! consistent read (and the evictions it finds) so racing registers converge on the limit.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use futures::future::try_join_all;

use super::codec::{
    Item, caps_value, device_from_item, device_item, get_n, get_s, is_live_device, is_signed_out,
    keyed, n, s,
};
use super::keys::{CALL_SK_PREFIX, PK, SK, TTL_ATTRIBUTE, call, call_sk, device, presence_pk};
use super::{DynamoStore, classify, is_conditional_failure};
use crate::domain::DeviceId;
use crate::store::{
    ActiveCall, CallEvent, CallProgress, HeartbeatOutcome, HeartbeatUpdate, PresenceKey,
    PresenceStore, RegisterOutcome, Registered, Registration, StoreError, Unregistration,
    UserPresence, eviction_candidates, expiry, is_live, sort_most_recent_first,
};
#[async_trait]
impl PresenceStore for DynamoStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
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
        let old = match put.send().await {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err) if is_conditional_failure(&err) => return Ok(RegisterOutcome::SignedOut),
            Err(err) => return Err(classify("PutItem", err)),
        };
        // Re-registering a live device (after a 404, a token renewal) leaves the count as it
        // was: the write alone tells, so the common case costs one round trip.
        if is_live_device(&old, now_ms) {
            return Ok(RegisterOutcome::Registered(Registered {
                device,
                evicted: Vec::new(),
            }));
        }

        // Read after the write (consistently), so that of several racing registers the last
        // to read sees all of them and trims to the limit.
        let live = self.live_devices(key, now_ms).await?;
        if live.len() <= registration.max_live {
            return Ok(RegisterOutcome::Registered(Registered {
                device,
                evicted: Vec::new(),
            }));
        }
        let candidates = eviction_candidates(live, registration.max_live);
        let pk = presence_pk(key);
        let deletions = candidates.iter().map(|victim| {
            let pk = pk.clone();
            async move {
                // Only if not seen since we read it: a device that just heartbeated stays.
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(keyed(pk, victim.device_id.as_str())))
                    .condition_expression("#seen = :seen")
                    .expression_attribute_names("#seen", device::LAST_SEEN)
                    .expression_attribute_values(":seen", n(victim.last_seen))
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Some(victim.device_id.clone())),
                    Err(err) if is_conditional_failure(&err) => Ok(None),
                    Err(err) => Err(classify("DeleteItem", err)),
                }
            }
        });
        let evicted = try_join_all(deletions)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(RegisterOutcome::Registered(Registered { device, evicted }))
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let now_s = update.now_ms.div_euclid(1000);
        let mut sets = vec!["#seen = :now".to_owned()];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
            // Exists and still live: an expired row waiting for TTL deletion must not revive,
            // nor may a sign-out's tombstone become a device again.
            .condition_expression(
                "attribute_exists(#pk) AND #exp > :nowFloor AND attribute_not_exists(#out)",
            )
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#out", device::SIGNED_OUT_AT)
            // On refusal the row comes back in the same round trip, to tell 404 from 410.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#seen", device::LAST_SEEN)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#ttl", device::TTL_SECONDS)
            .expression_attribute_values(":now", n(update.now_ms))
            .expression_attribute_values(":nowFloor", n(now_s))
            .return_values(ReturnValue::AllNew);
        match update.platform {
            Some((platform, ttl)) => {
                sets.push("#exp = :exp, #ttl = :ttl, #platform = :platform".to_owned());
                request = request
                    .expression_attribute_names("#platform", device::PLATFORM)
                    .expression_attribute_values(":exp", n(expiry(update.now_ms, ttl)))
                    .expression_attribute_values(":ttl", n(ttl))
                    .expression_attribute_values(":platform", s(platform.as_str()));
            }
            None => {
                // The stored TTL decides, so a phone keeps its longer mobile TTL.
                sets.push("#exp = #ttl + :nowCeil".to_owned());
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
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                device_from_item(key, &item).map(HeartbeatOutcome::Live)
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
                Ok(if is_signed_out(&old, update.now_ms) {
                    HeartbeatOutcome::SignedOut
                } else {
                    HeartbeatOutcome::NotRegistered
                })
            }
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        let old = if let Some(until) = how.signed_out_until {
            // The tombstone takes the device's place: one write removes it and bars its
            // automatic re-registers, and TTL deletes the tombstone in time.
            let mut tombstone: Item = keyed(presence_pk(key), device_id.as_str());
            tombstone.insert(device::SIGNED_OUT_AT.to_owned(), n(how.now_ms));
            tombstone.insert(TTL_ATTRIBUTE.to_owned(), n(until));
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(tombstone))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| classify("PutItem", e))?
                .attributes
        } else {
            let mut delete = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(keyed(presence_pk(key), device_id.as_str())))
                .return_values(ReturnValue::AllOld)
                .expression_attribute_names("#out", device::SIGNED_OUT_AT);
            delete = match &how.registration_id {
                // A late unregister from a registration that was since replaced does nothing.
                Some(id) => delete
                    .condition_expression("attribute_not_exists(#out) AND #rid = :rid")
                    .expression_attribute_names("#rid", device::REGISTRATION_ID)
                    .expression_attribute_values(":rid", s(id)),
                // A plain unregister never lifts a remote sign-out.
                None => delete.condition_expression("attribute_not_exists(#out)"),
            };
            match delete.send().await {
                Ok(out) => out.attributes,
                Err(err) if is_conditional_failure(&err) => None,
                Err(err) => return Err(classify("DeleteItem", err)),
            }
        };
        Ok(old.is_some_and(|old| is_live_device(&old, how.now_ms)))
    }

    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let items = self
            .query_partition(presence_pk(key), Some(now_ms.div_euclid(1000)))
            .await?;
        let mut presence = UserPresence::default();
        for item in &items {
            let sk = get_s(item, SK).unwrap_or_default();
            if let Some(call_sid) = sk.strip_prefix(CALL_SK_PREFIX) {
                if !item.contains_key(call::ENDED)
                    && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
                {
                    presence.calls.push(ActiveCall {
                        call_sid: call_sid.to_owned(),
                        since_ms: get_n(item, call::SINCE).unwrap_or(now_ms),
                    });
                }
            } else if is_live_device(item, now_ms) {
                presence.devices.push(device_from_item(key, item)?);
            }
        }
        sort_most_recent_first(&mut presence.devices);
        Ok(presence)
    }

    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(key), call_sk(&event.call_sid))))
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":exp", n(event.expires_at))
            .expression_attribute_values(":now", n(event.now_ms));
        let request = match event.progress {
            // First word wins: a duplicate, or an `answered` arriving after its end, finds the
            // row and changes nothing.
            CallProgress::Answered => request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#since", call::SINCE)
                .update_expression("SET #since = :now, #exp = :exp"),
            // Final whatever came before; keeps `since` if the answer was seen.
            CallProgress::Ended => request
                .update_expression(
                    "SET #ended = :yes, #exp = :exp, #since = if_not_exists(#since, :now)",
                )
                .expression_attribute_names("#ended", call::ENDED)
                .expression_attribute_names("#since", call::SINCE)
                .expression_attribute_values(":yes", AttributeValue::Bool(true)),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) if is_conditional_failure(&err) => Ok(()),
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }
}
