//! Twilio's voice webhooks as one Lambda function, behind API Gateway or a Function URL:
//! `POST /phone/voice/incoming`, `dial-status`, `outgoing`, `call-status` and `fallback`. The
//! handlers live in `shared::http::webhooks` and `shared::routing`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::VoiceWebhooks>().await
}
