//! Latency of the realtime channel on a running local server: from the request that causes an
//! event to its frame at the client. Run by `scripts/bench --realtime`, which starts the server
//! (`softphone-presence serve`, development secrets) and raises the open-file limit.
//!
//! Usage: realtime_latency BASE [--users 100] [--devices 10] [--samples 500]
//!
//! Registers `users` × `devices` devices (one app JWT per user, minted with the development
//! secret), opens one realtime connection per device, then takes `samples` samples: each picks
//! a user and flips the Twilio state one of their devices reports (a heartbeat whose change is
//! a `devices.changed` event to all of that user's connections), timing from just before the
//! request to the frame at the first of the user's connections, and to the last (the fan-out).
//! Prints p50, p90, p99 and max of both, in milliseconds, as one JSON line.

use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::{Ws, arg, connect, summary};

const DEV_SECRET: &str = "dev-only-app-jwt-secret-never-deploy";

fn token(email: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims =
        json!({"sub": email, "email": email, "orgId": "org_bench", "iat": now, "exp": now + 3600});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(DEV_SECRET.as_bytes()),
    )
    .expect("token")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .expect("usage: realtime_latency BASE [--users N]");
    let users = arg(&args, "--users", 100);
    let devices = arg(&args, "--devices", 10);
    let samples = arg(&args, "--samples", 500);
    let http = reqwest::Client::new();
    let post = |path: &str, token: &str, body: Value| {
        http.post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    // Register and connect every device, a user at a time.
    let started = Instant::now();
    let mut sockets: Vec<Vec<Ws>> = Vec::new();
    let mut tokens = Vec::new();
    for u in 0..users {
        let token = token(&format!("bench{u}@example.com"));
        let connects = (0..devices).map(|d| {
            let (http, base, token) = (&http, &base, &token);
            async move { connect(http, base, token, &format!("dev{d}"), &["voice"]).await }
        });
        sockets.push(join_all(connects).await);
        tokens.push(token);
    }
    let setup_s = started.elapsed().as_secs_f64();
    // Drain the registrations' own events.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for user in &mut sockets {
        for ws in user.iter_mut() {
            while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await
            {
            }
        }
    }

    let mut first = Vec::with_capacity(samples);
    let mut last = Vec::with_capacity(samples);
    for s in 0..samples {
        let u = s % users;
        let state = if (s / users).is_multiple_of(2) {
            "registered"
        } else {
            "unregistered"
        };
        let body = json!({"deviceId": "dev0", "twilioState": state});
        let sent = Instant::now();
        let request = post("/phone/voice/heartbeat", &tokens[u], body);
        let arrivals = sockets[u].iter_mut().map(|ws| async move {
            loop {
                match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) if text.contains("devices.changed") => {
                        return sent.elapsed().as_secs_f64() * 1000.0;
                    }
                    Ok(Some(Ok(_))) => continue,
                    _ => return f64::INFINITY,
                }
            }
        });
        let (response, times) = futures::join!(request, join_all(arrivals));
        assert!(response.unwrap().status().is_success());
        first.push(times.iter().copied().fold(f64::INFINITY, f64::min));
        last.push(times.iter().copied().fold(0.0, f64::max));
    }
    let lost = last.iter().filter(|t| t.is_infinite()).count();
    for user in &mut sockets {
        for ws in user.iter_mut() {
            let _ = ws.send(Message::Close(None)).await;
        }
    }
    println!(
        "{}",
        json!({
            "connections": users * devices, "users": users, "devices_per_user": devices,
            "samples": samples, "lost": lost, "setup_s": setup_s,
            "first_frame_ms": summary(first), "fan_out_ms": summary(last),
        })
    );
}
