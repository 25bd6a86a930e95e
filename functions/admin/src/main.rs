//! The admin API as one Lambda function, chosen by path: an org's directory read and changed
//! by its admins, one record at a time or whole, and its audit log. The handlers live in
//! `shared::http::api::admin`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::Admin>().await
}
