//! `/connect-links/{token}`: where a link made by `POST /api/v1/connect-links` lands.
//!
//! `GET` only shows the shop and a "Kết nối Zalo" button, so that a chat app fetching the
//! link for a preview does not use it up. The button's `POST` uses the link (once, within
//! 30 minutes), opens a session that may see only that shop, and starts the connect flow
//! at once. When the flow ends, the browser goes to the link's `return_url` with the
//! outcome (see `return_to`, called by the callback and the connect button).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::auth::redirect;
use super::context::{cookie, session_cookie_name, Chrome, Ctx, SESSION_LIFETIME_MS};
use super::csrf::{CsrfForm, NoFields, LOGIN_CSRF_COOKIE};
use super::error::AppError;
use crate::crypto::random_token;
use crate::i18n::Messages;
use crate::services::connect::{self, StartOutcome};
use crate::services::connect_links::{self, LinkRefusal};
use crate::services::sessions;
use crate::services::user_actor;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/connect-links/{token}", web::get().to(landing))
        .route("/connect-links/{token}", web::post().to(use_link));
}

#[derive(Template)]
#[template(path = "connect/link.html")]
struct LandingPage<'a> {
    c: Chrome,
    m: &'static Messages,
    shop_name: &'a str,
    token: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "connect/result.html")]
struct RefusedPage {
    c: Chrome,
    m: &'static Messages,
    heading: &'static str,
    message: &'static str,
    shop_id: Option<uuid::Uuid>,
    auth_url: Option<String>,
}

fn token_ok(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn refused(ctx: &Ctx, refusal: LinkRefusal) -> Result<HttpResponse, AppError> {
    let heading = ctx.m.connect_link_refused_heading;
    let body = RefusedPage {
        c: ctx.chrome(heading),
        m: ctx.m,
        heading,
        message: ctx.m.text(refusal.message_key()),
        shop_id: None,
        auth_url: None,
    }
    .render()?;
    let status = match refusal {
        LinkRefusal::Unknown => StatusCode::NOT_FOUND,
        LinkRefusal::Used | LinkRefusal::Expired | LinkRefusal::KeyRevoked => StatusCode::GONE,
        LinkRefusal::UserDisabled => StatusCode::FORBIDDEN,
    };
    Ok(super::context::private(
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
    ))
}

async fn landing(
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    if !token_ok(&token) {
        return refused(&ctx, LinkRefusal::Unknown);
    }
    let preview = match connect_links::preview(&ctx.state.services, &token).await? {
        Ok(preview) => preview,
        Err(refusal) => return refused(&ctx, refusal),
    };
    // The button's form is checked like any other: against the session's token if the
    // browser is logged in, else against a double-submit cookie (as on the login page).
    let login_csrf = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43)
        .unwrap_or_else(random_token);
    let csrf = match &ctx.user {
        Some(user) => user.csrf_token.clone(),
        None => login_csrf.clone(),
    };
    let body = LandingPage {
        c: ctx.chrome(ctx.m.connect_link_title),
        m: ctx.m,
        shop_name: &preview.shop.name,
        token: &token,
        csrf: &csrf,
    }
    .render()?;
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body);
    if ctx.user.is_none() {
        response
            .add_cookie(&cookie(
                LOGIN_CSRF_COOKIE,
                login_csrf,
                ctx.state.cookie_secure,
                None,
            ))
            .map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(super::context::private(response))
}

async fn use_link(
    ctx: Ctx,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let token = path.into_inner();
    if !token_ok(&token) {
        return refused(&ctx, LinkRefusal::Unknown);
    }
    let svc = &ctx.state.services;
    let opened = match connect_links::open(svc, &token).await? {
        Ok(opened) => opened,
        Err(refusal) => return refused(&ctx, refusal),
    };
    // Like a login: whatever session the browser had ends, the link's session replaces it.
    if let Some(old) = &ctx.user {
        sessions::end(svc, &old.session_hash).await?;
    }
    let session_hash = crate::crypto::token_hash(&opened.session_token);
    let shop_page = format!("/shops/{}", opened.shop_id);
    let outcome = connect::start(
        svc,
        opened.user_id,
        &session_hash,
        opened.shop_id,
        &user_actor(opened.user_id),
    )
    .await;
    let mut response = match outcome {
        Ok(StartOutcome::GoToIts { auth_url }) => redirect(&auth_url),
        Ok(StartOutcome::Connected) => match connect_links::finish(svc, &session_hash, true).await?
        {
            Some(url) => redirect(&url),
            None => redirect(&format!("{shop_page}?outcome=connected")),
        },
        Ok(StartOutcome::Failed(_)) => {
            match connect_links::finish(svc, &session_hash, false).await? {
                Some(url) => redirect(&url),
                None => redirect(&format!("{shop_page}?outcome=failed")),
            }
        }
        Err(err) => {
            // The shop's page explains the state and offers to try again.
            tracing::warn!(shop = %opened.shop_id, error = %err, "connect from a link could not start");
            redirect(&shop_page)
        }
    };
    let secure = ctx.state.cookie_secure;
    response
        .add_cookie(&cookie(
            session_cookie_name(secure),
            opened.session_token,
            secure,
            Some(time::Duration::milliseconds(
                connect_links::LINK_SESSION_TTL_MS.min(SESSION_LIFETIME_MS),
            )),
        ))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    response
        .add_removal_cookie(&cookie(LOGIN_CSRF_COOKIE, String::new(), secure, None))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(super::context::private(response))
}

/// At the end of a connect flow: if this browser's session was opened by a connect link
/// with a `return_url`, where to send it (`?status=connected|failed&shop=<external id>`).
/// `None` for every other session.
pub async fn return_to(ctx: &Ctx, connected: bool) -> Result<Option<HttpResponse>, AppError> {
    let Some(user) = ctx.user.as_ref().filter(|u| u.scope_shop_id.is_some()) else {
        return Ok(None);
    };
    Ok(
        connect_links::finish(&ctx.state.services, &user.session_hash, connected)
            .await?
            .map(|url| redirect(&url)),
    )
}
