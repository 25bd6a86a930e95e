//! The local server's development secrets are public (shared/src/local.rs), so it uses them only
//! when the environment configures no credential at all, and then says so; given some, it
//! needs every one. The attack this stops: a server with a real app JWT secret and Twilio
//! settings but no `REALTIME_TICKET_SECRET` accepted tickets signed with the public
//! development value, opening any user's channel without an app token.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::binary::{Server, serve_command};

/// Every credential the local server needs, none of them a development value.
pub(crate) const REAL_CREDENTIALS: &[(&str, &str)] = &[
    (
        "APP_JWT_SECRET",
        "a-real-app-jwt-secret-from-the-environment",
    ),
    ("TWILIO_ACCOUNT_SID", "AC5ec2e75ec2e75ec2e75ec2e75ec2e75e"),
    ("TWILIO_API_KEY_SID", "SK5ec2e75ec2e75ec2e75ec2e75ec2e75e"),
    ("TWILIO_API_KEY_SECRET", "a-real-api-key-secret"),
    ("TWILIO_AUTH_TOKEN", "a-real-twilio-auth-token"),
    (
        "REALTIME_TICKET_SECRET",
        "a-real-realtime-ticket-secret-of-48-characters!!",
    ),
];

/// `REAL_CREDENTIALS` without `left_out`.
fn all_but(left_out: &[&str]) -> Vec<(&'static str, &'static str)> {
    REAL_CREDENTIALS
        .iter()
        .copied()
        .filter(|(name, _)| !left_out.contains(name))
        .collect()
}

/// Run `serve` with `env`: its stderr if it exited within 20 s, `None` if it was serving.
fn refusal(env: &[(&str, &str)]) -> Option<String> {
    let mut child = serve_command()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start softphone-presence");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "serve exited successfully");
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return Some(stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(Server(child));
    None
}

#[test]
fn a_server_given_some_credentials_refuses_to_start_naming_each_missing_one() {
    // The finding's configuration: a real app JWT secret and Twilio settings, no ticket secret.
    let stderr = refusal(&all_but(&["REALTIME_TICKET_SECRET"]))
        .expect("refused to start without REALTIME_TICKET_SECRET");
    assert!(
        stderr.contains("REALTIME_TICKET_SECRET is required"),
        "{stderr}"
    );
    assert!(stderr.contains("development secrets"), "says why: {stderr}");

    // Two missing: both named, in one message.
    let stderr = refusal(&all_but(&["TWILIO_AUTH_TOKEN", "REALTIME_TICKET_SECRET"]))
        .expect("refused to start without TWILIO_AUTH_TOKEN");
    for missing in [
        "TWILIO_AUTH_TOKEN is required",
        "REALTIME_TICKET_SECRET is required",
    ] {
        assert!(stderr.contains(missing), "{missing}: {stderr}");
    }

    // An identity provider instead of the JWT secret counts as configuring too.
    let stderr = refusal(&[("APP_JWT_JWKS_URL", "https://idp.example.com/jwks.json")])
        .expect("refused to start with only a key set");
    for missing in [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_KEY_SID",
        "TWILIO_API_KEY_SECRET",
        "TWILIO_AUTH_TOKEN",
        "REALTIME_TICKET_SECRET",
    ] {
        assert!(
            stderr.contains(&format!("{missing} is required")),
            "{missing}: {stderr}"
        );
    }
    assert!(!stderr.contains("APP_JWT_SECRET is required"), "{stderr}");

    // A development value copied among real ones is no secret either.
    let mut copied = all_but(&["TWILIO_AUTH_TOKEN"]);
    copied.push(("TWILIO_AUTH_TOKEN", "dev-only-twilio-auth-token"));
    let stderr = refusal(&copied).expect("refused the public auth token");
    assert!(
        stderr.contains("TWILIO_AUTH_TOKEN set to the public development value"),
        "{stderr}"
    );
}

/// The banner up to its token line, with the server still running.
fn banner_of(env: &[(&str, &str)]) -> (Server, Vec<String>) {
    let mut child = serve_command()
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start softphone-presence");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let last = line.starts_with("export TOKEN=") || line.starts_with("app tokens:");
        banner.push(line);
        if last {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (server, banner)
}

#[test]
fn a_server_given_no_credentials_warns_in_its_banner() {
    let (_server, banner) = banner_of(&[]);
    let text = banner.join("\n");
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("WARNING: development secrets in use")),
        "{text}"
    );
    assert!(
        text.contains("export TOKEN="),
        "a development token: {text}"
    );
    // Red only on a terminal: piped, the line is plain.
    assert!(!text.contains('\u{1b}'), "{text}");

    let (_server, banner) = banner_of(REAL_CREDENTIALS);
    let text = banner.join("\n");
    assert!(!text.contains("development secrets"), "{text}");
    assert!(!text.contains("export TOKEN="), "{text}");
}

#[tokio::test]
async fn a_ticket_forged_with_the_development_secret_opens_no_channel() {
    // The finding's server does not start at all…
    assert!(refusal(&all_but(&["REALTIME_TICKET_SECRET"])).is_some());

    // …and one with every secret its own refuses the forged ticket for a live device whose own
    // ticket it accepts.
    let (_server, banner) = banner_of(REAL_CREDENTIALS);
    let base = banner[0]
        .strip_prefix("softphone-presence listening on ")
        .expect("address first")
        .to_owned();
    let now = crate::helpers::now_s();
    let (jwt_secret, email, org) = (REAL_CREDENTIALS[0].1, "alice@example.com", "org_demo");
    let token = shared::local::mint_app_jwt(jwt_secret, email, org, now, 600).unwrap();
    let http = reqwest::Client::new();
    let registered: serde_json::Value = http
        .post(format!("{base}/phone/voice/register-device"))
        .bearer_auth(&token)
        .json(&json!({"deviceId": "laptop", "platform": "web"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let identity = registered["identity"]
        .as_str()
        .expect("registered")
        .to_owned();
    let claims = json!({
        "iss": "softphone-presence", "aud": "softphone-presence/realtime",
        "sub": identity, "org": org, "dev": "laptop", "caps": ["voice", "sms"],
        "iat": now, "exp": now + 60, "jti": "0123456789abcdef0123456789abcdef",
    });
    let dev_secret = shared::local::dev_default("REALTIME_TICKET_SECRET").unwrap();
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(dev_secret.as_bytes()),
    )
    .unwrap();
    let url = format!("{}/phone/events/connect", base.replacen("http", "ws", 1));
    assert_eq!(open(&url, &forged).await, Err(401));

    let issued: serde_json::Value = http
        .post(format!("{base}/phone/events/ticket"))
        .bearer_auth(&token)
        .json(&json!({"deviceId": "laptop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket = issued["ticket"].as_str().expect("a ticket");
    assert_eq!(open(&url, ticket).await, Ok(()));
}

/// Open the realtime channel with `ticket`: the handshake's refusal status if refused.
async fn open(url: &str, ticket: &str) -> Result<(), u16> {
    let mut request = url.into_client_request().unwrap();
    let protocols = format!("softphone-presence.v1, {ticket}");
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(()),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(err) => panic!("handshake failed: {err}"),
    }
}
