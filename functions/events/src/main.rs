//! The realtime channel's app routes as one Lambda function, chosen by path:
//! `GET /phone/events` (catch-up) and `POST /phone/events/ticket`. The handlers live in
//! `shared::http::api::events`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::Events>().await
}
