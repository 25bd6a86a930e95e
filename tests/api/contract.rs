//! docs/openapi.yaml against the routes the server really serves: every served route and
//! method is in the spec, every operation in the spec is served (or listed as not served
//! yet), and a method the spec does not give a path is refused with 405.

use std::collections::BTreeSet;

use shared::http::Route;

use crate::helpers::{StoreKind, spawn_app};

const SPEC: &str = include_str!("../../docs/openapi.yaml");

/// In the spec, not served yet. Remove an entry when the server serves it: the test fails
/// while a listed operation is in fact served, so this list cannot go stale.
const NOT_SERVED_YET: &[(&str, &str)] = &[];

/// Served by the local server (`softphone-presence serve`) only, never by the handlers the
/// Lambda functions run: checked against the binary below.
const LOCAL_ONLY: &[(&str, &str)] = &[("GET", "/"), ("GET", "/openapi.yaml")];

/// The local server's WebSocket (API Gateway's WebSocket API in AWS): a plain GET is refused
/// with a 400 that says to upgrade.
const LOCAL_WEBSOCKET: &str = "/phone/events/connect";

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "options", "head"];

/// (METHOD, path) of every operation under `paths:`. The file keeps the usual layout: a path
/// at two spaces' indent, its methods at four.
fn spec_operations() -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    for line in SPEC.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line
            .strip_prefix("  ")
            .filter(|l| l.starts_with('/'))
            .and_then(|l| l.strip_suffix(':'))
        {
            path = Some(p.to_owned());
        } else if let Some(m) = line
            .strip_prefix("    ")
            .and_then(|l| l.strip_suffix(':'))
            .filter(|m| METHODS.contains(m))
        {
            ops.insert((
                m.to_uppercase(),
                path.clone().expect("a method under a path"),
            ));
        }
    }
    ops
}

/// What the server says to a bare request: is the operation there at all?
async fn served(app: &crate::helpers::TestApp, method: &str, path: &str) -> bool {
    let response = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let refused = (status == 404 && body.contains("not_found"))
        || (status == 405 && body.contains("method_not_allowed"));
    !refused
}

#[tokio::test]
async fn the_spec_and_the_served_routes_agree() {
    let spec = spec_operations();
    assert!(spec.len() >= 15, "parsed the spec: {spec:?}");

    // Every route the handlers serve, with every method they accept, is in the spec.
    let mut routed = BTreeSet::new();
    for route in Route::ALL {
        for method in route.allow().split(", ") {
            routed.insert((method.to_owned(), route.path().to_owned()));
        }
    }
    let undocumented: Vec<_> = routed.difference(&spec).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in docs/openapi.yaml: {undocumented:?}"
    );

    let app = spawn_app(StoreKind::Memory).await;
    let pending: BTreeSet<(String, String)> = NOT_SERVED_YET
        .iter()
        .chain(LOCAL_ONLY)
        .chain(&[("GET", LOCAL_WEBSOCKET)])
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    for (method, path) in &spec {
        let is_served = served(&app, method, path).await;
        if pending.contains(&(method.clone(), path.clone())) {
            assert!(
                !is_served,
                "{method} {path} is served now: remove it from NOT_SERVED_YET"
            );
        } else {
            assert!(is_served, "{method} {path} is in the spec but not served");
        }
    }
    // Methods the spec does not list for a served path are refused.
    let paths: BTreeSet<&String> = routed.iter().map(|(_, p)| p).collect();
    for path in paths {
        for method in ["PUT", "PATCH", "DELETE"] {
            if routed.contains(&(method.to_owned(), path.clone())) {
                continue;
            }
            assert!(
                !spec.contains(&(method.to_owned(), path.clone())),
                "{method} {path}"
            );
            assert!(
                !served(&app, method, path).await,
                "{method} {path} is served but not in the spec"
            );
        }
    }
}

#[tokio::test]
async fn the_local_server_serves_its_own_pages_and_this_spec() {
    let (_server, base, _) = crate::binary::start(&[]);
    let http = reqwest::Client::new();
    for (method, path) in LOCAL_ONLY {
        let response = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
    }
    let plain = http
        .get(format!("{base}{LOCAL_WEBSOCKET}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
    assert!(plain.text().await.unwrap().contains("WebSocket upgrade"));
    let served = http
        .get(format!("{base}/openapi.yaml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(served, SPEC, "the served spec is docs/openapi.yaml");
}
