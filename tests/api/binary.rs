//! The `softphone-presence` binary as a newcomer runs it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::json;

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve --port 0` and read the banner for the address and the development token.
pub(crate) fn start(args: &[&str]) -> (Server, String, String) {
    start_with(args, &[])
}

/// `serve --port 0` with none of the environment's credentials: whether the server uses the
/// development ones is for each test to say.
pub(crate) fn serve_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_softphone-presence"));
    command.args(["serve", "--port", "0"]);
    for name in shared::local::CREDENTIAL_SETTINGS {
        command.env_remove(name);
    }
    command
}

fn start_with(args: &[&str], env: &[(&str, &str)]) -> (Server, String, String) {
    let mut child = serve_command()
        .args(args)
        .env_remove("CORS_ALLOW_ORIGINS")
        .envs(env.iter().copied())
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
    let out = serve_command()
        .arg("--directory")
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

#[tokio::test]
async fn the_settings_page_and_its_development_sign_in_are_served() {
    let (_server, base, _) = start(&[]);
    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for asset in ["/assets/settings.js", "/assets/settings.css"] {
        assert!(html.contains(asset), "the page links {asset}");
        let response = http.get(format!("{base}{asset}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(!response.bytes().await.unwrap().is_empty());
    }

    let users: serde_json::Value = http
        .get(format!("{base}/dev/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let erin = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "erin@example.com")
        .expect("every directory user is listed");
    assert_eq!(erin["name"], "Erin Evans");
    assert_eq!(erin["orgId"], "org_demo");

    let signed_in: serde_json::Value = http
        .post(format!("{base}/dev/sign-in"))
        .json(&json!({"email": "bob@example.com", "orgId": "org_demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["token"].as_str().unwrap();
    let register = http
        .post(format!("{base}/phone/voice/register-device"))
        .bearer_auth(token)
        .json(&json!({"deviceId": "bob_laptop", "platform": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), 200, "the development token works");
    let refused = http
        .post(format!("{base}/dev/sign-in"))
        .json(&json!({"email": "mallory@example.com", "orgId": "org_demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "only directory users");

    // Bob is live: a simulated call to Sales would ring him.
    let simulated: serde_json::Value = http
        .post(format!("{base}/dev/simulate-call"))
        .json(&json!({"phoneNumber": "+14155551234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(simulated["outcome"], "dial", "{simulated}");
    assert_eq!(
        simulated["ringing"],
        json!(["u_org_5Fdemo__bob_40example_2Ecom"])
    );

    // The page shows each number's policy and the steps a call would go through: Support
    // rings Carol, then Bob, ten seconds each; Carol has no live device, so Bob alone.
    let simulate = |number: &'static str| {
        let http = http.clone();
        let url = format!("{base}/dev/simulate-call");
        async move {
            let response = http.post(url).json(&json!({"phoneNumber": number})).send();
            response
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let support = simulate("+14155551235").await;
    assert_eq!(
        support["policy"]["group"]["strategy"], "sequential",
        "{support}"
    );
    assert_eq!(
        support["steps"],
        json!([{"ringing": ["u_org_5Fdemo__bob_40example_2Ecom"], "seconds": 10}])
    );
    // The night line keeps no hours at all: closed now, nobody rung, its closed message.
    let night = simulate("+14155551236").await;
    assert_eq!(night["policy"]["hours"]["openNow"], false, "{night}");
    assert_eq!(night["policy"]["hours"]["timeZone"], "America/New_York");
    assert_eq!(night["steps"], json!([]));
    assert!(
        night["twiml"].as_str().unwrap().contains("We are closed"),
        "{night}"
    );
}

#[tokio::test]
async fn with_a_real_secret_there_is_no_development_sign_in() {
    let (_server, base, _) = start_secret();
    let http = reqwest::Client::new();
    for path in ["/dev/users", "/dev/sign-in"] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the page itself is still there");
}

/// `serve` with real (non-development) secrets: no token banner.
fn start_secret() -> (Server, String, String) {
    let mut child = serve_command()
        .envs(crate::local_secrets::REAL_CREDENTIALS.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start softphone-presence");
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    std::thread::spawn(move || lines.for_each(drop));
    let base = first
        .strip_prefix("softphone-presence listening on ")
        .expect("address first")
        .to_owned();
    (server, base, String::new())
}

#[tokio::test]
async fn browsers_on_other_origins_may_call_the_api_as_configured() {
    let http = reqwest::Client::new();
    let preflight = |base: String, origin: &'static str| {
        let http = http.clone();
        async move {
            http.request(
                reqwest::Method::OPTIONS,
                format!("{base}/phone/voice/heartbeat"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap()
        }
    };
    // Locally any origin by default.
    let (_server, base, token) = start(&[]);
    let answer = preflight(base.clone(), "http://localhost:5173").await;
    assert_eq!(answer.status(), 204);
    let headers = answer.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    // The admin console's preconditions, from a console hosted on another origin.
    let allowed_headers = headers["access-control-allow-headers"].to_str().unwrap();
    assert!(
        allowed_headers.contains("If-Match") && allowed_headers.contains("If-None-Match"),
        "{allowed_headers}"
    );
    // DELETE: a voicemail is deleted from the web app.
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    let list = http
        .get(format!("{base}/phone/voice/devices"))
        .bearer_auth(&token)
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(list.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        list.headers()["access-control-expose-headers"],
        "Retry-After, ETag"
    );

    // CORS_ALLOW_ORIGINS: only the listed origins.
    let (_server, base, _) = start_with(&[], &[("CORS_ALLOW_ORIGINS", "https://app.example.com")]);
    let allowed = preflight(base.clone(), "https://app.example.com").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let other = preflight(base, "https://evil.example.net").await;
    assert!(other.headers().get("access-control-allow-origin").is_none());
}
