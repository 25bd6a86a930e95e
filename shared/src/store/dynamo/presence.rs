//! The presence store on DynamoDB: devices, remote sign-outs and call rows in each user's
//! partition (`keys.rs`). The writes, and the events they cause, are in `devices.rs` and
//! `calls.rs`; this file reads presence and maps the trait onto them.

use async_trait::async_trait;

use super::DynamoStore;
use super::SkRange;
use super::codec::{device_from_item, get_n, get_s, is_live_device};
use super::keys::{CALL_SK_PREFIX, PRESENCE_SK_END, SK, TTL_ATTRIBUTE, call, presence_pk};
use crate::domain::DeviceId;
use crate::store::{
    ActiveCall, CallEvent, HeartbeatOutcome, HeartbeatUpdate, PresenceKey, PresenceStore,
    RegisterOutcome, Registration, StoreError, Unregistration, UserPresence, is_live,
    sort_most_recent_first,
};

#[async_trait]
impl PresenceStore for DynamoStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        self.register_device(registration).await
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        self.heartbeat_device(key, device_id, update).await
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        self.unregister_device(key, device_id, how).await
    }

    /// One query of the user's partition, below `~`: devices, sign-outs and calls, not the
    /// event log.
    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let range = SkRange::Below(PRESENCE_SK_END);
        let live_after = Some(now_ms.div_euclid(1000));
        let items = self.query(presence_pk(key), range, live_after).await?;
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
        self.record_call_leg(key, event).await
    }
}
