//! Values that are valid by construction. Everything that crosses the edge (request bodies,
//! JWT claims, directory files) is parsed into these types first, so code past the edge never
//! re-checks a device id or an email.

use std::fmt;

use serde::{Deserialize, Serialize};

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lower-cased email address. The check is deliberately loose (one `@`, both sides
/// non-empty, printable ASCII, no spaces): the app's sign-in already decided who the user is;
/// this only guards the identity encoding and the storage keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Email::parse_field(&raw, "email")
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

impl Email {
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        let lower = raw.trim().to_ascii_lowercase();
        let well_formed = (3..=254).contains(&lower.len())
            && lower.bytes().all(|b| b.is_ascii_graphic())
            && matches!(lower.split_once('@'), Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if !well_formed {
            return Err(FieldError::new(field, "must be an email address"));
        }
        Ok(Self(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant id. `:` is excluded because it separates the parts of storage keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

impl TryFrom<String> for OrgId {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        OrgId::parse_field(&raw, "orgId")
    }
}

impl From<OrgId> for String {
    fn from(value: OrgId) -> String {
        value.0
    }
}

impl OrgId {
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok {
            return Err(FieldError::new(
                field,
                "must be 1-64 characters of letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An E.164 phone number: `+`, then 2-15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

impl TryFrom<String> for E164 {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        E164::parse_field(&raw, "phoneNumber")
    }
}

impl From<E164> for String {
    fn from(value: E164) -> String {
        value.0
    }
}

impl E164 {
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        let ok = raw.strip_prefix('+').is_some_and(|digits| {
            (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if !ok {
            return Err(FieldError::new(
                field,
                "must be an E.164 number such as +14155551234",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a user's email becomes a Twilio client identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentityStyle {
    /// `user_` plus a reversible escape of the email that uses only `[A-Za-z0-9_]`, the only
    /// characters every Twilio SDK accepts.
    #[default]
    Safe,
    /// The seed design's literal `user:<email>`, for deployments whose other systems already
    /// dial that identity. Mobile SDKs may reject it.
    Email,
}

impl IdentityStyle {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "safe" => Some(Self::Safe),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

/// A Twilio client identity, derived from an email and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Identity(String);

impl Identity {
    /// Twilio's documented maximum identity length.
    pub const MAX_LEN: usize = 121;
    const SAFE_PREFIX: &'static str = "user_";
    /// The escape below only ever writes `_` followed by two upper-case hex digits, so `__h`
    /// can never occur in an escaped identity: hashed and escaped identities never collide.
    const HASH_PREFIX: &'static str = "user__h";

    pub fn for_email(email: &Email, style: IdentityStyle) -> Result<Self, FieldError> {
        match style {
            IdentityStyle::Safe => Ok(Self::safe(email)),
            IdentityStyle::Email => {
                let identity = format!("user:{}", email.as_str());
                if identity.len() > Self::MAX_LEN {
                    return Err(FieldError::new(
                        "email",
                        format!(
                            "is too long for a Twilio identity in the user:<email> style \
                             (at most {} characters)",
                            Self::MAX_LEN - 5
                        ),
                    ));
                }
                Ok(Self(identity))
            }
        }
    }

    fn safe(email: &Email) -> Self {
        let mut out = String::with_capacity(Self::SAFE_PREFIX.len() + email.as_str().len() * 2);
        out.push_str(Self::SAFE_PREFIX);
        for b in email.as_str().bytes() {
            if b.is_ascii_alphanumeric() {
                out.push(char::from(b));
            } else {
                out.push('_');
                out.push_str(&format!("{b:02X}"));
            }
        }
        if out.len() > Self::MAX_LEN {
            return Self(format!(
                "{}{}",
                Self::HASH_PREFIX,
                UserKey::for_email(email).0
            ));
        }
        Self(out)
    }

    /// An identity as Twilio reports it back (`client:<identity>`, a callback URL): any
    /// identity this service could have minted, in either style.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic())
            && (raw.starts_with(Self::SAFE_PREFIX) || raw.starts_with("user:"));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "identity",
                "is not an identity this service mints",
            ))
        }
    }

    /// The email an escaped identity stands for; `None` for hashed or foreign identities.
    pub fn decode_email(identity: &str) -> Option<String> {
        if let Some(rest) = identity.strip_prefix("user:") {
            return Some(rest.to_owned());
        }
        let rest = identity.strip_prefix(Self::SAFE_PREFIX)?;
        if identity.starts_with(Self::HASH_PREFIX) {
            return None;
        }
        let bytes = rest.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'_' {
                let hex = rest.get(i + 1..i + 3)?;
                if !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
                {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The directory key of one user: the lower-case hex SHA-256 of their email. Every identity
/// style leads to it without a lookup (the escape and `user:<email>` decode to the email, the
/// hash form carries it), so a Twilio `client:` identity resolves to its user in one read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserKey(String);

impl UserKey {
    pub fn for_email(email: &Email) -> Self {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, email.as_str().as_bytes());
        Self(lower_hex(digest.as_ref()))
    }

    /// A key as written into a URL by this service (64 lower-case hex digits).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(raw.to_owned()))
    }

    /// The user an identity of any style stands for; `None` for identities this service
    /// never mints.
    pub fn for_identity(identity: &str) -> Option<Self> {
        if let Some(hex) = identity.strip_prefix(Identity::HASH_PREFIX) {
            return Self::parse(hex);
        }
        let email = Identity::decode_email(identity)?;
        Email::parse_field(&email, "identity")
            .ok()
            .map(|e| Self::for_email(&e))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The caller as established by authentication: never taken from a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub org: OrgId,
    pub email: Email,
    pub identity: Identity,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse_field(s, "email").unwrap()
    }

    /// The directory key is the SHA-256 of the email in lower-case hex, as `sha256sum` prints
    /// it: keys already stored in DynamoDB must keep matching.
    #[test]
    fn user_key_is_the_lower_hex_sha256_of_the_email() {
        assert_eq!(
            UserKey::for_email(&email("alice@example.com")).as_str(),
            "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976"
        );
        assert_eq!(lower_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn safe_identity_uses_only_twilio_safe_characters_and_round_trips() {
        let e = email("Jane.Doe+sales@Example.com");
        let id = Identity::for_email(&e, IdentityStyle::Safe).unwrap();
        assert_eq!(id.as_str(), "user_jane_2Edoe_2Bsales_40example_2Ecom");
        assert!(
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        assert_eq!(
            Identity::decode_email(id.as_str()).as_deref(),
            Some("jane.doe+sales@example.com")
        );
    }

    #[test]
    fn emails_that_differ_only_in_punctuation_get_different_identities() {
        let a = Identity::for_email(&email("a_b@x.io"), IdentityStyle::Safe).unwrap();
        let b = Identity::for_email(&email("a.b@x.io"), IdentityStyle::Safe).unwrap();
        let c = Identity::for_email(&email("a_5Fb@x.io"), IdentityStyle::Safe).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn long_emails_fall_back_to_a_hash_within_121_characters() {
        let long = format!("{}@example.com", "a.".repeat(60));
        let id = Identity::for_email(&email(&long), IdentityStyle::Safe).unwrap();
        assert!(id.as_str().len() <= Identity::MAX_LEN);
        assert!(id.as_str().starts_with("user__h"));
        assert!(
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        let other = format!("{}@example.com", "b.".repeat(60));
        assert_ne!(
            id,
            Identity::for_email(&email(&other), IdentityStyle::Safe).unwrap()
        );
        assert_eq!(Identity::decode_email(id.as_str()), None);
    }

    #[test]
    fn every_identity_style_resolves_to_the_same_user_key() {
        let short = email("Jane.Doe+sales@Example.com");
        let long = email(&format!("{}@example.com", "a.".repeat(60)));
        for e in [&short, &long] {
            let want = UserKey::for_email(e);
            for style in [IdentityStyle::Safe, IdentityStyle::Email] {
                let Ok(id) = Identity::for_email(e, style) else {
                    continue; // the literal style refuses overlong emails
                };
                assert_eq!(
                    UserKey::for_identity(id.as_str()),
                    Some(want.clone()),
                    "{id}"
                );
            }
        }
        assert!(
            Identity::for_email(&long, IdentityStyle::Safe)
                .unwrap()
                .as_str()
                .starts_with("user__h")
        );
        assert_eq!(UserKey::for_identity("alice"), None);
        assert_eq!(UserKey::for_identity("user__hnothex"), None);
    }

    #[test]
    fn email_style_keeps_the_seed_format_and_refuses_overlong_emails() {
        let id = Identity::for_email(&email("Jane@Example.com"), IdentityStyle::Email).unwrap();
        assert_eq!(id.as_str(), "user:jane@example.com");
        let long = format!("{}@example.com", "a".repeat(110));
        let err = Identity::for_email(&email(&long), IdentityStyle::Email).unwrap_err();
        assert_eq!(err.field, "email");
    }

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

    #[test]
    fn e164_numbers_are_checked() {
        assert!(E164::parse_field("+14155551234", "n").is_ok());
        assert!(E164::parse_field("14155551234", "n").is_err());
        assert!(E164::parse_field("+0415", "n").is_err());
        assert!(E164::parse_field("+1415555123456789", "n").is_err());
    }
}
