//! Property tests over the pure parts, through the crate's public API: identity encoding,
//! Twilio webhook signatures, the directory parser, and TwiML.
//!
//! Case counts are set per block (`CASES_*` below) and recorded in docs/reliability.md; the
//! whole file runs in a few seconds in a debug build. Reproduce with
//! `cargo test -p shared --test properties -- --nocapture`; `PROPTEST_CASES` does not apply
//! because every block sets its count explicitly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use sha1::Sha1;
use shared::directory::Directory;
use shared::domain::{Email, Identity, IdentityStyle, OrgId};
use shared::twilio::signature;
use shared::twilio::twiml::{ClientNoun, DialNoun, DialVerb, RecordVerb, Twiml, escape};

/// Cheap properties (a hash, a string escape).
const CASES_CHEAP: u32 = 2000;
/// Properties that build and parse whole directories or documents.
const CASES_DOCS: u32 = 500;

/// An explicit case count; no regression files (an integration test has no lib.rs beside it
/// for proptest to put them next to, and a failure prints its minimal input anyway).
/// Populations of up to 200 emails each.
const CASES_POPULATION: u32 = 100;

fn cases(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------------------------------------
// Identity
// ------------------------------------------------------------------------------------------

/// Emails as `Email::parse_field` accepts them: printable ASCII, one `@`, both sides non-empty.
fn any_email() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything printable.
        "[!-?A-~]{1,40}@[!-?A-~]{1,40}",
        // Long enough to need the hash form (escaped form over 121 characters).
        "[!-?A-~]{30,64}@[!-?A-~]{40,180}",
        // A tiny alphabet of escape look-alikes (`.` is `_2E`, `_` is `_5F`), so near-collisions
        // such as `a.b` / `a_2Eb` / `a_5F2Eb` come up often.
        "[a._25EFh]{1,8}@[a._25EFh]{1,6}",
    ]
}

/// Org ids of every allowed character, short and at the 64-character limit.
fn any_org() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,64}"
}

fn org(raw: &str) -> OrgId {
    OrgId::parse_field(raw, "org").unwrap()
}

fn email(raw: &str) -> Email {
    Email::parse_field(raw, "email").expect("strategy yields valid emails")
}

fn is_twilio_safe(identity: &str) -> bool {
    (1..=Identity::MAX_LEN).contains(&identity.len())
        && identity
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

proptest! {
    #![proptest_config(cases(CASES_CHEAP))]

    #[test]
    fn safe_identities_are_twilio_safe_and_round_trip(o in any_org(), raw in any_email()) {
        let (org, email) = (org(&o), email(&raw));
        let identity = Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap();
        let id = identity.as_str();
        prop_assert!(is_twilio_safe(id), "{id}");
        prop_assert_eq!(Identity::parse(id), Ok(identity.clone()));
        if id.starts_with("u__h") {
            // The hash form: only for people whose escape would pass 121 characters.
            let escaped = |s: &str| s
                .bytes()
                .map(|b| if b.is_ascii_alphanumeric() { 1 } else { 3 })
                .sum::<usize>();
            prop_assert!(4 + escaped(org.as_str()) + escaped(email.as_str()) > Identity::MAX_LEN);
            prop_assert_eq!(id.len(), "u__h".len() + 64);
            prop_assert_eq!(identity.org(), None);
        } else {
            prop_assert!(id.starts_with("u_"));
            prop_assert_eq!(identity.org(), Some(org.clone()));
            prop_assert_eq!(identity.display_email(), email.as_str().to_owned());
        }
        // Deterministic: the same person always maps to the same identity, whatever its case.
        let upper = Email::parse_field(&raw.to_ascii_uppercase(), "email").unwrap();
        prop_assert_eq!(Identity::for_person(&org, &upper, IdentityStyle::Safe).unwrap(), identity);
    }

    /// Two people (org, email) share an identity exactly when they are the same person; in the
    /// `user:<email>` style (one org only) exactly when the emails are the same.
    #[test]
    fn two_different_people_never_share_an_identity(
        oa in any_org(), a in any_email(), ob in any_org(), b in any_email()
    ) {
        let (oa, a, ob, b) = (org(&oa), email(&a), org(&ob), email(&b));
        let (ia, ib) = (
            Identity::for_person(&oa, &a, IdentityStyle::Safe).unwrap(),
            Identity::for_person(&ob, &b, IdentityStyle::Safe).unwrap(),
        );
        prop_assert_eq!(ia == ib, oa == ob && a == b, "{:?} {:?}", ia, ib);
        let (ea, eb) = (
            Identity::for_person(&oa, &a, IdentityStyle::Email),
            Identity::for_person(&ob, &b, IdentityStyle::Email),
        );
        if let (Ok(ea), Ok(eb)) = (ea, eb) {
            prop_assert_eq!(ea == eb, a == b);
        }
    }

    #[test]
    fn email_style_is_the_literal_seed_form_or_refused(o in any_org(), raw in any_email()) {
        let email = email(&raw);
        match Identity::for_person(&org(&o), &email, IdentityStyle::Email) {
            Ok(identity) => {
                prop_assert_eq!(identity.as_str(), format!("user:{}", email.as_str()));
                prop_assert!(identity.as_str().len() <= Identity::MAX_LEN);
                prop_assert_eq!(identity.display_email(), email.as_str().to_owned());
                prop_assert_eq!(Identity::parse(identity.as_str()), Ok(identity.clone()));
            }
            Err(e) => {
                prop_assert_eq!(e.field, "email");
                prop_assert!(email.as_str().len() + 5 > Identity::MAX_LEN);
            }
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(raw in ".{0,200}") {
        for candidate in [raw.clone(), format!("u_{raw}"), format!("u_o__{raw}"), format!("user:{raw}")] {
            if let Ok(identity) = Identity::parse(&candidate) {
                // What parses is exactly what this service could have minted.
                prop_assert!(candidate.len() <= Identity::MAX_LEN);
                let _ = (identity.org(), identity.display_email());
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(CASES_POPULATION))]

    /// A whole population at once, each email in two orgs: identities are distinct exactly
    /// when people (org, email) are.
    #[test]
    fn a_population_of_people_maps_one_to_one(raws in prop::collection::vec(any_email(), 1..200)) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for raw in raws {
            let email = email(&raw);
            for o in ["org_bars", "org_other"] {
                let identity = Identity::for_person(&org(o), &email, IdentityStyle::Safe).unwrap();
                let person = format!("{o}/{}", email.as_str());
                if let Some(other) = seen.insert(identity.as_str().to_owned(), person.clone()) {
                    prop_assert_eq!(other, person, "collision on {}", identity);
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Webhook signatures
// ------------------------------------------------------------------------------------------

/// Twilio's algorithm, written from Twilio's documentation and nothing in the crate: the URL,
/// then for every parameter name in byte order each of its distinct values in byte order, as
/// `name` + `value`; HMAC-SHA1 with the auth token; base64.
fn reference_payload(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut by_name: BTreeMap<&[u8], BTreeSet<&[u8]>> = BTreeMap::new();
    for (name, value) in params {
        by_name
            .entry(name.as_bytes())
            .or_default()
            .insert(value.as_bytes());
    }
    let mut payload = url.as_bytes().to_vec();
    for (name, values) in by_name {
        for value in values {
            payload.extend_from_slice(name);
            payload.extend_from_slice(value);
        }
    }
    payload
}

fn reference_sign(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(&reference_payload(url, params));
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Parameters with realistic and hostile names and values, repeated names included.
fn any_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "AccountSid",
            "CallSid",
            "From",
            "To",
            "Caller",
            "Digits",
            "DialCallStatus",
            "a",
            "A",
            "Z",
            "",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ];
    let value = prop_oneof!["[+0-9]{0,15}", ".{0,40}", "[ -~]{0,20}"];
    prop::collection::vec((name, value), 0..12)
}

/// Public URLs as Twilio calls them: scheme, host, no port, a path and maybe a query.
fn any_url() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["https", "http"]),
        "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,10}){0,3}",
        "(/[A-Za-z0-9._~%-]{0,12}){0,5}",
        prop::option::of("[A-Za-z0-9=&%._~+-]{0,40}"),
    )
        .prop_map(|(scheme, host, path, query)| match query {
            Some(q) => format!("{scheme}://{host}{path}?{q}"),
            None => format!("{scheme}://{host}{path}"),
        })
}

/// Where in a URL to change one character: after `scheme://host`, so the port rule (which
/// accepts `:443`/`:80` added or removed) is not what is being tested.
fn mutate_after_authority(url: &str, at: prop::sample::Index, replacement: char) -> String {
    let authority_end = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| url[start..].find(['/', '?']).map(|i| start + i))
        .unwrap_or(url.len());
    let tail: Vec<char> = url[authority_end..].chars().collect();
    let mut out = url[..authority_end].to_owned();
    if tail.is_empty() {
        out.push('/');
        out.push(replacement);
        return out;
    }
    let i = at.index(tail.len() + 1);
    for (j, c) in tail.iter().enumerate() {
        if j == i {
            if *c == replacement {
                out.push(replacement);
                out.push(replacement);
            } else {
                out.push(replacement);
            }
        } else {
            out.push(*c);
        }
    }
    if i == tail.len() {
        out.push(replacement);
    }
    out
}

proptest! {
    #![proptest_config(cases(CASES_CHEAP))]

    #[test]
    fn signatures_match_an_independent_implementation_of_twilios_algorithm(
        token in ".{0,40}",
        url in prop_oneof![any_url(), ".{0,80}"],
        params in any_params(),
    ) {
        let expected = reference_sign(&token, &url, &params);
        prop_assert_eq!(signature::sign(&token, &url, &params), expected.clone());
        prop_assert!(signature::is_valid(&token, &url, &params, &expected));
        // Parameter order never matters; Twilio sorts.
        let mut reversed = params.clone();
        reversed.reverse();
        prop_assert!(signature::is_valid(&token, &url, &reversed, &expected));
    }

    #[test]
    fn verification_never_panics_on_arbitrary_input(
        token in ".{0,40}",
        url in ".{0,120}",
        params in any_params(),
        sig in prop_oneof![".{0,60}", "[A-Za-z0-9+/=]{0,40}"],
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = signature::is_valid(&token, &url, &params, &sig);
        let _ = signature::is_valid_json(&token, &url, &body, &sig);
        let _ = signature::sign(&token, &url, &params);
    }

    #[test]
    fn changing_any_one_parameter_value_is_refused(
        url in any_url(),
        params in any_params().prop_filter("some params", |p| !p.is_empty()),
        at in any::<prop::sample::Index>(),
        new_value in ".{0,20}",
    ) {
        let token = "12345";
        let good = reference_sign(token, &url, &params);
        let mut tampered = params.clone();
        let i = at.index(tampered.len());
        tampered[i].1 = new_value;
        // Twilio's algorithm signs the set of distinct (name, value) pairs: the change is
        // visible exactly when that set changed, and then it must be refused.
        let same = reference_payload(&url, &params) == reference_payload(&url, &tampered);
        prop_assert_eq!(signature::is_valid(token, &url, &tampered, &good), same);
    }

    #[test]
    fn adding_or_dropping_a_parameter_is_refused(
        url in any_url(),
        params in any_params(),
        extra_name in "[A-Za-z]{1,10}",
        extra_value in ".{0,10}",
    ) {
        let token = "12345";
        let good = reference_sign(token, &url, &params);
        let mut added = params.clone();
        added.push((extra_name, extra_value));
        let same = reference_payload(&url, &params) == reference_payload(&url, &added);
        prop_assert_eq!(signature::is_valid(token, &url, &added, &good), same);
        if let Some((_, rest)) = params.split_last() {
            let same = reference_payload(&url, &params) == reference_payload(&url, rest);
            prop_assert_eq!(signature::is_valid(token, &url, rest, &good), same);
        }
    }

    #[test]
    fn changing_the_url_path_or_query_is_refused(
        url in any_url(),
        params in any_params(),
        at in any::<prop::sample::Index>(),
        replacement in prop::sample::select(vec!['a', 'Z', '0', '/', '?', '&', '=', '%', '.', 'é']),
    ) {
        let token = "12345";
        let good = reference_sign(token, &url, &params);
        let changed = mutate_after_authority(&url, at, replacement);
        prop_assert_ne!(&changed, &url);
        prop_assert!(!signature::is_valid(token, &changed, &params, &good), "{} -> {}", url, changed);
        prop_assert!(!signature::is_valid("another-token", &url, &params, &good));
    }

    #[test]
    fn a_signature_with_or_without_the_default_port_validates(
        url in any_url(),
        params in any_params(),
    ) {
        let token = "12345";
        let (scheme, rest) = url.split_once("://").unwrap();
        let port = if scheme == "https" { "443" } else { "80" };
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let with_port = format!("{scheme}://{}:{port}{}", &rest[..end], &rest[end..]);
        prop_assert!(signature::is_valid(token, &url, &params, &reference_sign(token, &with_port, &params)));
        prop_assert!(signature::is_valid(token, &with_port, &params, &reference_sign(token, &url, &params)));
        // Any other port is another URL.
        let other = format!("{scheme}://{}:8443{}", &rest[..end], &rest[end..]);
        prop_assert!(!signature::is_valid(token, &url, &params, &reference_sign(token, &other, &params)));
    }

    #[test]
    fn changing_any_character_of_a_signature_is_refused(
        url in any_url(),
        params in any_params(),
        at in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9+/]",
    ) {
        let token = "12345";
        let good = reference_sign(token, &url, &params);
        let mut chars: Vec<char> = good.chars().collect();
        // The last character before the padding carries two unused bits in base64: changing
        // it can decode to the same bytes, so tamper only with the first 26 characters.
        let i = at.index(26);
        let r = replacement.chars().next().unwrap();
        prop_assume!(chars[i] != r);
        chars[i] = r;
        let bad: String = chars.into_iter().collect();
        prop_assert!(!signature::is_valid(token, &url, &params, &bad));
    }

    #[test]
    fn json_bodies_validate_exactly_when_the_hash_and_url_match(
        url in any_url(),
        body in prop::collection::vec(any::<u8>(), 0..300),
        other in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let token = "12345";
        let sep = if url.contains('?') { '&' } else { '?' };
        let signed_url = format!("{url}{sep}bodySHA256={}", signature::body_sha256(&body));
        let sig = reference_sign(token, &signed_url, &[]);
        prop_assert!(signature::is_valid_json(token, &signed_url, &body, &sig));
        prop_assert_eq!(signature::is_valid_json(token, &signed_url, &other, &sig), other == body);
    }
}

// ------------------------------------------------------------------------------------------
// Directory parser
// ------------------------------------------------------------------------------------------

/// Free text that is not blank after trimming (names, greetings, messages).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{1,30}", "[ -~]{1,30}", "[<>&\"' a-z]{1,12}"]
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

fn https_url() -> impl Strategy<Value = String> {
    "[a-z0-9.-]{1,20}(/[A-Za-z0-9._~-]{0,10}){0,3}".prop_map(|s| format!("https://{s}"))
}

fn any_fallback() -> impl Strategy<Value = Value> {
    prop_oneof![
        (
            prop::option::of(text()),
            prop::option::of(https_url()),
            prop::option::of(1u32..=14_400),
            any::<bool>()
        )
            .prop_map(|(greeting, url, max, transcribe)| {
                let mut v = json!({"type": "voicemail", "transcribe": transcribe});
                if let Some(g) = greeting {
                    v["greeting"] = json!(g);
                }
                if let Some(u) = url {
                    v["greetingUrl"] = json!(u);
                }
                if let Some(m) = max {
                    v["maxLengthSeconds"] = json!(m);
                }
                v
            }),
        https_url().prop_map(|u| json!({"type": "ai_assistant", "url": u})),
        "[a-z0-9.-]{1,20}"
            .prop_map(|h| json!({"type": "ai_assistant", "url": format!("wss://{h}/s")})),
        https_url().prop_map(|u| json!({"type": "automation", "url": u})),
        prop::option::of(text()).prop_map(|m| match m {
            Some(m) => json!({"type": "hangup", "message": m}),
            None => json!({"type": "hangup"}),
        }),
    ]
}

/// One org's shape: for each group its member count, ring timeout and fallback; for each
/// phone, whether it is assigned to a group (by index) or a user, and its names.
#[derive(Debug, Clone)]
struct OrgShape {
    groups: Vec<(usize, Option<u32>, Option<Value>, String)>,
    phones: Vec<(Option<usize>, String, Option<String>)>,
    emails: Vec<String>,
}

fn org_shape() -> impl Strategy<Value = OrgShape> {
    let group = (
        1usize..=4,
        prop::option::of(5u32..=600),
        prop::option::of(any_fallback()),
        text(),
    );
    let phone = (
        prop::option::of(0usize..3),
        text(),
        prop::option::of(text()),
    );
    (
        prop::collection::vec(group, 0..4),
        prop::collection::vec(phone, 0..6),
        prop::collection::btree_set(any_email().prop_map(|e| e.to_ascii_lowercase()), 4..8),
    )
        .prop_map(|(groups, phones, emails)| OrgShape {
            groups,
            phones,
            emails: emails.into_iter().collect(),
        })
}

/// A valid directory file as a JSON value. Ids and numbers are derived from positions, so
/// they are unique by construction; everything a person types is generated text.
fn valid_directory() -> impl Strategy<Value = Value> {
    prop::collection::vec(org_shape(), 1..4).prop_map(|orgs| {
        let orgs: Vec<Value> = orgs
            .iter()
            .enumerate()
            .map(|(o, shape)| {
                let groups: Vec<Value> = shape
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(g, (members, timeout, fallback, name))| {
                        let members: Vec<&String> =
                            shape.emails.iter().cycle().skip(g).take(*members).collect();
                        let mut v =
                            json!({"id": format!("g{g}"), "name": name, "members": members});
                        if let Some(t) = timeout {
                            v["ringTimeoutSeconds"] = json!(t);
                        }
                        if let Some(f) = fallback {
                            v["fallback"] = f.clone();
                        }
                        v
                    })
                    .collect();
                let phones: Vec<Value> = shape
                    .phones
                    .iter()
                    .enumerate()
                    .map(|(p, (group, name, greeting))| {
                        let mut v = json!({
                            "id": format!("p{p}"),
                            "phoneNumber": format!("+1415555{o:02}{p:02}"),
                            "friendlyName": name,
                        });
                        match group.filter(|g| *g < shape.groups.len()) {
                            Some(g) => v["groupId"] = json!(format!("g{g}")),
                            None => v["userEmail"] = json!(shape.emails[p % shape.emails.len()]),
                        }
                        if let Some(greeting) = greeting {
                            v["voicemail"] = json!({"greeting": greeting});
                        }
                        v
                    })
                    .collect();
                json!({"orgId": format!("org-{o}"), "groups": groups, "phones": phones})
            })
            .collect();
        json!({ "orgs": orgs })
    })
}

/// One fault injected into a valid directory, and the path its problem must be reported at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    BadOrgId,
    UnknownOrgField,
    BadPhoneNumber,
    MissingFriendlyName,
    UnknownPhoneField,
    MissingGroup,
    BothAssignments,
    BadVoicemailUrl,
    BadMember,
    BadRingTimeout,
    BadFallbackType,
    EmptyGroupName,
}

const ORG_FAULTS: [Fault; 2] = [Fault::BadOrgId, Fault::UnknownOrgField];
const PHONE_FAULTS: [Fault; 6] = [
    Fault::BadPhoneNumber,
    Fault::MissingFriendlyName,
    Fault::UnknownPhoneField,
    Fault::MissingGroup,
    Fault::BothAssignments,
    Fault::BadVoicemailUrl,
];
const GROUP_FAULTS: [Fault; 4] = [
    Fault::BadMember,
    Fault::BadRingTimeout,
    Fault::BadFallbackType,
    Fault::EmptyGroupName,
];

/// Apply `fault` to the record at `record` and return the path its problem is reported at.
fn inject(doc: &mut Value, fault: Fault, org: usize, record: usize) -> String {
    let org_path = format!("orgs[{org}]");
    let o = &mut doc["orgs"][org];
    match fault {
        Fault::BadOrgId => {
            o["orgId"] = json!("bad:org id");
            format!("{org_path}.orgId")
        }
        Fault::UnknownOrgField => {
            o["colour"] = json!("red");
            format!("{org_path}.colour")
        }
        Fault::BadPhoneNumber => {
            o["phones"][record]["phoneNumber"] = json!("555-0100");
            format!("{org_path}.phones[{record}].phoneNumber")
        }
        Fault::MissingFriendlyName => {
            o["phones"][record]
                .as_object_mut()
                .unwrap()
                .remove("friendlyName");
            format!("{org_path}.phones[{record}].friendlyName")
        }
        Fault::UnknownPhoneField => {
            o["phones"][record]["extension"] = json!(12);
            format!("{org_path}.phones[{record}].extension")
        }
        Fault::MissingGroup => {
            let phone = o["phones"][record].as_object_mut().unwrap();
            phone.remove("userEmail");
            phone.insert("groupId".into(), json!("no-such-group"));
            format!("{org_path}.phones[{record}].groupId")
        }
        Fault::BothAssignments => {
            let phone = o["phones"][record].as_object_mut().unwrap();
            phone.insert("groupId".into(), json!("g0"));
            phone.insert("userEmail".into(), json!("both@example.com"));
            format!("{org_path}.phones[{record}]")
        }
        Fault::BadVoicemailUrl => {
            o["phones"][record]["voicemail"] =
                json!({"greetingUrl": "http://insecure.example.com/a.mp3"});
            format!("{org_path}.phones[{record}].voicemail.greetingUrl")
        }
        Fault::BadMember => {
            o["groups"][record]["members"][0] = json!("not-an-email");
            format!("{org_path}.groups[{record}].members[0]")
        }
        Fault::BadRingTimeout => {
            o["groups"][record]["ringTimeoutSeconds"] = json!(1);
            format!("{org_path}.groups[{record}].ringTimeoutSeconds")
        }
        Fault::BadFallbackType => {
            o["groups"][record]["fallback"] = json!({"type": "fax"});
            format!("{org_path}.groups[{record}].fallback.type")
        }
        Fault::EmptyGroupName => {
            o["groups"][record]["name"] = json!("   ");
            format!("{org_path}.groups[{record}].name")
        }
    }
}

/// Every (fault, org, record) slot a directory offers; each record takes at most one fault,
/// so every injected fault has its own path.
fn fault_slots(doc: &Value) -> Vec<(Fault, usize, usize)> {
    let mut slots = Vec::new();
    for (o, org) in doc["orgs"].as_array().unwrap().iter().enumerate() {
        for fault in ORG_FAULTS {
            slots.push((fault, o, 0));
        }
        for p in 0..org["phones"].as_array().unwrap().len() {
            for fault in PHONE_FAULTS {
                slots.push((fault, o, p));
            }
        }
        for g in 0..org["groups"].as_array().unwrap().len() {
            for fault in GROUP_FAULTS {
                slots.push((fault, o, g));
            }
        }
    }
    slots
}

/// JSON of any shape, with keys from the directory's vocabulary so the validator's deeper
/// branches are reached, not just the top-level "must be an object".
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "orgs",
            "orgId",
            "groups",
            "phones",
            "id",
            "name",
            "members",
            "ringTimeoutSeconds",
            "fallback",
            "type",
            "url",
            "greeting",
            "greetingUrl",
            "maxLengthSeconds",
            "transcribe",
            "recordingStatusCallback",
            "phoneNumber",
            "friendlyName",
            "groupId",
            "userEmail",
            "voicemail",
            "message",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "voicemail",
            "ai_assistant",
            "automation",
            "hangup",
            "+14155550000",
            "a@b.c",
            "https://x.example/y",
            "wss://x.example/y",
            "g0",
            "",
        ])
        .prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(cases(CASES_DOCS))]

    #[test]
    fn valid_directories_parse_and_survive_a_round_trip(doc in valid_directory()) {
        let parsed = Directory::parse(&doc.to_string())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{doc:#}")))?;
        let again = Directory::parse(&parsed.to_json_pretty()).unwrap();
        prop_assert_eq!(&parsed, &again);
        prop_assert_eq!(parsed.orgs.len(), doc["orgs"].as_array().unwrap().len());
    }

    /// Inject N distinct faults into a valid directory: at least N problems come back, one at
    /// each injected fault's path, and nothing is half-loaded (the result is an error).
    #[test]
    fn every_injected_fault_is_reported_at_its_path(
        doc in valid_directory(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..8),
    ) {
        let slots = fault_slots(&doc);
        // One fault per record: pick distinct records.
        let mut chosen: BTreeMap<(usize, &'static str, usize), (Fault, usize, usize)> = BTreeMap::new();
        for pick in &picks {
            let (fault, o, r) = slots[pick.index(slots.len())];
            let kind = if ORG_FAULTS.contains(&fault) {
                "org"
            } else if PHONE_FAULTS.contains(&fault) {
                "phone"
            } else {
                "group"
            };
            chosen.entry((o, kind, r)).or_insert((fault, o, r));
        }
        let mut faulty = doc.clone();
        let expected: Vec<String> = chosen
            .values()
            .map(|&(fault, o, r)| inject(&mut faulty, fault, o, r))
            .collect();
        let problems = match Directory::parse(&faulty.to_string()) {
            Ok(_) => return Err(TestCaseError::fail(format!("accepted a faulty file: {expected:?}\n{faulty:#}"))),
            Err(e) => e.0,
        };
        prop_assert!(problems.len() >= expected.len(), "{} faults, {} problems: {:?}", expected.len(), problems.len(), problems);
        let paths: BTreeSet<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        for path in &expected {
            prop_assert!(paths.contains(path.as_str()), "{} not reported; got {:?}", path, paths);
        }
        for problem in &problems {
            prop_assert!(!problem.message.is_empty());
        }
    }

    #[test]
    fn arbitrary_json_never_panics_and_errors_always_say_something(doc in any_json()) {
        check_parse(&doc.to_string())?;
        check_parse(&json!({"orgs": [doc.clone()]}).to_string())?;
        check_parse(&json!({"orgs": [{"orgId": "o", "groups": [doc.clone()], "phones": [doc]}]}).to_string())?;
    }
}

fn check_parse(text: &str) -> Result<(), TestCaseError> {
    if let Err(e) = Directory::parse(text) {
        prop_assert!(!e.0.is_empty(), "an error with no problem listed");
        prop_assert!(
            e.0.iter()
                .all(|p| !p.path.is_empty() && !p.message.is_empty())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(CASES_CHEAP))]

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![".{0,200}", "[\\[\\]{}\":,0-9a-z ]{0,200}"]) {
        check_parse(&text)?;
    }
}

// ------------------------------------------------------------------------------------------
// TwiML
// ------------------------------------------------------------------------------------------

/// What XML 1.0 can carry at all: the escape drops the rest (documented in twiml.rs).
fn xml_carriable(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ((c as u32) >= 0x20 && c != '\u{FFFE}' && c != '\u{FFFF}')
        })
        .collect()
}

/// Text with everything awkward for XML: metacharacters, whitespace that parsers normalise,
/// control characters, non-characters, astral-plane characters.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[<>&\"' \t\r\n;#x0-9a-z]{0,30}",
        prop::collection::vec(
            prop_oneof![
                any::<char>(),
                prop::sample::select(vec![
                    '<',
                    '>',
                    '&',
                    '"',
                    '\'',
                    '\t',
                    '\n',
                    '\r',
                    '\u{0}',
                    '\u{7}',
                    '\u{1b}',
                    '\u{FFFE}',
                    '\u{FFFF}',
                    '\u{FFFD}',
                    '\u{1F600}',
                    ']'
                ]),
            ],
            0..30
        )
        .prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, TestCaseError> {
    roxmltree::Document::parse(xml).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))
}

/// All text inside an element, entity and character references resolved.
fn inner_text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .map(|n| n.text().unwrap_or_default())
        .collect()
}

const PARAMETER_NAMES: [&str; 4] = ["timestamp", "phoneId", "friendlyName", "a&b<\"c\">"];

proptest! {
    #![proptest_config(cases(CASES_CHEAP))]

    #[test]
    fn say_text_survives_exactly(text in hostile_text(), more in hostile_text()) {
        let xml = Twiml::new().say(&text).say(&more).hangup().render();
        let doc = parse(&xml)?;
        prop_assert_eq!(doc.root_element().tag_name().name(), "Response");
        let says: Vec<String> = doc.descendants().filter(|n| n.has_tag_name("Say")).map(inner_text).collect();
        prop_assert_eq!(says, vec![xml_carriable(&text), xml_carriable(&more)]);
    }

    #[test]
    fn escape_output_is_always_xml_text_and_attribute_safe(text in hostile_text()) {
        let escaped = escape(&text);
        let xml = format!("<a b=\"{escaped}\" c='{escaped}'>{escaped}</a>");
        let doc = parse(&xml)?;
        let a = doc.root_element();
        prop_assert_eq!(a.attribute("b").map(str::to_owned), Some(xml_carriable(&text)));
        prop_assert_eq!(a.attribute("c").map(str::to_owned), Some(xml_carriable(&text)));
        prop_assert_eq!(inner_text(a), xml_carriable(&text));
    }

    #[test]
    fn urls_in_every_verb_survive_exactly(url in hostile_text(), other in hostile_text()) {
        let xml = Twiml::new()
            .play(&url)
            .redirect(&url)
            .connect_stream(&url)
            .record(&RecordVerb {
                max_length_seconds: Some(120),
                transcribe: true,
                recording_status_callback: Some(other.clone()),
                action_url: url.clone(),
            })
            .render();
        let doc = parse(&xml)?;
        let expected = xml_carriable(&url);
        let find = |tag: &str| doc.descendants().find(|n| n.has_tag_name(tag)).unwrap();
        prop_assert_eq!(inner_text(find("Play")), expected.clone());
        prop_assert_eq!(inner_text(find("Redirect")), expected.clone());
        prop_assert_eq!(find("Stream").attribute("url"), Some(expected.as_str()));
        prop_assert_eq!(find("Record").attribute("action"), Some(expected.as_str()));
        prop_assert_eq!(find("Record").attribute("recordingStatusCallback").map(str::to_owned), Some(xml_carriable(&other)));
    }
}

proptest! {
    #![proptest_config(cases(CASES_DOCS))]

    #[test]
    fn dial_carries_identities_parameters_and_caller_id_exactly(
        clients in prop::collection::vec(
            (
                hostile_text(),
                prop::collection::vec((0usize..PARAMETER_NAMES.len(), hostile_text()), 0..5),
                prop::option::of(hostile_text()),
            ),
            0..12,
        ),
        caller_id in prop::option::of(hostile_text()),
        action in hostile_text(),
        timeout in any::<u32>(),
    ) {
        let dial = DialVerb {
            timeout_seconds: timeout,
            action_url: action.clone(),
            caller_id: caller_id.clone(),
            nouns: clients
                .iter()
                .map(|(identity, params, callback)| DialNoun::Client(ClientNoun {
                    identity: identity.clone(),
                    parameters: params.iter().map(|(n, v)| (PARAMETER_NAMES[*n], v.clone())).collect(),
                    status_callback: callback.clone(),
                }))
                .collect(),
        };
        let xml = Twiml::new().dial(&dial).render();
        let doc = parse(&xml)?;
        let dial_node = doc.descendants().find(|n| n.has_tag_name("Dial")).unwrap();
        prop_assert_eq!(dial_node.attribute("action").map(str::to_owned), Some(xml_carriable(&action)));
        prop_assert_eq!(dial_node.attribute("callerId").map(str::to_owned), caller_id.as_deref().map(xml_carriable));
        prop_assert_eq!(dial_node.attribute("answerOnBridge"), Some("true"));
        let t: u32 = dial_node.attribute("timeout").unwrap().parse().unwrap();
        prop_assert_eq!(t, timeout.clamp(5, 600));
        let nodes: Vec<_> = dial_node.children().filter(|n| n.has_tag_name("Client")).collect();
        prop_assert_eq!(nodes.len(), clients.len());
        for (node, (identity, params, callback)) in nodes.iter().zip(&clients) {
            prop_assert_eq!(
                node.attribute("statusCallback").map(str::to_owned),
                callback.as_deref().map(xml_carriable)
            );
            let id = node.children().find(|n| n.has_tag_name("Identity")).unwrap();
            prop_assert_eq!(inner_text(id), xml_carriable(identity));
            let got: Vec<(String, String)> = node
                .children()
                .filter(|n| n.has_tag_name("Parameter"))
                .map(|n| (n.attribute("name").unwrap().to_owned(), n.attribute("value").unwrap().to_owned()))
                .collect();
            let want: Vec<(String, String)> = params
                .iter()
                .map(|(n, v)| (PARAMETER_NAMES[*n].to_owned(), xml_carriable(v)))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
