//! A local fake of Twilio's REST API, checking what the real one checks (HTTP Basic auth with
//! the test API key, the form fields a message needs) and answering as it does: 201 JSON for a
//! created message, 400 JSON with Twilio's error `code`, 401, 429, 500, or a slow answer.
//! Media answer with a redirect to a "CDN" path that must be fetched without credentials;
//! recordings are served and deleted. Under `/hooks/` it is a customer's own webhook receiver
//! instead (a directory's `recordingStatusCallback`): any request answered 204 and kept.
//!
//! Behaviour is chosen by the `To` number of a send: see [`FakeTwilio::refuse`],
//! [`FakeTwilio::slow`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub signature: Option<String>,
}

impl Received {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the fake answers a send to a number.
#[derive(Debug, Clone)]
enum Behaviour {
    Refuse {
        status: u16,
        code: u32,
        message: String,
    },
    Slow(Duration),
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    behaviours: HashMap<String, Behaviour>,
    /// Messages the list answers with (inbound texts to reconcile, and everything sent).
    messages: Vec<Value>,
    /// Media files by their path without `.json`: (content type, bytes).
    media: HashMap<String, (String, Vec<u8>)>,
    recordings: HashMap<String, Vec<u8>>,
    /// CDN fetches that carried credentials (must stay empty).
    leaked_credentials: usize,
    next_sid: u64,
    /// The sid the next created message gets, instead of a counted one.
    forced_sid: Option<String>,
    /// The API key it accepts, when not the tests' own (`API_KEY_SID`, `API_KEY_SECRET`).
    key: Option<(String, String)>,
}

#[derive(Clone)]
pub struct FakeTwilio {
    pub base: String,
    state: Arc<Mutex<State>>,
}

pub fn account_path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT_SID}")
}

impl FakeTwilio {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = Self {
            base,
            state: Arc::default(),
        };
        let served = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let fake = served.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: hyper::Request<Incoming>| {
                        let fake = fake.clone();
                        async move { Ok::<_, Infallible>(fake.answer(request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        fake
    }

    /// Sends to `to` get Twilio's error `code` with HTTP `status`.
    pub fn refuse(&self, to: &str, status: u16, code: u32, message: &str) {
        self.state.lock().unwrap().behaviours.insert(
            to.to_owned(),
            Behaviour::Refuse {
                status,
                code,
                message: message.to_owned(),
            },
        );
    }

    /// Sends to `to` are answered after `delay`.
    pub fn slow(&self, to: &str, delay: Duration) {
        self.state
            .lock()
            .unwrap()
            .behaviours
            .insert(to.to_owned(), Behaviour::Slow(delay));
    }

    /// Sends to `to` succeed again.
    pub fn clear(&self, to: &str) {
        self.state.lock().unwrap().behaviours.remove(to);
    }

    /// Only this API key is accepted from now on, as after a key rotation in Twilio's console.
    pub fn accept_only_key(&self, sid: &str, secret: &str) {
        self.state.lock().unwrap().key = Some((sid.to_owned(), secret.to_owned()));
    }

    /// The next message created gets `sid` (to send a status callback for it first).
    pub fn next_message_sid(&self, sid: &str) {
        self.state.lock().unwrap().forced_sid = Some(sid.to_owned());
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The message sends received (POST …/Messages.json).
    pub fn sends(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
            .collect()
    }

    /// The requests the receiver under `/hooks/` got.
    pub fn hooks(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path.starts_with("/hooks/"))
            .collect()
    }

    pub fn leaked_credentials(&self) -> usize {
        self.state.lock().unwrap().leaked_credentials
    }

    fn sid(state: &mut State, prefix: &str) -> String {
        state.next_sid += 1;
        format!("{prefix}{:032x}", state.next_sid)
    }

    /// An inbound text Twilio has (for the reconciler to find), with media files; its sid.
    pub fn add_inbound(
        &self,
        from: &str,
        to: &str,
        body: &str,
        date_sent: &str,
        media: &[(&str, &[u8])],
    ) -> String {
        let mut state = self.state.lock().unwrap();
        let sid = Self::sid(&mut state, if media.is_empty() { "SM" } else { "MM" });
        for (i, (content_type, bytes)) in media.iter().enumerate() {
            let path = format!("{}/Messages/{sid}/Media/ME{i:032x}", account_path());
            state
                .media
                .insert(path, ((*content_type).to_owned(), bytes.to_vec()));
        }
        state.messages.push(json!({
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "from": from,
            "to": to,
            "body": body,
            "status": "received",
            "direction": "inbound",
            "num_segments": "1",
            "num_media": media.len().to_string(),
            "error_code": null,
            "date_created": date_sent,
            "date_sent": date_sent,
        }));
        sid
    }

    /// A media file at a `MediaUrlN` this fake serves; its URL.
    pub fn add_media(
        &self,
        message_sid: &str,
        index: usize,
        content_type: &str,
        bytes: &[u8],
    ) -> String {
        let path = format!(
            "{}/Messages/{message_sid}/Media/ME{index:032x}",
            account_path()
        );
        self.state
            .lock()
            .unwrap()
            .media
            .insert(path.clone(), (content_type.to_owned(), bytes.to_vec()));
        format!("{}{path}", self.base)
    }

    /// A recording Twilio holds (its `.mp3` and `.wav` are these bytes).
    pub fn add_recording(&self, recording_sid: &str, bytes: &[u8]) {
        self.state
            .lock()
            .unwrap()
            .recordings
            .insert(recording_sid.to_owned(), bytes.to_vec());
    }

    /// Whether Twilio still holds the recording (a DELETE removes it).
    pub fn has_recording(&self, recording_sid: &str) -> bool {
        self.state
            .lock()
            .unwrap()
            .recordings
            .contains_key(recording_sid)
    }

    async fn answer(&self, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let method = request.method().to_string();
        let path = request.uri().path().to_owned();
        let query: Vec<(String, String)> =
            form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let header = |name: &str| {
            let value = request.headers().get(name)?.to_str().ok()?;
            Some(value.to_owned())
        };
        let (authorization, signature) = (header("authorization"), header("x-twilio-signature"));
        let body = request.into_body().collect().await.unwrap().to_bytes();
        let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let received = Received {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            form: form.clone(),
            authorization: authorization.clone(),
            signature,
        };
        self.state.lock().unwrap().received.push(received.clone());
        if path.starts_with("/hooks/") {
            return raw(204, "text/plain", Vec::new());
        }

        if let Some(file) = path.strip_prefix("/cdn/") {
            // The CDN: pre-signed, and never given the account's credentials.
            let mut state = self.state.lock().unwrap();
            if authorization.is_some() {
                state.leaked_credentials += 1;
            }
            return match state.media.iter().find(|(p, _)| p.ends_with(file)) {
                Some((_, (content_type, bytes))) => raw(200, content_type, bytes.clone()),
                None => raw(404, "text/plain", b"gone".to_vec()),
            };
        }
        let key = self.state.lock().unwrap().key.clone();
        let (sid, secret) = key.unwrap_or_else(|| (API_KEY_SID.into(), API_KEY_SECRET.into()));
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{sid}:{secret}"))
        );
        if authorization.as_deref() != Some(expected.as_str()) {
            return error(401, 20003, "Authenticate");
        }
        let Some(rest) = path.strip_prefix(&account_path()) else {
            return error(404, 20404, "The requested resource was not found");
        };
        match (method.as_str(), rest) {
            ("POST", "/Messages.json") => self.create_message(&received).await,
            ("GET", "/Messages.json") => self.list_messages(&query),
            ("GET", media_list) if media_list.ends_with("/Media.json") => {
                let prefix = format!("{}{}", account_path(), media_list.trim_end_matches(".json"));
                let state = self.state.lock().unwrap();
                let mut files: Vec<Value> = state
                    .media
                    .iter()
                    .filter(|(p, _)| p.starts_with(&prefix))
                    .map(|(p, (content_type, _))| {
                        json!({
                            "sid": p.rsplit('/').next().unwrap(),
                            "content_type": content_type,
                            "uri": format!("{p}.json"),
                        })
                    })
                    .collect();
                files.sort_by_key(|f| f["sid"].as_str().unwrap().to_owned());
                json_answer(200, json!({ "media_list": files }))
            }
            ("GET", media) if media.contains("/Media/ME") => {
                let known = self.state.lock().unwrap().media.contains_key(&path);
                if !known {
                    return error(404, 20404, "The requested resource was not found");
                }
                let file = path.rsplit('/').next().unwrap();
                hyper::Response::builder()
                    .status(307)
                    .header("location", format!("/cdn/{file}"))
                    .body(Full::new(Bytes::new()))
                    .unwrap()
            }
            ("GET", recording) if recording.starts_with("/Recordings/RE") => {
                let (sid, format) = recording
                    .trim_start_matches("/Recordings/")
                    .split_once('.')
                    .unwrap_or_default();
                let state = self.state.lock().unwrap();
                match (state.recordings.get(sid), format) {
                    (Some(bytes), "mp3") => raw(200, "audio/mpeg", bytes.clone()),
                    (Some(bytes), "wav") => raw(200, "audio/x-wav", bytes.clone()),
                    _ => error(404, 20404, "The requested resource was not found"),
                }
            }
            ("DELETE", recording) if recording.starts_with("/Recordings/RE") => {
                let sid = recording
                    .trim_start_matches("/Recordings/")
                    .trim_end_matches(".json");
                match self.state.lock().unwrap().recordings.remove(sid) {
                    Some(_) => raw(204, "text/plain", Vec::new()),
                    None => error(404, 20404, "The requested resource was not found"),
                }
            }
            _ => error(404, 20404, "The requested resource was not found"),
        }
    }

    async fn create_message(&self, received: &Received) -> hyper::Response<Full<Bytes>> {
        let Some(to) = received.field("To").map(str::to_owned) else {
            return error(400, 21604, "A 'To' phone number is required.");
        };
        let Some(from) = received.field("From").map(str::to_owned) else {
            return error(400, 21603, "A 'From' phone number is required.");
        };
        let body = received.field("Body").unwrap_or_default().to_owned();
        if body.is_empty() && received.field("MediaUrl").is_none() {
            return error(400, 21602, "Message body is required.");
        }
        if let Some(callback) = received.field("StatusCallback")
            && !(callback.starts_with("https://") || callback.starts_with("http://"))
        {
            return error(400, 21609, "Invalid StatusCallback");
        }
        let behaviour = self.state.lock().unwrap().behaviours.get(&to).cloned();
        match behaviour {
            Some(Behaviour::Refuse {
                status,
                code,
                message,
            }) => {
                return match status {
                    429 | 500..=599 => raw(
                        status,
                        "application/json",
                        format!(r#"{{"code":{code},"message":"{message}","status":{status}}}"#)
                            .into_bytes(),
                    ),
                    _ => error(status, code, &message),
                };
            }
            // Wall time on purpose: the service's deadline on Twilio's API is what is tested.
            Some(Behaviour::Slow(delay)) => tokio::time::sleep(delay).await,
            None => {}
        }
        let mut state = self.state.lock().unwrap();
        let sid = match state.forced_sid.take() {
            Some(sid) => sid,
            None => Self::sid(&mut state, "SM"),
        };
        let message = json!({
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "from": from,
            "to": to,
            "body": body,
            "status": "queued",
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "error_code": null,
            "date_created": "Tue, 01 Dec 2026 12:00:00 +0000",
            "date_sent": null,
        });
        state.messages.push(message.clone());
        json_answer(201, message)
    }

    fn list_messages(&self, query: &[(String, String)]) -> hyper::Response<Full<Bytes>> {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let page_size: usize = get("PageSize").and_then(|s| s.parse().ok()).unwrap_or(50);
        let page: usize = get("Page").and_then(|s| s.parse().ok()).unwrap_or(0);
        let to = get("To");
        let state = self.state.lock().unwrap();
        let matching: Vec<&Value> = state
            .messages
            .iter()
            .filter(|m| to.as_deref().is_none_or(|to| m["to"] == to))
            .collect();
        let chunk: Vec<Value> = matching
            .iter()
            .skip(page * page_size)
            .take(page_size)
            .map(|m| (*m).clone())
            .collect();
        let more = matching.len() > (page + 1) * page_size;
        let next = more.then(|| {
            let mut next: Vec<(String, String)> =
                query.iter().filter(|(k, _)| k != "Page").cloned().collect();
            next.push(("Page".into(), (page + 1).to_string()));
            next.push(("PageToken".into(), format!("PA{page}")));
            let q = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(next)
                .finish();
            format!("{}/Messages.json?{q}", account_path())
        });
        json_answer(
            200,
            json!({ "messages": chunk, "next_page_uri": next, "page": page, "page_size": page_size }),
        )
    }
}

fn raw(status: u16, content_type: &str, body: Vec<u8>) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn json_answer(status: u16, body: Value) -> hyper::Response<Full<Bytes>> {
    raw(status, "application/json", body.to_string().into_bytes())
}

/// Twilio's error body.
fn error(status: u16, code: u32, message: &str) -> hyper::Response<Full<Bytes>> {
    json_answer(
        status,
        json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    )
}
