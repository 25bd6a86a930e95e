//! How a person of an org becomes a Twilio client identity, and the directory key it leads to.
//!
//! Twilio rings every registration of an identity on the account, and the account is shared
//! by every org of a deployment: an identity built from the email alone made one person of two
//! orgs ring in both, and call out with either org's numbers. So an identity names the org and
//! the person, and everything that reads one (webhooks, tickets, callback URLs) gets both back.

use serde::{Deserialize, Serialize};

use super::{Email, FieldError, OrgId, lower_hex};

/// How a person becomes a Twilio client identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdentityStyle {
    /// `u_` plus a reversible escape of the org id, `__`, and a reversible escape of the email,
    /// using only `[A-Za-z0-9_]`, the only characters every Twilio SDK accepts; a hash form
    /// (`u__h` and 64 hex digits) when that would pass Twilio's 121 characters.
    #[default]
    Safe,
    /// The seed design's literal `user:<email>`, for single-org deployments whose other
    /// systems already dial that identity: it cannot name the org, so a directory of more
    /// than one org is refused in this style. Mobile SDKs may reject it.
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

/// A Twilio client identity, derived from an org and a person's email and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identity(String);

impl TryFrom<String> for Identity {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse(&raw)
    }
}

impl From<Identity> for String {
    fn from(value: Identity) -> String {
        value.0
    }
}

/// Escape `raw` into `out` with only `[A-Za-z0-9_]`: every other byte becomes `_` and two
/// upper-case hex digits, so the output never holds `__` nor `_` before a lower-case letter:
/// the two separators below can never occur inside an escaped part.
fn escape_into(out: &mut String, raw: &str) {
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else {
            out.push('_');
            out.push_str(&format!("{b:02X}"));
        }
    }
}

fn unescape(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = part.get(i + 1..i + 3)?;
            if !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
            {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if bytes[i].is_ascii_alphanumeric() {
            out.push(bytes[i]);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

impl Identity {
    /// Twilio's documented maximum identity length.
    pub const MAX_LEN: usize = 121;
    const SAFE_PREFIX: &'static str = "u_";
    /// Between the escaped org and the escaped email (never inside either).
    const SEPARATOR: &'static str = "__";
    /// `u_` then `_h`: an escaped org never starts with `_h`, so hashed and escaped identities
    /// never collide.
    const HASH_PREFIX: &'static str = "u__h";
    const EMAIL_PREFIX: &'static str = "user:";

    pub fn for_person(
        org: &OrgId,
        email: &Email,
        style: IdentityStyle,
    ) -> Result<Self, FieldError> {
        match style {
            IdentityStyle::Safe => Ok(Self::safe(org, email)),
            IdentityStyle::Email => {
                let identity = format!("{}{}", Self::EMAIL_PREFIX, email.as_str());
                if identity.len() > Self::MAX_LEN {
                    return Err(FieldError::new(
                        "email",
                        format!(
                            "is too long for a Twilio identity in the user:<email> style \
                             (at most {} characters)",
                            Self::MAX_LEN - Self::EMAIL_PREFIX.len()
                        ),
                    ));
                }
                Ok(Self(identity))
            }
        }
    }

    fn safe(org: &OrgId, email: &Email) -> Self {
        let mut out = String::with_capacity(
            Self::SAFE_PREFIX.len() + (org.as_str().len() + email.as_str().len()) * 2 + 2,
        );
        out.push_str(Self::SAFE_PREFIX);
        escape_into(&mut out, org.as_str());
        out.push_str(Self::SEPARATOR);
        escape_into(&mut out, email.as_str());
        if out.len() > Self::MAX_LEN {
            // An org id never holds a newline, so "org\nemail" names one person only.
            let digest = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA256,
                format!("{}\n{}", org.as_str(), email.as_str()).as_bytes(),
            );
            return Self(format!(
                "{}{}",
                Self::HASH_PREFIX,
                lower_hex(digest.as_ref())
            ));
        }
        Self(out)
    }

    /// An identity as Twilio reports it back (`client:<identity>`, a callback URL, a ticket):
    /// one this service could have minted, in either style, and nothing else.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let well_formed = raw.len() <= Self::MAX_LEN
            && if let Some(hex) = raw.strip_prefix(Self::HASH_PREFIX) {
                hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            } else if raw.starts_with(Self::SAFE_PREFIX) {
                Self::split(raw).is_some()
            } else if let Some(email) = raw.strip_prefix(Self::EMAIL_PREFIX) {
                Email::parse_field(email, "identity").is_ok_and(|e| e.as_str() == email)
            } else {
                false
            };
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(FieldError::new(
                "identity",
                "is not an identity this service mints",
            ))
        }
    }

    /// The org and email an escaped identity names.
    fn split(raw: &str) -> Option<(OrgId, Email)> {
        let rest = raw.strip_prefix(Self::SAFE_PREFIX)?;
        let (org, email) = rest.split_once(Self::SEPARATOR)?;
        let org = OrgId::parse_field(&unescape(org)?, "identity").ok()?;
        let raw_email = unescape(email)?;
        let email = Email::parse_field(&raw_email, "identity").ok()?;
        // Only the one spelling this service writes: no second identity for the same person.
        (email.as_str() == raw_email && Self::safe(&org, &email).0 == raw).then_some((org, email))
    }

    /// The org this identity names, where it says (escaped identities); `None` for the hash
    /// form and the `user:<email>` style, whose org only the directory knows.
    pub fn org(&self) -> Option<OrgId> {
        Self::split(&self.0).map(|(org, _)| org)
    }

    /// Whether this identity may belong to `org`: an identity that names another org never
    /// does. (One that names none is settled by its directory profile.)
    pub fn may_belong_to(&self, org: &OrgId) -> bool {
        self.org().is_none_or(|named| &named == org)
    }

    /// How to show this identity when nothing better is known: the email it stands for, else
    /// the identity itself.
    pub fn display_email(&self) -> String {
        if let Some(email) = self.0.strip_prefix(Self::EMAIL_PREFIX) {
            return email.to_owned();
        }
        Self::split(&self.0).map_or_else(|| self.0.clone(), |(_, email)| email.to_string())
    }
}

/// The directory key of one person of one org: the lower-case hex SHA-256 of their identity.
/// Every identity leads to it without a lookup, so a Twilio `client:` identity resolves to its
/// person (org, numbers, voicemail) in one read, and two orgs' people never share one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserKey(String);

impl UserKey {
    pub fn for_identity(identity: &Identity) -> Self {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, identity.as_str().as_bytes());
        Self(lower_hex(digest.as_ref()))
    }

    /// A key as written into a URL by this service (64 lower-case hex digits).
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(raw.to_owned()))
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

    fn org(s: &str) -> OrgId {
        OrgId::parse_field(s, "orgId").unwrap()
    }

    fn safe(o: &str, e: &str) -> Identity {
        Identity::for_person(&org(o), &email(e), IdentityStyle::Safe).unwrap()
    }

    /// The directory key is the SHA-256 of the identity in lower-case hex, as `sha256sum`
    /// prints it (`printf 'user:alice@example.com' | sha256sum`).
    #[test]
    fn user_key_is_the_lower_hex_sha256_of_the_identity() {
        assert_eq!(
            UserKey::for_identity(&Identity::parse("user:alice@example.com").unwrap()).as_str(),
            "91c4651299d09f5a68f6a40c9649676cac882db3410ee64940c939150646308c"
        );
        assert_eq!(lower_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn the_same_email_in_two_orgs_gets_two_identities_and_two_keys() {
        let bars = safe("org_bars", "ann@example.com");
        let other = safe("org_other", "ann@example.com");
        assert_eq!(bars.as_str(), "u_org_5Fbars__ann_40example_2Ecom");
        assert_eq!(other.as_str(), "u_org_5Fother__ann_40example_2Ecom");
        assert_ne!(UserKey::for_identity(&bars), UserKey::for_identity(&other));
        assert_eq!(bars.org(), Some(org("org_bars")));
        assert!(bars.may_belong_to(&org("org_bars")));
        assert!(!bars.may_belong_to(&org("org_other")));
        assert_eq!(bars.display_email(), "ann@example.com");
    }

    #[test]
    fn safe_identity_uses_only_twilio_safe_characters_and_round_trips() {
        let id = safe("acme-eu.1", "Jane.Doe+sales@Example.com");
        assert_eq!(
            id.as_str(),
            "u_acme_2Deu_2E1__jane_2Edoe_2Bsales_40example_2Ecom"
        );
        assert!(
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        assert_eq!(Identity::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.org(), Some(org("acme-eu.1")));
        assert_eq!(id.display_email(), "jane.doe+sales@example.com");
    }

    #[test]
    fn orgs_and_emails_that_differ_only_in_punctuation_get_different_identities() {
        let ids = [
            safe("o", "a_b@x.io"),
            safe("o", "a.b@x.io"),
            safe("o", "a_5Fb@x.io"),
            safe("o_", "b@x.io"),
            safe("o", "_b@x.io"),
            safe("o_5F", "b@x.io"),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
            assert_eq!(Identity::parse(a.as_str()).as_ref(), Ok(a));
        }
    }

    #[test]
    fn long_people_fall_back_to_a_hash_within_121_characters() {
        let long = format!("{}@example.com", "a.".repeat(50));
        let id = safe("org_bars", &long);
        assert_eq!(id.as_str().len(), 68);
        assert!(id.as_str().starts_with("u__h"));
        assert!(
            id.as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        assert_ne!(id, safe("org_other", &long));
        assert_eq!(id.org(), None);
        assert!(
            id.may_belong_to(&org("org_other")),
            "only its profile can say"
        );
        assert_eq!(Identity::parse(id.as_str()), Ok(id));
    }

    #[test]
    fn parse_refuses_what_this_service_never_mints() {
        for raw in [
            "",
            "alice",
            "user_alice_40example_2Ecom", // the email-only style of earlier releases
            "u_org",                      // no person
            "u_o__",                      // no email
            "u__hnothex",
            "u_o__alice_40example_2ecom", // lower-case escape: a second spelling
            "u_o__Alice_40example_2Ecom", // upper-case email: a second spelling
            "u_o__a_40b_2Ec_",
            "user:not an email",
            "user:Alice@example.com",
        ] {
            assert!(Identity::parse(raw).is_err(), "{raw:?}");
        }
        assert!(Identity::parse(&format!("u__h{}", "a".repeat(64))).is_ok());
    }

    #[test]
    fn email_style_keeps_the_seed_format_and_refuses_overlong_emails() {
        let id = Identity::for_person(&org("o"), &email("Jane@Example.com"), IdentityStyle::Email)
            .unwrap();
        assert_eq!(id.as_str(), "user:jane@example.com");
        assert_eq!(Identity::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(id.org(), None);
        assert_eq!(id.display_email(), "jane@example.com");
        let long = format!("{}@example.com", "a".repeat(110));
        let err = Identity::for_person(&org("o"), &email(&long), IdentityStyle::Email).unwrap_err();
        assert_eq!(err.field, "email");
    }
}
