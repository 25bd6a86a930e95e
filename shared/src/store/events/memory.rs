//! The event log, realtime connections and their team subscriptions in memory.

use async_trait::async_trait;

use crate::domain::{OrgId, Team};
use crate::events::{Cursor, Event};
use crate::store::MemoryStore;
use crate::store::{
    CONNECTION_MAX_SECONDS, Connected, Connection, ConnectionOwner, EventStore, PresenceKey,
    SpentTicket, StoreError, Subscription, is_live,
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
        if let Some(teams) = self.teams().get_mut(&user.org) {
            teams.retain(|s| !(s.connection_id == connection_id && s.subscriber == *user));
        }
        Ok(())
    }

    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let mut teams = self.teams();
        let org = teams
            .entry(subscription.subscriber.org.clone())
            .or_default();
        org.retain(|s| {
            !(s.connection_id == subscription.connection_id && s.team == subscription.team)
        });
        org.push(subscription.clone());
        Ok(())
    }

    async fn unsubscribe(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        team: &Team,
    ) -> Result<bool, StoreError> {
        let mut teams = self.teams();
        let Some(org) = teams.get_mut(&subscriber.org) else {
            return Ok(false);
        };
        let before = org.len();
        org.retain(|s| {
            !(s.connection_id == connection_id && s.subscriber == *subscriber && s.team == *team)
        });
        Ok(org.len() < before)
    }

    async fn subscriptions_of(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let teams = self.teams();
        let org = teams
            .get(&subscriber.org)
            .map(Vec::as_slice)
            .unwrap_or_default();
        Ok(org
            .iter()
            .filter(|s| s.connection_id == connection_id && s.subscriber == *subscriber)
            .filter(|s| is_live(s.expires_at, now_ms))
            .cloned()
            .collect())
    }

    async fn watched_orgs(&self) -> Result<Vec<OrgId>, StoreError> {
        Ok(self.teams().keys().cloned().collect())
    }

    async fn mark_shown_live(&self, person: &PresenceKey, live: bool) -> Result<(), StoreError> {
        let mut shown = self.shown_live();
        if live {
            shown.insert(person.clone());
        } else {
            shown.remove(person);
        }
        Ok(())
    }

    async fn shown_live(&self, org: &OrgId) -> Result<Vec<PresenceKey>, StoreError> {
        let shown = self.shown_live();
        Ok(shown.iter().filter(|p| p.org == *org).cloned().collect())
    }

    async fn watchers(&self, org: &OrgId, now_ms: i64) -> Result<Vec<Subscription>, StoreError> {
        let teams = self.teams();
        let org = teams.get(org).map(Vec::as_slice).unwrap_or_default();
        Ok(org
            .iter()
            .filter(|s| is_live(s.expires_at, now_ms))
            .cloned()
            .collect())
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
