//! The scheduled SMS reconciler as one Lambda function: stores the inbound texts Twilio has
//! that neither webhook URL stored. The work lives in `shared::inbox::reconcile`.

#[tokio::main]
async fn main() -> Result<(), shared::lambda::Error> {
    shared::lambda::reconcile::run_reconcile().await
}
