//! DynamoDB store: one table, string keys `pk` and `sk`, native TTL on `expiresAt`.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | device | `softphone:{orgId}:{identity}` | `{deviceId}` | `userEmail`, `platform`, `label`?, `capabilities` (string set), `userAgent`?, `ip`?, `lastSeen` (ms), `expiresAt` (s, TTL), `ttlSeconds`, `registrationId`, `twilioState`? |
//! | signed-out device | `softphone:{orgId}:{identity}` | `{deviceId}` | `signedOutAt` (ms), `expiresAt` (s, TTL) |
//! | call | `softphone:{orgId}:{identity}` | `#call:{CallSid}` | `since` (ms), `ended`?, `expiresAt` (s, TTL) |
//! | user | `user:{sha256(email)}` | `profile` | `doc` (JSON: org, email, name, numbers, direct phone) |
//! | user (in org) | `org:{orgId}` | `user:{email}` | `doc` (JSON), `pos` |
//! | group | `org:{orgId}` | `group:{id}` | `doc` (JSON), `pos` |
//! | phone | `org:{orgId}` | `phone:{id}` | `doc` (JSON), `pos` |
//! | number route | `number:{e164}` | `route` | `doc` (JSON: org, phone, and its group) |
//! | org index | `directory` | `org:{orgId}` | (none) |
//!
//! Device items stay well under 1 KB (ids, label and user agent are bounded), so a heartbeat
//! costs one write unit. Routing reads one number-route item, then one query per target user;
//! that query returns the user's calls too, because they live in the same partition (`#` never
//! occurs in a device id, so call rows cannot collide with devices).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType,
    PutRequest, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus, WriteRequest,
};
use futures::future::try_join_all;

use super::{
    ActiveCall, CallEvent, CallProgress, DeviceRecord, DirectoryStore, HeartbeatOutcome,
    HeartbeatUpdate, PresenceKey, PresenceStore, RegisterOutcome, Registered, Registration,
    StoreError, Unregistration, UserPresence, eviction_candidates, expiry, is_live,
    sort_most_recent_first,
};
use crate::directory::{
    Directory, Group, ImportReport, NumberRoute, OrgDirectory, Phone, Record, User, UserProfile,
    diff_records,
};
use crate::domain::{
    Capabilities, DeviceId, E164, Email, Label, OrgId, Platform, TwilioState, UserKey,
};

pub const TTL_ATTRIBUTE: &str = "expiresAt";

type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

/// A client from the standard AWS settings (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, …),
/// with timeouts short enough that a webhook can still answer Twilio in time.
pub async fn client_from_env() -> Client {
    client_from(aws_config::from_env()).await
}

/// [`client_from_env`] with the caller's choice of credential and region sources.
pub async fn client_from(loader: aws_config::ConfigLoader) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    let config = loader.timeout_config(timeouts).load().await;
    Client::new(&config)
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn presence_pk(key: &PresenceKey) -> String {
    format!("softphone:{}:{}", key.org, key.identity)
}

fn org_pk(org: &OrgId) -> String {
    format!("org:{org}")
}

fn number_pk(number: &E164) -> String {
    format!("number:{}", number.as_str())
}

fn user_pk(key: &UserKey) -> String {
    format!("user:{key}")
}

fn call_sk(call_sid: &str) -> String {
    format!("{CALL_SK_PREFIX}{call_sid}")
}

const DIRECTORY_PK: &str = "directory";
const ROUTE_SK: &str = "route";
const PROFILE_SK: &str = "profile";
const CALL_SK_PREFIX: &str = "#call:";
/// Present only on a remotely signed-out device's tombstone.
const SIGNED_OUT: &str = "signedOutAt";

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

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn bad_item(what: &str) -> StoreError {
    StoreError::Internal(format!("malformed stored item: {what}"))
}

fn device_from_item(key: &PresenceKey, item: &Item) -> Result<DeviceRecord, StoreError> {
    let device_id = get_s(item, "sk")
        .and_then(|raw| DeviceId::parse(raw).ok())
        .ok_or_else(|| bad_item("sk"))?;
    let caps: Vec<&str> = item
        .get("capabilities")
        .and_then(|v| v.as_ss().ok())
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default();
    Ok(DeviceRecord {
        device_id,
        identity: key.identity.clone(),
        user_email: get_s(item, "userEmail")
            .and_then(|raw| Email::parse_field(raw, "userEmail").ok())
            .ok_or_else(|| bad_item("userEmail"))?,
        platform: get_s(item, "platform")
            .and_then(|raw| Platform::parse(raw).ok())
            .ok_or_else(|| bad_item("platform"))?,
        label: get_s(item, "label").and_then(|raw| Label::parse(raw).ok()),
        capabilities: Capabilities::parse(&caps).map_err(|_| bad_item("capabilities"))?,
        user_agent: get_s(item, "userAgent").map(str::to_owned),
        ip: get_s(item, "ip").map(str::to_owned),
        last_seen: get_n(item, "lastSeen").ok_or_else(|| bad_item("lastSeen"))?,
        expires_at: get_n(item, TTL_ATTRIBUTE).ok_or_else(|| bad_item(TTL_ATTRIBUTE))?,
        ttl_seconds: get_n(item, "ttlSeconds")
            .and_then(|t| u32::try_from(t).ok())
            .ok_or_else(|| bad_item("ttlSeconds"))?,
        twilio_state: get_s(item, "twilioState").and_then(|raw| TwilioState::parse(raw).ok()),
        registration_id: get_s(item, "registrationId").unwrap_or_default().to_owned(),
    })
}

/// Whether a stored row (or what a write returned of it) is a device still live at `now_ms`.
fn is_live_device(item: &Item, now_ms: i64) -> bool {
    !item.contains_key(SIGNED_OUT) && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
}

/// Whether a stored row is a remote sign-out still in force at `now_ms`.
fn is_signed_out(item: &Item, now_ms: i64) -> bool {
    item.contains_key(SIGNED_OUT) && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
}

fn device_item(key: &PresenceKey, device: &DeviceRecord) -> Item {
    let mut item = Item::from([
        ("pk".to_owned(), s(presence_pk(key))),
        ("sk".to_owned(), s(device.device_id.as_str())),
        ("userEmail".to_owned(), s(device.user_email.as_str())),
        ("platform".to_owned(), s(device.platform.as_str())),
        ("capabilities".to_owned(), caps_value(&device.capabilities)),
        ("lastSeen".to_owned(), n(device.last_seen)),
        (TTL_ATTRIBUTE.to_owned(), n(device.expires_at)),
        ("ttlSeconds".to_owned(), n(device.ttl_seconds)),
        ("registrationId".to_owned(), s(&device.registration_id)),
    ]);
    if let Some(state) = device.twilio_state {
        item.insert("twilioState".to_owned(), s(state.as_str()));
    }
    if let Some(label) = device.label.as_ref().filter(|l| !l.as_str().is_empty()) {
        item.insert("label".to_owned(), s(label.as_str()));
    }
    if let Some(ua) = &device.user_agent {
        item.insert("userAgent".to_owned(), s(ua));
    }
    if let Some(ip) = &device.ip {
        item.insert("ip".to_owned(), s(ip));
    }
    item
}

fn caps_value(caps: &Capabilities) -> AttributeValue {
    AttributeValue::Ss(caps.iter().map(|c| c.as_str().to_owned()).collect())
}

fn doc_item(pk: String, sk: String, doc: String, pos: usize) -> Item {
    Item::from([
        ("pk".to_owned(), s(pk)),
        ("sk".to_owned(), s(sk)),
        ("doc".to_owned(), s(doc)),
        ("pos".to_owned(), n(pos)),
    ])
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("serialize: {e}")))
}

fn from_doc<T: serde::de::DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let doc = get_s(item, "doc").ok_or_else(|| bad_item("doc"))?;
    serde_json::from_str(doc).map_err(|e| bad_item(&format!("doc: {e}")))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Create the table with TTL enabled if it does not exist; enable TTL if it is off.
    /// Returns whether the table was created.
    pub async fn create_table(&self) -> Result<bool, StoreError> {
        let created = match self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr_def("pk")?)
            .attribute_definitions(attr_def("sk")?)
            .key_schema(key_elem("pk", KeyType::Hash)?)
            .key_schema(key_elem("sk", KeyType::Range)?)
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
            Err(err) => return Err(classify("CreateTable", err)),
        };
        for _ in 0..120 {
            let described = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| classify("DescribeTable", e))?;
            if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
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
            .map_err(|e| classify("DescribeTimeToLive", e))?;
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
                .map_err(|e| classify("UpdateTimeToLive", e))?;
        }
        Ok(created)
    }

    /// Every row of one identity, expired ones included (what a raw table read shows).
    pub async fn stored_rows(&self, key: &PresenceKey) -> Result<usize, StoreError> {
        Ok(self.query_partition(presence_pk(key), None).await?.len())
    }

    /// All items of one partition, following pagination.
    async fn query_partition(
        &self,
        pk: String,
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
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .set_exclusive_start_key(start.take());
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

    /// Write and delete in batches of 25, resubmitting what DynamoDB leaves unprocessed.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0u32.. {
                if pending.is_empty() {
                    break;
                }
                if attempt == 8 {
                    return Err(StoreError::Unavailable(
                        "BatchWriteItem: items left unprocessed".into(),
                    ));
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| classify("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
        }
        Ok(())
    }
}

fn attr_def(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))
}

fn key_elem(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))
}

fn put(item: Item) -> Result<WriteRequest, StoreError> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete(pk: String, sk: String) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .key("pk", s(pk))
        .key("sk", s(sk))
        .build()
        .map_err(|e| StoreError::Internal(e.to_string()))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

#[async_trait]
impl PresenceStore for DynamoStore {
    async fn register(&self, registration: Registration) -> Result<RegisterOutcome, StoreError> {
        let key = &registration.key;
        let now_ms = registration.now_ms;
        let device = registration.record();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(device_item(key, &device)))
            .return_values(ReturnValue::AllOld);
        if !registration.sign_in {
            // Only an explicit sign-in may overwrite a remote sign-out still in force.
            put = put
                .condition_expression("attribute_not_exists(#out) OR #exp <= :nowFloor")
                .expression_attribute_names("#out", SIGNED_OUT)
                .expression_attribute_names("#exp", TTL_ATTRIBUTE)
                .expression_attribute_values(":nowFloor", n(now_ms.div_euclid(1000)));
        }
        let old = match put.send().await {
            Ok(out) => out.attributes.unwrap_or_default(),
            Err(err) if is_conditional_failure(&err) => return Ok(RegisterOutcome::SignedOut),
            Err(err) => return Err(classify("PutItem", err)),
        };
        // Re-registering a live device (after a 404, a token renewal) leaves the count as it
        // was: the write alone tells, so the common case costs one round trip.
        if is_live_device(&old, now_ms) {
            return Ok(RegisterOutcome::Registered(Registered {
                device,
                evicted: Vec::new(),
            }));
        }

        // Read after the write (consistently), so that of several racing registers the last
        // to read sees all of them and trims to the limit.
        let live = self.live_devices(key, now_ms).await?;
        if live.len() <= registration.max_live {
            return Ok(RegisterOutcome::Registered(Registered {
                device,
                evicted: Vec::new(),
            }));
        }
        let candidates = eviction_candidates(live, registration.max_live);
        let pk = presence_pk(key);
        let deletions = candidates.iter().map(|victim| {
            let pk = pk.clone();
            async move {
                // Only if not seen since we read it: a device that just heartbeated stays.
                let result = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(pk))
                    .key("sk", s(victim.device_id.as_str()))
                    .condition_expression("lastSeen = :seen")
                    .expression_attribute_values(":seen", n(victim.last_seen))
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Some(victim.device_id.clone())),
                    Err(err) if is_conditional_failure(&err) => Ok(None),
                    Err(err) => Err(classify("DeleteItem", err)),
                }
            }
        });
        let evicted = try_join_all(deletions)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(RegisterOutcome::Registered(Registered { device, evicted }))
    }

    async fn heartbeat(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        update: HeartbeatUpdate,
    ) -> Result<HeartbeatOutcome, StoreError> {
        let now_s = update.now_ms.div_euclid(1000);
        let mut sets = vec!["#seen = :now".to_owned()];
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(presence_pk(key)))
            .key("sk", s(device_id.as_str()))
            // Exists and still live: an expired row waiting for TTL deletion must not revive,
            // nor may a sign-out's tombstone become a device again.
            .condition_expression(
                "attribute_exists(pk) AND #exp > :nowFloor AND attribute_not_exists(#out)",
            )
            .expression_attribute_names("#out", SIGNED_OUT)
            // On refusal the row comes back in the same round trip, to tell 404 from 410.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .expression_attribute_names("#seen", "lastSeen")
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_names("#ttl", "ttlSeconds")
            .expression_attribute_values(":now", n(update.now_ms))
            .expression_attribute_values(":nowFloor", n(now_s))
            .return_values(ReturnValue::AllNew);
        match update.platform {
            Some((platform, ttl)) => {
                sets.push("#exp = :exp, #ttl = :ttl, #platform = :platform".to_owned());
                request = request
                    .expression_attribute_names("#platform", "platform")
                    .expression_attribute_values(":exp", n(expiry(update.now_ms, ttl)))
                    .expression_attribute_values(":ttl", n(ttl))
                    .expression_attribute_values(":platform", s(platform.as_str()));
            }
            None => {
                // The stored TTL decides, so a phone keeps its longer mobile TTL.
                sets.push("#exp = #ttl + :nowCeil".to_owned());
                request = request.expression_attribute_values(
                    ":nowCeil",
                    n((update.now_ms + 999).div_euclid(1000)),
                );
            }
        }
        if let Some(caps) = &update.capabilities {
            sets.push("#caps = :caps".to_owned());
            request = request
                .expression_attribute_names("#caps", "capabilities")
                .expression_attribute_values(":caps", caps_value(caps));
        }
        if let Some(ua) = update.user_agent {
            sets.push("#ua = :ua".to_owned());
            request = request
                .expression_attribute_names("#ua", "userAgent")
                .expression_attribute_values(":ua", s(ua));
        }
        if let Some(ip) = update.ip {
            sets.push("#ip = :ip".to_owned());
            request = request
                .expression_attribute_names("#ip", "ip")
                .expression_attribute_values(":ip", s(ip));
        }
        if let Some(state) = update.twilio_state {
            sets.push("#tw = :tw".to_owned());
            request = request
                .expression_attribute_names("#tw", "twilioState")
                .expression_attribute_values(":tw", s(state.as_str()));
        }
        let result = request
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                device_from_item(key, &item).map(HeartbeatOutcome::Live)
            }
            Err(err) if is_conditional_failure(&err) => {
                let old = err
                    .as_service_error()
                    .and_then(|e| match e {
                        UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                        _ => None,
                    })
                    .cloned()
                    .unwrap_or_default();
                Ok(if is_signed_out(&old, update.now_ms) {
                    HeartbeatOutcome::SignedOut
                } else {
                    HeartbeatOutcome::NotRegistered
                })
            }
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }

    async fn unregister(
        &self,
        key: &PresenceKey,
        device_id: &DeviceId,
        how: Unregistration,
    ) -> Result<bool, StoreError> {
        let old = if let Some(until) = how.signed_out_until {
            // The tombstone takes the device's place: one write removes it and bars its
            // automatic re-registers, and TTL deletes the tombstone in time.
            let tombstone = Item::from([
                ("pk".to_owned(), s(presence_pk(key))),
                ("sk".to_owned(), s(device_id.as_str())),
                (SIGNED_OUT.to_owned(), n(how.now_ms)),
                (TTL_ATTRIBUTE.to_owned(), n(until)),
            ]);
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(tombstone))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| classify("PutItem", e))?
                .attributes
        } else {
            let mut delete = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(presence_pk(key)))
                .key("sk", s(device_id.as_str()))
                .return_values(ReturnValue::AllOld)
                .expression_attribute_names("#out", SIGNED_OUT);
            delete = match &how.registration_id {
                // A late unregister from a registration that was since replaced does nothing.
                Some(id) => delete
                    .condition_expression("attribute_not_exists(#out) AND registrationId = :rid")
                    .expression_attribute_values(":rid", s(id)),
                // A plain unregister never lifts a remote sign-out.
                None => delete.condition_expression("attribute_not_exists(#out)"),
            };
            match delete.send().await {
                Ok(out) => out.attributes,
                Err(err) if is_conditional_failure(&err) => None,
                Err(err) => return Err(classify("DeleteItem", err)),
            }
        };
        Ok(old.is_some_and(|old| is_live_device(&old, how.now_ms)))
    }

    async fn presence(&self, key: &PresenceKey, now_ms: i64) -> Result<UserPresence, StoreError> {
        let items = self
            .query_partition(presence_pk(key), Some(now_ms.div_euclid(1000)))
            .await?;
        let mut presence = UserPresence::default();
        for item in &items {
            let sk = get_s(item, "sk").unwrap_or_default();
            if let Some(call_sid) = sk.strip_prefix(CALL_SK_PREFIX) {
                if !item.contains_key("ended")
                    && get_n(item, TTL_ATTRIBUTE).is_some_and(|e| is_live(e, now_ms))
                {
                    presence.calls.push(ActiveCall {
                        call_sid: call_sid.to_owned(),
                        since_ms: get_n(item, "since").unwrap_or(now_ms),
                    });
                }
            } else if is_live_device(item, now_ms) {
                presence.devices.push(device_from_item(key, item)?);
            }
        }
        sort_most_recent_first(&mut presence.devices);
        Ok(presence)
    }

    async fn record_call(&self, key: &PresenceKey, event: CallEvent) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(presence_pk(key)))
            .key("sk", s(call_sk(&event.call_sid)))
            .expression_attribute_names("#exp", TTL_ATTRIBUTE)
            .expression_attribute_values(":exp", n(event.expires_at))
            .expression_attribute_values(":now", n(event.now_ms));
        let request = match event.progress {
            // First word wins: a duplicate, or an `answered` arriving after its end, finds the
            // row and changes nothing.
            CallProgress::Answered => request
                .condition_expression("attribute_not_exists(pk)")
                .update_expression("SET since = :now, #exp = :exp"),
            // Final whatever came before; keeps `since` if the answer was seen.
            CallProgress::Ended => request
                .update_expression(
                    "SET ended = :yes, #exp = :exp, since = if_not_exists(since, :now)",
                )
                .expression_attribute_values(":yes", AttributeValue::Bool(true)),
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) if is_conditional_failure(&err) => Ok(()),
            Err(err) => Err(classify("UpdateItem", err)),
        }
    }
}

/// The stored documents of one org, by sort key.
struct OrgItems {
    docs: BTreeMap<String, Record>,
}

impl OrgItems {
    fn directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        let mut entries: Vec<_> = self.docs.iter().collect();
        entries.sort_by_key(|(_, record)| record.pos);
        let mut dir = OrgDirectory::empty(org.clone());
        for (sk, Record { doc, .. }) in entries {
            if sk.starts_with("group:") {
                dir.groups.push(
                    serde_json::from_str::<Group>(doc)
                        .map_err(|e| bad_item(&format!("{sk}: {e}")))?,
                );
            } else if sk.starts_with("phone:") {
                dir.phones.push(
                    serde_json::from_str::<Phone>(doc)
                        .map_err(|e| bad_item(&format!("{sk}: {e}")))?,
                );
            } else if sk.starts_with("user:") {
                dir.users.push(
                    serde_json::from_str::<User>(doc)
                        .map_err(|e| bad_item(&format!("{sk}: {e}")))?,
                );
            }
        }
        Ok(dir)
    }
}

impl DynamoStore {
    async fn org_items(&self, org: &OrgId) -> Result<OrgItems, StoreError> {
        let items = self.query_partition(org_pk(org), None).await?;
        let mut docs = BTreeMap::new();
        for item in items {
            let sk = get_s(&item, "sk").ok_or_else(|| bad_item("sk"))?.to_owned();
            let doc = get_s(&item, "doc")
                .ok_or_else(|| bad_item("doc"))?
                .to_owned();
            let pos = get_n(&item, "pos")
                .and_then(|p| usize::try_from(p).ok())
                .unwrap_or(usize::MAX);
            docs.insert(sk, Record { pos, doc });
        }
        Ok(OrgItems { docs })
    }

    /// `numbers_in_file`: every number of the whole import. A number that moves to another
    /// org of the same file keeps its route, whichever org is written first.
    async fn import_org(
        &self,
        org: &OrgDirectory,
        numbers_in_file: &BTreeSet<&E164>,
        users_in_file: &BTreeSet<&Email>,
        report: &mut ImportReport,
    ) -> Result<(), StoreError> {
        let existing = self.org_items(&org.org_id).await?;
        let old_dir = existing.directory(&org.org_id)?;
        let wanted = org.records();
        diff_records(&existing.docs, &wanted, report);

        let pk = org_pk(&org.org_id);
        let mut requests = Vec::new();
        for (sk, record) in &wanted {
            // A record that only moved in the file is rewritten too: export keeps file order.
            if existing.docs.get(sk) != Some(record) {
                requests.push(put(doc_item(
                    pk.clone(),
                    sk.clone(),
                    record.doc.clone(),
                    record.pos,
                ))?);
            }
        }
        for sk in existing.docs.keys().filter(|sk| !wanted.contains_key(*sk)) {
            requests.push(delete(pk.clone(), sk.clone())?);
        }
        // Route items embed the phone and its group, so rewrite them all; drop the ones for
        // numbers this org no longer has.
        let routes = org.routes();
        for route in &routes {
            requests.push(put(doc_item(
                number_pk(&route.phone.phone_number),
                ROUTE_SK.to_owned(),
                to_json(route)?,
                0,
            ))?);
        }
        for old in &old_dir.phones {
            if !numbers_in_file.contains(&old.phone_number) {
                requests.push(delete(number_pk(&old.phone_number), ROUTE_SK.to_owned())?);
            }
        }
        // Profiles embed numbers and the org's country codes: rewrite them all, like routes.
        for profile in org.user_profiles() {
            requests.push(put(doc_item(
                user_pk(&profile.key()),
                PROFILE_SK.to_owned(),
                to_json(&profile)?,
                0,
            ))?);
        }
        for old in old_dir.emails() {
            if !users_in_file.contains(old) {
                requests.push(delete(
                    user_pk(&UserKey::for_email(old)),
                    PROFILE_SK.to_owned(),
                )?);
            }
        }
        requests.push(put(Item::from([
            ("pk".to_owned(), s(DIRECTORY_PK)),
            ("sk".to_owned(), s(org_pk(&org.org_id))),
        ]))?);
        self.batch_write(requests).await
    }
}

#[async_trait]
impl DirectoryStore for DynamoStore {
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError> {
        self.org_items(org).await?.directory(org)
    }

    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(number_pk(number)))
            .key("sk", s(ROUTE_SK))
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        out.item.as_ref().map(from_doc).transpose()
    }

    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(user_pk(key)))
            .key("sk", s(PROFILE_SK))
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        out.item.as_ref().map(from_doc).transpose()
    }

    async fn import(&self, directory: &Directory) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport {
            orgs: directory.orgs.len(),
            ..ImportReport::default()
        };
        let numbers_in_file: BTreeSet<&E164> = directory
            .orgs
            .iter()
            .flat_map(|org| org.phones.iter().map(|p| &p.phone_number))
            .collect();
        let users_in_file: BTreeSet<&Email> = directory
            .orgs
            .iter()
            .flat_map(OrgDirectory::emails)
            .collect();
        for org in &directory.orgs {
            self.import_org(org, &numbers_in_file, &users_in_file, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn export(&self) -> Result<Directory, StoreError> {
        let index = self.query_partition(DIRECTORY_PK.to_owned(), None).await?;
        let orgs = index
            .iter()
            .filter_map(|item| get_s(item, "sk")?.strip_prefix("org:"))
            .map(|raw| OrgId::parse_field(raw, "orgId").map_err(|_| bad_item("org index")))
            .collect::<Result<Vec<_>, _>>()?;
        let dirs = try_join_all(orgs.iter().map(|org| self.org_directory(org))).await?;
        Ok(Directory { orgs: dirs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Identity, IdentityStyle};

    /// DynamoDB's item size: attribute names plus values (numbers counted generously).
    fn item_size(item: &Item) -> usize {
        item.iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
                        AttributeValue::Ss(set) => set.iter().map(|s| s.len() + 1).sum(),
                        _ => 8,
                    }
            })
            .sum()
    }

    #[test]
    fn a_device_item_at_its_largest_stays_within_one_write_unit() {
        // Every bounded field at its maximum; a long (100-character) email.
        let email = Email::parse_field(&format!("{}@example.com", "e".repeat(88)), "e").unwrap();
        let key = PresenceKey {
            org: OrgId::parse_field(&"o".repeat(64), "o").unwrap(),
            identity: Identity::for_email(&email, IdentityStyle::Safe).unwrap(),
        };
        let device = DeviceRecord {
            device_id: DeviceId::parse(&"d".repeat(128)).unwrap(),
            identity: key.identity.clone(),
            user_email: email,
            platform: Platform::Android,
            label: Some(Label::parse(&"l".repeat(64)).unwrap()),
            capabilities: Capabilities::parse(&["voice", "sms"]).unwrap(),
            user_agent: Some("u".repeat(160)),
            ip: Some("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".into()),
            last_seen: 1_800_000_000_000,
            expires_at: 1_800_086_400,
            twilio_state: Some(TwilioState::Unregistered),
            ttl_seconds: 86_400,
            registration_id: "f".repeat(24),
        };
        let size = item_size(&device_item(&key, &device));
        assert!(size <= 1024, "{size} bytes");
    }
}
