//! The DynamoDB store: one table, string keys `pk` and `sk`, native TTL on `expiresAt`. The key
//! schema is in [`keys`], the item codecs in [`codec`], table creation in [`admin`], and the two
//! stores' operations in [`presence`] and [`directory`].
//!
//! Device items stay well under 1 KB (ids, label and user agent are bounded), so a heartbeat
//! costs one write unit. Routing reads one number-route item, then one query per target user;
//! that query returns the user's calls too, because they live in the same partition.

mod admin;
mod calls;
mod changes;
pub mod codec;
mod devices;
mod directory;
mod events;
mod history;
mod inbox_reads;
pub mod keys;
mod message_codec;
mod messages;
mod presence;
mod rates;
mod sent_messages;
mod tx;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use self::codec::{Item, n, s};
use self::keys::{PK, SK};
use super::{EventSink, StoreError};
use crate::events::DEFAULT_RETENTION_SECONDS;

pub use self::keys::TTL_ATTRIBUTE;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    event_retention_seconds: u32,
    sink: Option<Arc<dyn EventSink>>,
}

/// Which sort keys of a partition a query reads.
#[derive(Clone, Copy)]
enum SkRange<'a> {
    All,
    /// Sort keys below this one.
    Below(&'a str),
    Prefix(&'a str),
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

/// Sort SDK failures into "try again later" and "something is wrong here".
fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    op: &str,
    err: SdkError<E, R>,
) -> StoreError {
    let transient = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            matches!(
                code,
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        }
        _ => false,
    };
    let detail = match &err {
        SdkError::ServiceError(service) => format!(
            "{op}: {} {}",
            service.err().code().unwrap_or("unknown"),
            service.err().message().unwrap_or_default()
        ),
        other => format!("{op}: {other:?}"),
    };
    if transient {
        StoreError::Unavailable(detail)
    } else {
        StoreError::Internal(detail)
    }
}

fn is_conditional_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "ConditionalCheckFailedException")
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

    /// Every device row of one identity, expired ones included (what a raw table read shows).
    #[cfg(feature = "test-util")]
    pub async fn stored_rows(&self, key: &super::PresenceKey) -> Result<usize, StoreError> {
        let pk = keys::presence_pk(key);
        let rows = self
            .query(pk, SkRange::Below(keys::PRESENCE_SK_END), None)
            .await?;
        let devices = rows.iter().filter(|item| {
            codec::get_s(item, SK).is_some_and(|sk| !sk.starts_with(keys::CALL_SK_PREFIX))
        });
        Ok(devices.count())
    }

    /// All items of one partition, following pagination.
    async fn query_partition(&self, pk: String) -> Result<Vec<Item>, StoreError> {
        self.query(pk, SkRange::All, None).await
    }

    /// The items of a partition whose sort key starts with `prefix`; with `live_after_s`,
    /// only those that expire after it.
    async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
        live_after_s: Option<i64>,
    ) -> Result<Vec<Item>, StoreError> {
        self.query(pk, SkRange::Prefix(prefix), live_after_s).await
    }

    /// The items of a partition in `range`, following pagination; with `live_after_s`, only
    /// those that expire after it.
    async fn query(
        &self,
        pk: String,
        range: SkRange<'_>,
        live_after_s: Option<i64>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take());
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
            let page = query.send().await.map_err(|e| classify("Query", e))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}
