//! `POST /phone/voice/unregister-device` as a Lambda function. The handler lives in `shared::http`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::UnregisterDevice>().await
}
