//! What a sleeping phone is shown for an event (issue 31): a text to one of its user's
//! numbers, a missed call, a new voicemail. Pure: the event, who the other party is called in
//! the directory, the org's preview setting and the user's unread count in; the alert out,
//! and each provider's request body built from it ([`apns_payload`], [`fcm_message`]).

use serde_json::{Value, json};

use crate::events::{Event, EventKind};

/// How much of a text an alert previews.
pub const PREVIEW_CHARS: usize = 100;

/// One notification for one device, whatever its provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
    /// The user's unread texts and unseen missed calls: the app icon's badge.
    pub badge: u32,
    /// One conversation's texts, or one call's miss and voicemail, replace each other on the
    /// lock screen: APNs' collapse and thread id, FCM's tag.
    pub thread: String,
    pub kind: EventKind,
    /// Where the app catches up from when the alert is tapped.
    pub cursor: String,
}

fn text(data: &Value, path: &[&str]) -> Option<String> {
    let mut value = data;
    for key in path {
        value = value.get(key)?;
    }
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The first `PREVIEW_CHARS` characters of a text, with an ellipsis when there is more.
fn preview_of(body: &str) -> String {
    let mut chars = body.chars();
    let shown: String = chars.by_ref().take(PREVIEW_CHARS).collect();
    if chars.next().is_some() {
        format!("{shown}…")
    } else {
        shown
    }
}

/// The alert `event` makes, if it is one that alerts a sleeping phone. `name_of` turns the
/// other party (a number or a colleague's email) into their name in the directory, if any.
pub fn alert_for(
    event: &Event,
    name_of: &dyn Fn(&str) -> Option<String>,
    preview: bool,
    badge: u32,
) -> Option<Alert> {
    let data = &event.data;
    let who = |party: Option<String>| {
        party
            .as_deref()
            .map(|p| name_of(p).unwrap_or_else(|| p.to_owned()))
            .unwrap_or_else(|| "Unknown caller".to_owned())
    };
    let (title, body, thread) = match event.kind {
        EventKind::SmsReceived => {
            let from = who(text(data, &["message", "from"]));
            let body = match text(data, &["message", "body"]) {
                Some(body) if preview => preview_of(&body),
                Some(_) => "New text message".to_owned(),
                None => "New picture message".to_owned(),
            };
            let thread = format!(
                "sms:{}:{}",
                text(data, &["conversation", "phoneId"]).unwrap_or_default(),
                text(data, &["conversation", "with"]).unwrap_or_default()
            );
            (format!("Text from {from}"), body, thread)
        }
        EventKind::CallMissed | EventKind::VoicemailReceived => {
            let from = who(text(data, &["from"]));
            let to = text(data, &["phoneNumber"])
                .map(|n| format!(" to {n}"))
                .unwrap_or_default();
            let call = format!("call:{}", text(data, &["callSid"]).unwrap_or_default());
            if event.kind == EventKind::CallMissed {
                ("Missed call".to_owned(), format!("{from} called{to}"), call)
            } else {
                let seconds = data
                    .pointer("/voicemail/durationSeconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let body = format!("{from} left a voicemail ({seconds} s){to}");
                ("New voicemail".to_owned(), body, call)
            }
        }
        _ => return None,
    };
    Some(Alert {
        title,
        body,
        badge,
        thread,
        kind: event.kind,
        cursor: event.cursor.to_string(),
    })
}

/// A badge change with nothing to show (`calls.seen`, `sms.read` on another of the user's
/// devices): the icon's count follows without a banner or a sound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeUpdate {
    pub badge: u32,
    pub kind: EventKind,
    pub cursor: String,
}

/// What one event sends one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    Alert(Alert),
    Badge(BadgeUpdate),
}

impl Push {
    pub fn badge(&self) -> u32 {
        match self {
            Push::Alert(a) => a.badge,
            Push::Badge(b) => b.badge,
        }
    }
    pub fn kind(&self) -> EventKind {
        match self {
            Push::Alert(a) => a.kind,
            Push::Badge(b) => b.kind,
        }
    }
    pub fn cursor(&self) -> &str {
        match self {
            Push::Alert(a) => &a.cursor,
            Push::Badge(b) => &b.cursor,
        }
    }
}

/// The longest start of `text` of at most `max` bytes that ends on a character boundary.
fn at_most_bytes(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// APNs: the headers beyond the provider token (`apns-topic` is the app's bundle id) and the
/// JSON body. A badge update is an `alert` push with no alert (Apple's way to change the badge
/// silently), at the low priority that lets the phone wait for a convenient moment.
pub fn apns_payload(push: &Push, topic: &str) -> (Vec<(&'static str, String)>, Value) {
    let mut headers = vec![
        ("apns-topic", topic.to_owned()),
        ("apns-push-type", "alert".to_owned()),
    ];
    let aps = match push {
        Push::Alert(alert) => {
            headers.push(("apns-priority", "10".to_owned()));
            // APNs takes a collapse id of at most 64 bytes.
            headers.push((
                "apns-collapse-id",
                at_most_bytes(&alert.thread, 64).to_owned(),
            ));
            json!({
                "alert": { "title": alert.title, "body": alert.body },
                "badge": alert.badge,
                "sound": "default",
                "thread-id": alert.thread,
            })
        }
        Push::Badge(update) => {
            headers.push(("apns-priority", "5".to_owned()));
            json!({ "badge": update.badge })
        }
    };
    let body = json!({ "aps": aps, "type": push.kind().as_str(), "cursor": push.cursor() });
    (headers, body)
}

/// FCM HTTP v1: the `messages:send` body for one registration token. A badge update is a data
/// message (no notification) at normal priority; the app sets its own count from `badge`.
pub fn fcm_message(push: &Push, token: &str) -> Value {
    // FCM data values are strings.
    let data = json!({
        "type": push.kind().as_str(),
        "cursor": push.cursor(),
        "badge": push.badge().to_string(),
    });
    match push {
        Push::Alert(alert) => json!({
            "message": {
                "token": token,
                "notification": { "title": alert.title, "body": alert.body },
                "android": {
                    "priority": "high",
                    "collapse_key": alert.thread,
                    "notification": { "tag": alert.thread, "notification_count": alert.badge },
                },
                "apns": { "payload": { "aps": { "badge": alert.badge, "thread-id": alert.thread } } },
                "data": data,
            }
        }),
        Push::Badge(update) => json!({
            "message": {
                "token": token,
                "android": { "priority": "normal" },
                "apns": {
                    "headers": { "apns-priority": "5" },
                    "payload": { "aps": { "badge": update.badge } },
                },
                "data": data,
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, data: Value) -> Event {
        Event::new(kind, 1_796_000_000_000, data)
    }

    fn names(party: &str) -> Option<String> {
        (party == "bob@example.com").then(|| "Bob Brown".to_owned())
    }

    #[test]
    fn a_text_previews_its_first_100_characters_unless_previews_are_off() {
        let long = "x".repeat(140);
        let sms = event(
            EventKind::SmsReceived,
            json!({"conversation": {"phoneId": "phone-sales", "with": "+14155550142"},
                   "message": {"from": "+14155550142", "body": long}}),
        );
        let alert = alert_for(&sms, &names, true, 3).unwrap();
        assert_eq!(alert.title, "Text from +14155550142");
        assert_eq!(alert.body, format!("{}…", "x".repeat(100)));
        assert_eq!(alert.badge, 3);
        assert_eq!(alert.thread, "sms:phone-sales:+14155550142");
        let hidden = alert_for(&sms, &names, false, 3).unwrap();
        assert_eq!(hidden.body, "New text message");
        assert!(!format!("{hidden:?}").contains("xxx"));
    }

    #[test]
    fn a_missed_call_and_its_voicemail_name_the_caller_and_share_a_thread() {
        let missed = event(
            EventKind::CallMissed,
            json!({"callSid": "CA1", "from": "bob@example.com", "phoneNumber": "+14155551234"}),
        );
        let alert = alert_for(&missed, &names, true, 1).unwrap();
        assert_eq!(
            (alert.title.as_str(), alert.body.as_str()),
            ("Missed call", "Bob Brown called to +14155551234")
        );
        let voicemail = event(
            EventKind::VoicemailReceived,
            json!({"callSid": "CA1", "from": "+14155550142", "voicemail": {"durationSeconds": 17}}),
        );
        let vm = alert_for(&voicemail, &names, true, 1).unwrap();
        assert_eq!(vm.body, "+14155550142 left a voicemail (17 s)");
        assert_eq!(vm.thread, alert.thread, "the voicemail replaces the miss");
        assert_eq!(
            alert_for(&event(EventKind::CallsSeen, json!({})), &names, true, 0),
            None
        );
    }

    #[test]
    fn a_collapse_id_is_cut_at_64_bytes_on_a_character_boundary() {
        let thread = format!("sms:phone-sales:{}", "é".repeat(40));
        let cut = at_most_bytes(&thread, 64);
        assert!(cut.len() <= 64 && cut.len() >= 63);
        assert!(thread.starts_with(cut));
        assert_eq!(at_most_bytes("call:CA1", 64), "call:CA1");
    }

    #[test]
    fn each_provider_gets_the_alert_its_way() {
        let alert = Alert {
            title: "Missed call".into(),
            body: "Bob Brown called".into(),
            badge: 2,
            thread: "call:CA1".into(),
            kind: EventKind::CallMissed,
            cursor: "0000000000000000abcd".into(),
        };
        let alert = Push::Alert(alert);
        let (headers, body) = apns_payload(&alert, "com.example.softphone");
        assert!(headers.contains(&("apns-push-type", "alert".to_owned())));
        assert!(headers.contains(&("apns-topic", "com.example.softphone".to_owned())));
        assert_eq!(body["aps"]["badge"], 2);
        assert_eq!(body["type"], "call.missed");
        let fcm = fcm_message(&alert, "fcm-token");
        assert_eq!(fcm["message"]["token"], "fcm-token");
        assert_eq!(fcm["message"]["data"]["cursor"], "0000000000000000abcd");
        assert_eq!(
            fcm["message"]["android"]["notification"]["notification_count"],
            2
        );
        let update = Push::Badge(BadgeUpdate {
            badge: 0,
            kind: EventKind::CallsSeen,
            cursor: "0000000000000000abce".into(),
        });
        let (headers, body) = apns_payload(&update, "com.example.softphone");
        assert!(headers.contains(&("apns-priority", "5".to_owned())));
        assert_eq!(body["aps"], json!({"badge": 0}), "no alert, no sound");
        let fcm = fcm_message(&update, "fcm-token");
        assert!(fcm["message"].get("notification").is_none());
        assert_eq!(fcm["message"]["data"]["badge"], "0");
    }
}
