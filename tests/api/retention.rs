//! `EVENT_RETENTION_SECONDS` is applied wherever events are written: a function built as
//! Lambda builds it (`lambda::endpoint_from`, the environment's settings) writes events that
//! expire after the retention its catch-up answers 410 by, and so does the local server
//! (tests/api/realtime.rs builds it with the setting).

use std::sync::Arc;

use serde_json::Value;
use shared::events::Cursor;
use shared::http::endpoints::{Events, RegisterDevice};
use shared::local::with_dev_defaults;
use shared::secrets::Env;
use shared::store::{DirectoryStore, EventStore};

use crate::helpers::{DEMO_DIRECTORY, dynamo_store, now_s};

const RETENTION: i64 = 60;

/// A fixture of events/ as Lambda hands it to the function, its query string replaced.
fn fixture(name: &str, query: Option<&str>) -> shared::http::Request {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("events")
        .join(name);
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(query) = query {
        event["rawQueryString"] = Value::String(query.to_owned());
        let (key, value) = query.split_once('=').unwrap();
        event["queryStringParameters"] = serde_json::json!({ key: value });
    }
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    shared::lambda::from_lambda(request)
}

fn status(response: &shared::http::Response) -> u16 {
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_functions_events_expire_after_the_retention_its_catch_up_reckons_with() {
    let store = dynamo_store().await;
    store
        .import(
            &shared::directory::Directory::parse(DEMO_DIRECTORY).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let table = store.table().to_owned();
    let env: Env = Arc::new(with_dev_defaults(move |name| match name {
        "TABLE_NAME" => Some(table.clone()),
        "EVENT_RETENTION_SECONDS" => Some(RETENTION.to_string()),
        _ => None,
    }));
    let sdk = shared::lambda::lambda_sdk_config();
    let register: RegisterDevice = shared::lambda::endpoint_from(env.clone(), sdk.clone())
        .await
        .unwrap();
    let answer = shared::lambda::invoke(&register, fixture("register-device.json", None)).await;
    assert_eq!(status(&answer), 200);

    // The register's event, as stored: it expires RETENTION seconds after it was written.
    let alice = crate::realtime_aws::user("alice@example.com");
    let events = store
        .events_after(&alice, &Cursor::at(0), 10, now_s() * 1000)
        .await
        .unwrap();
    assert!(!events.is_empty());
    let pk = format!("softphone:org_demo:{}", alice.identity);
    let items = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("pk = :pk AND begins_with(sk, :evt)")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .expression_attribute_values(
            ":evt",
            aws_sdk_dynamodb::types::AttributeValue::S("~evt:".into()),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), events.len());
    for item in &items {
        let number = |name: &str| -> i64 { item[name].as_n().unwrap().parse().unwrap() };
        assert_eq!(
            number("expiresAt"),
            number("at").div_euclid(1000) + RETENTION
        );
    }
    // Past the retention the events are gone from every read...
    let later = events[0].at + (RETENTION + 1) * 1000;
    let gone = store
        .events_after(&alice, &Cursor::at(0), 10, later)
        .await
        .unwrap();
    assert!(gone.is_empty(), "{gone:?}");
    // ...and the catch-up of the same function's settings answers 410 from before them, 200
    // from within them.
    let catch_up: Events = shared::lambda::endpoint_from(env, sdk).await.unwrap();
    let old = Cursor::at((now_s() - RETENTION - 1) * 1000);
    let query = format!("after={old}");
    let answer =
        shared::lambda::invoke(&catch_up, fixture("events-catch-up.json", Some(&query))).await;
    assert_eq!(status(&answer), 410);
    let recent = Cursor::at((now_s() - RETENTION / 2) * 1000);
    let query = format!("after={recent}");
    let answer =
        shared::lambda::invoke(&catch_up, fixture("events-catch-up.json", Some(&query))).await;
    assert_eq!(status(&answer), 200);
}
