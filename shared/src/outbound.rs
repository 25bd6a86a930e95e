//! Requests this service makes to other HTTP servers (Twilio's REST API, an OIDC provider's
//! JWKS), over the AWS SDK's own connector: the same hyper 1 + rustls (aws-lc) stack the
//! DynamoDB client already links, so a function gains no second HTTP or TLS implementation
//! (`scripts/check-deps` keeps it so) and little binary size.
//!
//! Every request has one deadline covering connect, send and the whole body, and a cap on the
//! body it reads: a slow or endless answer costs at most the deadline, never the Lambda's
//! timeout or its memory.

use std::time::Duration;

use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::{Provider, TlsContext, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use bytes::{Bytes, BytesMut};

/// What went wrong with an outbound request. Carries no URL query or credential: the callers
/// log it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    #[error("connection failed: {0}")]
    Connection(String),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("request not sendable: {0}")]
    Request(String),
}

/// An answer read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A client for outbound requests; cheap to clone (the connector's pool is shared).
#[derive(Clone, Debug)]
pub struct Outbound {
    connector: std::sync::Arc<Connector>,
    deadline: Duration,
}

impl Outbound {
    /// A client whose requests each end within `deadline`.
    pub fn new(deadline: Duration) -> Self {
        Self::with_tls(deadline, TlsContext::default())
    }

    /// [`Self::new`] that also trusts the certificate `pem` (a test's local TLS fake of APNs).
    #[cfg(feature = "test-util")]
    pub fn trusting(deadline: Duration, pem: &str) -> Self {
        use aws_smithy_http_client::tls::TrustStore;
        let trust = TrustStore::default().with_pem_certificate(pem.as_bytes());
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("a TLS context");
        Self::with_tls(deadline, context)
    }

    fn with_tls(deadline: Duration, context: TlsContext) -> Self {
        // The deadline below bounds the whole exchange; the connector's own read timeout would
        // end it earlier under another name.
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(deadline)
            .build();
        let connector = Connector::builder()
            .connector_settings(settings)
            .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
            .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build();
        Self {
            connector: std::sync::Arc::new(connector),
            deadline,
        }
    }

    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Sends `request` and reads at most `max_body` bytes of its answer, all within the
    /// deadline. Redirects are not followed: the caller decides where it may go.
    pub async fn send(
        &self,
        request: http::Request<Bytes>,
        max_body: usize,
    ) -> Result<Answer, OutboundError> {
        let exchange = async {
            let request = HttpRequest::try_from(request.map(SdkBody::from))
                .map_err(|e| OutboundError::Request(e.to_string()))?;
            let response = self
                .connector
                .call(request)
                .await
                .map_err(|e| OutboundError::Connection(error_chain(&e)))?;
            let status = response.status().as_u16();
            let mut headers = http::HeaderMap::new();
            for (name, value) in response.headers() {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(value),
                ) {
                    headers.append(name, value);
                }
            }
            let body = read_capped(response.into_body(), max_body).await?;
            Ok(Answer {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.deadline, exchange)
            .await
            .map_err(|_| OutboundError::Timeout(self.deadline))?
    }
}

async fn read_capped(body: SdkBody, max: usize) -> Result<Bytes, OutboundError> {
    let mut stream = ByteStream::new(body);
    let mut read = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| OutboundError::Connection(error_chain(&e)))?;
        if read.len() + chunk.len() > max {
            return Err(OutboundError::TooLarge(max));
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read.freeze())
}

/// The error and its sources on one line ("connection refused" is usually a source).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A server that answers each connection with `answer` after `delay`.
    async fn serve(answer: &'static str, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = socket.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        base
    }

    fn get(url: &str) -> http::Request<Bytes> {
        http::Request::get(url).body(Bytes::new()).unwrap()
    }

    #[tokio::test]
    async fn reads_status_headers_and_body() {
        let base = serve(
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            Duration::ZERO,
        )
        .await;
        let answer = Outbound::new(Duration::from_secs(2))
            .send(get(&base), 1024)
            .await
            .unwrap();
        assert_eq!(answer.status, 201);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(&answer.body[..], b"{}");
    }

    #[tokio::test]
    async fn a_slow_answer_ends_at_the_deadline() {
        let base = serve("HTTP/1.1 200 OK\r\n\r\n", Duration::from_secs(5)).await;
        let outcome = Outbound::new(Duration::from_millis(200))
            .send(get(&base), 1024)
            .await;
        assert_eq!(
            outcome.unwrap_err(),
            OutboundError::Timeout(Duration::from_millis(200))
        );
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_refused() {
        let base = serve(
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
            Duration::ZERO,
        )
        .await;
        let outcome = Outbound::new(Duration::from_secs(2))
            .send(get(&base), 4)
            .await;
        assert_eq!(outcome.unwrap_err(), OutboundError::TooLarge(4));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connection_error() {
        let outcome = Outbound::new(Duration::from_secs(2))
            .send(get("http://127.0.0.1:9/"), 4)
            .await;
        assert!(
            matches!(outcome, Err(OutboundError::Connection(_))),
            "{outcome:?}"
        );
    }
}
