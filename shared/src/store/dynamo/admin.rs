//! Creating the table (with TTL on), for a local DynamoDB or a stack-less setup; the template
//! declares the same table for AWS.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
    TimeToLiveStatus,
};

use super::DynamoStore;
use super::keys::{INBOX_INDEX, PK, SK, TTL_ATTRIBUTE, sms};
use super::outcome::classify;
use crate::store::{StoreError, StoreName};

impl DynamoStore {
    /// Create the table with TTL enabled and the inbox index if it does not exist; enable TTL
    /// and add the index if they are missing. Returns whether the table was created.
    pub async fn create_table(&self) -> Result<bool, StoreError> {
        let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Internal(e.to_string());
        let string = |name| {
            let attribute = AttributeDefinition::builder().attribute_name(name);
            attribute.attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name, key_type| {
            let element = KeySchemaElement::builder().attribute_name(name);
            element.key_type(key_type).build()
        };
        let index_keys = vec![
            key(sms::INBOX, KeyType::Hash).map_err(internal)?,
            key(sms::ACTIVITY, KeyType::Range).map_err(internal)?,
        ];
        let all = Projection::builder()
            .projection_type(ProjectionType::All)
            .build();
        let index = GlobalSecondaryIndex::builder()
            .index_name(INBOX_INDEX)
            .set_key_schema(Some(index_keys.clone()))
            .projection(all.clone())
            .build()
            .map_err(internal)?;
        let created = match self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(string(PK).map_err(internal)?)
            .attribute_definitions(string(SK).map_err(internal)?)
            .attribute_definitions(string(sms::INBOX).map_err(internal)?)
            .attribute_definitions(string(sms::ACTIVITY).map_err(internal)?)
            .key_schema(key(PK, KeyType::Hash).map_err(internal)?)
            .key_schema(key(SK, KeyType::Range).map_err(internal)?)
            .global_secondary_indexes(index)
            .send()
            .await
        {
            Ok(_) => true,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                false
            }
            Err(err) => return Err(classify(StoreName::Table, "CreateTable", err)),
        };
        for _ in 0..120 {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| classify(StoreName::Table, "DescribeTable", e))?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                let indexed = described
                    .table()
                    .map(|t| t.global_secondary_indexes())
                    .is_some_and(|indexes| {
                        indexes.iter().any(|i| i.index_name() == Some(INBOX_INDEX))
                    });
                if !indexed {
                    // A table made before the SMS inbox: add its index.
                    let create = CreateGlobalSecondaryIndexAction::builder()
                        .index_name(INBOX_INDEX)
                        .set_key_schema(Some(index_keys.clone()))
                        .projection(all.clone())
                        .build()
                        .map_err(internal)?;
                    self.client
                        .update_table()
                        .table_name(&self.table)
                        .attribute_definitions(string(sms::INBOX).map_err(internal)?)
                        .attribute_definitions(string(sms::ACTIVITY).map_err(internal)?)
                        .global_secondary_index_updates(
                            GlobalSecondaryIndexUpdate::builder().create(create).build(),
                        )
                        .send()
                        .await
                        .map_err(|e| classify(StoreName::Table, "UpdateTable", e))?;
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let ttl = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| classify(StoreName::Table, "DescribeTimeToLive", e))?;
        let enabled = ttl
            .time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
        if !enabled {
            let spec = TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| classify(StoreName::Table, "UpdateTimeToLive", e))?;
        }
        Ok(created)
    }

    /// Turn on the table's stream of new images, as the template does for the realtime push;
    /// the stream's ARN.
    pub async fn enable_stream(&self) -> Result<String, StoreError> {
        let spec = StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::NewImage)
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        let updated = self
            .client
            .update_table()
            .table_name(&self.table)
            .stream_specification(spec)
            .send()
            .await
            .map_err(|e| classify(StoreName::Table, "UpdateTable", e))?;
        updated
            .table_description()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_owned)
            .ok_or_else(|| StoreError::Internal("UpdateTable returned no stream".into()))
    }
}
