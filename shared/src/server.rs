//! The local HTTP server: the same handlers Lambda serves, on a socket. Used by the
//! `softphone-presence serve` command and by the end-to-end tests.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ::http::{HeaderValue, Method, header};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::app::App;
use crate::http::{self, ApiError, RequestMeta, Route};

/// The socket layer refuses bodies past this before any handler runs.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Serve until `shutdown` resolves. Connections are handled concurrently.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
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
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(respond(&app, peer, request).await) }
            });
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
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
        return ApiError::MethodNotAllowed(Method::GET).response();
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
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    if request.uri().path() == HEALTHZ_PATH {
        return healthz(request.method()).map(Full::new);
    }
    let (mut parts, body) = request.into_parts();
    let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Err(_) => ApiError::PayloadTooLarge(MAX_BODY_BYTES).response(),
        Ok(collected) => {
            parts.extensions.insert(RequestMeta {
                source_ip: Some(peer.ip().to_string()),
                ..RequestMeta::default()
            });
            let request = http::Request::from_parts(parts, collected.to_bytes());
            match Route::for_path(request.uri().path()) {
                Some(route) => http::handle(app, route, request).await,
                None => http::not_found(request.uri().path()),
            }
        }
    };
    response.map(Full::new)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::config::{Config, Needs};
    use crate::store::counting::CountingStore;
    use crate::store::memory::MemoryStore;

    async fn exchange(raw_request: &str) -> (String, usize) {
        let env = crate::local::with_dev_defaults(|_| None);
        let config = Config::from_env(&env, Needs::default()).unwrap();
        let memory = Arc::new(MemoryStore::new());
        let counting = Arc::new(CountingStore::new(memory.clone(), memory));
        let app = Arc::new(App::new(&config, counting.clone(), counting.clone()).unwrap());
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
