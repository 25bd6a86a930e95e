//! The event log and realtime connections on DynamoDB, and the event writes every other
//! store makes with the change that causes them: one event beside its change in a
//! transaction, a notice's events (one per user) with the writes that cause them, and what a
//! written event is handed to in this process.

mod item;
mod teams;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use futures::future::{join, join3, try_join_all};

pub(in crate::store) use self::item::event_from_item;
use self::item::{connection_from_item, connection_item, event_item};
use crate::domain::{DeviceId, OrgId, Team};
use crate::events::{Cursor, Event};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{Item, get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    CONNECTION_SK_PREFIX, EVENT_SK_END, OWNER_SK, PK, SK, TTL_ATTRIBUTE, connection_pk,
    connection_sk, event_sk, presence_key_of, presence_pk, state, ticket_sk,
};
use crate::store::dynamo::outcome::{Conditional, classify, conditional};
use crate::store::dynamo::query::SkRange;
use crate::store::dynamo::tx::{TxOutcome, built};
use crate::store::events::Notice;
use crate::store::{
    Connected, Connection, ConnectionOwner, EventStore, PresenceKey, SpentTicket, StoreError,
    StoreName, Subscription, is_live,
};

const STORE: StoreName = StoreName::Events;

/// DynamoDB's limit of writes per transaction.
const MAX_TX_ITEMS: usize = 100;

impl DynamoStore {
    /// The write of one event: never over another (a cursor is unique per event).
    pub(in crate::store) fn put_event(
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
    pub(in crate::store) async fn write_event(
        &self,
        store: StoreName,
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
            .map_err(|e| classify(store, "PutItem", e))
    }

    /// Hand what was written to the sink, if this process has one.
    pub(in crate::store) async fn publish(&self, key: &PresenceKey, events: Vec<Event>) {
        if let (Some(sink), false) = (&self.sink, events.is_empty()) {
            sink.published(key, &events).await;
        }
    }

    /// `writes` and the notice's events (one per user) together; events beyond one
    /// transaction's limit go in further transactions once the first has succeeded (a group of
    /// more than 90 members). Written events are handed to this process's sink, if any.
    pub(in crate::store) async fn transact_noticed(
        &self,
        store: StoreName,
        mut writes: Vec<TransactWriteItem>,
        notice: &Notice,
    ) -> Result<TxOutcome, StoreError> {
        let events: Vec<(&PresenceKey, Event)> = notice
            .to
            .iter()
            .map(|user| {
                (
                    user,
                    Event::new(notice.kind, notice.at, notice.data.clone()),
                )
            })
            .collect();
        let mut puts = events
            .iter()
            .map(|(user, event)| self.put_event(user, event))
            .collect::<Result<Vec<_>, _>>()?;
        let room = MAX_TX_ITEMS.saturating_sub(writes.len()).min(puts.len());
        let rest = puts.split_off(room);
        writes.extend(puts);
        let outcome = self.transact(store, writes).await?;
        if matches!(outcome, TxOutcome::Written) {
            if !rest.is_empty() {
                let chunks = rest
                    .chunks(MAX_TX_ITEMS)
                    .map(|c| self.transact(store, c.to_vec()));
                try_join_all(chunks).await?;
            }
            for (user, event) in events {
                self.publish(user, vec![event]).await;
            }
        }
        Ok(outcome)
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
        // BETWEEN is inclusive: one more than wanted, since `after` itself may be there.
        let page_size = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        let query = self
            .query_request()
            .consistent_read(true)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .filter_expression("#exp > :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":pk", s(presence_pk(user)))
            .expression_attribute_values(":from", s(event_sk(after)))
            .expression_attribute_values(":to", s(EVENT_SK_END))
            .expression_attribute_values(":now", n(now_ms.div_euclid(1000)))
            .limit(page_size);
        let mut events = Vec::new();
        self.paginate(STORE, query, |page| {
            for item in page.items() {
                let event = event_from_item(item)?;
                if event.cursor != *after && events.len() < limit {
                    events.push(event);
                }
            }
            Ok(events.len() < limit)
        })
        .await?;
        Ok(events)
    }

    /// The ticket spent first, by a put on the condition that it was not before; then the
    /// connection in its user's partition and its owner under its own id, side by side. Not a
    /// transaction: a transaction writes each item twice (6 write units instead of 3), and a
    /// connect that fails after the ticket is spent leaves only a spent ticket, which the
    /// client replaces with a new one as after any failed connect.
    async fn connect(
        &self,
        user: &PresenceKey,
        connection: &Connection,
        ticket: &SpentTicket,
    ) -> Result<Connected, StoreError> {
        let mut spent = keyed(presence_pk(user), ticket_sk(&ticket.id));
        spent.insert(TTL_ATTRIBUTE.to_owned(), n(ticket.expires_at));
        let spend = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(spent))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        if let Conditional::Refused(_) = conditional(STORE, "PutItem", spend)? {
            return Ok(Connected::TicketSpent);
        }
        let mut owner = keyed(connection_pk(&connection.id), OWNER_SK);
        owner.insert(state::USER.to_owned(), s(presence_pk(user)));
        owner.insert(
            state::DEVICE_ID.to_owned(),
            s(connection.device_id.as_str()),
        );
        owner.insert(TTL_ATTRIBUTE.to_owned(), n(connection.expires_at));
        let put = |item: Item| {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
        };
        let (listed, owned) = join(put(connection_item(user, connection)), put(owner)).await;
        listed.map_err(|e| classify(STORE, "PutItem", e))?;
        owned.map_err(|e| classify(STORE, "PutItem", e))?;
        Ok(Connected::Opened)
    }

    /// The connection in the user's partition, and its owner only if it is this user (a
    /// `disconnect` under another user must not orphan the real owner's connection).
    async fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> Result<(), StoreError> {
        let listed = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keyed(presence_pk(user), connection_sk(connection_id))))
            .send();
        let owned = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keyed(
                connection_pk(connection_id),
                OWNER_SK.to_owned(),
            )))
            .condition_expression("attribute_not_exists(#pk) OR #user = :user")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#user", state::USER)
            .expression_attribute_values(":user", s(presence_pk(user)))
            .send();
        // Its team subscriptions go with it (every one, expired or not: 0 is before them all).
        let watching = self.drop_subscriptions(user, connection_id, 0);
        let (listed, owned, watching) = join3(listed, owned, watching).await;
        listed.map_err(|e| classify(STORE, "DeleteItem", e))?;
        // Refused: another user's connection, which stays.
        conditional(STORE, "DeleteItem", owned)?;
        watching
    }

    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionOwner>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(keyed(connection_pk(connection_id), OWNER_SK)))
            .send()
            .await
            .map_err(|e| classify(STORE, "GetItem", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let Some(user) = get_s(&item, state::USER).and_then(presence_key_of) else {
            return Ok(None);
        };
        let device_id = get_s(&item, state::DEVICE_ID).and_then(|raw| DeviceId::parse(raw).ok());
        Ok(Some(ConnectionOwner { user, device_id }))
    }

    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let range = SkRange::Prefix(CONNECTION_SK_PREFIX);
        let live_after = Some(now_ms.div_euclid(1000));
        let items = self
            .query(STORE, presence_pk(user), range, live_after)
            .await?;
        items
            .iter()
            .map(connection_from_item)
            .filter(|c| c.as_ref().map_or(true, |c| is_live(c.expires_at, now_ms)))
            .collect()
    }

    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.put_subscription(subscription).await
    }

    async fn unsubscribe(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        team: &Team,
    ) -> Result<bool, StoreError> {
        self.delete_subscription(subscriber, connection_id, team)
            .await
    }

    async fn subscriptions_of(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.connection_subscriptions(subscriber, connection_id, now_ms)
            .await
    }

    async fn watchers(&self, org: &OrgId, now_ms: i64) -> Result<Vec<Subscription>, StoreError> {
        self.org_subscriptions(org, now_ms).await
    }

    async fn watched_orgs(&self) -> Result<Vec<OrgId>, StoreError> {
        self.org_ids_watched().await
    }

    async fn mark_shown_live(&self, person: &PresenceKey, live: bool) -> Result<(), StoreError> {
        self.put_live_mark(person, live).await
    }

    async fn shown_live(&self, org: &OrgId) -> Result<Vec<PresenceKey>, StoreError> {
        self.live_marks(org).await
    }
}
