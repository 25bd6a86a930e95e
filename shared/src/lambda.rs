//! The Lambda side: turn `lambda_http` events into plain HTTP requests for [`crate::http`] and
//! back. A function's `main` is one call to [`run`].

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, service_fn};

use crate::app::App;
use crate::config::{Config, Needs};
use crate::http::{self, RequestMeta, Route};
use crate::store::dynamo::DynamoStore;

pub use lambda_http::Error;

/// Build everything once from the environment, then serve `route` for the life of the
/// container. Bad configuration stops the cold start with every problem named.
pub async fn run(route: Route) -> Result<(), Error> {
    serve(&[route]).await
}

/// Serve several routes from one function (the Twilio webhooks), chosen by path.
pub async fn serve(routes: &[Route]) -> Result<(), Error> {
    let routes: Arc<[Route]> = routes.into();
    crate::telemetry::init(crate::telemetry::Format::Json);
    let needs = routes
        .iter()
        .fold(Needs::default(), |acc, r| acc.union(r.needs()));
    let app = Arc::new(app_from_env(needs).await.inspect_err(|e| {
        tracing::error!(error = %e, "start-up failed");
    })?);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let app = app.clone();
        let routes = routes.clone();
        async move {
            Ok::<_, Infallible>(to_lambda(
                serve_one(&app, &routes, from_lambda(event)).await,
            ))
        }
    }))
    .await
}

/// One event for a function serving `routes`: the only route, or the one the path names.
pub async fn serve_one(app: &App, routes: &[Route], request: http::Request) -> http::Response {
    let route = match routes {
        [only] => Some(*only),
        _ => Route::for_path(request.uri().path()).filter(|r| routes.contains(r)),
    };
    match route {
        Some(route) => http::handle(app, route, request).await,
        None => http::not_found(request.uri().path()),
    }
}

/// An [`App`] on DynamoDB configured from the process environment.
pub async fn app_from_env(needs: Needs) -> Result<App, String> {
    let env = |name: &str| std::env::var(name).ok();
    let config = Config::from_env(
        &env,
        Needs {
            table: true,
            ..needs
        },
    )
    .map_err(|e| e.to_string())?;
    let table = config.table_name.clone().unwrap_or_default();
    let store = Arc::new(DynamoStore::new(lambda_client().await, table));
    App::new(&config, store.clone(), store)
}

/// A DynamoDB client with only the settings a Lambda has: credentials from the environment
/// (or, with SnapStart, the container endpoint; web identity for completeness) and the region
/// from `AWS_REGION`. No profile, SSO or instance-metadata credential lookups.
pub async fn lambda_client() -> aws_sdk_dynamodb::Client {
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
    crate::store::dynamo::client_from(loader).await
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
