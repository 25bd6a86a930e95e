//! What a device reports about itself: its id, platform, label, capabilities and Twilio state;
//! and how a call can reach it.

use serde::{Deserialize, Serialize};

use super::FieldError;

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')
}

/// What the Twilio Voice SDK on a device says about its own registration with Twilio: whether
/// Twilio can actually reach the device, as opposed to whether the app is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TwilioState {
    Registered,
    Registering,
    Unregistered,
}

impl TwilioState {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "registered" => Ok(Self::Registered),
            "registering" => Ok(Self::Registering),
            "unregistered" => Ok(Self::Unregistered),
            _ => Err(FieldError::new(
                "twilioState",
                "must be \"registered\", \"registering\" or \"unregistered\"",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Registering => "registering",
            Self::Unregistered => "unregistered",
        }
    }
}

/// How a call reaches a live device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    /// Heard from within its foreground TTL: the app is open, or was moments ago.
    Online,
    /// Heard from longer ago, but its Twilio SDK is registered for push (a phone): Twilio's
    /// push wakes the app when a call comes in.
    Push,
}

impl Reachability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Push => "push",
        }
    }
}

/// A client-chosen device id: 1–128 of `[A-Za-z0-9._:-]`, persisted by the app.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.is_empty() || raw.len() > 128 || !raw.chars().all(is_id_char) {
            return Err(FieldError::new(
                "deviceId",
                "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Web,
    Ios,
    Android,
}

impl Platform {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "web" => Ok(Self::Web),
            "ios" => Ok(Self::Ios),
            "android" => Ok(Self::Android),
            _ => Err(FieldError::new(
                "platform",
                "must be one of \"web\", \"ios\", \"android\"",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Ios => "ios",
            Self::Android => "android",
        }
    }

    pub fn is_mobile(self) -> bool {
        !matches!(self, Self::Web)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capability {
    Voice,
    Sms,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Voice => "voice",
            Self::Sms => "sms",
        }
    }
}

/// A non-empty set of capabilities, kept sorted and without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    pub fn voice_only() -> Self {
        Self(vec![Capability::Voice])
    }

    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, FieldError> {
        let mut caps = Vec::with_capacity(raw.len());
        for item in raw {
            let cap = match item.as_ref() {
                "voice" => Capability::Voice,
                "sms" => Capability::Sms,
                _ => {
                    return Err(FieldError::new(
                        "capabilities",
                        "items must be \"voice\" or \"sms\"",
                    ));
                }
            };
            if !caps.contains(&cap) {
                caps.push(cap);
            }
        }
        if caps.is_empty() {
            return Err(FieldError::new(
                "capabilities",
                "must name at least one of \"voice\", \"sms\"",
            ));
        }
        caps.sort();
        Ok(Self(caps))
    }

    pub fn contains(&self, cap: Capability) -> bool {
        self.0.contains(&cap)
    }

    pub fn iter(&self) -> impl Iterator<Item = Capability> + '_ {
        self.0.iter().copied()
    }
}

/// An optional human label for a device ("Chrome on MacBook").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Label(String);

impl Label {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "label",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "label",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

string_value!(DeviceId);
string_value!(Label);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_checked() {
        assert!(DeviceId::parse("dev_a1b2c3").is_ok());
        assert!(DeviceId::parse("ios:ABCD-1234.x").is_ok());
        assert!(DeviceId::parse("").is_err());
        assert!(DeviceId::parse("has space").is_err());
        assert!(DeviceId::parse(&"x".repeat(129)).is_err());
        assert!(DeviceId::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn capabilities_are_a_non_empty_set() {
        assert_eq!(
            Capabilities::parse(&["sms", "voice", "sms"]).unwrap(),
            Capabilities::parse(&["voice", "sms"]).unwrap()
        );
        assert!(Capabilities::parse::<&str>(&[]).is_err());
        assert!(Capabilities::parse(&["video"]).is_err());
    }
}
