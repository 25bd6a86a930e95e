//! Team presence over the realtime channel, the same on API Gateway and on the local server: a
//! connection subscribes to its org or one of its groups (`subscribe`, `unsubscribe`), and when
//! what a person's colleagues see of them changes (`effective`, status, until, note, on a
//! call), each connection watching them gets one `team.presence` frame. What was last told is
//! recorded on the person (`PresenceStore::shown`), so repeated and racing changes tell once,
//! and the watchers are one read of the org's subscriptions: the cost of a change grows with
//! its watchers, not with the org. `team.presence` is state, not history: it is written to no
//! event log (catch-up is `GET /phone/team`).

use std::collections::HashSet;

use futures::future::join_all;

use super::protocol;
use super::push::{Delivery, SendError, Sender};
use crate::directory::UserProfile;
use crate::domain::{MAX_SUBSCRIPTIONS, Team, UserKey};
use crate::events::EventKind;
use crate::people::{Effective, Person, PersonPresence};
use crate::store::{
    DirectoryStore, EventStore, PresenceKey, PresenceStore, StoreError, Subscription,
};

/// The stores team presence reads and writes.
pub struct Stores<'a> {
    pub presence: &'a dyn PresenceStore,
    pub directory: &'a dyn DirectoryStore,
    pub events: &'a dyn EventStore,
}

/// Whether an event of a person's log may change what their colleagues see (a plain heartbeat
/// writes none of these).
pub fn affects_presence(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::DevicesChanged
            | EventKind::DeviceSignedOut
            | EventKind::CallState
            | EventKind::PresenceStatus
    )
}

/// `{"type": "subscribe", "team": …}` from `subscriber`'s connection (open until
/// `expires_at`): the answer frame. A group must be one of the subscriber's org; a connection
/// holds at most [`MAX_SUBSCRIPTIONS`].
pub async fn subscribe(
    stores: &Stores<'_>,
    subscriber: &PresenceKey,
    connection_id: &str,
    expires_at: i64,
    team: Option<Team>,
    now_ms: i64,
) -> Result<String, StoreError> {
    let refuse = |team: Option<&Team>, why: &str| {
        Ok(protocol::subscription_answer("subscribed", team, Some(why)))
    };
    let Some(team) = team else {
        return refuse(None, "name a team: \"org\" or one of its groups' ids");
    };
    let (held, org) = futures::future::join(
        stores
            .events
            .subscriptions_of(subscriber, connection_id, now_ms),
        async {
            match &team {
                Team::Org => Ok(None),
                Team::Group(_) => stores
                    .directory
                    .org_directory(&subscriber.org)
                    .await
                    .map(Some),
            }
        },
    )
    .await;
    let held = held?;
    if held.len() >= MAX_SUBSCRIPTIONS && !held.iter().any(|s| s.team == team) {
        return refuse(Some(&team), "at most 10 subscriptions per connection");
    }
    let members = match (&team, org?) {
        (Team::Group(id), Some(org)) => match org.groups.iter().find(|g| g.id == *id) {
            Some(group) => Some(group.members.clone()),
            None => return refuse(Some(&team), "no such group in your org"),
        },
        _ => None,
    };
    let subscription = Subscription {
        connection_id: connection_id.to_owned(),
        subscriber: subscriber.clone(),
        team: team.clone(),
        members,
        expires_at,
    };
    stores.events.subscribe(&subscription).await?;
    Ok(protocol::subscription_answer(
        "subscribed",
        Some(&team),
        None,
    ))
}

/// `{"type": "unsubscribe", "team": …}`: the answer frame (unsubscribing from a team not
/// watched is no error).
pub async fn unsubscribe(
    events: &dyn EventStore,
    subscriber: &PresenceKey,
    connection_id: &str,
    team: Option<Team>,
) -> Result<String, StoreError> {
    let Some(team) = team else {
        let why = "name a team: \"org\" or one of its groups' ids";
        return Ok(protocol::subscription_answer(
            "unsubscribed",
            None,
            Some(why),
        ));
    };
    events.unsubscribe(subscriber, connection_id, &team).await?;
    Ok(protocol::subscription_answer(
        "unsubscribed",
        Some(&team),
        None,
    ))
}

/// What one change told.
#[derive(Debug, Default)]
pub struct Told {
    /// Whether it was news (and so sent).
    pub news: bool,
    pub delivery: Delivery,
}

/// `person`'s presence may have changed: if what their colleagues see did, send it once to
/// each connection of the org watching them. The telling is claimed first (a newer reading
/// elsewhere wins, and the same news is claimed once); a failure after the claim gives it back,
/// so the stream's retry or the next sweep tells it again. A connection found gone is
/// forgotten with its subscriptions.
pub async fn person_changed(
    stores: &Stores<'_>,
    sender: &dyn Sender,
    person: &PresenceKey,
    now_ms: i64,
) -> Result<Told, StoreError> {
    let key = UserKey::for_identity(&person.identity);
    let (presence, profile) = futures::future::join(
        stores.presence.presence(person, now_ms),
        stores.directory.user(&key),
    )
    .await;
    let presence = presence?;
    let Some(profile) = profile?.filter(|p: &UserProfile| p.org_id == person.org) else {
        // No longer a person of the org: nothing to tell, and nothing for the sweep to look at.
        stores.events.mark_shown_live(person, false).await?;
        return Ok(Told::default());
    };
    let seen = PersonPresence::of(
        &Person {
            email: &profile.email,
            name: profile.name.as_deref(),
            identity: &person.identity,
        },
        &presence,
        now_ms,
    );
    let told = serde_json::to_string(&seen.told()).unwrap_or_default();
    // Read with the presence: no write at all when it is no news (the sweep's common case).
    let news = presence.shown.as_deref() != Some(told.as_str())
        && stores.presence.shown(person, &told, now_ms).await?;
    if !news {
        return Ok(Told::default());
    }
    match tell(stores, sender, person, &profile.email, &seen, now_ms).await {
        Ok(delivery) => Ok(Told {
            news: true,
            delivery,
        }),
        Err(err) => {
            if let Err(again) = stores.presence.unshown(person, &told, now_ms).await {
                tracing::warn!(error = %again, "team presence: claim not given back");
            }
            Err(err)
        }
    }
}

/// Frames sent at once by one change: enough to tell hundreds of watchers in well under a
/// second, few enough not to crowd out the function's other requests.
const SENDS_AT_ONCE: usize = 32;

/// Mark whether the sweep is to look at `person` again, and send `seen` to every connection of
/// their org watching them, once each.
async fn tell(
    stores: &Stores<'_>,
    sender: &dyn Sender,
    person: &PresenceKey,
    email: &crate::domain::Email,
    seen: &PersonPresence,
    now_ms: i64,
) -> Result<Delivery, StoreError> {
    // Who may yet go offline without a word: the sweep looks at them again.
    let live = seen.effective != Effective::Offline;
    let (marked, watchers) = futures::future::join(
        stores.events.mark_shown_live(person, live),
        stores.events.watchers(&person.org, now_ms),
    )
    .await;
    marked?;
    let watchers = watchers?;
    let frame = seen.frame();
    let mut seen_connections = HashSet::new();
    let targets: Vec<&Subscription> = watchers
        .iter()
        .filter(|w| w.watches(email))
        .filter(|w| seen_connections.insert(w.connection_id.as_str()))
        .collect();
    let mut sends = Vec::with_capacity(targets.len());
    for chunk in targets.chunks(SENDS_AT_ONCE) {
        let sent = join_all(chunk.iter().map(|w| sender.send(&w.connection_id, &frame))).await;
        sends.extend(chunk.iter().copied().zip(sent));
    }
    let mut delivery = Delivery::default();
    for (watcher, sent) in sends {
        match sent {
            Ok(()) => delivery.sent += 1,
            Err(SendError::Gone) => {
                delivery.gone += 1;
                let forgotten = stores
                    .events
                    .disconnect(&watcher.subscriber, &watcher.connection_id)
                    .await;
                if let Err(err) = forgotten {
                    // It expires with its connection anyway; the others are told regardless.
                    tracing::warn!(error = %err, "team presence: gone connection kept");
                }
            }
            // One watcher not told misses this change; the next one tells the whole state.
            Err(SendError::Failed(why)) => delivery
                .failed
                .push(format!("{}: {why}", watcher.connection_id)),
        }
    }
    Ok(delivery)
}

/// What a sweep did.
#[derive(Debug, Default)]
pub struct Swept {
    /// Orgs with a watcher, looked at.
    pub orgs: usize,
    /// People last told as not offline, looked at again.
    pub people: usize,
    /// Of them, changed since (told again).
    pub told: usize,
    pub delivery: Delivery,
    /// People or orgs that could not be looked at (the next sweep tries again).
    pub errors: Vec<String>,
}

/// People looked at again at once by a sweep.
const PEOPLE_AT_ONCE: usize = 16;

/// Look again at everyone last told as not offline in every org someone watches: a device whose
/// presence lapses (it stopped heartbeating, its socket vanished) writes nothing, so no event
/// tells of it; this does, once its presence no longer counts it. Run every minute by the local
/// server and every four minutes in AWS (a schedule): within five minutes, as promised. One
/// person or org that cannot be read is left for the next sweep; the rest go on.
pub async fn sweep(
    stores: &Stores<'_>,
    sender: &dyn Sender,
    now_ms: i64,
) -> Result<Swept, StoreError> {
    let mut swept = Swept::default();
    for org in stores.events.watched_orgs().await? {
        let (watchers, live) = futures::future::join(
            stores.events.watchers(&org, now_ms),
            stores.events.shown_live(&org),
        )
        .await;
        let (watchers, live) = match (watchers, live) {
            (Ok(watchers), Ok(live)) => (watchers, live),
            (Err(err), _) | (_, Err(err)) => {
                swept.errors.push(format!("org {org}: {err}"));
                continue;
            }
        };
        // Nobody watches: nothing to tell. The marks stay; a watcher's first sweep settles them.
        if watchers.is_empty() {
            continue;
        }
        swept.orgs += 1;
        swept.people += live.len();
        let mut looks = Vec::with_capacity(live.len());
        for chunk in live.chunks(PEOPLE_AT_ONCE) {
            let told = join_all(
                chunk
                    .iter()
                    .map(|p| person_changed(stores, sender, p, now_ms)),
            )
            .await;
            looks.extend(chunk.iter().zip(told));
        }
        for (person, told) in looks {
            match told {
                Ok(told) => {
                    swept.told += usize::from(told.news);
                    swept.delivery.sent += told.delivery.sent;
                    swept.delivery.gone += told.delivery.gone;
                    swept.delivery.failed.extend(told.delivery.failed);
                }
                Err(err) => swept.errors.push(format!("{}: {err}", person.identity)),
            }
        }
    }
    Ok(swept)
}
