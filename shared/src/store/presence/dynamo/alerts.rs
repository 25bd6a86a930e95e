//! A device's alerts (issue 31) on DynamoDB: the claim that an event's alert went to it (an
//! item of its own in the user's partition, after `~` so presence never reads it), and the
//! removal of a registration its provider says is dead.

use super::STORE;
use crate::domain::DeviceId;
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::changes::Changes;
use crate::store::dynamo::codec::{keyed, n, s};
use crate::store::dynamo::keys::{TTL_ATTRIBUTE, alert_sk, device, presence_pk};
use crate::store::dynamo::outcome::{Conditional, conditional};
use crate::store::{PresenceKey, StoreError};

impl DynamoStore {
    /// One conditional `PutItem`: written once, refused ever after.
    pub(super) async fn put_alert_claim(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        cursor: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let mut item = keyed(presence_pk(key), alert_sk(cursor, device_id));
        item.insert(TTL_ATTRIBUTE.to_owned(), n(expires_at));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", crate::store::dynamo::keys::PK)
            .send()
            .await;
        Ok(matches!(
            conditional(STORE, "PutItem", result)?,
            Conditional::Written(_)
        ))
    }

    /// One conditional `UpdateItem` of the device item: only while it holds `token`.
    pub(super) async fn remove_push_token(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        token: &str,
    ) -> Result<bool, StoreError> {
        let result = Changes::default()
            .remove(device::PUSH_PROVIDER)
            .remove(device::PUSH_TOKEN)
            .when("#pushToken = :token", vec![("token", s(token))])
            .update_item(self, keyed(presence_pk(key), device_id.to_string()))
            .send()
            .await;
        Ok(matches!(
            conditional(STORE, "UpdateItem", result)?,
            Conditional::Written(_)
        ))
    }
}
