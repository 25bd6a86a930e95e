//! The record readers of the validator: the file, each org, user, group, phone, fallback and
//! voicemail, each checked field by field.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::{Validator, is_https_url};
use crate::directory::{
    Assignment, DEFAULT_MEMBER_RING_SECONDS, DEFAULT_RING_TIMEOUT_SECONDS, Directory, Fallback,
    Group, MAX_GROUP_MEMBERS, MAX_ORG_GROUPS, MAX_ORG_PHONES, MAX_ORG_USERS, Notifications,
    OrgDirectory, Phone, SmsSettings, Strategy, User, Voicemail, WhenBusy,
};
use crate::domain::{E164, Email, OrgId};

impl Validator {
    pub(super) fn directory(&mut self, value: &Value) -> Directory {
        let mut directory = Directory::default();
        let Some(root) = self.object(value, "$", &["orgs"]) else {
            return directory;
        };
        let mut org_ids = BTreeSet::new();
        let mut numbers: HashMap<String, String> = HashMap::new();
        for (i, org) in self.array(root, "orgs", "$", true).iter().enumerate() {
            let path = format!("orgs[{i}]");
            if let Some(org) = self.org(org, &path, &mut org_ids, &mut numbers) {
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
    ) -> Option<OrgDirectory> {
        let obj = self.object(
            value,
            path,
            &[
                "orgId",
                "users",
                "groups",
                "phones",
                "outbound",
                "notifications",
            ],
        )?;
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
        for (key, count, most) in [
            ("users", users.len(), MAX_ORG_USERS),
            ("groups", groups.len(), MAX_ORG_GROUPS),
            ("phones", phones.len(), MAX_ORG_PHONES),
        ] {
            if count > most {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("must list at most {most}"),
                );
            }
        }
        let outbound = self.outbound(obj, path);
        let notifications = self.notifications(obj, path);
        let org = OrgDirectory {
            org_id: org_id?,
            users,
            groups,
            phones,
            outbound,
            notifications,
        };
        Some(org)
    }

    /// The org's `notifications`: `{"preview": false}` hides texts from their alerts.
    fn notifications(&mut self, org: &Map<String, Value>, path: &str) -> Notifications {
        let Some(value) = org.get("notifications") else {
            return Notifications::default();
        };
        let path = format!("{path}.notifications");
        let Some(obj) = self.object(value, &path, &["preview"]) else {
            return Notifications::default();
        };
        Notifications {
            preview: self.boolean(obj, "preview", &path, true),
        }
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
                "hours",
                "strategy",
                "memberRingSeconds",
                "batchSize",
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
        if members.len() > MAX_GROUP_MEMBERS {
            self.problem(
                &format!("{path}.members"),
                format!("must list at most {MAX_GROUP_MEMBERS} members"),
            );
        }
        let ring_timeout_seconds = self.seconds(obj, "ringTimeoutSeconds", path, (5, 600));
        let skip_busy_members = self.boolean(obj, "skipBusyMembers", path, true);
        let fallback = match obj.get("fallback") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.fallback(value, &format!("{path}.fallback"))?),
        };
        let hours = match obj.get("hours") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.hours(value, &format!("{path}.hours"))?),
        };
        let strategy = match obj.get("strategy") {
            None | Some(Value::Null) => Some(Strategy::Simultaneous),
            Some(Value::String(s)) if s == "simultaneous" => Some(Strategy::Simultaneous),
            Some(Value::String(s)) if s == "sequential" => Some(Strategy::Sequential),
            Some(Value::String(s)) if s == "roundRobin" => Some(Strategy::RoundRobin),
            Some(Value::String(s)) if s == "longestIdle" => Some(Strategy::LongestIdle),
            Some(_) => {
                self.problem(
                    &format!("{path}.strategy"),
                    "must be \"simultaneous\", \"sequential\", \"roundRobin\" or \"longestIdle\"",
                );
                None
            }
        };
        let member_ring_seconds = self.seconds(obj, "memberRingSeconds", path, (5, 120));
        let batch_size = self.seconds(obj, "batchSize", path, (1, 10));
        Some(Group {
            id: id?,
            name: name?,
            members,
            ring_timeout_seconds: ring_timeout_seconds.unwrap_or(DEFAULT_RING_TIMEOUT_SECONDS),
            fallback,
            skip_busy_members,
            hours,
            strategy: strategy?,
            member_ring_seconds: member_ring_seconds.unwrap_or(DEFAULT_MEMBER_RING_SECONDS),
            batch_size: batch_size.unwrap_or(1),
        })
    }

    pub(super) fn fallback(&mut self, value: &Value, path: &str) -> Option<Fallback> {
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
                "sms",
                "hours",
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
        let sms = match obj.get("sms") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.sms(value, &format!("{path}.sms"))?),
        };
        let hours = match obj.get("hours") {
            None | Some(Value::Null) => None,
            Some(value) => Some(self.hours(value, &format!("{path}.hours"))?),
        };
        Some(Phone {
            id: id?,
            phone_number: phone_number?,
            friendly_name: friendly_name?,
            assignment: assignment?,
            voicemail,
            when_busy: when_busy?,
            sms,
            hours,
        })
    }

    /// `"sms": {"forwardTo": "+1…"}`: where texts go when nobody can read them in the app.
    fn sms(&mut self, value: &Value, path: &str) -> Option<SmsSettings> {
        let obj = self.object(value, path, &["forwardTo"])?;
        let forward_to = match self.string(obj, "forwardTo", path, false) {
            None => None,
            Some(raw) => match E164::parse_field(&raw, "forwardTo") {
                Ok(number) => Some(number),
                Err(e) => {
                    self.problem(&format!("{path}.forwardTo"), e.message);
                    return None;
                }
            },
        };
        Some(SmsSettings { forward_to })
    }
}
