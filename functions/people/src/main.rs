//! People presence as one Lambda function, chosen by path: the caller's status (read or set)
//! and the team view. The handlers live in `shared::http::api::people`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::People>().await
}
