//! Calls a softphone places: the TwiML App's Voice Request URL, `POST /phone/voice/outgoing`.
//! Who calls comes only from `From`; what they may dial and show as caller ID comes from the
//! directory.

use std::time::Duration;

use reqwest::StatusCode;
use shared::directory::Directory;
use shared::store::StoreName;
use shared::store::testing::Behaviour;
use shared::twilio::signature::sign;

use crate::helpers::{
    ACCOUNT_SID, AUTH_TOKEN, StoreKind, TWIML_APP_SID, TestApp, spawn_app, spawn_app_with,
    spawn_behind_test_store, without_history,
};
use crate::on_both_stores;
use crate::webhooks::{SALES, Twiml, counting_app};

const ALICE: &str = "client:u_org_5Fdemo__alice_40example_2Ecom";
const BOB_IDENTITY: &str = "u_org_5Fdemo__bob_40example_2Ecom";
const OUTGOING: &str = "/phone/voice/outgoing";

/// What Twilio posts when a softphone calls `device.connect({ params })`.
pub(crate) fn outgoing_params(
    from: &str,
    to: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = [
        ("AccountSid", ACCOUNT_SID),
        ("ApplicationSid", TWIML_APP_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA00000000000000000000000000000abc"),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", from),
        ("Caller", from),
        ("To", to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    params.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    params
}

impl TestApp {
    pub(crate) async fn place_call(&self, from: &str, to: &str, extra: &[(&str, &str)]) -> Twiml {
        self.webhook(OUTGOING, &outgoing_params(from, to, extra))
            .await
    }
}

/// A refusal: spoken, then the call ends, and nothing is dialled.
fn assert_refused(twiml: &Twiml, words: &str) {
    assert_eq!(twiml.verbs(), vec!["Say", "Hangup"], "{}", twiml.xml);
    let said = twiml.texts("Say").join(" ");
    assert!(said.contains(words), "{said:?} should say {words:?}");
}

on_both_stores!(
    a_call_to_the_public_network_shows_the_callers_own_number,
    a_caller_id_the_caller_is_not_assigned_is_refused,
    an_internal_call_rings_exactly_the_live_colleague,
    an_internal_call_to_an_offline_colleague_reaches_their_voicemail,
    a_call_to_an_org_number_rings_like_an_incoming_call,
    destinations_outside_the_allowed_prefixes_are_refused,
    callers_and_destinations_that_do_not_resolve_are_refused,
);

async fn a_call_to_the_public_network_shows_the_callers_own_number(kind: StoreKind) {
    let app = spawn_app(kind).await;
    // Default: Alice's direct number.
    let twiml = app.place_call(ALICE, "+14155559999", &[]).await;
    assert_eq!(twiml.verbs(), vec!["Dial"], "{}", twiml.xml);
    assert_eq!(twiml.texts("Number"), vec!["+14155559999"]);
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some("+14155550001")
    );
    assert_eq!(
        twiml.attr("Dial", "answerOnBridge").as_deref(),
        Some("true")
    );
    assert_eq!(
        twiml.attr("Dial", "action").map(|u| without_history(&u)),
        Some(format!(
            "{}/phone/voice/dial-status?kind=outgoing",
            app.base
        ))
    );
    // The leg reports progress, naming the caller, so the caller counts as busy.
    assert_eq!(
        twiml
            .attr("Number", "statusCallback")
            .map(|u| without_history(&u)),
        Some(format!(
            "{}/phone/voice/call-status?org=org_demo&identity=u_org_5Fdemo__alice_40example_2Ecom",
            app.base
        ))
    );
    assert_eq!(
        twiml.attr("Number", "statusCallbackEvent").as_deref(),
        Some("answered completed")
    );

    // An explicit choice of one of her own numbers, by number or by id.
    for extra in [[("callerId", SALES)], [("phoneId", "phone-sales")]] {
        let twiml = app.place_call(ALICE, "+14155559999", &extra).await;
        assert_eq!(
            twiml.attr("Dial", "callerId").as_deref(),
            Some(SALES),
            "{extra:?}"
        );
    }

    // An unanswered outgoing dial says why and hangs up: no fallback of the dialled number.
    let mut params = outgoing_params(ALICE, "+14155559999", &[("DialCallStatus", "busy")]);
    params.push(("DialCallSid".into(), "CA99".into()));
    let ended = app
        .webhook("/phone/voice/dial-status?kind=outgoing", &params)
        .await;
    assert_refused(&ended, "busy");
}

async fn a_caller_id_the_caller_is_not_assigned_is_refused(kind: StoreKind) {
    let app = spawn_app(kind).await;
    // Support belongs to Carol and Bob; Bob's direct line to Bob.
    for extra in [
        [("callerId", "+14155551235")],
        [("callerId", "+14155550002")],
        [("phoneId", "phone-bob")],
        [("callerId", "not-a-number")],
    ] {
        let twiml = app.place_call(ALICE, "+14155559999", &extra).await;
        assert_refused(&twiml, "cannot place calls from that number");
    }
    // Erin has no number at all: she cannot call out...
    let twiml = app
        .place_call(
            "client:u_org_5Fdemo__erin_40example_2Ecom",
            "+14155559999",
            &[],
        )
        .await;
    assert_refused(&twiml, "no phone number to call out from");
    // ...but can call a colleague.
    let twiml = app
        .place_call(
            "client:u_org_5Fdemo__erin_40example_2Ecom",
            "alice@example.com",
            &[],
        )
        .await;
    assert_eq!(twiml.texts("Say"), vec!["Alice is away."], "{}", twiml.xml);
}

async fn an_internal_call_rings_exactly_the_live_colleague(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    app.register_with("carol@example.com", "carol_web", &["voice"])
        .await;
    for to in [
        "bob@example.com",
        "Bob@Example.com",
        BOB_IDENTITY,
        "client:u_org_5Fdemo__bob_40example_2Ecom",
    ] {
        let twiml = app.place_call(ALICE, to, &[]).await;
        assert_eq!(twiml.clients(), vec![BOB_IDENTITY], "{to}: {}", twiml.xml);
        let params = twiml.parameters();
        assert!(
            params.contains(&("callerName".to_owned(), "Alice Adams".to_owned())),
            "{params:?}"
        );
        assert!(params.contains(&("callerEmail".to_owned(), "alice@example.com".to_owned())));
        assert!(params.iter().any(|(k, _)| k == "timestamp"));
        // Both ends of an internal call count as busy once it is answered.
        let callback = without_history(&twiml.attr("Client", "statusCallback").unwrap());
        assert!(
            callback.ends_with(
                "/phone/voice/call-status?org=org_demo&identity=u_org_5Fdemo__bob_40example_2Ecom\
                 &identity=u_org_5Fdemo__alice_40example_2Ecom"
            ),
            "{callback}"
        );
    }
}

async fn an_internal_call_to_an_offline_colleague_reaches_their_voicemail(kind: StoreKind) {
    let app = spawn_app(kind).await;
    // Bob is offline: his direct number's voicemail.
    let twiml = app.place_call(ALICE, "bob@example.com", &[]).await;
    assert_eq!(
        twiml.verbs(),
        vec!["Say", "Record", "Hangup"],
        "{}",
        twiml.xml
    );
    assert_eq!(
        twiml.texts("Say"),
        vec!["Bob is on another call. Please leave a message."]
    );
    // Dave has no direct number: a spoken "not available" with his name.
    let twiml = app.place_call(ALICE, "dave@example.com", &[]).await;
    assert_refused(&twiml, "Dave Diaz is not available");

    // Live but unanswered: the dial's action leads to the same voicemail.
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    let twiml = app.place_call(ALICE, "bob@example.com", &[]).await;
    let action = twiml.attr("Dial", "action").unwrap();
    let path = action.strip_prefix(&app.base).unwrap().to_owned();
    let mut params = outgoing_params(ALICE, "bob@example.com", &[("DialCallStatus", "no-answer")]);
    params.push(("DialCallSid".into(), "CA98".into()));
    let after = app.webhook(&path, &params).await;
    assert_eq!(
        after.verbs(),
        vec!["Say", "Record", "Hangup"],
        "{}",
        after.xml
    );
}

async fn a_call_to_an_org_number_rings_like_an_incoming_call(kind: StoreKind) {
    let app = spawn_app(kind).await;
    app.register_with("bob@example.com", "bob_web", &["voice"])
        .await;
    let twiml = app.place_call(ALICE, SALES, &[]).await;
    assert_eq!(twiml.clients(), vec![BOB_IDENTITY], "{}", twiml.xml);
    let params = twiml.parameters();
    for (k, v) in [
        ("phoneId", "phone-sales"),
        ("friendlyName", "Sales"),
        ("callerName", "Alice Adams"),
    ] {
        assert!(
            params.contains(&(k.to_owned(), v.to_owned())),
            "{k} in {params:?}"
        );
    }
    assert_eq!(
        twiml.attr("Dial", "timeout").as_deref(),
        Some("25"),
        "the group's ring timeout"
    );
    // Nobody live on the night line: its fallback, exactly as for a call from outside.
    let twiml = app.place_call(ALICE, "+14155551236", &[]).await;
    assert_refused(&twiml, "We are closed");
}

async fn destinations_outside_the_allowed_prefixes_are_refused(kind: StoreKind) {
    // Default: the regions of the org's own numbers (all US in the demo).
    let app = spawn_app(kind).await;
    let twiml = app.place_call(ALICE, "+447700900123", &[]).await;
    assert_refused(&twiml, "not allowed");
    let twiml = app.place_call(ALICE, "+12125550123", &[]).await;
    assert_eq!(twiml.verbs(), vec!["Dial"]);

    // The operator's prefixes narrow what the org allows, and never widen it.
    let app = spawn_app_with(kind, &[("OUTBOUND_ALLOWED_PREFIXES", "+44,+1212")]).await;
    let twiml = app.place_call(ALICE, "+12125550123", &[]).await;
    assert_eq!(twiml.texts("Number"), vec!["+12125550123"]);
    let twiml = app.place_call(ALICE, "+14155559999", &[]).await;
    assert_refused(&twiml, "not allowed");
    let twiml = app.place_call(ALICE, "+442079460000", &[]).await;
    assert_refused(&twiml, "not allowed");
}

async fn callers_and_destinations_that_do_not_resolve_are_refused(kind: StoreKind) {
    let app = spawn_app(kind).await;
    // Not a softphone, an identity this service never minted, a user in no directory.
    for from in [
        "+14158675309",
        "client:alice",
        "client:u_org_5Fdemo__zed_40example_2Ecom",
    ] {
        let twiml = app.place_call(from, "+14155559999", &[]).await;
        assert_refused(&twiml, "not set up to place calls");
    }
    for to in [
        "",
        "   ",
        "+0123",
        "hello world",
        "nobody@example.com",
        ALICE,
    ] {
        let twiml = app.place_call(ALICE, to, &[]).await;
        assert_eq!(
            twiml.verbs(),
            vec!["Say", "Hangup"],
            "{to:?}: {}",
            twiml.xml
        );
    }
    // A user of another org is no colleague, even when given exactly.
    let other = Directory::parse(
        r#"{"orgs":[{"orgId":"org_other","users":[{"email":"oscar@other.io"}]}]}"#,
    )
    .unwrap();
    app.stores
        .directory
        .import(&other, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    let twiml = app.place_call(ALICE, "oscar@other.io", &[]).await;
    assert_refused(&twiml, "cannot be reached from this phone");
    let twiml = app
        .place_call(
            "client:u_org_5Fother__oscar_40other_2Eio",
            "alice@example.com",
            &[],
        )
        .await;
    assert_refused(&twiml, "cannot be reached from this phone");
}

#[tokio::test]
async fn every_identity_style_resolves_its_caller() {
    // The literal style of the seed design.
    let app = spawn_app_with(StoreKind::Memory, &[("IDENTITY_STYLE", "email")]).await;
    let twiml = app
        .place_call("client:user:alice@example.com", "+14155559999", &[])
        .await;
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some("+14155550001"),
        "{}",
        twiml.xml
    );

    // The hash form that emails too long to escape get.
    let long = format!("{}@example.com", "a.".repeat(60));
    let identity = shared::domain::Identity::for_person(
        &shared::domain::OrgId::parse_field("org_demo", "o").unwrap(),
        &shared::domain::Email::parse_field(&long, "e").unwrap(),
        shared::domain::IdentityStyle::Safe,
    )
    .unwrap();
    assert!(identity.as_str().starts_with("u__h"));
    let directory = Directory::parse(&format!(
        r#"{{"orgs":[{{"orgId":"org_demo","phones":[{{"id":"p","phoneNumber":"+14155550009","friendlyName":"Long","userEmail":"{long}"}}]}}]}}"#
    ))
    .unwrap();
    let app = spawn_app(StoreKind::Memory).await;
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    let twiml = app
        .place_call(&format!("client:{identity}"), "+14155559999", &[])
        .await;
    assert_eq!(
        twiml.attr("Dial", "callerId").as_deref(),
        Some("+14155550009"),
        "{}",
        twiml.xml
    );
}

#[tokio::test]
async fn only_this_services_twiml_app_and_account_may_call() {
    let (app, counting) = counting_app().await;
    counting.reset();
    let url = format!("{}{OUTGOING}", app.base);
    for (name, value) in [
        ("ApplicationSid", "AP99999999999999999999999999999999"),
        ("AccountSid", "AC99999999999999999999999999999999"),
    ] {
        let mut params = outgoing_params(ALICE, "+14155559999", &[]);
        params.retain(|(k, _)| k != name);
        params.push((name.to_owned(), value.to_owned()));
        let signature = sign(AUTH_TOKEN, &url, &params);
        let (status, body) = app.webhook_with(OUTGOING, &params, Some(signature)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {body}");
    }
    // No ApplicationSid at all.
    let mut params = outgoing_params(ALICE, "+14155559999", &[]);
    params.retain(|(k, _)| k != "ApplicationSid");
    let signature = sign(AUTH_TOKEN, &url, &params);
    let (status, _) = app.webhook_with(OUTGOING, &params, Some(signature)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Unsigned, or signed for other parameters.
    let params = outgoing_params(ALICE, "+14155559999", &[]);
    let (status, _) = app.webhook_with(OUTGOING, &params, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let other = outgoing_params(ALICE, "+14155558888", &[]);
    let (status, _) = app
        .webhook_with(OUTGOING, &params, Some(sign(AUTH_TOKEN, &url, &other)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(counting.calls(), 0, "refused requests read nothing");
}

#[tokio::test]
async fn a_store_that_is_down_gets_a_spoken_apology_before_the_deadline() {
    for behaviour in [Behaviour::Fail, Behaviour::Hang] {
        let (app, stores) = spawn_behind_test_store(&[("WEBHOOK_DEADLINE_MS", "300")]).await;
        stores.set(StoreName::Presence, behaviour);
        stores.set(StoreName::Directory, behaviour);
        let started = std::time::Instant::now();
        let twiml = tokio::time::timeout(
            Duration::from_secs(5),
            app.place_call(ALICE, "+14155559999", &[]),
        )
        .await
        .expect("answered by the deadline");
        assert_refused(&twiml, "cannot be placed right now");
        println!("store fault answered in {:?}", started.elapsed());
    }
}
