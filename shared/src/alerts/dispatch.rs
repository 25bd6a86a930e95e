//! Which of a user's devices an event alerts, and sending it (issue 31): the one piece of code
//! the `alerts` function (the table's stream, on AWS) and the local server's background task
//! share. A device is alerted when it has an alert registration and no open realtime
//! connection (a device with one hears the event live); `sms.*` only on devices that take
//! texts. Each event reaches each device at most once: the alert is claimed in the store
//! before it is sent, so a repeated webhook (whose event is not written again) and a stream
//! retry send nothing more. A registration the provider says is dead is removed, and nothing
//! more goes to it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use futures::future::{join, join_all, join4};

use super::alert::{BadgeUpdate, Push, alert_for};
use super::provider::{Delivered, Providers};
use crate::clock::Clock;
use crate::domain::{Capability, DeviceId, Email, Identity, IdentityStyle, PushTarget, UserKey};
use crate::events::{Event, EventKind};
use crate::sms::message::Inbox;
use crate::store::messages::ReadMark;
use crate::store::{
    DeviceRecord, DirectoryStore, EventStore, HistoryStore, MessageStore, PresenceKey,
    PresenceStore, StoreError,
};

/// How many of the newest conversations and calls the badge counts: what a phone shows is a
/// count of recent things to look at, and the reads stay one page each.
pub const BADGE_CONVERSATIONS: usize = 100;
pub const BADGE_CALLS: usize = 100;

/// The stores an alert reads and writes.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub presence: &'a dyn PresenceStore,
    pub events: &'a dyn EventStore,
    pub directory: &'a dyn DirectoryStore,
    pub messages: &'a dyn MessageStore,
    pub history: &'a dyn HistoryStore,
}

/// How alerts are sent: the providers, the process's clock, the identity style (to find a
/// colleague's name), and how long a claim is kept (the event log's retention).
pub struct Sending<'a> {
    pub providers: &'a Providers,
    pub clock: &'a Clock,
    pub style: IdentityStyle,
    pub claim_seconds: u32,
}

/// What alerting one user's events did, for the log line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events that alert or change a badge.
    pub events: usize,
    pub sent: usize,
    /// Alerts claimed before (a repeat): not sent again.
    pub repeated: usize,
    /// Registrations found dead and removed.
    pub dead: usize,
    /// Devices whose provider is not configured here.
    pub no_provider: usize,
    /// Alerts given up, with why.
    pub gave_up: Vec<String>,
    /// Events not tried for lack of time: the stream tries them again (what was sent before
    /// them is claimed, so nothing goes twice).
    pub deferred: usize,
}

impl Report {
    pub fn add(&mut self, other: Report) {
        self.events += other.events;
        self.sent += other.sent;
        self.repeated += other.repeated;
        self.dead += other.dead;
        self.no_provider += other.no_provider;
        self.gave_up.extend(other.gave_up);
        self.deferred += other.deferred;
    }
}

/// Whether `kind` sends anything to a sleeping phone.
pub fn alerts_on(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::SmsReceived
            | EventKind::CallMissed
            | EventKind::VoicemailReceived
            | EventKind::CallsSeen
            | EventKind::SmsRead
    )
}

/// A device alerts go to.
struct Target {
    device_id: DeviceId,
    push: PushTarget,
    texts: bool,
}

/// What the badge counts.
#[derive(Default)]
struct Counts {
    unread_texts: u64,
    unseen_missed: u64,
}

/// Alert `user`'s sleeping phones of `events` (written to the user's log, in order), sending
/// until `until`. A store failure is an error (the stream retries; what was claimed is not sent
/// again); a provider's failure is only reported.
pub async fn alert_user(
    sources: Sources<'_>,
    sending: &Sending<'_>,
    user: &PresenceKey,
    events: &[Event],
    until: Instant,
) -> Result<Report, StoreError> {
    let events: Vec<&Event> = events.iter().filter(|e| alerts_on(e.kind)).collect();
    let mut report = Report {
        events: events.len(),
        ..Report::default()
    };
    if events.is_empty() || !sending.providers.any() {
        return Ok(report);
    }
    let now_ms = sending.clock.now_ms();
    // Round 1: the devices, which of them are connected, the person's numbers and the org's
    // preview setting.
    let (presence, connections, profile, settings) = join4(
        sources.presence.presence(user, now_ms),
        sources.events.connections(user, now_ms),
        sources
            .directory
            .user(&UserKey::for_identity(&user.identity)),
        sources.directory.notifications(&user.org),
    )
    .await;
    let connected: BTreeSet<DeviceId> = connections?.into_iter().map(|c| c.device_id).collect();
    let mut targets: Vec<Target> = Vec::new();
    for device in presence?.devices {
        let DeviceRecord {
            device_id,
            notifications,
            capabilities,
            ..
        } = device;
        let Some(push) = notifications else { continue };
        if connected.contains(&device_id) {
            continue;
        }
        if !sending.providers.serves(push.provider) {
            report.no_provider += 1;
            continue;
        }
        let texts = capabilities.contains(Capability::Sms);
        targets.push(Target {
            device_id,
            push,
            texts,
        });
    }
    if targets.is_empty() {
        return Ok(report);
    }
    let profile = profile?.filter(|p| p.org_id == user.org);
    let preview = settings?.preview;
    // Round 2: what the badge counts, and the names of colleagues the alerts are about.
    let inboxes = profile.map(|p| p.inboxes()).unwrap_or_default();
    let (counts, names) = join(
        counts(sources, user, &inboxes, now_ms),
        names(sources, sending.style, user, &events),
    )
    .await;
    let (counts, names) = (counts?, names?);
    let name_of = |party: &str| names.get(party).cloned();
    let claim_until = now_ms.div_euclid(1000) + i64::from(sending.claim_seconds);
    let total = events.len();
    for (done, event) in events.into_iter().enumerate() {
        if !sending.providers.time_for_an_attempt(until) {
            report.deferred = total - done;
            break;
        }
        let for_texts = event.kind.for_sms_devices();
        let sends = targets
            .iter()
            .filter(|t| t.texts || !for_texts)
            .map(|target| {
                let badge =
                    counts.unseen_missed + if target.texts { counts.unread_texts } else { 0 };
                let badge = u32::try_from(badge).unwrap_or(u32::MAX);
                let push = match alert_for(event, &name_of, preview, badge) {
                    Some(alert) => Push::Alert(alert),
                    None => Push::Badge(BadgeUpdate {
                        badge,
                        kind: event.kind,
                        cursor: event.cursor.to_string(),
                    }),
                };
                send_once(sources, sending, user, target, push, claim_until, until)
            });
        let mut dead = Vec::new();
        for (device_id, sent) in join_all(sends).await {
            match sent? {
                Sent::Repeated => report.repeated += 1,
                Sent::Done(Delivered::Sent { .. }) => report.sent += 1,
                Sent::Done(Delivered::Dead(_)) => {
                    report.dead += 1;
                    dead.push(device_id);
                }
                Sent::Done(Delivered::NoProvider) => report.no_provider += 1,
                Sent::Done(Delivered::GaveUp(why)) => {
                    report.gave_up.push(format!("{device_id}: {why}"));
                }
            }
        }
        targets.retain(|t| !dead.contains(&t.device_id));
    }
    Ok(report)
}

enum Sent {
    /// Claimed before: not sent again.
    Repeated,
    Done(Delivered),
}

/// Claim `push` for the device, send it, and forget a registration found dead.
async fn send_once(
    sources: Sources<'_>,
    sending: &Sending<'_>,
    user: &PresenceKey,
    target: &Target,
    push: Push,
    claim_until: i64,
    until: Instant,
) -> (DeviceId, Result<Sent, StoreError>) {
    let sent = async {
        let cursor = push.cursor().to_owned();
        let now_s = sending.clock.now_ms().div_euclid(1000);
        let claimed = sources
            .presence
            .claim_alert(user, &target.device_id, &cursor, now_s, claim_until)
            .await?;
        if !claimed {
            return Ok(Sent::Repeated);
        }
        let delivered = sending
            .providers
            .deliver(&target.push, &push, sending.clock, until)
            .await;
        if let Delivered::Dead(_) = delivered {
            sources
                .presence
                .drop_push_token(user, &target.device_id, &target.push.token)
                .await?;
        }
        Ok(Sent::Done(delivered))
    };
    (target.device_id.clone(), sent.await)
}

/// The user's unread texts (over the newest conversations of their numbers) and unseen missed
/// calls (over their newest calls): one round of reads side by side.
async fn counts(
    sources: Sources<'_>,
    user: &PresenceKey,
    inboxes: &[Inbox],
    now_ms: i64,
) -> Result<Counts, StoreError> {
    let conversations = async {
        if inboxes.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (found, marks) = join(
            sources
                .messages
                .conversations(inboxes, None, BADGE_CONVERSATIONS),
            sources.messages.read_marks(user),
        )
        .await;
        Ok::<_, StoreError>((found?, marks?))
    };
    let (texts, calls) = join(
        conversations,
        sources.history.history(user, None, BADGE_CALLS, now_ms),
    )
    .await;
    let ((conversations, marks), page) = (texts?, calls?);
    let unread_texts = conversations
        .iter()
        .map(|c| c.inbound.saturating_sub(ReadMark::read_in(&marks, c)))
        .sum();
    let unseen_missed = page.unseen_missed(&user.identity.display_email()) as u64;
    Ok(Counts {
        unread_texts,
        unseen_missed,
    })
}

/// The directory names of the colleagues (parties written as emails) the events are about.
async fn names(
    sources: Sources<'_>,
    style: IdentityStyle,
    user: &PresenceKey,
    events: &[&Event],
) -> Result<BTreeMap<String, String>, StoreError> {
    let parties: BTreeSet<String> = events
        .iter()
        .filter_map(|e| {
            e.data
                .get("from")
                .or_else(|| e.data.pointer("/message/from"))
                .and_then(|v| v.as_str())
        })
        .filter(|p| p.contains('@'))
        .map(str::to_owned)
        .collect();
    let lookups = parties.into_iter().filter_map(|party| {
        let email = Email::parse_field(&party, "from").ok()?;
        let identity = Identity::for_person(&user.org, &email, style).ok()?;
        Some(async move {
            let profile = sources
                .directory
                .user(&UserKey::for_identity(&identity))
                .await?;
            let name = profile
                .filter(|p| p.org_id == user.org)
                .and_then(|p| p.name);
            Ok::<_, StoreError>(name.map(|n| (party, n)))
        })
    });
    let mut names = BTreeMap::new();
    for found in join_all(lookups).await {
        if let Some((party, name)) = found? {
            names.insert(party, name);
        }
    }
    Ok(names)
}
