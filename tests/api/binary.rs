//! The `softphone-presence` binary as a newcomer runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve --port 0` and read the banner for the address and the development token.
fn start(args: &[&str]) -> (Server, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_softphone-presence"))
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .env_remove("APP_JWT_SECRET")
        .env_remove("APP_JWT_PUBLIC_KEY")
        .env_remove("AUTH_MODE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start softphone-presence");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut base = None;
    let mut lines = BufReader::new(stdout).lines();
    while let Some(line) = lines.next() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("softphone-presence listening on ") {
            base = Some(url.to_owned());
        }
        if let Some(token) = line.strip_prefix("export TOKEN=") {
            // Keep draining stdout so the server never writes into a closed pipe.
            let token = token.to_owned();
            std::thread::spawn(move || lines.for_each(drop));
            return (server, base.expect("address printed first"), token);
        }
    }
    panic!("serve exited without printing a token");
}

#[tokio::test]
async fn serve_prints_a_working_token_and_serves_every_endpoint() {
    let (_server, base, token) = start(&[]);
    let http = reqwest::Client::new();
    let register = http
        .post(format!("{base}/phone/voice/register-device"))
        .bearer_auth(&token)
        .json(&json!({"deviceId": "dev_laptop", "platform": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 200);
    for (method, path, body) in [
        (
            "POST",
            "/phone/voice/heartbeat",
            Some(json!({"deviceId": "dev_laptop"})),
        ),
        ("GET", "/phone/voice/devices", None),
        ("GET", "/phone/user-phones", None),
        (
            "POST",
            "/phone/voice/unregister-device",
            Some(json!({"deviceId": "dev_laptop"})),
        ),
    ] {
        let request = match body {
            Some(body) => http.post(format!("{base}{path}")).json(&body),
            None => http.request(method.parse().unwrap(), format!("{base}{path}")),
        };
        let response = request.bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
    }
}

#[test]
fn a_bad_directory_file_is_refused_with_every_problem() {
    let dir = std::env::temp_dir().join(format!("bad-directory-{}.json", std::process::id()));
    std::fs::write(
        &dir,
        r#"{"orgs":[{"orgId":"o","phones":[{"id":"p","phoneNumber":"123","friendlyName":"x"},
            {"id":"q","phoneNumber":"+14155550000","friendlyName":"y","groupId":"nope"}]}]}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_softphone-presence"))
        .args(["serve", "--port", "0", "--directory"])
        .arg(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "orgs[0].phones[0].phoneNumber",
        "orgs[0].phones[0]: needs exactly one",
        "orgs[0].phones[1].groupId",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected} missing from:\n{stderr}"
        );
    }
}
