//! API Gateway's WebSocket routes of the realtime channel (`$connect`, `$disconnect`,
//! `$default`) as a Lambda function. The handler lives in `shared::realtime::websocket`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::realtime::run_websocket().await
}
