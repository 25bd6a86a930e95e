//! Whole handlers, in process: what one request costs past the HTTP stack (authentication or
//! the webhook signature, the body, the memory store, the response, the log line), as
//! `scripts/bench` drives them but without hyper, the kernel or wrk. On this shared machine
//! wrk's req/s drift by 10-20 % between runs; these are the steady figures to compare two
//! builds of a handler by. Run: cargo bench -p shared --bench handlers.
//!
//! The log line is formatted by the local server's subscriber (`telemetry::subscriber`; the
//! Lambda functions' JSON with `LOG_FORMAT=json`) at `info` and written to `io::sink`: only
//! the `write` itself is left out.

use std::hint::black_box;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Method, header};
use shared::App;
use shared::app::Stores;
use shared::config::Config;
use shared::directory::Directory;
use shared::http::{Request, Route, handle};
use shared::local::{mint_app_jwt, with_dev_defaults};
use shared::store::DirectoryStore;
use shared::store::memory::MemoryStore;
use shared::telemetry::{self, Format};
use shared::twilio::signature;

const DEMO_DIRECTORY: &str = include_str!("../../demo/directory.json");
const HOST: &str = "127.0.0.1:8080";

fn app(runtime: &tokio::runtime::Runtime) -> App {
    let env = with_dev_defaults(|_| None);
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&env, needs).expect("development configuration");
    let store = Arc::new(MemoryStore::new());
    let directory = Directory::parse(DEMO_DIRECTORY).expect("demo directory");
    runtime
        .block_on(store.import(&directory, shared::domain::IdentityStyle::Safe))
        .expect("demo directory imports");
    App::new(&config, Stores::of(store)).expect("app")
}

fn request(method: Method, route: Route, headers: &[(&str, &str)], body: &str) -> Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(route.path())
        .header(header::HOST, HOST)
        .header(header::USER_AGENT, "bench");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .expect("request")
}

fn webhook(route: Route, params: &[(&str, &str)]) -> Request {
    let pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let secret = shared::local::dev_default("TWILIO_AUTH_TOKEN").expect("dev auth token");
    let url = format!("http://{HOST}{}", route.path());
    let signature = signature::sign(secret, &url, &pairs);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    request(
        Method::POST,
        route,
        &[
            ("x-twilio-signature", &signature),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        &body,
    )
}

fn handlers(c: &mut Criterion) {
    let format = match std::env::var("LOG_FORMAT").as_deref() {
        Ok("json") => Format::Json,
        _ => Format::Text,
    };
    let _ = tracing::subscriber::set_global_default(telemetry::subscriber(
        format,
        std::io::sink,
        false,
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = app(&runtime);
    let secret = shared::local::dev_default("APP_JWT_SECRET").expect("dev secret");
    let now = shared::clock::Clock::system().now_ms() / 1000;
    let token =
        mint_app_jwt(secret, "alice@example.com", "org_demo", now, 3600 * 24).expect("app token");
    let bearer = format!("Bearer {token}");
    let json = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let register = request(
        Method::POST,
        Route::RegisterDevice,
        &json,
        r#"{"deviceId":"dev_bench_1","platform":"web","label":"bench","capabilities":["voice"]}"#,
    );
    let call = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("CallSid", "CAbench"),
        ("From", "+14158675309"),
        ("To", "+14155551234"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
    ];
    let cases = [
        (
            "register-device (known device)",
            Route::RegisterDevice,
            register,
        ),
        (
            "heartbeat",
            Route::Heartbeat,
            request(
                Method::POST,
                Route::Heartbeat,
                &json,
                r#"{"deviceId":"dev_bench_1"}"#,
            ),
        ),
        (
            "list-devices",
            Route::ListDevices,
            request(Method::GET, Route::ListDevices, &json[..1], ""),
        ),
        (
            "user-phones",
            Route::UserPhones,
            request(Method::GET, Route::UserPhones, &json[..1], ""),
        ),
        (
            "voice-incoming",
            Route::VoiceIncoming,
            webhook(Route::VoiceIncoming, &call),
        ),
    ];
    for (name, route, request) in cases {
        // Each case must be a success, or the figure measures a refusal.
        let status = runtime
            .block_on(handle(&app, route, request.clone()))
            .status();
        assert_eq!(status, 200, "{name} answers {status}");
        c.bench_function(&format!("handler {name}"), |b| {
            b.iter(|| runtime.block_on(handle(black_box(&app), route, request.clone())))
        });
    }
}

criterion_group!(benches, handlers);
criterion_main!(benches);
