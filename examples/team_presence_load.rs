//! Team presence under load on a running local server (`softphone-presence serve`, memory
//! store, the demo directory): many connections of the demo org watch it, and one person's
//! status changes reach them all. Run by `scripts/bench --team`.
//!
//! Usage: team_presence_load BASE [--watchers 1000] [--samples 300]
//!
//! 1. Opens `watchers` realtime connections (100 users of the demo org, `watchers / 100`
//!    devices each, 200 at a time), each subscribing to `"org"`.
//! 2. `samples` times, Alice (a person of the demo directory) sets her status, alternately
//!    away and available: from just before `PUT /phone/presence/status` to the `team.presence`
//!    frame naming her at the first watcher, and at the last.
//!
//! Prints one JSON line with the figures.

use std::time::{Duration, Instant};

use futures::SinkExt;
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use serde_json::json;
use shared::local::{dev_default, mint_app_jwt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::{arg, connect, summary};

const AT_ONCE: usize = 200;
const USERS: usize = 100;

fn token(email: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let secret = dev_default("APP_JWT_SECRET").expect("the development secret");
    mint_app_jwt(secret, email, "org_demo", now, 7200).expect("token")
}

/// A watcher: the instants its reader saw a `team.presence` of Alice.
async fn watcher(
    http: &reqwest::Client,
    base: &str,
    user: usize,
    device: usize,
) -> mpsc::UnboundedReceiver<Instant> {
    let token = token(&format!("w{user}@bench.example"));
    let ws = connect(http, base, &token, &format!("dev{device}"), &["voice"]).await;
    let (mut sink, mut stream) = ws.split();
    sink.send(Message::text(r#"{"type":"subscribe","team":"org"}"#))
        .await
        .expect("subscribe");
    let (tx, seen) = mpsc::unbounded_channel();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _sink = sink;
        let mut ready_tx = Some(ready_tx);
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame {
                if text.contains("\"subscribed\"") {
                    if let Some(ready) = ready_tx.take() {
                        let _ = ready.send(());
                    }
                } else if text.contains("team.presence") && text.contains("alice@example.com") {
                    let _ = tx.send(Instant::now());
                }
            }
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(10), ready).await;
    seen
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().expect("the server's base URL");
    let watchers = arg(&args, "--watchers", 1000);
    let samples = arg(&args, "--samples", 300);
    let http = reqwest::Client::new();
    let devices = watchers.div_ceil(USERS);
    let pairs: Vec<(usize, usize)> = (0..USERS)
        .flat_map(|u| (0..devices).map(move |d| (u, d)))
        .take(watchers)
        .collect();
    let started = Instant::now();
    let mut seen: Vec<mpsc::UnboundedReceiver<Instant>> = stream::iter(pairs)
        .map(|(u, d)| {
            let (http, base) = (&http, &base);
            async move { watcher(http, base, u, d).await }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let setup_s = started.elapsed().as_secs_f64();

    let alice = token("alice@example.com");
    // Alice's own device live first, so each change below is one of her status alone.
    let _alice_ws = connect(&http, &base, &alice, "alice_web", &["voice"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for rx in &mut seen {
        while rx.try_recv().is_ok() {}
    }
    let mut first = Vec::with_capacity(samples);
    let mut last = Vec::with_capacity(samples);
    for s in 0..samples {
        let status = if s % 2 == 0 { "away" } else { "available" };
        let sent = Instant::now();
        let request = http
            .put(format!("{base}/phone/presence/status"))
            .bearer_auth(&alice)
            .json(&json!({"status": status}))
            .send();
        let arrivals = seen.iter_mut().map(|rx| async move {
            match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                Ok(Some(at)) => at.duration_since(sent).as_secs_f64() * 1000.0,
                _ => f64::INFINITY,
            }
        });
        let (response, times) = futures::join!(request, join_all(arrivals));
        assert!(response.expect("status").status().is_success());
        first.push(times.iter().copied().fold(f64::INFINITY, f64::min));
        last.push(times.iter().copied().fold(0.0, f64::max));
    }
    let lost = last.iter().filter(|t| t.is_infinite()).count();
    println!(
        "{}",
        json!({
            "watchers": seen.len(), "setup_s": setup_s, "samples": samples, "lost": lost,
            "first_frame_ms": summary(first), "all_watchers_ms": summary(last),
        })
    );
}
