//! The table's stream (new events only) to the users' open realtime connections, as a Lambda
//! function. The consumer lives in `shared::realtime::stream`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::realtime::run_push().await
}
