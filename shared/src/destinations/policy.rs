//! Whether a user may call or text a number: the regions their org allows (by default the
//! regions of its own numbers), never a premium-rate or shared-cost line unless the org allows
//! those, and never outside the operator's `OUTBOUND_ALLOWED_PREFIXES` when that is set. A
//! reply to a conversation the other party started may go to any region, but not to a premium
//! line: a pumping scheme can text first.

use serde::{Deserialize, Serialize};

use super::{Destination, LineType, Region, classify};
use crate::domain::E164;

/// Where one user may call and text: their org's `outbound` settings, or its default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Regions calls and texts may reach.
    pub allow_regions: Vec<Region>,
    /// Premium-rate and shared-cost lines too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_premium: bool,
}

/// Why a number may not be called or texted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// In a region the org does not allow (or of no region), or outside the operator's
    /// `OUTBOUND_ALLOWED_PREFIXES`.
    Region {
        region: Option<Region>,
        by_prefixes: bool,
    },
    /// A premium-rate or shared-cost line, and the org does not allow those.
    Premium { line: LineType },
}

impl Refusal {
    /// The API's `reason`: `region` or `premium`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Region { .. } => "region",
            Self::Premium { .. } => "premium",
        }
    }

    /// What the user reads: which rule, and what the number is.
    pub fn explain(&self) -> String {
        match self {
            Self::Region {
                by_prefixes: true, ..
            } => "the number is outside the destinations this service allows \
                  (OUTBOUND_ALLOWED_PREFIXES)"
                .to_owned(),
            Self::Region {
                region: Some(region),
                ..
            } => {
                format!("{region} is not one of your org's allowed regions (outbound.allowRegions)")
            }
            Self::Region { region: None, .. } => {
                "the number belongs to no country (satellite or international network), or to no \
                 assigned range"
                    .to_owned()
            }
            Self::Premium { line } => format!(
                "the number is a {} line, which your org does not allow (outbound.allowPremium)",
                match line {
                    LineType::SharedCost => "shared-cost",
                    _ => "premium-rate",
                }
            ),
        }
    }
}

/// How the number came to be the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// The user chose it: a call, or a text that starts or continues their own conversation.
    Chosen,
    /// A reply in a conversation whose first message came from the number.
    Reply,
}

impl Policy {
    /// The number's region and line if this policy lets the user reach it, else why not.
    /// `prefixes`: `OUTBOUND_ALLOWED_PREFIXES`, the operator's limit over every org.
    pub fn check(
        &self,
        number: &E164,
        occasion: Occasion,
        prefixes: Option<&[String]>,
    ) -> Result<Destination, Refusal> {
        let destination = classify(number);
        if destination.line.is_premium() && !self.allow_premium {
            return Err(Refusal::Premium {
                line: destination.line,
            });
        }
        let in_prefixes = |prefixes: &[String]| {
            prefixes
                .iter()
                .any(|p| number.as_str().starts_with(p.as_str()))
        };
        if prefixes.is_some_and(|p| !in_prefixes(p)) {
            return Err(Refusal::Region {
                region: destination.region,
                by_prefixes: true,
            });
        }
        let allowed = destination
            .region
            .as_ref()
            .is_some_and(|r| self.allow_regions.contains(r));
        if !allowed && occasion != Occasion::Reply {
            return Err(Refusal::Region {
                region: destination.region,
                by_prefixes: false,
            });
        }
        Ok(destination)
    }

    /// The default: the regions of the org's own numbers, no premium lines.
    pub fn regions_of<'a>(numbers: impl IntoIterator<Item = &'a E164>) -> Self {
        let mut allow_regions: Vec<Region> = numbers
            .into_iter()
            .filter_map(|n| classify(n).region)
            .collect();
        allow_regions.sort();
        allow_regions.dedup();
        Self {
            allow_regions,
            allow_premium: false,
        }
    }
}
