//! New events of the alerting kinds from the table's stream to the users' sleeping phones,
//! through APNs and FCM, as a Lambda function. The consumer lives in `shared::alerts::stream`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::alerts::run_alerts().await
}
