use super::policy::Occasion;
use super::*;

fn number(raw: &str) -> E164 {
    E164::parse_field(raw, "n").unwrap()
}

fn at(raw: &str) -> (Option<String>, LineType) {
    let d = classify(&number(raw));
    (d.region.map(|r| r.as_str().to_owned()), d.line)
}

fn region(code: &str) -> Region {
    Region::parse_field(code, "r").unwrap()
}

#[test]
fn numbers_that_share_a_calling_code_are_told_apart_by_region() {
    assert_eq!(at("+14155551234").0.as_deref(), Some("US"));
    assert_eq!(
        at("+14165550123").0.as_deref(),
        Some("CA"),
        "Toronto is +1 too"
    );
    assert_eq!(
        at("+18765551234").0.as_deref(),
        Some("JM"),
        "Jamaica is +1 876"
    );
    assert_eq!(
        at("+12423221234").0.as_deref(),
        Some("BS"),
        "the Bahamas are +1 242"
    );
    assert_eq!(at("+442079460000").0.as_deref(), Some("GB"));
    assert_eq!(at("+8613800138000").0.as_deref(), Some("CN"));
}

#[test]
fn line_types_come_from_the_metadata() {
    assert_eq!(
        at("+19005551234"),
        (Some("US".into()), LineType::PremiumRate)
    );
    assert_eq!(at("+18005551234"), (Some("US".into()), LineType::TollFree));
    assert_eq!(
        at("+33891234567"),
        (Some("FR".into()), LineType::PremiumRate)
    );
    assert_eq!(
        at("+499001234567"),
        (Some("DE".into()), LineType::PremiumRate)
    );
    assert_eq!(at("+442079460000").1, LineType::FixedLine);
    assert_eq!(at("+8613800138000").1, LineType::Mobile);
    assert_eq!(at("+14155551234").1, LineType::FixedLineOrMobile);
    assert!(LineType::PremiumRate.is_premium() && LineType::SharedCost.is_premium());
    assert!(!LineType::TollFree.is_premium());
}

#[test]
fn leading_zeros_of_the_national_number_count() {
    // phonenumber 0.3.10's own PhoneNumber drops them: these would be of no region or type.
    assert_eq!(
        at("+390612345678"),
        (Some("IT".into()), LineType::FixedLine)
    );
    assert_eq!(
        at("+390669812345").0.as_deref(),
        Some("VA"),
        "the Vatican is +39 06698"
    );
    assert_eq!(at("+2250712345678"), (Some("CI".into()), LineType::Mobile));
}

/// libphonenumber's own check: every example number of the metadata is of its type, and of its
/// region where its calling code has one region only (where several share a code, a number
/// goes to the one whose leading digits it has, else to the first whose patterns it fits, as
/// libphonenumber decides: `+1 800` is the United States' whichever region gives it as an
/// example).
#[test]
fn every_example_number_of_the_metadata_is_classified_as_its_type_and_region() {
    use phonenumber::metadata::DATABASE;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for meta in DATABASE.iter() {
        let d = meta.descriptors();
        let kinds = [
            (d.premium_rate(), LineType::PremiumRate),
            (d.shared_cost(), LineType::SharedCost),
            (d.toll_free(), LineType::TollFree),
            (d.mobile(), LineType::Mobile),
            (d.fixed_line(), LineType::FixedLine),
        ];
        let code = meta.country_code();
        let alone = DATABASE
            .region(&code)
            .is_some_and(|regions| regions.len() == 1);
        for (descriptor, expected) in kinds {
            let Some(national) = descriptor.and_then(|d| d.example()) else {
                continue;
            };
            let line = super::line_type(meta, national);
            let line_ok = line == expected
                || (line == LineType::FixedLineOrMobile
                    && matches!(expected, LineType::FixedLine | LineType::Mobile));
            let got = classify(&number(&format!("+{code}{national}")));
            let region_ok = !alone
                || match meta.id() {
                    "001" => got.region.is_none(),
                    id => got.region.as_ref().is_some_and(|r| r.as_str() == id),
                };
            checked += 1;
            if !(line_ok && region_ok) {
                wrong.push(format!(
                    "{} +{code}{national} {expected:?}: {line:?}, {got:?}",
                    meta.id()
                ));
            }
        }
    }
    assert!(checked > 800, "{checked} examples");
    assert!(wrong.is_empty(), "{} of {checked}: {wrong:#?}", wrong.len());
}

#[test]
fn numbers_of_no_country_have_no_region() {
    // Inmarsat (+870), Iridium-style satellite (+8816), and an unassigned UK drama range.
    for raw in ["+87012345678", "+881612345678", "+447700900123"] {
        assert_eq!(at(raw).0, None, "{raw}");
    }
}

#[test]
fn region_codes_are_checked_against_the_metadata() {
    assert_eq!(region("JM").as_str(), "JM");
    assert!(
        Region::parse_field("UK", "r")
            .unwrap_err()
            .message
            .contains("GB")
    );
    assert!(
        Region::parse_field("us", "r")
            .unwrap_err()
            .message
            .contains("upper case")
    );
    assert!(Region::parse_field("XX", "r").is_err());
    assert!(
        Region::parse_field("001", "r").is_err(),
        "no country is no region"
    );
}

#[test]
fn the_policy_refuses_other_regions_and_premium_lines_and_lets_replies_through() {
    let us = Policy::regions_of([&number("+14155550001")]);
    assert_eq!(us.allow_regions, [region("US")]);
    let check = |policy: &Policy, to: &str, occasion| {
        policy
            .check(&number(to), occasion, None)
            .map_err(|refusal| refusal.reason())
    };
    assert!(check(&us, "+12125550100", Occasion::Chosen).is_ok());
    assert_eq!(check(&us, "+18765551234", Occasion::Chosen), Err("region"));
    assert_eq!(check(&us, "+19005551234", Occasion::Chosen), Err("premium"));
    assert_eq!(check(&us, "+87012345678", Occasion::Chosen), Err("region"));
    // A reply reaches any region, but never a premium line.
    assert!(check(&us, "+18765551234", Occasion::Reply).is_ok());
    assert!(check(&us, "+442079460000", Occasion::Reply).is_ok());
    assert_eq!(check(&us, "+19005551234", Occasion::Reply), Err("premium"));
    assert_eq!(check(&us, "+33891234567", Occasion::Reply), Err("premium"));

    let wider = Policy {
        allow_regions: vec![region("US"), region("JM")],
        allow_premium: true,
    };
    assert!(check(&wider, "+18765551234", Occasion::Chosen).is_ok());
    assert!(check(&wider, "+19005551234", Occasion::Chosen).is_ok());
}

#[test]
fn the_operators_prefixes_narrow_every_policy() {
    let us = Policy::regions_of([&number("+14155550001")]);
    let prefixes = ["+1212".to_owned()];
    let check = |to: &str, occasion| us.check(&number(to), occasion, Some(&prefixes));
    assert!(check("+12125550100", Occasion::Chosen).is_ok());
    let refused = check("+14155550123", Occasion::Chosen).unwrap_err();
    assert_eq!(refused.reason(), "region");
    assert!(refused.explain().contains("OUTBOUND_ALLOWED_PREFIXES"));
    assert!(
        check("+442079460000", Occasion::Reply).is_err(),
        "replies too: the operator's limit is absolute"
    );
}
