//! Per-request context: the reader's language and their session, loaded once by a
//! middleware and read by the extractors (`Ctx`, `CurrentUser`). The same middleware sets
//! the security headers and renders error pages in the reader's language.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;
use std::future::{ready, Ready};
use uuid::Uuid;

use super::error::{AppError, ErrorPage};
use super::views::lang_switch_href;
use super::AppState;
use crate::crypto::token_hash;
use crate::domain::UserRole;
use crate::i18n::{Lang, Messages};
use crate::services::sessions;

pub const LANG_COOKIE: &str = "shoplink_lang";
/// The longest query string any page accepts.
pub const MAX_QUERY_BYTES: usize = 2048;
pub use crate::services::sessions::{ADMIN_IDLE_MS, OWNER_IDLE_MS, SESSION_LIFETIME_MS};

/// The logged-in user of this request.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: UserRole,
    pub csrf_token: String,
    pub session_hash: String,
    /// A session opened by a connect link may see this one shop only (see `CurrentUser`).
    pub scope_shop_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub lang: Lang,
    pub user: Option<SessionUser>,
}

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-shoplink_session"
    } else {
        "shoplink_session"
    }
}

/// Builds a cookie with every flag set explicitly.
pub fn cookie<'a>(
    name: &'a str,
    value: String,
    secure: bool,
    max_age: Option<time::Duration>,
) -> Cookie<'a> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .expect("AppState is registered")
        .clone();

    let query_lang = web::Query::<LangQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.lang.as_deref().and_then(Lang::parse));
    let lang = query_lang
        .or_else(|| req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or_default();

    // No page takes a long query: refuse one before any work (and before it reaches a log).
    if req.query_string().len() > MAX_QUERY_BYTES {
        let (http_req, _) = req.into_parts();
        let response = if super::api::is_api_path(http_req.path()) {
            super::api::query_too_long(MAX_QUERY_BYTES)
        } else {
            let err = AppError::BadRequest(crate::i18n::MsgKey::error_query_too_long);
            error_page(&state, &http_req, lang, None, &err)
        };
        return Ok(ServiceResponse::new(http_req, response));
    }

    let user = match load_user(&state, &req).await {
        Ok(user) => user,
        Err(err) => {
            let (http_req, _) = req.into_parts();
            let response = error_page(&state, &http_req, lang, None, &err);
            return Ok(ServiceResponse::new(http_req, response));
        }
    };
    // A caller of the API proves who it is with this header instead of a session.
    let authenticated = user.is_some() || req.headers().contains_key(header::AUTHORIZATION);
    req.extensions_mut().insert(RequestContext {
        lang,
        user: user.clone(),
    });

    let mut res = next.call(req).await?.map_into_boxed_body();

    let error_page = res.response().extensions().get::<ErrorPage>().copied();
    if let Some(page) = error_page {
        let status = res.status();
        let http_req = res.request().clone();
        let mut response = render_error(
            &state,
            &http_req,
            lang,
            user.as_ref(),
            page.message_key,
            status,
        );
        for (name, value) in res.response().headers() {
            if name == header::RETRY_AFTER || name == header::SET_COOKIE {
                response.headers_mut().append(name.clone(), value.clone());
            }
        }
        // An error that leaves the request's body unread (`body_guard`) closes the connection.
        if res.response().head().connection_type() == actix_web::http::ConnectionType::Close {
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        res = ServiceResponse::new(http_req, response);
    }
    if let Some(lang) = query_lang {
        let c = cookie(
            LANG_COOKIE,
            lang.code().to_owned(),
            state.cookie_secure,
            Some(time::Duration::days(365)),
        );
        res.response_mut().add_cookie(&c).ok();
    }
    set_security_headers(res.headers_mut(), state.cookie_secure);
    // Whatever a logged-in user is shown (owners' emails and phones, shop details) is
    // never kept by the browser or a shared cache; a handler that chose its own
    // caching (the static files) keeps it.
    if authenticated && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

#[derive(serde::Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

async fn load_user(
    state: &AppState,
    req: &ServiceRequest,
) -> Result<Option<SessionUser>, AppError> {
    let Some(cookie) = req.cookie(session_cookie_name(state.cookie_secure)) else {
        return Ok(None);
    };
    let value = cookie.value();
    if value.len() != 43 {
        return Ok(None);
    }
    let hash = token_hash(value);
    let Some(row) = sessions::current(&state.services, &hash).await? else {
        return Ok(None);
    };
    Ok(Some(SessionUser {
        id: row.user_id,
        email: row.email,
        name: row.name,
        role: UserRole::parse(&row.role).unwrap_or(UserRole::Owner),
        csrf_token: row.csrf_token,
        session_hash: hash,
        scope_shop_id: row.scope_shop_id,
    }))
}

fn set_security_headers(headers: &mut actix_web::http::header::HeaderMap, https: bool) {
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if https && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// What every page's frame needs: language, user, sandbox marker.
pub struct Chrome {
    pub lang: Lang,
    pub other_lang: Lang,
    pub user: Option<SessionUser>,
    pub sandbox_url: Option<String>,
    pub title: &'static str,
    /// The request's path, to mark the current navigation link.
    pub path: String,
    /// This page in the other language (same path and query).
    pub lang_href: String,
    /// The partner's name, logo and support contacts (`PARTNER_*`).
    pub partner: std::sync::Arc<crate::configuration::PartnerSettings>,
}

impl Chrome {
    /// Whether the page is `prefix` or below it (`/admin/shops` for `/admin/shops/…`).
    pub fn is_under(&self, prefix: &str) -> bool {
        self.path == prefix
            || self
                .path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    pub fn is_admin(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == UserRole::Admin)
    }

    /// The brand in the header and the footer: the partner's name, else the app's.
    pub fn brand<'a>(&'a self, m: &'static Messages) -> &'a str {
        self.partner.name.as_deref().unwrap_or(m.app_name)
    }

    pub fn csrf(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.csrf_token.as_str())
            .unwrap_or("")
    }
}

/// The request's context, for handlers.
pub struct Ctx {
    pub lang: Lang,
    pub user: Option<SessionUser>,
    pub m: &'static Messages,
    pub state: web::Data<AppState>,
    pub path: String,
    pub lang_href: String,
}

impl Ctx {
    pub fn chrome(&self, title: &'static str) -> Chrome {
        Chrome {
            lang: self.lang,
            other_lang: self.lang.other(),
            user: self.user.clone(),
            sandbox_url: self.state.sandbox_url.clone(),
            title,
            path: self.path.clone(),
            lang_href: self.lang_href.clone(),
            partner: self.state.partner.clone(),
        }
    }
}

impl FromRequest for Ctx {
    type Error = AppError;
    type Future = Ready<Result<Ctx, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(ctx_of(req))
    }
}

pub fn ctx_of(req: &HttpRequest) -> Result<Ctx, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal("AppState missing".into()))?;
    let context = req
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .unwrap_or(RequestContext {
            lang: Lang::Vi,
            user: None,
        });
    Ok(Ctx {
        lang: context.lang,
        m: Messages::for_lang(context.lang),
        user: context.user,
        state,
        path: req.path().to_owned(),
        lang_href: lang_switch_href(req.path(), req.query_string(), context.lang.other()),
    })
}

/// A request from a logged-in user; anyone else is sent to the login page and back.
pub struct CurrentUser(pub SessionUser);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<CurrentUser, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = req
            .extensions()
            .get::<RequestContext>()
            .and_then(|c| c.user.clone());
        ready(match user {
            // A connect link's session: only its shop's page, its connect button and logout.
            Some(user)
                if user
                    .scope_shop_id
                    .is_some_and(|shop| !scope_allows(req.path(), shop)) =>
            {
                // A page elsewhere leads back to the one shop; anything else is refused.
                match user.scope_shop_id {
                    Some(shop) if req.method() == actix_web::http::Method::GET => {
                        Err(AppError::SeeOther(format!("/shops/{shop}")))
                    }
                    _ => Err(AppError::Forbidden),
                }
            }
            Some(user) => Ok(CurrentUser(user)),
            None => {
                // Only a GET can be resumed after login; a POST goes back to the home page.
                let next = if req.method() == actix_web::http::Method::GET {
                    let pq = req
                        .uri()
                        .path_and_query()
                        .map(|pq| pq.as_str())
                        .unwrap_or("/");
                    pq.to_owned()
                } else {
                    "/".to_owned()
                };
                Err(AppError::LoginRequired { next })
            }
        })
    }
}

/// What a session scoped to `shop` (opened by a connect link) may reach.
fn scope_allows(path: &str, shop: Uuid) -> bool {
    let page = format!("/shops/{shop}");
    path == page || path == format!("{page}/connect") || path == "/logout"
}

/// Renders a template into an HTML response.
pub fn html<T: Template>(template: &T) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(render(template)?))
}

/// The most a page is expected to take, reserved before rendering it: askama's own hint
/// counts a loop's text once, so a list page of 50 rows (43 KB) grew its buffer from 4 KB
/// by doubling, copying what it had each time (callgrind: 4 % of the list's instructions
/// in reallocation, more in the copies).
const PAGE_CAPACITY: usize = 64 * 1024;

fn render<T: Template>(template: &T) -> Result<String, askama::Error> {
    let mut body = String::with_capacity(T::SIZE_HINT.max(PAGE_CAPACITY));
    template.render_into(&mut body)?;
    Ok(body)
}

/// A page whose address or body carries a credential (a single-use token or `code` in the
/// URL, a secret shown once): never cached, and its address never sent on as a referrer.
pub fn private(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A page that must not stay in the browser's cache (it holds a form answer or a result
/// of a send), answered 422 when what was sent is refused and 200 otherwise.
pub fn html_no_store<T: Template>(template: &T, invalid: bool) -> Result<HttpResponse, AppError> {
    let mut response = if invalid {
        HttpResponse::UnprocessableEntity()
            .content_type("text/html; charset=utf-8")
            .body(render(template)?)
    } else {
        html(template)?
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    c: Chrome,
    m: &'static Messages,
    message: &'a str,
    status: u16,
}

fn render_error(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: Lang,
    user: Option<&SessionUser>,
    key: crate::i18n::MsgKey,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let m = Messages::for_lang(lang);
    let page = ErrorTemplate {
        c: Chrome {
            lang,
            other_lang: lang.other(),
            user: user.cloned(),
            sandbox_url: state.sandbox_url.clone(),
            title: m.error_title,
            path: req.path().to_owned(),
            lang_href: lang_switch_href(req.path(), req.query_string(), lang.other()),
            partner: state.partner.clone(),
        },
        m,
        message: m.text(key),
        status: status.as_u16(),
    };
    let body = page.render().unwrap_or_else(|_| m.text(key).to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn error_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    lang: Lang,
    user: Option<&SessionUser>,
    err: &AppError,
) -> HttpResponse {
    if let AppError::Internal(detail) | AppError::Unavailable(detail) = err {
        tracing::error!(error = %detail, "loading the session failed");
    }
    let mut response = render_error(
        state,
        req,
        lang,
        user,
        err.message_key(),
        actix_web::ResponseError::status_code(err),
    );
    set_security_headers(response.headers_mut(), state.cookie_secure);
    response
}

/// A request from a logged-in admin. An owner gets 403; an anonymous visitor goes to login.
pub struct AdminUser(pub SessionUser);

impl FromRequest for AdminUser {
    type Error = AppError;
    type Future = Ready<Result<AdminUser, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(match CurrentUser::from_request(req, payload).into_inner() {
            Ok(CurrentUser(user)) if user.role == UserRole::Admin => Ok(AdminUser(user)),
            Ok(_) => Err(AppError::Forbidden),
            Err(e) => Err(e),
        })
    }
}
