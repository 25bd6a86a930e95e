//! Logging set up once per process: JSON lines for CloudWatch, compact text for a terminal.
//! `RUST_LOG` adjusts the level (default `info`): a level, or `target=level` directives
//! separated by commas. No regex-based `EnvFilter`: it would add a regex engine to every
//! Lambda bootstrap for a setting that is a level in practice.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::{FormatFields, debug_fn};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

pub fn init(format: Format) {
    // Colours only for a person at a terminal: escape codes in a file or pipe are noise,
    // and writing them cost the local server about 1 % of its CPU under load.
    let ansi = format == Format::Text && std::io::stderr().is_terminal();
    // A second call (tests, or a binary that already set one up) is harmless.
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stderr, ansi));
}

/// What [`init`] installs, writing to `writer`: also what the handler benchmarks format their
/// log lines with.
pub fn subscriber<W>(format: Format, writer: W, ansi: bool) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| value.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    filtered(format, writer, ansi, filter)
}

fn filtered<W>(
    format: Format,
    writer: W,
    ansi: bool,
    filter: Targets,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_target(false);
    match format {
        Format::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_ansi(false)
                .finish()
                .with(filter),
        ),
        Format::Text => Box::new(
            builder
                .compact()
                .with_ansi(ansi)
                .fmt_fields(text_fields())
                .finish()
                .with(filter),
        ),
    }
}

/// `message key=value key=value`, values as `Debug` (strings quoted, `%` fields bare).
/// The default field formatter styles every field name (italic, a dimmed `=`) through
/// `nu_ansi_term` even when colours are off: a third of a request line's cost.
fn text_fields() -> impl for<'w> FormatFields<'w> + Send + Sync + 'static {
    debug_fn(|writer, field, value| {
        if field.name() == "message" {
            write!(writer, "{value:?}")
        } else {
            write!(writer, "{}={value:?}", field.name())
        }
    })
    .delimited(" ")
}

/// A log writer that keeps what it is given, for tests that read log lines back.
#[cfg(any(test, feature = "test-util"))]
#[derive(Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(any(test, feature = "test-util"))]
impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(any(test, feature = "test-util"))]
impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(format: Format) -> String {
        let buffer = Captured::default();
        let writer = buffer.clone();
        // The default level, whatever RUST_LOG the tests run with.
        let info = Targets::new().with_default(tracing::Level::INFO);
        let subscriber = filtered(format, move || writer.clone(), false, info);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                route = "heartbeat",
                status = 200_u16,
                cause = Some("said \"no\""),
                latency_ms = 0.356,
                "request"
            );
        });
        buffer.text()
    }

    /// The local server's line: the message bare, then `key=value` with strings quoted and
    /// escaped, and no escape codes when colours are off.
    #[test]
    fn text_lines_are_message_then_key_value_pairs() {
        let line = line(Format::Text);
        assert!(
            line.trim_end().ends_with(
                r#" INFO request route="heartbeat" status=200 cause="said \"no\"" latency_ms=0.356"#
            ),
            "{line}"
        );
        assert!(!line.contains('\u{1b}'), "{line}");
    }

    /// The Lambda functions' line, as docs/operations.md describes it.
    #[test]
    fn json_lines_carry_the_fields_at_the_top_level() {
        let line = line(Format::Json);
        let value: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
        assert_eq!(value["level"], "INFO");
        assert_eq!(value["message"], "request");
        assert_eq!(value["route"], "heartbeat");
        assert_eq!(value["status"], 200);
        assert_eq!(value["cause"], "said \"no\"");
        assert_eq!(value["latency_ms"], 0.356);
        assert!(value["timestamp"].is_string());
    }
}
