//! The realtime channel's AWS side: the push function consuming moto's real stream records and
//! posting to a local fake of API Gateway's `@connections` (which checks the request is SigV4
//! signed for `execute-api` and answers 410 for connections that are gone), and the WebSocket
//! routes' handler on API Gateway's event shapes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::domain::{Capabilities, DeviceId, Email, Identity, IdentityStyle, OrgId, Platform};
use shared::realtime::Tickets;
use shared::realtime::gateway::ConnectionsApi;
use shared::realtime::stream::{StreamBatch, consume};
use shared::realtime::websocket::Gateway;
use shared::store::dynamo::DynamoStore;
use shared::store::{
    Connection, DeviceTtls, EventStore, PresenceKey, PresenceStore, Registration, SpentTicket,
};
use tokio::net::TcpListener;

use crate::helpers::{REALTIME_TICKET_SECRET, dynamo_store};

/// What the fake `@connections` received: (connection id, frame).
type Posts = Arc<Mutex<Vec<(String, String)>>>;

/// API Gateway's management API, as far as a push uses it: `POST /@connections/{id}`, signed.
/// Ids starting with `gone` answer 410 as for a closed connection, `broken` 500.
async fn fake_connections_api() -> (String, Posts) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/prod", listener.local_addr().unwrap());
    let posts: Posts = Arc::default();
    let seen = posts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let seen = seen.clone();
                    async move { Ok::<_, Infallible>(answer(request, &seen).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, posts)
}

async fn answer(request: hyper::Request<Incoming>, seen: &Posts) -> hyper::Response<Full<Bytes>> {
    // API Gateway names the error in a header, as the AWS REST-JSON protocol does.
    let reply = |status: u16, body: &str| {
        let kind = match status {
            403 => "ForbiddenException",
            410 => "GoneException",
            _ => "InternalServerErrorException",
        };
        let mut response = hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json");
        if status >= 400 {
            response = response.header("x-amzn-errortype", kind);
        }
        response
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    };
    let signed = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.starts_with("AWS4-HMAC-SHA256") && a.contains("/execute-api/aws4_request")
        });
    if !signed {
        return reply(403, r#"{"message":"Missing Authentication Token"}"#);
    }
    let path = request.uri().path().to_owned();
    let Some(id) = path.strip_prefix("/prod/@connections/") else {
        return reply(404, r#"{"message":"Not Found"}"#);
    };
    let id = id.to_owned();
    if request.method() != hyper::Method::POST {
        return reply(405, "{}");
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    if id.starts_with("gone") {
        return reply(410, r#"{"message":null}"#);
    }
    if id.starts_with("broken") {
        return reply(500, r#"{"message":"Internal server error"}"#);
    }
    seen.lock()
        .unwrap()
        .push((id, String::from_utf8(body.to_vec()).unwrap()));
    reply(200, "")
}

pub(crate) fn user(email: &str) -> PresenceKey {
    let email = Email::parse_field(email, "email").unwrap();
    let org = OrgId::parse_field("org_demo", "org").unwrap();
    PresenceKey {
        identity: Identity::for_person(&org, &email, IdentityStyle::Safe).unwrap(),
        org,
    }
}

pub(crate) async fn register(store: &DynamoStore, email: &str, device: &str, now_ms: i64) {
    let registration = Registration {
        key: user(email),
        device_id: DeviceId::parse(device).unwrap(),
        user_email: Email::parse_field(email, "email").unwrap(),
        platform: Platform::Web,
        label: None,
        capabilities: Capabilities::voice_only(),
        user_agent: None,
        ip: None,
        now_ms,
        ttls: DeviceTtls::foreground_only(90),
        max_live: 10,
        twilio_state: None,
        registration_id: format!("r{device}"),
        sign_in: false,
        notifications: None,
    };
    store.register(registration).await.unwrap();
}

async fn connect(store: &DynamoStore, email: &str, id: &str, device: &str, caps: &[&str]) {
    let connection = Connection {
        id: id.to_owned(),
        device_id: DeviceId::parse(device).unwrap(),
        capabilities: Capabilities::parse(caps).unwrap(),
        expires_at: Clock::system().now_ms() / 1000 + 7200,
    };
    let ticket = SpentTicket {
        id: format!("ticket{id}"),
        expires_at: Clock::system().now_ms() / 1000 + 60,
    };
    store
        .connect(&user(email), &connection, &ticket)
        .await
        .unwrap();
}

/// The table's stream as Lambda would deliver it: moto's GetRecords answer, read over its
/// DynamoDB Streams API (whose records are the shape of Lambda's event).
pub(crate) async fn stream_batch(stream_arn: &str) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap();
    let http = reqwest::Client::new();
    let call = |target: &'static str, body: Value| {
        let http = http.clone();
        let endpoint = endpoint.clone();
        async move {
            let response = http
                .post(&endpoint)
                .header("x-amz-target", format!("DynamoDBStreams_20120810.{target}"))
                .header("content-type", "application/x-amz-json-1.0")
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=test/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00",
                )
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let described = call("DescribeStream", json!({"StreamArn": stream_arn})).await;
    let shard = described["StreamDescription"]["Shards"][0]["ShardId"].clone();
    let iterator = call(
        "GetShardIterator",
        json!({"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await;
    let records = call(
        "GetRecords",
        json!({"ShardIterator": iterator["ShardIterator"]}),
    )
    .await;
    json!({ "Records": records["Records"] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_push_function_delivers_stream_events_and_forgets_gone_connections() {
    let store = dynamo_store().await;
    let stream = store.enable_stream().await.unwrap();
    let (url, posts) = fake_connections_api().await;
    let now = Clock::system().now_ms();
    register(&store, "alice@example.com", "laptop", now).await;
    register(&store, "bob@example.com", "desk", now).await;
    connect(
        &store,
        "alice@example.com",
        "c-laptop",
        "laptop",
        &["voice"],
    )
    .await;
    connect(
        &store,
        "alice@example.com",
        "gone-tablet",
        "laptop",
        &["voice"],
    )
    .await;
    connect(&store, "bob@example.com", "c-desk", "desk", &["voice"]).await;
    // What happens while they are connected: Alice gains a device, Bob loses his.
    register(&store, "alice@example.com", "phone", now + 1).await;
    let how = shared::store::Unregistration::at(now + 2);
    store
        .unregister(
            &user("bob@example.com"),
            &DeviceId::parse("desk").unwrap(),
            how,
        )
        .await
        .unwrap();

    let batch: StreamBatch = serde_json::from_value(stream_batch(&stream).await).unwrap();
    assert!(
        batch.records.len() > 5,
        "devices, states and events all stream"
    );
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let sender = ConnectionsApi::new(&sdk, &url);
    let (response, summary) = consume(
        &team_stores(&store),
        &sender,
        &batch,
        Clock::system().now_ms(),
    )
    .await;
    assert!(response.batch_item_failures.is_empty(), "{summary:?}");
    assert_eq!(
        summary.events, 4,
        "laptop, desk, phone registered; desk unregistered"
    );

    let posts = posts.lock().unwrap().clone();
    let frames = |id: &str| -> Vec<Value> {
        posts
            .iter()
            .filter(|(to, _)| to == id)
            .map(|(_, frame)| serde_json::from_str(frame).unwrap())
            .collect()
    };
    let changes =
        |id: &str| -> Vec<Value> { frames(id).into_iter().map(|f| f["data"].clone()).collect() };
    assert_eq!(
        changes("c-laptop"),
        [
            json!({"deviceId": "laptop", "change": "registered", "reachability": "online"}),
            json!({"deviceId": "phone", "change": "registered", "reachability": "online"}),
        ],
        "Alice's events, in order, to Alice's connection only"
    );
    assert_eq!(
        changes("c-desk"),
        [
            json!({"deviceId": "desk", "change": "registered", "reachability": "online"}),
            json!({"deviceId": "desk", "change": "unregistered"}),
        ]
    );
    assert!(
        frames("c-laptop")
            .iter()
            .all(|f| f["cursor"].is_string() && f["type"] == "devices.changed")
    );
    // The connection API Gateway called gone is forgotten.
    let open: Vec<String> = store
        .connections(&user("alice@example.com"), Clock::system().now_ms())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(open, ["c-laptop"]);
    assert_eq!(summary.delivery.gone, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_asks_lambda_to_retry_from_that_users_events() {
    let store = dynamo_store().await;
    let stream = store.enable_stream().await.unwrap();
    let (url, _) = fake_connections_api().await;
    let now = Clock::system().now_ms();
    register(&store, "alice@example.com", "laptop", now).await;
    connect(
        &store,
        "alice@example.com",
        "broken-1",
        "laptop",
        &["voice"],
    )
    .await;
    register(&store, "alice@example.com", "phone", now + 1).await;
    let raw = stream_batch(&stream).await;
    let batch: StreamBatch = serde_json::from_value(raw.clone()).unwrap();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let sender = ConnectionsApi::new(&sdk, &url);
    let (response, summary) = consume(
        &team_stores(&store),
        &sender,
        &batch,
        Clock::system().now_ms(),
    )
    .await;
    assert_eq!(response.batch_item_failures.len(), 1, "{summary:?}");
    // The record Lambda retries from is Alice's first event.
    let first_event = raw["Records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["eventName"] == "INSERT"
                && r["dynamodb"]["Keys"]["sk"]["S"]
                    .as_str()
                    .unwrap()
                    .starts_with("~evt:")
        })
        .unwrap();
    let expected = first_event["dynamodb"]["SequenceNumber"].as_str().unwrap();
    assert_eq!(response.batch_item_failures[0].item_identifier, expected);
    let as_lambda_reads = serde_json::to_value(&response).unwrap();
    assert_eq!(
        as_lambda_reads,
        json!({"batchItemFailures": [{"itemIdentifier": expected}]})
    );
}

/// An API Gateway WebSocket event for `route` on connection `id`.
pub(crate) fn websocket_event(
    route: &str,
    id: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> ApiGatewayWebsocketProxyRequest {
    let event_type = match route {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let headers: HashMap<&str, &str> = headers.iter().copied().collect();
    serde_json::from_value(json!({
        "headers": headers,
        "requestContext": {
            "routeKey": route, "eventType": event_type, "connectionId": id,
            "domainName": "abc.execute-api.us-east-1.amazonaws.com", "stage": "prod",
            "apiId": "abc", "connectedAt": 1_800_000_000_000i64, "requestTimeEpoch": 1_800_000_000_000i64,
            "requestId": "r1", "identity": {"sourceIp": "203.0.113.9"}
        },
        "body": body,
        "isBase64Encoded": false
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_routes_connect_with_a_ticket_answer_pings_and_forget_on_disconnect() {
    let store = Arc::new(dynamo_store().await);
    let gateway = crate::realtime_aws::gateway(&store, Clock::system());
    let now = Clock::system().now_ms();
    register(&store, "alice@example.com", "laptop", now).await;
    let device = store
        .live_devices(&user("alice@example.com"), now)
        .await
        .unwrap()
        .remove(0);
    let ticket = gateway
        .tickets
        .get()
        .issue(&user("alice@example.com"), &device, now / 1000)
        .unwrap();
    let offer = format!("softphone-presence.v1, {ticket}");

    let alice_connections = || async {
        store
            .connections(&user("alice@example.com"), now)
            .await
            .unwrap()
    };
    let (refused, _) = gateway
        .handle(&websocket_event(
            "$connect",
            "c1",
            &[("Sec-WebSocket-Protocol", "softphone-presence.v1, forged")],
            None,
        ))
        .await;
    assert_eq!(refused.status_code, 401);
    let (refused, _) = gateway
        .handle(&websocket_event("$connect", "c1", &[], None))
        .await;
    assert_eq!(refused.status_code, 401);
    assert!(alice_connections().await.is_empty());

    let (accepted, outcome) = gateway
        .handle(&websocket_event(
            "$connect",
            "c1",
            &[("Sec-WebSocket-Protocol", offer.as_str())],
            None,
        ))
        .await;
    assert_eq!(accepted.status_code, 200, "{outcome:?}");
    assert_eq!(
        accepted.headers["sec-websocket-protocol"],
        "softphone-presence.v1"
    );
    let open = alice_connections().await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].device_id.as_str(), "laptop");

    let (pong, _) = gateway
        .handle(&websocket_event(
            "$default",
            "c1",
            &[],
            Some(r#"{"type":"ping"}"#),
        ))
        .await;
    let body = serde_json::to_value(&pong).unwrap();
    assert_eq!(body["body"], r#"{"type":"pong"}"#);
    let (ignored, _) = gateway
        .handle(&websocket_event("$default", "c1", &[], Some("not json")))
        .await;
    assert_eq!((ignored.status_code, ignored.body.is_none()), (200, true));

    let (gone, _) = gateway
        .handle(&websocket_event("$disconnect", "c1", &[], None))
        .await;
    assert_eq!(gone.status_code, 200);
    assert!(alice_connections().await.is_empty());
    assert_eq!(store.connection_owner("c1").await.unwrap(), None);
    // A device signed out since its ticket was issued does not connect.
    let how = shared::store::Unregistration::at(Clock::system().now_ms());
    store
        .unregister(&user("alice@example.com"), &device.device_id, how)
        .await
        .unwrap();
    let (refused, _) = gateway
        .handle(&websocket_event(
            "$connect",
            "c2",
            &[("Sec-WebSocket-Protocol", offer.as_str())],
            None,
        ))
        .await;
    assert_eq!(refused.status_code, 403);
}

/// `$connect` spends its ticket in the write that records the connection: the same ticket on
/// another connection within its minute is refused with 401 and stores nothing.
#[tokio::test]
async fn a_ticket_opens_one_connection_through_the_websocket_routes() {
    let store = Arc::new(dynamo_store().await);
    let gateway = crate::realtime_aws::gateway(&store, Clock::system());
    let now = Clock::system().now_ms();
    let alice = user("alice@example.com");
    register(&store, "alice@example.com", "laptop", now).await;
    let device = store.live_devices(&alice, now).await.unwrap().remove(0);
    let issue = || {
        gateway
            .tickets
            .get()
            .issue(&alice, &device, now / 1000)
            .unwrap()
    };
    let offer = format!("softphone-presence.v1, {}", issue());
    let connect = |id: &'static str, offer: String| {
        let gateway = &gateway;
        async move {
            let headers = [("Sec-WebSocket-Protocol", offer.as_str())];
            let (answer, outcome) = gateway
                .handle(&websocket_event("$connect", id, &headers, None))
                .await;
            (answer.status_code, outcome.what)
        }
    };
    assert_eq!(connect("c1", offer.clone()).await, (200, "connected"));
    assert_eq!(connect("c2", offer).await, (401, "ticket_spent"));
    let open = store.connections(&alice, now).await.unwrap();
    assert_eq!(
        open.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["c1"]
    );
    assert_eq!(store.connection_owner("c2").await.unwrap(), None);
    // A new ticket, even in the same second, opens a connection of its own.
    let fresh = format!("softphone-presence.v1, {}", issue());
    assert_eq!(connect("c3", fresh).await, (200, "connected"));
}

/// The stores the push function's team presence reads, all on one table.
pub(crate) fn team_stores(store: &DynamoStore) -> shared::realtime::team::Stores<'_> {
    shared::realtime::team::Stores {
        presence: store,
        directory: store,
        events: store,
    }
}

/// Team presence in AWS: Bob's connection subscribes to Sales through `$default` (answered in
/// the route's response); Alice sets do not disturb and Dave goes away; the push function,
/// given the stream, posts Bob's connection one `team.presence` of Alice (Dave is not in Sales),
/// and nothing when the same batch comes again; `$disconnect` takes the subscription away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_presence_is_subscribed_on_default_and_pushed_from_the_stream() {
    use shared::directory::Directory;
    use shared::domain::{Availability, PersonStatus};
    let store = Arc::new(dynamo_store().await);
    let directory = Directory::parse(crate::helpers::DEMO_DIRECTORY).unwrap();
    shared::store::DirectoryStore::import(store.as_ref(), &directory, IdentityStyle::Safe)
        .await
        .unwrap();
    let stream = store.enable_stream().await.unwrap();
    let (url, posts) = fake_connections_api().await;
    let gateway = crate::realtime_aws::gateway(&store, Clock::system());
    let now = Clock::system().now_ms();
    register(&store, "bob@example.com", "desk", now).await;
    connect(&store, "bob@example.com", "c-bob", "desk", &["voice"]).await;
    let frame = |body: &'static str| websocket_event("$default", "c-bob", &[], Some(body));
    let (answer, _) = gateway
        .handle(&frame(r#"{"type":"subscribe","team":"grp-sales"}"#))
        .await;
    assert_eq!(
        answer
            .body
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        Some(r#"{"team":"grp-sales","type":"subscribed"}"#.to_owned())
    );
    let (refused, _) = gateway
        .handle(&frame(r#"{"type":"subscribe","team":"grp-elsewhere"}"#))
        .await;
    let refused: Value = serde_json::from_slice(&refused.body.unwrap()).unwrap();
    assert_eq!(refused["error"]["field"], "team");

    let dnd = PersonStatus {
        availability: Availability::Dnd,
        until: None,
        note: Some("Focus".into()),
        set_at: now,
    };
    store
        .set_status(&user("alice@example.com"), &dnd)
        .await
        .unwrap();
    let away = PersonStatus {
        availability: Availability::Away,
        ..dnd.clone()
    };
    store
        .set_status(&user("dave@example.com"), &away)
        .await
        .unwrap();

    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await;
    let sender = ConnectionsApi::new(&sdk, &url);
    let batch: StreamBatch = serde_json::from_value(stream_batch(&stream).await).unwrap();
    let (response, summary) = consume(
        &team_stores(&store),
        &sender,
        &batch,
        Clock::system().now_ms(),
    )
    .await;
    assert!(response.batch_item_failures.is_empty(), "{summary:?}");
    let told: Vec<Value> = posts
        .lock()
        .unwrap()
        .iter()
        .filter(|(id, _)| id == "c-bob")
        .map(|(_, frame)| serde_json::from_str::<Value>(frame).unwrap())
        .filter(|frame| frame["type"] == "team.presence")
        .collect();
    // Bob's own device going live is news to Sales' watchers too; Dave is not in Sales.
    let about = |email: &str| -> Vec<&Value> {
        told.iter()
            .filter(|f| f["data"]["email"] == email)
            .collect()
    };
    assert_eq!(about("alice@example.com").len(), 1, "{told:?}");
    assert_eq!(about("alice@example.com")[0]["data"]["status"], "dnd");
    assert_eq!(about("bob@example.com").len(), 1, "{told:?}");
    assert!(about("dave@example.com").is_empty(), "{told:?}");

    // Lambda retries a batch: the same again tells nothing more.
    posts.lock().unwrap().clear();
    consume(
        &team_stores(&store),
        &sender,
        &batch,
        Clock::system().now_ms(),
    )
    .await;
    assert!(
        posts
            .lock()
            .unwrap()
            .iter()
            .all(|(_, f)| !f.contains("team.presence")),
        "once"
    );

    // Alice's browser goes live, then stops without a word: no write, so the stream says
    // nothing; the scheduled sweep tells Bob once her presence no longer counts it.
    register(&store, "alice@example.com", "laptop", now).await;
    let batch: StreamBatch = serde_json::from_value(stream_batch(&stream).await).unwrap();
    posts.lock().unwrap().clear();
    // Read after the readings told before (an older reading never overwrites a newer one).
    let later = Clock::system().now_ms();
    consume(&team_stores(&store), &sender, &batch, later).await;
    let alice_told = |posts: &Posts| -> Vec<Value> {
        posts
            .lock()
            .unwrap()
            .iter()
            .map(|(_, frame)| serde_json::from_str::<Value>(frame).unwrap())
            .filter(|f| f["type"] == "team.presence" && f["data"]["email"] == "alice@example.com")
            .map(|f| f["data"].clone())
            .collect()
    };
    let live = alice_told(&posts);
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["effective"], "dnd", "live, in do not disturb");
    posts.lock().unwrap().clear();
    let swept = shared::realtime::team::sweep(&team_stores(&store), &sender, later + 60_000)
        .await
        .unwrap();
    // Bob and Alice were both told as live, and both still are.
    assert_eq!(
        (swept.orgs, swept.people, swept.told),
        (1, 2, 0),
        "still live: nothing told"
    );
    // Bob's device must outlive the sweep's moment for his connection to count: renew it.
    register(&store, "bob@example.com", "desk", later + 200_000).await;
    let swept = shared::realtime::team::sweep(&team_stores(&store), &sender, later + 200_000)
        .await
        .unwrap();
    assert_eq!(swept.told, 1, "{swept:?}");
    let gone = alice_told(&posts);
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(gone[0]["effective"], "offline");

    let org = OrgId::parse_field("org_demo", "org").unwrap();
    let watching = store.watchers(&org, now).await.unwrap();
    assert_eq!(watching.len(), 1);
    gateway
        .handle(&websocket_event("$disconnect", "c-bob", &[], None))
        .await;
    assert!(store.watchers(&org, now).await.unwrap().is_empty());
}

/// The `realtime` function's routes over `store`, with the tests' ticket secret, the default
/// socket settings and `clock`.
pub(crate) fn gateway(store: &Arc<DynamoStore>, clock: Clock) -> Gateway {
    let secret = REALTIME_TICKET_SECRET.to_owned().into();
    Gateway {
        presence: store.clone(),
        directory: store.clone(),
        events: store.clone(),
        tickets: shared::secrets::Rotating::fixed(Tickets::new(&secret)),
        socket: Default::default(),
        clock,
    }
}
