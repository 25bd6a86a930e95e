//! A local identity provider for the JWKS tests: signing keys made from the test keys in
//! `keys/`, and an HTTP server publishing their public halves as a JWKS document, which a test
//! can change (a rotation), take down (503) and whose requests it counts.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// A provider's signing key: its `kid`, algorithm and private half.
pub struct SigningKey {
    pub kid: String,
    algorithm: Algorithm,
    key: EncodingKey,
}

impl SigningKey {
    /// An RS256 key of an RSA private key in PEM form.
    pub fn rsa(kid: &str, pem: &str) -> Self {
        Self {
            kid: kid.into(),
            algorithm: Algorithm::RS256,
            key: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        }
    }

    /// An ES256 key of a P-256 private key in PEM form.
    pub fn ec(kid: &str, pem: &str) -> Self {
        Self {
            kid: kid.into(),
            algorithm: Algorithm::ES256,
            key: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        }
    }

    /// The public half as the provider publishes it.
    pub fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.algorithm).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        let mut value = serde_json::to_value(jwk).unwrap();
        value["use"] = json!("sig");
        value
    }

    /// A token of `claims` signed with this key, its header naming `kid`.
    pub fn sign_as(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }

    /// A token of `claims` signed with this key under its own `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(Some(&self.kid), claims)
    }
}

struct State {
    keys: Mutex<Vec<Value>>,
    up: AtomicBool,
    requests: AtomicUsize,
}

/// The provider's `jwks.json`, served on a local port.
pub struct Provider {
    pub url: String,
    state: Arc<State>,
}

impl Provider {
    /// Serving `keys`.
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        let state = Arc::new(State {
            keys: Mutex::new(Vec::new()),
            up: AtomicBool::new(true),
            requests: AtomicUsize::new(0),
        });
        let served = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(answer(&request, &state)) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let provider = Self { url, state };
        provider.publish(keys);
        provider
    }

    /// From now on, the set is `keys`.
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    /// Up, or answering every request with 503.
    pub fn set_up(&self, up: bool) {
        self.state.up.store(up, Ordering::SeqCst);
    }

    /// The requests for the key set so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

fn answer(request: &hyper::Request<Incoming>, state: &State) -> hyper::Response<Full<Bytes>> {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let (status, body) = if !state.up.load(Ordering::SeqCst) {
        (503, "{\"error\": \"down\"}".to_owned())
    } else if request.uri().path() != "/.well-known/jwks.json" {
        (404, "{}".to_owned())
    } else {
        let keys = state.keys.lock().unwrap().clone();
        (200, json!({ "keys": keys }).to_string())
    };
    hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}
