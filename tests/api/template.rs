//! template.yaml against the key schema in `shared/src/store/dynamo/keys.rs`: the table's key
//! and TTL attributes, and every partition an IAM condition (`dynamodb:LeadingKeys`) names, are
//! the ones the store writes. A renamed prefix that the template still grants fails here, not
//! as an AccessDenied in production.

use shared::store::dynamo::keys::{PARTITIONS, PK, SK, TTL_ATTRIBUTE, WARMUP_KEY};

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The values of every `dynamodb:LeadingKeys: [...]` list in the template.
fn leading_keys() -> Vec<String> {
    TEMPLATE
        .lines()
        .filter_map(|line| line.trim().strip_prefix("dynamodb:LeadingKeys:"))
        .flat_map(|list| {
            list.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|v| v.trim().trim_matches('"').to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn template_keys_match_the_key_schema() {
    for (attribute, role) in [(PK, "HASH"), (SK, "RANGE")] {
        let declared = format!("{{ AttributeName: {attribute}, KeyType: {role} }}");
        assert!(
            TEMPLATE.contains(&declared),
            "the table's {role} key is {attribute}"
        );
    }
    let ttl = TEMPLATE
        .split("TimeToLiveSpecification:")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .map(str::trim);
    assert_eq!(
        ttl,
        Some(format!("AttributeName: {TTL_ATTRIBUTE}").as_str())
    );

    let keys = leading_keys();
    assert!(
        keys.len() >= 6,
        "one condition per function at least: {keys:?}"
    );
    for key in &keys {
        let known = match key.strip_suffix('*') {
            Some(prefix) => PARTITIONS.contains(&prefix) && prefix.ends_with(':'),
            None => PARTITIONS.contains(&key.as_str()),
        };
        assert!(
            known,
            "the template grants {key:?}, which no item of keys.rs uses"
        );
    }
    assert!(
        keys.iter().any(|k| k == WARMUP_KEY),
        "the warm-up read is granted"
    );
}
