//! Routing decisions on the memory store, table-driven: who rings, the busy rules, each
//! fallback, and the refusals of outgoing calls. Each case sets up presence and calls, routes
//! one webhook, and checks the outcome and what the TwiML does (who rings, what is said).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{CallParams, Callbacks, Context, Decision, Outcome, RecentRoutes, Settings};
use crate::directory::Directory;
use crate::domain::{
    Capabilities, DeviceId, Email, Identity, IdentityStyle, OrgId, Platform, TwilioState,
};
use crate::store::memory::MemoryStore;
use crate::store::rates::{Budget, RateKind};
use crate::store::{
    CallEvent, CallProgress, DeviceTtls, DirectoryStore, PresenceKey, PresenceStore, Registration,
};

const NOW_MS: i64 = 1_800_000_000_000;

/// A case: its name, the webhook's form, the outcome and a phrase the TwiML holds.
type OutgoingCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Outcome, &'a str);
/// Form or query parameters, as pairs.
type Pairs<'a> = &'a [(&'a str, &'a str)];
/// A case: its name, the devices and busy users it starts from, the number called, and what
/// should happen.
type IncomingCase = (
    &'static str,
    &'static [Device],
    &'static [&'static str],
    &'static str,
    Expect,
);

/// Two orgs: `o` with groups that skip busy members or not, each kind of fallback, direct
/// numbers with and without voicemail; `p` with one user.
const DIRECTORY: &str = r#"{"orgs": [
  {"orgId": "o",
   "users": [{"email": "alice@x.io", "name": "Alice"}, {"email": "frank@x.io", "name": "Frank"}],
   "groups": [
     {"id": "sales", "name": "Sales", "members": ["alice@x.io", "bob@x.io"], "ringTimeoutSeconds": 25,
      "fallback": {"type": "voicemail", "greeting": "Sales voicemail."}},
     {"id": "support", "name": "Support", "members": ["carol@x.io"], "skipBusyMembers": false,
      "fallback": {"type": "hangup", "message": "Support is closed."}},
     {"id": "ai", "name": "AI", "members": ["carol@x.io"],
      "fallback": {"type": "ai_assistant", "url": "wss://ai.example.com/s"}},
     {"id": "auto", "name": "Auto", "members": ["carol@x.io"],
      "fallback": {"type": "automation", "url": "https://flows.example.com/x"}},
     {"id": "big", "name": "Big", "members": ["m0@x.io", "m1@x.io", "m2@x.io", "m3@x.io",
      "m4@x.io", "m5@x.io", "m6@x.io", "m7@x.io", "m8@x.io", "m9@x.io", "m10@x.io", "m11@x.io"]}
   ],
   "phones": [
     {"id": "p-sales", "phoneNumber": "+14155550100", "friendlyName": "Sales", "groupId": "sales"},
     {"id": "p-support", "phoneNumber": "+14155550103", "friendlyName": "Support", "groupId": "support"},
     {"id": "p-ai", "phoneNumber": "+14155550105", "friendlyName": "AI", "groupId": "ai"},
     {"id": "p-auto", "phoneNumber": "+14155550106", "friendlyName": "Auto", "groupId": "auto"},
     {"id": "p-big", "phoneNumber": "+14155550107", "friendlyName": "Big", "groupId": "big"},
     {"id": "p-alice", "phoneNumber": "+14155550101", "friendlyName": "Alice direct",
      "userEmail": "alice@x.io", "voicemail": {"greeting": "Alice is away."}},
     {"id": "p-bob", "phoneNumber": "+14155550102", "friendlyName": "Bob direct",
      "userEmail": "bob@x.io", "whenBusy": "fallback", "voicemail": {"greeting": "Bob is busy."}},
     {"id": "p-dave", "phoneNumber": "+14155550104", "friendlyName": "Dave direct", "userEmail": "dave@x.io"}
   ]},
  {"orgId": "p", "phones": [
     {"id": "p-erin", "phoneNumber": "+14155550200", "friendlyName": "Erin", "userEmail": "erin@x.io"}]}
]}"#;

/// The identity of a person of org `o`, where every test's devices live.
fn identity(email: &str) -> Identity {
    Identity::for_person(
        &OrgId::parse_field("o", "org").unwrap(),
        &Email::parse_field(email, "email").unwrap(),
        IdentityStyle::Safe,
    )
    .unwrap()
}

fn key(email: &str) -> PresenceKey {
    PresenceKey {
        org: OrgId::parse_field("o", "org").unwrap(),
        identity: identity(email),
    }
}

/// A device somebody has, how long ago it was last seen, and whether it is a phone whose
/// Twilio SDK is registered for push (`Some(true)`) or not (`Some(false)`); `None`: a browser.
struct Device {
    email: &'static str,
    capabilities: &'static [&'static str],
    seen_ms_ago: i64,
    push_registered: Option<bool>,
    /// A browser whose Twilio `Device` reported `unregistered`.
    web_unregistered: bool,
}

const fn voice(email: &'static str, seen_ms_ago: i64) -> Device {
    Device {
        email,
        capabilities: &["voice"],
        seen_ms_ago,
        push_registered: None,
        web_unregistered: false,
    }
}

/// A browser whose Twilio `Device` lost its registration (it said `unregistered`).
const fn browser_unregistered(email: &'static str, seen_ms_ago: i64) -> Device {
    Device {
        web_unregistered: true,
        ..voice(email, seen_ms_ago)
    }
}

/// An iPhone: foreground TTL 90 s, a week while push-registered.
const fn iphone(email: &'static str, seen_ms_ago: i64, push_registered: bool) -> Device {
    Device {
        push_registered: Some(push_registered),
        ..voice(email, seen_ms_ago)
    }
}

const DAY_MS: i64 = 86_400_000;

/// The world a case routes in: the directory, live devices, and who is on a call.
struct World {
    store: Arc<MemoryStore>,
    recent: RecentRoutes,
    callbacks: Callbacks,
    prefixes: Option<Vec<String>>,
}

impl World {
    async fn new(devices: &[Device], busy: &[&str]) -> Self {
        let store = Arc::new(MemoryStore::new());
        store
            .import(&Directory::parse(DIRECTORY).unwrap(), IdentityStyle::Safe)
            .await
            .unwrap();
        for (n, device) in devices.iter().enumerate() {
            let email = Email::parse_field(device.email, "email").unwrap();
            let (platform, ttls, twilio_state) = match device.push_registered {
                None => (
                    Platform::Web,
                    DeviceTtls::foreground_only(90),
                    device.web_unregistered.then_some(TwilioState::Unregistered),
                ),
                Some(push) => (
                    Platform::Ios,
                    DeviceTtls {
                        foreground: 90,
                        push: 7 * 86_400,
                    },
                    Some(if push {
                        TwilioState::Registered
                    } else {
                        TwilioState::Unregistered
                    }),
                ),
            };
            let registration = Registration {
                key: key(device.email),
                device_id: DeviceId::parse(&format!("dev{n}")).unwrap(),
                user_email: email,
                platform,
                label: None,
                capabilities: Capabilities::parse(device.capabilities).unwrap(),
                user_agent: None,
                ip: None,
                now_ms: NOW_MS - device.seen_ms_ago,
                ttls,
                max_live: 10,
                twilio_state,
                registration_id: format!("r{n}"),
                sign_in: false,
                notifications: None,
            };
            store.register(registration).await.unwrap();
        }
        for (n, email) in busy.iter().enumerate() {
            let event = CallEvent {
                call_sid: format!("CA{n:032}"),
                progress: CallProgress::Answered,
                now_ms: NOW_MS - 1000,
                expires_at: NOW_MS / 1000 + 3600,
            };
            store.record_call(&key(email), event).await.unwrap();
        }
        Self {
            store,
            recent: RecentRoutes::default(),
            callbacks: Callbacks {
                dial_status_url: "https://h.example/phone/voice/dial-status".into(),
                call_status_url: "https://h.example/phone/voice/call-status".into(),
                recording_status_url: "https://h.example/phone/voice/recording-status".into(),
                history: None,
                parties: None,
            },
            prefixes: None,
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            presence: self.store.as_ref(),
            directory: self.store.as_ref(),
            history: self.store.as_ref(),
            recent_routes: &self.recent,
            settings: Settings {
                identity_style: IdentityStyle::Safe,
                max_call_seconds: 3600,
                outbound_allowed_prefixes: self.prefixes.as_deref(),
                calls: Budget::per_minute(RateKind::Calls, 10),
                call_history_retention_days: 90,
            },
            callbacks: &self.callbacks,
            now_ms: NOW_MS,
            deadline: Instant::now() + Duration::from_secs(5),
        }
    }
}

fn params(form: Pairs, query: Pairs) -> CallParams {
    let own = |pairs: Pairs| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    CallParams {
        form: own(form),
        query: own(query),
    }
}

/// The texts of every `tag` element of the decision's TwiML, in document order.
fn texts(decision: &Decision, tag: &str) -> Vec<String> {
    let xml = decision.twiml.render();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

fn rung(decision: &Decision) -> Vec<String> {
    texts(decision, "Identity")
}

fn ids(emails: &[&str]) -> Vec<String> {
    emails.iter().map(|e| identity(e).to_string()).collect()
}

/// What a case expects: the outcome, who rings (in order), and a phrase the TwiML must say,
/// stream to or redirect to.
struct Expect {
    outcome: Outcome,
    rung: &'static [&'static str],
    says: Option<&'static str>,
}

const fn dial(rung: &'static [&'static str]) -> Expect {
    Expect {
        outcome: Outcome::Dial,
        rung,
        says: None,
    }
}

const fn fallback(says: &'static str) -> Expect {
    Expect {
        outcome: Outcome::Fallback,
        rung: &[],
        says: Some(says),
    }
}

fn check(name: &str, decision: &Decision, expect: &Expect) {
    assert_eq!(decision.outcome, expect.outcome, "{name}: {decision:?}");
    assert_eq!(rung(decision), ids(expect.rung), "{name}");
    if let Some(phrase) = expect.says {
        let xml = decision.twiml.render();
        assert!(xml.contains(phrase), "{name}: {phrase:?} not in {xml}");
    }
}

#[tokio::test]
async fn incoming_calls_ring_whoever_is_live_and_free_else_the_fallback() {
    const CASES: &[IncomingCase] = &[
        (
            "a group rings its live members, most recently seen first",
            &[voice("alice@x.io", 5_000), voice("bob@x.io", 1_000)],
            &[],
            "+14155550100",
            dial(&["bob@x.io", "alice@x.io"]),
        ),
        (
            "a group skips a busy member",
            &[voice("alice@x.io", 5_000), voice("bob@x.io", 1_000)],
            &["bob@x.io"],
            "+14155550100",
            dial(&["alice@x.io"]),
        ),
        (
            "a group whose live members are all busy falls back",
            &[voice("alice@x.io", 5_000), voice("bob@x.io", 1_000)],
            &["alice@x.io", "bob@x.io"],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "a group with nobody live falls back to its voicemail",
            &[],
            &[],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "an sms-only device is not rung",
            &[Device {
                capabilities: &["sms"],
                ..voice("alice@x.io", 1_000)
            }],
            &[],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "a device that expired is not rung",
            &[voice("alice@x.io", 91_000)],
            &[],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "a phone asleep but registered for push is rung, after those online",
            &[
                iphone("alice@x.io", 2 * DAY_MS, true),
                voice("bob@x.io", 5_000),
            ],
            &[],
            "+14155550100",
            dial(&["bob@x.io", "alice@x.io"]),
        ),
        (
            "a phone silent past its push TTL is not rung",
            &[iphone("alice@x.io", 7 * DAY_MS + 1_000, true)],
            &[],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "a browser whose Twilio Device is unregistered is not rung: the others are",
            &[
                browser_unregistered("alice@x.io", 5_000),
                voice("bob@x.io", 10_000),
            ],
            &[],
            "+14155550100",
            dial(&["bob@x.io"]),
        ),
        (
            "a group whose every live browser is unregistered goes to the fallback at once",
            &[browser_unregistered("alice@x.io", 5_000)],
            &[],
            "+14155550100",
            fallback("Sales voicemail."),
        ),
        (
            "a phone whose push registration is gone rings only within its foreground TTL",
            &[
                iphone("alice@x.io", 91_000, false),
                iphone("bob@x.io", 5_000, false),
            ],
            &[],
            "+14155550100",
            dial(&["bob@x.io"]),
        ),
        (
            "a busy member is skipped whether online or push-reachable",
            &[iphone("alice@x.io", DAY_MS, true), voice("bob@x.io", 5_000)],
            &["alice@x.io"],
            "+14155550100",
            dial(&["bob@x.io"]),
        ),
        (
            "a group that rings busy members rings them",
            &[voice("carol@x.io", 1_000)],
            &["carol@x.io"],
            "+14155550103",
            dial(&["carol@x.io"]),
        ),
        (
            "a hangup fallback says its message",
            &[],
            &[],
            "+14155550103",
            fallback("Support is closed."),
        ),
        (
            "an AI assistant on wss:// streams the call",
            &[],
            &[],
            "+14155550105",
            fallback("<Stream url=\"wss://ai.example.com/s\"/>"),
        ),
        (
            "an automation redirects the call",
            &[],
            &[],
            "+14155550106",
            fallback("<Redirect method=\"POST\">https://flows.example.com/x</Redirect>"),
        ),
        (
            "a direct number rings its busy user (whenBusy ring)",
            &[voice("alice@x.io", 1_000)],
            &["alice@x.io"],
            "+14155550101",
            dial(&["alice@x.io"]),
        ),
        (
            "a direct number with whenBusy fallback sends callers to voicemail",
            &[voice("bob@x.io", 1_000)],
            &["bob@x.io"],
            "+14155550102",
            fallback("Bob is busy."),
        ),
        (
            "a direct number whose user is offline takes a message",
            &[],
            &[],
            "+14155550101",
            fallback("Alice is away."),
        ),
        (
            "a number with no fallback and no voicemail apologises",
            &[],
            &[],
            "+14155550104",
            fallback("nobody is available"),
        ),
        (
            "an unknown number is not in service",
            &[],
            &[],
            "+14155559999",
            Expect {
                outcome: Outcome::UnknownNumber,
                rung: &[],
                says: Some("not in service"),
            },
        ),
        (
            "a To that is not a number is not in service",
            &[],
            &[],
            "sales",
            Expect {
                outcome: Outcome::UnknownNumber,
                rung: &[],
                says: Some("not in service"),
            },
        ),
    ];
    for (name, devices, busy, to, expect) in CASES {
        let world = World::new(devices, busy).await;
        let decision = super::incoming(&world.ctx(), &params(&[("To", to)], &[])).await;
        check(name, &decision, expect);
    }
}

#[tokio::test]
async fn a_dial_rings_at_most_ten_clients_and_counts_the_busy_it_skipped() {
    let members: Vec<Device> = (0..12)
        .map(|m| voice(Box::leak(format!("m{m}@x.io").into_boxed_str()), m))
        .collect();
    let world = World::new(&members, &["m0@x.io"]).await;
    let decision = super::incoming(&world.ctx(), &params(&[("To", "+14155550107")], &[])).await;
    assert_eq!(decision.outcome, Outcome::Dial);
    let expected: Vec<String> = (1..=10)
        .map(|m| identity(&format!("m{m}@x.io")).to_string())
        .collect();
    assert_eq!(
        rung(&decision),
        expected,
        "the ten most recently seen free members"
    );
    assert_eq!(decision.skipped_busy, 1);
}

#[tokio::test]
async fn dial_status_hangs_up_after_an_answer_and_falls_back_after_none() {
    let cases: &[(&str, Pairs, Pairs, Outcome, &str)] = &[
        (
            "an answered call hangs up",
            &[("DialCallStatus", "completed"), ("To", "+14155550100")],
            &[],
            Outcome::Hangup,
            "<Hangup/>",
        ),
        (
            "a caller who hung up while it rang",
            &[("DialCallStatus", "canceled"), ("To", "+14155550100")],
            &[],
            Outcome::Hangup,
            "<Hangup/>",
        ),
        (
            "nobody answered: the number's fallback",
            &[("DialCallStatus", "no-answer"), ("To", "+14155550100")],
            &[],
            Outcome::Fallback,
            "Sales voicemail.",
        ),
        (
            "a recorded voicemail hangs up",
            &[("To", "+14155550100")],
            &[("kind", "voicemail")],
            Outcome::Hangup,
            "<Hangup/>",
        ),
        (
            "a busy public number is said so",
            &[("DialCallStatus", "busy")],
            &[("kind", "outgoing")],
            Outcome::Hangup,
            "is busy",
        ),
    ];
    let world = World::new(&[], &[]).await;
    for (name, form, query, outcome, phrase) in cases {
        let decision = super::dial_status(&world.ctx(), &params(form, query)).await;
        assert_eq!(decision.outcome, *outcome, "{name}: {decision:?}");
        assert!(decision.twiml.render().contains(phrase), "{name}");
    }
}

#[tokio::test]
async fn outgoing_calls_are_refused_unless_caller_destination_and_caller_id_check_out() {
    let alice = format!("client:{}", identity("alice@x.io"));
    let frank = format!("client:{}", identity("frank@x.io"));
    let cases: [OutgoingCase; 13] = [
        (
            "From is not a softphone",
            vec![("From", "+14155550000"), ("To", "+14155550123")],
            Outcome::CallerUnknown,
            "not set up to place calls",
        ),
        (
            "an identity this service never minted",
            vec![("From", "client:mallory"), ("To", "+14155550123")],
            Outcome::CallerUnknown,
            "not set up to place calls",
        ),
        (
            "a caller in no directory",
            vec![("From", "client:u_o__zed_40x_2Eio"), ("To", "+14155550123")],
            Outcome::CallerUnknown,
            "not set up to place calls",
        ),
        (
            "a destination outside the org's regions",
            vec![("From", &alice), ("To", "+442079460000")],
            Outcome::DestinationNotAllowed,
            "not allowed",
        ),
        (
            "a premium-rate number in the org's own region",
            vec![("From", &alice), ("To", "+19005551234")],
            Outcome::DestinationNotAllowed,
            "premium-rate",
        ),
        (
            "a To that is neither number nor person",
            vec![("From", &alice), ("To", "!!")],
            Outcome::DestinationRefused,
            "could not be dialled",
        ),
        (
            "calling yourself",
            vec![("From", &alice), ("To", "alice@x.io")],
            Outcome::DestinationRefused,
            "cannot call yourself",
        ),
        (
            "a person of another org",
            vec![("From", &alice), ("To", "erin@x.io")],
            Outcome::DestinationRefused,
            "cannot be reached",
        ),
        (
            "a caller ID that is not the caller's",
            vec![
                ("From", &alice),
                ("To", "+14155550123"),
                ("callerId", "+14155550102"),
            ],
            Outcome::CallerIdRefused,
            "your own numbers",
        ),
        (
            "a caller with no number cannot call out",
            vec![("From", &frank), ("To", "+14155550123")],
            Outcome::CallerIdRefused,
            "no phone number to call out from",
        ),
        (
            "a public number within the prefixes, from the caller's direct number",
            vec![("From", &alice), ("To", "+14155550123")],
            Outcome::Dial,
            "callerId=\"+14155550101\"",
        ),
        (
            "a group number the caller belongs to may be the caller ID",
            vec![
                ("From", &alice),
                ("To", "+14155550123"),
                ("phoneId", "p-sales"),
            ],
            Outcome::Dial,
            "callerId=\"+14155550100\"",
        ),
        (
            "a colleague who is offline: their voicemail",
            vec![("From", &alice), ("To", "bob@x.io")],
            Outcome::Fallback,
            "Bob is busy.",
        ),
    ];
    let world = World::new(&[], &[]).await;
    for (name, form, outcome, phrase) in &cases {
        let decision = super::outgoing(&world.ctx(), &params(form, &[])).await;
        assert_eq!(decision.outcome, *outcome, "{name}: {decision:?}");
        let xml = decision.twiml.render();
        assert!(xml.contains(phrase), "{name}: {phrase:?} not in {xml}");
    }
}

#[tokio::test]
async fn outgoing_calls_ring_colleagues_and_org_numbers_through_presence() {
    let alice = format!("client:{}", identity("alice@x.io"));
    let world = World::new(&[voice("bob@x.io", 1_000), voice("carol@x.io", 2_000)], &[]).await;
    let ctx = world.ctx();
    let to_bob = super::outgoing(&ctx, &params(&[("From", &alice), ("To", "bob@x.io")], &[])).await;
    assert_eq!(to_bob.outcome, Outcome::Dial);
    assert_eq!(rung(&to_bob), ids(&["bob@x.io"]));
    assert!(
        to_bob
            .twiml
            .render()
            .contains("name=\"callerName\" value=\"Alice\"")
    );
    let to_support = params(&[("From", &alice), ("To", "+14155550103")], &[]);
    let to_support = super::outgoing(&ctx, &to_support).await;
    assert_eq!(
        rung(&to_support),
        ids(&["carol@x.io"]),
        "routed as an incoming call"
    );
    // The configured prefixes narrow what the org allows; they never widen it.
    let mut world = World::new(&[], &[]).await;
    world.prefixes = Some(vec!["+1212".into(), "+44".into()]);
    let to_nyc = params(&[("From", &alice), ("To", "+12125550100")], &[]);
    assert_eq!(
        super::outgoing(&world.ctx(), &to_nyc).await.outcome,
        Outcome::Dial
    );
    for outside in ["+14155550123", "+442079460000"] {
        let to = params(&[("From", &alice), ("To", outside)], &[]);
        let refused = super::outgoing(&world.ctx(), &to).await;
        assert_eq!(refused.outcome, Outcome::DestinationNotAllowed, "{outside}");
    }
}

#[tokio::test]
async fn call_progress_marks_users_busy_until_the_call_ends() {
    let world = World::new(&[voice("alice@x.io", 1_000), voice("bob@x.io", 2_000)], &[]).await;
    let ctx = world.ctx();
    let sid = "CA0123456789abcdef0123456789abcdef";
    let org = [("org", "o")];
    let alice_id = identity("alice@x.io").to_string();
    let leg = |status: &'static str| {
        params(
            &[("CallSid", sid), ("CallStatus", status)],
            &[org[0], ("identity", alice_id.as_str())],
        )
    };
    let sales = params(&[("To", "+14155550100")], &[]);
    assert_eq!(
        super::call_status(&ctx, &leg("in-progress")).await.outcome,
        Outcome::OnCall
    );
    assert_eq!(
        rung(&super::incoming(&ctx, &sales).await),
        ids(&["bob@x.io"])
    );
    assert_eq!(
        super::call_status(&ctx, &leg("completed")).await.outcome,
        Outcome::CallEnded
    );
    // A late `answered` after the end changes nothing.
    super::call_status(&ctx, &leg("in-progress")).await;
    assert_eq!(
        rung(&super::incoming(&ctx, &sales).await),
        ids(&["alice@x.io", "bob@x.io"])
    );
    let ignored = [
        params(&[("CallSid", "CA1"), ("CallStatus", "completed")], &org),
        params(&[("CallSid", sid), ("CallStatus", "ringing")], &org),
        params(&[("CallSid", sid), ("CallStatus", "completed")], &[]),
    ];
    for callback in &ignored {
        assert_eq!(
            super::call_status(&ctx, callback).await.outcome,
            Outcome::Ignored
        );
    }
}

#[tokio::test]
async fn twilios_fallback_url_answers_from_memory_without_the_store() {
    let world = World::new(&[], &[]).await;
    let ctx = world.ctx();
    let sales = params(&[("To", "+14155550100"), ("ErrorCode", "11200")], &[]);
    let unknown = super::primary_failed(&ctx, &sales);
    assert_eq!(unknown.outcome, Outcome::Fallback);
    assert!(unknown.degraded);
    assert!(unknown.twiml.render().contains("cannot connect your call"));
    // Once this process routed the number, its own fallback answers.
    super::incoming(&ctx, &sales).await;
    let known = super::primary_failed(&ctx, &sales);
    assert!(known.twiml.render().contains("Sales voicemail."));
}
