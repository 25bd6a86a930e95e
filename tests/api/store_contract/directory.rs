//! `DirectoryStore`: an import replaces the orgs it names, reports what changed and is read
//! back by number, by user, by org and as a whole.

use shared::directory::AssignmentKind;
use shared::directory::Directory;
use shared::domain::{E164, Email, Identity, IdentityStyle, OrgId, UserKey};

use crate::helpers::{DEMO_DIRECTORY, StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    directory_import_reports_changes_and_exports_what_it_stored,
    routes_resolve_a_number_in_one_read,
    a_number_moved_between_orgs_in_one_import_keeps_routing,
    a_user_is_found_by_their_key_with_their_numbers,
    an_import_leaves_the_orgs_it_does_not_name_alone,
);

async fn directory_import_reports_changes_and_exports_what_it_stored(kind: StoreKind) {
    let s = stores(kind).await;
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    let first = s
        .directory
        .import(&demo, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (first.added, first.updated, first.removed, first.unchanged),
        (13, 0, 0, 0)
    );
    let again = s
        .directory
        .import(&demo, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (again.added, again.updated, again.removed, again.unchanged),
        (0, 0, 0, 13)
    );
    assert_eq!(s.directory.export().await.unwrap(), demo);

    let mut changed = demo.clone();
    changed.orgs[0].phones.retain(|p| p.id != "phone-bob");
    changed.orgs[0].groups[0].name = "Sales team".into();
    let report = s
        .directory
        .import(&changed, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(
        (
            report.added,
            report.updated,
            report.removed,
            report.unchanged
        ),
        (0, 1, 1, 11)
    );
    assert_eq!(s.directory.export().await.unwrap(), changed);
    let bob = E164::parse_field("+14155550002", "n").unwrap();
    assert!(
        s.directory.route_for_number(&bob).await.unwrap().is_none(),
        "removed number no longer routes"
    );
    let sales = E164::parse_field("+14155551234", "n").unwrap();
    let route = s.directory.route_for_number(&sales).await.unwrap().unwrap();
    assert_eq!(
        route.group.unwrap().name,
        "Sales team",
        "routes see group changes"
    );
}

async fn routes_resolve_a_number_in_one_read(kind: StoreKind) {
    let s = stores(kind).await;
    s.directory
        .import(
            &Directory::parse(DEMO_DIRECTORY).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let alice = E164::parse_field("+14155550001", "n").unwrap();
    let route = s.directory.route_for_number(&alice).await.unwrap().unwrap();
    assert_eq!(route.org_id.as_str(), "org_demo");
    assert_eq!(route.phone.id, "phone-alice");
    assert!(route.group.is_none());
    assert!(route.phone.voicemail.is_some());
    let unknown = E164::parse_field("+19995550000", "n").unwrap();
    assert!(
        s.directory
            .route_for_number(&unknown)
            .await
            .unwrap()
            .is_none()
    );
    let org = OrgId::parse_field("org_demo", "o").unwrap();
    assert_eq!(
        s.directory.org_directory(&org).await.unwrap().phones.len(),
        5
    );
    let none = OrgId::parse_field("org_none", "o").unwrap();
    assert!(
        s.directory
            .org_directory(&none)
            .await
            .unwrap()
            .phones
            .is_empty()
    );
}

async fn a_number_moved_between_orgs_in_one_import_keeps_routing(kind: StoreKind) {
    let s = stores(kind).await;
    let before = r#"{"orgs": [
        {"orgId": "org_b", "phones": [{"id": "p", "phoneNumber": "+14155550100", "friendlyName": "B", "userEmail": "b@x.io"}]}]}"#;
    s.directory
        .import(
            &Directory::parse(before).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    // The new owner comes first in the file, the old owner (now without it) second.
    let after = r#"{"orgs": [
        {"orgId": "org_a", "phones": [{"id": "p", "phoneNumber": "+14155550100", "friendlyName": "A", "userEmail": "a@x.io"}]},
        {"orgId": "org_b", "phones": []}]}"#;
    s.directory
        .import(
            &Directory::parse(after).unwrap(),
            shared::domain::IdentityStyle::Safe,
        )
        .await
        .unwrap();
    let number = E164::parse_field("+14155550100", "n").unwrap();
    let route = s
        .directory
        .route_for_number(&number)
        .await
        .unwrap()
        .expect("still routes");
    assert_eq!(route.org_id.as_str(), "org_a");
}

fn user_key(org: &str, email: &str, style: IdentityStyle) -> UserKey {
    let org = OrgId::parse_field(org, "org").unwrap();
    let email = Email::parse_field(email, "email").unwrap();
    UserKey::for_identity(&Identity::for_person(&org, &email, style).unwrap())
}

/// A person's profile is found by the key of their identity in the import's style: their
/// org, name, the numbers that ring them (direct and by group) and their own number.
async fn a_user_is_found_by_their_key_with_their_numbers(kind: StoreKind) {
    let s = stores(kind).await;
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    s.directory
        .import(&demo, IdentityStyle::Safe)
        .await
        .unwrap();
    let bob = s
        .directory
        .user(&user_key(
            "org_demo",
            "bob@example.com",
            IdentityStyle::Safe,
        ))
        .await
        .unwrap()
        .expect("bob is in the directory");
    assert_eq!(bob.org_id.as_str(), "org_demo");
    assert_eq!(bob.email.as_str(), "bob@example.com");
    assert_eq!(bob.name.as_deref(), Some("Bob Brown"));
    let mut numbers: Vec<(&str, AssignmentKind)> = bob
        .assigned_phones
        .iter()
        .map(|p| (p.id.as_str(), p.assignment))
        .collect();
    numbers.sort_by_key(|(id, _)| *id);
    assert_eq!(
        numbers,
        vec![
            ("phone-bob", AssignmentKind::Direct),
            ("phone-sales", AssignmentKind::Group),
            ("phone-support", AssignmentKind::Group),
        ]
    );
    assert_eq!(bob.direct_phone.map(|p| p.id), Some("phone-bob".into()));
    let erin = s
        .directory
        .user(&user_key(
            "org_demo",
            "erin@example.com",
            IdentityStyle::Safe,
        ))
        .await
        .unwrap()
        .expect("a user without a number");
    assert!(erin.assigned_phones.is_empty() && erin.direct_phone.is_none());

    for stranger in [
        user_key("org_demo", "zoe@example.com", IdentityStyle::Safe),
        user_key("org_other", "bob@example.com", IdentityStyle::Safe),
        user_key("org_demo", "bob@example.com", IdentityStyle::Email),
    ] {
        assert_eq!(s.directory.user(&stranger).await.unwrap(), None);
    }

    // Removed from the directory: no longer a user.
    let mut without_erin = demo.clone();
    without_erin.orgs[0]
        .users
        .retain(|u| u.email.as_str() != "erin@example.com");
    s.directory
        .import(&without_erin, IdentityStyle::Safe)
        .await
        .unwrap();
    let erin = user_key("org_demo", "erin@example.com", IdentityStyle::Safe);
    assert_eq!(s.directory.user(&erin).await.unwrap(), None);
}

/// An import replaces only the orgs its file names; the export holds every org.
async fn an_import_leaves_the_orgs_it_does_not_name_alone(kind: StoreKind) {
    let s = stores(kind).await;
    let demo = Directory::parse(DEMO_DIRECTORY).unwrap();
    s.directory
        .import(&demo, IdentityStyle::Safe)
        .await
        .unwrap();
    let other = r#"{"orgs": [
        {"orgId": "org_b", "phones": [{"id": "p", "phoneNumber": "+14155550100", "friendlyName": "B", "userEmail": "b@x.io"}]}]}"#;
    let report = s
        .directory
        .import(&Directory::parse(other).unwrap(), IdentityStyle::Safe)
        .await
        .unwrap();
    assert_eq!(report.removed, 0);
    let demo_org = OrgId::parse_field("org_demo", "o").unwrap();
    assert_eq!(
        s.directory.org_directory(&demo_org).await.unwrap(),
        demo.orgs[0]
    );
    let alice = E164::parse_field("+14155550001", "n").unwrap();
    assert!(
        s.directory
            .route_for_number(&alice)
            .await
            .unwrap()
            .is_some()
    );
    let b = user_key("org_b", "b@x.io", IdentityStyle::Safe);
    assert_eq!(
        s.directory
            .user(&b)
            .await
            .unwrap()
            .map(|u| u.org_id.to_string()),
        Some("org_b".into())
    );
    let mut orgs: Vec<String> = s
        .directory
        .export()
        .await
        .unwrap()
        .orgs
        .into_iter()
        .map(|o| o.org_id.to_string())
        .collect();
    orgs.sort();
    assert_eq!(orgs, vec!["org_b", "org_demo"]);
}
