//! Transactions: several writes that happen together or not at all. A change and the event it
//! causes are written in one, so no event is logged for a change that did not happen (a late
//! or repeated callback, an unregister of a device that was not there).

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::codec::Item;
use super::{DynamoStore, classify};
use crate::store::StoreError;

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

impl DynamoStore {
    pub(super) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<TxOutcome, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(TxOutcome::Written),
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
                    Some(items) => Ok(TxOutcome::Refused(items)),
                    None if err.code() == Some("TransactionCanceledException") => {
                        // Cancelled for another reason (a conflicting write in flight):
                        // nothing was written, and the caller may try again.
                        Err(StoreError::Unavailable(format!(
                            "TransactWriteItems cancelled: {}",
                            err.message().unwrap_or_default()
                        )))
                    }
                    None => Err(classify("TransactWriteItems", err)),
                }
            }
        }
    }
}
