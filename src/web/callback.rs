//! `GET /connect/callback?token=…&shop_id=…` (or only `?shop_id=…` in the fixed redirect
//! mode): where the provider sends the browser back. Everything in the query is untrusted. The page is never cached and sends no referrer,
//! so the token cannot leak; after use the browser lands on a clean URL. A browser is
//! answered at once with a waiting page and the work happens on `FINISH_PATH` (the ITS
//! calls take seconds when the provider is slow).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use super::auth::redirect;
use super::context::{Chrome, Ctx};
use super::error::AppError;
use crate::domain::ShopId;
use crate::i18n::{Messages, MsgKey};
use crate::services::connect::{self, CallbackOutcome, CallbackRefusal};

#[derive(Template)]
#[template(path = "connect/result.html")]
struct ResultPage {
    c: Chrome,
    m: &'static Messages,
    heading: &'static str,
    message: &'static str,
    shop_id: Option<uuid::Uuid>,
    auth_url: Option<String>,
}

/// At most one `token` (base64url, 43 characters; none in the fixed redirect mode) and
/// exactly one `shop_id` (a positive integer).
fn parse_query(query: &str) -> Result<(Option<String>, ShopId), CallbackRefusal> {
    let mut tokens = Vec::new();
    let mut shop_ids = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "token" => tokens.push(value.into_owned()),
            "shop_id" => shop_ids.push(value.into_owned()),
            _ => {}
        }
    }
    let token = match tokens.as_slice() {
        [] => None,
        [token] => Some(token),
        _ => return Err(CallbackRefusal::Malformed),
    };
    let [shop_id] = shop_ids.as_slice() else {
        return Err(CallbackRefusal::Malformed);
    };
    if let Some(token) = token {
        if token.len() != 43
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(CallbackRefusal::Unknown);
        }
    }
    let shop_id = ShopId::parse(shop_id).map_err(|_| CallbackRefusal::Malformed)?;
    Ok((token.cloned(), shop_id))
}

/// Where the "Đang hoàn tất kết nối…" page sends the browser: no token in this URL (it
/// travels in the short-lived `FINISH_COOKIE`), so nothing of it can reach a log, the
/// history or a `Referer`.
pub const FINISH_PATH: &str = "/connect/finish";
/// The callback's `token` and `shop_id` between the waiting page and `FINISH_PATH`:
/// HttpOnly, sent to that path only, gone after five minutes or at its first use.
const FINISH_COOKIE: &str = "shoplink_connect_finish";
const FINISH_COOKIE_SECS: i64 = 300;

#[derive(Template)]
#[template(path = "connect/finishing.html")]
struct FinishingPage {
    c: Chrome,
    m: &'static Messages,
    finish_path: &'static str,
}

pub async fn callback(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let response = match parse_query(req.query_string()) {
        Err(reason) => refused(&ctx, reason),
        Ok(_) if ctx.user.is_none() => {
            // The session ended while the owner was at ITS: log in, then come back here.
            Err(AppError::LoginRequired {
                next: format!("/connect/callback?{}", req.query_string()),
            })
        }
        // A browser (it asks for HTML) gets the waiting page at once; the two ITS calls
        // happen on `FINISH_PATH`, which the page reaches by itself (a meta refresh, no
        // JavaScript). Other clients get the outcome directly.
        Ok((token, shop_id)) if wants_html(&req) => finishing(&ctx, token.as_deref(), shop_id),
        Ok((token, shop_id)) => handle(&ctx, token, shop_id).await,
    }?;
    Ok(super::context::private(response))
}

/// `FINISH_PATH`: the callback's work, with its `token` and `shop_id` from the cookie the
/// waiting page set, checked exactly as the callback checks its query.
pub async fn finish(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let Some(saved) = req.cookie(FINISH_COOKIE).map(|c| c.value().to_owned()) else {
        // Already finished (a reload, the Back button) or never started.
        return Ok(super::context::private(redirect("/shops")));
    };
    if ctx.user.is_none() {
        return Err(AppError::LoginRequired {
            next: FINISH_PATH.to_owned(),
        });
    }
    let mut response = match parse_query(&saved) {
        Err(reason) => refused(&ctx, reason),
        Ok((token, shop_id)) => handle(&ctx, token, shop_id).await,
    }?;
    response
        .add_removal_cookie(&finish_cookie(&ctx, String::new()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(super::context::private(response))
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn finish_cookie(ctx: &Ctx, value: String) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(FINISH_COOKIE, value)
        .path(FINISH_PATH)
        .http_only(true)
        .secure(ctx.state.cookie_secure)
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(time::Duration::seconds(FINISH_COOKIE_SECS))
        .finish()
}

/// "Đang hoàn tất kết nối…", with the callback's parameters (already checked for shape)
/// kept in `FINISH_COOKIE` for `FINISH_PATH`.
fn finishing(ctx: &Ctx, token: Option<&str>, shop_id: ShopId) -> Result<HttpResponse, AppError> {
    let mut saved = url::form_urlencoded::Serializer::new(String::new());
    if let Some(token) = token {
        saved.append_pair("token", token);
    }
    saved.append_pair("shop_id", &shop_id.to_string());
    let body = FinishingPage {
        c: ctx.chrome(ctx.m.finishing_heading),
        m: ctx.m,
        finish_path: FINISH_PATH,
    }
    .render()?;
    let mut response = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body);
    response
        .add_cookie(&finish_cookie(ctx, saved.finish()))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(response)
}

fn refused(ctx: &Ctx, reason: CallbackRefusal) -> Result<HttpResponse, AppError> {
    page(
        ctx,
        actix_web::http::StatusCode::BAD_REQUEST,
        ctx.m.callback_refused_heading,
        reason.msg_key(),
        None,
        None,
    )
}

async fn handle(
    ctx: &Ctx,
    token: Option<String>,
    shop_id: ShopId,
) -> Result<HttpResponse, AppError> {
    let m = ctx.m;
    let Some(user) = &ctx.user else {
        return Err(AppError::LoginRequired {
            next: "/shops".to_owned(),
        });
    };
    let outcome = connect::callback(
        &ctx.state.services,
        user.id,
        &user.session_hash,
        token.as_deref(),
        shop_id,
    )
    .await?;
    match outcome {
        // A flow opened by a connect link ends at the partner's `return_url` instead.
        CallbackOutcome::Connected { shop_id } => {
            match super::connect_links::return_to(ctx, true).await? {
                Some(back) => Ok(back),
                None => Ok(redirect(&format!("/shops/{shop_id}?outcome=connected"))),
            }
        }
        CallbackOutcome::Failed { shop_id, .. } => {
            match super::connect_links::return_to(ctx, false).await? {
                Some(back) => Ok(back),
                None => Ok(redirect(&format!("/shops/{shop_id}?outcome=failed"))),
            }
        }
        CallbackOutcome::LoginAgain { shop_id, auth_url } => page(
            ctx,
            actix_web::http::StatusCode::OK,
            m.login_again_heading,
            MsgKey::login_again_message,
            Some(shop_id),
            Some(auth_url),
        ),
        CallbackOutcome::Refused { reason, shop_id } => {
            let heading = if reason == CallbackRefusal::Used {
                m.callback_used_heading
            } else {
                m.callback_refused_heading
            };
            page(
                ctx,
                actix_web::http::StatusCode::BAD_REQUEST,
                heading,
                reason.msg_key(),
                shop_id,
                None,
            )
        }
    }
}

fn page(
    ctx: &Ctx,
    status: actix_web::http::StatusCode,
    heading: &'static str,
    message_key: MsgKey,
    shop_id: Option<uuid::Uuid>,
    auth_url: Option<String>,
) -> Result<HttpResponse, AppError> {
    let body = ResultPage {
        c: ctx.chrome(heading),
        m: ctx.m,
        heading,
        message: ctx.m.text(message_key),
        shop_id,
        auth_url,
    }
    .render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::parse_query;

    const T: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn one_token_and_one_numeric_shop_id_are_required() {
        assert!(parse_query(&format!("token={T}&shop_id=1052570182707778180")).is_ok());
        assert!(parse_query(&format!("token={T}&token={T}&shop_id=1")).is_err());
        assert!(parse_query(&format!("token={T}&shop_id=1&shop_id=2")).is_err());
        assert!(parse_query(&format!("token={T}&shop_id=-1")).is_err());
        assert!(parse_query(&format!("token={T}&shop_id=1%200")).is_err());
        // The fixed redirect mode: the provider adds only its shop_id.
        assert_eq!(parse_query("shop_id=7").unwrap().0, None);
        assert!(parse_query("token=x").is_err());
        assert!(parse_query("token=short&shop_id=1").is_err());
    }
}
