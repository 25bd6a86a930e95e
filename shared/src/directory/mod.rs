//! Phone numbers and forwarding groups per org: the model of the directory file
//! (docs/directory.md), its views ([`views`]: which numbers ring a user, where a call to a
//! number goes) and its validation ([`validate`]: a bad file is refused whole, every problem
//! listed). How the stores diff an import is in `store/directory/import.rs`.

pub mod hours;
mod validate;
mod views;

use serde::{Deserialize, Serialize};

use crate::destinations::{Policy, Region};
use crate::domain::{E164, Email, Identity, IdentityStyle, OrgId, UserKey};
use crate::sms::message::Inbox;

pub use hours::Hours;
pub use validate::{DirectoryError, Problem};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    pub orgs: Vec<OrgDirectory>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgDirectory {
    pub org_id: OrgId,
    /// People who place and take calls but need not own a number (and display names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Where the org's users may call and text (docs/directory.md, "Outbound").
    #[serde(default, skip_serializing_if = "Outbound::is_default")]
    pub outbound: Outbound,
    /// What the org's notifications to sleeping phones show (docs/directory.md,
    /// "Notifications").
    #[serde(default, skip_serializing_if = "Notifications::is_default")]
    pub notifications: Notifications,
}

/// An org's `notifications` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notifications {
    /// A text's first characters in its alert; `false`: only who it is from.
    pub preview: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self { preview: true }
    }
}

impl Notifications {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// An org's `outbound` settings: unset fields keep the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outbound {
    /// Regions calls and texts may reach; `None`: the regions of the org's own numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_regions: Option<Vec<Region>>,
    /// Premium-rate and shared-cost numbers too (never by default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_premium: bool,
}

impl Outbound {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub name: String,
    pub members: Vec<Email>,
    pub ring_timeout_seconds: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<Fallback>,
    /// Members already on a call are not rung (a contact centre's queue rule).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub skip_busy_members: bool,
    /// When its numbers take calls (a number's own hours win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
    /// How its members are rung.
    #[serde(default, skip_serializing_if = "Strategy::is_simultaneous")]
    pub strategy: Strategy,
    /// How long each step of a `sequential` group rings (5-120 s).
    #[serde(
        default = "default_member_ring_seconds",
        skip_serializing_if = "is_default_member_ring_seconds"
    )]
    pub member_ring_seconds: u32,
    /// How many members ring together in one step (1-10).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub batch_size: u32,
}

/// How a group's members are rung.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Strategy {
    /// Every callable member at once (at most ten `<Client>`s).
    #[default]
    Simultaneous,
    /// In the listed order, `batchSize` at a time, each step `memberRingSeconds`.
    Sequential,
    /// As sequential, each call starting with the member after the one the previous call
    /// started with.
    RoundRobin,
    /// As sequential, whoever's last call ended longest ago first (never called: first).
    LongestIdle,
}

impl Strategy {
    fn is_simultaneous(&self) -> bool {
        *self == Self::Simultaneous
    }
}

pub const DEFAULT_MEMBER_RING_SECONDS: u32 = 15;

/// The most members a group may list: ten waves of ten.
pub const MAX_GROUP_MEMBERS: usize = 100;

/// The most records of each kind one org may hold (what the admin API and an import are
/// sized and measured for).
pub const MAX_ORG_USERS: usize = 5_000;
pub const MAX_ORG_GROUPS: usize = 1_000;
pub const MAX_ORG_PHONES: usize = 1_000;

fn default_member_ring_seconds() -> u32 {
    DEFAULT_MEMBER_RING_SECONDS
}

fn is_default_member_ring_seconds(value: &u32) -> bool {
    *value == DEFAULT_MEMBER_RING_SECONDS
}

fn one() -> u32 {
    1
}

fn is_one(value: &u32) -> bool {
    *value == 1
}

fn yes() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
}

/// What a call to a direct number does while its user is on another call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenBusy {
    /// Ring anyway: the user decides (the Flex sample's rule for direct calls).
    #[default]
    Ring,
    /// Straight to the number's voicemail or fallback.
    Fallback,
}

impl WhenBusy {
    fn is_ring(&self) -> bool {
        *self == Self::Ring
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    pub id: String,
    pub phone_number: E164,
    pub friendly_name: String,
    #[serde(flatten)]
    pub assignment: Assignment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Voicemail>,
    #[serde(default, skip_serializing_if = "WhenBusy::is_ring")]
    pub when_busy: WhenBusy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsSettings>,
    /// When it takes calls; without, its group's hours, else always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
}

/// A number's texts beyond the app's inbox.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSettings {
    /// Where a text goes (as a text) when none of the number's users has a live `sms` device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_to: Option<E164>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Assignment {
    #[serde(rename = "userEmail")]
    User(Email),
    #[serde(rename = "groupId")]
    Group(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greeting_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub transcribe: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_status_callback: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Fallback {
    Voicemail(Voicemail),
    AiAssistant {
        url: String,
    },
    Automation {
        url: String,
    },
    Hangup {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssignmentKind {
    Direct,
    Group,
}

/// An entry of `assignedPhones[]` in register-device and user-phones responses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedPhone {
    pub id: String,
    pub phone_number: E164,
    pub friendly_name: String,
    pub assignment: AssignmentKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

/// Everything routing needs about one number: stored as one item so a call costs one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberRoute {
    pub org_id: OrgId,
    pub phone: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
}

impl NumberRoute {
    /// The hours the number keeps: its own, else its group's; none, always open.
    pub fn hours(&self) -> Option<&Hours> {
        self.phone
            .hours
            .as_ref()
            .or_else(|| self.group.as_ref().and_then(|g| g.hours.as_ref()))
    }
}

/// One person of one org as outgoing calls and internal calls see them: stored under the
/// [`UserKey`] of their identity so that a Twilio identity resolves to org, numbers and
/// voicemail in one read. The same email in two orgs is two profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub org_id: OrgId,
    pub email: Email,
    /// The Twilio identity this person is dialed at and calls from.
    pub identity: Identity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The numbers that ring this user, in directory order: the caller IDs they may use.
    pub assigned_phones: Vec<AssignedPhone>,
    /// Their own number, whose voicemail takes internal calls they miss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_phone: Option<Phone>,
    /// Where calls and texts may go: the org's `outbound` settings, or the regions of its
    /// numbers. A profile imported before this field existed has none, so reaches the public
    /// network only in replies until the directory is imported again.
    #[serde(default)]
    pub outbound: Policy,
    /// The users of each of `assigned_phones` by phone id (the user, or the group's members):
    /// who hears of a text sent from it. Never shown by the API.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub phone_users: std::collections::BTreeMap<String, Vec<Email>>,
}

impl UserProfile {
    pub fn key(&self) -> UserKey {
        UserKey::for_identity(&self.identity)
    }

    /// How the callee's app should show this caller.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.email.as_str())
    }

    /// The SMS inboxes this person reads: one per number of theirs.
    pub fn inboxes(&self) -> Vec<Inbox> {
        self.assigned_phones
            .iter()
            .map(|phone| Inbox {
                org: self.org_id.clone(),
                phone_id: phone.id.clone(),
            })
            .collect()
    }
}

pub const DEFAULT_RING_TIMEOUT_SECONDS: u32 = 30;

impl Directory {
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn org(&self, org: &OrgId) -> Option<&OrgDirectory> {
        self.orgs.iter().find(|o| &o.org_id == org)
    }

    /// Whether every person of this directory can be given an identity in `style`, every
    /// problem listed: the `user:<email>` style names no org, so it takes one org only (two
    /// orgs' people would share identities and ring each other's devices), and only emails
    /// short enough for Twilio.
    pub fn check_identity_style(&self, style: IdentityStyle) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if style == IdentityStyle::Email && self.orgs.len() > 1 {
            problems.push(format!(
                "IDENTITY_STYLE=email names no org, so it takes a directory of one org; this one \
                 has {} ({}): use IDENTITY_STYLE=safe",
                self.orgs.len(),
                self.orgs
                    .iter()
                    .map(|o| o.org_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for org in &self.orgs {
            for email in org.emails() {
                if let Err(e) = Identity::for_person(&org.org_id, email, style) {
                    problems.push(format!("{} in org {}: {}", email, org.org_id, e.message));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
