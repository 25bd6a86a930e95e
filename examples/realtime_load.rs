//! The realtime channel under load on a running local server: many open connections, what each
//! costs the server, their keep-alives, the push latency, and how long they all take to come
//! back after a restart. Run by `scripts/bench --realtime`, which starts the server
//! (`softphone-presence serve`, development secrets, memory store), raises the open-file limit
//! and, at `RESTART`, restarts the server.
//!
//! Usage: realtime_load BASE [--users 1000] [--devices 10] [--samples 500] [--server-pid PID]
//!
//! 1. Registers `users` × `devices` devices (one app JWT per user, minted with the development
//!    secret) and opens one realtime connection per device, 200 at a time. Every connection is
//!    read all the time by a task of its own, as a browser's would be (which also answers the
//!    server's own WebSocket pings).
//! 2. Memory: the server's resident set before and after, per connection (`--server-pid`).
//! 3. Keep-alive: every connection sends `{"type":"ping"}` (each renews its device's socket
//!    presence in the store) and waits for its pong; the server's CPU time for all of them.
//! 4. Idle: the server's CPU time over 30 s with every connection open and quiet (its own
//!    pings to each, every 15 s).
//! 5. Push latency: `samples` heartbeats that flip a device's Twilio state, each a
//!    `devices.changed` to all of its user's connections: from just before the request to the
//!    frame at the user's first connection, and at the last.
//! 6. Restart: prints `RESTART` and reads the new server's base URL from stdin; then every
//!    device registers again (the memory store starts empty), takes a ticket and reconnects,
//!    200 at a time, as the web client does after a close: the time until all are connected.
//!
//! Prints one JSON line with every figure.

use std::time::{Duration, Instant};

use futures::stream::{self, SplitSink, StreamExt};
use futures::{SinkExt, future::join_all};
use serde_json::json;
use shared::local::{dev_default, mint_app_jwt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::{Ws, arg, connect, summary};

/// Connections opened at once: a crowd of browsers, not one burst of ten thousand.
const AT_ONCE: usize = 200;

/// An app token of the bench org, signed with the server's development secret.
fn token(email: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let secret = dev_default("APP_JWT_SECRET").expect("the development secret");
    mint_app_jwt(secret, email, "org_bench", now, 7200).expect("token")
}

/// What a connection's reader saw.
enum Seen {
    Changed(Instant),
    Pong,
    Closed,
}

/// One open connection: where to send, and what its reader saw.
struct Link {
    sink: SplitSink<Ws, Message>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

fn read_all_the_time(ws: Ws) -> Link {
    let (sink, mut stream) = ws.split();
    let (tx, seen) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(frame) = stream.next().await {
            let seen = match frame {
                Ok(Message::Text(text)) if text.contains("devices.changed") => {
                    Seen::Changed(Instant::now())
                }
                Ok(Message::Text(text)) if text.contains("\"pong\"") => Seen::Pong,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if tx.send(seen).is_err() {
                return;
            }
        }
        let _ = tx.send(Seen::Closed);
    });
    Link { sink, seen }
}

/// Register and connect every (user, device), `AT_ONCE` at a time.
async fn connect_all(
    http: &reqwest::Client,
    base: &str,
    tokens: &[String],
    devices: usize,
) -> Vec<Vec<Link>> {
    let pairs: Vec<(usize, usize)> = (0..tokens.len())
        .flat_map(|u| (0..devices).map(move |d| (u, d)))
        .collect();
    let opened: Vec<(usize, Link)> = stream::iter(pairs)
        .map(|(u, d)| async move {
            let ws = connect(http, base, &tokens[u], &format!("dev{d}"), &["voice"]).await;
            (u, read_all_the_time(ws))
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut users: Vec<Vec<Link>> = (0..tokens.len()).map(|_| Vec::new()).collect();
    for (u, link) in opened {
        users[u].push(link);
    }
    users
}

fn rss_kib(pid: Option<u32>) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // SC_CLK_TCK is 100 on Linux.
    Some(ticks / 100.0)
}

/// Drop what the readers saw so far (the registrations' own events).
fn drain(users: &mut [Vec<Link>]) {
    for link in users.iter_mut().flatten() {
        while link.seen.try_recv().is_ok() {}
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .expect("usage: realtime_load BASE [--users N]");
    let users = arg(&args, "--users", 1000);
    let devices = arg(&args, "--devices", 10);
    let samples = arg(&args, "--samples", 500);
    let pid = args
        .iter()
        .position(|a| a == "--server-pid")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse::<u32>().ok());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(AT_ONCE)
        .build()
        .expect("client");
    let tokens: Vec<String> = (0..users)
        .map(|u| token(&format!("bench{u}@example.com")))
        .collect();
    let connections = users * devices;

    // 1-2: connect, and what it costs the server.
    let rss_before = rss_kib(pid);
    let started = Instant::now();
    let mut links = connect_all(&http, &base, &tokens, devices).await;
    let setup_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(pid);
    drain(&mut links);

    // 3: every connection's keep-alive, once.
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    for link in links.iter_mut().flatten() {
        let _ = link.sink.send(Message::text(r#"{"type":"ping"}"#)).await;
    }
    let waits = links.iter_mut().flatten().map(|link| async move {
        loop {
            match tokio::time::timeout(Duration::from_secs(30), link.seen.recv()).await {
                Ok(Some(Seen::Pong)) => return true,
                Ok(Some(Seen::Changed(_))) => continue,
                _ => return false,
            }
        }
    });
    let ponged = join_all(waits).await.into_iter().filter(|p| *p).count();
    let keepalive_s = started.elapsed().as_secs_f64();
    let keepalive_cpu = cpu_seconds(pid).zip(cpu_before).map(|(a, b)| a - b);

    // 4: quiet, every connection open.
    let cpu_before = cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(30)).await;
    let idle_cpu = cpu_seconds(pid).zip(cpu_before).map(|(a, b)| a - b);
    let open_after_idle = links
        .iter_mut()
        .flatten()
        .filter_map(|link| link.seen.try_recv().ok())
        .filter(|seen| matches!(seen, Seen::Closed))
        .count();

    // 5: push latency.
    let mut first = Vec::with_capacity(samples);
    let mut last = Vec::with_capacity(samples);
    for s in 0..samples {
        let u = s % users;
        let state = if (s / users).is_multiple_of(2) {
            "registered"
        } else {
            "unregistered"
        };
        let sent = Instant::now();
        let request = http
            .post(format!("{base}/phone/voice/heartbeat"))
            .bearer_auth(&tokens[u])
            .json(&json!({"deviceId": "dev0", "twilioState": state}))
            .send();
        let arrivals = links[u].iter_mut().map(|link| async move {
            loop {
                match tokio::time::timeout(Duration::from_secs(5), link.seen.recv()).await {
                    Ok(Some(Seen::Changed(at))) => {
                        return at.duration_since(sent).as_secs_f64() * 1000.0;
                    }
                    Ok(Some(Seen::Pong)) => continue,
                    _ => return f64::INFINITY,
                }
            }
        });
        let (response, times) = futures::join!(request, join_all(arrivals));
        assert!(response.expect("heartbeat").status().is_success());
        first.push(times.iter().copied().fold(f64::INFINITY, f64::min));
        last.push(times.iter().copied().fold(0.0, f64::max));
    }
    let lost = last.iter().filter(|t| t.is_infinite()).count();

    // 6: the server restarts; everyone comes back.
    println!("RESTART");
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await
    .expect("stdin")
    .expect("the new base URL");
    let new_base = line.trim().to_owned();
    drop(links);
    let started = Instant::now();
    let back = connect_all(&http, &new_base, &tokens, devices).await;
    let reconnect_s = started.elapsed().as_secs_f64();
    let reconnected: usize = back.iter().map(Vec::len).sum();

    println!(
        "{}",
        json!({
            "connections": connections, "users": users, "devices_per_user": devices,
            "setup_s": setup_s,
            "rss_before_kib": rss_before, "rss_after_kib": rss_after,
            "kib_per_connection": rss_after.zip(rss_before).map(|(a, b)| (a - b) / connections as f64),
            "keepalive": {"pinged": connections, "ponged": ponged, "wall_s": keepalive_s,
                          "server_cpu_s": keepalive_cpu},
            "idle_30s": {"server_cpu_s": idle_cpu, "closed": open_after_idle},
            "samples": samples, "lost": lost,
            "first_frame_ms": summary(first), "fan_out_ms": summary(last),
            "restart": {"reconnected": reconnected, "seconds": reconnect_s},
        })
    );
}
