//! Required claim values in both modes, and which keys of a JWKS document are used. The key
//! set's fetching (rotation, floods of unknown `kid`s, a provider that is down) is tested over
//! HTTP in tests/api/jwks.rs.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::*;

fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("waited"),
    }
}

fn authenticator(pairs: &[(&str, &str)]) -> Authenticator {
    let lookup = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    let needs = crate::config::Needs {
        app_auth: true,
        ..Default::default()
    };
    let config = Config::from_env(&lookup, needs).unwrap();
    Authenticator::new(&config, IdentityStyle::Safe, None, &Clock::system()).unwrap()
}

fn token(extra: Value) -> String {
    let mut claims =
        json!({"email": "alice@example.com", "orgId": "org_demo", "exp": 4_102_444_800_i64});
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let header = format!(
        "Bearer {}",
        jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(b"s")).unwrap()
    );
    header
}

const REQUIRED: (&str, &str) = (
    "APP_JWT_REQUIRED_CLAIMS",
    "token_use=id,email_verified=true",
);

#[test]
fn tokens_need_every_required_claim_value() {
    let auth = authenticator(&[("APP_JWT_SECRET", "s"), REQUIRED]);
    let verdict = |extra: Value| ready(auth.authenticate(Some(&token(extra)), None));
    for accepted in [
        json!({"token_use": "id", "email_verified": true}),
        json!({"token_use": "id", "email_verified": "true"}),
    ] {
        assert!(verdict(accepted.clone()).is_ok(), "{accepted}");
    }
    for (refused, claim) in [
        (
            json!({"token_use": "access", "email_verified": true}),
            "token_use",
        ),
        (json!({"email_verified": true}), "token_use"),
        (
            json!({"token_use": ["id"], "email_verified": true}),
            "token_use",
        ),
        (
            json!({"token_use": "id", "email_verified": false}),
            "email_verified",
        ),
        (
            json!({"token_use": "id", "email_verified": "True"}),
            "email_verified",
        ),
        (
            json!({"token_use": "id", "email_verified": 1}),
            "email_verified",
        ),
        (json!({"token_use": "id"}), "email_verified"),
    ] {
        match verdict(refused.clone()) {
            Err(AuthError::BadClaim {
                claim: named,
                reason,
            }) => {
                assert_eq!(named, claim, "{refused}");
                assert!(reason.starts_with("must be"), "{reason}");
            }
            other => panic!("{refused}: {other:?}"),
        }
    }
    // Without the setting, neither claim is looked at.
    let plain = authenticator(&[("APP_JWT_SECRET", "s")]);
    assert!(ready(plain.authenticate(Some(&token(json!({}))), None)).is_ok());
}

#[test]
fn gateway_claims_need_the_required_values_too() {
    let auth = authenticator(&[("AUTH_MODE", "gateway"), REQUIRED]);
    let claims = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        [("email", "alice@example.com"), ("orgId", "org_demo")]
            .iter()
            .chain(pairs)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    // The authorizer hands booleans over as strings.
    let good = claims(&[("token_use", "id"), ("email_verified", "true")]);
    assert!(ready(auth.authenticate(None, Some(&good))).is_ok());
    let access = claims(&[("token_use", "access"), ("email_verified", "true")]);
    assert!(matches!(
        ready(auth.authenticate(None, Some(&access))),
        Err(AuthError::BadClaim { claim, .. }) if claim == "token_use"
    ));
}

#[test]
fn a_token_for_a_jwks_key_must_name_its_kid() {
    let auth = authenticator(&[("APP_JWT_JWKS_URL", "http://127.0.0.1:9/jwks.json")]);
    // No kid: refused before any key is looked up (nothing to fetch, nothing to wait for).
    assert_eq!(
        ready(auth.authenticate(Some(&token(json!({}))), None)),
        Err(AuthError::InvalidToken(
            "no kid in the token's header".into()
        ))
    );
    assert_eq!(
        ready(auth.authenticate(Some("Bearer abc.def.ghi"), None)),
        Err(AuthError::InvalidToken("malformed".into()))
    );
}

fn rsa_jwk(kid: Option<&str>) -> Value {
    let pem = include_str!("../../../tests/api/keys/rsa-private.pem");
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::RS256).unwrap();
    jwk.common.key_id = kid.map(str::to_owned);
    serde_json::to_value(jwk).unwrap()
}

fn ec_jwk(kid: &str) -> Value {
    let pem = include_str!("../../../tests/api/keys/ec-private.pem");
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let mut jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256).unwrap();
    jwk.common.key_id = Some(kid.into());
    serde_json::to_value(jwk).unwrap()
}

#[test]
fn only_rs256_and_es256_signing_keys_with_a_kid_are_used() {
    let mut no_alg = rsa_jwk(Some("rsa-no-alg"));
    no_alg.as_object_mut().unwrap().remove("alg");
    let mut for_encryption = rsa_jwk(Some("rsa-enc"));
    for_encryption["use"] = json!("enc");
    let mut signing = ec_jwk("ec-sig");
    signing["use"] = json!("sig");
    let mut mislabelled = ec_jwk("ec-said-rs");
    mislabelled["alg"] = json!("RS256");
    let mut p384 = ec_jwk("ec-p384");
    p384["crv"] = json!("P-384");
    let document = json!({"keys": [
        rsa_jwk(Some("rsa-1")),
        no_alg,
        signing,
        rsa_jwk(None),
        for_encryption,
        mislabelled,
        p384,
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"},
        {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "RSA", "kid": "broken"},
        "not a key",
    ]});
    let keys = jwks::parse(document.to_string().as_bytes()).unwrap();
    let mut usable: Vec<(&str, jsonwebtoken::Algorithm)> = keys
        .iter()
        .map(|(kid, key)| (kid.as_str(), key.algorithm))
        .collect();
    usable.sort_by_key(|(kid, _)| *kid);
    assert_eq!(
        usable,
        [
            ("ec-sig", jsonwebtoken::Algorithm::ES256),
            ("rsa-1", jsonwebtoken::Algorithm::RS256),
            ("rsa-no-alg", jsonwebtoken::Algorithm::RS256),
        ]
    );
    for useless in [
        json!({"keys": []}),
        json!({"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}]}),
        json!({"no": "keys"}),
    ] {
        assert!(
            jwks::parse(useless.to_string().as_bytes()).is_err(),
            "{useless}"
        );
    }
    assert!(jwks::parse(b"<html>").is_err());
}

/// The admin claim: the value itself or a list holding it; a dotted path into nested claims; a
/// claim name with dots of its own (a namespaced URL) read whole; API Gateway's flattened
/// lists. Anything else, or no admin settings at all, is no admin.
#[test]
fn the_admin_claim_makes_an_admin_in_every_shape_it_comes_in() {
    let admin_of = |claim: &str, extra: Value| {
        let auth = authenticator(&[
            ("APP_JWT_SECRET", "s"),
            ("APP_JWT_ADMIN_CLAIM", claim),
            ("APP_JWT_ADMIN_VALUE", "phone-admin"),
        ]);
        ready(auth.authenticate(Some(&token(extra)), None))
            .unwrap()
            .admin
    };
    assert!(admin_of("roles", json!({"roles": "phone-admin"})));
    assert!(admin_of(
        "roles",
        json!({"roles": ["viewer", "phone-admin"]})
    ));
    assert!(admin_of(
        "cognito:groups",
        json!({"cognito:groups": ["phone-admin"]})
    ));
    assert!(admin_of(
        "https://example.com/roles",
        json!({"https://example.com/roles": ["phone-admin"]})
    ));
    assert!(admin_of(
        "realm_access.roles",
        json!({"realm_access": {"roles": ["phone-admin"]}})
    ));
    for not_admin in [
        json!({}),
        json!({"roles": "viewer"}),
        json!({"roles": ["phone-admins"]}),
        json!({"roles": {"phone-admin": true}}),
        json!({"roles": true}),
    ] {
        assert!(!admin_of("roles", not_admin.clone()), "{not_admin}");
    }
    let no_settings = authenticator(&[("APP_JWT_SECRET", "s")]);
    let caller =
        ready(no_settings.authenticate(Some(&token(json!({"roles": ["phone-admin"]}))), None));
    assert!(
        !caller.unwrap().admin,
        "no admin claim configured: nobody is one"
    );

    // API Gateway's authorizer hands a list claim over as one string.
    let gateway = authenticator(&[
        ("AUTH_MODE", "gateway"),
        ("APP_JWT_ADMIN_CLAIM", "cognito:groups"),
        ("APP_JWT_ADMIN_VALUE", "phone-admin"),
    ]);
    let claims = |groups: &str| -> HashMap<String, String> {
        [
            ("email", "alice@example.com"),
            ("orgId", "org_demo"),
            ("cognito:groups", groups),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    for (groups, admin) in [
        ("[viewer phone-admin]", true),
        ("phone-admin", true),
        ("[\"phone-admin\",\"x\"]", true),
        ("[viewer phone-admins]", false),
    ] {
        let caller = ready(gateway.authenticate(None, Some(&claims(groups)))).unwrap();
        assert_eq!(caller.admin, admin, "{groups}");
    }
}

#[test]
fn an_admin_claim_without_its_value_is_a_configuration_error() {
    let lookup = |name: &str| match name {
        "APP_JWT_SECRET" => Some("s".to_owned()),
        "APP_JWT_ADMIN_CLAIM" => Some("roles".to_owned()),
        _ => None,
    };
    let needs = crate::config::Needs {
        app_auth: true,
        ..Default::default()
    };
    let problems = Config::from_env(&lookup, needs).unwrap_err().to_string();
    assert!(problems.contains("APP_JWT_ADMIN_VALUE"), "{problems}");
}
