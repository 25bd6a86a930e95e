//! The event log and realtime connections in memory.

use async_trait::async_trait;

use crate::events::{Cursor, Event};
use crate::store::MemoryStore;
use crate::store::{
    CONNECTION_MAX_SECONDS, Connected, Connection, ConnectionOwner, EventStore, PresenceKey,
    SpentTicket, StoreError, is_live,
};

#[async_trait]
impl EventStore for MemoryStore {
    async fn events_after(
        &self,
        user: &PresenceKey,
        after: &Cursor,
        limit: usize,
        now_ms: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let presence = self.presence();
        let Some(partition) = presence.get(user) else {
            return Ok(Vec::new());
        };
        let later = partition
            .events
            .range(after.clone()..)
            .skip_while(|(c, _)| *c == after);
        Ok(later
            .filter(|(_, (_, expires_at))| is_live(*expires_at, now_ms))
            .map(|(_, (event, _))| event.clone())
            .take(limit)
            .collect())
    }

    async fn connect(
        &self,
        user: &PresenceKey,
        connection: &Connection,
        ticket: &SpentTicket,
    ) -> Result<Connected, StoreError> {
        let mut presence = self.presence();
        let partition = presence.entry(user.clone()).or_default();
        // The connection opens now: tickets that expired before then are no longer needed.
        let now_s = connection.expires_at - i64::from(CONNECTION_MAX_SECONDS);
        partition
            .spent_tickets
            .retain(|_, expires_at| *expires_at >= now_s);
        if partition.spent_tickets.contains_key(&ticket.id) {
            return Ok(Connected::TicketSpent);
        }
        partition
            .spent_tickets
            .insert(ticket.id.clone(), ticket.expires_at);
        let connections = &mut partition.connections;
        connections.insert(connection.id.clone(), connection.clone());
        Ok(Connected::Opened)
    }

    async fn disconnect(&self, user: &PresenceKey, connection_id: &str) -> Result<(), StoreError> {
        if let Some(partition) = self.presence().get_mut(user) {
            partition.connections.remove(connection_id);
        }
        Ok(())
    }

    async fn connection_owner(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionOwner>, StoreError> {
        let presence = self.presence();
        let owner = presence.iter().find_map(|(user, partition)| {
            let connection = partition.connections.get(connection_id)?;
            Some(ConnectionOwner {
                user: user.clone(),
                device_id: Some(connection.device_id.clone()),
            })
        });
        Ok(owner)
    }

    async fn connections(
        &self,
        user: &PresenceKey,
        now_ms: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let presence = self.presence();
        Ok(presence.get(user).map_or_else(Vec::new, |partition| {
            let open = partition.connections.values();
            open.filter(|c| is_live(c.expires_at, now_ms))
                .cloned()
                .collect()
        }))
    }
}
