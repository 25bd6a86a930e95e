//! The realtime channel's protocol, the same on API Gateway and on the local server: the
//! subprotocol a client offers with its ticket, the limits API Gateway imposes, and the
//! frames a client may send.

use serde_json::Value;

use crate::domain::{Team, TwilioState};

/// What a client offers first in `Sec-WebSocket-Protocol`, and the server echoes.
pub const SUBPROTOCOL: &str = "softphone-presence.v1";
/// API Gateway's limits, kept by the local server too (frames and messages larger close the
/// connection with 1009).
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
/// A connection idle this long is closed: clients ping well within it.
pub const IDLE_SECONDS: u64 = 10 * 60;
/// Connections a device may have open at once; a sixth closes the oldest.
pub const MAX_CONNECTIONS_PER_DEVICE: usize = 5;

/// The ticket in a `Sec-WebSocket-Protocol` header that offers this service's subprotocol and
/// one ticket: `softphone-presence.v1, <ticket>`. Anything else offers none.
pub fn offered_ticket(header: &str) -> Option<&str> {
    let mut offered = header.split(',').map(str::trim).filter(|p| !p.is_empty());
    let mut ticket = None;
    let mut ours = false;
    for protocol in offered.by_ref() {
        if protocol == SUBPROTOCOL {
            ours = true;
        } else if ticket.replace(protocol).is_some() {
            return None;
        }
    }
    ticket.filter(|_| ours)
}

/// A text frame from a client this version understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Watch a team's presence (`{"type": "subscribe", "team": "org" | "<groupId>"}`):
    /// `team.presence` frames until unsubscribed or closed. `None`: no team named.
    Subscribe { team: Option<Team> },
    /// Stop watching it.
    Unsubscribe { team: Option<Team> },
    /// The keep-alive: answered with a pong, and it renews the device's socket presence. It
    /// may carry what the device's Twilio SDK reports now (`twilioState`); a value that is not
    /// a Twilio state is named in the pong's `error` and otherwise ignored.
    Ping {
        twilio_state: Option<TwilioState>,
        bad_twilio_state: bool,
    },
}

/// What a text frame is: `None` for anything this version does not know (not JSON, or another
/// type), which is ignored.
pub fn frame(text: &str) -> Option<Frame> {
    let value: Value = serde_json::from_str(text).ok()?;
    let team = || {
        value
            .get("team")
            .and_then(Value::as_str)
            .and_then(Team::parse)
    };
    match value.get("type")?.as_str()? {
        "ping" => {}
        "subscribe" => return Some(Frame::Subscribe { team: team() }),
        "unsubscribe" => return Some(Frame::Unsubscribe { team: team() }),
        _ => return None,
    }
    let (twilio_state, bad_twilio_state) = match value.get("twilioState") {
        None | Some(Value::Null) => (None, false),
        Some(raw) => match raw.as_str().map(TwilioState::parse) {
            Some(Ok(state)) => (Some(state), false),
            _ => (None, true),
        },
    };
    Some(Frame::Ping {
        twilio_state,
        bad_twilio_state,
    })
}

/// The pong to a ping: `{"type":"pong"}`; with `"live": false` when the device is no longer
/// live (unregistered, signed out or expired: register again), and an `error` naming a field
/// of the ping that was not understood.
pub fn pong(live: bool, bad_twilio_state: bool) -> String {
    let mut pong = serde_json::json!({"type": "pong"});
    if !live {
        pong["live"] = false.into();
    }
    if bad_twilio_state {
        // The same words a heartbeat's 400 uses for the field.
        let message = TwilioState::parse("").err().map(|e| e.message);
        pong["error"] = serde_json::json!({"field": "twilioState", "message": message});
    }
    pong.to_string()
}

/// The answer to a subscribe (`subscribed`) or an unsubscribe (`unsubscribed`): the team, or
/// why it was refused (`error.field` `team`: none named, no such group, or too many).
pub fn subscription_answer(kind: &str, team: Option<&Team>, refused: Option<&str>) -> String {
    let mut answer = serde_json::json!({"type": kind, "team": team.map(Team::as_str)});
    if let Some(why) = refused {
        answer["error"] = serde_json::json!({"field": "team", "message": why});
    }
    answer.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscribe_names_the_org_or_a_group_and_anything_else_is_no_team() {
        let team = |text: &str| match frame(text) {
            Some(Frame::Subscribe { team }) => team,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            team(r#"{"type":"subscribe","team":"org"}"#),
            Some(Team::Org)
        );
        assert_eq!(
            team(r#"{"type":"subscribe","team":"grp-sales"}"#),
            Some(Team::Group("grp-sales".into()))
        );
        assert_eq!(team(r#"{"type":"subscribe"}"#), None);
        assert_eq!(team(r#"{"type":"subscribe","team":7}"#), None);
        assert_eq!(team(r#"{"type":"subscribe","team":""}"#), None);
        assert_eq!(
            team(&format!(
                r#"{{"type":"subscribe","team":"{}"}}"#,
                "g".repeat(129)
            )),
            None
        );
        assert_eq!(
            frame(r#"{"type":"unsubscribe","team":"org"}"#),
            Some(Frame::Unsubscribe {
                team: Some(Team::Org)
            })
        );
        assert_eq!(
            subscription_answer("subscribed", Some(&Team::Org), None),
            r#"{"team":"org","type":"subscribed"}"#
        );
    }

    #[test]
    fn the_ticket_comes_with_the_subprotocol_or_not_at_all() {
        assert_eq!(
            offered_ticket("softphone-presence.v1, abc.def.ghi"),
            Some("abc.def.ghi")
        );
        assert_eq!(
            offered_ticket("abc.def.ghi,softphone-presence.v1"),
            Some("abc.def.ghi")
        );
        assert_eq!(offered_ticket("abc.def.ghi"), None);
        assert_eq!(offered_ticket("softphone-presence.v1"), None);
        assert_eq!(offered_ticket("softphone-presence.v1, a, b"), None);
        assert_eq!(offered_ticket(""), None);
    }

    #[test]
    fn only_a_ping_is_understood_with_what_it_reports() {
        assert_eq!(
            frame(r#"{"type":"ping"}"#),
            Some(Frame::Ping {
                twilio_state: None,
                bad_twilio_state: false
            })
        );
        assert_eq!(
            frame(r#"{"type":"ping","twilioState":"unregistered"}"#),
            Some(Frame::Ping {
                twilio_state: Some(TwilioState::Unregistered),
                bad_twilio_state: false
            })
        );
        assert_eq!(
            frame(r#"{"type":"ping","twilioState":"asleep"}"#),
            Some(Frame::Ping {
                twilio_state: None,
                bad_twilio_state: true
            })
        );
        for ignored in [
            "ping",
            "{}",
            r#"{"type":"pong"}"#,
            r#"{"type":7}"#,
            "[",
            "\u{0}",
        ] {
            assert_eq!(frame(ignored), None, "{ignored:?}");
        }
        for (live, bad) in [(true, false), (false, false), (true, true), (false, true)] {
            let answer: Value = serde_json::from_str(&pong(live, bad)).unwrap();
            assert_eq!(answer["type"], "pong");
            assert_eq!(answer.get("live").is_none(), live);
            assert_eq!(answer["error"]["field"] == "twilioState", bad);
        }
    }
}
