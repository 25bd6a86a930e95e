//! How a user's email becomes a Twilio client identity, and the directory key both lead to.

use serde::Serialize;

use super::{Email, FieldError, lower_hex};

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
}

string_value!(Identity);
string_value!(UserKey);

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
}
