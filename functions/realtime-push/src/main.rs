//! The table's stream (new events only) to the users' open realtime connections, and on a
//! schedule the team presence sweep, as a Lambda function. The consumer lives in
//! `shared::realtime::stream`, the sweep in `shared::realtime::team`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::realtime::run_push().await
}
