//! The `alerts` function's input: a batch of the table's stream records (new events only, the
//! alerting kinds, by the template's filter), each user's in stream order, several users at
//! once. A store failure, or events left for lack of time, asks Lambda to retry from that
//! user's records; the claims already made keep the retry from sending anything twice. A
//! provider's failure does not: it is given up and logged (the alert is late or lost, the
//! event itself is in the user's log for catch-up).

use std::time::Instant;

use futures::StreamExt;

use super::dispatch::{Report, Sending, Sources, alert_user};
use crate::events::Event;
use crate::realtime::stream::{BatchResponse, ItemFailure, StreamBatch};
use crate::store::PresenceKey;
use crate::store::events::stream::StreamEvent;

/// Users alerted at the same time: one user's provider retries hold up no other user.
const USERS_AT_ONCE: usize = 8;

/// Alert the users of `batch`'s events, sending until `until`: each user's events in order,
/// several users at once. The first user (in stream order) whose store failed or whose events
/// ran out of time is where Lambda retries from.
pub async fn consume(
    sources: Sources<'_>,
    sending: &Sending<'_>,
    batch: &StreamBatch,
    until: Instant,
) -> (BatchResponse, Report) {
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
    let outcomes: Vec<_> = futures::stream::iter(groups)
        .map(|(user, first_sequence, events)| async move {
            let outcome = alert_user(sources, sending, &user, &events, until).await;
            (user, first_sequence, outcome)
        })
        .buffered(USERS_AT_ONCE)
        .collect()
        .await;
    let mut report = Report::default();
    let mut retry_from = None;
    for (user, first_sequence, outcome) in outcomes {
        let unfinished = match outcome {
            Ok(done) => {
                let deferred = done.deferred > 0;
                report.add(done);
                deferred
            }
            Err(err) => {
                report
                    .gave_up
                    .push(format!("devices of {}: {err}", user.identity));
                true
            }
        };
        if unfinished && retry_from.is_none() {
            retry_from = Some(first_sequence);
        }
    }
    let response = BatchResponse {
        batch_item_failures: retry_from
            .map(|item_identifier| ItemFailure { item_identifier })
            .into_iter()
            .collect(),
    };
    (response, report)
}
