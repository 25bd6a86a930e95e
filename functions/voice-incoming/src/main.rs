//! Twilio's voice webhooks as one Lambda function: `POST /phone/voice/incoming` and
//! `POST /phone/voice/dial-status`, behind API Gateway or a Function URL. The handlers live in
//! `shared::http::webhooks`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run(shared::http::endpoints::VOICE_WEBHOOKS).await
}
