//! template.yaml against the code: the table's key and TTL attributes, and every partition an
//! IAM condition (`dynamodb:LeadingKeys`) names, are the ones the store writes
//! (`shared/src/store/dynamo/keys.rs`), so a renamed prefix that the template still grants fails
//! here, not as an AccessDenied in production; and the fallback alarm's metric filters match the
//! log lines the webhook layer writes when the store fails, for calls and for texts.

use std::sync::Arc;

use serde_json::Value;
use shared::app::Core;
use shared::config::{Config, Needs};
use shared::directory::Directory;
use shared::http::endpoints::Webhooks;
use shared::http::{Endpoint, Route, handle};
use shared::store::dynamo::keys::{PARTITIONS, PK, SK, TTL_ATTRIBUTE, WARMUP_KEY};
use shared::store::memory::MemoryStore;
use shared::store::{DirectoryStore, StoreName};
use shared::telemetry::{Captured, Format};
use shared::twilio::signature::sign;

use crate::helpers::{AUTH_TOKEN, DEMO_DIRECTORY, failing, test_env};
use crate::sms::{CUSTOMER, message_sid, sms_params};
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

/// The first value of the property `name` in the template's resource `resource`, as written.
fn property(resource: &str, name: &str) -> &'static str {
    let section = TEMPLATE
        .split(&format!("\n  {resource}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {resource} in the template"));
    section
        .lines()
        .find_map(|line| line.trim().strip_prefix(name)?.strip_prefix(": "))
        .unwrap_or_else(|| panic!("no {name} in {resource}"))
}

/// The `FilterPattern` of the metric filter named `resource`: a conjunction of
/// `($.field = "value")` terms, as (field, value).
fn filter_terms(resource: &str) -> Vec<(String, String)> {
    let pattern = property(resource, "FilterPattern").trim_matches('\'');
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

/// The demo directory in a memory store: every store of the webhooks function.
async fn demo_stores() -> shared::app::Stores {
    let memory = Arc::new(MemoryStore::new());
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    memory
        .import(&demo, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    shared::app::Stores {
        presence: memory.clone(),
        directory: memory.clone(),
        events: memory.clone(),
        messages: memory.clone(),
        history: memory,
    }
}

/// The status and the JSON log lines of one signed webhook on `route` of the webhooks function
/// over `stores`, as the Lambda functions write them.
async fn log_lines(
    stores: shared::app::Stores,
    route: Route,
    params: &[(String, String)],
) -> (u16, Vec<Value>) {
    let env = test_env(&[]);
    let needs = Needs {
        webhooks: true,
        ..Needs::default()
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).unwrap();
    let webhooks = Webhooks::build(Core::new(config.presence.clone(), stores), &config).unwrap();
    let url = format!("https://voice.example.com{}", route.path());
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let request = http::Request::post(route.path())
        .header("host", "voice.example.com")
        .header("x-forwarded-proto", "https")
        .header("x-twilio-signature", sign(AUTH_TOKEN, &url, params))
        .body(bytes::Bytes::from(body))
        .unwrap();
    let buffer = Captured::default();
    let writer = buffer.clone();
    let subscriber = shared::telemetry::subscriber(Format::Json, move || writer.clone(), false);
    let _guard = tracing::subscriber::set_default(subscriber);
    let response = handle(&webhooks, route, request).await;
    let text = buffer.text();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (response.status().as_u16(), lines)
}

fn matches(line: &Value, terms: &[(String, String)]) -> bool {
    terms
        .iter()
        .all(|(field, value)| line[field].as_str() == Some(value))
}

/// How many of `lines` the metric filter `resource` counts.
fn counted(resource: &str, lines: &[Value]) -> usize {
    let terms = filter_terms(resource);
    lines.iter().filter(|l| matches(l, &terms)).count()
}

/// The fallback alarm counts exactly the calls answered by a fallback because the store
/// failed: its filter matches that line of the webhook layer, and not a call that rang.
#[tokio::test(flavor = "current_thread")]
async fn the_fallback_alarms_filter_matches_the_webhooks_store_failure_line() {
    let filter = "WebhookFallbackMetricFilter";
    let params = call_params(SALES);
    let faulty = shared::app::Stores {
        presence: failing(StoreName::Presence),
        ..demo_stores().await
    };
    let (status, failed) = log_lines(faulty, Route::VoiceIncoming, &params).await;
    assert_eq!(status, 200);
    assert_eq!(counted(filter, &failed), 1, "{filter} in {failed:?}");
    let (status, healthy) = log_lines(demo_stores().await, Route::VoiceIncoming, &params).await;
    assert_eq!(status, 200);
    assert!(
        healthy.iter().any(|l| l["message"] == "request"),
        "{healthy:?}"
    );
    assert_eq!(counted(filter, &healthy), 0, "{filter} in {healthy:?}");
}

/// A text whose store failed is answered 503 (Twilio then posts it to the SMS fallback URL)
/// and counted by the SMS filter into the same alarm; a stored text is not, and neither
/// filter counts the other's line.
#[tokio::test(flavor = "current_thread")]
async fn the_sms_fallback_filter_matches_the_sms_webhooks_store_failure_line() {
    let filter = "SmsWebhookFallbackMetricFilter";
    let params = sms_params(&message_sid(1), CUSTOMER, SALES, "hello");
    let faulty = shared::app::Stores {
        directory: failing(StoreName::Directory),
        ..demo_stores().await
    };
    let (status, failed) = log_lines(faulty, Route::SmsIncoming, &params).await;
    assert_eq!(status, 503, "{failed:?}");
    assert_eq!(counted(filter, &failed), 1, "{filter} in {failed:?}");
    assert_eq!(counted("WebhookFallbackMetricFilter", &failed), 0);
    let (status, stored) = log_lines(demo_stores().await, Route::SmsIncoming, &params).await;
    assert_eq!(status, 200, "{stored:?}");
    assert!(
        stored.iter().any(|l| l["message"] == "request"),
        "{stored:?}"
    );
    assert_eq!(counted(filter, &stored), 0, "{filter} in {stored:?}");
    // A call whose store failed is the other filter's, not this one's.
    let faulty = shared::app::Stores {
        presence: failing(StoreName::Presence),
        ..demo_stores().await
    };
    let (_, call) = log_lines(faulty, Route::VoiceIncoming, &call_params(SALES)).await;
    assert_eq!(counted(filter, &call), 0, "{filter} in {call:?}");
    // Both filters feed the one alarm's metric.
    assert_eq!(
        property(filter, "MetricName"),
        property("WebhookFallbackMetricFilter", "MetricName")
    );
}
