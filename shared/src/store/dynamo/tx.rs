//! Transactions: several writes that happen together or not at all. A change and the event it
//! causes are written in one, so no event is logged for a change that did not happen (a late
//! or repeated callback, an unregister of a device that was not there).

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::DynamoStore;
use super::codec::Item;
use super::outcome::classify;
use crate::store::{StoreError, StoreName};

/// How a transaction ended.
pub enum TxOutcome {
    Written,
    /// A condition did not hold: nothing was written. For each write, in order, the item as
    /// it was when its condition failed (where the write asked for it), else `None`.
    Refused(Vec<Option<Item>>),
}

pub fn built<T>(result: Result<T, BuildError>) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Internal(e.to_string()))
}

const CONFLICT_ATTEMPTS: u32 = 4;

enum Attempt {
    Done(TxOutcome),
    /// Cancelled because another write held an item: nothing was written.
    Conflict(String),
}

/// 10, 20, 40 ms, each stretched by up to half again from the clock's nanoseconds, so that the
/// transactions that conflicted do not all come back at the same instant.
fn conflict_pause(attempt: u32) -> std::time::Duration {
    let base_ms = 10u64 << (attempt - 1).min(4);
    let spread = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0)
        % (base_ms / 2 + 1);
    std::time::Duration::from_millis(base_ms + spread)
}

impl DynamoStore {
    /// Runs the transaction, again (up to `CONFLICT_ATTEMPTS` in all, after a short pause) when
    /// DynamoDB cancelled it only because another transaction held one of its items: racing
    /// registers evicting the same device do that, and the SDK does not retry a cancellation.
    pub(in crate::store) async fn transact(
        &self,
        store: StoreName,
        writes: Vec<TransactWriteItem>,
    ) -> Result<TxOutcome, StoreError> {
        let mut attempt = 1;
        loop {
            match self.transact_once(store, writes.clone()).await? {
                Attempt::Done(outcome) => return Ok(outcome),
                Attempt::Conflict(message) if attempt >= CONFLICT_ATTEMPTS => {
                    // Nothing was written, and the caller may try again.
                    return Err(StoreError::unavailable(
                        store,
                        format!("TransactWriteItems cancelled {attempt} times: {message}"),
                    ));
                }
                Attempt::Conflict(_) => {
                    tokio::time::sleep(conflict_pause(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn transact_once(
        &self,
        store: StoreName,
        writes: Vec<TransactWriteItem>,
    ) -> Result<Attempt, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Attempt::Done(TxOutcome::Written)),
            Err(err) => {
                let refused = match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
                        let reasons = cancel.cancellation_reasons();
                        let failed_condition = reasons
                            .iter()
                            .any(|r| r.code() == Some("ConditionalCheckFailed"));
                        failed_condition
                            .then(|| reasons.iter().map(|r| r.item().cloned()).collect())
                    }
                    _ => None,
                };
                match refused {
                    Some(items) => Ok(Attempt::Done(TxOutcome::Refused(items))),
                    None if err.code() == Some("TransactionCanceledException") => {
                        // Cancelled for another reason (a conflicting write in flight).
                        Ok(Attempt::Conflict(
                            err.message().unwrap_or_default().to_owned(),
                        ))
                    }
                    None => Err(classify(store, "TransactWriteItems", err)),
                }
            }
        }
    }
}
