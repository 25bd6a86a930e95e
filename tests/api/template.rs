//! template.yaml against the code: the table's key and TTL attributes, and every partition an
//! IAM condition (`dynamodb:LeadingKeys`) names, are the ones the store writes
//! (`shared/src/store/dynamo/keys.rs`), so a renamed prefix that the template still grants fails
//! here, not as an AccessDenied in production; and the fallback alarm's metric filter matches the
//! log line the webhook layer writes when the store fails.

use std::sync::Arc;

use serde_json::Value;
use shared::app::Core;
use shared::config::{Config, Needs};
use shared::directory::Directory;
use shared::http::endpoints::VoiceWebhooks;
use shared::http::{Endpoint, Route, handle};
use shared::store::dynamo::keys::{PARTITIONS, PK, SK, TTL_ATTRIBUTE, WARMUP_KEY};
use shared::store::memory::MemoryStore;
use shared::store::{DirectoryStore, PresenceStore};
use shared::telemetry::{Captured, Format};
use shared::twilio::signature::sign;

use crate::helpers::{AUTH_TOKEN, DEMO_DIRECTORY, FaultyPresence, test_env};
use crate::webhooks::{SALES, call_params};

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

/// The `FilterPattern` of the metric filter named `resource`: a conjunction of
/// `($.field = "value")` terms, as (field, value).
fn filter_terms(resource: &str) -> Vec<(String, String)> {
    let section = TEMPLATE
        .split(&format!("\n  {resource}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {resource} in the template"));
    let pattern = section
        .lines()
        .find_map(|line| line.trim().strip_prefix("FilterPattern: "))
        .expect("a FilterPattern")
        .trim_matches('\'');
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .expect("a JSON filter pattern");
    inner
        .split("&&")
        .map(|term| {
            let term = term.trim().trim_start_matches('(').trim_end_matches(')');
            let (field, value) = term.split_once(" = ").expect("field = value");
            let field = field.trim().strip_prefix("$.").expect("a $. field");
            (field.to_owned(), value.trim().trim_matches('"').to_owned())
        })
        .collect()
}

/// The JSON log lines `request` produces on the webhooks function over `presence`, as the
/// Lambda functions write them.
async fn log_lines(presence: Arc<dyn PresenceStore>, params: &[(String, String)]) -> Vec<Value> {
    let env = test_env(&[]);
    let needs = Needs {
        webhooks: true,
        ..Needs::default()
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).unwrap();
    let directory = Arc::new(MemoryStore::new());
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    directory.import(&demo).await.unwrap();
    let stores = shared::app::Stores {
        presence,
        directory: directory.clone(),
        events: directory.clone(),
        messages: directory,
    };
    let webhooks = VoiceWebhooks::build(Core::new(config.presence, stores), &config).unwrap();
    let url = "https://voice.example.com/phone/voice/incoming";
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let request = http::Request::post("/phone/voice/incoming")
        .header("host", "voice.example.com")
        .header("x-forwarded-proto", "https")
        .header("x-twilio-signature", sign(AUTH_TOKEN, url, params))
        .body(bytes::Bytes::from(body))
        .unwrap();
    let buffer = Captured::default();
    let writer = buffer.clone();
    let subscriber = shared::telemetry::subscriber(Format::Json, move || writer.clone(), false);
    let _guard = tracing::subscriber::set_default(subscriber);
    let response = handle(&webhooks, Route::VoiceIncoming, request).await;
    assert_eq!(response.status(), 200);
    let text = buffer.text();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn matches(line: &Value, terms: &[(String, String)]) -> bool {
    terms
        .iter()
        .all(|(field, value)| line[field].as_str() == Some(value))
}

/// The fallback alarm counts exactly the requests answered by a fallback because the store
/// failed: its filter matches that line of the webhook layer, and not a call that rang.
#[tokio::test(flavor = "current_thread")]
async fn the_fallback_alarms_filter_matches_the_webhooks_store_failure_line() {
    let terms = filter_terms("WebhookFallbackMetricFilter");
    let params = call_params(SALES);
    let failed = log_lines(Arc::new(FaultyPresence::Unavailable), &params).await;
    assert_eq!(
        failed.iter().filter(|l| matches(l, &terms)).count(),
        1,
        "{terms:?} in {failed:?}"
    );
    let healthy = log_lines(Arc::new(MemoryStore::new()), &params).await;
    assert!(
        healthy.iter().any(|l| l["message"] == "request"),
        "{healthy:?}"
    );
    assert!(
        !healthy.iter().any(|l| matches(l, &terms)),
        "{terms:?} in {healthy:?}"
    );
}
