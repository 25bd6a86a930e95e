//! The local HTTP server: the same handlers Lambda serves, on a socket. Used by the
//! `softphone-presence serve` command and by the end-to-end tests.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::http::{HeaderValue, Method, StatusCode, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::http::{self, ApiError, App, ErrorCode, RequestMeta, Route};

/// The socket layer refuses bodies past this before any handler runs (each route's own limit,
/// no larger, is checked by `http::handle`, as in Lambda).
const MAX_BODY_BYTES: usize = crate::http::MAX_ANY_BODY_BYTES;

/// Routes only the local server has (the settings page, development sign-in, the realtime
/// channel's WebSocket): the Lambda functions never link them. The request keeps hyper's
/// upgrade handle in its extensions, for a route that takes the connection over.
#[async_trait::async_trait]
pub trait LocalRoutes: Send + Sync {
    /// The response for `request`, or `None` when the path is not one of these routes.
    async fn respond(&self, request: &mut http::Request) -> Option<http::Response>;
}

/// Which browser origins may call the API, as the template's `CorsAllowOrigins` says for API
/// Gateway: `*` (the local default), or a list of exact origins.
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Vec<String>,
}

impl Default for Cors {
    fn default() -> Self {
        Self {
            origins: vec!["*".to_owned()],
        }
    }
}

impl Cors {
    /// `CORS_ALLOW_ORIGINS`: comma-separated origins, `*` for any; unset means `*`.
    pub fn from_setting(raw: Option<&str>) -> Self {
        let origins: Vec<String> = raw
            .unwrap_or("*")
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Self { origins }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    fn allow(&self, origin: &str) -> Option<HeaderValue> {
        if self.origins.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        self.origins
            .iter()
            .any(|o| o == origin)
            .then(|| HeaderValue::from_str(origin).ok())
            .flatten()
    }

    fn apply(&self, request_origin: Option<&str>, response: &mut http::Response) {
        let Some(allowed) = request_origin.and_then(|o| self.allow(o)) else {
            return;
        };
        let headers = response.headers_mut();
        if allowed != "*" {
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        // A cross-origin client must read Retry-After to back off as asked, and the admin
        // console the ETag it sends back as If-Match.
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After, ETag"),
        );
    }

    fn preflight(&self, request_origin: Option<&str>) -> http::Response {
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = StatusCode::NO_CONTENT;
        self.apply(request_origin, &mut response);
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, If-Match, If-None-Match"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        response
    }
}

/// How long a client may take over a request on the local server (in AWS, API Gateway and
/// the Function URLs keep their own). Without them a client holding half-sent requests open
/// would keep a task and a socket each for as long as it liked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From when a connection opens, or its previous answer is written, until a request's
    /// headers are complete. hyper starts this clock whenever a connection waits for a
    /// request, so it is also how long a kept-alive connection may sit idle: either way the
    /// connection is closed.
    pub header_read: Duration,
    /// From a request's headers until its body is complete: a stalled body answers 408
    /// `request_timeout` and the connection closes.
    pub body_read: Duration,
}

impl Default for Timeouts {
    /// 30 s each: far more than any client on a working network takes, as hyper's default
    /// header timeout.
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(30),
            body_read: Duration::from_secs(30),
        }
    }
}

/// What a server serves beyond the handlers Lambda serves too, and its timeouts.
#[derive(Default, Clone)]
pub struct Options {
    pub cors: Cors,
    pub local: Option<Arc<dyn LocalRoutes>>,
    pub timeouts: Timeouts,
}

/// Serve until `shutdown` resolves. Connections are handled concurrently.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    serve_with(listener, app, Options::default(), shutdown).await;
}

/// [`serve`] with CORS settings and local-only routes.
pub async fn serve_with(
    listener: TcpListener,
    app: Arc<App>,
    options: Options,
    shutdown: impl Future<Output = ()>,
) {
    let options = Arc::new(options);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let app = app.clone();
        let options = options.clone();
        // The address the client reached: this server's own, for callbacks (never its `Host`).
        let own_addr = stream.local_addr().ok();
        let timeouts = options.timeouts;
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                let options = options.clone();
                async move {
                    Ok::<_, Infallible>(respond(&app, &options, peer, own_addr, request).await)
                }
            });
            // Upgrades on: the realtime channel's WebSocket takes its connection over (and
            // keeps its own idle limit).
            if let Err(err) = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header_read)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await
            {
                tracing::debug!(error = %err, "connection closed with error");
            }
        });
    }
}

/// The operators' health check and the benchmarks' ceiling: a constant answer on the same
/// HTTP stack as every route, without authentication, logging or the store.
pub const HEALTHZ_PATH: &str = "/healthz";

fn healthz(method: &Method) -> http::Response {
    if method != Method::GET && method != Method::HEAD {
        return ApiError::MethodNotAllowed("GET, HEAD").response();
    }
    let mut response = http::Response::new(Bytes::from_static(b"{\"status\":\"ok\"}"));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn respond(
    app: &App,
    options: &Options,
    peer: SocketAddr,
    own_addr: Option<SocketAddr>,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A CORS preflight names the method it asks for; any other OPTIONS is an ordinary request
    // (and refused with 405 like every method a route does not serve).
    if request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return options.cors.preflight(origin.as_deref()).map(Full::new);
    }
    if request.uri().path() == HEALTHZ_PATH {
        return healthz(request.method()).map(Full::new);
    }
    let (mut parts, body) = request.into_parts();
    let read = Limited::new(body, MAX_BODY_BYTES).collect();
    let mut response = match tokio::time::timeout(options.timeouts.body_read, read).await {
        Err(_) => request_timeout(),
        Ok(Err(_)) => ApiError::PayloadTooLarge(MAX_BODY_BYTES).response(),
        Ok(Ok(collected)) => {
            parts.extensions.insert(RequestMeta {
                source_ip: Some(peer.ip().to_string()),
                local_addr: own_addr,
                ..RequestMeta::default()
            });
            let mut request = http::Request::from_parts(parts, collected.to_bytes());
            match Route::for_path(request.uri().path()) {
                Some(route) => http::handle(app, route, request).await,
                None => local(options, &mut request)
                    .await
                    .unwrap_or_else(|| http::not_found(request.uri().path())),
            }
        }
    };
    options.cors.apply(origin.as_deref(), &mut response);
    response.map(Full::new)
}

/// A body that stopped arriving: answered, and the connection closed, since the rest of the
/// body may still come.
fn request_timeout() -> http::Response {
    let mut response = ApiError::refused(
        ErrorCode::RequestTimeout,
        "the request body did not arrive in time",
    )
    .response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

async fn local(options: &Options, request: &mut http::Request) -> Option<http::Response> {
    options.local.as_ref()?.respond(request).await
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::config::Config;
    use crate::store::memory::MemoryStore;
    use crate::store::testing::TestStore;

    async fn exchange(raw_request: &str) -> (String, usize) {
        let env = crate::local::with_dev_defaults(|_| None);
        let config = Config::from_env(&env, Route::needs_of(&Route::ALL)).unwrap();
        let memory = Arc::new(MemoryStore::new());
        let counting = Arc::new(TestStore::new(memory));
        let app = Arc::new(App::new(&config, crate::app::Stores::of(counting.clone())).unwrap());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, async {
            let _ = stopped.await;
        }));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(raw_request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let _ = stop.send(());
        server.await.unwrap();
        (answer, counting.calls())
    }

    #[tokio::test]
    async fn healthz_answers_a_constant_without_the_store() {
        let (answer, store_calls) =
            exchange("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("{\"status\":\"ok\"}"), "{answer}");
        assert_eq!(store_calls, 0);
    }

    #[tokio::test]
    async fn healthz_takes_only_get() {
        let (answer, _) = exchange(
            "POST /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    }
}
