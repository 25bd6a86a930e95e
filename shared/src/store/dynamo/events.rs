//! The event log and realtime connections on DynamoDB, and the writes presence makes with its
//! changes: an event, and the device's state (what the device list shows of it, kept in its
//! own item so that a write can be conditioned on a change without a read first).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};
use futures::future::join;

use super::codec::{
    Item, connection_from_item, connection_item, event_from_item, event_item, keyed, n, s,
};
use super::keys::{
    CONNECTION_SK_PREFIX, EVENT_SK_END, OWNER_SK, PK, TTL_ATTRIBUTE, connection_pk, connection_sk,
    event_sk, presence_key_of, presence_pk, state, state_sk, ticket_sk,
};
use super::tx::{TxOutcome, built};
use super::{DynamoStore, classify};
use crate::domain::DeviceId;
use crate::events::{Cursor, Event};
use crate::store::{
    Connected, Connection, EventStore, PresenceKey, SpentTicket, StoreError, is_live,
};

/// How long a device's state item outlives its last change. A device silent for longer gets a
/// `devices.changed` at its next register even if nothing changed: harmless, and rare.
const STATE_TTL_SECONDS: i64 = 30 * 86_400;

impl DynamoStore {
    /// The write of one event: never over another (a cursor is unique per event).
    pub(super) fn put_event(
        &self,
        key: &PresenceKey,
        event: &Event,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item(key, event, self.event_retention_seconds)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        Ok(TransactWriteItem::builder()
            .put(built(put.build())?)
            .build())
    }

    /// One event, written on its own.
    pub(super) async fn write_event(
        &self,
        key: &PresenceKey,
        event: &Event,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(key, event, self.event_retention_seconds)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| classify("PutItem", e))
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
        Ok(matches!(self.transact(writes).await?, TxOutcome::Written))
    }

    /// Hand what was written to the sink, if this process has one.
    pub(super) async fn publish(&self, key: &PresenceKey, events: Vec<Event>) {
        if let (Some(sink), false) = (&self.sink, events.is_empty()) {
            sink.published(key, &events).await;
        }
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn events_after(
        &self,
        user: &PresenceKey,
        after: &Cursor,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let from = event_sk(after);
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            // BETWEEN is inclusive: one more than wanted, since `after` itself may be there.
            let page_size = i32::try_from(limit + 1).unwrap_or(i32::MAX);
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .filter_expression("#exp > :now")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", super::keys::SK)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":pk", s(presence_pk(user)))
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(EVENT_SK_END))
                .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
                .limit(page_size)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in page.items() {
                let event = event_from_item(item)?;
                if event.cursor != *after && events.len() < limit {
                    events.push(event);
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() && events.len() < limit => start = Some(key),
                _ => return Ok(events),
            }
        }
    }

    /// The connection in its user's partition, and who owns it under its own id: one round.
    /// One transaction, the one write `$connect` makes: the connection in the user's
    /// partition, its owner, and the ticket spent, on the condition that it was not before.
    async fn connect(
        &self,
        user: &PresenceKey,
        connection: &Connection,
        ticket: &SpentTicket,
    ) -> Result<Connected, StoreError> {
        let mut owner = keyed(connection_pk(&connection.id), OWNER_SK);
        owner.insert(state::USER.to_owned(), s(presence_pk(user)));
        owner.insert(TTL_ATTRIBUTE.to_owned(), n(connection.expires_at));
        let mut spent = keyed(presence_pk(user), ticket_sk(&ticket.id));
        spent.insert(TTL_ATTRIBUTE.to_owned(), n(ticket.expires_at));
        let put = |item: Item, once: bool| -> Result<TransactWriteItem, StoreError> {
            let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
            if once {
                put = put
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK);
            }
            Ok(TransactWriteItem::builder()
                .put(built(put.build())?)
                .build())
        };
        let writes = vec![
            put(connection_item(user, connection), false)?,
            put(owner, false)?,
            put(spent, true)?,
        ];
        Ok(match self.transact(writes).await? {
            TxOutcome::Written => Connected::Opened,
            TxOutcome::Refused(_) => Connected::TicketSpent,
        })
    }

    async fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> Result<(), StoreError> {
        let delete = |pk: String, sk: String| {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(keyed(pk, sk)))
                .send()
        };
        let (listed, owned) = join(
            delete(presence_pk(user), connection_sk(connection_id)),
            delete(connection_pk(connection_id), OWNER_SK.to_owned()),
        )
        .await;
        listed.map_err(|e| classify("DeleteItem", e))?;
        owned.map_err(|e| classify("DeleteItem", e))?;
        Ok(())
    }

    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<PresenceKey>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keyed(connection_pk(connection_id), OWNER_SK)))
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|item| super::codec::get_s(item, state::USER))
            .and_then(presence_key_of))
    }

    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let items = self
            .query_prefix(
                presence_pk(user),
                CONNECTION_SK_PREFIX,
                Some(now_ms.div_euclid(1000)),
            )
            .await?;
        items
            .iter()
            .map(connection_from_item)
            .filter(|c| c.as_ref().map_or(true, |c| is_live(c.expires_at, now_ms)))
            .collect()
    }
}
