//! The DynamoDB store's table-wide parts: one table, string keys `pk` and `sk`, native TTL on
//! `expiresAt`. The key schema is in [`keys`], the attribute helpers in [`codec`], single-item
//! reads and writes here, queries (one paginated loop) in `query.rs`, transactions in `tx.rs`,
//! updates built from named values in `changes.rs`, how an SDK failure is sorted (and a
//! refused condition's old item) in `outcome.rs`, table creation in `admin.rs`. Each store's
//! operations live in its own folder (`store/presence/dynamo/`, `store/messages/dynamo/`,
//! `store/directory/dynamo.rs`, …).
//!
//! Device items stay well under 1 KB (ids, label and user agent are bounded), so a heartbeat
//! costs one write unit. Routing reads one number-route item, then one query per target user;
//! that query returns the user's calls too, because they live in the same partition.

mod admin;
pub(in crate::store) mod changes;
pub mod codec;
pub mod keys;
pub(in crate::store) mod outcome;
pub(in crate::store) mod query;
pub(in crate::store) mod tx;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};

use self::codec::Item;
use self::keys::PK;
use self::outcome::classify;
use self::tx::built;
use super::{EventSink, StoreError, StoreName};
use crate::events::DEFAULT_RETENTION_SECONDS;

pub use self::keys::TTL_ATTRIBUTE;

#[derive(Clone)]
pub struct DynamoStore {
    pub(in crate::store) client: Client,
    pub(in crate::store) table: String,
    pub(in crate::store) event_retention_seconds: u32,
    pub(in crate::store) sink: Option<Arc<dyn EventSink>>,
}

/// A client from the standard AWS settings (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, …),
/// with timeouts short enough that a webhook can still answer Twilio in time.
pub async fn client_from_env() -> Client {
    client_from(aws_config::from_env()).await
}

/// [`client_from_env`] with the caller's choice of credential and region sources.
pub async fn client_from(loader: aws_config::ConfigLoader) -> Client {
    Client::new(&sdk_config(loader).await)
}

/// The AWS settings of `loader` with [`timeouts`]: what every client of the service is built
/// from, but in the Lambda functions (`lambda::lambda_sdk_config`).
pub async fn sdk_config(loader: aws_config::ConfigLoader) -> aws_config::SdkConfig {
    loader.timeout_config(timeouts()).load().await
}

/// Timeouts short enough that a webhook can still answer Twilio in time.
pub fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build()
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            event_retention_seconds: DEFAULT_RETENTION_SECONDS,
            sink: None,
        }
    }

    /// How long events stay in the log.
    pub fn with_event_retention(mut self, seconds: u32) -> Self {
        self.event_retention_seconds = seconds;
        self
    }

    /// Where the events this store writes are handed, in this process (the local server's
    /// realtime hub). Without one, only the table's stream carries them.
    pub fn with_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// One item, read consistently.
    pub(in crate::store) async fn get(
        &self,
        store: StoreName,
        key: Item,
    ) -> Result<Option<Item>, StoreError> {
        self.client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| classify(store, "GetItem", e))
    }

    /// A transaction's put of `item`; with a `condition`, whose `#pk` names the partition key.
    pub(in crate::store) fn put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some(condition) = condition {
            put = put
                .condition_expression(condition)
                .expression_attribute_names("#pk", PK);
        }
        Ok(TransactWriteItem::builder()
            .put(built(put.build())?)
            .build())
    }

    /// Like [`Self::put`] with a condition, returning the item as it was when the condition
    /// failed (so a refused transaction tells which of its conditions failed).
    pub(in crate::store) fn put_returning_old(
        &self,
        item: Item,
        condition: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#pk", PK)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        Ok(TransactWriteItem::builder()
            .put(built(put.build())?)
            .build())
    }
}
