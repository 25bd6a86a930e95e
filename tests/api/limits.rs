//! Limits that must follow the contract: a body the contract allows is never refused for its
//! size, and the local server gives a client bounded time for each part of a request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use shared::App;
use shared::config::Config;
use shared::http::MAX_SMS_SEND_BODY_BYTES;
use shared::server::{Options, Timeouts};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::fake_twilio::FakeTwilio;
use crate::helpers::{StoreKind, alice, spawn_app_with, stores, test_env};
use crate::sms::{CUSTOMER, SALES_ID};

/// A send body with `text` as it is, every other field escaped character by character as a
/// client may, and `padding` spaces of whitespace (valid anywhere in JSON).
fn send_body(text: &str, id: &str, padding: usize) -> String {
    let escaped =
        |s: &str| -> String { s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect() };
    format!(
        "{{\"phoneId\":\"{}\",\"to\":\"{}\",\"body\":\"{text}\",\"clientMessageId\":\"{}\"{}}}",
        escaped(SALES_ID),
        escaped(CUSTOMER),
        escaped(id),
        " ".repeat(padding)
    )
}

#[tokio::test]
async fn a_text_of_1600_escaped_emoji_is_sent_and_a_body_past_its_limit_is_refused() {
    let twilio = FakeTwilio::start().await;
    let app = spawn_app_with(StoreKind::Memory, &[("TWILIO_API_BASE_URL", &twilio.base)]).await;
    // 1,600 characters (the documented limit), each an emoji as a JSON encoder that escapes
    // everything outside ASCII writes it: a surrogate pair of escapes, 12 bytes.
    let emoji = "\\uD83D\\uDE00".repeat(1600);
    let body = send_body(&emoji, "emoji-1", 0);
    assert!(body.len() > 19_200, "{}", body.len());
    let (status, sent) = app.post_raw("/phone/sms/send", &alice(), body).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let sends = twilio.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].field("Body"), Some("😀".repeat(1600).as_str()));

    // Exactly the limit is served; one byte more is refused before anything is sent.
    let exact = send_body(&emoji, "emoji-2", 0);
    let exact = send_body(&emoji, "emoji-2", MAX_SMS_SEND_BODY_BYTES - exact.len());
    assert_eq!(exact.len(), MAX_SMS_SEND_BODY_BYTES);
    let (status, sent) = app.post_raw("/phone/sms/send", &alice(), exact).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let over = send_body(&emoji, "emoji-3", 0);
    let over = send_body(&emoji, "emoji-3", MAX_SMS_SEND_BODY_BYTES + 1 - over.len());
    let (status, refused) = app.post_raw("/phone/sms/send", &alice(), over).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    assert_eq!(refused["error"]["code"], "payload_too_large");
    assert_eq!(twilio.sends().len(), 2);
}

/// A server whose timeouts are `timeouts`: its address.
async fn serve_with_timeouts(timeouts: Timeouts) -> (String, tokio::sync::oneshot::Sender<()>) {
    let env = test_env(&[]);
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    let config = Config::from_env(&|k| env.get(k).cloned(), needs).expect("test config");
    let app = Arc::new(App::new(&config, stores(StoreKind::Memory).await.shared()).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let options = Options {
        timeouts,
        ..Options::default()
    };
    tokio::spawn(shared::server::serve_with(listener, app, options, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Everything the server writes until it closes the connection, or `None` if it is still open
/// after `wait`.
async fn until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn half_sent_requests_and_idle_connections_are_closed_after_their_timeouts() {
    let short = Duration::from_millis(300);
    let (addr, _stop) = serve_with_timeouts(Timeouts {
        header_read: short,
        body_read: short,
    })
    .await;
    let wait = Duration::from_secs(5);

    // Half a request's headers, then nothing.
    let mut half = TcpStream::connect(&addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nuser-agent: slow")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    assert!(
        until_closed(&mut half, wait).await.is_some(),
        "half-sent headers kept the connection open"
    );
    assert!(started.elapsed() >= short, "closed before its timeout");

    // A kept-alive connection, answered, then idle.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut idle, wait)
        .await
        .expect("idle connection closed");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");

    // Whole headers, then a body that stops arriving: 408, and closed.
    let mut stalled = TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(
            b"POST /phone/voice/heartbeat HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"deviceId\"",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut stalled, wait)
        .await
        .expect("stalled body closed");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}
