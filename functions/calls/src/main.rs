//! Call history and voicemail as one Lambda function, chosen by path: the caller's recent calls,
//! their seen mark, and a voicemail to play or delete. The handlers live in
//! `shared::http::api::calls`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::Calls>().await
}
