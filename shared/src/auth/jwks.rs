//! An identity provider's signing keys (`APP_JWT_JWKS_URL`), by `kid`: fetched during init,
//! fetched again when a token names a `kid` not in the set, at most once per
//! `APP_JWT_JWKS_MIN_REFRESH_SECONDS` and one fetch at a time, so that a flood of tokens with
//! made-up `kid`s costs the provider at most one request per period. A failed fetch keeps the
//! last good keys. Fetched over [`Outbound`], the SDK's own HTTP/TLS stack.
//!
//! Providers rotate by publishing the next key beside the current one (Cognito, Auth0, Okta,
//! Entra ID, Google): a new `kid` is the signal to fetch. A set older than [`MAX_AGE`] is also
//! fetched again in the background, so that a key the provider withdrew stops being trusted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::clock::Clock;
use crate::config::JwksConfig;
use crate::outbound::Outbound;

/// Longest a fetch may take, at init or for a token: about the DynamoDB warm-up's.
pub(super) const FETCH_TIMEOUT: Duration = Duration::from_millis(1500);
/// Largest key set read. Providers publish a few kilobytes.
const MAX_BODY_BYTES: usize = 256 * 1024;
/// After this long the set is fetched again (in the background, within the rate floor).
pub(super) const MAX_AGE: Duration = Duration::from_secs(3600);

/// One signing key of the set, with the algorithm it verifies.
pub(super) struct JwkKey {
    pub key: DecodingKey,
    pub algorithm: Algorithm,
}

struct KeySet {
    by_kid: HashMap<String, Arc<JwkKey>>,
    /// When it was fetched (on the clock); `None` for the empty set of a process that has
    /// fetched none.
    fetched: Option<Instant>,
}

/// The key set and its fetching. Cheap to clone.
#[derive(Clone)]
pub(super) struct Jwks(Arc<Inner>);

struct Inner {
    url: String,
    outbound: Outbound,
    min_refresh: Duration,
    /// What the set's age and the rate floor are measured on (its monotonic part).
    clock: Clock,
    keys: RwLock<Arc<KeySet>>,
    /// When the last fetch that counts against the rate floor started.
    last_fetch: Mutex<Option<Instant>>,
    /// Held for the length of a fetch: there is never a second one.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub fn new(config: &JwksConfig, clock: Clock) -> Self {
        if config.url.starts_with("http://") {
            tracing::warn!(
                url = %config.url,
                "APP_JWT_JWKS_URL is plain http: anyone on the path can replace the keys (use https outside tests)"
            );
        }
        Self(Arc::new(Inner {
            url: config.url.clone(),
            outbound: Outbound::new(FETCH_TIMEOUT),
            min_refresh: Duration::from_secs(config.min_refresh_seconds.into()),
            clock,
            keys: RwLock::new(Arc::new(KeySet {
                by_kid: HashMap::new(),
                fetched: None,
            })),
            last_fetch: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }))
    }

    /// The fetch during init. A failure only means the first token fetches instead, so it
    /// does not start the rate floor.
    pub async fn prefetch(&self) {
        let _one = self.0.fetching.lock().await;
        let started = self.now();
        if self.fetch().await {
            *self.last_fetch() = Some(started);
        }
    }

    /// The key `kid` names: from the set, or from a fetch when the set lacks it and the rate
    /// floor allows one.
    pub async fn key(&self, kid: &str) -> Option<Arc<JwkKey>> {
        let set = self.set();
        if let Some(key) = set.by_kid.get(kid) {
            if set.fetched.is_some_and(|at| self.since(at) > MAX_AGE) {
                self.refresh_in_background();
            }
            return Some(key.clone());
        }
        let _one = self.0.fetching.lock().await;
        // The fetch this request waited for may have brought the key.
        if let Some(key) = self.set().by_kid.get(kid) {
            return Some(key.clone());
        }
        if !self.may_fetch() {
            return None;
        }
        self.fetch().await;
        self.set().by_kid.get(kid).cloned()
    }

    /// Whether a fetch may start now; if so, it counts as started.
    fn may_fetch(&self) -> bool {
        let mut last = self.last_fetch();
        if last.is_some_and(|at| self.since(at) < self.0.min_refresh) {
            return false;
        }
        *last = Some(self.now());
        true
    }

    fn now(&self) -> Instant {
        self.0.clock.instant()
    }

    fn since(&self, then: Instant) -> Duration {
        self.now().duration_since(then)
    }

    fn refresh_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let this = self.clone();
        runtime.spawn(async move {
            // Another fetch under way will do.
            let Ok(_one) = this.0.fetching.try_lock() else {
                return;
            };
            if this.may_fetch() {
                this.fetch().await;
            }
        });
    }

    fn set(&self) -> Arc<KeySet> {
        self.0
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn last_fetch(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.0.last_fetch.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fetches the set and, when it holds a usable key, replaces the old one. Logs either way.
    async fn fetch(&self) -> bool {
        let started = Instant::now();
        let url = &self.0.url;
        let fetched = self.download().await.and_then(|body| parse(&body));
        let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
        match fetched {
            Ok(by_kid) => {
                let keys = by_kid.len();
                *self.0.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(KeySet {
                    by_kid,
                    fetched: Some(self.now()),
                });
                tracing::info!(url = %url, keys, latency_ms, "JWKS fetched");
                true
            }
            Err(error) => {
                let kept = self.set().by_kid.len();
                tracing::warn!(
                    url = %url,
                    error = %error,
                    kept,
                    latency_ms,
                    "JWKS fetch failed; the last good keys stay in use"
                );
                false
            }
        }
    }

    async fn download(&self) -> Result<Bytes, String> {
        let request = http::Request::get(&self.0.url)
            .header(http::header::ACCEPT, "application/json")
            .body(Bytes::new())
            .map_err(|e| e.to_string())?;
        let answer = self
            .0
            .outbound
            .send(request, MAX_BODY_BYTES)
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("HTTP {}", answer.status));
        }
        Ok(answer.body)
    }
}

/// The usable signing keys of a JWKS document, by `kid`: RS256 (RSA) and ES256 (P-256) keys
/// that have a `kid` and are not for encryption. Other keys are skipped one by one; a set
/// with none usable is an error, so that it never replaces good keys.
pub(super) fn parse(body: &[u8]) -> Result<HashMap<String, Arc<JwkKey>>, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let mut by_kid = HashMap::new();
    for value in document.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        if let Some((kid, key)) = usable(&jwk) {
            by_kid.insert(kid, Arc::new(key));
        }
    }
    if by_kid.is_empty() {
        return Err("no RS256 or ES256 signing key with a kid in the set".into());
    }
    Ok(by_kid)
}

fn usable(jwk: &Jwk) -> Option<(String, JwkKey)> {
    let kid = jwk.common.key_id.clone()?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    // The key's own type decides; a stated `alg` must agree with it.
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    let stated = match jwk.common.key_algorithm {
        None => algorithm,
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(_) => return None,
    };
    if stated != algorithm {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, JwkKey { key, algorithm }))
}
