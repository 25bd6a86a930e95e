//! The realtime channel's protocol, the same on API Gateway and on the local server: the
//! subprotocol a client offers with its ticket, the limits API Gateway imposes, and the
//! frames a client may send.

use serde_json::Value;

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

/// The answer to a text frame from a client: `{"type":"pong"}` for a ping; nothing for
/// anything else, which is ignored (not JSON, or a type this version does not know).
pub fn answer(frame: &str) -> Option<&'static str> {
    let value: Value = serde_json::from_str(frame).ok()?;
    (value.get("type")?.as_str()? == "ping").then_some(r#"{"type":"pong"}"#)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn only_a_ping_is_answered() {
        assert_eq!(answer(r#"{"type":"ping"}"#), Some(r#"{"type":"pong"}"#));
        for ignored in [
            "ping",
            "{}",
            r#"{"type":"pong"}"#,
            r#"{"type":7}"#,
            "[",
            "\u{0}",
        ] {
            assert_eq!(answer(ignored), None, "{ignored:?}");
        }
    }
}
