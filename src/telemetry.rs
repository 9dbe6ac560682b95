//! Structured logs through `tracing`: pretty for people, JSON for machines (`LOG_FORMAT`).
//! The level comes from `RUST_LOG` (default `info`). Request spans come from
//! `tracing-actix-web` in `startup`; secrets are never passed to a log macro.

use tracing_subscriber::EnvFilter;

use crate::configuration::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second init (tests) is harmless: keep the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
