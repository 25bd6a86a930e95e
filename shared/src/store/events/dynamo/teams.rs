//! Team subscriptions on DynamoDB: one item per connection and team in the org's partition
//! (`team:{orgId}`, sort key `{connectionId}#{team}`), expiring with the connection, so the
//! watchers of a change are one `Query` of the org's subscribers, never of its people.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::future::{join, try_join_all};

use super::STORE;
use crate::domain::{Email, OrgId, Team};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::codec::{Item, get_n, get_s, keyed, n, s};
use crate::store::dynamo::keys::{
    LIVE_SK_PREFIX, SK, SUBSCRIPTIONS_SK_END, TEAMS_PK, TTL_ATTRIBUTE, presence_key_of,
    presence_pk, subscription, subscription_sk, team_pk,
};
use crate::store::dynamo::outcome::classify;
use crate::store::dynamo::query::SkRange;
use crate::store::{PresenceKey, StoreError, Subscription, is_live};

/// The orgs (`{table}/{org}`) this process has listed as watched.
fn listed_orgs() -> std::sync::MutexGuard<'static, HashSet<String>> {
    static LISTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    LISTED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

impl DynamoStore {
    /// The subscription, and (once per process and org) its org among the watched ones, side
    /// by side. The org's listing is best effort: a subscription stands without it (the org
    /// was listed before, or the next process to see a subscribe lists it), and a crowd of
    /// reconnects in one org writes the one `teams` item once per process, not once each.
    pub(super) async fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError> {
        let org = sub.subscriber.org.as_str();
        let listed_key = format!("{}/{org}", self.table);
        let first = listed_orgs().insert(listed_key.clone());
        let listing = async {
            if !first {
                return;
            }
            let listed = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(keyed(TEAMS_PK, org)))
                .send()
                .await;
            if let Err(err) = listed {
                listed_orgs().remove(&listed_key);
                let err = classify(STORE, "PutItem", err);
                tracing::warn!(error = %err, "team presence: org not listed for the sweep");
            }
        };
        let (put, ()) = join(self.put_subscription_item(sub), listing).await;
        put
    }

    async fn put_subscription_item(&self, sub: &Subscription) -> Result<(), StoreError> {
        let mut item = keyed(
            team_pk(&sub.subscriber.org),
            subscription_sk(&sub.connection_id, sub.team.as_str()),
        );
        item.insert(
            subscription::SUBSCRIBER.into(),
            s(presence_pk(&sub.subscriber)),
        );
        item.insert(subscription::TEAM.into(), s(sub.team.as_str()));
        if let Some(members) = sub.members.as_ref().filter(|m| !m.is_empty()) {
            let emails = members.iter().map(|e| e.to_string()).collect();
            item.insert(subscription::MEMBERS.into(), AttributeValue::Ss(emails));
        }
        item.insert(TTL_ATTRIBUTE.into(), n(sub.expires_at));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify(STORE, "PutItem", e))?;
        Ok(())
    }

    pub(super) async fn delete_subscription(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        team: &Team,
    ) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(keyed(
                team_pk(&subscriber.org),
                subscription_sk(connection_id, team.as_str()),
            )))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| classify(STORE, "DeleteItem", e))?;
        Ok(out.attributes.is_some())
    }

    /// The subscriptions of one connection (a prefix of the org's partition).
    pub(super) async fn connection_subscriptions(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let prefix = subscription_sk(connection_id, "");
        let live_after = Some(now_ms.div_euclid(1000));
        let range = SkRange::Prefix(&prefix);
        let items = self
            .query(STORE, team_pk(&subscriber.org), range, live_after)
            .await?;
        Ok(subscriptions(&subscriber.org, &items, now_ms)
            .into_iter()
            .filter(|s| s.subscriber == *subscriber)
            .collect())
    }

    pub(super) async fn org_subscriptions(
        &self,
        org: &OrgId,
        now_ms: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let live_after = Some(now_ms.div_euclid(1000));
        let range = SkRange::Below(SUBSCRIPTIONS_SK_END);
        let items = self.query(STORE, team_pk(org), range, live_after).await?;
        Ok(subscriptions(org, &items, now_ms))
    }

    pub(super) async fn org_ids_watched(&self) -> Result<Vec<OrgId>, StoreError> {
        let items = self
            .query(STORE, TEAMS_PK.to_owned(), SkRange::All, None)
            .await?;
        Ok(items
            .iter()
            .filter_map(|item| OrgId::parse_field(get_s(item, SK)?, "org").ok())
            .collect())
    }

    pub(super) async fn put_live_mark(
        &self,
        person: &PresenceKey,
        live: bool,
    ) -> Result<(), StoreError> {
        let key = keyed(
            team_pk(&person.org),
            format!("{LIVE_SK_PREFIX}{}", person.identity),
        );
        if live {
            let mut item = key;
            item.insert(subscription::PERSON.into(), s(presence_pk(person)));
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| classify(STORE, "PutItem", e))?;
        } else {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key))
                .send()
                .await
                .map_err(|e| classify(STORE, "DeleteItem", e))?;
        }
        Ok(())
    }

    pub(super) async fn live_marks(&self, org: &OrgId) -> Result<Vec<PresenceKey>, StoreError> {
        let range = SkRange::Prefix(LIVE_SK_PREFIX);
        let items = self.query(STORE, team_pk(org), range, None).await?;
        Ok(items
            .iter()
            .filter_map(|item| presence_key_of(get_s(item, subscription::PERSON)?))
            .filter(|person| person.org == *org)
            .collect())
    }

    /// A closed connection's subscriptions, gone with it.
    pub(super) async fn drop_subscriptions(
        &self,
        subscriber: &PresenceKey,
        connection_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mine = self
            .connection_subscriptions(subscriber, connection_id, now_ms)
            .await?;
        let deletes = mine
            .iter()
            .map(|s| self.delete_subscription(subscriber, connection_id, &s.team));
        try_join_all(deletes).await?;
        Ok(())
    }
}

/// The live subscriptions among an org partition's `items`; an item this version cannot read
/// is skipped (it expires with its connection).
fn subscriptions(org: &OrgId, items: &[Item], now_ms: i64) -> Vec<Subscription> {
    items
        .iter()
        .filter_map(|item| {
            let expires_at = get_n(item, TTL_ATTRIBUTE)?;
            if !is_live(expires_at, now_ms) {
                return None;
            }
            let subscriber = presence_key_of(get_s(item, subscription::SUBSCRIBER)?)?;
            if subscriber.org != *org {
                return None;
            }
            let team = Team::parse(get_s(item, subscription::TEAM)?)?;
            let sk = get_s(item, SK)?;
            let connection_id = sk.strip_suffix(team.as_str())?.strip_suffix('#')?;
            let members = match item.get(subscription::MEMBERS) {
                Some(AttributeValue::Ss(emails)) => Some(
                    emails
                        .iter()
                        .filter_map(|e| Email::parse_field(e, "members").ok())
                        .collect(),
                ),
                _ => (team != Team::Org).then(Vec::new),
            };
            Some(Subscription {
                connection_id: connection_id.to_owned(),
                subscriber,
                team,
                members,
                expires_at,
            })
        })
        .collect()
}
