//! The `alerts` function's input: a batch of the table's stream records (new events only, the
//! alerting kinds, by the template's filter), alerted user by user in stream order. A store
//! failure asks Lambda to retry from that user's records; the claims already made keep the
//! retry from sending anything twice. A provider's failure does not: it is given up and logged
//! (the alert is late or lost, the event itself is in the user's log for catch-up).

use std::time::Instant;

use super::dispatch::{Report, Sending, Sources, alert_user};
use crate::events::Event;
use crate::realtime::stream::{BatchResponse, ItemFailure, StreamBatch};
use crate::store::PresenceKey;
use crate::store::events::stream::StreamEvent;

/// Alert the users of `batch`'s events, sending until `until`.
pub async fn consume(
    sources: Sources<'_>,
    sending: &Sending<'_>,
    batch: &StreamBatch,
    until: Instant,
) -> (BatchResponse, Report) {
    let mut report = Report::default();
    // Consecutive records of one user go together: one read of their devices.
    let mut groups: Vec<(PresenceKey, String, Vec<Event>)> = Vec::new();
    for record in &batch.records {
        let Some(StreamEvent {
            user,
            event,
            sequence,
        }) = record.event()
        else {
            continue;
        };
        match groups.last_mut() {
            Some((last, _, events)) if *last == user => events.push(event),
            _ => groups.push((user, sequence, vec![event])),
        }
    }
    for (user, first_sequence, events) in groups {
        match alert_user(sources, sending, &user, &events, until).await {
            Ok(done) => report.add(done),
            Err(err) => {
                report
                    .gave_up
                    .push(format!("devices of {}: {err}", user.identity));
                let failure = ItemFailure {
                    item_identifier: first_sequence,
                };
                return (
                    BatchResponse {
                        batch_item_failures: vec![failure],
                    },
                    report,
                );
            }
        }
    }
    (BatchResponse::default(), report)
}
