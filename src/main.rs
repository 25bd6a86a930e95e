//! `softphone-presence`: the local server and the operator commands.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use shared::app::StartupError;
use shared::clock::Clock;
use shared::config::{Config, ConfigError, Needs};
use shared::directory::{Directory, DirectoryError};
use shared::domain::IdentityStyle;
use shared::http::Endpoint;
use shared::local::{LocalSettings, mint_dev_jwt, public_secrets_in, with_dev_defaults};
use shared::secrets::Env;
use shared::store::dynamo::{DynamoStore, client_from_env};
use shared::store::{DirectoryStore, StoreError};
use softphone_presence::{Backend, local_app, local_routes};
use tokio::net::TcpListener;

const DEMO_DIRECTORY: &str = include_str!("../demo/directory.json");

/// Why a command failed, said in one line on stderr.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Some credentials are configured, so the development values fill in none: each missing
    /// one is named.
    #[error(
        "{error}\n(the development secrets fill in only when no credential is configured; configured here: {})",
        set.join(", ")
    )]
    Unconfigured {
        set: Vec<&'static str>,
        error: ConfigError,
    },
    #[error(
        "{} set to the public development value: with real credentials, use secrets of your own",
        .0.join(", ")
    )]
    PublicSecrets(Vec<&'static str>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{origin}: {problems}")]
    Directory {
        origin: String,
        problems: DirectoryError,
    },
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}: {error}")]
    Listen { port: u16, error: std::io::Error },
    #[error("parameter {0:?} is not name=value")]
    Parameter(String),
    #[error("--since {0:?} is not a date (YYYY-MM-DD)")]
    Since(String),
    #[error(transparent)]
    Reconcile(#[from] shared::inbox::reconcile::ReconcileError),
    #[error("IDENTITY_STYLE {0:?} is not safe or email")]
    IdentityStyleName(String),
    #[error("the directory does not fit the identity style: {}", .0.join("; "))]
    IdentityStyle(Vec<String>),
}

#[derive(Parser)]
#[command(
    version,
    about = "Softphone presence for Twilio Voice: local server and operator commands"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every endpoint on 127.0.0.1 (in-memory store, demo directory; the public
    /// development secrets when the environment configures no credential, and then every one
    /// from the environment).
    Serve(ServeArgs),
    /// Create the DynamoDB table (TABLE_NAME) with TTL enabled, if it is missing.
    CreateTable,
    /// Validate a directory file whole, then write it to DynamoDB (TABLE_NAME), reporting what changed.
    ImportDirectory {
        /// The directory JSON file (format in docs/directory.md).
        file: PathBuf,
    },
    /// Print the directory stored in DynamoDB (TABLE_NAME) as JSON, in the import format.
    ExportDirectory,
    /// Print the X-Twilio-Signature Twilio would send for a form POST, to curl the webhooks.
    /// The auth token is TWILIO_AUTH_TOKEN, or the local server's development token.
    SignWebhook {
        /// The full URL Twilio would call, e.g. http://127.0.0.1:3000/phone/voice/incoming
        url: String,
        /// Form parameters as name=value, e.g. To=+14155551234 (repeat names as Twilio does).
        params: Vec<String>,
    },
    /// Store the inbound texts Twilio has that neither SMS webhook URL stored (DynamoDB
    /// TABLE_NAME; Twilio's REST API with TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID and
    /// TWILIO_API_KEY_SECRET), each told to its number's users once.
    ReconcileSms {
        /// The first GMT day to list (Twilio's DateSent filter), e.g. 2026-11-30.
        #[arg(long)]
        since: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Directory file (numbers and groups). Default: the built-in demo directory.
    #[arg(long)]
    directory: Option<PathBuf>,
    /// Where presence and the directory live.
    #[arg(long, value_enum, default_value_t = StoreKind::Memory)]
    store: StoreKind,
    /// With --store dynamodb: create TABLE_NAME (TTL enabled) when it is missing.
    #[arg(long)]
    create_table: bool,
    /// Print the development token as an admin's of its org (the `roles: ["phone-admin"]`
    /// claim): for the admin API (`/phone/admin/…`) with curl. The console at /admin signs
    /// in as an admin itself.
    #[arg(long)]
    admin: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StoreKind {
    Memory,
    Dynamodb,
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::telemetry::init(shared::telemetry::Format::Text);
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::CreateTable => create_table().await,
        Command::ImportDirectory { file } => import_directory(&file).await,
        Command::ExportDirectory => export_directory().await,
        Command::SignWebhook { url, params } => sign_webhook(&url, &params),
        Command::ReconcileSms { since } => reconcile_sms(&since).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn read_directory(path: Option<&Path>) -> Result<Directory, CliError> {
    let (text, origin) = match path {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|error| CliError::Read {
                path: path.to_owned(),
                error,
            })?,
            path.display().to_string(),
        ),
        None => (
            DEMO_DIRECTORY.to_owned(),
            "built-in demo directory".to_owned(),
        ),
    };
    Directory::parse(&text).map_err(|problems| CliError::Directory { origin, problems })
}

async fn dynamo_store() -> Result<DynamoStore, CliError> {
    let config = Config::from_env(
        &process_env,
        Needs {
            table: true,
            ..Needs::default()
        },
    )?;
    // The operator's commands write events too (an import's `phones.changed`): they expire
    // after the retention the functions reckon with.
    Ok(DynamoStore::new(
        client_from_env().await,
        config.table_name.unwrap_or_default(),
    )
    .with_event_retention(config.presence.event_retention_seconds))
}

async fn create_table() -> Result<(), CliError> {
    let store = dynamo_store().await?;
    let created = store.create_table().await?;
    let verb = if created { "created" } else { "already exists" };
    println!(
        "table {} {verb}; TTL enabled on {}",
        store.table(),
        shared::store::dynamo::TTL_ATTRIBUTE
    );
    Ok(())
}

async fn import_directory(file: &Path) -> Result<(), CliError> {
    // Validate before touching the table: a bad file writes nothing.
    let directory = read_directory(Some(file))?;
    let style = match std::env::var("IDENTITY_STYLE") {
        Err(_) => IdentityStyle::default(),
        Ok(raw) if raw.trim().is_empty() => IdentityStyle::default(),
        Ok(raw) => IdentityStyle::parse(raw.trim()).ok_or(CliError::IdentityStyleName(raw))?,
    };
    directory
        .check_identity_style(style)
        .map_err(CliError::IdentityStyle)?;
    let store = dynamo_store().await?;
    if style == IdentityStyle::Email {
        // The orgs already in the table count too: `user:<email>` cannot tell two orgs apart.
        let mut all = store.export().await?;
        all.orgs.retain(|o| directory.org(&o.org_id).is_none());
        all.orgs.extend(directory.orgs.iter().cloned());
        all.check_identity_style(style)
            .map_err(CliError::IdentityStyle)?;
    }
    let report = store.import(&directory, style).await?;
    println!(
        "imported {} into {}: {report}",
        file.display(),
        store.table()
    );
    Ok(())
}

async fn export_directory() -> Result<(), CliError> {
    let store = dynamo_store().await?;
    let directory = store.export().await?;
    println!("{}", directory.to_json_pretty());
    Ok(())
}

async fn reconcile_sms(since: &str) -> Result<(), CliError> {
    if shared::domain::dates::parse_day(since).is_none() {
        return Err(CliError::Since(since.to_owned()));
    }
    let needs = Needs {
        table: true,
        twilio_api: true,
        ..Needs::default()
    };
    // With SECRETS_ARN, the API key comes from Secrets Manager, as in the function.
    let clock = Clock::system();
    let (config, _) =
        shared::secrets::configure_from_env(Arc::new(process_env), needs, &clock).await?;
    let twilio = StartupError::require(&config.twilio_api, "Twilio's REST API")?;
    let rest = shared::twilio::rest::TwilioRest::new(twilio.rest.clone(), twilio.timeout);
    let store = DynamoStore::new(
        client_from_env().await,
        config.table_name.clone().unwrap_or_default(),
    )
    .with_event_retention(config.presence.event_retention_seconds);
    let now_ms = clock.now_ms();
    let style = config.presence.identity_style;
    let report =
        shared::inbox::reconcile::reconcile(&store, &store, &rest, style, since, now_ms).await?;
    println!(
        "reconciled SMS since {since} into {}: {report}",
        store.table()
    );
    Ok(())
}

fn sign_webhook(url: &str, params: &[String]) -> Result<(), CliError> {
    let pairs = params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| CliError::Parameter(p.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let env = with_dev_defaults(process_env);
    let token = env("TWILIO_AUTH_TOKEN").unwrap_or_default();
    println!("{}", shared::twilio::signature::sign(&token, url, &pairs));
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let settings = LocalSettings::of(&process_env);
    let env: Env = Arc::new(settings.lookup(process_env));
    let needs = Needs {
        table: args.store == StoreKind::Dynamodb,
        // Alerts to sleeping phones, from a background task (when APNS_KEY or
        // FCM_SERVICE_ACCOUNT is set; otherwise none are sent).
        alerts: true,
        ..shared::http::Route::needs_of(&shared::http::Route::ALL)
    };
    // With SECRETS_ARN, the secrets come from Secrets Manager (the SDK's usual settings apply,
    // AWS_ENDPOINT_URL_SECRETS_MANAGER among them), as in the functions.
    // The server's one clock: its handlers', its realtime hub's, its secret's re-reads'.
    let clock = Clock::system();
    let (config, secrets) = shared::secrets::configure_from_env(env.clone(), needs, &clock)
        .await
        .map_err(|error| match &settings {
            LocalSettings::Development => CliError::Config(error),
            LocalSettings::Configured(set) => CliError::Unconfigured {
                set: set.clone(),
                error,
            },
        })?;
    if !settings.is_development() {
        let public = public_secrets_in(&config);
        if !public.is_empty() {
            return Err(CliError::PublicSecrets(public));
        }
    }
    let directory = read_directory(args.directory.as_deref())?;

    let backend = match args.store {
        StoreKind::Memory => Backend::Memory,
        StoreKind::Dynamodb => {
            let table = config.table_name.clone().unwrap_or_default();
            let store = DynamoStore::new(client_from_env().await, table);
            if args.create_table {
                store.create_table().await?;
            }
            Backend::Dynamo(store)
        }
    };
    let load_directory = args.store == StoreKind::Memory || args.directory.is_some();
    let (app, hub) = local_app(&config, backend, secrets, clock)?;
    // Who went offline without a word is told within a minute (a device's lease ends with no
    // write, so with no event).
    hub.sweep_every(std::time::Duration::from_secs(60));
    // An identity provider's keys, fetched before the first request as in a cold start.
    app.warm().await;
    if load_directory {
        let style = config.presence.identity_style;
        directory
            .check_identity_style(style)
            .map_err(CliError::IdentityStyle)?;
        let report = app
            .core()
            .stores
            .directory
            .import(&directory, style)
            .await?;
        if args.store == StoreKind::Dynamodb {
            println!(
                "directory loaded into {}: {report}",
                config.table_name.as_deref().unwrap_or_default()
            );
        }
    }

    let listen = |error| CliError::Listen {
        port: args.port,
        error,
    };
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))
        .await
        .map_err(listen)?;
    let addr = listener.local_addr().map_err(listen)?;
    let dev_secret = settings
        .is_development()
        .then(|| shared::local::dev_default("APP_JWT_SECRET"))
        .flatten()
        .map(str::to_owned);
    print_banner(addr, dev_secret.as_deref(), &directory, args.admin);
    if let Some(alerts) = config.alerts.as_ref().filter(|a| a.any()) {
        let on = |yes: bool| if yes { "on" } else { "off" };
        println!(
            "alerts to sleeping phones (docs/alerts.md): APNs {}, FCM {}",
            on(alerts.apns.is_some()),
            on(alerts.fcm.is_some())
        );
    }
    let options = shared::server::Options {
        cors: shared::server::Cors::from_setting(env("CORS_ALLOW_ORIGINS").as_deref()),
        local: Some(local_routes(app.clone(), hub, dev_secret)),
        timeouts: shared::server::Timeouts::default(),
    };
    shared::server::serve_with(listener, app, options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Print where the server listens, and with the development secrets a warning (red on a
/// terminal), a token and curl lines. Write errors are ignored: a closed stdout must not stop
/// the server.
fn print_banner(addr: SocketAddr, dev_secret: Option<&str>, directory: &Directory, admin: bool) {
    let mut stdout = std::io::stdout().lock();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = banner(addr, dev_secret, directory, color, admin);
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

/// Said whenever the development secrets are in use: they are public, so anyone can sign app
/// tokens, realtime tickets and Twilio webhooks this server accepts.
const DEVELOPMENT_WARNING: &str = "WARNING: development secrets in use. They are public: anyone can sign app tokens, \
     realtime tickets and webhooks this server accepts. Never expose it; set APP_JWT_SECRET (or \
     APP_JWT_PUBLIC_KEY / APP_JWT_JWKS_URL), TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, \
     TWILIO_API_KEY_SECRET, TWILIO_AUTH_TOKEN and REALTIME_TICKET_SECRET to use your own.";

fn banner(
    addr: SocketAddr,
    dev_secret: Option<&str>,
    directory: &Directory,
    color: bool,
    admin: bool,
) -> String {
    let mut out = String::new();
    let base = format!("http://{addr}");
    let _ = writeln!(out, "softphone-presence listening on {base}");
    if dev_secret.is_some() {
        let (red, plain) = if color {
            ("\x1b[1;31m", "\x1b[0m")
        } else {
            ("", "")
        };
        let _ = writeln!(out, "{red}{DEVELOPMENT_WARNING}{plain}");
    }
    let _ = writeln!(out, "settings page: {base}/");
    let _ = writeln!(out, "admin console: {base}/admin");
    // Only mint a sample token with the development secret: never print one signed with a real key.
    let Some(secret) = dev_secret else {
        let _ = writeln!(
            out,
            "app tokens: signed by your own issuer (APP_JWT_SECRET, APP_JWT_PUBLIC_KEY or APP_JWT_JWKS_URL is set)"
        );
        return out;
    };
    let (email, org) = directory
        .orgs
        .first()
        .and_then(|org| {
            let email = org.groups.iter().flat_map(|g| g.members.first()).next()?;
            Some((email.to_string(), org.org_id.to_string()))
        })
        .unwrap_or_else(|| ("alice@example.com".into(), "org_demo".into()));
    // Whoever checks the token (jsonwebtoken) reads the system clock.
    let now = Clock::system().now_ms().div_euclid(1000);
    let Ok(jwt) = mint_dev_jwt(secret, &email, &org, now, 12 * 3600, admin) else {
        return out;
    };
    let role = if admin { ", an admin of it" } else { "" };
    let _ = writeln!(
        out,
        "development app JWT for {email} in {org}{role} (valid 12 h):"
    );
    let _ = writeln!(out, "export TOKEN={jwt}");
    let _ = writeln!(out);
    let _ = writeln!(out, "try:");
    let _ = writeln!(
        out,
        "  curl -s -X POST {base}/phone/voice/register-device -H \"Authorization: Bearer $TOKEN\" \
         -H 'Content-Type: application/json' -d '{{\"deviceId\":\"dev_laptop\",\"platform\":\"web\",\"label\":\"Laptop\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s -X POST {base}/phone/voice/heartbeat -H \"Authorization: Bearer $TOKEN\" -d '{{\"deviceId\":\"dev_laptop\"}}'"
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/phone/voice/devices -H \"Authorization: Bearer $TOKEN\""
    );
    let _ = writeln!(
        out,
        "  curl -s {base}/phone/user-phones -H \"Authorization: Bearer $TOKEN\""
    );
    let _ = writeln!(
        out,
        "  curl -s -X POST {base}/phone/voice/unregister-device -H \"Authorization: Bearer $TOKEN\" -d '{{\"deviceId\":\"dev_laptop\"}}'"
    );
    out
}
