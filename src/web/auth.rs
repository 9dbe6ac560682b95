//! Logging in and out. A login replaces any session id the browser had (no fixation) and
//! the cookie holds only a random id; the database keeps its hash.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::context::{cookie, session_cookie_name, Chrome, Ctx, CurrentUser, SESSION_LIFETIME_MS};
use super::csrf::{CsrfForm, NoFields, LOGIN_CSRF_COOKIE};
use super::error::AppError;
use crate::crypto::random_token;
use crate::domain::UserRole;
use crate::i18n::Messages;
use crate::services::{accounts, login_throttle, sessions};
use crate::store;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: Chrome,
    m: &'static Messages,
    csrf: &'a str,
    next: &'a str,
    email: &'a str,
    error: Option<&'static str>,
    /// A note after an action, e.g. "logged out".
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    outcome: Option<String>,
}

/// Only a local path may be a `next`: no scheme, no `//host`, no backslash tricks.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/",
    }
}

pub async fn login_form(
    ctx: Ctx,
    req: HttpRequest,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if ctx.user.is_some() {
        return Ok(redirect(next));
    }
    let token = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
        .unwrap_or_else(random_token);
    let page = LoginPage {
        c: ctx.chrome(ctx.m.login_title),
        m: ctx.m,
        csrf: &token,
        next,
        email: "",
        error: None,
        notice: (query.outcome.as_deref() == Some("logged_out")).then_some(ctx.m.flash_logged_out),
    };
    let mut response = super::context::html(&page)?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
        .add_cookie(&cookie(
            LOGIN_CSRF_COOKIE,
            token,
            ctx.state.cookie_secure,
            None,
        ))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    csrf_token: Option<String>,
}

pub async fn login(
    ctx: Ctx,
    req: HttpRequest,
    form: CsrfForm<LoginInput>,
) -> Result<HttpResponse, AppError> {
    let input = form.0;
    let next = safe_next(input.next.as_deref()).to_owned();
    let db = &ctx.state.services.db;

    // Brute force: a locked account or address is answered before any password is checked.
    let address = login_throttle::client_address(
        req.peer_addr().map(|a| a.ip()),
        req.headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok()),
        &ctx.state.services.trusted_proxies,
    );
    let subjects = login_throttle::subjects(&input.email, address);
    if let Some(wait_ms) = login_throttle::wait_for(db, &subjects, store::now_ms()).await? {
        tracing::info!(%address, "login throttled");
        return Err(AppError::Throttled {
            retry_after_secs: (wait_ms + 999) / 1000,
        });
    }

    let user = accounts::authenticate(
        db,
        &ctx.state.services.passwords,
        &input.email,
        &input.password,
    )
    .await
    .map_err(|e| AppError::Internal(format!("{e:#}")))?;
    let Some(user) = user else {
        login_throttle::record_failure(db, &subjects, store::now_ms()).await?;
        tracing::info!(%address, "login refused");
        let page = LoginPage {
            c: ctx.chrome(ctx.m.login_title),
            m: ctx.m,
            csrf: input.csrf_token.as_deref().unwrap_or(""),
            next: &next,
            email: &input.email,
            error: Some(ctx.m.error_login_failed),
            notice: None,
        };
        let body = page.render()?;
        return Ok(HttpResponse::Unauthorized()
            .content_type("text/html; charset=utf-8")
            .body(body));
    };

    login_throttle::record_success(db, &subjects).await?;
    // End the old session, if any, and start a fresh one with a new id.
    let replacing = ctx.user.as_ref().map(|old| old.session_hash.as_str());
    let session_id = sessions::begin(&ctx.state.services, replacing, user.id).await?;
    tracing::info!(user = %user.id, "logged in");

    let target = if next == "/" {
        super::landing_page(UserRole::parse(&user.role).unwrap_or(UserRole::Owner)).to_owned()
    } else {
        next
    };
    let secure = ctx.state.cookie_secure;
    let mut response = redirect(&target);
    response
        .add_cookie(&cookie(
            session_cookie_name(secure),
            session_id,
            secure,
            Some(time::Duration::milliseconds(SESSION_LIFETIME_MS)),
        ))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    response
        .add_removal_cookie(&cookie(LOGIN_CSRF_COOKIE, String::new(), secure, None))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn logout(
    ctx: Ctx,
    user: CurrentUser,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    sessions::end(&ctx.state.services, &user.0.session_hash).await?;
    let secure = ctx.state.cookie_secure;
    let mut response = redirect("/login?outcome=logged_out");
    response
        .add_removal_cookie(&cookie(
            session_cookie_name(secure),
            String::new(),
            secure,
            None,
        ))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPasswordPage {
    c: Chrome,
    m: &'static Messages,
}

/// "Quên mật khẩu?": owners cannot reset a password themselves (an admin does), so the
/// page says whom to contact: the partner's support (`PARTNER_*`) when set.
pub async fn forgot_password(ctx: Ctx) -> Result<HttpResponse, AppError> {
    super::context::html(&ForgotPasswordPage {
        c: ctx.chrome(ctx.m.forgot_password_link),
        m: ctx.m,
    })
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_accepts_only_local_paths() {
        assert_eq!(safe_next(Some("/shops/abc?x=1")), "/shops/abc?x=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
