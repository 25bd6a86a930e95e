//! Where a phone number is and what kind of line it is, from libphonenumber's metadata (the
//! `phonenumber` crate), not from a hand-kept prefix list: `+1 876` is Jamaica although it
//! shares `+1` with the United States, and `+1 900` is a premium-rate line. [`policy`] decides
//! from that whether a user may call or text the number.

pub mod policy;

use std::fmt;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
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
            Self::Unknown => "unknown",
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

/// The region and line type of `number`. The metadata is parsed on first use, by the first text
/// or outgoing call of a process (tens of milliseconds of CPU, docs/performance.md); a function
/// that never classifies (an incoming call) never pays it.
///
/// This reads the metadata itself, as libphonenumber does (`getRegionCodeForNumber`,
/// `getNumberType`), rather than through `phonenumber::parse`: the crate's `PhoneNumber` drops
/// a national number's leading zeros before matching, so Italy's fixed lines (`+39 06…`) would
/// be of no region and Côte d'Ivoire's mobiles (`+225 07…`) of no type. An E.164 number's
/// digits after its calling code are the national significant number, zeros included.
pub fn classify(number: &E164) -> Destination {
    let unknown = Destination {
        region: None,
        line: LineType::Unknown,
    };
    let digits = &number.as_str()[1..];
    // Calling codes are one to three digits and prefix-free: the first that exists is it.
    let found = (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        Some((code, DATABASE.region(&code)?, &digits[len..]))
    });
    let Some((code, regions, national)) = found else {
        return unknown;
    };
    if regions == ["001"] {
        // A calling code of no country (+800, +870, +882, …): its own metadata, no region.
        let line = DATABASE
            .by_code(&code)
            .and_then(|all| all.first().map(|meta| line_type(meta, national)))
            .unwrap_or(LineType::Unknown);
        return Destination { region: None, line };
    }
    // The region whose leading digits the number starts with, else whose patterns it fits.
    let chosen = regions.iter().find_map(|id| {
        let meta = DATABASE.by_id(*id)?;
        let fits = match meta.leading_digits() {
            Some(leading) => leading.find(national).is_some_and(|m| m.start() == 0),
            None => line_type(meta, national) != LineType::Unknown,
        };
        fits.then_some((*id, meta))
    });
    match chosen {
        Some((id, meta)) => Destination {
            region: Some(Region(id.to_owned())),
            line: line_type(meta, national),
        },
        None => unknown,
    }
}

/// libphonenumber's order: the first special type whose pattern matches, then fixed line and
/// mobile (both, or a region whose two patterns are one: `FixedLineOrMobile`).
fn line_type(meta: &Metadata, national: &str) -> LineType {
    let d = meta.descriptors();
    if !d.general().is_match(national) {
        return LineType::Unknown;
    }
    let fits = |desc: Option<&Descriptor>| desc.is_some_and(|desc| desc.is_match(national));
    let special = [
        (d.premium_rate(), LineType::PremiumRate),
        (d.toll_free(), LineType::TollFree),
        (d.shared_cost(), LineType::SharedCost),
        (d.voip(), LineType::Voip),
        (d.personal_number(), LineType::PersonalNumber),
        (d.pager(), LineType::Pager),
        (d.uan(), LineType::Uan),
        (d.voicemail(), LineType::Voicemail),
    ];
    if let Some((_, line)) = special.into_iter().find(|(desc, _)| fits(*desc)) {
        return line;
    }
    let same_patterns = match (d.fixed_line(), d.mobile()) {
        (Some(fixed), Some(mobile)) => {
            fixed.national_number().as_str() == mobile.national_number().as_str()
        }
        (None, None) => true,
        _ => false,
    };
    match (fits(d.fixed_line()), fits(d.mobile())) {
        (true, true) => LineType::FixedLineOrMobile,
        (true, false) if same_patterns => LineType::FixedLineOrMobile,
        (true, false) => LineType::FixedLine,
        (false, true) => LineType::Mobile,
        (false, false) => LineType::Unknown,
    }
}

#[cfg(test)]
mod tests;
