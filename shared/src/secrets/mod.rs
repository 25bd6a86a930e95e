//! Secrets from one Secrets Manager secret (`SECRETS_ARN`): read at start-up into the
//! configuration, re-read at most every `SECRETS_REFRESH_SECONDS` so that a rotation lands
//! without a deploy, and the last good values kept when a read fails or brings values the
//! configuration refuses. [`Rotating`] holds what is made from a secret (a prepared key) and
//! remakes it when a re-read changed the configuration.
//!
//! Without `SECRETS_ARN`, secrets are plain environment variables and nothing here re-reads
//! anything. `config/secrets.rs` says which settings are secrets and parses the JSON.

#[cfg(feature = "secrets")]
mod aws;
mod rotating;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

pub use rotating::Rotating;

use crate::clock::Clock;
use crate::config::{
    Config, ConfigError, Needs, SECRET_NAMES, SecretValues, SecretsSource, with_secret_values,
};

/// A process's environment, shared with the re-reads that layer the secret over it.
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Reads the secret's text: Secrets Manager's `GetSecretValue`, or a test's stand-in.
pub trait SecretReader: Send + Sync {
    fn read(&self) -> BoxFuture<'_, Result<String, String>>;
}

/// The configuration as of one good read of the secret.
pub struct Loaded {
    /// Counts the reads that changed a value; 0 is the read at start-up.
    pub version: u64,
    pub config: Config,
    values: SecretValues,
}

/// What a re-read did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reread {
    Changed,
    Unchanged,
    /// The last good values are kept; the reason names no value.
    Failed(String),
}

/// The secret's values as configuration, re-read when due. Cheap to clone.
#[derive(Clone)]
pub struct Secrets(Arc<Shared>);

struct Shared {
    reader: Box<dyn SecretReader>,
    env: Env,
    needs: Needs,
    refresh: Duration,
    loaded: RwLock<Arc<Loaded>>,
    /// What `epoch` and the due time are read on: the process's clock, monotonic part.
    clock: Clock,
    /// When the next re-read is due, in milliseconds after `epoch`.
    epoch: Instant,
    next_read_ms: AtomicU64,
    /// A re-read is under way: there is never a second.
    reading: AtomicBool,
}

/// The configuration for `needs` from `env` and, when `SECRETS_ARN` is set and the binary
/// holds a secret, from that secret (read once here, then by [`Secrets`] when due, on
/// `clock`). `sdk` is awaited only when the secret is read.
pub async fn configure(
    env: Env,
    needs: Needs,
    sdk: impl Future<Output = aws_config::SdkConfig>,
    clock: &Clock,
) -> Result<(Config, Option<Secrets>), ConfigError> {
    let source = if needs.holds_secrets() {
        SecretsSource::from_env(&*env)?
    } else {
        None
    };
    let Some(source) = source else {
        return Ok((Config::from_env(&*env, needs)?, None));
    };
    for name in SECRET_NAMES.iter().filter(|name| env(name).is_some()) {
        tracing::warn!(
            variable = name,
            "set in the environment but read from SECRETS_ARN's secret; the environment's value is ignored"
        );
    }
    let reader = reader(&source, sdk).await?;
    let refresh = Duration::from_secs(source.refresh_seconds.into());
    let secrets = Secrets::load(reader, env, needs, refresh, clock.clone()).await?;
    let config = secrets.loaded().config.clone();
    Ok((config, Some(secrets)))
}

/// [`configure`] with the AWS settings of the environment as the SDK reads them (profiles,
/// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, …): the local server and the tests.
pub async fn configure_from_env(
    env: Env,
    needs: Needs,
    clock: &Clock,
) -> Result<(Config, Option<Secrets>), ConfigError> {
    configure(env, needs, aws_config::from_env().load(), clock).await
}

#[cfg(feature = "secrets")]
async fn reader(
    source: &SecretsSource,
    sdk: impl Future<Output = aws_config::SdkConfig>,
) -> Result<Box<dyn SecretReader>, ConfigError> {
    Ok(Box::new(aws::SecretsManager::new(&sdk.await, &source.arn)))
}

#[cfg(not(feature = "secrets"))]
async fn reader(
    _: &SecretsSource,
    _: impl Future<Output = aws_config::SdkConfig>,
) -> Result<Box<dyn SecretReader>, ConfigError> {
    Err(ConfigError(vec![
        "SECRETS_ARN is set, but this binary was built without Secrets Manager support \
         (shared's `secrets` feature)"
            .into(),
    ]))
}

impl Secrets {
    /// Reads the secret and builds the configuration from it; any failure stops the start,
    /// naming `SECRETS_ARN` (never a value). Re-reads fall due every `refresh` on `clock`.
    pub async fn load(
        reader: Box<dyn SecretReader>,
        env: Env,
        needs: Needs,
        refresh: Duration,
        clock: Clock,
    ) -> Result<Self, ConfigError> {
        let named = |problem: String| ConfigError(vec![format!("SECRETS_ARN: {problem}")]);
        let text = reader
            .read()
            .await
            .map_err(|e| named(format!("cannot read the secret: {e}")))?;
        let values = SecretValues::parse(&text).map_err(named)?;
        let config = Config::from_env(&with_secret_values(&*env, &values), needs)?;
        let refresh_ms = refresh.as_millis() as u64;
        Ok(Self(Arc::new(Shared {
            reader,
            env,
            needs,
            refresh,
            loaded: RwLock::new(Arc::new(Loaded {
                version: 0,
                config,
                values,
            })),
            epoch: clock.instant(),
            clock,
            next_read_ms: AtomicU64::new(refresh_ms),
            reading: AtomicBool::new(false),
        })))
    }

    /// The configuration of the last good read. When a re-read is due, one starts in the
    /// background (this request goes on with the values it has).
    pub fn current(&self) -> Arc<Loaded> {
        self.reread_if_due();
        self.loaded()
    }

    fn loaded(&self) -> Arc<Loaded> {
        // A poisoned lock only means a panic elsewhere mid-swap of an `Arc`: the value is whole.
        let loaded = self.0.loaded.read().unwrap_or_else(|e| e.into_inner());
        loaded.clone()
    }

    fn reread_if_due(&self) {
        let now_ms = self
            .0
            .clock
            .instant()
            .duration_since(self.0.epoch)
            .as_millis() as u64;
        if now_ms < self.0.next_read_ms.load(Ordering::Relaxed)
            || self.0.reading.swap(true, Ordering::AcqRel)
        {
            return;
        }
        // Counted from the start of the read: at most one read per period, failed or not.
        let refresh_ms = self.0.refresh.as_millis() as u64;
        self.0
            .next_read_ms
            .store(now_ms + refresh_ms, Ordering::Relaxed);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.0.reading.store(false, Ordering::Release);
            return;
        };
        let this = self.clone();
        runtime.spawn(async move {
            this.reread().await;
            this.0.reading.store(false, Ordering::Release);
        });
    }

    /// Reads the secret now. New values that make a valid configuration replace the old
    /// ones; anything else keeps them and is logged.
    pub async fn reread(&self) -> Reread {
        let started = Instant::now();
        let outcome = self.try_reread().await;
        let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
        match &outcome {
            Reread::Changed => tracing::info!(latency_ms, "secret re-read: new values in use"),
            Reread::Unchanged => tracing::debug!(latency_ms, "secret re-read: unchanged"),
            Reread::Failed(error) => tracing::warn!(
                error = %error,
                latency_ms,
                "secret re-read failed; the last good values stay in use"
            ),
        }
        outcome
    }

    async fn try_reread(&self) -> Reread {
        let text = match self.0.reader.read().await {
            Ok(text) => text,
            Err(e) => return Reread::Failed(e),
        };
        let values = match SecretValues::parse(&text) {
            Ok(values) => values,
            Err(e) => return Reread::Failed(e),
        };
        let current = self.loaded();
        if values.same_as(&current.values) {
            return Reread::Unchanged;
        }
        let config =
            match Config::from_env(&with_secret_values(&*self.0.env, &values), self.0.needs) {
                Ok(config) => config,
                Err(e) => return Reread::Failed(e.to_string()),
            };
        let mut loaded = self.0.loaded.write().unwrap_or_else(|e| e.into_inner());
        *loaded = Arc::new(Loaded {
            version: loaded.version + 1,
            config,
            values,
        });
        Reread::Changed
    }
}

#[cfg(test)]
mod tests;
