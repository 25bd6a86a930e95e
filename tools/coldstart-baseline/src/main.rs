//! The bare function `scripts/coldstart` compares the service's functions with: `lambda_http`,
//! a DynamoDB client from the standard settings, one `GetItem` per request, a fixed answer.
//! No configuration, no warm-up: its first request opens the connection.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    lambda_http::run(service_fn(|_request: Request| {
        let client = &client;
        let table = &table;
        async move {
            let item = client
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S("warmup".into()))
                .key("sk", AttributeValue::S("warmup".into()))
                .send()
                .await?;
            let found = item.item.is_some();
            Ok::<_, Error>(Response::new(Body::Text(format!("{{\"found\":{found}}}"))))
        }
    }))
    .await
}
