//! What an SDK call came to: a failure sorted into "try again later" (naming the store that
//! failed) and "something is wrong here", and a single-item write whose condition failed told
//! apart from a failure, with the item as it was.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

use super::codec::Item;
use crate::store::{StoreError, StoreName};

/// Sort SDK failures into "try again later" and "something is wrong here".
pub(in crate::store) fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    store: StoreName,
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
        StoreError::unavailable(store, detail)
    } else {
        StoreError::Internal(detail)
    }
}

/// The errors of the single-item writes, which carry the item as it was when their condition
/// failed (if the request asked for it with `ReturnValuesOnConditionCheckFailure`).
pub(in crate::store) trait ConditionFailed {
    fn old_item(&self) -> Option<&Item>;
}

impl ConditionFailed for PutItemError {
    fn old_item(&self) -> Option<&Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item(),
            _ => None,
        }
    }
}

impl ConditionFailed for UpdateItemError {
    fn old_item(&self) -> Option<&Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item(),
            _ => None,
        }
    }
}

impl ConditionFailed for DeleteItemError {
    fn old_item(&self) -> Option<&Item> {
        match self {
            Self::ConditionalCheckFailedException(failed) => failed.item(),
            _ => None,
        }
    }
}

/// How a conditional single-item write ended.
pub(in crate::store) enum Conditional<T> {
    Written(T),
    /// Its condition did not hold: nothing was written. The item as it was, where the request
    /// asked for it.
    Refused(Option<Item>),
}

/// `result` of a conditional write (`op`) of `store`: written, refused, or a failure.
pub(in crate::store) fn conditional<T, E, R>(
    store: StoreName,
    op: &str,
    result: Result<T, SdkError<E, R>>,
) -> Result<Conditional<T>, StoreError>
where
    E: ConditionFailed + ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Conditional::Written(out)),
        Err(err) => {
            let refused = err
                .as_service_error()
                .filter(|e| e.code() == Some("ConditionalCheckFailedException"));
            match refused {
                Some(e) => Ok(Conditional::Refused(e.old_item().cloned())),
                None => Err(classify(store, op, err)),
            }
        }
    }
}
