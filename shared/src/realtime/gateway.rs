//! API Gateway's `@connections` as the push's [`Sender`] (the `realtime-push` function, feature
//! `push`): `PostToConnection` to the stage's management endpoint, a 410 `GoneException` telling
//! that the connection no longer exists.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use super::push::{SendError, Sender};

pub struct ConnectionsApi {
    client: Client,
}

impl ConnectionsApi {
    /// A client of the management API at `endpoint` (`https://{api}.execute-api.{region}
    /// .amazonaws.com/{stage}`, the template's `REALTIME_MANAGEMENT_URL`).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint)
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }
}

#[async_trait]
impl Sender for ConnectionsApi {
    async fn send(&self, connection_id: &str, frame: &str) -> Result<(), SendError> {
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_gone_exception()) =>
            {
                Err(SendError::Gone)
            }
            Err(err) => Err(SendError::Failed(
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&err).to_string(),
            )),
        }
    }
}
