//! Phone numbers and forwarding groups per org: the file format of `design.md` §Directory,
//! its validation (a bad file is refused whole, every problem listed), and the questions the
//! service asks of it (which numbers ring a user; where a call to a number goes).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{E164, Email, OrgId, UserKey};

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
}

impl OrgDirectory {
    pub fn empty(org_id: OrgId) -> Self {
        Self {
            org_id,
            users: Vec::new(),
            groups: Vec::new(),
            phones: Vec::new(),
        }
    }

    /// Everyone this org's directory names: listed users, group members, direct-number
    /// owners, each once, in file order.
    pub fn emails(&self) -> Vec<&Email> {
        let listed = self.users.iter().map(|u| &u.email);
        let members = self.groups.iter().flat_map(|g| g.members.iter());
        let owners = self.phones.iter().filter_map(|p| match &p.assignment {
            Assignment::User(email) => Some(email),
            Assignment::Group(_) => None,
        });
        let mut seen = BTreeSet::new();
        listed
            .chain(members)
            .chain(owners)
            .filter(|e| seen.insert(*e))
            .collect()
    }

    /// What routing and outgoing calls need to know about each user, keyed for one read.
    pub fn user_profiles(&self) -> Vec<UserProfile> {
        let mut country_codes: Vec<String> = self
            .phones
            .iter()
            .map(|p| country_code(&p.phone_number).to_owned())
            .collect();
        country_codes.sort();
        country_codes.dedup();
        self.emails()
            .into_iter()
            .map(|email| UserProfile {
                org_id: self.org_id.clone(),
                email: email.clone(),
                name: self
                    .users
                    .iter()
                    .find(|u| &u.email == email)
                    .and_then(|u| u.name.clone()),
                assigned_phones: self.assigned_phones(email),
                direct_phone: self
                    .phones
                    .iter()
                    .find(|p| matches!(&p.assignment, Assignment::User(owner) if owner == email))
                    .cloned(),
                org_country_codes: country_codes.clone(),
            })
            .collect()
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The numbers that ring `email`, directly or through a group, in directory order.
    pub fn assigned_phones(&self, email: &Email) -> Vec<AssignedPhone> {
        self.phones
            .iter()
            .filter_map(|phone| match &phone.assignment {
                Assignment::User(user) if user == email => Some(AssignedPhone {
                    id: phone.id.clone(),
                    phone_number: phone.phone_number.clone(),
                    friendly_name: phone.friendly_name.clone(),
                    assignment: AssignmentKind::Direct,
                    group_id: None,
                    group_name: None,
                }),
                Assignment::Group(group_id) => {
                    let group = self.group(group_id)?;
                    group.members.contains(email).then(|| AssignedPhone {
                        id: phone.id.clone(),
                        phone_number: phone.phone_number.clone(),
                        friendly_name: phone.friendly_name.clone(),
                        assignment: AssignmentKind::Group,
                        group_id: Some(group.id.clone()),
                        group_name: Some(group.name.clone()),
                    })
                }
                Assignment::User(_) => None,
            })
            .collect()
    }

    /// The routing view of each of this org's numbers.
    pub fn routes(&self) -> Vec<NumberRoute> {
        self.phones
            .iter()
            .map(|phone| NumberRoute {
                org_id: self.org_id.clone(),
                phone: phone.clone(),
                group: match &phone.assignment {
                    Assignment::Group(id) => self.group(id).cloned(),
                    Assignment::User(_) => None,
                },
            })
            .collect()
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

/// One user as outgoing calls and internal calls see them: stored under the user's
/// [`UserKey`] so that a Twilio identity resolves to org, numbers and voicemail in one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub org_id: OrgId,
    pub email: Email,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The numbers that ring this user, in directory order: the caller IDs they may use.
    pub assigned_phones: Vec<AssignedPhone>,
    /// Their own number, whose voicemail takes internal calls they miss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_phone: Option<Phone>,
    /// Country codes (`+1`, `+44`) of the org's numbers: where calls may go by default.
    pub org_country_codes: Vec<String>,
}

impl UserProfile {
    pub fn key(&self) -> UserKey {
        UserKey::for_email(&self.email)
    }

    /// How the callee's app should show this caller.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(self.email.as_str())
    }
}

/// Two-digit E.164 country codes; `+1` and `+7` are the only one-digit ones and every other
/// code has three digits. The set is prefix-free, so this is enough to split any number.
const TWO_DIGIT_COUNTRY_CODES: &[&str] = &[
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// The country calling code of a number, with its `+`: `+14155551234` → `+1`.
pub fn country_code(number: &E164) -> &str {
    let raw = number.as_str();
    let digits = &raw[1..];
    let len = if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT_COUNTRY_CODES.contains(&&digits[..2.min(digits.len())]) {
        2
    } else {
        3
    };
    &raw[..(1 + len).min(raw.len())]
}

/// What an import changed, by kind of record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub orgs: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} org(s): {} added, {} updated, {} removed, {} unchanged",
            self.orgs, self.added, self.updated, self.removed, self.unchanged
        )
    }
}

/// One thing wrong with a directory file, at a JSON path such as `orgs[0].phones[1].groupId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DirectoryError(pub Vec<Problem>);

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "directory refused, {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

pub const DEFAULT_RING_TIMEOUT_SECONDS: u32 = 30;

impl Directory {
    /// Parse and validate a directory file. Either every record is valid and the whole
    /// directory is returned, or every problem found is.
    pub fn parse(text: &str) -> Result<Self, DirectoryError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            DirectoryError(vec![Problem {
                path: format!("line {} column {}", e.line(), e.column()),
                message: format!("not valid JSON: {e}"),
            }])
        })?;
        let mut v = Validator::default();
        let directory = v.directory(&value);
        if v.problems.is_empty() {
            Ok(directory)
        } else {
            Err(DirectoryError(v.problems))
        }
    }

    pub fn to_json_pretty(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn org(&self, org: &OrgId) -> Option<&OrgDirectory> {
        self.orgs.iter().find(|o| &o.org_id == org)
    }
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

fn is_https_url(s: &str) -> bool {
    s.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
}

impl Validator {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(obj) = value.as_object() else {
            self.problem(path, "must be an object");
            return None;
        };
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.problem(&format!("{path}.{key}"), "unknown field");
            }
        }
        Some(obj)
    }

    fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> &'v [Value] {
        match obj.get(key) {
            Some(Value::Array(items)) => items,
            None if !required => &[],
            None => {
                self.problem(&format!("{path}.{key}"), "is required");
                &[]
            }
            Some(_) => {
                self.problem(&format!("{path}.{key}"), "must be an array");
                &[]
            }
        }
    }

    fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<String> {
        match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::String(_)) => {
                self.problem(&format!("{path}.{key}"), "must not be empty");
                None
            }
            None | Some(Value::Null) if !required => None,
            None => {
                self.problem(&format!("{path}.{key}"), "is required");
                None
            }
            Some(_) => {
                self.problem(&format!("{path}.{key}"), "must be a string");
                None
            }
        }
    }

    fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str, default: bool) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.problem(&format!("{path}.{key}"), "must be true or false");
                default
            }
        }
    }

    fn seconds(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        range: (u32, u32),
    ) -> Option<u32> {
        let value = obj.get(key)?;
        let n = value
            .as_u64()
            .filter(|n| (u64::from(range.0)..=u64::from(range.1)).contains(n));
        if n.is_none() {
            self.problem(
                &format!("{path}.{key}"),
                format!("must be a whole number from {} to {}", range.0, range.1),
            );
        }
        n.and_then(|n| u32::try_from(n).ok())
    }

    fn record_id(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        seen: &mut BTreeSet<String>,
    ) -> Option<String> {
        let id = self.string(obj, "id", path, true)?;
        let ok = id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            self.problem(
                &format!("{path}.id"),
                "must be 1-64 characters of letters, digits, '.', '_' or '-'",
            );
            return None;
        }
        if !seen.insert(id.clone()) {
            self.problem(
                &format!("{path}.id"),
                format!("duplicate id {id:?} in this org"),
            );
            return None;
        }
        Some(id)
    }

    fn directory(&mut self, value: &Value) -> Directory {
        let mut directory = Directory::default();
        let Some(root) = self.object(value, "$", &["orgs"]) else {
            return directory;
        };
        let mut org_ids = BTreeSet::new();
        let mut numbers: HashMap<String, String> = HashMap::new();
        let mut emails: HashMap<Email, OrgId> = HashMap::new();
        for (i, org) in self.array(root, "orgs", "$", true).iter().enumerate() {
            let path = format!("orgs[{i}]");
            if let Some(org) = self.org(org, &path, &mut org_ids, &mut numbers, &mut emails) {
                directory.orgs.push(org);
            }
        }
        directory
    }

    fn org(
        &mut self,
        value: &Value,
        path: &str,
        org_ids: &mut BTreeSet<String>,
        numbers: &mut HashMap<String, String>,
        emails: &mut HashMap<Email, OrgId>,
    ) -> Option<OrgDirectory> {
        let obj = self.object(value, path, &["orgId", "users", "groups", "phones"])?;
        let org_id =
            self.string(obj, "orgId", path, true).and_then(|raw| {
                match OrgId::parse_field(&raw, "orgId") {
                    Ok(id) if org_ids.insert(raw.clone()) => Some(id),
                    Ok(_) => {
                        self.problem(&format!("{path}.orgId"), format!("duplicate org {raw:?}"));
                        None
                    }
                    Err(e) => {
                        self.problem(&format!("{path}.orgId"), e.message);
                        None
                    }
                }
            });

        let mut users: Vec<User> = Vec::new();
        for (i, user) in self.array(obj, "users", path, false).iter().enumerate() {
            let user_path = format!("{path}.users[{i}]");
            if let Some(user) = self.user(user, &user_path) {
                if users.iter().any(|u| u.email == user.email) {
                    self.problem(
                        &format!("{user_path}.email"),
                        format!("duplicate user {}", user.email),
                    );
                } else {
                    users.push(user);
                }
            }
        }
        let mut group_ids = BTreeSet::new();
        let mut groups = Vec::new();
        for (i, group) in self.array(obj, "groups", path, false).iter().enumerate() {
            if let Some(group) = self.group(group, &format!("{path}.groups[{i}]"), &mut group_ids) {
                groups.push(group);
            }
        }
        let mut phone_ids = BTreeSet::new();
        let mut phones = Vec::new();
        for (i, phone) in self.array(obj, "phones", path, false).iter().enumerate() {
            let phone_path = format!("{path}.phones[{i}]");
            if let Some(phone) = self.phone(phone, &phone_path, &mut phone_ids, &group_ids, numbers)
            {
                phones.push(phone);
            }
        }
        let org = OrgDirectory {
            org_id: org_id?,
            users,
            groups,
            phones,
        };
        // One email is one Twilio identity, so it can belong to only one org.
        for email in org.emails() {
            if let Some(first) = emails.insert(email.clone(), org.org_id.clone()) {
                self.problem(
                    path,
                    format!(
                        "{email} is already a user of org {first}: a user belongs to exactly one org"
                    ),
                );
            }
        }
        Some(org)
    }

    fn user(&mut self, value: &Value, path: &str) -> Option<User> {
        let obj = self.object(value, path, &["email", "name"])?;
        let email = self.string(obj, "email", path, true).and_then(|raw| {
            Email::parse_field(&raw, "email")
                .map_err(|e| self.problem(&format!("{path}.email"), e.message))
                .ok()
        });
        let name = self.string(obj, "name", path, false);
        if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
            self.problem(&format!("{path}.name"), "must be at most 100 characters");
            return None;
        }
        Some(User {
            email: email?,
            name,
        })
    }

    fn group(&mut self, value: &Value, path: &str, ids: &mut BTreeSet<String>) -> Option<Group> {
        let obj = self.object(
            value,
            path,
            &[
                "id",
                "name",
                "members",
                "ringTimeoutSeconds",
                "fallback",
                "skipBusyMembers",
            ],
        )?;
        let id = self.record_id(obj, path, ids);
        let name = self.string(obj, "name", path, true);
        let mut members = Vec::new();
        let member_values = self.array(obj, "members", path, true);
        if member_values.is_empty() && obj.get("members").is_some_and(Value::is_array) {
            self.problem(
                &format!("{path}.members"),
                "must list at least one member email",
            );
        }
        for (i, member) in member_values.iter().enumerate() {
            let member_path = format!("{path}.members[{i}]");
            match member.as_str().map(|m| Email::parse_field(m, "member")) {
                Some(Ok(email)) if members.contains(&email) => {
                    self.problem(&member_path, format!("duplicate member {email}"));
                }
                Some(Ok(email)) => members.push(email),
                _ => self.problem(&member_path, "must be an email address"),
            }
        }
        let ring_timeout_seconds = self.seconds(obj, "ringTimeoutSeconds", path, (5, 600));
        let skip_busy_members = self.boolean(obj, "skipBusyMembers", path, true);
        let fallback = match obj.get("fallback") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.fallback(value, &format!("{path}.fallback"))?),
        };
        Some(Group {
            id: id?,
            name: name?,
            members,
            ring_timeout_seconds: ring_timeout_seconds.unwrap_or(DEFAULT_RING_TIMEOUT_SECONDS),
            fallback,
            skip_busy_members,
        })
    }

    fn fallback(&mut self, value: &Value, path: &str) -> Option<Fallback> {
        let kind = value.get("type").and_then(Value::as_str);
        match kind {
            Some("voicemail") => {
                let obj = self.object(
                    value,
                    path,
                    &[
                        "type",
                        "greeting",
                        "greetingUrl",
                        "maxLengthSeconds",
                        "transcribe",
                        "recordingStatusCallback",
                    ],
                )?;
                Some(Fallback::Voicemail(self.voicemail_fields(obj, path)?))
            }
            Some("ai_assistant") => {
                let obj = self.object(value, path, &["type", "url"])?;
                let url = self.string(obj, "url", path, true)?;
                if !(url.starts_with("wss://") || is_https_url(&url)) {
                    self.problem(
                        &format!("{path}.url"),
                        "must start with wss:// (stream the call) or https:// (hand it over)",
                    );
                    return None;
                }
                Some(Fallback::AiAssistant { url })
            }
            Some("automation") => {
                let obj = self.object(value, path, &["type", "url"])?;
                let url = self.string(obj, "url", path, true)?;
                if !is_https_url(&url) {
                    self.problem(&format!("{path}.url"), "must be an https:// URL");
                    return None;
                }
                Some(Fallback::Automation { url })
            }
            Some("hangup") => {
                let obj = self.object(value, path, &["type", "message"])?;
                let message = self.string(obj, "message", path, false);
                Some(Fallback::Hangup { message })
            }
            _ => {
                self.problem(
                    &format!("{path}.type"),
                    "must be one of \"voicemail\", \"ai_assistant\", \"automation\", \"hangup\"",
                );
                None
            }
        }
    }

    fn voicemail(&mut self, value: &Value, path: &str) -> Option<Voicemail> {
        let obj = self.object(
            value,
            path,
            &[
                "greeting",
                "greetingUrl",
                "maxLengthSeconds",
                "transcribe",
                "recordingStatusCallback",
            ],
        )?;
        self.voicemail_fields(obj, path)
    }

    fn voicemail_fields(&mut self, obj: &Map<String, Value>, path: &str) -> Option<Voicemail> {
        let before = self.problems.len();
        let greeting = self.string(obj, "greeting", path, false);
        let greeting_url = self.string(obj, "greetingUrl", path, false);
        if greeting_url.as_deref().is_some_and(|u| !is_https_url(u)) {
            self.problem(&format!("{path}.greetingUrl"), "must be an https:// URL");
        }
        let max_length_seconds = self.seconds(obj, "maxLengthSeconds", path, (1, 14_400));
        let transcribe = self.boolean(obj, "transcribe", path, false);
        let recording_status_callback = self.string(obj, "recordingStatusCallback", path, false);
        if recording_status_callback
            .as_deref()
            .is_some_and(|u| !is_https_url(u))
        {
            self.problem(
                &format!("{path}.recordingStatusCallback"),
                "must be an https:// URL",
            );
        }
        (self.problems.len() == before).then_some(Voicemail {
            greeting,
            greeting_url,
            max_length_seconds,
            transcribe,
            recording_status_callback,
        })
    }

    fn phone(
        &mut self,
        value: &Value,
        path: &str,
        ids: &mut BTreeSet<String>,
        group_ids: &BTreeSet<String>,
        numbers: &mut HashMap<String, String>,
    ) -> Option<Phone> {
        let obj = self.object(
            value,
            path,
            &[
                "id",
                "phoneNumber",
                "friendlyName",
                "groupId",
                "userEmail",
                "voicemail",
                "whenBusy",
            ],
        )?;
        let id = self.record_id(obj, path, ids);
        let phone_number = self.string(obj, "phoneNumber", path, true).and_then(|raw| {
            match E164::parse_field(&raw, "phoneNumber") {
                Err(e) => {
                    self.problem(&format!("{path}.phoneNumber"), e.message);
                    None
                }
                Ok(number) => match numbers.insert(raw.clone(), path.to_owned()) {
                    Some(first) => {
                        self.problem(
                            &format!("{path}.phoneNumber"),
                            format!("{raw} is already listed at {first}: a number belongs to exactly one phone"),
                        );
                        None
                    }
                    None => Some(number),
                },
            }
        });
        let friendly_name = self.string(obj, "friendlyName", path, true);
        let group_id = self.string(obj, "groupId", path, false);
        let user_email = self.string(obj, "userEmail", path, false);
        let assignment = match (group_id, user_email) {
            (Some(group), None) => {
                if group_ids.contains(&group) {
                    Some(Assignment::Group(group))
                } else {
                    self.problem(
                        &format!("{path}.groupId"),
                        format!("no group {group:?} in this org"),
                    );
                    None
                }
            }
            (None, Some(email)) => match Email::parse_field(&email, "userEmail") {
                Ok(email) => Some(Assignment::User(email)),
                Err(e) => {
                    self.problem(&format!("{path}.userEmail"), e.message);
                    None
                }
            },
            (Some(_), Some(_)) => {
                self.problem(path, "has both groupId and userEmail; give exactly one");
                None
            }
            (None, None) => {
                if !obj.contains_key("groupId") && !obj.contains_key("userEmail") {
                    self.problem(path, "needs exactly one of groupId or userEmail");
                }
                None
            }
        };
        let when_busy = match obj.get("whenBusy") {
            None | Some(Value::Null) => Some(WhenBusy::Ring),
            Some(Value::String(s)) if s == "ring" => Some(WhenBusy::Ring),
            Some(Value::String(s)) if s == "fallback" => Some(WhenBusy::Fallback),
            Some(_) => {
                self.problem(
                    &format!("{path}.whenBusy"),
                    "must be \"ring\" or \"fallback\"",
                );
                None
            }
        };
        let voicemail = match obj.get("voicemail") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.voicemail(value, &format!("{path}.voicemail"))?),
        };
        Some(Phone {
            id: id?,
            phone_number: phone_number?,
            friendly_name: friendly_name?,
            assignment: assignment?,
            voicemail,
            when_busy: when_busy?,
        })
    }
}

/// One group or phone as a store keeps it: its place in the file (so export keeps the
/// order) and its JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub pos: usize,
    pub doc: String,
}

impl OrgDirectory {
    /// Every user, group and phone keyed `user:{email}`, `group:{id}`, `phone:{id}`: the sort keys of the
    /// DynamoDB store, and what both stores diff an import against.
    pub fn records(&self) -> BTreeMap<String, Record> {
        let groups = self.groups.iter().enumerate().map(|(pos, g)| {
            (
                format!("group:{}", g.id),
                Record {
                    pos,
                    doc: to_doc(g),
                },
            )
        });
        let phones = self.phones.iter().enumerate().map(|(pos, p)| {
            (
                format!("phone:{}", p.id),
                Record {
                    pos,
                    doc: to_doc(p),
                },
            )
        });
        let users = self.users.iter().enumerate().map(|(pos, u)| {
            (
                format!("user:{}", u.email),
                Record {
                    pos,
                    doc: to_doc(u),
                },
            )
        });
        users.chain(groups).chain(phones).collect()
    }
}

fn to_doc<T: Serialize>(value: &T) -> String {
    // Serializing plain data with string keys cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Count per-record differences between what is stored and what is wanted. Only documents
/// count: a record that merely moved in the file is unchanged. Shared by both stores so their
/// import reports agree.
pub fn diff_records(
    existing: &BTreeMap<String, Record>,
    wanted: &BTreeMap<String, Record>,
    report: &mut ImportReport,
) {
    for (key, record) in wanted {
        match existing.get(key) {
            None => report.added += 1,
            Some(old) if old.doc == record.doc => report.unchanged += 1,
            Some(_) => report.updated += 1,
        }
    }
    report.removed += existing.keys().filter(|k| !wanted.contains_key(*k)).count();
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../demo/directory.json");

    #[test]
    fn the_demo_directory_is_valid_and_answers_assigned_phones() {
        let dir = Directory::parse(DEMO).unwrap();
        let org = dir
            .org(&OrgId::parse_field("org_demo", "o").unwrap())
            .unwrap();
        let alice = Email::parse_field("alice@example.com", "e").unwrap();
        let phones = org.assigned_phones(&alice);
        let kinds: Vec<_> = phones
            .iter()
            .map(|p| (p.id.as_str(), p.assignment))
            .collect();
        assert!(kinds.contains(&("phone-sales", AssignmentKind::Group)));
        assert!(kinds.contains(&("phone-alice", AssignmentKind::Direct)));
    }

    #[test]
    fn a_bad_file_lists_every_problem_with_its_path() {
        let text = r#"{"orgs":[{"orgId":"bad:org","groups":[{"id":"g1","name":"","members":["nope"],
            "fallback":{"type":"fax"}}],"phones":[{"id":"p1","phoneNumber":"555","friendlyName":"x",
            "groupId":"missing"},{"id":"p1","phoneNumber":"+14155550000","friendlyName":"y",
            "userEmail":"a@b.c","groupId":"g1","colour":"red"}]}]}"#;
        let err = Directory::parse(text).unwrap_err();
        let paths: Vec<_> = err.0.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "orgs[0].orgId",
            "orgs[0].groups[0].name",
            "orgs[0].groups[0].members[0]",
            "orgs[0].groups[0].fallback.type",
            "orgs[0].phones[0].phoneNumber",
            "orgs[0].phones[0].groupId",
            "orgs[0].phones[1].id",
            "orgs[0].phones[1]",
            "orgs[0].phones[1].colour",
        ] {
            assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
        }
    }

    #[test]
    fn a_number_may_belong_to_only_one_phone_across_orgs() {
        let text = r#"{"orgs":[
            {"orgId":"a","phones":[{"id":"p","phoneNumber":"+14155550000","friendlyName":"A","userEmail":"a@x.io"}]},
            {"orgId":"b","phones":[{"id":"p","phoneNumber":"+14155550000","friendlyName":"B","userEmail":"b@x.io"}]}]}"#;
        let err = Directory::parse(text).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].path, "orgs[1].phones[0].phoneNumber");
    }

    #[test]
    fn country_codes_split_every_kind_of_number() {
        let cc = |n: &str| country_code(&E164::parse_field(n, "n").unwrap()).to_owned();
        assert_eq!(cc("+14155551234"), "+1");
        assert_eq!(cc("+447700900123"), "+44");
        assert_eq!(cc("+35312345678"), "+353");
        assert_eq!(cc("+79161234567"), "+7");
        assert_eq!(cc("+862012345678"), "+86");
    }

    #[test]
    fn busy_rules_and_users_are_validated_and_default_sensibly() {
        let text = r#"{"orgs":[{"orgId":"o","users":[{"email":"a@x.io","name":"Ann"},{"email":"A@x.io"}],
            "groups":[{"id":"g","name":"G","members":["b@x.io"],"skipBusyMembers":"no"}],
            "phones":[{"id":"p","phoneNumber":"+14155550000","friendlyName":"P","userEmail":"c@x.io","whenBusy":"maybe"}]},
            {"orgId":"o2","users":[{"email":"b@x.io"}]}]}"#;
        let err = Directory::parse(text).unwrap_err();
        let paths: Vec<_> = err.0.iter().map(|p| p.path.as_str()).collect();
        for expected in [
            "orgs[0].users[1].email",
            "orgs[0].groups[0].skipBusyMembers",
            "orgs[0].phones[0].whenBusy",
            "orgs[1]",
        ] {
            assert!(paths.contains(&expected), "missing {expected} in {paths:?}");
        }
        let dir = Directory::parse(DEMO).unwrap();
        assert!(dir.orgs[0].groups.iter().all(|g| g.skip_busy_members));
        let fallback_when_busy: Vec<_> = dir.orgs[0]
            .phones
            .iter()
            .filter(|p| p.when_busy == WhenBusy::Fallback)
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(
            fallback_when_busy,
            ["phone-bob"],
            "only where the file says so"
        );
    }

    #[test]
    fn every_user_gets_a_profile_with_numbers_and_voicemail() {
        let dir = Directory::parse(DEMO).unwrap();
        let profiles = dir.orgs[0].user_profiles();
        let alice = profiles
            .iter()
            .find(|p| p.email.as_str() == "alice@example.com")
            .unwrap();
        assert_eq!(alice.org_country_codes, vec!["+1".to_owned()]);
        assert_eq!(alice.direct_phone.as_ref().unwrap().id, "phone-alice");
        assert_eq!(alice.assigned_phones.len(), 2);
        let emails: BTreeSet<_> = profiles.iter().map(|p| p.email.as_str()).collect();
        assert_eq!(emails.len(), profiles.len(), "each user once");
    }

    #[test]
    fn a_directory_serializes_back_to_the_file_format() {
        let dir = Directory::parse(DEMO).unwrap();
        let again = Directory::parse(&dir.to_json_pretty()).unwrap();
        assert_eq!(dir, again);
    }
}
