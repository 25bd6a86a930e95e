//! One Twilio identity per org and person: the same email in two orgs (a contractor working
//! for both) is two people to Twilio, rings only in the org whose number was called, and calls
//! out only with that org's numbers.

use http::StatusCode;
use serde_json::json;
use shared::directory::Directory;
use shared::domain::IdentityStyle;

use crate::helpers::*;
use crate::on_both_stores;
use crate::webhooks::ALICE_DIRECT;

/// Alice of the demo org also works for `org_other`, which has a number of its own for her.
const OTHER_ORG: &str = "org_other";
const OTHER_DIRECT: &str = "+14155550900";
const DEMO_ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";
const OTHER_ALICE: &str = "u_org_5Fother__alice_40example_2Ecom";

async fn two_orgs(kind: StoreKind) -> TestApp {
    let app = spawn_app(kind).await;
    let other = Directory::parse(&format!(
        r#"{{"orgs":[{{"orgId":"{OTHER_ORG}","users":[{{"email":"alice@example.com","name":"Alice (contractor)"}}],
            "phones":[{{"id":"p-other","phoneNumber":"{OTHER_DIRECT}","friendlyName":"Other","userEmail":"alice@example.com"}}]}}]}}"#
    ))
    .unwrap();
    app.stores
        .directory
        .import(&other, IdentityStyle::Safe)
        .await
        .unwrap();
    app
}

on_both_stores!(
    the_same_email_in_two_orgs_is_two_identities_that_ring_only_in_their_org,
    the_same_email_calls_out_only_with_its_own_orgs_numbers,
    callbacks_naming_another_orgs_person_change_nothing,
);

async fn the_same_email_in_two_orgs_is_two_identities_that_ring_only_in_their_org(kind: StoreKind) {
    let app = two_orgs(kind).await;
    let demo = app_token("alice@example.com", ORG);
    let other = app_token("alice@example.com", OTHER_ORG);
    let (status, reg) = app.register(&demo, "demo_laptop", "web").await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(reg["identity"], DEMO_ALICE);
    let (status, reg) = app.register(&other, "other_laptop", "web").await;
    assert_eq!(status, StatusCode::OK, "{reg}");
    assert_eq!(reg["identity"], OTHER_ALICE);
    // Each org's Alice is given her own org's numbers only.
    let numbers: Vec<_> = reg["assignedPhones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phoneNumber"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers, [OTHER_DIRECT]);

    assert_eq!(app.call(ALICE_DIRECT).await.clients(), [DEMO_ALICE]);
    assert_eq!(app.call(OTHER_DIRECT).await.clients(), [OTHER_ALICE]);
    // Each org's token lists only that org's devices.
    assert_eq!(app.device_ids(&demo).await, ["demo_laptop"]);
    assert_eq!(app.device_ids(&other).await, ["other_laptop"]);
}

async fn the_same_email_calls_out_only_with_its_own_orgs_numbers(kind: StoreKind) {
    let app = two_orgs(kind).await;
    let from_other = format!("client:{OTHER_ALICE}");
    let twiml = app.place_call(&from_other, "+14155559999", &[]).await;
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some(OTHER_DIRECT),
        "{}",
        twiml.xml
    );
    // The demo org's numbers are not hers in org_other, asked for by number or by id.
    for extra in [("callerId", ALICE_DIRECT), ("phoneId", "phone-alice")] {
        let twiml = app.place_call(&from_other, "+14155559999", &[extra]).await;
        assert_eq!(twiml.verbs(), ["Say", "Hangup"], "{extra:?}: {}", twiml.xml);
    }
    // Nor are the demo org's people her colleagues there, by email or by identity.
    for to in [
        "bob@example.com",
        "client:u_org_5Fdemo__bob_40example_2Ecom",
    ] {
        let twiml = app.place_call(&from_other, to, &[]).await;
        assert_eq!(twiml.verbs(), ["Say", "Hangup"], "{to}: {}", twiml.xml);
    }
    // And the demo org's Alice still calls out as herself.
    let twiml = app
        .place_call(&format!("client:{DEMO_ALICE}"), "+14155559999", &[])
        .await;
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some(ALICE_DIRECT)
    );
}

async fn callbacks_naming_another_orgs_person_change_nothing(kind: StoreKind) {
    let app = two_orgs(kind).await;
    let demo = app_token("alice@example.com", ORG);
    app.register(&demo, "demo_laptop", "web").await;
    // A call-status callback of org_other's call that names the demo org's Alice: her
    // presence in the demo org does not change.
    let path = format!("/phone/voice/call-status?org={OTHER_ORG}&identity={DEMO_ALICE}");
    let params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "in-progress"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    app.webhook(&path, &params).await;
    let (_, devices) = app.get("/phone/voice/devices", &demo).await;
    assert_eq!(devices["onCall"], json!(false), "{devices}");
    // The same callback for the demo org does mark her on a call.
    let path = format!("/phone/voice/call-status?org={ORG}&identity={DEMO_ALICE}");
    app.webhook(&path, &params).await;
    let (_, devices) = app.get("/phone/voice/devices", &demo).await;
    assert_eq!(devices["onCall"], json!(true), "{devices}");
}
