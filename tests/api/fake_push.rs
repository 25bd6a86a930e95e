//! Local fakes of Apple's and Google's push services, checking what the real ones check.
//!
//! - [`FakeApns`]: HTTP/2 over TLS on loopback (a certificate made for the run, which only the
//!   test's client trusts). Every request must be HTTP/2, `POST /3/device/{hex token}`, carry
//!   a provider token that verifies (ES256) against the public key of the `.p8` key the test
//!   generated, with its key id and team, and the app's topic and a push type. Answers 200,
//!   or what the test told it for that token (410 `Unregistered`, 400 `BadDeviceToken`, 403
//!   `InvalidProviderToken`, 429, 503), as Apple does: a JSON `reason`.
//! - [`FakeFcm`]: the OAuth token endpoint, which verifies the service account's RS256 JWT
//!   assertion (issuer, audience, scope, expiry) against its public key and hands out an access
//!   token; and `messages:send`, which takes only that bearer token. Answers 200 or what the
//!   test told it for that registration token (404 `UNREGISTERED`, a 404 without it, 400
//!   `INVALID_ARGUMENT`, 429, 503), in FCM v1's error format.
//!
//! The signatures are checked with aws-lc-rs directly, not with the JWT library the service
//! signs with.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const APNS_KEY_ID: &str = "ABC123DEFG";
pub const APNS_TEAM_ID: &str = "DEF123GHIJ";
pub const APNS_TOPIC: &str = "com.example.softphone";
pub const FCM_PROJECT: &str = "softphone-test";
pub const FCM_CLIENT_EMAIL: &str = "alerts@softphone-test.iam.gserviceaccount.com";
/// Told to the FCM fake: answer 404 without `UNREGISTERED`.
pub const NOT_FOUND_ELSEWHERE: u16 = 1404;

/// PEM of DER bytes, as a file holds it.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// One request a fake accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub token: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
    pub at: Instant,
    /// The provider's credential it carried (APNs provider token, FCM access token).
    pub credential: String,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Per device token: the statuses to answer, in turn (the last one repeats).
    plans: HashMap<String, Vec<u16>>,
    /// Requests refused for a bad credential or form, with why.
    refused: Vec<String>,
    /// FCM: access tokens handed out.
    issued: Vec<String>,
    token_requests: usize,
}

#[derive(Clone)]
pub struct Fake {
    state: Arc<Mutex<State>>,
}

impl Fake {
    /// Answer `statuses` in turn to requests for `token` (the last repeats).
    pub fn answer(&self, token: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .plans
            .insert(token.to_owned(), statuses.to_vec());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn received_for(&self, token: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.token == token)
            .collect()
    }

    pub fn refused(&self) -> Vec<String> {
        self.state.lock().unwrap().refused.clone()
    }

    pub fn token_requests(&self) -> usize {
        self.state.lock().unwrap().token_requests
    }

    fn refuse(&self, why: String) {
        self.state.lock().unwrap().refused.push(why);
    }

    /// The status planned for `token`'s next request (200 when none).
    fn next_status(&self, token: &str) -> u16 {
        let mut state = self.state.lock().unwrap();
        match state.plans.get_mut(token) {
            Some(plan) if plan.len() > 1 => plan.remove(0),
            Some(plan) => plan.first().copied().unwrap_or(200),
            None => 200,
        }
    }
}

fn reply(status: u16, headers: &[(&str, &str)], body: Value) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (name, value) in headers {
        response = response.header(*name, *value);
    }
    let body = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    response.body(Full::new(body)).unwrap()
}

fn headers_of(request: &hyper::Request<Incoming>) -> HashMap<String, String> {
    request
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect()
}

/// A JWT's header and claims, if its signature verifies with `verify` over `header.claims`.
fn verified_jwt(jwt: &str, verify: impl Fn(&[u8], &[u8]) -> bool) -> Option<(Value, Value)> {
    let mut parts = jwt.split('.');
    let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
    let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
    if !verify(format!("{h}.{c}").as_bytes(), &signature) {
        return None;
    }
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    Some((header, claims))
}

fn now_s() -> i64 {
    crate::helpers::now_s()
}

/// Apple's push service, for one team's key and one app.
pub struct FakeApns {
    pub fake: Fake,
    pub base_url: String,
    /// The certificate the client must trust.
    pub cert_pem: String,
    /// The `.p8` key's PEM (what `APNS_KEY` holds).
    pub key_pem: String,
}

impl FakeApns {
    pub async fn start() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let key_pem = pem("PRIVATE KEY", pkcs8.as_ref());

        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_pem = cert.cert.pem();
        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into()),
        )
        .unwrap();
        let mut tls = tls;
        // Apple's service speaks HTTP/2 only.
        tls.alpn_protocols = vec![b"h2".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!(
            "https://localhost:{}",
            listener.local_addr().unwrap().port()
        );
        let fake = Fake {
            state: Arc::default(),
        };
        let serving = fake.clone();
        let public = Arc::new(public);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, fake, public) = (acceptor.clone(), serving.clone(), public.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = service_fn(move |request| {
                        let (fake, public) = (fake.clone(), public.clone());
                        async move { Ok::<_, Infallible>(apns_answer(request, &fake, &public).await) }
                    });
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            fake,
            base_url,
            cert_pem,
            key_pem,
        }
    }

    /// The settings that point the service at this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("APNS_KEY", self.key_pem.clone()),
            ("APNS_KEY_ID", APNS_KEY_ID.to_owned()),
            ("APNS_TEAM_ID", APNS_TEAM_ID.to_owned()),
            ("APNS_TOPIC", APNS_TOPIC.to_owned()),
            ("APNS_BASE_URL", self.base_url.clone()),
            (
                "APNS_SANDBOX_BASE_URL",
                format!("{}/sandbox", self.base_url),
            ),
        ]
    }
}

async fn apns_answer(
    request: hyper::Request<Incoming>,
    fake: &Fake,
    public: &[u8],
) -> hyper::Response<Full<Bytes>> {
    let refuse = |status: u16, reason: &str, why: String| {
        fake.refuse(why);
        reply(status, &[], json!({ "reason": reason }))
    };
    if request.version() != hyper::Version::HTTP_2 {
        return refuse(400, "BadRequest", "not HTTP/2".into());
    }
    let headers = headers_of(&request);
    let path = request.uri().path().to_owned();
    let token = path
        .strip_prefix("/sandbox")
        .unwrap_or(&path)
        .strip_prefix("/3/device/")
        .map(str::to_owned);
    let Some(token) = token.filter(|t| t.len() >= 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
    else {
        return refuse(400, "BadDeviceToken", format!("path {path}"));
    };
    if request.method() != hyper::Method::POST {
        return refuse(405, "MethodNotAllowed", "not POST".into());
    }
    let jwt = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("bearer "))
        .unwrap_or_default()
        .to_owned();
    let key = UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, public);
    let Some((header, claims)) = verified_jwt(&jwt, |m, s| key.verify(m, s).is_ok()) else {
        return refuse(403, "InvalidProviderToken", "signature".into());
    };
    let iat = claims["iat"].as_i64().unwrap_or(0);
    if header["alg"] != "ES256" || header["kid"] != APNS_KEY_ID || claims["iss"] != APNS_TEAM_ID {
        return refuse(403, "InvalidProviderToken", format!("{header} {claims}"));
    }
    if now_s() - iat > 3600 {
        return refuse(403, "ExpiredProviderToken", "older than an hour".into());
    }
    if headers.get("apns-topic").map(String::as_str) != Some(APNS_TOPIC) {
        return refuse(400, "TopicDisallowed", "topic".into());
    }
    if !matches!(
        headers.get("apns-push-type").map(String::as_str),
        Some("alert" | "background")
    ) {
        return refuse(400, "InvalidPushType", "push type".into());
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return refuse(400, "PayloadEmpty", "body".into());
    };
    if body.to_string().len() > 4096 {
        return refuse(413, "PayloadTooLarge", "body".into());
    }
    let status = fake.next_status(&token);
    fake.state.lock().unwrap().received.push(Received {
        token: token.clone(),
        headers,
        body,
        at: Instant::now(),
        credential: jwt,
    });
    match status {
        200 => reply(
            200,
            &[("apns-id", "00000000-0000-0000-0000-000000000001")],
            Value::Null,
        ),
        // As Apple answers a token signed with a key it does not know.
        403 => reply(403, &[], json!({"reason": "InvalidProviderToken"})),
        410 => reply(
            410,
            &[],
            json!({"reason": "Unregistered", "timestamp": now_s() * 1000}),
        ),
        400 => reply(400, &[], json!({"reason": "BadDeviceToken"})),
        429 => reply(429, &[], json!({"reason": "TooManyRequests"})),
        status => reply(status, &[], json!({"reason": "ServiceUnavailable"})),
    }
}

/// Google's FCM v1 and OAuth token endpoint, for one project's service account.
pub struct FakeFcm {
    pub fake: Fake,
    pub base_url: String,
    /// The service account's JSON key file (what `FCM_SERVICE_ACCOUNT` holds).
    pub service_account: String,
}

impl FakeFcm {
    pub async fn start() -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let service_account = json!({
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "private_key_id": "k1",
            "private_key": pem("PRIVATE KEY", pkcs8.as_ref()),
            "client_email": FCM_CLIENT_EMAIL,
            "token_uri": format!("{base_url}/token"),
        })
        .to_string();
        let fake = Fake {
            state: Arc::default(),
        };
        let serving = fake.clone();
        let (public, token_url) = (Arc::new(public), format!("{base_url}/token"));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (fake, public, token_url) =
                    (serving.clone(), public.clone(), token_url.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let (fake, public, token_url) =
                            (fake.clone(), public.clone(), token_url.clone());
                        async move {
                            Ok::<_, Infallible>(
                                fcm_answer(request, &fake, &public, &token_url).await,
                            )
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            fake,
            base_url,
            service_account,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FCM_SERVICE_ACCOUNT", self.service_account.clone()),
            ("FCM_BASE_URL", self.base_url.clone()),
            ("FCM_TOKEN_URL", format!("{}/token", self.base_url)),
        ]
    }
}

fn fcm_error(status: u16, code: &str, extra: Value) -> hyper::Response<Full<Bytes>> {
    let mut details = vec![json!({
        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
        "errorCode": code,
    })];
    if !extra.is_null() {
        details.push(extra);
    }
    let status_name = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "UNAVAILABLE",
    };
    reply(
        status,
        &[],
        json!({"error": {"code": status, "message": "fake", "status": status_name, "details": details}}),
    )
}

async fn fcm_answer(
    request: hyper::Request<Incoming>,
    fake: &Fake,
    public: &[u8],
    token_url: &str,
) -> hyper::Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let headers = headers_of(&request);
    let body = request.into_body().collect().await.unwrap().to_bytes();
    if path == "/token" {
        fake.state.lock().unwrap().token_requests += 1;
        let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
        let key = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public);
        let assertion = form.get("assertion").cloned().unwrap_or_default();
        let verified = verified_jwt(&assertion, |m, s| key.verify(m, s).is_ok());
        let good = form.get("grant_type").map(String::as_str)
            == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
            && verified.as_ref().is_some_and(|(header, claims)| {
                header["alg"] == "RS256"
                    && claims["iss"] == FCM_CLIENT_EMAIL
                    && claims["aud"] == token_url
                    && claims["scope"].as_str().is_some_and(|s| {
                        s.contains("https://www.googleapis.com/auth/firebase.messaging")
                    })
                    && claims["exp"].as_i64().unwrap_or(0) > now_s()
            });
        if !good {
            fake.refuse("token assertion".into());
            return reply(400, &[], json!({"error": "invalid_grant"}));
        }
        let mut state = fake.state.lock().unwrap();
        let access = format!("ya29.fake-{}", state.issued.len() + 1);
        state.issued.push(access.clone());
        return reply(
            200,
            &[],
            json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}),
        );
    }
    if path != format!("/v1/projects/{FCM_PROJECT}/messages:send") {
        fake.refuse(format!("path {path}"));
        return fcm_error(404, "UNSPECIFIED_ERROR", Value::Null);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if !fake.state.lock().unwrap().issued.contains(&bearer) {
        fake.refuse("bearer".into());
        return fcm_error(401, "THIRD_PARTY_AUTH_ERROR", Value::Null);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return fcm_error(400, "INVALID_ARGUMENT", Value::Null);
    };
    let token = body["message"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let status = fake.next_status(&token);
    fake.state.lock().unwrap().received.push(Received {
        token: token.clone(),
        headers,
        body,
        at: Instant::now(),
        credential: bearer,
    });
    match status {
        200 => reply(
            200,
            &[],
            json!({"name": format!("projects/{FCM_PROJECT}/messages/1")}),
        ),
        404 => fcm_error(404, "UNREGISTERED", Value::Null),
        // A 404 that says nothing of the token (a wrong path, a proxy in front).
        NOT_FOUND_ELSEWHERE => fcm_error(404, "UNSPECIFIED_ERROR", Value::Null),
        400 => fcm_error(
            400,
            "INVALID_ARGUMENT",
            json!({"@type": "type.googleapis.com/google.rpc.BadRequest",
                   "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}),
        ),
        429 => fcm_error(429, "QUOTA_EXCEEDED", Value::Null),
        status => fcm_error(status, "UNAVAILABLE", Value::Null),
    }
}
