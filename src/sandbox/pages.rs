//! The sandbox's pages: the provider's login/approve page and the operator's shop list.
//! Every visible string comes from `SandboxMessages`; Vietnamese unless `?lang=en`.

use std::time::Duration;

use actix_web::error::InternalError;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::store::{ApproveError, ListedShop, PendingRequest, ShopChoice};
use super::{now, secret, Faults, SandboxState};
use crate::domain::{Email, ParseError, Phone, ShopName};
use crate::i18n::{Lang, SandboxMessages, SandboxMsgKey};

const STYLESHEET: &str = include_str!("../../static/sandbox.css");

/// At most this many shops are listed on `/shops`.
const SHOP_LIST_LIMIT: i64 = 500;

/// Longest accepted form body.
const MAX_FORM_BYTES: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------

/// Form bodies that cannot be read get a page, not actix's plain-text error.
pub(crate) fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(MAX_FORM_BYTES)
        .error_handler(|err, req| {
            let lang = lang_of_query(req);
            let response = error_page(
                StatusCode::BAD_REQUEST,
                lang,
                SandboxMessages::for_lang(lang).error_bad_form,
            );
            InternalError::from_response(err, response).into()
        })
}

/// The `lang` query parameter (`en` or `vi`), Vietnamese if absent or unknown.
fn lang_of_query(req: &HttpRequest) -> Lang {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
        .unwrap_or_default()
}

fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn lang_of_form(lang: &str) -> Lang {
    Lang::parse(lang).unwrap_or_default()
}

/// A path with `params` and the language as its query.
fn href(path: &str, params: &[(&str, &str)], lang: Lang) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    if lang != Lang::default() {
        query.append_pair("lang", lang.code());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// An HTML answer with the sandbox's safety headers.
fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> HttpResponse {
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'",
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(err) => {
            tracing::error!(error = %err, "sandbox page failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("ITS sandbox: template error")
        }
    }
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A form post from another site is refused: the `Origin`, when the browser sends one,
/// must name this server.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let (Ok(origin), Ok(ours)) = (
        origin.to_str().map(url::Url::parse),
        url::Url::parse(&format!("http://{host}")),
    ) else {
        return false;
    };
    let Ok(origin) = origin else {
        return false;
    };
    origin.host_str().map(str::to_ascii_lowercase) == ours.host_str().map(str::to_ascii_lowercase)
        && origin.port_or_known_default() == ours.port_or_known_default()
}

fn internal_error(lang: Lang, err: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %err, "sandbox page failed");
    error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        SandboxMessages::for_lang(lang).error_internal,
    )
}

/// What every page's frame needs.
struct Frame {
    m: &'static SandboxMessages,
    lang: &'static str,
    other_lang_href: String,
}

impl Frame {
    fn new(lang: Lang, path: &str, params: &[(&str, &str)]) -> Frame {
        Frame {
            m: SandboxMessages::for_lang(lang),
            lang: lang.code(),
            other_lang_href: href(path, params, lang.other()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A page with a title, a text and links (errors, cancel, approved)
// ---------------------------------------------------------------------------------------

struct Link {
    href: String,
    label: String,
}

#[derive(Template)]
#[template(path = "sandbox/message.html")]
struct Message {
    frame: Frame,
    title: &'static str,
    text: String,
    is_error: bool,
    links: Vec<Link>,
}

impl Message {
    fn error(lang: Lang, text: &str) -> Message {
        let frame = Frame::new(lang, "/shops", &[]);
        Message {
            title: frame.m.error_title,
            frame,
            text: text.to_owned(),
            is_error: true,
            links: Vec::new(),
        }
    }
}

fn error_page(status: StatusCode, lang: Lang, text: &str) -> HttpResponse {
    html(status, Message::error(lang, text).render())
}

// ---------------------------------------------------------------------------------------
// GET / and the stylesheet and the fallback
// ---------------------------------------------------------------------------------------

pub(crate) async fn home(req: HttpRequest) -> HttpResponse {
    see_other(&href("/shops", &[], lang_of_query(&req)))
}

pub(crate) async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(STYLESHEET)
}

pub(crate) async fn not_found(req: HttpRequest) -> HttpResponse {
    let lang = lang_of_query(&req);
    error_page(
        StatusCode::NOT_FOUND,
        lang,
        SandboxMessages::for_lang(lang).error_not_found,
    )
}

// ---------------------------------------------------------------------------------------
// The login / approve page
// ---------------------------------------------------------------------------------------

/// The shop a request was issued for, shown instead of the fields.
struct KnownShop {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "sandbox/login.html")]
struct LoginPage {
    frame: Frame,
    intro: String,
    partner_name: String,
    token: String,
    known_shop: Option<KnownShop>,
    shop_name: String,
    name: String,
    email: String,
    phone: String,
    error: Option<&'static str>,
}

/// What the shop owner typed (or what the request pre-filled).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    token: String,
    action: String,
    shop_name: String,
    name: String,
    email: String,
    phone: String,
    lang: String,
}

async fn login_page_for(
    state: &SandboxState,
    lang: Lang,
    token: &str,
    pending: &PendingRequest,
    typed: Option<&LoginForm>,
    error: Option<&'static str>,
) -> Result<LoginPage, sqlx::Error> {
    let m = SandboxMessages::for_lang(lang);
    let known_shop = match pending.fields.shop_id {
        Some(id) => state.store.shop(id).await?.map(|shop| KnownShop {
            id: shop.id.to_string(),
            name: shop.name,
        }),
        None => None,
    };
    let prefill = |typed: Option<&String>, requested: &Option<String>| match typed {
        Some(t) => t.clone(),
        None => requested.clone().unwrap_or_default(),
    };
    let f = &pending.fields;
    Ok(LoginPage {
        frame: Frame::new(lang, "/login", &[("token", token)]),
        intro: SandboxMessages::fill(m.login_intro, &[&state.partner_name]),
        partner_name: state.partner_name.clone(),
        token: token.to_owned(),
        known_shop,
        shop_name: prefill(typed.map(|t| &t.shop_name), &f.shop_name),
        name: prefill(typed.map(|t| &t.name), &f.name),
        email: prefill(typed.map(|t| &t.email), &f.email),
        phone: prefill(typed.map(|t| &t.phone), &f.phone),
        error,
    })
}

/// `GET /login?token=request:…`
pub(crate) async fn login_page(req: HttpRequest, state: web::Data<SandboxState>) -> HttpResponse {
    let lang = lang_of_query(&req);
    let m = SandboxMessages::for_lang(lang);
    let token = query_param(&req, "token").unwrap_or_default();
    let pending = match pending(&state, &token).await {
        Ok(Some(p)) => p,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, lang, m.error_token_invalid),
        Err(err) => return internal_error(lang, &err),
    };
    match login_page_for(&state, lang, &token, &pending, None, None).await {
        Ok(page) => html(StatusCode::OK, page.render()),
        Err(err) => internal_error(lang, &err),
    }
}

async fn pending(state: &SandboxState, token: &str) -> Result<Option<PendingRequest>, sqlx::Error> {
    if !token.starts_with("request:") || token.len() > 256 {
        return Ok(None);
    }
    state
        .store
        .pending_request(&secret::hash_token(token), now())
        .await
}

/// The sandbox's own message for a value the domain refused (it shares no messages with
/// the app).
fn refusal(err: ParseError) -> SandboxMsgKey {
    match err {
        ParseError::ShopNameEmpty => SandboxMsgKey::error_shop_name_empty,
        ParseError::ShopNameTooLong => SandboxMsgKey::error_shop_name_too_long,
        ParseError::TextControlChars => SandboxMsgKey::error_text_control_chars,
        ParseError::EmailInvalid => SandboxMsgKey::error_email_invalid,
        ParseError::PhoneInvalid => SandboxMsgKey::error_phone_invalid,
        // Values this form does not hold.
        ParseError::ShopIdInvalid
        | ParseError::ShopKeyInvalid
        | ParseError::StateInvalid
        | ParseError::RoleInvalid => SandboxMsgKey::error_bad_form,
    }
}

/// Checks what a new shop owner typed.
fn shop_details(form: &LoginForm) -> Result<ShopChoice, SandboxMsgKey> {
    let shop_name = ShopName::parse(&form.shop_name).map_err(refusal)?;
    let owner_name = match form.name.trim() {
        "" => None,
        name if name.chars().count() > 200 || name.chars().any(char::is_control) => {
            return Err(SandboxMsgKey::error_name_invalid)
        }
        name => Some(name.to_owned()),
    };
    let email = match form.email.trim() {
        "" => None,
        e => Some(Email::parse(e).map_err(refusal)?.as_str().to_owned()),
    };
    let phone = match form.phone.trim() {
        "" => None,
        p => Some(Phone::parse(p).map_err(refusal)?.as_str().to_owned()),
    };
    if email.is_none() && phone.is_none() {
        return Err(SandboxMsgKey::error_contact_required);
    }
    Ok(ShopChoice::Details {
        shop_name: shop_name.as_str().to_owned(),
        owner_name,
        email,
        phone,
    })
}

/// Where the browser goes after the shop approved: `redirect_url` with `shop_id` added.
fn callback_url(redirect_url: &str, shop_id: i64) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(redirect_url)?;
    url.query_pairs_mut()
        .append_pair("shop_id", &shop_id.to_string());
    Ok(url.into())
}

/// The partner's site (the origin of `redirect_url`), for a "back" link.
fn partner_home(redirect_url: Option<&str>) -> Option<String> {
    let url = url::Url::parse(redirect_url?).ok()?;
    let mut home = url.clone();
    home.set_path("/");
    home.set_query(None);
    home.set_fragment(None);
    Some(home.into())
}

/// `POST /login`: approve or cancel.
pub(crate) async fn login_submit(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    let pending = match pending(&state, &form.token).await {
        Ok(Some(p)) => p,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, lang, m.error_token_invalid),
        Err(err) => return internal_error(lang, &err),
    };

    match form.action.as_str() {
        "cancel" => {
            let frame = Frame::new(lang, "/login", &[("token", &form.token)]);
            let mut links = vec![Link {
                href: href("/login", &[("token", &form.token)], lang),
                label: m.cancelled_back_to_login.to_owned(),
            }];
            if let Some(home) = partner_home(pending.fields.redirect_url.as_deref()) {
                links.push(Link {
                    href: home,
                    label: SandboxMessages::fill(m.back_to_partner, &[&state.partner_name]),
                });
            }
            let page = Message {
                title: m.cancelled_title,
                text: SandboxMessages::fill(m.cancelled_text, &[&state.partner_name]),
                frame,
                is_error: false,
                links,
            };
            html(StatusCode::OK, page.render())
        }
        "approve" => approve(&state, lang, &form, &pending).await,
        _ => error_page(StatusCode::BAD_REQUEST, lang, m.error_bad_form),
    }
}

async fn approve(
    state: &SandboxState,
    lang: Lang,
    form: &LoginForm,
    pending: &PendingRequest,
) -> HttpResponse {
    let m = SandboxMessages::for_lang(lang);
    let choice = if pending.fields.shop_id.is_some() {
        ShopChoice::FromRequest
    } else {
        match shop_details(form) {
            Ok(choice) => choice,
            Err(key) => {
                return match login_page_for(
                    state,
                    lang,
                    &form.token,
                    pending,
                    Some(form),
                    Some(m.text(key)),
                )
                .await
                {
                    Ok(page) => html(StatusCode::BAD_REQUEST, page.render()),
                    Err(err) => internal_error(lang, &err),
                }
            }
        }
    };
    let approved = match state
        .store
        .approve(&secret::hash_token(&form.token), &choice, now())
        .await
    {
        Ok(approved) => approved,
        Err(ApproveError::TokenInvalid) => {
            return error_page(StatusCode::BAD_REQUEST, lang, m.error_token_invalid)
        }
        Err(ApproveError::ShopMissing) => {
            return error_page(StatusCode::BAD_REQUEST, lang, m.error_shop_missing)
        }
        Err(ApproveError::AccountClosed) => {
            return error_page(StatusCode::BAD_REQUEST, lang, m.error_account_closed)
        }
        Err(ApproveError::Db(err)) => return internal_error(lang, &err),
    };
    tracing::info!(
        shop_id = approved.shop_id,
        "sandbox shop approved the partner"
    );

    match approved.redirect_url.as_deref() {
        Some(redirect_url) => match callback_url(redirect_url, approved.shop_id) {
            Ok(location) => see_other(&location),
            Err(err) => internal_error(lang, &err),
        },
        None => {
            let page = Message {
                frame: Frame::new(lang, "/shops", &[]),
                title: m.approved_title,
                text: SandboxMessages::fill(
                    m.approved_text,
                    &[
                        &format!("{} ({})", approved.shop_name, approved.shop_id),
                        &state.partner_name,
                    ],
                ),
                is_error: false,
                links: Vec::new(),
            };
            html(StatusCode::OK, page.render())
        }
    }
}

// ---------------------------------------------------------------------------------------
// The shop list and its actions
// ---------------------------------------------------------------------------------------

struct ShopRow {
    id: String,
    name: String,
    email: String,
    phone: String,
    linked: bool,
    closed: bool,
}

impl ShopRow {
    fn from_listed(listed: ListedShop, empty: &str) -> ShopRow {
        ShopRow {
            id: listed.shop.id.to_string(),
            name: listed.shop.name,
            email: listed.shop.email.unwrap_or_else(|| empty.to_owned()),
            phone: listed.shop.phone.unwrap_or_else(|| empty.to_owned()),
            linked: listed.linked,
            closed: listed.shop.closed,
        }
    }
}

#[derive(Template)]
#[template(path = "sandbox/shops.html")]
struct ShopsPage {
    frame: Frame,
    partner_name: String,
    base_url: String,
    shops: Vec<ShopRow>,
    truncated: Option<String>,
    faults_now: String,
    latency_ms: String,
    failure_percent: String,
    error: Option<&'static str>,
}

fn percent(rate: f64) -> String {
    let p = (rate * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.1}")
    }
}

async fn shops_response(
    state: &SandboxState,
    lang: Lang,
    status: StatusCode,
    error: Option<&'static str>,
    typed_faults: Option<(&str, &str)>,
) -> HttpResponse {
    let m = SandboxMessages::for_lang(lang);
    let listed = match state.store.list_shops(SHOP_LIST_LIMIT + 1).await {
        Ok(listed) => listed,
        Err(err) => return internal_error(lang, &err),
    };
    let truncated = (listed.len() as i64 > SHOP_LIST_LIMIT)
        .then(|| SandboxMessages::fill(m.shops_truncated, &[&SHOP_LIST_LIMIT.to_string()]));
    let shops = listed
        .into_iter()
        .take(SHOP_LIST_LIMIT as usize)
        .map(|l| ShopRow::from_listed(l, m.empty_value))
        .collect();
    let faults = state.control.faults();
    let latency_now = faults.latency.as_millis().to_string();
    let percent_now = percent(faults.failure_rate);
    let (latency_ms, failure_percent) = match typed_faults {
        Some((l, f)) => (l.to_owned(), f.to_owned()),
        None => (latency_now.clone(), percent_now.clone()),
    };
    let page = ShopsPage {
        frame: Frame::new(lang, "/shops", &[]),
        partner_name: state.partner_name.clone(),
        base_url: format!("{}/v1/partner", state.origin),
        shops,
        truncated,
        faults_now: SandboxMessages::fill(m.faults_current, &[&latency_now, &percent_now]),
        latency_ms,
        failure_percent,
        error,
    };
    html(status, page.render())
}

/// `GET /shops`
pub(crate) async fn shops_page(req: HttpRequest, state: web::Data<SandboxState>) -> HttpResponse {
    shops_response(&state, lang_of_query(&req), StatusCode::OK, None, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LangForm {
    lang: String,
}

/// `POST /shops/{id}/{unlink|close|reopen}`
pub(crate) async fn shop_action(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    form: web::Form<LangForm>,
) -> HttpResponse {
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    let (id, action) = path.into_inner();
    let Ok(id) = id.parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, lang, m.error_shop_missing);
    };
    let done = match action.as_str() {
        "unlink" => state.store.unlink(id, now()).await,
        "close" => state.store.set_closed(id, Some(now())).await,
        "reopen" => state.store.set_closed(id, None).await,
        _ => return error_page(StatusCode::NOT_FOUND, lang, m.error_not_found),
    };
    match done {
        Ok(true) => {
            tracing::info!(
                shop_id = id,
                action = action.as_str(),
                "sandbox shop changed"
            );
            see_other(&href("/shops", &[], lang))
        }
        Ok(false) => error_page(StatusCode::NOT_FOUND, lang, m.error_shop_missing),
        Err(err) => internal_error(lang, &err),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FaultsForm {
    latency_ms: String,
    failure_rate: String,
    lang: String,
}

fn parse_faults(form: &FaultsForm) -> Option<Faults> {
    let latency_ms: u64 = form
        .latency_ms
        .trim()
        .parse()
        .ok()
        .filter(|ms| *ms <= 60_000)?;
    let percent: f64 = form
        .failure_rate
        .trim()
        .trim_end_matches('%')
        .trim()
        .replace(',', ".")
        .parse()
        .ok()
        .filter(|p: &f64| p.is_finite() && (0.0..=100.0).contains(p))?;
    Some(Faults {
        latency: Duration::from_millis(latency_ms),
        failure_rate: percent / 100.0,
    })
}

/// `POST /faults`
pub(crate) async fn set_faults(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    form: web::Form<FaultsForm>,
) -> HttpResponse {
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    match parse_faults(&form) {
        Some(faults) => {
            state.control.set_faults(faults);
            tracing::info!(
                latency_ms = faults.latency.as_millis() as u64,
                failure_rate = faults.failure_rate,
                "sandbox faults changed"
            );
            see_other(&href("/shops", &[], lang))
        }
        None => {
            shops_response(
                &state,
                lang,
                StatusCode::BAD_REQUEST,
                Some(m.error_faults_invalid),
                Some((&form.latency_ms, &form.failure_rate)),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_keeps_the_partners_query_and_adds_the_shop_id() {
        assert_eq!(
            callback_url(
                "http://localhost:8080/its/callback?token=a%2Bb&x=1",
                1052570182707778180
            )
            .unwrap(),
            "http://localhost:8080/its/callback?token=a%2Bb&x=1&shop_id=1052570182707778180"
        );
        assert_eq!(
            callback_url("http://127.0.0.1/cb", 7).unwrap(),
            "http://127.0.0.1/cb?shop_id=7"
        );
    }

    #[test]
    fn fault_forms_accept_percentages_and_refuse_nonsense() {
        let form = |l: &str, f: &str| FaultsForm {
            latency_ms: l.into(),
            failure_rate: f.into(),
            lang: String::new(),
        };
        let faults = parse_faults(&form("250", "12,5")).unwrap();
        assert_eq!(faults.latency, Duration::from_millis(250));
        assert!((faults.failure_rate - 0.125).abs() < 1e-9);
        for (l, f) in [
            ("-1", "0"),
            ("abc", "0"),
            ("0", "101"),
            ("0", "NaN"),
            ("60001", "0"),
            ("", ""),
        ] {
            assert!(
                parse_faults(&form(l, f)).is_none(),
                "{l:?} {f:?} was accepted"
            );
        }
    }

    #[test]
    fn english_links_carry_the_language_and_vietnamese_ones_do_not() {
        assert_eq!(href("/shops", &[], Lang::Vi), "/shops");
        assert_eq!(
            href("/login", &[("token", "request:a+b")], Lang::En),
            "/login?token=request%3Aa%2Bb&lang=en"
        );
    }

    #[test]
    fn percentages_are_printed_without_needless_decimals() {
        assert_eq!(percent(0.25), "25");
        assert_eq!(percent(0.125), "12.5");
        assert_eq!(percent(1.0), "100");
    }
}

// The Zalo pages (the fake Zalo's permission and phone pages, the operator's Zalo page): a
// child module so they share this file's frame, headers and checks, in a file of their own.
#[path = "zalo_pages.rs"]
pub(super) mod zalo;
