//! The local HTTP server: the same handlers Lambda serves, on a socket. Used by the
//! `softphone-presence serve` command and by the end-to-end tests.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

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

async fn respond(
    app: &App,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
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
