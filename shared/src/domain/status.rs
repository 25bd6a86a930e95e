//! A person's status, set by them, and the teams whose statuses a colleague may watch: available, away or do not disturb, for a while or until they
//! change it, with a short note. Time ends a status on read (no scheduler): past its `until` it
//! reads as available, without the note that went with it.

use serde_json::{Map, Value};

use super::FieldError;

/// A note is at most this many characters, after trimming.
pub const MAX_NOTE_CHARS: usize = 100;
/// `until` at most this far ahead.
pub const MAX_UNTIL_SECONDS: i64 = 30 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    Away,
    /// Do not disturb: calls do not ring this person.
    Dnd,
}

impl Availability {
    pub const ALL: [Self; 3] = [Self::Available, Self::Away, Self::Dnd];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Away => "away",
            Self::Dnd => "dnd",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw)
    }
}

/// What a person set, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonStatus {
    pub availability: Availability,
    /// When it ends (epoch s), or none: until changed.
    pub until: Option<i64>,
    pub note: Option<String>,
    /// When it was set (epoch ms).
    pub set_at: i64,
}

impl Default for PersonStatus {
    fn default() -> Self {
        Self {
            availability: Availability::Available,
            until: None,
            note: None,
            set_at: 0,
        }
    }
}

impl PersonStatus {
    /// The status in force at `now_ms`: this one, or available once its `until` has passed.
    pub fn at(&self, now_ms: i64) -> PersonStatus {
        match self.until {
            Some(until) if until <= now_ms.div_euclid(1000) => PersonStatus {
                set_at: self.set_at,
                ..PersonStatus::default()
            },
            _ => self.clone(),
        }
    }

    /// The status in force at `now_ms` of someone who may never have set one.
    pub fn in_force(stored: Option<&PersonStatus>, now_ms: i64) -> PersonStatus {
        stored.map_or_else(PersonStatus::default, |s| s.at(now_ms))
    }

    /// `PUT /phone/presence/status`'s body: `status` (required), `until` (epoch s, in the
    /// future, at most 30 days ahead; only for `away` and `dnd`), `note` (text, trimmed, at
    /// most 100 characters). Every other field is refused by name.
    pub fn from_body(body: &Map<String, Value>, now_ms: i64) -> Result<Self, FieldError> {
        if let Some(unknown) = body
            .keys()
            .find(|k| !matches!(k.as_str(), "status" | "until" | "note"))
        {
            return Err(FieldError::new(
                unknown.as_str(),
                "is not a field of a status (status, until, note)",
            ));
        }
        let availability = match body.get("status") {
            Some(Value::String(raw)) => Availability::parse(raw).ok_or_else(|| {
                FieldError::new("status", "must be \"available\", \"away\" or \"dnd\"")
            })?,
            None | Some(Value::Null) => return Err(FieldError::new("status", "is required")),
            Some(_) => return Err(FieldError::new("status", "must be a string")),
        };
        let until = match body.get("until") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(|| {
                FieldError::new("until", "must be a whole number of epoch seconds")
            })?),
            Some(_) => {
                return Err(FieldError::new(
                    "until",
                    "must be epoch seconds (a number) or null",
                ));
            }
        };
        if let Some(until) = until {
            let now_s = now_ms.div_euclid(1000);
            if availability == Availability::Available {
                return Err(FieldError::new("until", "applies only to away and dnd"));
            }
            if until <= now_s {
                return Err(FieldError::new("until", "must be in the future"));
            }
            if until > now_s + MAX_UNTIL_SECONDS {
                return Err(FieldError::new("until", "must be at most 30 days ahead"));
            }
        }
        let note = match body.get("note") {
            None | Some(Value::Null) => None,
            Some(Value::String(raw)) => parse_note(raw)?,
            Some(_) => return Err(FieldError::new("note", "must be a string")),
        };
        Ok(Self {
            availability,
            until,
            note,
            set_at: now_ms,
        })
    }
}

/// A note as stored: trimmed, none when empty; text only.
fn parse_note(raw: &str) -> Result<Option<String>, FieldError> {
    let note = raw.trim();
    if note.chars().any(char::is_control) {
        return Err(FieldError::new(
            "note",
            "must be text, without control characters",
        ));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(FieldError::new(
            "note",
            format!("must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    Ok((!note.is_empty()).then(|| note.to_owned()))
}

/// What a subscriber watches: the whole org, or one of its groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Team {
    Org,
    Group(String),
}

/// Subscriptions one realtime connection may hold at once.
pub const MAX_SUBSCRIPTIONS: usize = 10;

impl Team {
    /// `"org"`, or a group's id.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "" => None,
            "org" => Some(Self::Org),
            id if id.len() <= 128 && !id.chars().any(char::is_control) => {
                Some(Self::Group(id.to_owned()))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Org => "org",
            Self::Group(id) => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW_MS: i64 = 1_800_000_000_000;
    const NOW_S: i64 = NOW_MS / 1000;

    fn parse(body: Value) -> Result<PersonStatus, FieldError> {
        let Value::Object(map) = body else {
            panic!("an object")
        };
        PersonStatus::from_body(&map, NOW_MS)
    }

    fn field(body: Value) -> String {
        parse(body).expect_err("refused").field
    }

    #[test]
    fn a_status_with_a_time_and_a_note_is_read_trimmed() {
        let status =
            parse(json!({"status": "dnd", "until": NOW_S + 3600, "note": "  In a meeting "}))
                .unwrap();
        assert_eq!(status.availability, Availability::Dnd);
        assert_eq!(status.until, Some(NOW_S + 3600));
        assert_eq!(status.note.as_deref(), Some("In a meeting"));
        assert_eq!(
            parse(json!({"status": "away", "note": "   "}))
                .unwrap()
                .note,
            None
        );
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field(json!({"status": "busy"})), "status");
        assert_eq!(field(json!({"until": NOW_S + 60})), "status");
        assert_eq!(field(json!({"status": 3})), "status");
        assert_eq!(field(json!({"status": "dnd", "until": NOW_S})), "until");
        assert_eq!(
            field(json!({"status": "dnd", "until": NOW_S + 31 * 86_400})),
            "until"
        );
        assert_eq!(
            field(json!({"status": "dnd", "until": "tomorrow"})),
            "until"
        );
        assert_eq!(field(json!({"status": "dnd", "until": 1.5})), "until");
        assert_eq!(
            field(json!({"status": "available", "until": NOW_S + 60})),
            "until"
        );
        assert_eq!(field(json!({"status": "away", "note": 7})), "note");
        assert_eq!(
            field(json!({"status": "away", "note": "x".repeat(101)})),
            "note"
        );
        assert_eq!(field(json!({"status": "away", "note": "a\u{7}b"})), "note");
        assert_eq!(field(json!({"status": "away", "mood": "fine"})), "mood");
        assert!(parse(json!({"status": "away", "note": "é".repeat(100)})).is_ok());
        assert!(parse(json!({"status": "dnd", "until": NOW_S + 30 * 86_400})).is_ok());
    }

    #[test]
    fn past_its_until_a_status_reads_as_available_without_its_note() {
        let status = parse(json!({"status": "dnd", "until": NOW_S + 60, "note": "Focus"})).unwrap();
        assert_eq!(status.at(NOW_MS + 59_999).availability, Availability::Dnd);
        let later = status.at(NOW_MS + 60_000);
        assert_eq!(later.availability, Availability::Available);
        assert_eq!((later.until, later.note), (None, None));
        assert_eq!(
            PersonStatus::in_force(None, NOW_MS).availability,
            Availability::Available
        );
    }
}
