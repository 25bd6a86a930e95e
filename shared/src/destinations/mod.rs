//! Where a phone number is and what kind of line it is, from libphonenumber's metadata (the
//! `phonenumber` crate), not from a hand-kept prefix list: `+1 876` is Jamaica although it
//! shares `+1` with the United States, and `+1 900` is a premium-rate line. [`policy`] decides
//! from that whether a user may call or text the number.

pub mod policy;

use std::fmt;

use phonenumber::metadata::DATABASE;
use serde::{Deserialize, Serialize};

use crate::domain::{E164, FieldError};

pub use policy::{Occasion, Policy, Refusal};

/// A region as libphonenumber knows it: an ISO 3166-1 alpha-2 code (`US`, `CA`, `JM`, `GB`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Region(String);

impl Region {
    /// A region the metadata has numbers for; `001` (numbers of no country: satellite,
    /// international networks) is not one.
    pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
        let known = raw.len() == 2
            && raw.bytes().all(|b| b.is_ascii_uppercase())
            && DATABASE.by_id(raw).is_some();
        if known {
            return Ok(Self(raw.to_owned()));
        }
        let hint = match raw.to_ascii_uppercase().as_str() {
            "UK" => " (the United Kingdom is GB)".to_owned(),
            upper if upper != raw && DATABASE.by_id(upper).is_some() => {
                format!(" (codes are upper case: {upper})")
            }
            _ => String::new(),
        };
        Err(FieldError::new(
            field,
            format!(
                "unknown region {raw:?}{hint}: use ISO 3166 codes of regions with phone \
                 numbers, such as US, CA, GB"
            ),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Region {
    type Error = FieldError;
    fn try_from(raw: String) -> Result<Self, FieldError> {
        Self::parse_field(&raw, "region")
    }
}

impl From<Region> for String {
    fn from(region: Region) -> String {
        region.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of line a number is, as libphonenumber's patterns say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineType {
    FixedLine,
    Mobile,
    /// The region's numbers do not tell the two apart (the United States, Canada).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    /// The caller pays part of the cost, like a premium-rate line but less.
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    /// A company's one number (universal access number).
    Uan,
    Voicemail,
    /// Anything else the metadata names (short codes, emergency, carrier services).
    Other,
    /// Fits none of the region's patterns: not an assigned range.
    Unknown,
}

impl LineType {
    /// Lines whose caller pays more than a call or text to an ordinary number.
    pub fn is_premium(self) -> bool {
        matches!(self, Self::PremiumRate | Self::SharedCost)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FixedLine => "fixed_line",
            Self::Mobile => "mobile",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::Voip => "voip",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

impl From<phonenumber::Type> for LineType {
    fn from(kind: phonenumber::Type) -> Self {
        use phonenumber::Type as T;
        match kind {
            T::FixedLine => Self::FixedLine,
            T::Mobile => Self::Mobile,
            T::FixedLineOrMobile => Self::FixedLineOrMobile,
            T::TollFree => Self::TollFree,
            T::PremiumRate => Self::PremiumRate,
            T::SharedCost => Self::SharedCost,
            T::Voip => Self::Voip,
            T::PersonalNumber => Self::PersonalNumber,
            T::Pager => Self::Pager,
            T::Uan => Self::Uan,
            T::Voicemail => Self::Voicemail,
            T::Unknown => Self::Unknown,
            T::Emergency | T::ShortCode | T::StandardRate | T::Carrier | T::NoInternational => {
                Self::Other
            }
        }
    }
}

/// A number's region and line type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `None`: numbers of no country (`+800`, `+870` satellite, `+882`/`+883` international
    /// networks), or a number no region's patterns claim.
    pub region: Option<Region>,
    pub line: LineType,
}

/// The region and line type of `number`. The metadata is parsed on first use (a few
/// milliseconds; `warm` does it ahead of the first request).
pub fn classify(number: &E164) -> Destination {
    let Ok(parsed) = phonenumber::parse(None, number.as_str()) else {
        return Destination {
            region: None,
            line: LineType::Unknown,
        };
    };
    let region = parsed
        .metadata(&DATABASE)
        .map(|meta| meta.id())
        .filter(|id| *id != "001")
        .map(|id| Region(id.to_owned()));
    Destination {
        region,
        line: parsed.number_type(&DATABASE).into(),
    }
}

/// Parse the metadata now, so that the first request does not pay for it.
pub fn warm() {
    let _ = DATABASE.by_id("US");
}

#[cfg(test)]
mod tests;
