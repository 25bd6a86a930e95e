//! `DirectoryStore`: an import replaces the orgs it names, reports what changed and is read
//! back by number, by user, by org and as a whole.

use shared::directory::Directory;
use shared::domain::{E164, OrgId};

use crate::helpers::{DEMO_DIRECTORY, StoreKind, stores};
use crate::on_both_stores;

on_both_stores!(
    directory_import_reports_changes_and_exports_what_it_stored,
    routes_resolve_a_number_in_one_read,
    a_number_moved_between_orgs_in_one_import_keeps_routing,
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
