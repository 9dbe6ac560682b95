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

/// Path prefixes whose next segment is a credential: a connect link's token is a bearer
/// credential for 30 minutes, so the path that carries it never reaches a log line.
const CREDENTIAL_PATH_PREFIXES: &[&str] = &["/connect-links/"];

/// A request path as it may be logged: whatever follows a credential-carrying prefix is
/// replaced by `{token}` (the rest of the path too, so `/connect-links/<token>/x` does not
/// slip through). The query is never part of it.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in CREDENTIAL_PATH_PREFIXES {
        if path.len() > prefix.len() && path.starts_with(prefix) {
            return format!("{prefix}{{token}}").into();
        }
    }
    path.into()
}

/// The span around each request. Unlike `tracing-actix-web`'s default it records the path
/// without the query string (the callback's query carries a single-use token, and a login
/// URL may carry a `next` that contains one), and without a credential in the path
/// (`loggable_path`).
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = %route,
            path = %loggable_path(request.path()),
            request_id = %uuid::Uuid::new_v4().simple(),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        if status >= 500 {
            tracing::warn!(parent: &span, status, "request failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn a_credential_in_the_path_is_not_logged() {
        assert_eq!(loggable_path("/shops/42"), "/shops/42");
        assert_eq!(loggable_path("/connect-links/"), "/connect-links/");
        assert_eq!(
            loggable_path("/connect-links/abcDEF0123456789abcDEF0123456789abcDEF01234"),
            "/connect-links/{token}"
        );
        assert_eq!(
            loggable_path("/connect-links/secret/more"),
            "/connect-links/{token}"
        );
    }
}
