//! Reading, re-reading and rotating secrets, with a stand-in for Secrets Manager (the tests in
//! tests/api/secrets.rs run the same against moto's).

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;

use super::*;
use crate::config::ExposeSecret;

/// A secret whose text the test sets, counting the reads.
#[derive(Clone)]
struct Stand(Arc<(Mutex<Result<String, String>>, AtomicUsize)>);

impl Stand {
    fn new(text: &str) -> Self {
        Self(Arc::new((
            Mutex::new(Ok(text.to_owned())),
            AtomicUsize::new(0),
        )))
    }

    fn set(&self, text: Result<String, String>) {
        *self.0.0.lock().unwrap() = text;
    }

    fn reads(&self) -> usize {
        self.0.1.load(Ordering::SeqCst)
    }
}

impl SecretReader for Stand {
    fn read(&self) -> BoxFuture<'_, Result<String, String>> {
        self.0.1.fetch_add(1, Ordering::SeqCst);
        let text = self.0.0.lock().unwrap().clone();
        Box::pin(async move { text })
    }
}

const WEBHOOKS: Needs = Needs {
    app_auth: false,
    voice_tokens: false,
    webhooks: true,
    realtime: false,
    push: false,
    twilio_api: false,
    table: false,
    alerts: false,
};

fn env() -> Env {
    Arc::new(|name: &str| match name {
        "TWILIO_ACCOUNT_SID" => Some("AC1".to_owned()),
        // Never read: the secret's names come from the secret.
        "TWILIO_AUTH_TOKEN" => Some("from-the-environment".to_owned()),
        _ => None,
    })
}

fn token(secret: &str) -> String {
    format!(r#"{{"TWILIO_AUTH_TOKEN": "{secret}"}}"#)
}

async fn load(stand: &Stand, refresh: Duration) -> Result<Secrets, ConfigError> {
    load_on(stand, refresh, Clock::system()).await
}

async fn load_on(stand: &Stand, refresh: Duration, clock: Clock) -> Result<Secrets, ConfigError> {
    Secrets::load(Box::new(stand.clone()), env(), WEBHOOKS, refresh, clock).await
}

fn auth_token(secrets: &Secrets) -> String {
    let loaded = secrets.loaded();
    let webhooks = loaded.config.webhooks.as_ref().unwrap();
    webhooks.auth_token.expose_secret().to_owned()
}

#[tokio::test]
async fn the_configuration_takes_the_secret_names_from_the_secret() {
    let secrets = load(&Stand::new(&token("one")), Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(auth_token(&secrets), "one");
    assert_eq!(secrets.loaded().version, 0);
}

#[tokio::test]
async fn a_start_without_a_usable_secret_fails_naming_secrets_arn_and_no_value() {
    let stand = Stand::new("");
    stand.set(Err("AccessDeniedException".into()));
    let err = load(&stand, Duration::from_secs(1)).await.err().unwrap();
    assert!(err.to_string().contains("SECRETS_ARN"), "{err}");
    assert!(err.to_string().contains("AccessDeniedException"), "{err}");

    let err = load(&Stand::new("s3cret-but-not-json"), Duration::from_secs(1))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("SECRETS_ARN") && !err.contains("s3cret"),
        "{err}"
    );

    let err = load(&Stand::new("{}"), Duration::from_secs(1))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("TWILIO_AUTH_TOKEN"), "{err}");
}

#[tokio::test]
async fn a_reread_replaces_changed_values_and_keeps_them_on_any_failure() {
    let stand = Stand::new(&token("one"));
    let secrets = load(&stand, Duration::from_secs(300)).await.unwrap();
    assert_eq!(secrets.reread().await, Reread::Unchanged);
    assert_eq!(secrets.loaded().version, 0);

    stand.set(Ok(token("two")));
    assert_eq!(secrets.reread().await, Reread::Changed);
    assert_eq!(
        (auth_token(&secrets), secrets.loaded().version),
        ("two".into(), 1)
    );

    stand.set(Err("connection refused".into()));
    assert!(matches!(secrets.reread().await, Reread::Failed(e) if e.contains("refused")));
    stand.set(Ok("{not json".into()));
    assert!(matches!(secrets.reread().await, Reread::Failed(_)));
    // Values the configuration refuses (no auth token) are not taken either.
    stand.set(Ok(r#"{"TWILIO_AUTH_TOKEN": ""}"#.into()));
    assert!(matches!(secrets.reread().await, Reread::Failed(e) if e.contains("TWILIO_AUTH_TOKEN")));
    assert_eq!(
        (auth_token(&secrets), secrets.loaded().version),
        ("two".into(), 1)
    );
}

#[tokio::test]
async fn a_reread_starts_only_when_due_and_one_at_a_time() {
    let stand = Stand::new(&token("one"));
    let clock = Clock::movable();
    let secrets = load_on(&stand, Duration::from_secs(300), clock.clone())
        .await
        .unwrap();
    stand.set(Ok(token("two")));
    for _ in 0..50 {
        assert_eq!(auth_token(&secrets), "one");
        secrets.current();
    }
    clock.advance(Duration::from_secs(299));
    secrets.current();
    assert_eq!(stand.reads(), 1, "only the read at start-up");
    clock.advance(Duration::from_secs(1));
    // Due: the request that notices starts one read and goes on with the values it has.
    for _ in 0..50 {
        secrets.current();
    }
    // The read runs in the background; the stand answers at once.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(stand.reads(), 2);
    assert_eq!(auth_token(&secrets), "two");
}

#[tokio::test]
async fn rotating_values_are_remade_only_when_the_configuration_changes() {
    let stand = Stand::new(&token("one"));
    let secrets = load(&stand, Duration::from_secs(300)).await.unwrap();
    let made = Arc::new(AtomicUsize::new(0));
    let count = made.clone();
    let loaded = secrets.loaded();
    let rotating = Rotating::new(&loaded.config, Some(&secrets), move |config| {
        count.fetch_add(1, Ordering::SeqCst);
        let webhooks = config.webhooks.as_ref()?;
        Some(webhooks.auth_token.expose_secret().to_owned())
    })
    .unwrap();
    for _ in 0..3 {
        assert_eq!(*rotating.get(), "one");
    }
    assert_eq!(made.load(Ordering::SeqCst), 1);
    stand.set(Ok(token("two")));
    secrets.reread().await;
    for _ in 0..3 {
        assert_eq!(*rotating.get(), "two");
    }
    assert_eq!(made.load(Ordering::SeqCst), 2);

    // Without Secrets Manager, the value of the environment's configuration, for good.
    let fixed = Rotating::new(&loaded.config, None, |config| {
        Some(
            config
                .webhooks
                .as_ref()?
                .auth_token
                .expose_secret()
                .to_owned(),
        )
    })
    .unwrap();
    assert_eq!(*fixed.get(), "one");
    assert!(Rotating::new(&loaded.config, None, |config| config.realtime.clone()).is_none());
}

#[tokio::test]
async fn without_secrets_arn_the_environment_is_the_configuration() {
    let (config, secrets) = configure(env(), WEBHOOKS, async { unreachable!() }, &Clock::system())
        .await
        .unwrap();
    assert!(secrets.is_none());
    let webhooks = config.webhooks.unwrap();
    assert_eq!(webhooks.auth_token.expose_secret(), "from-the-environment");
}

#[tokio::test]
async fn a_binary_that_holds_no_secret_never_reads_secrets_arn() {
    let env: Env = Arc::new(|name: &str| match name {
        "SECRETS_ARN" => Some("arn:aws:secretsmanager:us-east-1:1:secret:x".to_owned()),
        "REALTIME_MANAGEMENT_URL" => Some("https://api.example.com/live".to_owned()),
        _ => None,
    });
    let push = Needs {
        push: true,
        ..Needs::default()
    };
    // Configured without the SDK being asked for anything.
    let (config, secrets) = configure(env, push, async { unreachable!() }, &Clock::system())
        .await
        .unwrap();
    assert!(secrets.is_none());
    assert!(config.push.is_some());
}
