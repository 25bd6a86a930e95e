//! Faults between the service and DynamoDB (moto behind `fault_proxy`): stalls, slowness,
//! connection resets and throttling. App endpoints answer 503 with `Retry-After` within the
//! SDK's operation timeout, webhooks answer fallback TwiML before their deadline, the
//! service recovers by itself when the fault ends, and a register cut off between its write
//! and its evictions converges at the next register.
//!
//! Timings are printed (`cargo test --test api faults -- --nocapture`) and recorded in
//! docs/reliability.md; the assertions check only the documented bounds, with slack.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::store::dynamo::{DynamoStore, client_from_env};
use shared::store::{PresenceKey, PresenceStore};
use shared::twilio::signature::sign;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, ORG, Stores, TestApp, alice, app_token, dynamo_store, spawn_on,
};

/// `client_from_env`'s operation timeout: the bound on any one store call, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// Scheduling slack on a shared 2-core machine; the bounds are what is documented.
const SLACK: Duration = Duration::from_millis(1500);

struct Proxied {
    app: TestApp,
    proxy: FaultProxy,
    /// The same table reached directly, to see what was really written.
    direct: DynamoStore,
}

/// The server on a fresh moto table, its DynamoDB client going through a fault proxy. The
/// client is `client_from_env`'s (same timeouts and retries as production) with only the
/// endpoint changed.
async fn proxied(overrides: &[(&str, &str)]) -> Proxied {
    let direct = dynamo_store().await;
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap();
    let proxy = FaultProxy::start(&upstream).await;
    let config = client_from_env()
        .await
        .config()
        .to_builder()
        .endpoint_url(proxy.url())
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), direct.table());
    let app = spawn_on(Stores::on_dynamo(store), overrides).await;
    Proxied { app, proxy, direct }
}

fn alice_key() -> PresenceKey {
    let email = shared::domain::Email::parse_field("alice@example.com", "email").unwrap();
    let org = shared::domain::OrgId::parse_field(ORG, "org").unwrap();
    PresenceKey {
        identity: shared::domain::Identity::for_person(
            &org,
            &email,
            shared::domain::IdentityStyle::Safe,
        )
        .unwrap(),
        org,
    }
}

/// Every app endpoint that reads or writes the store.
fn app_calls() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        (
            "POST",
            "/phone/voice/register-device",
            Some(json!({"deviceId": "f_new", "platform": "web"})),
        ),
        (
            "POST",
            "/phone/voice/heartbeat",
            Some(json!({"deviceId": "f_dev"})),
        ),
        (
            "POST",
            "/phone/voice/unregister-device",
            Some(json!({"deviceId": "f_other"})),
        ),
        ("GET", "/phone/voice/devices", None),
        ("GET", "/phone/user-phones", None),
    ]
}

struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    body: String,
    elapsed: Duration,
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> Answer {
    let started = Instant::now();
    let mut request = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .bearer_auth(alice());
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    Answer {
        status,
        retry_after,
        body,
        elapsed: started.elapsed(),
    }
}

/// With `fault` in force, every store-backed app endpoint answers 503 `store_unavailable`
/// with `Retry-After` within the operation timeout; then the fault ends and the very next
/// requests succeed, with no restart.
async fn app_endpoints_degrade_and_recover(name: &str, fault: Fault) {
    let p = proxied(&[]).await;
    let (status, body) = p.app.register(&alice(), "f_dev", "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    p.proxy.set(fault);
    let before = p.proxy.requests();
    let answers = join_all(app_calls().into_iter().map(|(method, path, body)| {
        let app = &p.app;
        async move { (path, call(app, method, path, body).await) }
    }))
    .await;
    for (path, answer) in &answers {
        println!(
            "faults: {name:<9} {path:<32} {} in {:>6.0} ms, Retry-After {}",
            answer.status.as_u16(),
            answer.elapsed.as_secs_f64() * 1000.0,
            answer.retry_after.as_deref().unwrap_or("-"),
        );
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{name} {path}: {}",
            answer.body
        );
        assert_eq!(answer.retry_after.as_deref(), Some("2"), "{name} {path}");
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["error"]["code"], "store_unavailable");
        assert!(
            answer.elapsed <= OPERATION_TIMEOUT + SLACK,
            "{name} {path}: {:?} is past the operation timeout",
            answer.elapsed
        );
    }
    println!(
        "faults: {name:<9} {} requests reached the proxy for 5 calls (SDK retries)",
        p.proxy.requests() - before
    );

    p.proxy.set(Fault::Pass);
    for (method, path, body) in app_calls() {
        let answer = call(&p.app, method, path, body).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{name} recovery {path}: {}",
            answer.body
        );
        println!(
            "faults: {name:<9} recovered {path:<32} 200 in {:>6.0} ms",
            answer.elapsed.as_secs_f64() * 1000.0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_dynamodb_gives_503_within_the_operation_timeout_then_recovers() {
    app_endpoints_degrade_and_recover("stall", Fault::Stall).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_dynamodb_past_the_attempt_timeout_gives_503_then_recovers() {
    app_endpoints_degrade_and_recover("slow 3 s", Fault::Slow(Duration::from_secs(3))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_give_503_then_recover() {
    app_endpoints_degrade_and_recover("reset", Fault::Reset).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_gives_503_then_recovers() {
    app_endpoints_degrade_and_recover("throttle", Fault::Throttle).await;
}

/// A slowness the SDK's attempt timeout tolerates is just latency: every call succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_working_dynamodb_is_only_slower() {
    let p = proxied(&[]).await;
    let (status, _) = p.app.register(&alice(), "f_dev", "web").await;
    assert_eq!(status, StatusCode::OK);
    p.proxy.set(Fault::Slow(Duration::from_millis(300)));
    for (method, path, body) in app_calls() {
        let answer = call(&p.app, method, path, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        println!(
            "faults: slow 300 ms {path:<32} 200 in {:>6.0} ms",
            answer.elapsed.as_secs_f64() * 1000.0
        );
    }
}

fn call_params(to: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CAfaults0000000000000000000000000"),
        ("From", "+14158675309"),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

async fn webhook(app: &TestApp, to: &str) -> (StatusCode, String, Duration) {
    let url = format!("{}/phone/voice/incoming", app.base);
    let params = call_params(to);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    let started = Instant::now();
    let response = app
        .http
        .post(&url)
        .header("x-twilio-signature", sign(AUTH_TOKEN, &url, &params))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, text, started.elapsed())
}

fn says(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("Say"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

const SALES: &str = "+14155551234";
const SALES_FALLBACK: &str = "Sales is busy. Please leave a message.";
const NOBODY: &str =
    "Sorry, nobody is available to take your call. Please try again later. Goodbye.";

/// Under every fault, an incoming call gets 200 TwiML before WEBHOOK_DEADLINE_MS: the
/// generic message when even the number's route cannot be read, the group's own fallback
/// when the route was read but presence was not. Then the fault ends and the call rings.
async fn webhooks_fall_back_before_the_deadline(name: &str, fault: Fault, deadline_ms: u64) {
    let deadline = deadline_ms.to_string();
    let p = proxied(&[("WEBHOOK_DEADLINE_MS", &deadline)]).await;
    let (status, _) = p.app.register(&alice(), "desk", "web").await;
    assert_eq!(status, StatusCode::OK);
    let bound = Duration::from_millis(deadline_ms) + SLACK;

    // Everything fails: the route itself is unknown.
    p.proxy.set(fault);
    let (status, xml, elapsed) = webhook(&p.app, SALES).await;
    println!(
        "faults: webhook {name:<9} deadline {deadline_ms} ms, route unreadable: {} in {:>6.0} ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert_eq!(says(&xml), vec![NOBODY]);
    assert!(elapsed <= bound, "{name}: {elapsed:?} past the deadline");

    // The route is read (GetItem passes), presence is not: the group's fallback plays.
    p.proxy.fault_after_op("GetItem", fault);
    let (status, xml, elapsed) = webhook(&p.app, SALES).await;
    println!(
        "faults: webhook {name:<9} deadline {deadline_ms} ms, presence unreadable: {} in {:>6.0} ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert_eq!(says(&xml), vec![SALES_FALLBACK]);
    assert!(elapsed <= bound, "{name}: {elapsed:?} past the deadline");

    p.proxy.set(Fault::Pass);
    let (status, xml, elapsed) = webhook(&p.app, SALES).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        xml.contains("<Identity>u_org_5Fdemo__alice_40example_2Ecom</Identity>"),
        "recovered: {xml}"
    );
    println!(
        "faults: webhook {name:<9} recovered: rings alice in {:>6.0} ms",
        elapsed.as_secs_f64() * 1000.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_a_stalled_dynamodb_answer_by_the_default_deadline() {
    webhooks_fall_back_before_the_deadline("stall", Fault::Stall, 5000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_a_stalled_dynamodb_answer_by_a_short_deadline() {
    webhooks_fall_back_before_the_deadline("stall", Fault::Stall, 1500).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_a_slow_dynamodb_answer_by_the_deadline() {
    webhooks_fall_back_before_the_deadline("slow 8 s", Fault::Slow(Duration::from_secs(8)), 1500)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_resets_answer_by_the_deadline() {
    webhooks_fall_back_before_the_deadline("reset", Fault::Reset, 5000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_throttling_answer_by_the_deadline() {
    webhooks_fall_back_before_the_deadline("throttle", Fault::Throttle, 5000).await;
}

/// Cut a register after its device write (UpdateItem; the evictions never run): the user briefly has one
/// device over the limit. The next register, with the store back, evicts down to exactly
/// the limit, least recently seen first.
async fn a_cut_register_converges(name: &str, arm: impl Fn(&FaultProxy)) {
    let p = proxied(&[("MAX_DEVICES_PER_IDENTITY", "2")]).await;
    let token = alice();
    for device in ["d1", "d2"] {
        let (status, body) = p.app.register(&token, device, "web").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    arm(&p.proxy);
    let started = Instant::now();
    let (status, body) = p.app.register(&token, "d3", "web").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let ops = p.proxy.operations();
    let live = p
        .direct
        .live_devices(&alice_key(), shared::clock::Clock::system().now_ms())
        .await
        .unwrap();
    let ids: Vec<&str> = live.iter().map(|d| d.device_id.as_str()).collect();
    println!(
        "faults: register cut {name}: 503 in {:>6.0} ms; table holds {ids:?} (limit 2)",
        started.elapsed().as_secs_f64() * 1000.0
    );
    assert!(ops.iter().any(|op| op == "UpdateItem"), "{ops:?}");
    assert_eq!(
        ids.len(),
        3,
        "the write landed, the evictions did not: {ids:?}"
    );

    p.proxy.set(Fault::Pass);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, body) = p.app.register(&token, "d4", "web").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["evictedDeviceIds"], json!(["d1", "d2"]), "{body}");
    let listed = p.app.device_ids(&token).await;
    assert_eq!(listed, vec!["d4", "d3"]);
    println!("faults: register cut {name}: next register evicted [d1, d2]; live {listed:?}");

    // Another user's next register is not needed: a heartbeat does not bring evictions back.
    let (status, _) = p.app.heartbeat(&token, "d1").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Other users were never affected.
    let bob = app_token("bob@example.com", ORG);
    assert_eq!(p.app.register(&bob, "b1", "web").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_reset_after_its_write_converges_at_the_next_register() {
    // Its two UpdateItems (the device, and the device's id on the person item) go together.
    a_cut_register_converges("after its UpdateItems (reset)", |proxy| {
        proxy.fault_after_ops("UpdateItem", 2, Fault::Reset)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_throttled_at_its_evictions_converges_at_the_next_register() {
    // The evictions (each a transaction with its event) come after the consistent count.
    a_cut_register_converges("at the evictions (throttle)", |proxy| {
        proxy.fault_after_op("Query", Fault::Throttle)
    })
    .await;
}
