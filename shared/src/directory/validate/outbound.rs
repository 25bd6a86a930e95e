//! An org's `outbound` settings: which regions its users may call and text, and whether
//! premium-rate and shared-cost numbers too.

use serde_json::{Map, Value};

use super::Validator;
use crate::destinations::Region;
use crate::directory::Outbound;

impl Validator {
    pub(super) fn outbound(&mut self, org: &Map<String, Value>, path: &str) -> Outbound {
        let Some(value) = org.get("outbound") else {
            return Outbound::default();
        };
        let path = format!("{path}.outbound");
        let Some(obj) = self.object(value, &path, &["allowRegions", "allowPremium"]) else {
            return Outbound::default();
        };
        let allow_regions = obj.get("allowRegions").map(|regions| {
            let Some(items) = regions.as_array() else {
                self.problem(
                    &format!("{path}.allowRegions"),
                    "must be an array of region codes such as [\"US\", \"CA\"]",
                );
                return Vec::new();
            };
            let mut allowed: Vec<Region> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}.allowRegions[{i}]");
                let Some(raw) = item.as_str() else {
                    self.problem(&item_path, "must be a string");
                    continue;
                };
                match Region::parse_field(raw, "allowRegions") {
                    Ok(region) if allowed.contains(&region) => {
                        self.problem(&item_path, format!("duplicate region {raw}"));
                    }
                    Ok(region) => allowed.push(region),
                    Err(e) => self.problem(&item_path, e.message),
                }
            }
            allowed
        });
        Outbound {
            allow_regions,
            allow_premium: self.boolean(obj, "allowPremium", &path, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::directory::Directory;

    const PHONE: &str =
        r#"{"id":"p","phoneNumber":"+14155550001","friendlyName":"A","userEmail":"a@x.io"}"#;

    fn org(outbound: &str) -> String {
        format!(r#"{{"orgs":[{{"orgId":"o","phones":[{PHONE}],"outbound":{outbound}}}]}}"#)
    }

    #[test]
    fn outbound_regions_are_named_by_the_field_that_holds_them() {
        let err = Directory::parse(&org(
            r#"{"allowRegions":["US","UK","XX","us","US",7],"allowPremium":"yes","allow":1}"#,
        ))
        .unwrap_err();
        let found: Vec<(String, String)> = err
            .0
            .iter()
            .map(|p| (p.path.clone(), p.message.clone()))
            .collect();
        let at = |path: &str| {
            found
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| panic!("no problem at {path} in {found:?}"))
        };
        assert!(
            at("orgs[0].outbound.allowRegions[1]").contains("GB"),
            "UK is GB"
        );
        assert!(at("orgs[0].outbound.allowRegions[2]").contains("unknown region \"XX\""));
        assert!(at("orgs[0].outbound.allowRegions[3]").contains("upper case: US"));
        assert!(at("orgs[0].outbound.allowRegions[4]").contains("duplicate"));
        assert!(at("orgs[0].outbound.allowRegions[5]").contains("string"));
        at("orgs[0].outbound.allowPremium");
        at("orgs[0].outbound.allow");
        assert_eq!(found.len(), 7, "{found:?}");
    }

    #[test]
    fn outbound_settings_default_to_the_regions_of_the_orgs_numbers_and_export_unchanged() {
        let plain = Directory::parse(&format!(
            r#"{{"orgs":[{{"orgId":"o","phones":[{PHONE}]}}]}}"#
        ))
        .unwrap();
        let policy = plain.orgs[0].outbound_policy();
        let regions: Vec<&str> = policy.allow_regions.iter().map(|r| r.as_str()).collect();
        assert_eq!(regions, ["US"]);
        assert!(!policy.allow_premium);
        assert!(
            !plain.to_json_pretty().contains("outbound"),
            "defaults stay out"
        );

        let wider =
            Directory::parse(&org(r#"{"allowRegions":["US","JM"],"allowPremium":true}"#)).unwrap();
        let policy = wider.orgs[0].outbound_policy();
        let regions: Vec<&str> = policy.allow_regions.iter().map(|r| r.as_str()).collect();
        assert_eq!(regions, ["US", "JM"]);
        assert!(policy.allow_premium);
        assert_eq!(Directory::parse(&wider.to_json_pretty()).unwrap(), wider);
        let profile = &wider.orgs[0].user_profiles(crate::domain::IdentityStyle::Safe)[0];
        assert_eq!(profile.outbound, policy, "each user's profile carries it");
    }
}
