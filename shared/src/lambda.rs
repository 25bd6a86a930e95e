//! The Lambda side: turn `lambda_http` events into plain HTTP requests for [`crate::http`] and
//! back. A function's `main` is one call to [`run`].

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, service_fn};

use crate::app::App;
use crate::config::{Config, Needs};
use crate::http::{self, RequestMeta, Route};
use crate::store::dynamo::{DynamoStore, client_from_env};

pub use lambda_http::Error;

/// Build everything once from the environment, then serve `route` for the life of the
/// container. Bad configuration stops the cold start with every problem named.
pub async fn run(route: Route) -> Result<(), Error> {
    crate::telemetry::init(crate::telemetry::Format::Json);
    let app = Arc::new(app_from_env(route.needs()).await.inspect_err(|e| {
        tracing::error!(error = %e, "start-up failed");
    })?);
    lambda_http::run(service_fn(move |event: lambda_http::Request| {
        let app = app.clone();
        async move {
            let response = http::handle(&app, route, from_lambda(event)).await;
            Ok::<_, Infallible>(to_lambda(response))
        }
    }))
    .await
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
    let store = Arc::new(DynamoStore::new(client_from_env().await, table));
    App::new(&config, store.clone(), store)
}

/// The plain request a handler sees, with what API Gateway knows in [`RequestMeta`].
pub fn from_lambda(event: lambda_http::Request) -> http::Request {
    let (mut parts, body) = event.into_parts();
    let meta = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => RequestMeta {
            source_ip: ctx.http.source_ip.clone(),
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
        #[allow(unreachable_patterns)]
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
