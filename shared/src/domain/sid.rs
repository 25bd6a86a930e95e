//! Twilio's resource identifiers. A SID is two upper-case letters naming what it identifies
//! and 32 lower-case hex digits; nothing else is one. Every SID that comes in (a webhook's
//! parameters, an app request's body, query or path, Twilio's own answers) is parsed into a
//! [`Sid`] of the kind expected before it is stored, looked up or put into a URL, so a value
//! such as `RE../../Accounts/…` (the right prefix and length) never gets that far.

use std::fmt;
use std::marker::PhantomData;

use super::FieldError;

/// What a SID identifies: the prefixes a SID of it may have.
pub trait SidKind {
    const PREFIXES: &'static [&'static str];
}

macro_rules! sid_kind {
    ($(#[$doc:meta])* $kind:ident, $alias:ident, [$($prefix:literal),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $kind {}

        impl SidKind for $kind {
            const PREFIXES: &'static [&'static str] = &[$($prefix),+];
        }

        $(#[$doc])*
        pub type $alias = Sid<$kind>;
    };
}

sid_kind!(
    /// A call (`CA…`).
    Call, CallSid, ["CA"]
);
sid_kind!(
    /// A text (`SM…`) or a text with media (`MM…`).
    Message, MessageSid, ["SM", "MM"]
);
sid_kind!(
    /// A recording (`RE…`).
    Recording, RecordingSid, ["RE"]
);
sid_kind!(
    /// A media file of a message (`ME…`).
    Media, MediaSid, ["ME"]
);
sid_kind!(
    /// An account (`AC…`).
    Account, AccountSid, ["AC"]
);

/// The 32 hex digits after the two-letter prefix.
const DIGITS: usize = 32;

/// A SID of kind `K`: one of its prefixes and 32 lower-case hex digits, nothing else.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Sid<K> {
    value: String,
    kind: PhantomData<K>,
}

impl<K: SidKind> Sid<K> {
    /// `raw` if it is a SID of this kind.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::is_valid(raw).then(|| Self {
            value: raw.to_owned(),
            kind: PhantomData,
        })
    }

    /// Whether `raw` is a SID of this kind.
    pub fn is_valid(raw: &str) -> bool {
        raw.split_at_checked(2).is_some_and(|(prefix, digits)| {
            K::PREFIXES.contains(&prefix)
                && digits.len() == DIGITS
                && digits
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
    }

    /// [`Self::parse`], or an error naming `field` and the shape it must have.
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        Self::parse(raw).ok_or_else(|| FieldError::new(field, Self::shape()))
    }

    /// `must be CA and 32 lower-case hex digits` (`SM or MM` for a message).
    pub fn shape() -> String {
        format!(
            "must be {} and {DIGITS} lower-case hex digits",
            K::PREFIXES.join(" or ")
        )
    }
}

impl<K> Sid<K> {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl<K> fmt::Display for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<K> fmt::Debug for Sid<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.value)
    }
}

impl<K> From<Sid<K>> for String {
    fn from(sid: Sid<K>) -> String {
        sid.value
    }
}

impl<K> PartialEq<str> for Sid<K> {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sid_is_its_prefix_and_32_lower_case_hex_digits() {
        assert!(CallSid::parse(&format!("CA{HEX}")).is_some());
        assert!(MessageSid::parse(&format!("SM{HEX}")).is_some());
        assert!(MessageSid::parse(&format!("MM{HEX}")).is_some());
        assert!(RecordingSid::parse(&format!("RE{HEX}")).is_some());
        assert!(MediaSid::parse(&format!("ME{HEX}")).is_some());
        assert!(AccountSid::parse(&format!("AC{HEX}")).is_some());
    }

    #[test]
    fn anything_else_is_refused() {
        let upper = format!("CA{}", HEX.to_uppercase());
        let traversal = format!("RE../../{}", &HEX[..26]);
        assert_eq!(traversal.len(), 34, "the length the old check asked for");
        for (raw, why) in [
            (format!("RE{HEX}"), "another kind"),
            (format!("ca{HEX}"), "a lower-case prefix"),
            (upper, "upper-case digits"),
            (format!("CA{}", &HEX[1..]), "31 digits"),
            (format!("CA{HEX}0"), "33 digits"),
            (format!("CA{}g", &HEX[1..]), "not hex"),
            (format!("CA{}/", &HEX[1..]), "a separator"),
            (format!("CA{}%2f", &HEX[3..]), "an encoded separator"),
            (format!("CA{}\\", &HEX[1..]), "a backslash"),
            (format!("CA{}é", &HEX[2..]), "a multi-byte character"),
            ("é".to_owned(), "a character split by the prefix"),
            (String::new(), "nothing"),
            ("CA".to_owned(), "a prefix alone"),
        ] {
            assert!(CallSid::parse(&raw).is_none(), "{why}: {raw}");
        }
        assert!(RecordingSid::parse(&traversal).is_none());
    }

    #[test]
    fn a_refusal_names_the_field_and_the_shape() {
        let error = MessageSid::parse_field("SMnot-a-sid", "messageSid").unwrap_err();
        assert_eq!(error.field, "messageSid");
        assert_eq!(
            error.message,
            "must be SM or MM and 32 lower-case hex digits"
        );
    }
}
