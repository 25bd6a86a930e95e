//! The voice token register-device returns, decoded as Twilio would.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::{ACCOUNT_SID, API_KEY_SECRET, API_KEY_SID, StoreKind, alice, spawn_app_with};

fn decode(token: &str) -> (Value, Value) {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(API_KEY_SECRET.as_bytes()),
        &validation,
    )
    .expect("token verifies with the API key secret");
    let header_b64 = token.split('.').next().unwrap();
    let header_json = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        header_b64,
    )
    .unwrap();
    (serde_json::from_slice(&header_json).unwrap(), data.claims)
}

#[tokio::test]
async fn the_token_has_twilios_header_and_claims_with_push_credentials_by_platform() {
    let app = spawn_app_with(
        StoreKind::Memory,
        &[
            ("TWILIO_TWIML_APP_SID", "AP33333333333333333333333333333333"),
            (
                "TWILIO_PUSH_CREDENTIAL_SID_IOS",
                "CR44444444444444444444444444444444",
            ),
            (
                "TWILIO_PUSH_CREDENTIAL_SID_ANDROID",
                "CR55555555555555555555555555555555",
            ),
        ],
    )
    .await;
    let token = alice();
    let mut pushes = Vec::new();
    for (device, platform) in [("web_1", "web"), ("ios_1", "ios"), ("android_1", "android")] {
        let (status, body) = app.register(&token, device, platform).await;
        assert_eq!(status, 200, "{body}");
        let (header, claims) = decode(body["token"].as_str().unwrap());
        assert_eq!(
            header,
            json!({"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"})
        );
        let iat = claims["iat"].as_i64().unwrap();
        assert_eq!(claims["jti"], format!("{API_KEY_SID}-{iat}"));
        assert_eq!(claims["iss"], API_KEY_SID);
        assert_eq!(claims["sub"], ACCOUNT_SID);
        assert_eq!(claims["nbf"], iat);
        assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
        assert!(
            claims.get("identity").is_none(),
            "identity lives inside grants"
        );
        assert_eq!(
            claims["grants"]["identity"],
            "u_org_5Fdemo__alice_40example_2Ecom"
        );
        assert_eq!(
            claims["grants"]["voice"]["incoming"],
            json!({"allow": true})
        );
        assert_eq!(
            claims["grants"]["voice"]["outgoing"],
            json!({"application_sid": "AP33333333333333333333333333333333"})
        );
        pushes.push(
            claims["grants"]["voice"]
                .get("push_credential_sid")
                .cloned(),
        );
    }
    assert_eq!(
        pushes,
        vec![
            None,
            Some(json!("CR44444444444444444444444444444444")),
            Some(json!("CR55555555555555555555555555555555")),
        ]
    );
}

#[tokio::test]
async fn ttl_is_a_setting_and_outgoing_is_absent_without_a_twiml_app() {
    let app = spawn_app_with(
        StoreKind::Memory,
        &[
            ("VOICE_TOKEN_TTL_SECONDS", "600"),
            ("TWILIO_TWIML_APP_SID", ""),
        ],
    )
    .await;
    let (_, body) = app.register(&alice(), "web_1", "web").await;
    assert_eq!(body["expiresIn"], 600);
    let (_, claims) = decode(body["token"].as_str().unwrap());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert_eq!(
        claims["grants"]["voice"],
        json!({"incoming": {"allow": true}})
    );
}
