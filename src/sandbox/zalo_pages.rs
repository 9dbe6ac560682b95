//! The sandbox's Zalo pages (a child of `pages`, sharing its frame, headers and checks):
//!
//! - on the **fake Zalo** server (its own address): `GET /v4/oa/permission?app_id&redirect_uri&state`
//!   and `POST /v4/oa/permission`, the OA permission page ("Cho phép" / "Từ chối"); `GET /phone`,
//!   the test phone showing every ZNS sent; the stylesheet and the OA avatar;
//! - on the sandbox's own server: `GET /zalo` and its `POST /zalo/oas/{id}/{action}`,
//!   `POST /zalo/apps/{id}/{action}`, the operator's switches (quality, quota, expiry,
//!   disconnect, a wrong app secret).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::super::store::zalo::{GrantRow, OaRow};
use super::super::zalo::{ZaloConfig, CODE_TTL_SECONDS};
use super::super::{now, secret, SandboxState};
use super::{
    error_page, href, html, internal_error, lang_of_form, lang_of_query, not_found, query_param,
    same_origin, see_other, stylesheet, Frame,
};
use crate::i18n::{Lang, SandboxMessages};

/// At most this many OAs on `/zalo` and messages on `/phone`.
const LIST_LIMIT: i64 = 200;

/// A plain round avatar, so the OA card has an image from "Zalo" without the internet.
const OA_AVATAR_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="32" fill="#0068ff"/><text x="32" y="41" font-family="Arial, sans-serif" font-size="26" font-weight="700" fill="#fff" text-anchor="middle">OA</text></svg>"##;

pub(crate) fn fake_zalo_routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(super::form_config())
        .service(
            web::resource("/v4/oa/permission")
                .route(web::get().to(permission_page))
                .route(web::post().to(permission_submit)),
        )
        .service(web::resource("/phone").route(web::get().to(phone_page)))
        .service(web::resource("/static/sandbox.css").route(web::get().to(stylesheet)))
        .service(web::resource("/static/oa-avatar.svg").route(web::get().to(avatar)))
        .service(web::resource("/").route(web::get().to(zalo_home)))
        .default_service(web::to(not_found));
}

pub(crate) fn operator_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/zalo").route(web::get().to(operator_page)))
        .service(web::resource("/zalo/oas/{id}/{action}").route(web::post().to(oa_action)))
        .service(web::resource("/zalo/apps/{id}/{action}").route(web::post().to(app_action)));
}

async fn zalo_home(req: HttpRequest) -> HttpResponse {
    see_other(&href("/phone", &[], lang_of_query(&req)))
}

async fn avatar() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(OA_AVATAR_SVG)
}

/// A time as people in Vietnam read it: `30/11/2026 19:05`.
fn vietnam_time(at: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[day]/[month]/[year] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// The permission page (fake Zalo)
// ---------------------------------------------------------------------------------------

struct OaChoice {
    id: String,
    name: String,
    verified: bool,
    has_package: bool,
    checked: bool,
}

#[derive(Template)]
#[template(path = "sandbox/zalo_permission.html")]
struct PermissionPage {
    frame: Frame,
    intro: String,
    state: String,
    oas: Vec<OaChoice>,
    error: Option<&'static str>,
}

/// The OAs the grant lets the admin pick from: the shop's, or only the one being renewed.
async fn choices(state: &SandboxState, grant: &GrantRow) -> Result<Vec<OaRow>, sqlx::Error> {
    let oas = state.store.zalo_shop_oas(grant.shop_id, now()).await?;
    Ok(oas
        .into_iter()
        .filter(|oa| grant.oa_id.is_none_or(|only| oa.oa_id == only))
        .collect())
}

async fn render_permission(
    state: &SandboxState,
    lang: Lang,
    grant: &GrantRow,
    picked: Option<i64>,
    error: Option<&'static str>,
) -> HttpResponse {
    let m = SandboxMessages::for_lang(lang);
    let oas = match choices(state, grant).await {
        Ok(oas) => oas,
        Err(err) => return internal_error(lang, &err),
    };
    let picked = picked.or_else(|| oas.first().map(|oa| oa.oa_id));
    let app_id = grant.app_id.to_string();
    let grant_state = grant.state.to_string();
    let page = PermissionPage {
        frame: Frame::new(
            lang,
            "/v4/oa/permission",
            &[
                ("app_id", &app_id),
                ("redirect_uri", &grant.redirect_uri),
                ("state", &grant_state),
            ],
        ),
        intro: SandboxMessages::fill(m.zalo_permission_intro, &[&app_id]),
        state: grant_state.clone(),
        oas: oas
            .into_iter()
            .map(|oa| OaChoice {
                checked: Some(oa.oa_id) == picked,
                id: oa.oa_id.to_string(),
                name: oa.name,
                verified: oa.is_verified,
                has_package: oa.has_package,
            })
            .collect(),
        error,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    html(status, page.render())
}

/// The grant named by a `state` text, if it can still be answered.
async fn open_grant(state: &SandboxState, text: &str) -> Result<Option<GrantRow>, sqlx::Error> {
    let Ok(grant_state) = text.parse::<i64>() else {
        return Ok(None);
    };
    let grant = state.store.zalo_grant(grant_state).await?;
    Ok(grant.filter(|g| g.is_open(now())))
}

/// `GET /v4/oa/permission?app_id=…&redirect_uri=…&state=…`
async fn permission_page(req: HttpRequest, state: web::Data<SandboxState>) -> HttpResponse {
    let lang = lang_of_query(&req);
    let m = SandboxMessages::for_lang(lang);
    let grant_state = query_param(&req, "state").unwrap_or_default();
    let grant = match open_grant(&state, &grant_state).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, lang, m.zalo_error_grant_invalid),
        Err(err) => return internal_error(lang, &err),
    };
    // Zalo checks the app and its callback URL against what the grant was made for.
    let app_matches = query_param(&req, "app_id").as_deref() == Some(&grant.app_id.to_string());
    let uri_matches = query_param(&req, "redirect_uri").as_deref() == Some(&grant.redirect_uri);
    if !app_matches || !uri_matches {
        return error_page(StatusCode::BAD_REQUEST, lang, m.zalo_error_grant_invalid);
    }
    render_permission(&state, lang, &grant, None, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PermissionForm {
    state: String,
    oa_id: String,
    action: String,
    lang: String,
}

/// `redirect_uri` with these parameters added to its query.
fn back_to_app(redirect_uri: &str, params: &[(&str, &str)]) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(redirect_uri)?;
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
    }
    Ok(url.into())
}

/// `POST /v4/oa/permission`: allow (a single-use `code` for the picked OA) or deny; either
/// way the browser goes back to the app's `redirect_uri` with `state` passed through.
async fn permission_submit(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    form: web::Form<PermissionForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    let grant = match open_grant(&state, &form.state).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return error_page(StatusCode::BAD_REQUEST, lang, m.zalo_error_grant_invalid),
        Err(err) => return internal_error(lang, &err),
    };
    let grant_state = grant.state.to_string();
    let now = now();
    let location = match form.action.as_str() {
        "deny" => match state.store.zalo_deny(grant.state, now).await {
            Ok(true) => back_to_app(
                &grant.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "The OA admin denied the permission"),
                    ("state", &grant_state),
                ],
            ),
            Ok(false) => {
                return error_page(StatusCode::BAD_REQUEST, lang, m.zalo_error_grant_invalid)
            }
            Err(err) => return internal_error(lang, &err),
        },
        "allow" => {
            let allowed = match choices(&state, &grant).await {
                Ok(oas) => oas,
                Err(err) => return internal_error(lang, &err),
            };
            let picked = form
                .oa_id
                .parse::<i64>()
                .ok()
                .filter(|id| allowed.iter().any(|oa| oa.oa_id == *id));
            let Some(oa_id) = picked else {
                return render_permission(&state, lang, &grant, None, Some(m.zalo_error_pick_oa))
                    .await;
            };
            let code = secret::new_request_token().replacen("request:", "", 1);
            match state
                .store
                .zalo_issue_code(
                    grant.state,
                    oa_id,
                    &secret::hash_token(&code),
                    now,
                    now + CODE_TTL_SECONDS,
                )
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return error_page(StatusCode::BAD_REQUEST, lang, m.zalo_error_grant_invalid)
                }
                Err(err) => return internal_error(lang, &err),
            }
            tracing::info!(
                shop_id = grant.shop_id,
                oa_id,
                "fake Zalo: the OA admin allowed"
            );
            back_to_app(
                &grant.redirect_uri,
                &[
                    ("code", &code),
                    ("oa_id", &oa_id.to_string()),
                    ("state", &grant_state),
                ],
            )
        }
        _ => return error_page(StatusCode::BAD_REQUEST, lang, m.error_bad_form),
    };
    match location {
        Ok(location) => see_other(&location),
        Err(err) => internal_error(lang, &err),
    }
}

// ---------------------------------------------------------------------------------------
// The test phone (fake Zalo)
// ---------------------------------------------------------------------------------------

struct PhoneMessage {
    to: String,
    oa_name: String,
    text: String,
    template_id: String,
    msg_id: String,
    tracking_id: String,
    development: bool,
    sent_at: String,
}

#[derive(Template)]
#[template(path = "sandbox/zalo_phone.html")]
struct PhonePage {
    frame: Frame,
    messages: Vec<PhoneMessage>,
}

/// `GET /phone`
async fn phone_page(req: HttpRequest, state: web::Data<SandboxState>) -> HttpResponse {
    let lang = lang_of_query(&req);
    let m = SandboxMessages::for_lang(lang);
    let rows = match state.store.zalo_messages(LIST_LIMIT).await {
        Ok(rows) => rows,
        Err(err) => return internal_error(lang, &err),
    };
    let page = PhonePage {
        frame: Frame::new(lang, "/phone", &[]),
        messages: rows
            .into_iter()
            .map(|row| PhoneMessage {
                to: SandboxMessages::fill(m.zalo_phone_to, &[&row.phone]),
                oa_name: row.oa_name,
                text: row.rendered,
                template_id: row.template_id.to_string(),
                msg_id: if row.msg_id.is_empty() {
                    row.id.to_string()
                } else {
                    row.msg_id
                },
                tracking_id: row.tracking_id,
                development: row.is_development,
                sent_at: vietnam_time(row.sent_at),
            })
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

// ---------------------------------------------------------------------------------------
// The operator's Zalo page (sandbox server)
// ---------------------------------------------------------------------------------------

struct OaLine {
    id: String,
    name: String,
    shop: String,
    has_package: bool,
    status: &'static str,
    connected: bool,
    quota: String,
    current_quality: String,
    last_week_quality: String,
    expires: String,
}

struct AppLine {
    id: String,
    rejected: bool,
}

#[derive(Template)]
#[template(path = "sandbox/zalo_oas.html")]
struct OperatorPage {
    frame: Frame,
    zalo_origin: String,
    oas: Vec<OaLine>,
    apps: Vec<AppLine>,
    qualities: &'static [&'static str],
    error: Option<&'static str>,
}

const QUALITIES: &[&str] = &["HIGH", "MEDIUM", "LOW", "UNDEFINED"];

async fn operator_response(
    state: &SandboxState,
    config: &ZaloConfig,
    lang: Lang,
    status: StatusCode,
    error: Option<&'static str>,
) -> HttpResponse {
    let m = SandboxMessages::for_lang(lang);
    let now = now();
    let (oas, apps) = match (
        state.store.zalo_all_oas(LIST_LIMIT, now).await,
        state.store.zalo_apps().await,
    ) {
        (Ok(oas), Ok(apps)) => (oas, apps),
        (Err(err), _) | (_, Err(err)) => return internal_error(lang, &err),
    };
    let page = OperatorPage {
        frame: Frame::new(lang, "/zalo", &[]),
        zalo_origin: config.origin.clone(),
        oas: oas
            .into_iter()
            .map(|oa| {
                let connection = oa.connection.as_ref();
                OaLine {
                    id: oa.oa_id.to_string(),
                    shop: format!("{} ({})", oa.shop_name, oa.shop_id),
                    has_package: oa.has_package,
                    status: match connection.map(|c| c.status.as_str()) {
                        Some("P") => m.zalo_status_p,
                        Some("N") => m.zalo_status_n,
                        Some(_) => m.zalo_status_z,
                        None => m.zalo_status_none,
                    },
                    connected: connection.is_some(),
                    quota: SandboxMessages::fill(
                        m.zalo_quota_value,
                        &[&oa.remaining_quota.to_string(), &oa.daily_quota.to_string()],
                    ),
                    expires: match connection {
                        Some(c) if c.expires_at <= now => {
                            format!("{} ({})", vietnam_time(c.expires_at), m.zalo_expired)
                        }
                        Some(c) => vietnam_time(c.expires_at),
                        None => m.empty_value.to_owned(),
                    },
                    name: oa.name,
                    current_quality: oa.current_quality,
                    last_week_quality: oa.last_week_quality,
                }
            })
            .collect(),
        apps: apps
            .into_iter()
            .map(|app| AppLine {
                id: app.app_id.to_string(),
                rejected: app.secret_rejected,
            })
            .collect(),
        qualities: QUALITIES,
        error,
    };
    html(status, page.render())
}

/// `GET /zalo`
async fn operator_page(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    config: web::Data<ZaloConfig>,
) -> HttpResponse {
    operator_response(&state, &config, lang_of_query(&req), StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OaActionForm {
    lang: String,
    current_quality: String,
    last_week_quality: String,
}

/// `POST /zalo/oas/{id}/{quality|exhaust|refill|expire-soon|expire|disconnect}`
async fn oa_action(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    config: web::Data<ZaloConfig>,
    path: web::Path<(String, String)>,
    form: web::Form<OaActionForm>,
) -> HttpResponse {
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    let (id, action) = path.into_inner();
    let Ok(oa_id) = id.parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, lang, m.zalo_error_oa_missing);
    };
    let now = now();
    let store = &state.store;
    let done = match action.as_str() {
        "quality" => {
            let valid = |q: &str| QUALITIES.contains(&q);
            if !valid(&form.current_quality) || !valid(&form.last_week_quality) {
                return operator_response(
                    &state,
                    &config,
                    lang,
                    StatusCode::BAD_REQUEST,
                    Some(m.zalo_error_action_invalid),
                )
                .await;
            }
            store
                .zalo_set_quality(oa_id, &form.current_quality, &form.last_week_quality)
                .await
        }
        "exhaust" => store.zalo_set_remaining(oa_id, false, now).await,
        "refill" => store.zalo_set_remaining(oa_id, true, now).await,
        "expire-soon" => store.zalo_set_expiry(oa_id, now + 5 * 86_400, now).await,
        "expire" => store.zalo_set_expiry(oa_id, now - 60, now).await,
        "disconnect" => store.zalo_disconnect(oa_id, now).await,
        _ => return error_page(StatusCode::NOT_FOUND, lang, m.error_not_found),
    };
    match done {
        Ok(true) => {
            tracing::info!(oa_id, action = action.as_str(), "sandbox Zalo OA changed");
            see_other(&href("/zalo", &[], lang))
        }
        Ok(false) => error_page(StatusCode::NOT_FOUND, lang, m.zalo_error_oa_missing),
        Err(err) => internal_error(lang, &err),
    }
}

/// `POST /zalo/apps/{id}/{reject|accept}`
async fn app_action(
    req: HttpRequest,
    state: web::Data<SandboxState>,
    path: web::Path<(String, String)>,
    form: web::Form<super::LangForm>,
) -> HttpResponse {
    let lang = lang_of_form(&form.lang);
    let m = SandboxMessages::for_lang(lang);
    if !same_origin(&req) {
        return error_page(StatusCode::FORBIDDEN, lang, m.error_bad_origin);
    }
    let (id, action) = path.into_inner();
    let Ok(app_id) = id.parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, lang, m.zalo_error_app_missing);
    };
    let rejected = match action.as_str() {
        "reject" => true,
        "accept" => false,
        _ => return error_page(StatusCode::NOT_FOUND, lang, m.error_not_found),
    };
    match state.store.zalo_set_secret_rejected(app_id, rejected).await {
        Ok(true) => {
            tracing::info!(app_id, rejected, "sandbox Zalo app secret switched");
            see_other(&href("/zalo", &[], lang))
        }
        Ok(false) => error_page(StatusCode::NOT_FOUND, lang, m.zalo_error_app_missing),
        Err(err) => internal_error(lang, &err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_gets_its_query_back_with_the_answer_added() {
        assert_eq!(
            back_to_app(
                "http://127.0.0.1:8080/zalo/callback?x=1",
                &[("code", "c+d"), ("oa_id", "7"), ("state", "42")]
            )
            .unwrap(),
            "http://127.0.0.1:8080/zalo/callback?x=1&code=c%2Bd&oa_id=7&state=42"
        );
    }

    #[test]
    fn times_are_shown_in_vietnam() {
        assert_eq!(vietnam_time(1_796_057_999), "30/11/2026 23:59");
    }
}
