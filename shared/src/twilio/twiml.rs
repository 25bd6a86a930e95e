//! TwiML documents. Every text and attribute value goes through [`escape`], so no caller can
//! produce malformed XML whatever a directory or a caller id holds.

use std::fmt::Write;

/// XML-escape `& < > " '` (and drop characters XML 1.0 cannot carry at all). Tab, line feed
/// and carriage return become character references: written raw, an XML parser turns them
/// into spaces inside attribute values and `\r` into `\n` in text, so the value Twilio reads
/// would differ from the one written.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// [`escape`], appended to `out`: the documents are written into one buffer, with no string
/// per attribute, and runs that need no escaping (nearly all text) are copied whole. It scans
/// bytes, not chars: everything it replaces is ASCII except U+FFFE and U+FFFF, whose UTF-8
/// forms (`EF BF BE`, `EF BF BF`) start with a byte no other position can hold.
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut copied_to = 0;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let (replacement, width) = match byte {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&apos;", 1),
            b'\t' => ("&#9;", 1),
            b'\n' => ("&#10;", 1),
            b'\r' => ("&#13;", 1),
            0..0x20 => ("", 1),
            0xEF if bytes.get(at + 1) == Some(&0xBF)
                && matches!(bytes.get(at + 2), Some(0xBE | 0xBF)) =>
            {
                ("", 3)
            }
            _ => {
                at += 1;
                continue;
            }
        };
        out.push_str(&text[copied_to..at]);
        out.push_str(replacement);
        at += width;
        copied_to = at;
    }
    out.push_str(&text[copied_to..]);
}

/// A `<Response>` built verb by verb.
#[derive(Debug, Default, Clone)]
pub struct Twiml {
    body: String,
}

/// One `<Client>` of a `<Dial>`.
#[derive(Debug, Clone)]
pub struct ClientNoun {
    pub identity: String,
    pub parameters: Vec<(&'static str, String)>,
    /// Where Twilio reports this leg's `answered` and `completed` events.
    pub status_callback: Option<String>,
}

/// One `<Number>` of a `<Dial>`: a phone on the public network.
#[derive(Debug, Clone)]
pub struct NumberNoun {
    pub number: String,
    pub status_callback: Option<String>,
}

#[derive(Debug, Clone)]
pub enum DialNoun {
    Client(ClientNoun),
    Number(NumberNoun),
}

#[derive(Debug, Clone)]
pub struct DialVerb {
    pub timeout_seconds: u32,
    pub action_url: String,
    pub caller_id: Option<String>,
    pub nouns: Vec<DialNoun>,
}

/// The call-progress events this service acts on: who is on a call, and when it ends.
const STATUS_CALLBACK_EVENTS: &str = "answered completed";

#[derive(Debug, Clone, Default)]
pub struct RecordVerb {
    pub max_length_seconds: Option<u32>,
    pub transcribe: bool,
    pub recording_status_callback: Option<String>,
    pub action_url: String,
}

impl Twiml {
    pub fn new() -> Self {
        Self::default()
    }

    /// `<tag>text</tag>`, the text escaped.
    fn element(&mut self, tag: &str, text: &str) {
        let body = &mut self.body;
        body.push('<');
        body.push_str(tag);
        body.push('>');
        escape_into(body, text);
        body.push_str("</");
        body.push_str(tag);
        body.push('>');
    }

    /// ` name="value"`, the value escaped.
    fn attribute(&mut self, name: &str, value: &str) {
        let body = &mut self.body;
        body.push(' ');
        body.push_str(name);
        body.push_str("=\"");
        escape_into(body, value);
        body.push('"');
    }

    pub fn say(mut self, text: &str) -> Self {
        self.element("Say", text);
        self
    }

    pub fn play(mut self, url: &str) -> Self {
        self.element("Play", url);
        self
    }

    pub fn hangup(mut self) -> Self {
        self.body.push_str("<Hangup/>");
        self
    }

    pub fn redirect(mut self, url: &str) -> Self {
        self.body.push_str("<Redirect method=\"POST\">");
        escape_into(&mut self.body, url);
        self.body.push_str("</Redirect>");
        self
    }

    pub fn connect_stream(mut self, url: &str) -> Self {
        self.body.push_str("<Connect><Stream");
        self.attribute("url", url);
        self.body.push_str("/></Connect>");
        self
    }

    /// `<Message to="…">body</Message>`: a text sent in reply to a Messaging webhook.
    pub fn message(mut self, to: &str, body: &str) -> Self {
        self.body.push_str("<Message");
        self.attribute("to", to);
        self.body.push('>');
        escape_into(&mut self.body, body);
        self.body.push_str("</Message>");
        self
    }

    pub fn record(mut self, record: &RecordVerb) -> Self {
        self.body.push_str("<Record");
        self.attribute("action", &record.action_url);
        self.body.push_str(" playBeep=\"true\"");
        if let Some(max) = record.max_length_seconds {
            let _ = write!(self.body, " maxLength=\"{max}\"");
        }
        if record.transcribe {
            self.body.push_str(" transcribe=\"true\"");
        }
        if let Some(url) = &record.recording_status_callback {
            self.attribute("recordingStatusCallback", url);
        }
        self.body.push_str("/>");
        self
    }

    pub fn dial(mut self, dial: &DialVerb) -> Self {
        // About what a `<Client>` with its parameters and callback takes: one allocation.
        self.body.reserve(128 + 320 * dial.nouns.len());
        let _ = write!(
            self.body,
            "<Dial answerOnBridge=\"true\" timeout=\"{}\"",
            dial.timeout_seconds.clamp(5, 600)
        );
        self.attribute("action", &dial.action_url);
        if let Some(caller_id) = &dial.caller_id {
            self.attribute("callerId", caller_id);
        }
        self.body.push('>');
        for noun in &dial.nouns {
            match noun {
                DialNoun::Client(client) => {
                    self.body.push_str("<Client");
                    self.status_callback(client.status_callback.as_deref());
                    self.body.push('>');
                    self.element("Identity", &client.identity);
                    for (name, value) in &client.parameters {
                        self.body.push_str("<Parameter");
                        self.attribute("name", name);
                        self.attribute("value", value);
                        self.body.push_str("/>");
                    }
                    self.body.push_str("</Client>");
                }
                DialNoun::Number(number) => {
                    self.body.push_str("<Number");
                    self.status_callback(number.status_callback.as_deref());
                    self.body.push('>');
                    escape_into(&mut self.body, &number.number);
                    self.body.push_str("</Number>");
                }
            }
        }
        self.body.push_str("</Dial>");
        self
    }

    fn status_callback(&mut self, url: Option<&str>) {
        if let Some(url) = url {
            self.attribute("statusCallbackEvent", STATUS_CALLBACK_EVENTS);
            self.attribute("statusCallback", url);
            self.body.push_str(" statusCallbackMethod=\"POST\"");
        }
    }

    pub fn render(&self) -> String {
        const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>";
        const TAIL: &str = "</Response>";
        let mut xml = String::with_capacity(HEAD.len() + self.body.len() + TAIL.len());
        xml.push_str(HEAD);
        xml.push_str(&self.body);
        xml.push_str(TAIL);
        xml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("bell\u{7}"), "bell");
    }

    #[test]
    fn drops_the_two_noncharacters_and_keeps_their_neighbours() {
        // U+FFFD shares the first two UTF-8 bytes of U+FFFE and U+FFFF and must survive.
        assert_eq!(
            escape("a\u{FFFE}b\u{FFFF}c\u{FFFD}d\u{EFBF}é\u{10FFFF}"),
            "abc\u{FFFD}d\u{EFBF}é\u{10FFFF}"
        );
    }

    #[test]
    fn renders_a_dial_like_the_protocol_example() {
        let xml = Twiml::new()
            .dial(&DialVerb {
                timeout_seconds: 25,
                action_url: "/phone/voice/dial-status".into(),
                caller_id: Some("+14155550100".into()),
                nouns: vec![DialNoun::Client(ClientNoun {
                    identity: "user_jane".into(),
                    parameters: vec![("timestamp", "1763683200000".into())],
                    status_callback: None,
                })],
            })
            .render();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial answerOnBridge=\"true\" \
             timeout=\"25\" action=\"/phone/voice/dial-status\" callerId=\"+14155550100\"><Client>\
             <Identity>user_jane</Identity><Parameter name=\"timestamp\" value=\"1763683200000\"/>\
             </Client></Dial></Response>"
        );
    }

    #[test]
    fn dialled_legs_report_progress_to_the_status_callback() {
        let xml = Twiml::new()
            .dial(&DialVerb {
                timeout_seconds: 30,
                action_url: "https://x.io/dial-status".into(),
                caller_id: Some("+14155550001".into()),
                nouns: vec![DialNoun::Number(NumberNoun {
                    number: "+442071234567".into(),
                    status_callback: Some("https://x.io/call-status?org=o&identity=a".into()),
                })],
            })
            .render();
        assert!(
            xml.contains(
                "<Number statusCallbackEvent=\"answered completed\" \
             statusCallback=\"https://x.io/call-status?org=o&amp;identity=a\" \
             statusCallbackMethod=\"POST\">+442071234567</Number>"
            ),
            "{xml}"
        );
    }
}
