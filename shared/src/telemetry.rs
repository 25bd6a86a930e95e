//! Logging set up once per process: JSON lines for CloudWatch, compact text for a terminal.
//! `RUST_LOG` adjusts the level (default `info`): a level, or `target=level` directives
//! separated by commas. No regex-based `EnvFilter`: it would add a regex engine to every
//! Lambda bootstrap for a setting that is a level in practice.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

pub fn init(format: Format) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| value.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false);
    // try_init: a second call (tests, or a binary that already set one up) is harmless.
    let _ = match format {
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_ansi(false)
            .finish()
            .with(filter)
            .try_init(),
        // Colours only for a person at a terminal: escape codes in a file or pipe are noise,
        // and writing them cost the local server about 1 % of its CPU under load.
        Format::Text => builder
            .compact()
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(filter)
            .try_init(),
    };
}
