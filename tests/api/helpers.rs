//! `spawn_app`: the real handlers on a real socket over a chosen store, plus small clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use shared::App;
use shared::app::Core;
use shared::clock::Clock;
use shared::config::Config;
use shared::directory::Directory;
use shared::store::dynamo::{DynamoStore, client_from_env};
use shared::store::memory::MemoryStore;
use shared::store::testing::{Behaviour, TestStore};
use shared::store::{
    DirectoryStore, EventStore, HistoryStore, MessageStore, PresenceStore, StoreName,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const DEMO_DIRECTORY: &str = include_str!("../../demo/directory.json");
pub const APP_JWT_SECRET: &str = "test-app-jwt-secret";
pub const API_KEY_SECRET: &str = "test-twilio-api-key-secret";
pub const AUTH_TOKEN: &str = "test-twilio-auth-token";
pub const ACCOUNT_SID: &str = "AC11111111111111111111111111111111";
pub const API_KEY_SID: &str = "SK22222222222222222222222222222222";
pub const TWIML_APP_SID: &str = "AP33333333333333333333333333333333";
pub const ORG: &str = "org_demo";
pub const REALTIME_TICKET_SECRET: &str = "test-realtime-ticket-secret-of-32-bytes";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Memory,
    Dynamo,
}

/// Generates `mod name { memory, dynamodb }` tests that run `name(StoreKind)` on each store.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                super::$name($crate::helpers::StoreKind::Memory).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn dynamodb() {
                super::$name($crate::helpers::StoreKind::Dynamo).await
            }
        }
    )*};
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh table on the local DynamoDB server that `scripts/test` started.
pub async fn dynamo_store() -> DynamoStore {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "DynamoDB tests need a local DynamoDB-protocol server: run scripts/test, which starts \
         moto and sets AWS_ENDPOINT_URL_DYNAMODB"
    );
    // The service's client with longer timeouts. moto answers one request at a time per
    // thread and each transaction under one lock, so on a 2-core machine shared with builds,
    // tests that race dozens of requests can queue past the 2 s connect and attempt
    // timeouts; and a timed-out attempt that moto did apply is then retried and refused, since
    // moto ignores the retry's ClientRequestToken (DynamoDB honours it). The production
    // timeouts are tested against a fault proxy in faults.rs, with their own client.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(20))
        .operation_timeout(Duration::from_secs(45))
        .build();
    let config = client_from_env()
        .await
        .config()
        .to_builder()
        .timeout_config(timeouts)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let store = DynamoStore::new(client, format!("test-{}", unique_suffix()));
    // The name is new, so "already exists" can only be the SDK's retry of this very create
    // after a slow first answer (moto under load): the table is ours either way.
    store.create_table().await.expect("create table");
    store
}

/// A DynamoDB store whose endpoint refuses connections (nothing listens on port 9), as when
/// DynamoDB is unreachable; one attempt per call so tests do not wait on retries.
pub async fn unreachable_dynamo() -> DynamoStore {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "unreachable")
}

pub fn test_env(overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("APP_JWT_SECRET", APP_JWT_SECRET),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_API_KEY_SID", API_KEY_SID),
        ("TWILIO_API_KEY_SECRET", API_KEY_SECRET),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("TWILIO_TWIML_APP_SID", TWIML_APP_SID),
        ("REALTIME_TICKET_SECRET", REALTIME_TICKET_SECRET),
        ("APP_JWT_ADMIN_CLAIM", shared::local::DEV_ADMIN_CLAIM),
        ("APP_JWT_ADMIN_VALUE", shared::local::DEV_ADMIN_ROLE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        if v.is_empty() {
            env.remove(*k);
        } else {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    env
}

pub struct Stores {
    pub presence: Arc<dyn PresenceStore>,
    pub directory: Arc<dyn DirectoryStore>,
    pub events: Arc<dyn EventStore>,
    pub messages: Arc<dyn MessageStore>,
    pub history: Arc<dyn HistoryStore>,
    pub memory: Option<Arc<MemoryStore>>,
    pub dynamo: Option<DynamoStore>,
}

pub async fn stores(kind: StoreKind) -> Stores {
    match kind {
        StoreKind::Memory => Stores::on_memory(MemoryStore::new()),
        StoreKind::Dynamo => Stores::on_dynamo(dynamo_store().await),
    }
}

impl Stores {
    /// The stores as the app takes them.
    pub fn shared(&self) -> shared::app::Stores {
        shared::app::Stores {
            presence: self.presence.clone(),
            directory: self.directory.clone(),
            events: self.events.clone(),
            messages: self.messages.clone(),
            history: self.history.clone(),
        }
    }

    /// Every store on one memory store (which a test may have configured).
    pub fn on_memory(store: MemoryStore) -> Self {
        Self::on_memory_arc(Arc::new(store))
    }

    /// [`Self::on_memory`] of a store the test keeps a handle on.
    pub fn on_memory_arc(store: Arc<MemoryStore>) -> Self {
        Stores {
            presence: store.clone(),
            directory: store.clone(),
            events: store.clone(),
            messages: store.clone(),
            history: store.clone(),
            memory: Some(store),
            dynamo: None,
        }
    }

    /// Both stores on one DynamoDB table (and its client, which a test may have wrapped).
    pub fn on_dynamo(store: DynamoStore) -> Self {
        Stores {
            presence: Arc::new(store.clone()),
            directory: Arc::new(store.clone()),
            events: Arc::new(store.clone()),
            messages: Arc::new(store.clone()),
            history: Arc::new(store.clone()),
            memory: None,
            dynamo: Some(store),
        }
    }
}

/// A store whose `store` calls all fail at once (unavailable, naming `store`), as an
/// unreachable or throttling DynamoDB does; over an empty memory store.
pub fn failing(store: StoreName) -> Arc<TestStore<MemoryStore>> {
    faulty(store, Behaviour::Fail)
}

/// A store whose `store` calls never answer, as a DynamoDB slower than any deadline.
pub fn hanging(store: StoreName) -> Arc<TestStore<MemoryStore>> {
    faulty(store, Behaviour::Hang)
}

fn faulty(store: StoreName, behaviour: Behaviour) -> Arc<TestStore<MemoryStore>> {
    let memory = Arc::new(MemoryStore::new());
    Arc::new(TestStore::new(memory).with(store, behaviour))
}

/// The server on the memory store, every store behind one [`TestStore`] (answering until a
/// test says otherwise: start-up imports the demo directory through it).
pub async fn spawn_behind_test_store(
    overrides: &[(&str, &str)],
) -> (TestApp, Arc<TestStore<MemoryStore>>) {
    let inner = stores(StoreKind::Memory).await;
    let memory = inner.memory.clone().expect("the memory store");
    let wrapped = Arc::new(TestStore::new(memory));
    let app = spawn_on(
        Stores {
            presence: wrapped.clone(),
            directory: wrapped.clone(),
            events: wrapped.clone(),
            messages: wrapped.clone(),
            history: wrapped.clone(),
            ..inner
        },
        overrides,
    )
    .await;
    (app, wrapped)
}

/// The server on the memory directory, with `presence` as its presence store.
pub async fn spawn_with_presence(
    presence: Arc<dyn PresenceStore>,
    overrides: &[(&str, &str)],
) -> TestApp {
    let memory = stores(StoreKind::Memory).await;
    spawn_on(Stores { presence, ..memory }, overrides).await
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub stores: Stores,
    /// The server's clock: [`TestApp::advance`] moves it.
    pub clock: Clock,
    _shutdown: oneshot::Sender<()>,
}

impl TestApp {
    /// A server already listening at `base`, reading `clock`, stopped when `shutdown` is
    /// dropped.
    pub fn new(base: String, stores: Stores, clock: Clock, shutdown: oneshot::Sender<()>) -> Self {
        Self {
            base,
            http: reqwest::Client::new(),
            stores,
            clock,
            _shutdown: shutdown,
        }
    }

    /// Moves the server's clock `by` forward: a TTL, a rate floor or a refresh period passes
    /// at once instead of being slept through.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

pub async fn spawn_app(kind: StoreKind) -> TestApp {
    spawn_app_with(kind, &[]).await
}

/// Start the server with the test settings plus `overrides` (an empty value removes one).
pub async fn spawn_app_with(kind: StoreKind, overrides: &[(&str, &str)]) -> TestApp {
    let stores = stores(kind).await;
    spawn_on(stores, overrides).await
}

pub async fn spawn_on(stores: Stores, overrides: &[(&str, &str)]) -> TestApp {
    let env = test_env(overrides);
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).expect("test config");
    let directory = Directory::parse(DEMO_DIRECTORY).expect("demo directory");
    stores
        .directory
        .import(&directory, config.presence.identity_style)
        .await
        .expect("import demo directory");
    let clock = Clock::movable();
    let core = Core {
        clock: clock.clone(),
        ..Core::new(config.presence.clone(), stores.shared())
    };
    let app = Arc::new(<App as shared::http::Endpoint>::build(core, &config).expect("app"));
    // As the server's start does: an identity provider's keys before the first request.
    shared::http::Endpoint::warm(app.as_ref()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(shared::server::serve(listener, app, async {
        let _ = rx.await;
    }));
    TestApp::new(base, stores, clock, tx)
}

pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An app token for `email` in `org`, as the app's sign-in would issue it.
pub fn app_token(email: &str, org: &str) -> String {
    shared::local::mint_app_jwt(APP_JWT_SECRET, email, org, now_s(), 3600).unwrap()
}

/// An app token for an admin of `org` (the admin claim the tests configure).
pub fn admin_token(email: &str, org: &str) -> String {
    shared::local::mint_dev_jwt(APP_JWT_SECRET, email, org, now_s(), 3600, true).unwrap()
}

pub fn alice() -> String {
    app_token("alice@example.com", ORG)
}

impl TestApp {
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.post_raw(path, token, body.to_string()).await
    }

    pub async fn post_raw(&self, path: &str, token: &str, body: String) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("user-agent", "TestAgent/1.0")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.bodiless(reqwest::Method::GET, path, token).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.bodiless(reqwest::Method::DELETE, path, token).await
    }

    async fn bodiless(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> (StatusCode, Value) {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn register(
        &self,
        token: &str,
        device_id: &str,
        platform: &str,
    ) -> (StatusCode, Value) {
        let body = serde_json::json!({ "deviceId": device_id, "platform": platform });
        self.post("/phone/voice/register-device", token, body).await
    }

    pub async fn heartbeat(&self, token: &str, device_id: &str) -> (StatusCode, Value) {
        let body = serde_json::json!({ "deviceId": device_id });
        self.post("/phone/voice/heartbeat", token, body).await
    }

    pub async fn unregister(&self, token: &str, device_id: &str) -> (StatusCode, Value) {
        let body = serde_json::json!({ "deviceId": device_id });
        self.post("/phone/voice/unregister-device", token, body)
            .await
    }

    /// Import the demo directory with `edit` applied to its one org (as JSON): a test's own
    /// hours, strategies or members, validated as any import is.
    pub async fn import_demo_with(&self, edit: impl FnOnce(&mut Value)) {
        let mut file: Value = serde_json::from_str(DEMO_DIRECTORY).unwrap();
        edit(&mut file["orgs"][0]);
        let directory = Directory::parse(&file.to_string()).expect("a valid directory");
        self.stores
            .directory
            .import(&directory, shared::domain::IdentityStyle::Safe)
            .await
            .unwrap();
    }

    /// The ids of the caller's live devices, in the order the API returns them.
    pub async fn device_ids(&self, token: &str) -> Vec<String> {
        let (status, body) = self.get("/phone/voice/devices", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["deviceId"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Rows stored for a user, expired ones included (what a raw table read shows).
    pub async fn stored_rows(&self, email: &str) -> usize {
        let email = shared::domain::Email::parse_field(email, "email").unwrap();
        let key = shared::store::PresenceKey {
            org: shared::domain::OrgId::parse_field(ORG, "org").unwrap(),
            identity: shared::domain::Identity::for_person(
                &shared::domain::OrgId::parse_field(ORG, "org").unwrap(),
                &email,
                shared::domain::IdentityStyle::Safe,
            )
            .unwrap(),
        };
        if let Some(memory) = &self.stores.memory {
            return memory.stored_rows(&key);
        }
        let dynamo = self.stores.dynamo.as_ref().unwrap();
        dynamo.stored_rows(&key).await.unwrap()
    }
}

/// A callback URL without the call-history reference every callback URL carries
/// (`ho`, `hk`, `hs`, `hn`, `hu`), to compare the rest exactly.
pub fn without_history(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| !matches!(k.as_str(), "ho" | "hk" | "hs" | "hn" | "hu"))
        .collect();
    if kept.is_empty() {
        return base.to_owned();
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("{base}?{query}")
}
