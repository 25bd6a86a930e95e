//! Latency of a text, from Twilio's webhook to the frame at the devices of the number's users,
//! on a running local server. Run by `scripts/bench --sms`, which starts the server
//! (`softphone-presence serve`, development secrets, the demo directory).
//!
//! Usage: sms_latency BASE [--devices 5] [--samples 300]
//!
//! Connects `devices` devices with the `sms` capability for each member of Sales (Alice and
//! Bob), then posts `samples` signed texts to Sales, each with a new `MessageSid`, timing from
//! just before the webhook to the `sms.received` frame at the first connection and at the last
//! (every device of both members). Prints p50, p90, p99 and max of both, and of the webhook's
//! own answer, in milliseconds, as one JSON line.

use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use shared::local::{DEV_DEFAULTS, mint_app_jwt};
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::{Ws, arg, connect, summary};

const SALES: &str = "+14155551234";

fn dev(name: &str) -> &'static str {
    DEV_DEFAULTS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .expect("a development default")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .expect("usage: sms_latency BASE [--devices N] [--samples N]");
    let devices = arg(&args, "--devices", 5);
    let samples = arg(&args, "--samples", 300);
    let http = reqwest::Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let secret = dev("APP_JWT_SECRET");
    let mut sockets: Vec<Ws> = Vec::new();
    for email in ["alice@example.com", "bob@example.com"] {
        let token = mint_app_jwt(secret, email, "org_demo", now, 3600).expect("token");
        for d in 0..devices {
            let device = format!("sms{d}");
            sockets.push(connect(&http, &base, &token, &device, &["voice", "sms"]).await);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for ws in sockets.iter_mut() {
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(1), ws.next()).await {}
    }

    let url = format!("{base}/phone/sms/incoming");
    let account = dev("TWILIO_ACCOUNT_SID");
    let auth_token = dev("TWILIO_AUTH_TOKEN");
    let (mut first, mut last, mut answered) = (Vec::new(), Vec::new(), Vec::new());
    for s in 0..samples {
        let sid = format!("SM{:032x}", s + 1);
        let params: Vec<(String, String)> = [
            ("AccountSid", account),
            ("MessageSid", sid.as_str()),
            ("From", "+14155550199"),
            ("To", SALES),
            ("Body", "Is the blue one in stock?"),
            ("NumSegments", "1"),
            ("NumMedia", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let signature = shared::twilio::signature::sign(auth_token, &url, &params);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let sent = Instant::now();
        let request = async {
            let r = http
                .post(&url)
                .header("x-twilio-signature", signature)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "webhook {}", r.status());
            sent.elapsed().as_secs_f64() * 1000.0
        };
        let arrivals = sockets.iter_mut().map(|ws| {
            let sid = sid.clone();
            async move {
                loop {
                    match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                        Ok(Some(Ok(Message::Text(text)))) if text.contains(&sid) => {
                            return sent.elapsed().as_secs_f64() * 1000.0;
                        }
                        Ok(Some(Ok(_))) => continue,
                        _ => return f64::INFINITY,
                    }
                }
            }
        });
        let (answer_ms, times) = futures::join!(request, join_all(arrivals));
        answered.push(answer_ms);
        first.push(times.iter().copied().fold(f64::INFINITY, f64::min));
        last.push(times.iter().copied().fold(0.0, f64::max));
    }
    let lost = last.iter().filter(|t| t.is_infinite()).count();
    for ws in sockets.iter_mut() {
        let _ = ws.send(Message::Close(None)).await;
    }
    println!(
        "{}",
        json!({
            "connections": sockets.len(), "samples": samples, "lost": lost,
            "webhook_answer_ms": summary(answered),
            "first_frame_ms": summary(first), "fan_out_ms": summary(last),
        })
    );
}
