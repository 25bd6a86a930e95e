//! Team presence on the realtime channel, on the local server (both stores) with a real
//! WebSocket client: subscriptions, what a colleague's change tells and to whom, and what it
//! never tells (a plain heartbeat; another org; a team not watched; after unsubscribe or close).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::directory::Directory;
use shared::domain::IdentityStyle;

use crate::helpers::{ORG, StoreKind, alice, app_token};
use crate::on_both_stores;
use crate::realtime::{Socket, spawn_realtime};

const ALICE: &str = "u_org_5Fdemo__alice_40example_2Ecom";

on_both_stores!(
    a_status_set_reaches_the_orgs_watchers_within_a_second,
    a_group_watcher_hears_only_its_members,
    devices_and_calls_change_it_and_a_heartbeat_does_not,
    unsubscribe_and_close_end_a_subscription,
    subscriptions_are_limited_and_checked,
    a_silent_death_is_told_by_the_sweep,
);

/// Nothing further of `kind` arrives for a moment.
const QUIET: Duration = Duration::from_millis(400);
const ARRIVAL: Duration = Duration::from_secs(1);

async fn subscribe(socket: &mut Socket, team: &str) -> Value {
    socket
        .send_frame(json!({"type": "subscribe", "team": team}))
        .await;
    socket
        .next_frame_of("subscribed", ARRIVAL)
        .await
        .expect("an answer")
}

async fn told(socket: &mut Socket) -> Option<Value> {
    let frame = socket.next_frame_of("team.presence", ARRIVAL).await?;
    Some(frame["data"].clone())
}

/// Bob watches the org; Alice sets do not disturb: Bob is told within a second, once, with
/// her whole presence; Alice's other device hears her own `presence.status`; a watcher of
/// another org with the same emails hears nothing.
async fn a_status_set_reaches_the_orgs_watchers_within_a_second(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let bob = app_token("bob@example.com", ORG);
    let mut bobs = app.connected(&bob, "bob_web", &["voice"]).await;
    assert_eq!(
        subscribe(&mut bobs, "org").await,
        json!({"type": "subscribed", "team": "org"})
    );
    let other = r#"{"orgs": [{"orgId": "org_other", "users": [
        {"email": "alice@example.com"}, {"email": "bob@example.com"}]}]}"#;
    let directory = Directory::parse(other).unwrap();
    app.stores
        .directory
        .import(&directory, IdentityStyle::Safe)
        .await
        .unwrap();
    let other_bob = app_token("bob@example.com", "org_other");
    let mut theirs = app.connected(&other_bob, "other_web", &["voice"]).await;
    subscribe(&mut theirs, "org").await;
    let mut alices = app.connected(&alice(), "alice_web", &["voice"]).await;
    // Alice's device going live is a change already: told, then quiet.
    let first = told(&mut bobs).await.expect("alice online");
    assert_eq!(
        (first["email"].clone(), first["effective"].clone()),
        (json!("alice@example.com"), json!("available"))
    );

    let body = json!({"status": "dnd", "note": "Focus"});
    let (status, _) = app.put("/phone/presence/status", &alice(), body).await;
    assert_eq!(status, StatusCode::OK);
    let data = told(&mut bobs).await.expect("told within a second");
    assert_eq!(data["identity"], ALICE);
    assert_eq!(data["name"], "Alice Adams");
    assert_eq!(
        (data["status"].clone(), data["effective"].clone()),
        (json!("dnd"), json!("dnd"))
    );
    assert_eq!(data["note"], "Focus");
    assert_eq!(data["devices"], json!({"online": 1, "push": 0}));
    assert!(
        bobs.next_frame_of("team.presence", QUIET).await.is_none(),
        "once"
    );
    let own = alices.next_of("presence.status").await;
    assert_eq!(
        own["data"],
        json!({"status": "dnd", "until": null, "note": "Focus"})
    );
    assert!(
        theirs.next_frame_of("team.presence", QUIET).await.is_none(),
        "another org"
    );
    // The same status again is no news.
    app.put(
        "/phone/presence/status",
        &alice(),
        json!({"status": "dnd", "note": "Focus"}),
    )
    .await;
    assert!(bobs.next_frame_of("team.presence", QUIET).await.is_none());
}

/// Carol watches Sales (Alice and Bob): Alice's change reaches her, Dave's does not.
async fn a_group_watcher_hears_only_its_members(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let carol = app_token("carol@example.com", ORG);
    let mut carols = app.connected(&carol, "carol_web", &["voice"]).await;
    assert_eq!(
        subscribe(&mut carols, "grp-sales").await,
        json!({"type": "subscribed", "team": "grp-sales"})
    );
    let dave = app_token("dave@example.com", ORG);
    app.put("/phone/presence/status", &dave, json!({"status": "away"}))
        .await;
    assert!(
        carols.next_frame_of("team.presence", QUIET).await.is_none(),
        "not Sales"
    );
    app.put(
        "/phone/presence/status",
        &alice(),
        json!({"status": "away"}),
    )
    .await;
    let data = told(&mut carols).await.expect("Alice is in Sales");
    assert_eq!(
        (data["email"].clone(), data["status"].clone()),
        (json!("alice@example.com"), json!("away"))
    );
    assert_eq!(data["effective"], "offline", "away, but no live device");
}

/// The first device live, a call answered and ended, the last device gone: each is told; a
/// plain heartbeat is not.
async fn devices_and_calls_change_it_and_a_heartbeat_does_not(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let bob = app_token("bob@example.com", ORG);
    let mut bobs = app.connected(&bob, "bob_web", &["voice"]).await;
    subscribe(&mut bobs, "org").await;
    let token = alice();
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    assert_eq!(told(&mut bobs).await.unwrap()["effective"], "available");
    app.heartbeat(&token, "alice_web").await;
    assert!(
        bobs.next_frame_of("team.presence", QUIET).await.is_none(),
        "heartbeat"
    );
    // A second device changes the counts only: not told.
    app.register_with("alice@example.com", "alice_phone", &["voice"])
        .await;
    assert!(
        bobs.next_frame_of("team.presence", QUIET).await.is_none(),
        "second device"
    );

    app.progress(
        ALICE,
        "CA0000000000000000000000000000cafe",
        "in-progress",
        1,
    )
    .await;
    let on_call = told(&mut bobs).await.expect("on a call");
    assert_eq!(
        (on_call["effective"].clone(), on_call["onCall"].clone()),
        (json!("onCall"), json!(true))
    );
    app.progress(ALICE, "CA0000000000000000000000000000cafe", "completed", 2)
        .await;
    assert_eq!(told(&mut bobs).await.unwrap()["effective"], "available");

    app.unregister(&token, "alice_phone").await;
    assert!(
        bobs.next_frame_of("team.presence", QUIET).await.is_none(),
        "one left"
    );
    app.unregister(&token, "alice_web").await;
    assert_eq!(told(&mut bobs).await.unwrap()["effective"], "offline");
}

/// After an unsubscribe nothing more is told on that team; a closed connection's
/// subscriptions are gone from the store.
async fn unsubscribe_and_close_end_a_subscription(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let bob = app_token("bob@example.com", ORG);
    let mut bobs = app.connected(&bob, "bob_web", &["voice"]).await;
    subscribe(&mut bobs, "org").await;
    bobs.send_frame(json!({"type": "unsubscribe", "team": "org"}))
        .await;
    let answer = bobs.next_frame_of("unsubscribed", ARRIVAL).await;
    assert_eq!(answer, Some(json!({"type": "unsubscribed", "team": "org"})));
    app.put(
        "/phone/presence/status",
        &alice(),
        json!({"status": "away"}),
    )
    .await;
    assert!(bobs.next_frame_of("team.presence", QUIET).await.is_none());

    subscribe(&mut bobs, "grp-sales").await;
    let org = shared::domain::OrgId::parse_field(ORG, "org").unwrap();
    let now = app.clock.now_ms();
    assert_eq!(
        app.stores.events.watchers(&org, now).await.unwrap().len(),
        1
    );
    bobs.close().await;
    let mut left = 1;
    for _ in 0..50 {
        left = app.stores.events.watchers(&org, now).await.unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "gone with the connection");
}

/// At most ten teams per connection; a group of another org, or none, is refused by name.
async fn subscriptions_are_limited_and_checked(kind: StoreKind) {
    let (app, _hub) = spawn_realtime(kind).await;
    let mut socket = app.connected(&alice(), "alice_web", &["voice"]).await;
    let refused = subscribe(&mut socket, "grp-nope").await;
    assert_eq!(refused["error"]["field"], "team", "{refused}");
    socket.send_frame(json!({"type": "subscribe"})).await;
    let refused = socket.next_frame_of("subscribed", ARRIVAL).await.unwrap();
    assert_eq!(refused["error"]["field"], "team", "{refused}");

    // The demo org has three groups: with the org, four teams; the same team twice is one.
    for team in ["org", "grp-sales", "grp-support", "grp-night", "org"] {
        let answer = subscribe(&mut socket, team).await;
        assert!(answer.get("error").is_none(), "{answer}");
    }
    let more = r#"{"orgs": [{"orgId": "org_demo", "users": [{"email": "alice@example.com"}],
        "groups": [
          {"id": "g1", "name": "G1", "members": ["alice@example.com"]},
          {"id": "g2", "name": "G2", "members": ["alice@example.com"]},
          {"id": "g3", "name": "G3", "members": ["alice@example.com"]},
          {"id": "g4", "name": "G4", "members": ["alice@example.com"]},
          {"id": "g5", "name": "G5", "members": ["alice@example.com"]},
          {"id": "g6", "name": "G6", "members": ["alice@example.com"]},
          {"id": "g7", "name": "G7", "members": ["alice@example.com"]}]}]}"#;
    let directory = Directory::parse(more).unwrap();
    app.stores
        .directory
        .import(&directory, IdentityStyle::Safe)
        .await
        .unwrap();
    for team in ["g1", "g2", "g3", "g4", "g5", "g6"] {
        let answer = subscribe(&mut socket, team).await;
        assert!(answer.get("error").is_none(), "{team}: {answer}");
    }
    let eleventh = subscribe(&mut socket, "g7").await;
    assert_eq!(eleventh["error"]["field"], "team", "{eleventh}");
}

/// Alice's only device stops heartbeating: no write, no event; the hub's sweep tells Bob she
/// is offline once presence no longer counts the device.
async fn a_silent_death_is_told_by_the_sweep(kind: StoreKind) {
    let (app, hub) = spawn_realtime(kind).await;
    let bob = app_token("bob@example.com", ORG);
    let mut bobs = app.connected(&bob, "bob_web", &["voice"]).await;
    subscribe(&mut bobs, "org").await;
    app.register_with("alice@example.com", "alice_web", &["voice"])
        .await;
    assert_eq!(told(&mut bobs).await.unwrap()["effective"], "available");
    hub.sweep().await;
    assert!(
        bobs.next_frame_of("team.presence", QUIET).await.is_none(),
        "still live"
    );
    // Past the web TTL (90 s), and Bob's own socket keeps him live.
    app.advance(Duration::from_secs(120));
    assert!(bobs.ping().await);
    hub.sweep().await;
    let data = told(&mut bobs).await.expect("told by the sweep");
    assert_eq!(
        (data["email"].clone(), data["effective"].clone()),
        (json!("alice@example.com"), json!("offline"))
    );
}
