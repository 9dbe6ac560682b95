//! One error type for every handler. Each variant knows its status and the catalogue key
//! of its message; the page itself is rendered by the context middleware, which knows the
//! reader's language. Database and internal errors are logged here and shown as an opaque
//! page: no SQL, no secret, no stack reaches a browser.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::i18n::MsgKey;
use crate::services::{Refusal, ServiceError};

/// `Debug` is written by hand (below): `tracing-actix-web` logs every error response with
/// it, and a `next` or `Location` URL may carry a credential in its query.
#[derive(thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("bad request: {0}")]
    BadRequest(MsgKey),
    #[error("too many requests: {0}")]
    TooMany(MsgKey),
    /// Login attempts locked for a while (brute-force protection).
    #[error("login throttled for {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("the form's CSRF token or origin did not match")]
    Csrf,
    /// The page is somewhere else for this visitor (a connect link's session and its shop).
    #[error("see {0}")]
    SeeOther(String),
    /// Not logged in: go to the login page and come back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    /// A compressed request body (`Content-Encoding`), refused unread (`body_guard`).
    #[error("compressed request bodies are not accepted")]
    UnsupportedEncoding,
    /// The request's body did not arrive in time (`body_guard`).
    #[error("the request body arrived too slowly")]
    BodyTimeout,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A URL as it may be logged: the path without its query (the callback's query holds a
/// single-use token), and without a credential in the path.
fn loggable_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let mut out = crate::telemetry::loggable_path(path).into_owned();
    if path.len() < url.len() {
        out.push_str("?…");
    }
    out
}

impl std::fmt::Debug for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::NotFound => f.write_str("NotFound"),
            AppError::Forbidden => f.write_str("Forbidden"),
            AppError::BadRequest(key) => f.debug_tuple("BadRequest").field(key).finish(),
            AppError::TooMany(key) => f.debug_tuple("TooMany").field(key).finish(),
            AppError::Throttled { retry_after_secs } => f
                .debug_struct("Throttled")
                .field("retry_after_secs", retry_after_secs)
                .finish(),
            AppError::Csrf => f.write_str("Csrf"),
            AppError::SeeOther(location) => f
                .debug_tuple("SeeOther")
                .field(&loggable_url(location))
                .finish(),
            AppError::LoginRequired { next } => f
                .debug_struct("LoginRequired")
                .field("next", &loggable_url(next))
                .finish(),
            AppError::UnsupportedEncoding => f.write_str("UnsupportedEncoding"),
            AppError::BodyTimeout => f.write_str("BodyTimeout"),
            AppError::Unavailable(detail) => f.debug_tuple("Unavailable").field(detail).finish(),
            AppError::Internal(detail) => f.debug_tuple("Internal").field(detail).finish(),
        }
    }
}

/// Put in a response's extensions so the context middleware renders the error page.
#[derive(Debug, Clone, Copy)]
pub struct ErrorPage {
    pub message_key: MsgKey,
}

impl AppError {
    pub fn message_key(&self) -> MsgKey {
        match self {
            AppError::NotFound => MsgKey::error_not_found,
            AppError::Forbidden => MsgKey::error_forbidden,
            AppError::BadRequest(key) | AppError::TooMany(key) => *key,
            AppError::Throttled { .. } => MsgKey::error_login_throttled,
            AppError::Csrf => MsgKey::error_csrf,
            AppError::LoginRequired { .. } => MsgKey::error_login_required,
            AppError::SeeOther(_) => MsgKey::error_not_found,
            AppError::UnsupportedEncoding => MsgKey::error_content_encoding,
            AppError::BodyTimeout => MsgKey::error_body_timeout,
            AppError::Unavailable(_) => MsgKey::error_unavailable,
            AppError::Internal(_) => MsgKey::error_internal,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooMany(_) | AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::LoginRequired { .. } | AppError::SeeOther(_) => StatusCode::SEE_OTHER,
            AppError::UnsupportedEncoding => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::SeeOther(location) => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location.as_str()))
                    .finish();
            }
            AppError::LoginRequired { next } => {
                let location = format!(
                    "/login?{}",
                    serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
            }
            AppError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            AppError::Unavailable(detail) => {
                tracing::error!(error = %detail, "database unavailable")
            }
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            AppError::TooMany(_) => {
                response.insert_header((header::RETRY_AFTER, "60"));
            }
            AppError::Throttled { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
            }
            _ => {}
        }
        let mut response = response.finish();
        response.extensions_mut().insert(ErrorPage {
            message_key: self.message_key(),
        });
        response
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // A full or read-only disk, or a lock held too long: the service is unavailable,
        // not broken, and recovers by itself when the cause goes away.
        let text = e.to_string();
        let unavailable = [
            "database or disk is full",
            "readonly database",
            "database is locked",
            "disk I/O error",
        ]
        .iter()
        .any(|needle| text.contains(needle))
            || matches!(e, sqlx::Error::PoolTimedOut);
        if unavailable {
            AppError::Unavailable(text)
        } else {
            AppError::Internal(text)
        }
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Refused(refusal @ Refusal::TooManyAttempts) => {
                AppError::TooMany(refusal.msg_key())
            }
            ServiceError::Refused(refusal) => AppError::BadRequest(refusal.msg_key()),
            ServiceError::Database(e) => e.into(),
            ServiceError::Other(e) => AppError::Internal(format!("{e:#}")),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;
    use crate::i18n::MsgKey;

    #[test]
    fn debug_never_shows_a_credential_in_a_url() {
        let next = AppError::LoginRequired {
            next: "/connect/callback?token=SECRETTOKEN&shop_id=1".into(),
        };
        assert_eq!(
            format!("{next:?}"),
            "LoginRequired { next: \"/connect/callback?…\" }"
        );
        let link = AppError::SeeOther("/connect-links/SECRETTOKEN".into());
        assert!(!format!("{link:?}").contains("SECRETTOKEN"));
        assert_eq!(
            format!("{:?}", AppError::BadRequest(MsgKey::error_form_invalid)),
            "BadRequest(error_form_invalid)"
        );
    }
}
