//! Validation of a directory file: either every record is valid and the whole directory is
//! returned, or every problem found is, each at its JSON path. The field readers are here;
//! the record readers (org, group, phone, fallback) are in [`records`].

mod hours;
mod outbound;
mod records;

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use super::Directory;

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
}

impl super::OrgDirectory {
    /// One org as the admin API takes it (an org of the directory file; `orgId`, when given,
    /// the caller's own): validated exactly as an import validates it, identity style
    /// included, each problem at its path within the org (`groups[0].members[1]`).
    pub fn from_admin_value(
        org: &crate::domain::OrgId,
        value: &Value,
        style: crate::domain::IdentityStyle,
    ) -> Result<Self, Vec<Problem>> {
        let mut value = value.clone();
        if let Some(obj) = value.as_object_mut() {
            match obj.get("orgId") {
                None => {
                    obj.insert("orgId".to_owned(), org.as_str().into());
                }
                Some(given) if given.as_str() != Some(org.as_str()) => {
                    return Err(vec![Problem {
                        path: "orgId".into(),
                        message: format!("must be your own org, {org}"),
                    }]);
                }
                Some(_) => {}
            }
        }
        let mut v = Validator::default();
        let directory = v.directory(&serde_json::json!({ "orgs": [value] }));
        let mut problems: Vec<Problem> = v
            .problems
            .into_iter()
            .map(|p| Problem {
                path: p
                    .path
                    .strip_prefix("orgs[0].")
                    .or_else(|| p.path.strip_prefix("orgs[0]").map(|_| "$"))
                    .unwrap_or(&p.path)
                    .to_owned(),
                message: p.message,
            })
            .collect();
        if problems.is_empty()
            && let Err(style_problems) = directory.check_identity_style(style)
        {
            problems.extend(style_problems.into_iter().map(|message| Problem {
                path: "$".into(),
                message,
            }));
        }
        match (problems.is_empty(), directory.orgs.into_iter().next()) {
            (true, Some(org)) => Ok(org),
            (true, None) => Err(vec![Problem {
                path: "$".into(),
                message: "must be an org of the directory file".into(),
            }]),
            (false, _) => Err(problems),
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::WhenBusy;

    const DEMO: &str = include_str!("../../../../demo/directory.json");

    /// Every `expected` path is among the problems found in `text`.
    fn assert_problems_at(text: &str, expected: &[&str]) {
        let err = Directory::parse(text).unwrap_err();
        let paths: Vec<_> = err.0.iter().map(|p| p.path.as_str()).collect();
        for path in expected {
            assert!(paths.contains(path), "missing {path} in {paths:?}");
        }
    }

    #[test]
    fn a_directory_serializes_back_to_the_file_format() {
        let dir = Directory::parse(DEMO).unwrap();
        let again = Directory::parse(&dir.to_json_pretty()).unwrap();
        assert_eq!(dir, again);
    }

    #[test]
    fn a_bad_file_lists_every_problem_with_its_path() {
        let text = r#"{"orgs":[{"orgId":"bad:org","groups":[{"id":"g1","name":"","members":["nope"],
            "fallback":{"type":"fax"}}],"phones":[{"id":"p1","phoneNumber":"555","friendlyName":"x",
            "groupId":"missing"},{"id":"p1","phoneNumber":"+14155550000","friendlyName":"y",
            "userEmail":"a@b.c","groupId":"g1","colour":"red"}]}]}"#;
        let expected = [
            "orgs[0].orgId",
            "orgs[0].groups[0].name",
            "orgs[0].groups[0].members[0]",
            "orgs[0].groups[0].fallback.type",
            "orgs[0].phones[0].phoneNumber",
            "orgs[0].phones[0].groupId",
            "orgs[0].phones[1].id",
            "orgs[0].phones[1]",
            "orgs[0].phones[1].colour",
        ];
        assert_problems_at(text, &expected);
    }

    #[test]
    fn business_hours_name_every_bad_zone_time_range_and_date() {
        let text = r#"{"orgs":[{"orgId":"o","users":[{"email":"a@x.io"}],
            "groups":[{"id":"g1","name":"G","members":["a@x.io"],"hours":{"timeZone":"Mars/Base",
              "weekly":{"mon":[["09:00","17:00"]],"funday":[["09:00","10:00"]]}}}],
            "phones":[{"id":"p1","phoneNumber":"+14155550001","friendlyName":"A","userEmail":"a@x.io",
              "hours":{"timeZone":"America/New_York",
                "weekly":{"mon":[["09:00","12:00"],["11:00","13:00"]],"tue":[["9:00","17:00"]],
                          "wed":[["10:00","10:00"]],"thu":[["22:00","06:00"],["23:00","23:30"]],
                          "fri":"all day"},
                "closedDates":[{"date":"2026-02-30"},{"date":"2026-12-25","name":"Christmas"},
                               {"date":"2026-12-25"}],
                "openDates":[{"date":"2026-12-24"}],
                "whenClosed":{"type":"fax"},
                "timezone":"UTC"}}]}]}"#;
        assert_problems_at(
            text,
            &[
                "orgs[0].groups[0].hours.timeZone",
                "orgs[0].groups[0].hours.weekly.funday",
                "orgs[0].phones[0].hours.weekly.mon[1]",
                "orgs[0].phones[0].hours.weekly.tue[0]",
                "orgs[0].phones[0].hours.weekly.wed[0]",
                "orgs[0].phones[0].hours.weekly.thu[1]",
                "orgs[0].phones[0].hours.weekly.fri",
                "orgs[0].phones[0].hours.closedDates[0].date",
                "orgs[0].phones[0].hours.closedDates[2].date",
                "orgs[0].phones[0].hours.openDates[0].ranges",
                "orgs[0].phones[0].hours.whenClosed.type",
                "orgs[0].phones[0].hours.timezone",
            ],
        );
        let good = r#"{"orgs":[{"orgId":"o","users":[{"email":"a@x.io"}],
            "phones":[{"id":"p1","phoneNumber":"+14155550001","friendlyName":"A","userEmail":"a@x.io",
              "hours":{"timeZone":"Australia/Sydney","weekly":{"mon":[["22:00","06:00"]],"tue":[["00:00","24:00"]]},
                "closedDates":[{"date":"2026-12-25","name":"Christmas"}],
                "openDates":[{"date":"2026-12-27","ranges":[["10:00","14:00"]]}],
                "whenClosed":{"type":"hangup","message":"We are closed."}}}]}]}"#;
        let dir = Directory::parse(good).unwrap();
        let again = Directory::parse(&dir.to_json_pretty()).unwrap();
        assert_eq!(dir, again, "exported as imported");
        assert!(dir.orgs[0].phones[0].hours.is_some());
    }

    #[test]
    fn an_org_may_turn_text_previews_off_in_its_alerts() {
        let org = |notifications: &str| {
            format!(r#"{{"orgs":[{{"orgId":"o","notifications":{notifications}}}]}}"#)
        };
        let dir = Directory::parse(&org(r#"{"preview":false}"#)).unwrap();
        assert!(!dir.orgs[0].notifications.preview);
        let again = Directory::parse(&dir.to_json_pretty()).unwrap();
        assert_eq!(dir, again, "exported as imported");
        let default = Directory::parse(r#"{"orgs":[{"orgId":"o"}]}"#).unwrap();
        assert!(default.orgs[0].notifications.preview, "previews by default");
        assert!(!default.to_json_pretty().contains("notifications"));
        assert_problems_at(
            &org(r#"{"preview":"no","sound":true}"#),
            &[
                "orgs[0].notifications.preview",
                "orgs[0].notifications.sound",
            ],
        );
    }

    #[test]
    fn a_group_lists_at_most_100_members() {
        let file = |n: usize| {
            let users: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"email":"a{i}@x.io"}}"#))
                .collect();
            let members: Vec<String> = (0..n).map(|i| format!(r#""a{i}@x.io""#)).collect();
            format!(
                r#"{{"orgs":[{{"orgId":"o","users":[{}],"groups":[{{"id":"g","name":"G",
                "members":[{}]}}]}}]}}"#,
                users.join(","),
                members.join(",")
            )
        };
        assert!(Directory::parse(&file(100)).is_ok());
        assert_problems_at(&file(101), &["orgs[0].groups[0].members"]);
    }

    #[test]
    fn ring_strategies_and_their_step_settings_are_named_when_wrong() {
        let group = |fields: &str| {
            format!(
                r#"{{"orgs":[{{"orgId":"o","users":[{{"email":"a@x.io"}}],"groups":[{{"id":"g","name":"G",
                "members":["a@x.io"],{fields}}}]}}]}}"#
            )
        };
        assert_problems_at(
            &group(r#""strategy":"random""#),
            &["orgs[0].groups[0].strategy"],
        );
        for strategy in ["roundRobin", "longestIdle", "simultaneous"] {
            let file = group(&format!(r#""strategy":"{strategy}""#));
            assert!(Directory::parse(&file).is_ok(), "{strategy}");
        }
        assert_problems_at(
            &group(r#""memberRingSeconds":4,"batchSize":11"#),
            &[
                "orgs[0].groups[0].memberRingSeconds",
                "orgs[0].groups[0].batchSize",
            ],
        );
        let dir = Directory::parse(&group(
            r#""strategy":"sequential","memberRingSeconds":20,"batchSize":2"#,
        ))
        .unwrap();
        let sales = &dir.orgs[0].groups[0];
        assert_eq!(
            (sales.strategy, sales.member_ring_seconds, sales.batch_size),
            (crate::directory::Strategy::Sequential, 20, 2)
        );
        assert_eq!(Directory::parse(&dir.to_json_pretty()).unwrap(), dir);
        let plain = Directory::parse(&group(r#""ringTimeoutSeconds":30"#)).unwrap();
        assert!(
            !plain.to_json_pretty().contains("strategy"),
            "defaults are left out"
        );
    }

    #[test]
    fn sms_forwarding_is_validated_with_the_rest() {
        let text = r#"{"orgs":[{"orgId":"o","phones":[
            {"id":"p1","phoneNumber":"+14155550001","friendlyName":"A","userEmail":"a@x.io","sms":{"forwardTo":"555-0100"}},
            {"id":"p2","phoneNumber":"+14155550002","friendlyName":"B","userEmail":"a@x.io","sms":{"forwardTo":"+14155550100","copyTo":"x"}},
            {"id":"p3","phoneNumber":"+14155550003","friendlyName":"C","userEmail":"a@x.io","sms":"yes"}]}]}"#;
        assert_problems_at(
            text,
            &[
                "orgs[0].phones[0].sms.forwardTo",
                "orgs[0].phones[1].sms.copyTo",
                "orgs[0].phones[2].sms",
            ],
        );
        let good = r#"{"orgs":[{"orgId":"o","phones":[{"id":"p","phoneNumber":"+14155550001",
            "friendlyName":"A","userEmail":"a@x.io","sms":{"forwardTo":"+14155550100"}}]}]}"#;
        let dir = Directory::parse(good).unwrap();
        let forward = dir.orgs[0].phones[0]
            .sms
            .as_ref()
            .and_then(|s| s.forward_to.as_ref());
        assert_eq!(forward.map(|n| n.as_str()), Some("+14155550100"));
        assert_eq!(Directory::parse(&dir.to_json_pretty()).unwrap(), dir);
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

    /// A contractor working for two orgs is a person of each: two identities, two profiles.
    #[test]
    fn the_same_email_may_be_a_user_of_two_orgs_but_not_twice_in_one() {
        let text = r#"{"orgs":[{"orgId":"a","users":[{"email":"ann@x.io"}]},
            {"orgId":"b","users":[{"email":"Ann@x.io","name":"Ann B"}]}]}"#;
        let dir = Directory::parse(text).unwrap();
        let ids: Vec<_> = dir
            .orgs
            .iter()
            .flat_map(|o| o.user_profiles(crate::domain::IdentityStyle::Safe))
            .map(|p| p.identity.to_string())
            .collect();
        assert_eq!(ids, ["u_a__ann_40x_2Eio", "u_b__ann_40x_2Eio"]);
        assert!(
            dir.check_identity_style(crate::domain::IdentityStyle::Safe)
                .is_ok()
        );
        let problems = dir
            .check_identity_style(crate::domain::IdentityStyle::Email)
            .unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("IDENTITY_STYLE=email"), "{problems:?}");
        assert_problems_at(
            r#"{"orgs":[{"orgId":"a","users":[{"email":"ann@x.io"},{"email":"ANN@x.io"}]}]}"#,
            &["orgs[0].users[1].email"],
        );
    }

    #[test]
    fn busy_rules_and_users_are_validated_and_default_sensibly() {
        let text = r#"{"orgs":[{"orgId":"o","users":[{"email":"a@x.io","name":"Ann"},{"email":"A@x.io"}],
            "groups":[{"id":"g","name":"G","members":["b@x.io"],"skipBusyMembers":"no"}],
            "phones":[{"id":"p","phoneNumber":"+14155550000","friendlyName":"P","userEmail":"c@x.io","whenBusy":"maybe"}]},
            {"orgId":"o2","users":[{"email":"b@x.io"}]}]}"#;
        let expected = [
            "orgs[0].users[1].email",
            "orgs[0].groups[0].skipBusyMembers",
            "orgs[0].phones[0].whenBusy",
        ];
        assert_problems_at(text, &expected);
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
}
