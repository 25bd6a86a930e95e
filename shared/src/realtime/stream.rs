//! The `realtime-push` function's input: a batch of the table's stream records, which the
//! events store reads as events (`store::events::stream`). Events written to users' logs are
//! pushed, in order, to their open connections ([`super::push::deliver`]); a
//! batch item failure makes Lambda retry from that record (a device may see an event twice and
//! drops it by cursor). Records that are not new events are skipped: the template's filter
//! sends only those, and a malformed one must not stop the stream.

use serde::Serialize;

use super::push::{Delivery, Sender, deliver};
use super::team;
use crate::events::Event;
use crate::store::PresenceKey;
use crate::store::events::stream::StreamEvent;

/// The batch Lambda delivers; the events store reads its records as events.
pub use crate::store::events::stream::StreamBatch;

/// What Lambda reads back: the records to retry from.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// What one batch did, for its log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    pub skipped: usize,
    pub delivery: Delivery,
}

/// Push every new event of `batch` to its user's connections, user by user in stream order;
/// a user's event that may change what colleagues see of them (a status, a device, a call)
/// is then told to the team's watchers ([`super::team::person_changed`]).
pub async fn consume(
    stores: &team::Stores<'_>,
    sender: &dyn Sender,
    batch: &StreamBatch,
    now_ms: i64,
) -> (BatchResponse, Summary) {
    let store = stores.events;
    let mut summary = Summary::default();
    let mut response = BatchResponse::default();
    // Consecutive records of one user go together: one read of their connections.
    let mut group: Vec<(PresenceKey, Event, String)> = Vec::new();
    let records = batch.records.iter().map(Some).chain([None]);
    for record in records {
        let next = record.and_then(|r| {
            let StreamEvent {
                user,
                event,
                sequence,
            } = r.event()?;
            Some((user, event, sequence))
        });
        if record.is_some() && next.is_none() {
            summary.skipped += 1;
            continue;
        }
        let same_user = match (&next, group.first()) {
            (Some((user, ..)), Some((first, ..))) => user == first,
            _ => false,
        };
        if !same_user && !group.is_empty() {
            let (user, _, first_sequence) = &group[0];
            let events: Vec<Event> = group.iter().map(|(_, e, _)| e.clone()).collect();
            summary.events += events.len();
            let failed = match deliver(store, sender, user, &events, now_ms).await {
                Ok(delivery) => {
                    let mut failed = !delivery.failed.is_empty();
                    summary.delivery.sent += delivery.sent;
                    summary.delivery.gone += delivery.gone;
                    summary.delivery.failed.extend(delivery.failed);
                    if events.iter().any(|e| team::affects_presence(e.kind)) {
                        match team::person_changed(stores, sender, user, now_ms).await {
                            Ok(told) => {
                                summary.delivery.sent += told.delivery.sent;
                                summary.delivery.gone += told.delivery.gone;
                                // A watcher that could not be told is not retried: the next
                                // change tells the whole state again.
                                summary.delivery.failed.extend(told.delivery.failed);
                            }
                            Err(err) => {
                                summary
                                    .delivery
                                    .failed
                                    .push(format!("team presence of {}: {err}", user.identity));
                                failed = true;
                            }
                        }
                    }
                    failed
                }
                Err(err) => {
                    summary
                        .delivery
                        .failed
                        .push(format!("connections of {}: {err}", user.identity));
                    true
                }
            };
            if failed {
                // Lambda retries from here: this user's events and everything after.
                response.batch_item_failures.push(ItemFailure {
                    item_identifier: first_sequence.clone(),
                });
                return (response, summary);
            }
            group.clear();
        }
        if let Some(next) = next {
            group.push(next);
        }
    }
    (response, summary)
}
