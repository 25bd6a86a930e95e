//! The app-JWT check on every app request (`auth::Authenticator`) against a reference:
//! `jsonwebtoken::decode` with the `Validation` the configuration describes (the algorithm of
//! the key, `exp` required, `nbf` when present, 30 s of leeway, a configured issuer and
//! audience required), and the caller made of the email and org claims. Over generated tokens
//! (claims of every type, duplicated claims, wrong algorithms and keys, altered signatures,
//! broken shapes) both must accept the same tokens with the same caller, and refuse the rest
//! for the same reason.
//!
//! Reproduce with `cargo test -p shared --test jwt_reference`; docs/reliability.md has the
//! case counts.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};
use shared::auth::{AuthError, Authenticator};
use shared::clock::Clock;
use shared::domain::{Email, IdentityStyle, OrgId};

const CASES: u32 = 3000;
const LEEWAY: u64 = 30;
const SECRET: &[u8] = b"reference-secret-of-32-bytes-or-more";
const ISSUER: &str = "https://issuer.example.com/";
const AUDIENCE: &str = "softphone-app";
const EMAIL: &str = "email";
const ORG: &str = "orgId";
const RSA_PRIVATE: &str = include_str!("../../tests/api/keys/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../../tests/api/keys/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("../../tests/api/keys/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../../tests/api/keys/ec-public.pem");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The server's configurations: HS256, RS256 or ES256, with or without issuer and audience.
#[derive(Debug, Clone, Copy)]
struct Setup {
    algorithm: Algorithm,
    issuer: bool,
    audience: bool,
}

impl Setup {
    fn decoding_key(self) -> DecodingKey {
        match self.algorithm {
            Algorithm::HS256 => DecodingKey::from_secret(SECRET),
            Algorithm::RS256 => DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap(),
            _ => DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()).unwrap(),
        }
    }

    /// The reference's validation: what the configuration asks of a token.
    fn validation(self) -> Validation {
        let mut validation = Validation::new(self.algorithm);
        validation.leeway = LEEWAY;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if self.issuer {
            validation.set_issuer(&[ISSUER]);
            required.push("iss");
        } else {
            validation.iss = None;
        }
        if self.audience {
            validation.set_audience(&[AUDIENCE]);
            required.push("aud");
        } else {
            validation.validate_aud = false;
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// The service's verifier, configured as an operator would.
    fn authenticator(self) -> Authenticator {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let mut env = vec![match self.algorithm {
            Algorithm::HS256 => ("APP_JWT_SECRET", secret),
            Algorithm::RS256 => ("APP_JWT_PUBLIC_KEY", RSA_PUBLIC),
            _ => ("APP_JWT_PUBLIC_KEY", EC_PUBLIC),
        }];
        if self.issuer {
            env.push(("APP_JWT_ISSUER", ISSUER));
        }
        if self.audience {
            env.push(("APP_JWT_AUDIENCE", AUDIENCE));
        }
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let needs = shared::config::Needs {
            app_auth: true,
            ..Default::default()
        };
        let config = shared::config::Config::from_env(&lookup, needs).unwrap();
        Authenticator::new(&config, IdentityStyle::Safe, None, &Clock::system()).unwrap()
    }
}

fn any_setup() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![
            4 => Just(Algorithm::HS256),
            1 => Just(Algorithm::RS256),
            1 => Just(Algorithm::ES256),
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(algorithm, issuer, audience)| Setup {
            algorithm,
            issuer,
            audience,
        })
}

/// A claim's JSON text, relative to now for times.
fn time_claim() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(600i64),
        1 => Just(-10),
        1 => Just(-100),
        1 => Just(-100_000),
        1 => Just(100_000),
    ]
    .prop_flat_map(|offset| {
        let at = now() as i64 + offset;
        prop_oneof![
            12 => Just(at.to_string()),
            1 => Just(format!("{at}.4")),
            1 => Just(format!("{at}e0")),
            1 => Just("\"soon\"".to_owned()),
            1 => Just("null".to_owned()),
            1 => Just("-5".to_owned()),
            1 => Just("1e300".to_owned()),
            1 => Just("true".to_owned()),
        ]
    })
}

fn names_claim(right: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        10 => Just(format!("\"{right}\"")),
        1 => Just("\"someone-else\"".to_owned()),
        1 => Just(format!("[\"a\", \"{right}\"]")),
        1 => Just("[\"a\", \"b\"]".to_owned()),
        1 => Just("[]".to_owned()),
        1 => Just(format!("[\"{right}\", 1]")),
        1 => Just("null".to_owned()),
        1 => Just("7".to_owned()),
        1 => Just("{\"x\": 1}".to_owned()),
    ]
}

fn text_claim() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just("\"alice@example.com\"".to_owned()),
        4 => Just("\"org\\u005fdemo\"".to_owned()),
        1 => Just("\"\"".to_owned()),
        1 => Just("42".to_owned()),
        1 => Just("-7".to_owned()),
        1 => Just("2.5".to_owned()),
        1 => Just("1e21".to_owned()),
        1 => Just("18446744073709551616".to_owned()),
        1 => Just("null".to_owned()),
        1 => Just("false".to_owned()),
        1 => Just("[\"a\"]".to_owned()),
        1 => Just("{\"a\": \"b\"}".to_owned()),
    ]
}

/// The claims object as JSON text, so that claims can be duplicated or escaped.
fn any_claims() -> impl Strategy<Value = String> {
    let claim = |name: &'static str, value: BoxedStrategy<String>| {
        prop::option::weighted(0.9, value).prop_map(move |v| v.map(|v| format!("\"{name}\": {v}")))
    };
    (
        claim("exp", time_claim().boxed()),
        claim("nbf", time_claim().boxed()),
        claim("iss", names_claim(ISSUER).boxed()),
        claim("aud", names_claim(AUDIENCE).boxed()),
        claim(
            "sub",
            prop_oneof![Just("\"u1\"".to_owned()), Just("3".to_owned())].boxed(),
        ),
        claim(EMAIL, text_claim().boxed()),
        claim(ORG, text_claim().boxed()),
        prop::option::weighted(
            0.1,
            prop::sample::select(vec![
                "\"exp\": 1",
                "\"sub\": \"again\"",
                "\"aud\": \"softphone-app\"",
                "\"email\": \"bob@example.com\"",
                "\"e\\u0078p\": 5",
            ]),
        ),
        prop::option::weighted(0.2, "[a-z]{1,6}"),
        prop::sample::Index::arbitrary(),
    )
        .prop_map(
            |(exp, nbf, iss, aud, sub, email, org, duplicate, extra, at)| {
                let mut members: Vec<String> = [exp, nbf, iss, aud, sub, email, org]
                    .into_iter()
                    .flatten()
                    .collect();
                if let Some(extra) = extra {
                    members.push(format!("\"{extra}\": {{\"nested\": [1, 2]}}"));
                }
                if let Some(duplicate) = duplicate {
                    let at = at.index(members.len() + 1);
                    members.insert(at, duplicate.to_owned());
                }
                format!("{{{}}}", members.join(", "))
            },
        )
}

/// How the token is made from the claims.
#[derive(Debug, Clone)]
enum Shape {
    /// Signed with `alg`, or with the server's own algorithm when `None`.
    Signed {
        alg: Option<Algorithm>,
        key: KeyChoice,
    },
    /// `alg` as written into the header, unsigned.
    Unsigned(&'static str),
    AlteredSignature,
    SwappedPayload,
    ExtraPart,
    MissingSignature,
    NotBase64Payload,
    HeaderNotJson,
    PayloadNotJson,
}

#[derive(Debug, Clone, Copy)]
enum KeyChoice {
    /// The key the server trusts, for the header's algorithm.
    Right,
    /// Another HMAC secret.
    OtherSecret,
    /// HMAC keyed with the server's public key PEM (the RS/HS confusion attack).
    PublicKeyAsSecret,
}

fn any_shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        30 => (
            prop_oneof![
                12 => Just(None),
                1 => Just(Some(Algorithm::HS256)),
                1 => Just(Some(Algorithm::HS512)),
                1 => Just(Some(Algorithm::RS256)),
                1 => Just(Some(Algorithm::ES256)),
            ],
            prop_oneof![
                6 => Just(KeyChoice::Right),
                1 => Just(KeyChoice::OtherSecret),
                1 => Just(KeyChoice::PublicKeyAsSecret),
            ],
        )
            .prop_map(|(alg, key)| Shape::Signed { alg, key }),
        1 => prop::sample::select(vec!["none", "None", "HS256", "RS256"]).prop_map(Shape::Unsigned),
        1 => Just(Shape::AlteredSignature),
        1 => Just(Shape::SwappedPayload),
        1 => Just(Shape::ExtraPart),
        1 => Just(Shape::MissingSignature),
        1 => Just(Shape::NotBase64Payload),
        1 => Just(Shape::HeaderNotJson),
        1 => Just(Shape::PayloadNotJson),
    ]
}

fn sign(alg: Algorithm, key: KeyChoice, claims: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Header::new(alg)).unwrap());
    let payload = URL_SAFE_NO_PAD.encode(claims);
    let message = format!("{header}.{payload}");
    let encoding = match (key, alg) {
        (KeyChoice::OtherSecret, _) => EncodingKey::from_secret(b"another-secret"),
        (KeyChoice::PublicKeyAsSecret, _) => EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
        (KeyChoice::Right, Algorithm::RS256) => {
            EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap()
        }
        (KeyChoice::Right, Algorithm::ES256) => {
            EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap()
        }
        (KeyChoice::Right, _) => EncodingKey::from_secret(SECRET),
    };
    // HMAC keys sign whatever algorithm the header names, so mixed pairs come up too.
    let alg = match key {
        KeyChoice::Right => alg,
        _ if matches!(alg, Algorithm::HS512) => Algorithm::HS512,
        _ => Algorithm::HS256,
    };
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &encoding, alg).unwrap();
    format!("{message}.{signature}")
}

fn token(setup: Setup, shape: &Shape, claims: &str) -> String {
    let good = || sign(setup.algorithm, KeyChoice::Right, claims);
    let parts = |t: String| -> Vec<String> { t.split('.').map(str::to_owned).collect() };
    match shape {
        Shape::Signed { alg, key } => sign(alg.unwrap_or(setup.algorithm), *key, claims),
        Shape::Unsigned(alg) => format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(format!("{{\"alg\":\"{alg}\",\"typ\":\"JWT\"}}")),
            URL_SAFE_NO_PAD.encode(claims)
        ),
        Shape::AlteredSignature => {
            let p = parts(good());
            let first = if p[2].starts_with('A') { "B" } else { "A" };
            format!("{}.{}.{first}{}", p[0], p[1], &p[2][1..])
        }
        Shape::SwappedPayload => {
            let p = parts(good());
            let other = URL_SAFE_NO_PAD
                .encode(r#"{"exp": 99999999999, "email": "eve@example.com", "orgId": "o"}"#);
            format!("{}.{other}.{}", p[0], p[2])
        }
        Shape::ExtraPart => format!("{}.extra", good()),
        Shape::MissingSignature => {
            let p = parts(good());
            format!("{}.{}", p[0], p[1])
        }
        Shape::NotBase64Payload => {
            let p = parts(good());
            format!("{}.{}!.{}", p[0], p[1], p[2])
        }
        Shape::HeaderNotJson => {
            let p = parts(good());
            format!("{}.{}.{}", URL_SAFE_NO_PAD.encode("not json"), p[1], p[2])
        }
        Shape::PayloadNotJson => sign(setup.algorithm, KeyChoice::Right, "[1, 2, 3]"),
    }
}

/// What a verifier decided about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// The caller's email and org.
    Accepted(String, String),
    /// Verified, but this claim does not name a caller.
    BadClaim(String),
    /// Refused, for this reason (the 401's message).
    Refused(String),
}

/// What the reference decides: `decode`'s verdict, and the caller of its claims.
fn reference(setup: Setup, token: &str) -> Verdict {
    let claims = match jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &setup.decoding_key(),
        &setup.validation(),
    ) {
        Ok(data) => data.claims,
        Err(e) => return Verdict::Refused(reason(e.kind())),
    };
    // A claim names a caller when it is a non-empty string or a number, and parses.
    let text = |name: &str| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // Both present first, then each parsed: the first claim found wanting is named.
    let (Some(email), Some(org)) = (text(EMAIL), text(ORG)) else {
        let missing = if text(EMAIL).is_none() { EMAIL } else { ORG };
        return Verdict::BadClaim(missing.into());
    };
    match (
        Email::parse_field(&email, EMAIL),
        OrgId::parse_field(&org, ORG),
    ) {
        (Ok(email), Ok(org)) => Verdict::Accepted(email.to_string(), org.to_string()),
        (Err(_), _) => Verdict::BadClaim(EMAIL.into()),
        (_, Err(_)) => Verdict::BadClaim(ORG.into()),
    }
}

/// The reason a 401 gives for each of `decode`'s refusals. Missing-claim refusals compare
/// without the name: jsonwebtoken checks required claims in a `HashSet`'s order, so with two
/// missing it names either.
fn reason(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm => "algorithm not accepted",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::MissingRequiredClaim(_) => "missing claim",
        _ => "malformed",
    }
    .into()
}

/// What the service decides.
fn service(authenticator: &Authenticator, token: &str) -> Verdict {
    let header = format!("Bearer {token}");
    match ready(authenticator.authenticate(Some(&header), None)) {
        Ok(caller) => Verdict::Accepted(caller.email.to_string(), caller.org.to_string()),
        Err(AuthError::BadClaim { claim, .. }) => Verdict::BadClaim(claim),
        Err(AuthError::InvalidToken(reason)) => {
            let missing = reason.starts_with("missing ") && reason.ends_with(" claim");
            Verdict::Refused(if missing {
                "missing claim".into()
            } else {
                reason
            })
        }
        Err(AuthError::MissingToken) => Verdict::Refused("no token".into()),
    }
}

/// The output of a future that needs no waiting (no key set to fetch here).
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the verifier waited with no key set to fetch"),
    }
}

fn kind(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::MissingRequiredClaim(_) => "MissingRequiredClaim".into(),
        ErrorKind::Json(_) => "Json".into(),
        ErrorKind::Base64(_) => "Base64".into(),
        other => format!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(Config { cases: CASES, failure_persistence: None, ..Config::default() })]

    #[test]
    fn the_service_decides_as_the_reference(
        setup in any_setup(),
        shape in any_shape(),
        claims in any_claims(),
    ) {
        let token = token(setup, &shape, &claims);
        let expected = reference(setup, &token);
        let authenticator = setup.authenticator();
        prop_assert_eq!(&service(&authenticator, &token), &expected, "{} / {}", claims, token);
        // The verifier keeps nothing between tokens: after one of the server's own tokens,
        // the same verdict, twice.
        prop_assert!(matches!(
            service(&authenticator, &valid_token(setup)),
            Verdict::Accepted(..)
        ));
        for _ in 0..2 {
            prop_assert_eq!(&service(&authenticator, &token), &expected, "{} / {}", claims, token);
        }
    }
}

/// A token `setup`'s server accepts: its algorithm and key, and every claim it requires.
fn valid_token(setup: Setup) -> String {
    let exp = now() + 3600;
    let claims = format!(
        r#"{{"exp": {exp}, "iss": "{ISSUER}", "aud": "{AUDIENCE}", "email": "a@example.com", "orgId": "o"}}"#
    );
    sign(setup.algorithm, KeyChoice::Right, &claims)
}

/// The generators reach both sides of every decision: tokens accepted, and each refusal.
#[test]
fn the_generated_tokens_cover_acceptance_and_every_refusal() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (any_setup(), any_shape(), any_claims());
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for _ in 0..CASES {
        let (setup, shape, claims) = strategy.new_tree(&mut runner).unwrap().current();
        let token = token(setup, &shape, &claims);
        let outcome = match jsonwebtoken::decode::<Map<String, Value>>(
            &token,
            &setup.decoding_key(),
            &setup.validation(),
        ) {
            Ok(_) => "accepted".to_owned(),
            Err(e) => kind(e.kind()),
        };
        *seen.entry(outcome).or_default() += 1;
    }
    println!("outcomes over {CASES} generated tokens: {seen:?}");
    for outcome in [
        "accepted",
        "ExpiredSignature",
        "ImmatureSignature",
        "InvalidAlgorithm",
        "InvalidSignature",
        "InvalidIssuer",
        "InvalidAudience",
        "MissingRequiredClaim",
        "InvalidClaimFormat(\"nbf\")",
        "InvalidToken",
        "Json",
        "Base64",
    ] {
        assert!(
            seen.get(outcome).copied().unwrap_or(0) > 0,
            "never saw {outcome}: {seen:?}"
        );
    }
}
