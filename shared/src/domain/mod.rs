//! Values that are valid by construction. Everything that crosses the edge (request bodies,
//! JWT claims, directory files) is parsed into these types first, so code past the edge never
//! re-checks a device id or an email.
//!
//! [`device`]: what a device reports about itself; [`values`]: emails, org ids and phone
//! numbers; [`identity`]: how an email becomes a Twilio client identity and a directory key;
//! [`sid`]: Twilio's resource identifiers; [`status`]: the availability a person sets.

/// What every string value shares: `as_str` and `Display`; and for values read from JSON,
/// `TryFrom<String>` through its parser (errors naming `$field`) and back into a `String`.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
    ($name:ident, parsed as $field:literal) => {
        string_value!($name);

        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(raw: String) -> Result<Self, FieldError> {
                Self::parse_field(&raw, $field)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

pub mod dates;
mod device;
mod identity;
mod push;
pub mod sid;
mod status;
mod values;

pub use dates::days_from_civil;
pub use device::{Capabilities, Capability, DeviceId, Label, Platform, Reachability, TwilioState};
pub use identity::{Identity, IdentityStyle, UserKey};
pub use push::{PushProvider, PushTarget};
pub use sid::{AccountSid, CallSid, MediaSid, MessageSid, RecordingSid, Sid};
pub use status::{
    Availability, MAX_NOTE_CHARS, MAX_SUBSCRIPTIONS, MAX_UNTIL_SECONDS, PersonStatus, Team,
};
pub use values::{E164, Email, OrgId};

/// A rejected input, naming the field so the client knows what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `bytes` as lower-case hex, two digits each. A table, not `write!("{b:02x}")` per byte: that
/// went through the formatting machinery 32 times for every user key, 3 % of a register.
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex
}

/// The caller as established by authentication: never taken from a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org: OrgId,
    pub email: Email,
    pub identity: Identity,
    /// An admin of `org` (the token carries the configured admin claim): may change its
    /// directory through the admin API.
    pub admin: bool,
}
