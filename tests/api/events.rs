//! Every fixture in `events/` through the Lambda adapter, as AWS would deliver it, with the
//! local server's development settings the fixtures are made for. A fixture added without a
//! check here fails `every_fixture_is_exercised`, so none can rot.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use shared::App;
use shared::config::Config;
use shared::directory::Directory;
use shared::http::Route;
use shared::local::with_dev_defaults;
use shared::store::DirectoryStore;
use shared::store::memory::MemoryStore;

use crate::helpers::DEMO_DIRECTORY;

const URL_HOST: &str = "k2vbxr5ghqmzexample7uzvnve0vdqwe.lambda-url.us-east-1.on.aws";

/// Fixture → the routes of the function that receives it.
const FIXTURES: &[(&str, &[Route])] = &[
    ("register-device.json", &[Route::RegisterDevice]),
    (
        "register-device-gateway-authorizer.json",
        &[Route::RegisterDevice],
    ),
    ("heartbeat.json", &[Route::Heartbeat]),
    ("list-devices.json", &[Route::ListDevices]),
    ("user-phones.json", &[Route::UserPhones]),
    ("unregister-device.json", &[Route::UnregisterDevice]),
    ("voice-incoming-function-url.json", &Route::WEBHOOKS),
    ("voice-incoming-http-api.json", &Route::WEBHOOKS),
    ("voice-incoming-bad-signature.json", &Route::WEBHOOKS),
    ("dial-status-no-answer-function-url.json", &Route::WEBHOOKS),
    ("dial-status-completed-function-url.json", &Route::WEBHOOKS),
    ("voice-outgoing-function-url.json", &Route::WEBHOOKS),
    ("call-status-answered-function-url.json", &Route::WEBHOOKS),
    ("call-status-completed-function-url.json", &Route::WEBHOOKS),
    ("voice-fallback-function-url.json", &Route::WEBHOOKS),
];

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

async fn dev_app(overrides: &[(&'static str, &'static str)]) -> App {
    let overrides = overrides.to_vec();
    let env = with_dev_defaults(move |name| {
        overrides
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    });
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&env, needs).unwrap();
    let store = Arc::new(MemoryStore::new());
    store
        .import(&Directory::parse(DEMO_DIRECTORY).unwrap())
        .await
        .unwrap();
    App::new(&config, shared::app::Stores::of(store)).unwrap()
}

/// Invoke a fixture; the status and the body (JSON or TwiML text).
async fn invoke(app: &App, name: &str) -> (u16, String) {
    let routes = FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
        .expect("listed fixture");
    let text = std::fs::read_to_string(events_dir().join(name)).unwrap();
    let request = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let response =
        shared::lambda::serve_one(app, routes, shared::lambda::from_lambda(request)).await;
    let lambda_response = shared::lambda::to_lambda(response);
    let body = match lambda_response.body() {
        lambda_http::Body::Text(text) => text.clone(),
        other => panic!("{name}: expected a text body, got {other:?}"),
    };
    (lambda_response.status().as_u16(), body)
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

#[test]
fn every_fixture_is_exercised() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let checked: BTreeSet<String> = FIXTURES.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, checked);
}

#[tokio::test]
async fn the_app_and_webhook_fixtures_play_a_device_lifecycle_and_a_call() {
    let app = dev_app(&[]).await;

    let (status, body) = invoke(&app, "register-device.json").await;
    assert_eq!(status, 200, "{body}");
    let reg = json(&body);
    assert_eq!(reg["identity"], "user_alice_40example_2Ecom");
    assert_eq!(
        reg["device"]["ip"], "203.0.113.10",
        "API Gateway's sourceIp"
    );
    assert_eq!(
        reg["device"]["userAgent"],
        "Mozilla/5.0 (Macintosh) Chrome/131.0"
    );

    let (status, body) = invoke(&app, "heartbeat.json").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = invoke(&app, "list-devices.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["devices"][0]["deviceId"], "dev_a1b2c3");
    let (status, body) = invoke(&app, "user-phones.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["assignedPhones"].as_array().unwrap().len(), 2);

    // Alice is live: the Sales number (Function URL) and her direct number (HTTP API) ring her.
    let (status, xml) = invoke(&app, "voice-incoming-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Identity>user_alice_40example_2Ecom</Identity>"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "action=\"https://{URL_HOST}/phone/voice/dial-status\""
        )),
        "{xml}"
    );
    let (status, xml) = invoke(&app, "voice-incoming-http-api.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<Parameter name=\"phoneId\" value=\"phone-alice\"/>"),
        "{xml}"
    );

    let (status, xml) = invoke(&app, "dial-status-no-answer-function-url.json").await;
    assert_eq!(status, 200);
    assert!(
        xml.contains("<Say>Sales is busy. Please leave a message.</Say><Record"),
        "{xml}"
    );
    // Twilio's fallback URL, after this process routed Sales: Sales' own voicemail.
    let (status, xml) = invoke(&app, "voice-fallback-function-url.json").await;
    assert_eq!(status, 200);
    assert!(
        xml.contains("<Say>Sales is busy. Please leave a message.</Say>"),
        "{xml}"
    );
    let (status, xml) = invoke(&app, "dial-status-completed-function-url.json").await;
    assert_eq!(status, 200);
    assert!(xml.ends_with("<Response><Hangup/></Response>"), "{xml}");
    let (status, _) = invoke(&app, "voice-incoming-bad-signature.json").await;
    assert_eq!(status, 403);

    let (status, body) = invoke(&app, "unregister-device.json").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["removed"], true);
    let (_, xml) = invoke(&app, "voice-incoming-function-url.json").await;
    assert!(
        !xml.contains("<Dial"),
        "nobody live after unregister: {xml}"
    );
}

#[tokio::test]
async fn the_gateway_fixture_authenticates_from_authorizer_claims() {
    let app = dev_app(&[("AUTH_MODE", "gateway")]).await;
    let (status, body) = invoke(&app, "register-device-gateway-authorizer.json").await;
    assert_eq!(status, 200, "{body}");
    let reg = json(&body);
    assert_eq!(reg["identity"], "user_bob_40example_2Ecom");
    assert_eq!(reg["device"]["platform"], "ios");
    // Without gateway mode the placeholder bearer token is refused.
    let jwt_app = dev_app(&[]).await;
    assert_eq!(
        invoke(&jwt_app, "register-device-gateway-authorizer.json")
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn the_outgoing_and_call_status_fixtures_place_a_call_and_track_it() {
    let app = dev_app(&[]).await;
    let (status, xml) = invoke(&app, "voice-outgoing-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("callerId=\"+14155551234\""), "{xml}");
    assert!(xml.contains(">+14155559999</Number>"), "{xml}");
    assert!(
        xml.contains(&format!("statusCallback=\"https://{URL_HOST}/phone/voice/call-status?org=org_demo&amp;identity=user_alice_40example_2Ecom\"")),
        "{xml}"
    );

    assert!(!on_call(&app).await);
    let (status, xml) = invoke(&app, "call-status-answered-function-url.json").await;
    assert_eq!(status, 200, "{xml}");
    assert!(on_call(&app).await, "answered: Alice is on a call");
    let (status, _) = invoke(&app, "call-status-completed-function-url.json").await;
    assert_eq!(status, 200);
    assert!(!on_call(&app).await, "completed: free again");
    // A duplicate, late answered changes nothing.
    invoke(&app, "call-status-answered-function-url.json").await;
    assert!(
        !on_call(&app).await,
        "a late answered after completed is ignored"
    );
}

async fn on_call(app: &App) -> bool {
    let (status, body) = invoke(app, "list-devices.json").await;
    assert_eq!(status, 200, "{body}");
    json(&body)["onCall"].as_bool().unwrap()
}
