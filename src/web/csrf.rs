//! `CsrfForm<T>`: the only way a handler reads a submitted form. It refuses a request
//! whose `Origin` is not ours or that the browser marks `Sec-Fetch-Site: cross-site`, and
//! one whose `csrf_token` field does not match the session's synchroniser token (or, before
//! login, the login cookie: a signed-in-nowhere double submit). So no state-changing
//! handler can forget the check.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::context::RequestContext;
use super::error::AppError;
use super::AppState;
use crate::crypto::constant_time_eq;
use crate::telemetry::loggable_path;

pub const LOGIN_CSRF_COOKIE: &str = "shoplink_login_csrf";
/// Forms are small; anything larger is refused before it is parsed.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

pub struct CsrfForm<T>(pub T);

/// A form with no fields besides the token (buttons such as "Disconnect").
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[derive(serde::Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            check_origin(&req)?;
            let body = body
                .await
                .map_err(|_| AppError::BadRequest(crate::i18n::MsgKey::error_form_too_large))?;
            if body.len() > MAX_FORM_BYTES {
                return Err(AppError::BadRequest(
                    crate::i18n::MsgKey::error_form_too_large,
                ));
            }
            let is_form = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !is_form {
                return Err(AppError::BadRequest(
                    crate::i18n::MsgKey::error_form_invalid,
                ));
            }
            if std::str::from_utf8(&body).is_err() {
                return Err(AppError::BadRequest(
                    crate::i18n::MsgKey::error_form_invalid,
                ));
            }
            let sent = serde_urlencoded::from_bytes::<TokenField>(&body)
                .ok()
                .and_then(|t| t.csrf_token)
                .unwrap_or_default();
            let expected = match req
                .extensions()
                .get::<RequestContext>()
                .and_then(|c| c.user.clone())
            {
                Some(user) => user.csrf_token,
                None => req
                    .cookie(LOGIN_CSRF_COOKIE)
                    .map(|c| c.value().to_owned())
                    .unwrap_or_default(),
            };
            if expected.is_empty() || !constant_time_eq(&sent, &expected) {
                tracing::warn!(path = %loggable_path(req.path()), "form refused: CSRF token mismatch");
                return Err(AppError::Csrf);
            }
            let value = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|_| AppError::BadRequest(crate::i18n::MsgKey::error_form_invalid))?;
            if let Some(bad) = first_bad_char(&body) {
                tracing::info!(
                    path = %loggable_path(req.path()),
                    code = bad as u32,
                    "form refused: control character"
                );
                return Err(AppError::BadRequest(
                    crate::i18n::MsgKey::error_text_control_chars,
                ));
            }
            Ok(CsrfForm(value))
        })
    }
}

/// A NUL or other control character (except tab and newlines) anywhere in the decoded form.
fn first_bad_char(body: &[u8]) -> Option<char> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .iter()
        .flat_map(|(k, v)| k.chars().chain(v.chars()))
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Refuses a cross-site form post.
fn check_origin(req: &HttpRequest) -> Result<(), AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or(AppError::Csrf)?;
    let site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if site == Some("cross-site") {
        tracing::warn!(path = %loggable_path(req.path()), "form refused: Sec-Fetch-Site cross-site");
        return Err(AppError::Csrf);
    }
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        // A page sent with `Referrer-Policy: no-referrer` (the callback's) makes browsers
        // post with `Origin: null`; that is accepted only when the browser also vouches
        // the request is same-origin. The synchroniser token is checked either way.
        let null_but_same_origin = origin == "null" && site == Some("same-origin");
        if origin != state.public_origin && !null_but_same_origin {
            tracing::warn!(path = %loggable_path(req.path()), origin, "form refused: foreign Origin");
            return Err(AppError::Csrf);
        }
    }
    Ok(())
}
