//! Micro-benchmarks of the per-request work that does not wait on DynamoDB: app JWT
//! verification (HS256, and RS256/ES256 with the test keys, from a PEM key or an identity
//! provider's key set), voice token minting, Twilio
//! signature validation, identity encoding, TwiML for 1 and 10 clients, directory lookups.
//! Every key is parsed once, outside the measured loop, as the functions do at start-up.
//! Run: cargo bench -p shared (add `-- <filter>` for one).

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::auth::Authenticator;
use shared::clock::Clock;
use shared::config::Config;
use shared::directory::Directory;
use shared::domain::{Email, Identity, IdentityStyle, OrgId, Platform};
use shared::local::{mint_app_jwt, with_dev_defaults};
use shared::twilio::signature;
use shared::twilio::token::VoiceTokenMinter;
use shared::twilio::twiml::{ClientNoun, DialNoun, DialVerb, Twiml};

const DEMO_DIRECTORY: &str = include_str!("../../demo/directory.json");
const RSA_PRIVATE: &str = include_str!("../../tests/api/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/api/keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("../../tests/api/keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../../tests/api/keys/ec-public.pem");

fn config(overrides: &[(&str, &str)]) -> Config {
    let env = |name: &str| {
        overrides
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let env = with_dev_defaults(env);
    let needs = shared::config::Needs {
        table: false,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    Config::from_env(&env, needs).expect("development configuration")
}

fn authenticator(overrides: &[(&str, &str)]) -> Authenticator {
    Authenticator::new(
        &config(overrides),
        IdentityStyle::Safe,
        None,
        &Clock::system(),
    )
    .unwrap()
}

/// The output of a future that needs no waiting: verification with its keys at hand.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("verification waited"),
    }
}

/// An authenticator of `APP_JWT_JWKS_URL`, its key set fetched (as during init) from a
/// one-shot local server publishing `key` under `kid`.
fn jwks_authenticator(key: &EncodingKey, algorithm: Algorithm, kid: &str) -> Authenticator {
    let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(key, algorithm).unwrap();
    jwk.common.key_id = Some(kid.into());
    let body = serde_json::to_string(&json!({ "keys": [jwk] })).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request);
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(answer.as_bytes()).unwrap();
    });
    let authenticator = authenticator(&[("APP_JWT_JWKS_URL", &url)]);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(authenticator.prefetch());
    authenticator
}

fn asymmetric_jwt(algorithm: Algorithm, key: &EncodingKey) -> String {
    let claims = json!({"sub": "alice@example.com", "email": "alice@example.com",
        "orgId": "org_demo", "iat": 1_795_262_400, "exp": 4_102_444_800_i64});
    jsonwebtoken::encode(&Header::new(algorithm), &claims, key).unwrap()
}

fn jwt(c: &mut Criterion) {
    let secret = shared::local::dev_default("APP_JWT_SECRET").unwrap();
    let token = mint_app_jwt(
        secret,
        "alice@example.com",
        "org_demo",
        1_795_262_400,
        3600 * 24 * 365 * 70,
    )
    .unwrap();
    let header = format!("Bearer {token}");
    let hs256 = authenticator(&[]);
    c.bench_function("jwt verify HS256", |b| {
        b.iter(|| ready(hs256.authenticate(black_box(Some(&header)), None)).unwrap())
    });

    let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    let header = format!("Bearer {}", asymmetric_jwt(Algorithm::RS256, &rsa));
    let rs256 = authenticator(&[("APP_JWT_PUBLIC_KEY", RSA_PUBLIC)]);
    c.bench_function("jwt verify RS256", |b| {
        b.iter(|| ready(rs256.authenticate(black_box(Some(&header)), None)).unwrap())
    });

    let mut kid_header = Header::new(Algorithm::RS256);
    kid_header.kid = Some("rsa-1".into());
    let claims = json!({"sub": "alice@example.com", "email": "alice@example.com",
        "orgId": "org_demo", "iat": 1_795_262_400, "exp": 4_102_444_800_i64});
    let header = format!(
        "Bearer {}",
        jsonwebtoken::encode(&kid_header, &claims, &rsa).unwrap()
    );
    let jwks = jwks_authenticator(&rsa, Algorithm::RS256, "rsa-1");
    c.bench_function("jwt verify RS256 (JWKS)", |b| {
        b.iter(|| ready(jwks.authenticate(black_box(Some(&header)), None)).unwrap())
    });

    let ec = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
    let header = format!("Bearer {}", asymmetric_jwt(Algorithm::ES256, &ec));
    let es256 = authenticator(&[("APP_JWT_PUBLIC_KEY", EC_PUBLIC)]);
    c.bench_function("jwt verify ES256", |b| {
        b.iter(|| ready(es256.authenticate(black_box(Some(&header)), None)).unwrap())
    });
}

fn voice_token(c: &mut Criterion) {
    let config = config(&[]);
    let minter = VoiceTokenMinter::new(config.voice_tokens.as_ref().unwrap(), 3600);
    let email = Email::parse_field("alice@example.com", "email").unwrap();
    let org = shared::domain::OrgId::parse_field("org_demo", "org").unwrap();
    let identity = Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap();
    c.bench_function("voice token mint", |b| {
        b.iter(|| {
            minter
                .mint(black_box(&identity), Platform::Web, 1_795_262_400)
                .unwrap()
        })
    });
}

fn twilio_signature(c: &mut Criterion) {
    let url =
        "https://k2vbxr5ghqmzexample7uzvnve0vdqwe.lambda-url.us-east-1.on.aws/phone/voice/incoming";
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA5f1d8c0e1b2a3948576a6b5c4d3e2f10"),
        ("CallStatus", "ringing"),
        ("Called", "+14155551234"),
        ("Caller", "+14158675309"),
        ("Direction", "inbound"),
        ("From", "+14158675309"),
        ("To", "+14155551234"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let token = "dev-only-twilio-auth-token";
    let valid = signature::sign(token, url, &params);
    c.bench_function("twilio signature validate (9 params)", |b| {
        b.iter(|| assert!(signature::is_valid(token, black_box(url), &params, &valid)))
    });
}

fn identity(c: &mut Criterion) {
    let email = Email::parse_field("alice.o'hara+voice@example.com", "email").unwrap();
    let org = shared::domain::OrgId::parse_field("org_demo", "org").unwrap();
    c.bench_function("identity encode (safe)", |b| {
        b.iter(|| Identity::for_person(&org, black_box(&email), IdentityStyle::Safe).unwrap())
    });
}

fn twiml(c: &mut Criterion) {
    let dial = |n: usize| {
        DialVerb {
        timeout_seconds: 25,
        action_url: "https://voice.example.com/phone/voice/dial-status".into(),
        caller_id: Some("+14158675309".into()),
        // As routing writes them: line parameters and a call-progress callback per leg.
        nouns: (0..n)
            .map(|i| {
                DialNoun::Client(ClientNoun {
                    identity: format!("user_agent{i}_40example_2Ecom"),
                    parameters: vec![
                        ("timestamp", "1795215395249".into()),
                        ("phoneId", "phone-sales".into()),
                        ("phoneNumber", "+14155551234".into()),
                        ("friendlyName", "Sales & Support".into()),
                    ],
                    status_callback: Some(format!(
                        "https://voice.example.com/phone/voice/call-status?org=org_demo&identity=user_agent{i}_40example_2Ecom"
                    )),
                })
            })
            .collect(),
    }
    };
    for n in [1, 10] {
        let verb = dial(n);
        c.bench_function(&format!("twiml dial {n} client(s)"), |b| {
            b.iter(|| Twiml::new().dial(black_box(&verb)).render())
        });
    }
}

fn directory(c: &mut Criterion) {
    let directory = Directory::parse(DEMO_DIRECTORY).unwrap();
    let org = directory
        .org(&OrgId::parse_field("org_demo", "orgId").unwrap())
        .unwrap();
    let email = Email::parse_field("alice@example.com", "email").unwrap();
    c.bench_function("directory assigned_phones", |b| {
        b.iter(|| org.assigned_phones(black_box(&email)))
    });
    c.bench_function("directory routes", |b| b.iter(|| black_box(org).routes()));
}

criterion_group!(
    benches,
    jwt,
    voice_token,
    twilio_signature,
    identity,
    twiml,
    directory
);
criterion_main!(benches);
