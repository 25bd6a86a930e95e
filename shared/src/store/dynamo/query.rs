//! Queries: the one loop that follows DynamoDB's pages (`LastEvaluatedKey`), and the common
//! read of a partition's items in a range of sort keys.

use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

use super::DynamoStore;
use super::codec::{Item, n, s};
use super::keys::{PK, SK, TTL_ATTRIBUTE};
use super::outcome::classify;
use crate::store::{StoreError, StoreName};

/// Which sort keys of a partition a query reads.
#[derive(Clone, Copy)]
pub(in crate::store) enum SkRange<'a> {
    All,
    /// Sort keys below this one.
    Below(&'a str),
    Prefix(&'a str),
}

impl DynamoStore {
    /// A query of this table.
    pub(in crate::store) fn query_request(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }

    /// Send `query` page after page, handing each to `take`, until the last page or until
    /// `take` answers `false` (it has what it wants).
    pub(in crate::store) async fn paginate(
        &self,
        store: StoreName,
        query: QueryFluentBuilder,
        mut take: impl FnMut(QueryOutput) -> Result<bool, StoreError> + Send,
    ) -> Result<(), StoreError> {
        let mut start: Option<Item> = None;
        loop {
            let mut page = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| classify(store, "Query", e))?;
            let next = page.last_evaluated_key.take().filter(|key| !key.is_empty());
            let more = take(page)?;
            match next {
                Some(key) if more => start = Some(key),
                _ => return Ok(()),
            }
        }
    }

    /// The items of a partition in `range`, read consistently, every page; with
    /// `live_after_s`, only those that expire after it.
    pub(in crate::store) async fn query(
        &self,
        store: StoreName,
        pk: String,
        range: SkRange<'_>,
        live_after_s: Option<i64>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut query = self
            .query_request()
            .consistent_read(true)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(pk));
        query = match range {
            SkRange::All => query.key_condition_expression("#pk = :pk"),
            SkRange::Below(end) => query
                .key_condition_expression("#pk = :pk AND #sk < :sk")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":sk", s(end)),
            SkRange::Prefix(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :sk)")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":sk", s(prefix)),
        };
        if let Some(now_s) = live_after_s {
            query = query
                .filter_expression("#exp > :now")
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":now", n(now_s));
        }
        let mut items = Vec::new();
        self.paginate(store, query, |page| {
            items.extend(page.items.unwrap_or_default());
            Ok(true)
        })
        .await?;
        Ok(items)
    }
}
