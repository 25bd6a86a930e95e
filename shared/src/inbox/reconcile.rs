//! Recovering texts that neither webhook URL stored. Twilio never redelivers an inbound text
//! whose webhook and fallback both failed; its message list still has it. For every number of
//! every org, list the inbound messages sent since a day (Twilio filters by GMT day, so runs
//! overlap) and store each one that is missing, exactly as the webhook would: a text already
//! stored is a refused write, so nothing is pushed twice.

use std::fmt;

use super::webhook::{Received, store_received};
use crate::directory::NumberRoute;
use crate::domain::{E164, IdentityStyle, MessageSid};
use crate::sms::message::{Direction, MAX_BODY_CHARS, Media, Message, Party};
use crate::store::{DirectoryStore, MessageStore, StoreError};
use crate::twilio::rest::{MessageResource, RestError, TwilioRest, parse_rfc2822};

/// What a run did, for its log line and the CLI's output.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub numbers: usize,
    /// Inbound messages Twilio listed.
    pub listed: usize,
    /// Of those, stored now: the webhooks had missed them.
    pub recovered: usize,
    /// Messages that could not be read or stored, with why.
    pub failed: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} numbers, {} inbound texts listed, {} recovered, {} failed",
            self.numbers,
            self.listed,
            self.recovered,
            self.failed.len()
        )?;
        for failure in &self.failed {
            write!(f, "; {failure}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("Twilio: {0}")]
    Twilio(#[from] RestError),
}

/// Every org's numbers, each listed from `since_day` (`YYYY-MM-DD`, GMT).
pub async fn reconcile(
    directory: &dyn DirectoryStore,
    messages: &dyn MessageStore,
    rest: &TwilioRest,
    identity_style: IdentityStyle,
    since_day: &str,
    now_ms: i64,
) -> Result<Report, ReconcileError> {
    let mut report = Report::default();
    let routes: Vec<NumberRoute> = directory
        .export()
        .await?
        .orgs
        .iter()
        .flat_map(|org| org.routes())
        .collect();
    for route in &routes {
        report.numbers += 1;
        let number = route.phone.phone_number.as_str();
        let mut page = rest.list_messages_to(number, since_day).await?;
        loop {
            for resource in page.messages.iter().filter(|m| is_inbound(m)) {
                report.listed += 1;
                let received =
                    match received_of(rest, resource, &route.phone.phone_number, now_ms).await {
                        Ok(received) => received,
                        Err(why) => {
                            report.failed.push(format!("{}: {why}", resource.sid));
                            continue;
                        }
                    };
                match store_received(messages, route, identity_style, &received, false, now_ms)
                    .await
                {
                    Ok(true) => report.recovered += 1,
                    Ok(false) => {}
                    Err(e) => report.failed.push(format!("{}: {e}", resource.sid)),
                }
            }
            match page.next_page_uri.as_deref() {
                Some(next) => page = rest.next_page(next).await?,
                None => break,
            }
        }
    }
    Ok(report)
}

fn is_inbound(message: &MessageResource) -> bool {
    message.direction.as_deref() == Some("inbound")
}

/// A listed message as the webhook would have described it (its media listed separately).
async fn received_of(
    rest: &TwilioRest,
    resource: &MessageResource,
    to: &E164,
    now_ms: i64,
) -> Result<Received, String> {
    let sid = MessageSid::parse_field(&resource.sid, "sid").map_err(|e| e.to_string())?;
    let from = resource.from.as_deref().unwrap_or_default();
    let from = Party::parse_field(from, "from").map_err(|e| e.to_string())?;
    let media = if resource.media_count() > 0 {
        rest.list_media(&sid)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .enumerate()
            .map(|(index, file)| Media {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                content_type: file.content_type,
                url: file.uri.trim_end_matches(".json").to_owned(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let at = resource
        .date_sent
        .as_deref()
        .or(resource.date_created.as_deref())
        .and_then(parse_rfc2822)
        .unwrap_or(now_ms);
    Ok(Received {
        message: Message {
            message_sid: sid.into(),
            direction: Direction::Inbound,
            from: from.to_string(),
            to: to.to_string(),
            body: resource
                .body
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(MAX_BODY_CHARS)
                .collect(),
            media,
            segments: resource.segments().unwrap_or(1).max(1),
            status: "received".to_owned(),
            error_code: None,
            at,
            sent_by: None,
        },
        from,
        to: to.clone(),
        opt_out_type: None,
    })
}
