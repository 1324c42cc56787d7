//! Which log messages the command writes to standard error.
//!
//! `RUST_LOG` is the variable every `tracing` program honours, so operators reach for it first;
//! `ALLIANCE_LOG` (used by the test suite to quieten the processes it runs) takes precedence
//! when both are set, so a deployment's `RUST_LOG` meant for another program does not undo it.
//! Both take `tracing_subscriber::EnvFilter` directives, e.g. `debug` or `info,alliance_db=debug`.
//!
//! Lines are text for a person by default; `--log-format json` (or `ALLIANCE_LOG_FORMAT=json`)
//! writes one JSON object per line for a log collector: `timestamp`, `level`, `target`, and
//! the event's `fields` (its `message`, and for each request `method`, `path`, `route`,
//! `status` and `latency_ms`).

use tracing_subscriber::EnvFilter;

/// What is logged when neither variable is set: progress and warnings, without a line per
/// SQL statement.
pub const DEFAULT_DIRECTIVES: &str = "info,sqlx=warn";

/// The directives to use, and a warning when a variable is set but cannot be read.
pub fn filter(alliance_log: Option<&str>, rust_log: Option<&str>) -> (EnvFilter, Option<String>) {
    let chosen = [("ALLIANCE_LOG", alliance_log), ("RUST_LOG", rust_log)]
        .into_iter()
        .find_map(|(name, value)| value.filter(|v| !v.trim().is_empty()).map(|v| (name, v)));
    match chosen {
        None => (EnvFilter::new(DEFAULT_DIRECTIVES), None),
        Some((name, value)) => match EnvFilter::try_new(value) {
            Ok(filter) => (filter, None),
            Err(e) => (
                EnvFilter::new(DEFAULT_DIRECTIVES),
                Some(format!("{name}={value:?} is not a log filter ({e}); logging at {DEFAULT_DIRECTIVES}")),
            ),
        },
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text for a person reading a terminal.
    #[default]
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Starts logging to standard error at the level `ALLIANCE_LOG` or `RUST_LOG` asks for, in
/// `format`.
pub fn init(format: LogFormat) {
    let alliance_log = std::env::var("ALLIANCE_LOG").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let (filter, warning) = filter(alliance_log.as_deref(), rust_log.as_deref());
    match format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(alliance_log: Option<&str>, rust_log: Option<&str>) -> (String, Option<String>) {
        let (f, warning) = filter(alliance_log, rust_log);
        (f.to_string(), warning)
    }

    #[test]
    fn rust_log_sets_the_level_when_alliance_log_is_unset() {
        assert_eq!(chosen(None, Some("debug")), ("debug".to_string(), None));
        assert_eq!(chosen(Some(""), Some("alliance_db=trace")), ("alliance_db=trace".to_string(), None));
    }

    #[test]
    fn alliance_log_wins_over_rust_log() {
        assert_eq!(chosen(Some("warn"), Some("debug")).0, "warn");
    }

    #[test]
    fn unset_means_the_default_and_unreadable_says_so() {
        assert_eq!(chosen(None, None), (EnvFilter::new(DEFAULT_DIRECTIVES).to_string(), None));
        let (level, warning) = chosen(None, Some("info,=[{"));
        assert_eq!(level, EnvFilter::new(DEFAULT_DIRECTIVES).to_string());
        assert!(warning.expect("a warning").starts_with("RUST_LOG="));
    }
}
