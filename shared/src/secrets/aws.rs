//! The secret from Secrets Manager (`GetSecretValue`), over the SDK's one HTTP/TLS stack.

use futures::future::BoxFuture;

use super::SecretReader;

pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
}

impl SecretsManager {
    /// A client with the settings of `sdk` (`AWS_ENDPOINT_URL_SECRETS_MANAGER` applies).
    pub fn new(sdk: &aws_config::SdkConfig, arn: &str) -> Self {
        Self {
            client: aws_sdk_secretsmanager::Client::new(sdk),
            arn: arn.to_owned(),
        }
    }
}

impl SecretReader for SecretsManager {
    fn read(&self) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let output = self
                .client
                .get_secret_value()
                .secret_id(&self.arn)
                .send()
                .await
                .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
            output
                .secret_string
                .ok_or_else(|| "the secret has no SecretString (a binary secret)".to_owned())
        })
    }
}
