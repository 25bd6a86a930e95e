//! The Lambda side: build a function's [`Endpoint`] from the environment (and `SECRETS_ARN`'s
//! secret), open its DynamoDB connections during init (while the secret and an identity
//! provider's keys are fetched), and turn `lambda_http` events into plain HTTP requests for
//! [`crate::http`] and back. A function's `main` is one call to [`run`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, service_fn};

use crate::app::{Core, StartupError, Stores};
use crate::clock::Clock;
use crate::config::Needs;
use crate::http::{self, Endpoint, RequestMeta, Route};
use crate::secrets::{self, Env};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::keys::{PK, SK, WARMUP_KEY};

pub use lambda_http::Error;

pub mod alerts;
pub mod realtime;
pub mod reconcile;

/// Build `E` once from the environment, then serve it for the life of the container. Bad
/// configuration stops the cold start with every problem named.
pub async fn run<E: Endpoint>() -> Result<(), Error> {
    crate::telemetry::init(crate::telemetry::Format::Json);
    let endpoint = Arc::new(endpoint_from_env::<E>().await.inspect_err(|e| {
        tracing::error!(error = %e, "start-up failed");
    })?);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let endpoint = endpoint.clone();
        async move { Ok::<_, Infallible>(to_lambda(invoke(&*endpoint, from_lambda(event)).await)) }
    }))
    .await
}

/// One event for `endpoint`: its only route, or the one of its routes the path names.
pub async fn invoke<E: Endpoint>(endpoint: &E, request: http::Request) -> http::Response {
    match pick(|r| E::route(r.handler()).is_some(), &request) {
        Some(route) => http::handle(endpoint, route, request).await,
        None => http::not_found(request.uri().path()),
    }
}

/// One event for a function serving `routes`, answered by the every-route [`http::App`]
/// (tests of what one function's path picking does).
#[cfg(feature = "test-util")]
pub async fn serve_one(
    app: &http::App,
    routes: &[Route],
    request: http::Request,
) -> http::Response {
    match pick(|r| routes.contains(r), &request) {
        Some(route) => http::handle(app, route, request).await,
        None => http::not_found(request.uri().path()),
    }
}

/// The only route `serves`, or the one of them the path names.
fn pick(serves: impl Fn(&Route) -> bool, request: &http::Request) -> Option<Route> {
    let mut served = Route::ALL.into_iter().filter(&serves);
    match (served.next(), served.next()) {
        (Some(only), None) => Some(only),
        _ => Route::for_path(request.uri().path()).filter(serves),
    }
}

/// `E` on DynamoDB, configured from the process environment (and `SECRETS_ARN`'s secret), with
/// as many DynamoDB connections open as its routes send requests at once (see [`warm_up`]).
/// The warm-up runs while the secret is read, `E` built and its own fetches made (an identity
/// provider's keys): init lasts as long as the longer of the two.
pub async fn endpoint_from_env<E: Endpoint>() -> Result<E, StartupError> {
    let env: Env = Arc::new(|name: &str| std::env::var(name).ok());
    endpoint_from::<E>(env, lambda_sdk_config()).await
}

/// [`endpoint_from_env`] of the settings `env` gives, with the AWS settings `sdk`: what a test
/// builds a function's endpoint with, as Lambda starts it.
pub async fn endpoint_from<E: Endpoint>(
    env: Env,
    sdk: aws_config::SdkConfig,
) -> Result<E, StartupError> {
    let needs = Needs {
        table: true,
        ..Route::needs_of(&E::routes())
    };
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    // The table's name is no secret: the warm-up need not wait for the configuration.
    let table = env("TABLE_NAME").unwrap_or_default().trim().to_owned();
    let start = async {
        // The function's one clock: its handlers' and its secret's re-reads'.
        let clock = Clock::system();
        let configured = secrets::configure(env, needs, async { sdk.clone() }, &clock);
        let (config, secrets) = configured.await?;
        let table = config.table_name.clone().unwrap_or_default();
        // Events expire after the retention catch-up's 410 is reckoned by.
        let store = Arc::new(
            DynamoStore::new(client.clone(), table)
                .with_event_retention(config.presence.event_retention_seconds),
        );
        let core = Core::new(config.presence.clone(), Stores::of(store)).with_secrets(secrets);
        let core = Core { clock, ..core };
        let endpoint = E::build(core, &config)?;
        endpoint.warm().await;
        Ok::<_, StartupError>(endpoint)
    };
    let connections = Route::concurrent_store_calls_of(&E::routes());
    let warm = async {
        warm_up(&client, &table, connections).await;
        Ok(())
    };
    // A start-up failure ends the wait for the warm-up.
    let (endpoint, ()) = tokio::try_join!(start, warm)?;
    Ok(endpoint)
}

/// The AWS settings a Lambda has, and nothing else: credentials from the variables Lambda sets
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the region from
/// `AWS_REGION`, endpoints from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL` (local runs
/// against moto), standard retries and [`timeouts`](crate::store::dynamo::timeouts). Built
/// without aws-config's loader: its fallbacks (profile files, instance metadata, SSO, STS web
/// identity and assume-role, the container endpoint) are compiled in wherever it is called,
/// and a Lambda uses none of them; leaving them out is about 0.1 MiB of every bootstrap.
pub fn lambda_sdk_config() -> aws_config::SdkConfig {
    use aws_config::environment::EnvironmentVariableCredentialsProvider;
    use aws_config::retry::RetryConfig;
    use aws_config::{BehaviorVersion, Region};
    use aws_credential_types::provider::SharedCredentialsProvider;
    let credentials = EnvironmentVariableCredentialsProvider::new();
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(std::env::var("AWS_REGION").ok().map(Region::new))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .retry_config(RetryConfig::standard())
        .timeout_config(crate::store::dynamo::timeouts())
        .service_config(EndpointsFromEnv(|name| std::env::var(name).ok()))
        .build()
}

/// The endpoint of a service from the environment: `AWS_ENDPOINT_URL_<SERVICE ID>` (upper
/// case, spaces as `_`: `AWS_ENDPOINT_URL_SECRETS_MANAGER`), else `AWS_ENDPOINT_URL`, as the
/// SDK's own loader reads them; no profile file.
#[derive(Debug)]
struct EndpointsFromEnv(fn(&str) -> Option<String>);

impl aws_types::service_config::LoadServiceConfig for EndpointsFromEnv {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let service = key.service_id().to_ascii_uppercase().replace(' ', "_");
        let set = |name: &str| (self.0)(name).filter(|v| !v.trim().is_empty());
        set(&format!("{}_{service}", key.env())).or_else(|| set(key.env()))
    }
}

/// Longest the cold start waits for the warm-up; a slow network just means no head start.
const WARMUP_TIMEOUT: Duration = Duration::from_millis(1500);

/// Open the DynamoDB connections (DNS, TCP, TLS, credentials, signing) during init, so the
/// first request does not pay for them: init runs at full CPU before the first invocation is
/// fetched. `connections` reads go out together, and the client opens a connection for each:
/// as many as the function's first request sends at once (a register's write and directory
/// read), since a request that finds no idle connection opens its own. A failure is only
/// logged; the first request then connects as it would have.
pub async fn warm_up(client: &aws_sdk_dynamodb::Client, table: &str, connections: usize) {
    use aws_sdk_dynamodb::types::AttributeValue;
    let started = Instant::now();
    let get = || {
        client
            .get_item()
            .table_name(table)
            .key(PK, AttributeValue::S(WARMUP_KEY.into()))
            .key(SK, AttributeValue::S(WARMUP_KEY.into()))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .send()
    };
    let gets = futures::future::join_all((0..connections.max(1)).map(|_| get()));
    let result = tokio::time::timeout(WARMUP_TIMEOUT, gets).await;
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    match result {
        Ok(results) => match results.into_iter().find_map(Result::err) {
            None => tracing::info!(connections, latency_ms, "DynamoDB warm-up"),
            Some(err) => tracing::warn!(
                error = %aws_sdk_dynamodb::error::DisplayErrorContext(&err),
                connections,
                latency_ms,
                "DynamoDB warm-up failed; the first request will connect"
            ),
        },
        Err(_) => tracing::warn!(
            connections,
            latency_ms,
            "DynamoDB warm-up timed out; the first request will connect"
        ),
    }
}

/// The plain request a handler sees, with what API Gateway knows in [`RequestMeta`].
pub fn from_lambda(event: lambda_http::Request) -> http::Request {
    let (mut parts, body) = event.into_parts();
    let meta = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => RequestMeta {
            source_ip: ctx.http.source_ip.clone(),
            raw_path: Some(parts.extensions.raw_http_path().to_owned()),
            stage: ctx.stage.clone(),
            gateway_claims: ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| jwt.claims.clone()),
            // No socket of ours: a callback base comes from PUBLIC_BASE_URL only.
            local_addr: None,
        },
        _ => RequestMeta::default(),
    };
    parts.extensions.insert(meta);
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(data) => Bytes::from(data),
        // `Body` is #[non_exhaustive]; any future kind carries no body we understand.
        _ => Bytes::new(),
    };
    ::http::Request::from_parts(parts, bytes)
}

pub fn to_lambda(response: http::Response) -> lambda_http::Response<Body> {
    response.map(|bytes| match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn client_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(endpoint)
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }

    fn request(method: &str, path: &str) -> http::Request {
        ::http::Request::builder()
            .method(method)
            .uri(path)
            .body(Bytes::new())
            .unwrap()
    }

    #[tokio::test]
    async fn each_endpoint_serves_only_its_routes() {
        use crate::http::endpoints::{Heartbeat, ListDevices, Webhooks};
        let env = crate::local::with_dev_defaults(|_| None);
        let config = Config::from_env(&env, Route::needs_of(&Route::ALL)).unwrap();
        let store = Arc::new(crate::store::memory::MemoryStore::new());
        let core = Core::new(config.presence.clone(), Stores::of(store));
        let heartbeat = Heartbeat::build(core.clone(), &config).unwrap();
        let list = ListDevices::build(core.clone(), &config).unwrap();
        let webhooks = Webhooks::build(core, &config).unwrap();
        let status = |response: http::Response| response.status();
        // A one-route function serves its route at whatever path the gateway forwards.
        let answer = invoke(&heartbeat, request("POST", "/stage/phone/voice/heartbeat")).await;
        assert_eq!(status(answer), 401);
        assert_eq!(status(invoke(&list, request("POST", "/x")).await), 405);
        // The webhooks function picks by path, and knows no app route.
        let incoming = invoke(&webhooks, request("POST", "/phone/voice/incoming")).await;
        assert_eq!(status(incoming), 400, "missing signature");
        let dial_status = invoke(&webhooks, request("POST", "/phone/voice/dial-status")).await;
        assert_eq!(status(dial_status), 400, "missing signature");
        let app_route = invoke(&webhooks, request("POST", "/phone/voice/heartbeat")).await;
        assert_eq!(status(app_route), 404);
    }

    /// An endpoint that answers every GetItem with "no item" over keep-alive connections, and
    /// counts the connections it was opened.
    async fn dynamo_stub() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let opened = Arc::new(AtomicUsize::new(0));
        let count = opened.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    // Each GetItem arrives in one read here (a few hundred bytes on loopback).
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {
                        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                                      content-length: 2\r\n\r\n{}";
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (url, opened)
    }

    #[tokio::test]
    async fn the_warm_up_opens_as_many_connections_as_asked_and_requests_reuse_them() {
        use std::sync::atomic::Ordering;
        for connections in [1, 2, 3] {
            let (url, opened) = dynamo_stub().await;
            let client = client_at(&url);
            warm_up(&client, "t", connections).await;
            assert_eq!(opened.load(Ordering::SeqCst), connections);
            // The runtime fetches the first invocation in between; the client's pool takes
            // back a connection only once its response is wholly read, just after.
            tokio::time::sleep(Duration::from_millis(20)).await;
            // As many requests at once as were warmed up find a connection each.
            let gets = (0..connections).map(|_| {
                client
                    .get_item()
                    .table_name("t")
                    .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
                    .send()
            });
            for result in futures::future::join_all(gets).await {
                result.unwrap();
            }
            assert_eq!(
                opened.load(Ordering::SeqCst),
                connections,
                "no new connection"
            );
        }
    }

    #[test]
    fn endpoints_come_from_the_services_variable_then_the_global_one() {
        use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};
        let key = |service| {
            ServiceConfigKey::builder()
                .service_id(service)
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .unwrap()
        };
        let moto = EndpointsFromEnv(|name| match name {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER" => Some("http://127.0.0.1:5000".into()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9000".into()),
            _ => None,
        });
        let secrets = moto.load_config(key("Secrets Manager"));
        assert_eq!(secrets.as_deref(), Some("http://127.0.0.1:5000"));
        let dynamodb = moto.load_config(key("DynamoDB"));
        assert_eq!(dynamodb.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            EndpointsFromEnv(|_| None).load_config(key("DynamoDB")),
            None
        );
    }

    #[tokio::test]
    async fn a_refused_warm_up_returns_without_failing() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let started = Instant::now();
        warm_up(&client_at(&closed), "t", 2).await;
        assert!(started.elapsed() <= WARMUP_TIMEOUT + Duration::from_millis(500));
    }

    #[tokio::test]
    async fn a_silent_endpoint_costs_at_most_the_warm_up_timeout() {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent = format!("http://{}", listener.local_addr().unwrap());
        let _hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let started = Instant::now();
        warm_up(&client_at(&silent), "t", 2).await;
        let waited = started.elapsed();
        assert!(waited >= WARMUP_TIMEOUT, "{waited:?}");
        assert!(
            waited < WARMUP_TIMEOUT + Duration::from_millis(500),
            "{waited:?}"
        );
    }
}
