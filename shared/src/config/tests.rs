//! Reading the configuration: what is required, what is checked, what is never printed.

use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

/// What the local server needs but the table and the push endpoint.
const EVERY_APP_NEED: Needs = Needs {
    app_auth: true,
    voice_tokens: true,
    webhooks: true,
    realtime: true,
    push: false,
    twilio_api: true,
    table: false,
    alerts: false,
};

#[test]
fn every_missing_variable_is_named_at_once() {
    let needs = EVERY_APP_NEED.union(Needs {
        table: true,
        ..Needs::default()
    });
    let err = Config::from_env(&env(&[]), needs).unwrap_err().to_string();
    for name in [
        "TABLE_NAME",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_API_KEY_SID",
        "TWILIO_API_KEY_SECRET",
        "TWILIO_AUTH_TOKEN",
        "APP_JWT_SECRET",
    ] {
        assert!(err.contains(name), "{name} not named in {err}");
    }
}

#[test]
fn numbers_are_range_checked_and_mobile_ttl_defaults_to_web_ttl() {
    let needs = Needs::default();
    let cfg = Config::from_env(&env(&[("PRESENCE_TTL_SECONDS", "120")]), needs).unwrap();
    assert_eq!(cfg.presence.mobile_ttl_seconds, 120);
    let err = Config::from_env(&env(&[("VOICE_TOKEN_TTL_SECONDS", "90000")]), needs).unwrap_err();
    assert!(err.to_string().contains("VOICE_TOKEN_TTL_SECONDS"));
}

#[test]
fn push_ttl_defaults_to_a_week_and_is_range_checked() {
    let needs = Needs::default();
    let cfg = Config::from_env(&env(&[]), needs).unwrap();
    assert_eq!(cfg.presence.push_ttl_seconds, 604_800);
    let cfg = Config::from_env(&env(&[("PRESENCE_TTL_SECONDS_PUSH", "3600")]), needs).unwrap();
    assert_eq!(cfg.presence.push_ttl_seconds, 3600);
    for bad in ["0", "31622401", "a week"] {
        let err = Config::from_env(&env(&[("PRESENCE_TTL_SECONDS_PUSH", bad)]), needs)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PRESENCE_TTL_SECONDS_PUSH must be a whole number"),
            "{err}"
        );
    }
    let shorter = env(&[
        ("PRESENCE_TTL_SECONDS_MOBILE", "600"),
        ("PRESENCE_TTL_SECONDS_PUSH", "300"),
    ]);
    let err = Config::from_env(&shorter, needs).unwrap_err().to_string();
    assert!(
        err.contains("at least PRESENCE_TTL_SECONDS_MOBILE"),
        "{err}"
    );
}

#[test]
fn only_what_a_binary_needs_is_required() {
    let needs = Needs {
        app_auth: true,
        ..Needs::default()
    };
    assert!(Config::from_env(&env(&[("APP_JWT_SECRET", "s")]), needs).is_ok());
    assert!(Config::from_env(&env(&[("AUTH_MODE", "gateway")]), needs).is_ok());
}

#[test]
fn no_secret_is_printed_by_debug() {
    let secrets = [
        "jwt-s3cret",
        "api-key-s3cret",
        "auth-token-s3cret",
        "realtime-ticket-s3cret-of-32-characters",
    ];
    let env = env(&[
        ("TWILIO_AUTH_TOKEN_SECONDARY", "auth-token-2-s3cret"),
        ("APP_JWT_SECRET", secrets[0]),
        ("TWILIO_API_KEY_SECRET", secrets[1]),
        ("TWILIO_AUTH_TOKEN", secrets[2]),
        ("REALTIME_TICKET_SECRET", secrets[3]),
        ("TWILIO_ACCOUNT_SID", "AC1"),
        ("TWILIO_API_KEY_SID", "SK1"),
    ]);
    let needs = EVERY_APP_NEED;
    let printed = format!("{:?}", Config::from_env(&env, needs).unwrap());
    assert!(printed.contains("AC1"), "the rest is printed: {printed}");
    for secret in secrets.iter().chain(&["auth-token-2-s3cret"]) {
        assert!(!printed.contains(secret), "{secret} printed in {printed}");
    }
}

const APP_AUTH: Needs = Needs {
    app_auth: true,
    voice_tokens: false,
    webhooks: false,
    realtime: false,
    push: false,
    twilio_api: false,
    table: false,
    alerts: false,
};

fn app_auth(pairs: &[(&str, &str)]) -> Result<AppAuthConfig, String> {
    Config::from_env(&env(pairs), APP_AUTH)
        .map(|c| c.app_auth.unwrap())
        .map_err(|e| e.to_string())
}

#[test]
fn a_jwks_url_is_a_third_key_source_with_a_bounded_refresh_floor() {
    let url = "https://idp.example.com/.well-known/jwks.json";
    match app_auth(&[("APP_JWT_JWKS_URL", url)]).unwrap() {
        AppAuthConfig::Jwt {
            key: AppJwtKey::Jwks(jwks),
            ..
        } => assert_eq!(
            jwks,
            JwksConfig {
                url: url.into(),
                min_refresh_seconds: 300
            }
        ),
        other => panic!("{other:?}"),
    }
    let with = |seconds: &str| {
        app_auth(&[
            ("APP_JWT_JWKS_URL", url),
            ("APP_JWT_JWKS_MIN_REFRESH_SECONDS", seconds),
        ])
    };
    assert!(with("1").is_ok() && with("86400").is_ok());
    for bad in ["0", "86401", "soon"] {
        let err = with(bad).unwrap_err();
        assert!(err.contains("APP_JWT_JWKS_MIN_REFRESH_SECONDS"), "{err}");
    }
    let err = app_auth(&[("APP_JWT_JWKS_URL", "idp.example.com/jwks")]).unwrap_err();
    assert!(
        err.contains("APP_JWT_JWKS_URL must start with https://"),
        "{err}"
    );
    // Plain http is accepted (a warning is logged when the verifier is built).
    assert!(app_auth(&[("APP_JWT_JWKS_URL", "http://127.0.0.1:9/jwks")]).is_ok());
}

#[test]
fn exactly_one_key_source_is_accepted() {
    let pem = "-----BEGIN PUBLIC KEY-----";
    let url = "https://idp.example.com/jwks";
    for pairs in [
        &[("APP_JWT_SECRET", "s"), ("APP_JWT_JWKS_URL", url)][..],
        &[("APP_JWT_PUBLIC_KEY", pem), ("APP_JWT_JWKS_URL", url)],
        &[("APP_JWT_SECRET", "s"), ("APP_JWT_PUBLIC_KEY", pem)],
    ] {
        let err = app_auth(pairs).unwrap_err();
        assert!(err.contains("set only one of"), "{pairs:?}: {err}");
    }
    let err = app_auth(&[]).unwrap_err();
    assert!(err.contains("APP_JWT_JWKS_URL"), "{err}");
}

#[test]
fn issuers_are_a_comma_separated_list() {
    let pairs = [
        ("APP_JWT_SECRET", "s"),
        (
            "APP_JWT_ISSUER",
            " https://accounts.google.com, accounts.google.com ,",
        ),
    ];
    match app_auth(&pairs).unwrap() {
        AppAuthConfig::Jwt { issuers, .. } => {
            assert_eq!(
                issuers,
                ["https://accounts.google.com", "accounts.google.com"]
            );
        }
        other => panic!("{other:?}"),
    }
    match app_auth(&[("APP_JWT_SECRET", "s")]).unwrap() {
        AppAuthConfig::Jwt { issuers, .. } => assert!(issuers.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn required_claims_are_name_value_pairs_in_both_modes() {
    let claims = |config: AppAuthConfig| match config {
        AppAuthConfig::Jwt { claims, .. } | AppAuthConfig::Gateway { claims } => claims.required,
    };
    let required = |name: &str, value: &str| RequiredClaim {
        name: name.into(),
        value: value.into(),
    };
    let raw = (
        "APP_JWT_REQUIRED_CLAIMS",
        "token_use=id, email_verified = true",
    );
    let expected = [
        required("token_use", "id"),
        required("email_verified", "true"),
    ];
    assert_eq!(
        claims(app_auth(&[("APP_JWT_SECRET", "s"), raw]).unwrap()),
        expected
    );
    assert_eq!(
        claims(app_auth(&[("AUTH_MODE", "gateway"), raw]).unwrap()),
        expected
    );
    for bad in ["token_use", "=id", "token_use=", "a=b,,c"] {
        let err =
            app_auth(&[("APP_JWT_SECRET", "s"), ("APP_JWT_REQUIRED_CLAIMS", bad)]).unwrap_err();
        assert!(err.contains("APP_JWT_REQUIRED_CLAIMS"), "{bad}: {err}");
    }
}

#[test]
fn a_secondary_auth_token_is_optional() {
    let needs = Needs {
        webhooks: true,
        ..Needs::default()
    };
    let base = [("TWILIO_ACCOUNT_SID", "AC1"), ("TWILIO_AUTH_TOKEN", "one")];
    let config = Config::from_env(&env(&base), needs).unwrap();
    assert!(config.webhooks.unwrap().auth_token_secondary.is_none());
    let mut with = base.to_vec();
    with.push(("TWILIO_AUTH_TOKEN_SECONDARY", "two"));
    let config = Config::from_env(&env(&with), needs).unwrap();
    let secondary = config.webhooks.unwrap().auth_token_secondary.unwrap();
    assert_eq!(secondary.expose_secret(), "two");
}

#[test]
fn the_secrets_source_is_named_by_secrets_arn() {
    assert_eq!(SecretsSource::from_env(&env(&[])).unwrap(), None);
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:softphone-AbCdEf";
    let source = SecretsSource::from_env(&env(&[("SECRETS_ARN", arn)])).unwrap();
    assert_eq!(
        source,
        Some(SecretsSource {
            arn: arn.into(),
            refresh_seconds: 300
        })
    );
    let err = SecretsSource::from_env(&env(&[
        ("SECRETS_ARN", arn),
        ("SECRETS_REFRESH_SECONDS", "0"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("SECRETS_REFRESH_SECONDS"), "{err}");
}

#[test]
fn secret_names_come_from_the_secret_and_never_from_the_environment() {
    let values = SecretValues::parse(
        r#"{"TWILIO_AUTH_TOKEN": "from-the-secret", "APP_JWT_SECRET": "", "Other": 7}"#,
    )
    .unwrap();
    let process = env(&[
        ("TWILIO_AUTH_TOKEN", "from-the-environment"),
        ("TWILIO_API_KEY_SECRET", "from-the-environment"),
        ("TWILIO_ACCOUNT_SID", "AC1"),
    ]);
    let layered = with_secret_values(&process, &values);
    assert_eq!(
        layered("TWILIO_AUTH_TOKEN").as_deref(),
        Some("from-the-secret")
    );
    assert_eq!(layered("TWILIO_API_KEY_SECRET"), None);
    assert_eq!(layered("TWILIO_ACCOUNT_SID").as_deref(), Some("AC1"));
    // A setting rotated with a secret: the secret's when it has one, the environment's if not.
    assert_eq!(layered("TWILIO_API_KEY_SID"), None);
    let with_sid = SecretValues::parse(r#"{"TWILIO_API_KEY_SID": "SKnew"}"#).unwrap();
    let process = env(&[("TWILIO_API_KEY_SID", "SKold")]);
    assert_eq!(
        with_secret_values(&process, &with_sid)("TWILIO_API_KEY_SID").as_deref(),
        Some("SKnew")
    );
    let without = SecretValues::parse("{}").unwrap();
    assert_eq!(
        with_secret_values(&process, &without)("TWILIO_API_KEY_SID").as_deref(),
        Some("SKold")
    );
    // An empty value is absent, as in the environment: the error names the variable.
    let err = Config::from_env(&layered, APP_AUTH)
        .unwrap_err()
        .to_string();
    assert!(err.contains("APP_JWT_SECRET"), "{err}");
    // The debug form names the keys only.
    let printed = format!("{values:?}");
    assert!(!printed.contains("from-the-secret"), "{printed}");
}

#[test]
fn a_secret_that_is_not_an_object_of_strings_is_refused_by_name() {
    assert!(SecretValues::parse("not json").is_err());
    assert!(SecretValues::parse("[\"APP_JWT_SECRET\"]").is_err());
    let err = SecretValues::parse(r#"{"TWILIO_AUTH_TOKEN": 12345}"#).unwrap_err();
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");
    assert!(!err.contains("12345"), "{err}");
}

#[test]
fn socket_presence_and_the_heartbeat_url_are_checked() {
    let needs = Needs::default();
    let cfg = Config::from_env(&env(&[]), needs).unwrap();
    assert_eq!(cfg.presence.socket, SocketSettings::default());
    assert_eq!(cfg.presence.socket.keep_alive_seconds, 540);
    assert_eq!(cfg.presence.heartbeat_url, None);
    let url = "https://abc.lambda-url.us-east-1.on.aws/phone/voice/heartbeat";
    let cfg = Config::from_env(&env(&[("HEARTBEAT_URL", url)]), needs).unwrap();
    assert_eq!(cfg.presence.heartbeat_url.as_deref(), Some(url));
    for (name, value) in [
        ("HEARTBEAT_URL", "http://example.com/heartbeat"),
        ("HEARTBEAT_URL", "not a url"),
        ("SOCKET_KEEPALIVE_SECONDS", "600"),
        ("SOCKET_GRACE_SECONDS", "0"),
    ] {
        let err = Config::from_env(&env(&[(name, value)]), needs).unwrap_err();
        assert!(err.to_string().contains(name), "{name}={value}: {err}");
    }
}

/// PEM of DER bytes.
fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn p8() -> String {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let key = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    pem("PRIVATE KEY", key.as_ref())
}

const ALERTS: Needs = Needs {
    app_auth: false,
    voice_tokens: false,
    webhooks: false,
    realtime: false,
    push: false,
    twilio_api: false,
    table: false,
    alerts: true,
};

#[test]
fn alerts_are_off_until_a_key_is_given_and_the_key_comes_as_pem_or_base64() {
    use base64::Engine;
    let cfg = Config::from_env(&env(&[]), ALERTS).unwrap();
    let alerts = cfg.alerts.unwrap();
    assert!(!alerts.any());

    let key = p8();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&key);
    let escaped = key.replace('\n', "\\n");
    for given in [key.as_str(), b64.as_str(), escaped.as_str()] {
        let pairs = [
            ("APNS_KEY", given),
            ("APNS_KEY_ID", "ABC123DEFG"),
            ("APNS_TEAM_ID", "DEF123GHIJ"),
            ("APNS_TOPIC", "com.example.softphone"),
        ];
        let cfg = Config::from_env(&env(&pairs), ALERTS).unwrap();
        let apns = cfg.alerts.unwrap().apns.unwrap();
        assert_eq!(apns.key_pem(), key.trim_end(), "as written, trimmed");
        assert_eq!(apns.base_url, DEFAULT_APNS_BASE_URL);
        assert_eq!(apns.sandbox_base_url, DEFAULT_APNS_SANDBOX_BASE_URL);
    }

    // A key without its ids, and a key that is no key: each named, the value never shown.
    let err = Config::from_env(&env(&[("APNS_KEY", &key)]), ALERTS)
        .unwrap_err()
        .to_string();
    for name in ["APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"] {
        assert!(err.contains(name), "{err}");
    }
    let err = Config::from_env(&env(&[("APNS_KEY", "not-a-key-SECRETVALUE")]), ALERTS)
        .unwrap_err()
        .to_string();
    assert!(err.contains("APNS_KEY must be"), "{err}");
    assert!(!err.contains("SECRETVALUE"), "{err}");
    let err = Config::from_env(
        &env(&[("FCM_SERVICE_ACCOUNT", r#"{"private_key": "SECRETVALUE"}"#)]),
        ALERTS,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("FCM_SERVICE_ACCOUNT must be"), "{err}");
    assert!(err.contains("FCM_PROJECT_ID"), "{err}");
    assert!(!err.contains("SECRETVALUE"), "{err}");
}

#[test]
fn an_fcm_service_account_gives_the_project_and_token_url_unless_set() {
    use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: Pkcs8V1Der<'_> = pair.as_der().unwrap();
    let account = serde_json::json!({
        "type": "service_account",
        "project_id": "softphone-prod",
        "private_key": pem("PRIVATE KEY", der.as_ref()),
        "client_email": "alerts@softphone-prod.iam.gserviceaccount.com",
    })
    .to_string();
    let cfg = Config::from_env(&env(&[("FCM_SERVICE_ACCOUNT", &account)]), ALERTS).unwrap();
    let fcm = cfg.alerts.unwrap().fcm.unwrap();
    assert_eq!(fcm.project_id, "softphone-prod");
    assert_eq!(fcm.token_url, DEFAULT_FCM_TOKEN_URL);
    assert_eq!(fcm.base_url, DEFAULT_FCM_BASE_URL);
    let pairs = [
        ("FCM_SERVICE_ACCOUNT", account.as_str()),
        ("FCM_PROJECT_ID", "other-project"),
        ("FCM_BASE_URL", "ftp://nope"),
    ];
    let err = Config::from_env(&env(&pairs), ALERTS)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("FCM_BASE_URL must start with https://"),
        "{err}"
    );
}
