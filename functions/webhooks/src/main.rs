//! Twilio's webhooks as one Lambda function, behind API Gateway or a Function URL: voice
//! (`POST /phone/voice/incoming`, `dial-status`, `outgoing`, `call-status`, `fallback`) and
//! messaging (`POST /phone/sms/incoming`, `status`, `fallback`). The handlers live in
//! `shared::http::webhooks`, `shared::routing` and `shared::inbox::webhook`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::Webhooks>().await
}
