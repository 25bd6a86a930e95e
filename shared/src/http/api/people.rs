//! People presence's app endpoints: the caller's own status (read and set), and the team view
//! (the presence of the people of the caller's org, or of one of its groups), paged.

use futures::future::{join, join3};
use http::{Method, StatusCode};
use serde::Serialize;

use super::body::body_object;
use super::query::{limit, param, query};
use super::sms::profile;
use super::{Answer, key};
use crate::directory::User;
use crate::domain::{Caller, FieldError, Identity, IdentityStyle, PersonStatus};
use crate::http::{ApiError, Request, json_response};
use crate::people::{Person, PersonPresence};
use crate::store::{DirectoryStore, PresenceKey, PresenceStore};

pub const DEFAULT_TEAM_LIMIT: usize = 200;
pub const MAX_TEAM_LIMIT: usize = 500;

/// `GET /phone/presence/status`: the caller's presence. `PUT` with `{"status", "until",
/// "note"}`: replaces their status and answers their presence with it. One round either way
/// (the write, the presence and the profile together).
pub async fn status(
    presence: &dyn PresenceStore,
    directory: &dyn DirectoryStore,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let user = key(caller);
    let (read, profile) = if request.method() == Method::PUT {
        let body = body_object(request)?;
        let status = PersonStatus::from_body(&body, now_ms)?;
        let (written, read, profile) = join3(
            presence.set_status(&user, &status),
            presence.presence(&user, now_ms),
            profile(directory, caller),
        )
        .await;
        written?;
        // The read went with the write: what the caller set is what stands.
        let mut read = read?;
        read.status = Some(status);
        (read, profile?)
    } else {
        let (read, profile) =
            join(presence.presence(&user, now_ms), profile(directory, caller)).await;
        (read?, profile?)
    };
    let person = Person {
        email: &caller.email,
        name: profile.as_ref().and_then(|p| p.name.as_deref()),
        identity: &caller.identity,
    };
    Ok(json_response(
        StatusCode::OK,
        &PersonPresence::of(&person, &read, now_ms),
    ))
}

#[derive(Serialize)]
struct TeamPage {
    people: Vec<PersonPresence>,
    /// The `after` of the next page; none on the last.
    next: Option<String>,
}

/// `GET /phone/team?group=<groupId>&after=<email>&limit=<n>`: the presence of the people of
/// the caller's org (or of one of its groups), sorted by name then email, `limit` (1-500,
/// default 200) after the person `after`. Three rounds whatever the size: the org's directory,
/// then the people's presence by key (`PresenceStore::people`).
pub async fn team(
    presence: &dyn PresenceStore,
    directory: &dyn DirectoryStore,
    style: IdentityStyle,
    now_ms: i64,
    caller: &Caller,
    request: &Request,
) -> Answer {
    let params = query(request);
    let limit = limit(&params, DEFAULT_TEAM_LIMIT, MAX_TEAM_LIMIT)?;
    let group = param(&params, "group").filter(|g| !g.is_empty());
    let after = param(&params, "after").filter(|a| !a.is_empty());
    let org = directory.org_directory(&caller.org).await?;
    let mut members: Vec<&User> = match group {
        None => org.users.iter().collect(),
        Some(id) => {
            let group = org
                .groups
                .iter()
                .find(|g| g.id == id)
                .ok_or_else(|| ApiError::NotFound(format!("no group {id:?} in your org")))?;
            let users = org.users.iter();
            users.filter(|u| group.members.contains(&u.email)).collect()
        }
    };
    members.sort_by_cached_key(|u| (sort_name(u), u.email.to_string()));
    let start = match after {
        None => 0,
        Some(email) => {
            let at = members
                .iter()
                .position(|u| u.email.as_str().eq_ignore_ascii_case(email))
                .ok_or_else(|| FieldError::new("after", "is no person of this team"))?;
            at + 1
        }
    };
    let page: Vec<(&User, Identity)> = members
        .iter()
        .skip(start)
        .take(limit)
        .filter_map(|u| {
            let identity = Identity::for_person(&caller.org, &u.email, style).ok()?;
            Some((*u, identity))
        })
        .collect();
    let keys: Vec<PresenceKey> = page
        .iter()
        .map(|(_, identity)| PresenceKey {
            org: caller.org.clone(),
            identity: identity.clone(),
        })
        .collect();
    let read = presence.people(&keys, now_ms).await?;
    let people = page
        .iter()
        .zip(&read)
        .map(|((user, identity), presence)| {
            let person = Person {
                email: &user.email,
                name: user.name.as_deref(),
                identity,
            };
            PersonPresence::of(&person, presence, now_ms)
        })
        .collect();
    let next = (start + limit < members.len())
        .then(|| members.get(start + limit - 1).map(|u| u.email.to_string()))
        .flatten();
    Ok(json_response(StatusCode::OK, &TeamPage { people, next }))
}

/// Where a person sorts: their name (their email without one), ignoring case.
fn sort_name(user: &User) -> String {
    user.name
        .as_deref()
        .unwrap_or(user.email.as_str())
        .to_lowercase()
}
