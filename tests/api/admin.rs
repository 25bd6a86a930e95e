//! The admin API (issue 30): an org's admins read and change its directory live, one record
//! or the whole org at a time, on the import's validation, with ETags, referential rules and
//! an audit log; nobody else, and never another org's.

use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ORG, StoreKind, TestApp, admin_token, alice, app_token, spawn_app};
use crate::on_both_stores;
use crate::webhooks::SALES;

on_both_stores!(
    only_an_admin_of_the_org_reads_or_changes_it,
    a_record_is_created_replaced_and_deleted_with_its_etag,
    a_record_that_would_make_the_org_invalid_is_refused_as_the_import_refuses_it,
    a_record_others_refer_to_cannot_be_deleted,
    the_whole_org_is_replaced_only_at_its_version_and_a_dry_run_writes_nothing,
    every_change_is_in_the_audit_log_newest_first,
    a_change_reaches_the_next_call_user_phones_and_the_people_whose_numbers_moved,
    another_orgs_number_cannot_be_taken,
);

/// On DynamoDB a number's route says whose it is: when the operator's import gives one of this
/// org's numbers to another org, this org's admin can neither take it back by editing what its
/// route holds nor tear it down by deleting the number. (The memory store keeps no such
/// owner: each import there routes a number to the first org, by id, that lists it.)
#[tokio::test]
async fn a_number_the_operator_gave_away_stays_with_its_new_org() {
    let app = spawn_app(StoreKind::Dynamo).await;
    let mut file: Value = serde_json::from_str(crate::helpers::DEMO_DIRECTORY).unwrap();
    file["orgs"] = json!([{"orgId": OTHER_ORG, "users": [{"email": "mallory@example.com"}],
        "phones": [{"id": "theirs", "phoneNumber": SALES, "friendlyName": "Theirs",
                    "userEmail": "mallory@example.com"}]}]);
    let directory = shared::directory::Directory::parse(&file.to_string()).unwrap();
    app.stores
        .directory
        .import(&directory, shared::domain::IdentityStyle::Safe)
        .await
        .unwrap();
    let token = admin();
    let status = edit_sales(&app, &token, |sales| {
        sales["ringTimeoutSeconds"] = json!(40)
    })
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "Sales' route would point back at org_demo"
    );
    let (_, etag, _) = get(&app, "/phone/admin/phones/phone-sales", &token).await;
    let (status, _, body) = delete(
        &app,
        "/phone/admin/phones/phone-sales",
        &token,
        &[("if-match", &etag.unwrap())],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let number = shared::domain::E164::parse_field(SALES, "number").unwrap();
    let route = app
        .stores
        .directory
        .route_for_number(&number)
        .await
        .unwrap();
    assert_eq!(
        route.map(|r| r.org_id.to_string()),
        Some(OTHER_ORG.to_owned())
    );
}

const OTHER_ORG: &str = "org_other";

fn admin() -> String {
    admin_token("erin@example.com", ORG)
}

/// A request with precondition headers; the status, `ETag` and body.
async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, etag, response.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Option<String>, Value) {
    send(app, reqwest::Method::GET, path, token, &[], None).await
}

async fn put(
    app: &TestApp,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> (StatusCode, Option<String>, Value) {
    send(app, reqwest::Method::PUT, path, token, headers, Some(body)).await
}

async fn delete(
    app: &TestApp,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<String>, Value) {
    send(app, reqwest::Method::DELETE, path, token, headers, None).await
}

/// Sales with `edit` applied, written with its ETag.
async fn edit_sales(app: &TestApp, token: &str, edit: impl FnOnce(&mut Value)) -> StatusCode {
    let (_, etag, mut sales) = get(app, "/phone/admin/groups/grp-sales", token).await;
    edit(&mut sales);
    let etag = etag.expect("an ETag");
    put(
        app,
        "/phone/admin/groups/grp-sales",
        token,
        &[("if-match", &etag)],
        sales,
    )
    .await
    .0
}

async fn only_an_admin_of_the_org_reads_or_changes_it(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let paths = [
        "/phone/admin/directory",
        "/phone/admin/users/alice@example.com",
        "/phone/admin/groups/grp-sales",
        "/phone/admin/phones/phone-sales",
        "/phone/admin/audit",
    ];
    for path in paths {
        let (status, _, body) = get(&app, path, "").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, _, body) = get(&app, path, &alice()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        // Where the route takes the method, a non-admin is refused; the audit log is read-only.
        let refused = if path.ends_with("/audit") {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::FORBIDDEN
        };
        let (status, _, _) = put(&app, path, &alice(), &[("if-match", "*")], json!({})).await;
        assert_eq!(status, refused, "{path}");
        if !path.ends_with("/directory") {
            let (status, _, _) = delete(&app, path, &alice(), &[("if-match", "*")]).await;
            assert_eq!(status, refused, "{path}");
        }
    }
    // An admin of another org sees their own (empty) org and none of this one's records.
    let stranger = admin_token("mallory@example.com", OTHER_ORG);
    let (status, _, org) = get(&app, "/phone/admin/directory", &stranger).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(org["orgId"], OTHER_ORG);
    assert_eq!(org["phones"], json!([]));
    let (status, _, _) = get(&app, "/phone/admin/groups/grp-sales", &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = delete(
        &app,
        "/phone/admin/phones/phone-sales",
        &stranger,
        &[("if-match", "*")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, audit) = get(&app, "/phone/admin/audit", &stranger).await;
    assert_eq!(audit["entries"], json!([]), "the demo import is not theirs");
    // This org is as it was.
    let (_, _, phone) = get(&app, "/phone/admin/phones/phone-sales", &admin()).await;
    assert_eq!(phone["groupId"], "grp-sales");
}

async fn a_record_is_created_replaced_and_deleted_with_its_etag(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = admin();
    let path = "/phone/admin/users/frank@example.com";
    let frank = json!({"email": "frank@example.com", "name": "Frank Fisher"});
    let (status, _, _) = get(&app, path, &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = put(&app, path, &token, &[], frank.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    assert_eq!(body["error"]["code"], "precondition_required");
    let (status, created, body) =
        put(&app, path, &token, &[("if-none-match", "*")], frank.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, frank);
    let created = created.expect("an ETag");
    let (status, _, _) = put(&app, path, &token, &[("if-none-match", "*")], frank.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "it exists now");
    let (_, read, _) = get(&app, path, &token).await;
    assert_eq!(read.as_deref(), Some(created.as_str()));

    let renamed = json!({"email": "frank@example.com", "name": "Frank F."});
    let (status, replaced, body) = put(
        &app,
        path,
        &token,
        &[("if-match", &created)],
        renamed.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, renamed);
    let replaced = replaced.unwrap();
    assert_ne!(replaced, created);
    // The ETag read before the rename is stale: nothing is written.
    let (status, _, body) = put(&app, path, &token, &[("if-match", &created)], frank).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"]["code"], "precondition_failed");
    let (status, _, _) = delete(&app, path, &token, &[]).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED);
    let (status, _, _) = delete(&app, path, &token, &[("if-match", &created)]).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _, _) = get(&app, path, &token).await;
    assert_eq!(status, StatusCode::OK, "still there");
    let (status, _, _) = delete(&app, path, &token, &[("if-match", &replaced)]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = get(&app, path, &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An email's `+` is a plus in the path; ids are as written (`GRP-SALES` is no group).
    let plus = "/phone/admin/users/frank+sales@example.com";
    let (status, _, body) = put(
        &app,
        plus,
        &token,
        &[("if-none-match", "*")],
        json!({"email": "frank+sales@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, _) = get(&app, plus, &token).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = get(&app, "/phone/admin/groups/GRP-SALES", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A body naming another record than its path.
    let (status, _, body) = put(
        &app,
        path,
        &token,
        &[("if-none-match", "*")],
        json!({"email": "gina@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "email");
}

async fn a_record_that_would_make_the_org_invalid_is_refused_as_the_import_refuses_it(
    kind: StoreKind,
) {
    let app = spawn_app(kind).await;
    let token = admin();
    let (_, etag, mut sales) = get(&app, "/phone/admin/groups/grp-sales", &token).await;
    sales["members"] = json!(["alice@example.com", "not an email"]);
    sales["ringTimeoutSeconds"] = json!(2);
    let etag = etag.unwrap();
    let (status, _, body) = put(
        &app,
        "/phone/admin/groups/grp-sales",
        &token,
        &[("if-match", &etag)],
        sales.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_directory");
    let problems: Vec<(String, String)> = body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The same mistakes in a directory file, as import-directory reports them.
    let mut file: Value = serde_json::from_str(crate::helpers::DEMO_DIRECTORY).unwrap();
    file["orgs"][0]["groups"][0] = sales;
    let imported = shared::directory::Directory::parse(&file.to_string()).unwrap_err();
    let from_import: Vec<(String, String)> = imported
        .0
        .iter()
        .map(|p| {
            (
                p.path.trim_start_matches("orgs[0].").to_owned(),
                p.message.clone(),
            )
        })
        .collect();
    assert_eq!(problems, from_import);
    assert_eq!(
        problems.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["groups[0].members[1]", "groups[0].ringTimeoutSeconds"]
    );
    let (_, unchanged, _) = get(&app, "/phone/admin/groups/grp-sales", &token).await;
    assert_eq!(unchanged.as_deref(), Some(etag.as_str()), "nothing written");
}

async fn a_record_others_refer_to_cannot_be_deleted(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = admin();
    for (path, refs) in [
        (
            "/phone/admin/groups/grp-sales",
            json!(["phone:phone-sales"]),
        ),
        (
            "/phone/admin/users/alice@example.com",
            json!(["group:grp-sales", "phone:phone-alice"]),
        ),
    ] {
        let (_, etag, _) = get(&app, path, &token).await;
        let (status, _, body) = delete(&app, path, &token, &[("if-match", &etag.unwrap())]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}: {body}");
        assert_eq!(body["error"]["code"], "conflict");
        assert_eq!(body["error"]["referencedBy"], refs, "{path}");
        let (status, _, _) = get(&app, path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path} is still there");
    }
    // Once nothing refers to it, it goes: the night line's number, then its group.
    let (_, etag, _) = get(&app, "/phone/admin/phones/phone-night", &token).await;
    let (status, _, _) = delete(
        &app,
        "/phone/admin/phones/phone-night",
        &token,
        &[("if-match", &etag.unwrap())],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, etag, _) = get(&app, "/phone/admin/groups/grp-night", &token).await;
    let (status, _, _) = delete(
        &app,
        "/phone/admin/groups/grp-night",
        &token,
        &[("if-match", &etag.unwrap())],
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn the_whole_org_is_replaced_only_at_its_version_and_a_dry_run_writes_nothing(
    kind: StoreKind,
) {
    let app = spawn_app(kind).await;
    let token = admin();
    let (status, etag, mut org) = get(&app, "/phone/admin/directory", &token).await;
    assert_eq!(status, StatusCode::OK);
    let etag = etag.unwrap();
    assert!(etag.starts_with("\"v"), "{etag}");
    assert_eq!(org["orgId"], ORG);
    org["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"email": "frank@example.com"}));
    org["groups"][0]["ringTimeoutSeconds"] = json!(40);
    let path = "/phone/admin/directory";
    let (status, _, body) = put(&app, path, &token, &[], org.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    let dry = format!("{path}?dryRun=true");
    let (status, dry_etag, body) =
        put(&app, &dry, &token, &[("if-match", &etag)], org.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dryRun"], true);
    assert_eq!(body["added"], json!(["user:frank@example.com"]));
    assert_eq!(body["updated"], json!(["group:grp-sales"]));
    assert_eq!(body["removed"], json!([]));
    assert_eq!(
        dry_etag.as_deref(),
        Some(etag.as_str()),
        "a dry run writes nothing"
    );
    let (_, after_dry, unchanged) = get(&app, path, &token).await;
    assert_eq!(after_dry.as_deref(), Some(etag.as_str()));
    assert_eq!(unchanged["groups"][0]["ringTimeoutSeconds"], 25);

    let (status, written, body) =
        put(&app, path, &token, &[("if-match", &etag)], org.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dryRun"], false);
    let written = written.unwrap();
    assert_ne!(written, etag);
    assert_eq!(body["version"], written.trim_matches('"'));
    // The same body at the old version: stale.
    let (status, _, body) = put(&app, path, &token, &[("if-match", &etag)], org.clone()).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    // A dry run is asked for plainly: anything but true or false is refused, not written.
    let (status, _, body) = put(
        &app,
        &format!("{path}?dryRun=1"),
        &token,
        &[("if-match", &written)],
        org.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "dryRun");
    // Another org's id in the body.
    org["orgId"] = json!(OTHER_ORG);
    let (status, _, body) = put(&app, path, &token, &[("if-match", &written)], org).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["problems"][0]["path"], "orgId");
    let (_, _, now) = get(&app, path, &token).await;
    assert_eq!(now["groups"][0]["ringTimeoutSeconds"], 40);
}

async fn every_change_is_in_the_audit_log_newest_first(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let token = admin();
    let status = edit_sales(&app, &token, |sales| {
        sales["ringTimeoutSeconds"] = json!(40)
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = put(
        &app,
        "/phone/admin/users/frank@example.com",
        &token,
        &[("if-none-match", "*")],
        json!({"email": "frank@example.com", "name": "Frank Fisher"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _, page) = get(&app, "/phone/admin/audit?limit=2", &token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "user.created");
    assert_eq!(entries[0]["actor"], "erin@example.com");
    assert_eq!(
        entries[0]["record"],
        json!({"kind": "user", "id": "frank@example.com"})
    );
    assert_eq!(entries[0]["before"], Value::Null);
    assert_eq!(entries[0]["after"]["name"], "Frank Fisher");
    assert_eq!(entries[1]["action"], "group.updated");
    assert_eq!(entries[1]["before"]["ringTimeoutSeconds"], 25);
    assert_eq!(entries[1]["after"]["ringTimeoutSeconds"], 40);
    assert!(entries[0]["at"].as_i64() >= entries[1]["at"].as_i64());
    // The next page: the demo's import, by the importer.
    let cursor = page["cursor"].as_str().expect("an older page");
    let (_, _, older) = get(&app, &format!("/phone/admin/audit?before={cursor}"), &token).await;
    let older = older["entries"].as_array().unwrap();
    assert!(!older.is_empty());
    assert!(
        older.iter().all(|e| e["actor"] == "import-directory"),
        "{older:?}"
    );
    let (status, _, body) = get(&app, "/phone/admin/audit?before=not-a-cursor", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["field"], "before");
}

/// The types and data of `token`'s events since `cursor`.
async fn events_since(app: &TestApp, token: &str, cursor: &str) -> Vec<(String, Value)> {
    let (status, body) = app
        .get(&format!("/phone/events?after={cursor}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"].clone()))
        .collect()
}

async fn start_cursor(app: &TestApp, token: &str) -> String {
    let (_, body) = app.get("/phone/events", token).await;
    body["cursor"].as_str().unwrap().to_owned()
}

async fn a_change_reaches_the_next_call_user_phones_and_the_people_whose_numbers_moved(
    kind: StoreKind,
) {
    let app = spawn_app(kind).await;
    let token = admin();
    let frank = app_token("frank@example.com", ORG);
    let (alice_start, carol_start, dave_start) = (
        start_cursor(&app, &alice()).await,
        start_cursor(&app, &app_token("carol@example.com", ORG)).await,
        start_cursor(&app, &app_token("dave@example.com", ORG)).await,
    );
    // Frank joins, and Sales.
    let (status, _, _) = put(
        &app,
        "/phone/admin/users/frank@example.com",
        &token,
        &[("if-none-match", "*")],
        json!({"email": "frank@example.com", "name": "Frank Fisher"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let status = edit_sales(&app, &token, |sales| {
        sales["members"]
            .as_array_mut()
            .unwrap()
            .push(json!("frank@example.com"));
    })
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, phones) = app.get("/phone/user-phones", &frank).await;
    assert_eq!(status, StatusCode::OK, "{phones}");
    assert_eq!(phones["assignedPhones"][0]["id"], "phone-sales", "{phones}");
    app.register_with("frank@example.com", "frank_web", &["voice"])
        .await;
    let twiml = app.call(SALES).await;
    assert!(
        twiml
            .clients()
            .contains(&"u_org_5Fdemo__frank_40example_2Ecom".to_owned()),
        "the next call rings Frank: {}",
        twiml.xml
    );

    // Sales' number moves to Support: Alice loses it, Carol gains it, Dave is untouched.
    let (_, etag, mut phone) = get(&app, "/phone/admin/phones/phone-sales", &token).await;
    phone["groupId"] = json!("grp-support");
    let (status, _, body) = put(
        &app,
        "/phone/admin/phones/phone-sales",
        &token,
        &[("if-match", &etag.unwrap())],
        phone,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let told = |events: Vec<(String, Value)>| -> Vec<Value> {
        events
            .into_iter()
            .filter(|(kind, _)| kind == "phones.changed")
            .map(|(_, data)| data)
            .collect()
    };
    let alice_told = told(events_since(&app, &alice(), &alice_start).await);
    assert_eq!(alice_told.len(), 1, "{alice_told:?}");
    let ids = |data: &Value| -> Vec<String> {
        data["assignedPhones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&alice_told[0]), ["phone-alice"]);
    let carol = app_token("carol@example.com", ORG);
    let carol_told = told(events_since(&app, &carol, &carol_start).await);
    assert_eq!(carol_told.len(), 1);
    assert_eq!(ids(&carol_told[0]), ["phone-sales", "phone-support"]);
    let dave = app_token("dave@example.com", ORG);
    assert!(told(events_since(&app, &dave, &dave_start).await).is_empty());
    let (_, phones) = app.get("/phone/user-phones", &alice()).await;
    assert_eq!(phones["assignedPhones"].as_array().unwrap().len(), 1);
}

async fn another_orgs_number_cannot_be_taken(kind: StoreKind) {
    let app = spawn_app(kind).await;
    let stranger = admin_token("mallory@example.com", OTHER_ORG);
    let (status, _, body) = put(
        &app,
        "/phone/admin/users/mallory@example.com",
        &stranger,
        &[("if-none-match", "*")],
        json!({"email": "mallory@example.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hijack = json!({"id": "hijack", "phoneNumber": SALES, "friendlyName": "Mine",
                        "userEmail": "mallory@example.com"});
    let (status, _, body) = put(
        &app,
        "/phone/admin/phones/hijack",
        &stranger,
        &[("if-none-match", "*")],
        hijack,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let twiml = app.call(SALES).await;
    assert!(
        !twiml.xml.contains("mallory"),
        "Sales still routes to org_demo"
    );
    let (_, _, phone) = get(&app, "/phone/admin/phones/phone-sales", &admin()).await;
    assert_eq!(phone["groupId"], "grp-sales");
}
