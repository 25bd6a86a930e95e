//! What the latency examples share: argument parsing, percentiles, the WebSocket type, and
//! opening a device's realtime connection on a running local server.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `--name N` from the command line, else `default`.
pub fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// p50, p90, p99 and max of `ms`.
pub fn summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(|a, b| a.total_cmp(b));
    json!({
        "p50": percentile(&ms, 0.5), "p90": percentile(&ms, 0.9),
        "p99": percentile(&ms, 0.99), "max": ms.last().copied().unwrap_or(0.0),
    })
}

/// Register `device` for the token's user with `capabilities`, take a ticket and connect it.
pub async fn connect(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    device: &str,
    capabilities: &[&str],
) -> Ws {
    let body = json!({"deviceId": device, "platform": "web", "capabilities": capabilities});
    let r = http
        .post(format!("{base}/phone/voice/register-device"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "register {}", r.status());
    let r = http
        .post(format!("{base}/phone/events/ticket"))
        .bearer_auth(token)
        .json(&json!({"deviceId": device}))
        .send()
        .await
        .unwrap();
    let ticket: Value = r.json().await.unwrap();
    let mut request = ticket["url"]
        .as_str()
        .unwrap()
        .into_client_request()
        .unwrap();
    let protocols = format!(
        "softphone-presence.v1, {}",
        ticket["ticket"].as_str().unwrap()
    );
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .expect("connect")
        .0
}
