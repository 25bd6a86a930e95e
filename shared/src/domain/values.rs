//! Emails, org ids and E.164 numbers: the names of people, tenants and lines.

use serde::{Deserialize, Serialize};

use super::FieldError;

/// A lower-cased email address. The check is deliberately loose (one `@`, both sides
/// non-empty, printable ASCII, no spaces): the app's sign-in already decided who the user is;
/// this only guards the identity encoding and the storage keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

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
}

/// A tenant id. `:` is excluded because it separates the parts of storage keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgId(String);

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
}

/// An E.164 phone number: `+`, then 2-15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

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
}

string_value!(Email, parsed as "email");
string_value!(OrgId, parsed as "orgId");
string_value!(E164, parsed as "phoneNumber");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_checked() {
        assert!(E164::parse_field("+14155551234", "n").is_ok());
        assert!(E164::parse_field("14155551234", "n").is_err());
        assert!(E164::parse_field("+0415", "n").is_err());
        assert!(E164::parse_field("+1415555123456789", "n").is_err());
    }
}
