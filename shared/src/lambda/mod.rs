//! The Lambda side: build a function's [`Endpoint`] from the environment, open its DynamoDB
//! connections during init, and turn `lambda_http` events into plain HTTP requests for
//! [`crate::http`] and back. A function's `main` is one call to [`run`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, service_fn};

use crate::app::{Core, StartupError, Stores};
use crate::config::{Config, Needs};
use crate::http::{self, Endpoint, RequestMeta, Route};
use crate::store::dynamo::DynamoStore;
use crate::store::dynamo::keys::{PK, SK, WARMUP_KEY};

pub use lambda_http::Error;

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
    match pick(E::ROUTES, &request) {
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
    match pick(routes, &request) {
        Some(route) => http::handle(app, route, request).await,
        None => http::not_found(request.uri().path()),
    }
}

/// The only route, or the one of `routes` the path names.
fn pick(routes: &[Route], request: &http::Request) -> Option<Route> {
    match routes {
        [only] => Some(*only),
        _ => Route::for_path(request.uri().path()).filter(|r| routes.contains(r)),
    }
}

/// `E` on DynamoDB, configured from the process environment, with as many DynamoDB
/// connections open as its routes send requests at once (see [`warm_up`]).
pub async fn endpoint_from_env<E: Endpoint>() -> Result<E, StartupError> {
    let env = |name: &str| std::env::var(name).ok();
    let needs = Needs {
        table: true,
        ..Route::needs_of(E::ROUTES)
    };
    let config = Config::from_env(&env, needs)?;
    let table = config.table_name.clone().unwrap_or_default();
    let client = lambda_client().await;
    let store = Arc::new(DynamoStore::new(client.clone(), table.clone()));
    let endpoint = E::build(Core::new(config.presence, Stores::of(store)), &config)?;
    warm_up(&client, &table, Route::concurrent_store_calls_of(E::ROUTES)).await;
    Ok(endpoint)
}

/// A DynamoDB client with only the settings a Lambda has ([`lambda_sdk_config`]).
pub async fn lambda_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&lambda_sdk_config().await)
}

/// The AWS settings a Lambda has: credentials from the environment (or, with SnapStart, the
/// container endpoint; web identity for completeness) and the region from `AWS_REGION`. No
/// profile, SSO or instance-metadata credential lookups.
pub async fn lambda_sdk_config() -> aws_config::SdkConfig {
    use aws_config::ecs::EcsCredentialsProvider;
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    use aws_config::meta::credentials::CredentialsProviderChain;
    use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
    let credentials = CredentialsProviderChain::first_try(
        "Environment",
        EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("EcsContainer", EcsCredentialsProvider::builder().build())
    .or_else(
        "WebIdentityToken",
        WebIdentityTokenCredentialsProvider::builder().build(),
    );
    let loader = aws_config::from_env()
        .credentials_provider(credentials)
        .region(EnvironmentVariableRegionProvider::new());
    crate::store::dynamo::sdk_config(loader).await
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
        use crate::http::endpoints::{Heartbeat, ListDevices, VoiceWebhooks};
        let env = crate::local::with_dev_defaults(|_| None);
        let config = Config::from_env(&env, Route::needs_of(&Route::ALL)).unwrap();
        let store = Arc::new(crate::store::memory::MemoryStore::new());
        let core = Core::new(config.presence, Stores::of(store));
        let heartbeat = Heartbeat::build(core.clone(), &config).unwrap();
        let list = ListDevices::build(core.clone(), &config).unwrap();
        let webhooks = VoiceWebhooks::build(core, &config).unwrap();
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
