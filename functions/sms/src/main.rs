//! The SMS inbox's app routes as one Lambda function, chosen by path: the conversations, a
//! conversation's messages, the read mark, a message's media and sending. The handlers live in
//! `shared::http::api::sms` and `shared::http::api::sms_send`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::run::<shared::http::endpoints::Sms>().await
}
