//! Opt-out and opt-in keywords: a text that is exactly one of them (any case, surrounding
//! spaces ignored) changes whether the sender may be texted from that number. Twilio handles
//! them itself on long codes and toll-free numbers (later sends fail with 21610); the service
//! records them so the inbox shows it and refuses the send before Twilio does.

/// What an inbound text does to its sender's opt-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptChange {
    OptOut,
    OptIn,
}

const OPT_OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN: [&str; 3] = ["START", "YES", "UNSTOP"];

/// The change `body` makes, or `OptOutType` (Advanced Opt-Out) when Twilio sent one.
pub fn opt_change(body: &str, opt_out_type: Option<&str>) -> Option<OptChange> {
    match opt_out_type.map(str::to_ascii_uppercase).as_deref() {
        Some("STOP") => return Some(OptChange::OptOut),
        Some("START") => return Some(OptChange::OptIn),
        _ => {}
    }
    let word = body.trim().to_ascii_uppercase();
    if OPT_OUT.contains(&word.as_str()) {
        Some(OptChange::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(OptChange::OptIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_body_that_is_exactly_a_keyword_counts() {
        for word in [
            "STOP",
            "stop",
            " Stop ",
            "unsubscribe",
            "QUIT",
            "end",
            "StopAll",
        ] {
            assert_eq!(opt_change(word, None), Some(OptChange::OptOut), "{word}");
        }
        for word in ["START", "yes", "unstop"] {
            assert_eq!(opt_change(word, None), Some(OptChange::OptIn), "{word}");
        }
        for body in ["please stop", "STOP!", "stop it", "", "HELP"] {
            assert_eq!(opt_change(body, None), None, "{body}");
        }
    }

    #[test]
    fn advanced_opt_out_type_wins() {
        assert_eq!(opt_change("arrêtez", Some("STOP")), Some(OptChange::OptOut));
        assert_eq!(opt_change("STOP", Some("START")), Some(OptChange::OptIn));
        assert_eq!(opt_change("hello", Some("HELP")), None);
    }
}
