//! The owner's Zalo OA step (issue 12): step ② on the shop page (the OA cards, the
//! checklist, the button, the shop's own app), Zalo's callback, "Gia hạn", and
//! "Gửi tin thử". Every lookup is scoped to the logged-in owner's shop: another owner's
//! shop or OA answers 404.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::auth::redirect;
use super::context::{html_no_store, Chrome, Ctx, CurrentUser};
use super::csrf::{CsrfForm, NoFields};
use super::error::AppError;
use super::views::Moment;
use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::its::{DeliveryStatus, ZnsMessage, ZnsTemplate};
use crate::services::zalo_oa::{
    self, AppFormError, AppSource, Connected, FieldProblem, OaError, OaFailure, SendOutcome,
    StartOutcome,
};
use crate::services::{user_actor, ServiceError};
use crate::store::zalo_oas::{self, OaEventKind, OaEventRow, StoredOa};
use crate::store::{self, shops, zalo_apps};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/zalo/callback", web::get().to(callback))
        .route("/shops/{id}/zalo/connect", web::post().to(connect))
        .route("/shops/{id}/zalo/app", web::post().to(save_app))
        .route("/shops/{id}/zalo/app/remove", web::post().to(remove_app))
        .route("/shops/{id}/zalo/oas/{oa_id}/renew", web::post().to(renew))
        .route(
            "/shops/{id}/zalo/oas/{oa_id}/test",
            web::get().to(test_form),
        )
        .route(
            "/shops/{id}/zalo/oas/{oa_id}/test",
            web::post().to(send_test),
        );
}

// ---------------------------------------------------------------------------------------
// Words for failures: one match, each failure its message and its next step
// ---------------------------------------------------------------------------------------

/// What the owner reads about a failure and what to do next.
pub fn failure_texts(failure: OaFailure, m: &'static Messages) -> (&'static str, &'static str) {
    match failure {
        OaFailure::NoApp => (m.oa_fail_no_app, m.oa_next_no_app),
        OaFailure::AppUnreadable => (m.oa_fail_app_unreadable, m.oa_next_app_unreadable),
        OaFailure::ShopNotConnected => (m.oa_fail_shop_not_connected, m.oa_next_shop_not_connected),
        OaFailure::KeyRejected => (m.oa_fail_key_rejected, m.oa_next_key_rejected),
        OaFailure::AppRefused => (m.oa_fail_app_refused, m.oa_next_app_refused),
        OaFailure::HostRefused => (m.oa_fail_host_refused, m.oa_next_host_refused),
        OaFailure::ItsDown => (m.oa_fail_its_down, m.oa_next_its_down),
        OaFailure::ItsBadAnswer => (m.oa_fail_its_bad_answer, m.oa_next_its_bad_answer),
        OaFailure::Denied => (m.oa_fail_denied, m.oa_next_denied),
        OaFailure::CallbackMalformed => {
            (m.oa_fail_callback_malformed, m.oa_next_callback_malformed)
        }
        OaFailure::StateUnknown => (m.oa_fail_state_unknown, m.oa_next_start_again),
        OaFailure::StateUsed => (m.oa_fail_state_used, m.oa_next_start_again),
        OaFailure::StateExpired => (m.oa_fail_state_expired, m.oa_next_start_again),
        OaFailure::StateForeign => (m.oa_fail_state_foreign, m.oa_next_start_again),
        OaFailure::CodeReused => (m.oa_fail_code_reused, m.oa_next_start_again),
        OaFailure::RenewOtherOa => (m.oa_fail_renew_other_oa, m.oa_next_renew_other_oa),
        OaFailure::OaOfAnotherShop => (m.oa_fail_oa_of_another_shop, m.oa_next_oa_of_another_shop),
        OaFailure::ConnectRefused => (m.oa_fail_connect_refused, m.oa_next_connect_refused),
        OaFailure::NoPackage => (m.oa_fail_no_package, m.oa_next_no_package),
        OaFailure::OaNotFound => (m.oa_fail_oa_not_found, m.oa_next_oa_not_found),
        OaFailure::RenewNotDue => (m.oa_fail_renew_not_due, m.oa_next_renew_not_due),
        OaFailure::QuotaExhausted => (m.oa_fail_quota_exhausted, m.oa_next_quota_exhausted),
        OaFailure::OaDisconnected => (m.oa_fail_oa_disconnected, m.oa_next_oa_disconnected),
        OaFailure::OaExpired => (m.oa_fail_oa_expired, m.oa_next_oa_expired),
        OaFailure::TemplateUnavailable => (
            m.oa_fail_template_unavailable,
            m.oa_next_template_unavailable,
        ),
        OaFailure::SendRefused => (m.oa_fail_send_refused, m.oa_next_send_refused),
        OaFailure::SendFailed => (m.oa_fail_send_failed, m.oa_next_send_failed),
        OaFailure::ItsRefused => (m.oa_fail_its_refused, m.oa_next_its_refused),
    }
}

/// A failure as a page shows it.
pub struct FailureView {
    pub text: &'static str,
    pub next_step: &'static str,
    /// Only the provider's own words.
    pub provider_msg: Option<String>,
}

impl FailureView {
    pub fn new(error: &OaError, m: &'static Messages) -> FailureView {
        let (text, next_step) = failure_texts(error.failure, m);
        FailureView {
            text,
            next_step,
            provider_msg: error.provider_msg.clone(),
        }
    }
}

pub fn event_label(kind: &str, m: &'static Messages) -> &'static str {
    match OaEventKind::parse(kind) {
        Some(OaEventKind::Connected) => m.oa_event_connected,
        Some(OaEventKind::Renewed) => m.oa_event_renewed,
        Some(OaEventKind::ConnectFailed) => m.oa_event_connect_failed,
        Some(OaEventKind::Disconnected) => m.oa_event_disconnected,
        Some(OaEventKind::StatusChanged) => m.oa_event_status_changed,
        Some(OaEventKind::QualityLow) => m.oa_event_quality_low,
        Some(OaEventKind::Expiring) => m.oa_event_expiring,
        Some(OaEventKind::Expired) => m.oa_event_expired,
        Some(OaEventKind::TestSent) => m.oa_event_test_sent,
        Some(OaEventKind::TestFailed) => m.oa_event_test_failed,
        None => m.reason_unknown,
    }
}

// ---------------------------------------------------------------------------------------
// The OA card
// ---------------------------------------------------------------------------------------

/// One OA as its card shows it (templates/partials/zalo_oa_card.html; the admin side may
/// include the partial with `can_act` false).
pub struct OaCardView {
    pub shop_id: Uuid,
    pub oa_id: String,
    pub name: String,
    /// The provider's avatar is not shown: the CSP allows images from this app only.
    pub initials: String,
    pub verified: bool,
    pub status_text: String,
    pub status_class: &'static str,
    pub daily_quota: i64,
    pub used: i64,
    pub left: i64,
    pub quota_text: String,
    pub quota_empty: bool,
    pub q48_text: &'static str,
    pub q48_class: &'static str,
    pub q7_text: &'static str,
    pub q7_class: &'static str,
    pub low: bool,
    pub expiry_text: &'static str,
    pub expiry_value: String,
    pub expired: bool,
    pub can_renew: bool,
    pub can_test: bool,
    /// Whether the viewer may press the card's buttons (the owner; not an admin's view).
    pub can_act: bool,
}

fn quality(q: &str, m: &'static Messages) -> (&'static str, &'static str) {
    match q {
        "HIGH" => (m.oa_quality_high, "quality-high"),
        "MEDIUM" => (m.oa_quality_medium, "quality-medium"),
        "LOW" => (m.oa_quality_low, "quality-low"),
        "UNDEFINED" => (m.oa_quality_undefined, "quality-none"),
        _ => (m.oa_quality_unknown, "quality-none"),
    }
}

fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect();
    if letters.is_empty() {
        "OA".to_owned()
    } else {
        letters.to_uppercase()
    }
}

impl OaCardView {
    pub fn new(oa: &StoredOa, now: i64, can_act: bool, m: &'static Messages) -> OaCardView {
        let (status_text, status_class) = match oa.status.as_str() {
            "P" => (m.oa_status_connected.to_owned(), "connected"),
            "N" => (m.oa_status_disconnected.to_owned(), "disconnected"),
            "Z" => (m.oa_status_new.to_owned(), "pending"),
            other => (Messages::fill(m.oa_status_other, &[other]), "failed"),
        };
        let left = oa.remaining_quota.clamp(0, oa.daily_quota.max(0));
        let used = (oa.daily_quota - left).max(0);
        let (q48_text, q48_class) = quality(&oa.current_quality, m);
        let (q7_text, q7_class) = quality(&oa.last_week_quality, m);
        let day = 86_400_000;
        let (expiry_text, expiry_value, expired) = match oa.expires_at {
            None => (m.oa_expiry_unknown, String::new(), false),
            Some(at) if at <= now => (m.oa_expiry_expired, String::new(), true),
            Some(at) if at - now < day => (m.oa_expiry_today, String::new(), false),
            Some(at) => (m.oa_expiry_days_left, ((at - now) / day).to_string(), false),
        };
        OaCardView {
            shop_id: oa.shop_id,
            oa_id: oa.oa_id.clone(),
            name: oa.name.clone(),
            initials: initials(&oa.name),
            verified: oa.is_verified,
            status_text,
            status_class,
            daily_quota: oa.daily_quota.max(0),
            used,
            left,
            quota_text: Messages::fill(
                m.oa_quota_text,
                &[
                    &used.to_string(),
                    &left.to_string(),
                    &oa.daily_quota.max(0).to_string(),
                ],
            ),
            quota_empty: oa.daily_quota > 0 && left == 0,
            q48_text,
            q48_class,
            q7_text,
            q7_class,
            low: oa.current_quality == "LOW" || oa.last_week_quality == "LOW",
            expiry_text,
            expiry_value,
            expired,
            can_renew: zalo_oa::renewal_due(oa, now),
            can_test: oa.status == "P" && !expired,
            can_act,
        }
    }

    /// "còn 83 ngày", or the words alone when there is no number.
    pub fn expiry(&self) -> String {
        if self.expiry_value.is_empty() {
            self.expiry_text.to_owned()
        } else {
            Messages::fill(self.expiry_text, &[&self.expiry_value])
        }
    }
}

pub struct OaEventView {
    pub at: Moment,
    pub what: &'static str,
    pub oa_id: Option<String>,
    /// Only the provider's words (after ': ' in the stored reason); codes stay in the log.
    pub provider_text: Option<String>,
}

impl OaEventView {
    fn new(row: &OaEventRow, now: i64, m: &'static Messages) -> OaEventView {
        let provider_text = match OaEventKind::parse(&row.kind) {
            Some(OaEventKind::ConnectFailed | OaEventKind::TestFailed) => row
                .reason
                .as_deref()
                .and_then(|r| r.split_once(": "))
                .map(|(_, words)| words.to_owned()),
            _ => None,
        };
        OaEventView {
            at: Moment::new(row.at, now, m),
            what: event_label(&row.kind, m),
            oa_id: row.oa_id.clone(),
            provider_text,
        }
    }
}

/// Step ② of the shop page.
pub struct ZaloStep {
    pub shop_id: Uuid,
    /// The ITS link needs re-auth: the OA step waits for it.
    pub waiting_reauth: bool,
    pub oas: Vec<OaCardView>,
    pub own_app_id: Option<String>,
    /// Which app the shop connects with, in words.
    pub app_text: String,
    pub callback_url: String,
    pub flash: Option<ZaloFlash>,
    pub events: Vec<OaEventView>,
}

/// The outcome shown at the top of step ②: a success's words or a failure.
pub struct ZaloFlash {
    pub success: Option<&'static str>,
    pub failure: Option<FailureView>,
}

impl ZaloFlash {
    fn success(text: &'static str) -> ZaloFlash {
        ZaloFlash {
            success: Some(text),
            failure: None,
        }
    }
}

/// `?oa=<outcome>` on the shop page, after a redirect from our own handlers.
#[derive(Deserialize, Default)]
pub struct OaOutcomeQuery {
    pub oa: Option<String>,
}

/// Step ② for a shop that is connected to ITS (or waits for a re-login); None otherwise.
pub async fn step_for(
    ctx: &Ctx,
    shop: &shops::ShopRow,
    outcome: Option<&str>,
) -> Result<Option<ZaloStep>, AppError> {
    let waiting_reauth = match shop.state() {
        ConnectionState::Connected => false,
        ConnectionState::NeedsReauth => true,
        _ => return Ok(None),
    };
    let svc = &ctx.state.services;
    let m = ctx.m;
    let now = store::now_ms();
    let oas = zalo_oas::for_shop(&svc.db, shop.id)
        .await?
        .iter()
        .map(|oa| OaCardView::new(oa, now, !waiting_reauth, m))
        .collect();
    let events = zalo_oas::events_for_shop(&svc.db, shop.id, 20)
        .await?
        .iter()
        .map(|e| OaEventView::new(e, now, m))
        .collect();
    let own_app_id = zalo_apps::for_shop(&svc.db, shop.id)
        .await?
        .map(|row| row.app_id);
    let flash = match outcome {
        None => None,
        Some("connected") => Some(ZaloFlash::success(m.flash_oa_connected)),
        Some("renewed") => Some(ZaloFlash::success(m.flash_oa_renewed)),
        Some("app_saved") => Some(ZaloFlash::success(m.flash_oa_app_saved)),
        Some("app_removed") => Some(ZaloFlash::success(m.flash_oa_app_removed)),
        Some(code) => match OaFailure::parse(code) {
            Some(failure) => {
                // The provider's words of the newest failure, if it was this one.
                let provider_msg = zalo_oas::events_for_shop(&svc.db, shop.id, 1)
                    .await?
                    .into_iter()
                    .next()
                    .and_then(|e| e.reason)
                    .and_then(|r| {
                        r.split_once(": ")
                            .filter(|(c, _)| *c == failure.code())
                            .map(|(_, w)| w.to_owned())
                    });
                Some(ZaloFlash {
                    success: None,
                    failure: Some(FailureView::new(
                        &OaError {
                            failure,
                            provider_msg,
                        },
                        m,
                    )),
                })
            }
            None => None,
        },
    };
    let app_text = match &own_app_id {
        Some(id) => Messages::fill(m.oa_app_using_own, &[id]),
        None => m.oa_app_using_partner.to_owned(),
    };
    Ok(Some(ZaloStep {
        shop_id: shop.id,
        waiting_reauth,
        oas,
        app_text,
        own_app_id,
        callback_url: zalo_oa::callback_url(svc),
        flash,
        events,
    }))
}

fn back_to_shop(shop_id: Uuid, outcome: &str) -> HttpResponse {
    redirect(&format!("/shops/{shop_id}?oa={outcome}#zalo-oa"))
}

// ---------------------------------------------------------------------------------------
// Buttons
// ---------------------------------------------------------------------------------------

async fn go(
    ctx: &Ctx,
    user: &CurrentUser,
    shop_id: Uuid,
    renew: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let outcome = zalo_oa::start(
        &ctx.state.services,
        user.0.id,
        &user.0.session_hash,
        shop_id,
        renew,
        &user_actor(user.0.id),
    )
    .await?;
    Ok(match outcome {
        StartOutcome::GoToZalo { url } => redirect(&url),
        StartOutcome::Failed(error) => back_to_shop(shop_id, error.failure.code()),
    })
}

/// "Kết nối Zalo OA".
pub async fn connect(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    go(&ctx, &user, path.into_inner(), None).await
}

/// "Gia hạn".
pub async fn renew(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<(Uuid, String)>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, oa_id) = path.into_inner();
    go(&ctx, &user, shop_id, Some(&oa_id)).await
}

#[derive(Deserialize)]
pub struct AppForm {
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    app_secret: String,
}

/// "Dùng ứng dụng Zalo riêng": saves the shop's own app (the secret sealed).
pub async fn save_app(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    form: CsrfForm<AppForm>,
) -> Result<HttpResponse, AppError> {
    let shop_id = path.into_inner();
    let svc = &ctx.state.services;
    match zalo_oa::save_shop_app(svc, user.0.id, shop_id, &form.0.app_id, &form.0.app_secret)
        .await?
    {
        Ok(()) => Ok(back_to_shop(shop_id, "app_saved")),
        Err(errors) => {
            let m = ctx.m;
            let text = errors
                .iter()
                .map(|e| match e {
                    AppFormError::AppId => m.error_oa_app_id,
                    AppFormError::Secret => m.error_oa_app_secret,
                    AppFormError::FromEnvironment => m.error_oa_app_from_env,
                })
                .collect::<Vec<_>>()
                .join(" ");
            let page = MessagePage {
                c: ctx.chrome(m.oa_own_app_summary),
                m,
                heading: m.oa_own_app_summary,
                text,
                back: format!("/shops/{shop_id}#zalo-oa"),
            };
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
    }
}

pub async fn remove_app(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let shop_id = path.into_inner();
    zalo_oa::remove_shop_app(&ctx.state.services, user.0.id, shop_id).await?;
    Ok(back_to_shop(shop_id, "app_removed"))
}

#[derive(Template)]
#[template(path = "zalo/message.html")]
struct MessagePage {
    c: Chrome,
    m: &'static Messages,
    heading: &'static str,
    text: String,
    back: String,
}

// ---------------------------------------------------------------------------------------
// The callback
// ---------------------------------------------------------------------------------------

/// `GET /zalo/callback?code&oa_id&state` (or Zalo's `error=…` on "Từ chối").
pub async fn callback(ctx: Ctx, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let Some(query) = zalo_oa::parse_callback(req.query_string()) else {
        return Ok(super::context::private(failure_page(
            &ctx,
            &OaError {
                failure: OaFailure::CallbackMalformed,
                provider_msg: None,
            },
            None,
        )?));
    };
    let Some(user) = ctx.user.clone() else {
        // The session ended while the owner was on Zalo's page: log in, then come back.
        return Err(AppError::LoginRequired {
            next: format!("/zalo/callback?{}", req.query_string()),
        });
    };
    let done = zalo_oa::callback(
        &ctx.state.services,
        user.id,
        &user.session_hash,
        query,
        &user_actor(user.id),
    )
    .await?;
    let response = match (done.shop_id, done.result) {
        (Some(shop_id), Ok(connected)) => back_to_shop(shop_id, connected.code()),
        (Some(shop_id), Err(error)) => back_to_shop(shop_id, error.failure.code()),
        (None, Ok(Connected::Connected | Connected::Renewed)) => redirect("/shops"),
        (None, Err(error)) => failure_page(&ctx, &error, None)?,
    };
    Ok(super::context::private(response))
}

#[derive(Template)]
#[template(path = "zalo/failure.html")]
struct FailurePage {
    c: Chrome,
    m: &'static Messages,
    failure: FailureView,
    back: String,
}

fn failure_page(
    ctx: &Ctx,
    error: &OaError,
    back: Option<String>,
) -> Result<HttpResponse, AppError> {
    let page = FailurePage {
        c: ctx.chrome(ctx.m.oa_failed_heading),
        m: ctx.m,
        failure: FailureView::new(error, ctx.m),
        back: back.unwrap_or_else(|| "/shops".to_owned()),
    };
    Ok(HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

// ---------------------------------------------------------------------------------------
// "Gửi tin thử"
// ---------------------------------------------------------------------------------------

pub struct ParamField {
    pub name: String,
    pub field: String,
    pub required: bool,
    pub bounds: Option<String>,
    pub value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "zalo/test.html")]
struct TestPage {
    c: Chrome,
    m: &'static Messages,
    shop_id: Uuid,
    shop_name: String,
    oa: OaCardView,
    templates: Vec<(i64, String)>,
    chosen: Option<i64>,
    params: Vec<ParamField>,
    phone: String,
    phone_error: Option<&'static str>,
    failure: Option<FailureView>,
}

impl TestPage {
    fn is_chosen(&self, id: &i64) -> bool {
        self.chosen == Some(*id)
    }
}

#[derive(Deserialize, Default)]
pub struct TemplateQuery {
    template: Option<i64>,
}

fn param_fields(
    template: &ZnsTemplate,
    values: &BTreeMap<String, String>,
    problems: &[FieldProblem],
    m: &'static Messages,
) -> Vec<ParamField> {
    template
        .template_params
        .iter()
        .map(|p| {
            let error = problems.iter().find_map(|problem| match problem {
                FieldProblem::Required(n) if *n == p.name => Some(m.error_zns_required.to_owned()),
                FieldProblem::TooShort(n, min) if *n == p.name => {
                    Some(Messages::fill(m.error_zns_too_short, &[&min.to_string()]))
                }
                FieldProblem::TooLong(n, max) if *n == p.name => {
                    Some(Messages::fill(m.error_zns_too_long, &[&max.to_string()]))
                }
                _ => None,
            });
            let bounds = match (p.min_length, p.max_length) {
                (min, Some(max)) => Some(Messages::fill(
                    m.zns_test_length,
                    &[&min.unwrap_or(0).to_string(), &max.to_string()],
                )),
                _ => None,
            };
            ParamField {
                name: p.name.clone(),
                field: format!("p_{}", p.name),
                required: p.require && !p.accept_null,
                bounds,
                value: values.get(&p.name).cloned().unwrap_or_default(),
                error,
            }
        })
        .collect()
}

/// What the test form holds when the page is shown again.
#[derive(Default)]
struct TestForm {
    chosen: Option<i64>,
    values: BTreeMap<String, String>,
    phone: String,
    problems: Vec<FieldProblem>,
    failure: Option<FailureView>,
}

async fn test_page(
    ctx: &Ctx,
    user: &CurrentUser,
    shop_id: Uuid,
    oa_id: &str,
    form: TestForm,
) -> Result<HttpResponse, AppError> {
    let TestForm {
        chosen,
        values,
        phone,
        problems,
        failure,
    } = form;
    let (values, problems) = (&values, &problems[..]);
    let svc = &ctx.state.services;
    let m = ctx.m;
    let shop = shops::find_for_owner(&svc.db, shop_id, user.0.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let stored = zalo_oas::find(&svc.db, shop.id, oa_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let listed =
        zalo_oa::approved_templates(svc, user.0.id, shop.id, oa_id, &user_actor(user.0.id)).await;
    let (templates, failure) = match listed {
        Ok(Ok((_, templates))) => (templates, failure),
        Ok(Err(error)) => (
            Vec::new(),
            failure.or_else(|| Some(FailureView::new(&error, m))),
        ),
        Err(ServiceError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let chosen = chosen.or_else(|| (templates.len() == 1).then(|| templates[0].template_id));
    let params = chosen
        .and_then(|id| templates.iter().find(|t| t.template_id == id))
        .map(|t| param_fields(t, values, problems, m))
        .unwrap_or_default();
    let invalid = !problems.is_empty();
    let page = TestPage {
        c: ctx.chrome(m.zns_test_title),
        m,
        shop_id: shop.id,
        shop_name: shop.name,
        oa: OaCardView::new(&stored, store::now_ms(), false, m),
        templates: templates
            .iter()
            .map(|t| (t.template_id, t.template_name.clone()))
            .collect(),
        chosen,
        params,
        phone,
        phone_error: problems
            .contains(&FieldProblem::Phone)
            .then_some(m.error_zns_phone),
        failure,
    };
    html_no_store(&page, invalid)
}

/// `GET …/test[?template=…]`: the approved templates, and the chosen one's form.
pub async fn test_form(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<(Uuid, String)>,
    query: web::Query<TemplateQuery>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, oa_id) = path.into_inner();
    let form = TestForm {
        chosen: query.template,
        ..Default::default()
    };
    test_page(&ctx, &user, shop_id, &oa_id, form).await
}

#[derive(Template)]
#[template(path = "zalo/test_result.html")]
struct ResultPage {
    c: Chrome,
    m: &'static Messages,
    shop_id: Uuid,
    oa_id: String,
    message_id: String,
    delivery: &'static str,
}

/// `POST …/test`: checked against the template, sent in development mode.
pub async fn send_test(
    ctx: Ctx,
    user: CurrentUser,
    path: web::Path<(Uuid, String)>,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, oa_id) = path.into_inner();
    let m = ctx.m;
    // Another owner's shop or OA answers 404 whatever the form holds.
    let svc = &ctx.state.services;
    let shop = shops::find_for_owner(&svc.db, shop_id, user.0.id)
        .await?
        .ok_or(AppError::NotFound)?;
    zalo_oas::find(&svc.db, shop.id, &oa_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut template_id = None;
    let mut phone = String::new();
    let mut values = BTreeMap::new();
    for (k, v) in form.0 {
        match k.as_str() {
            "template" => template_id = v.trim().parse::<i64>().ok(),
            "phone" => phone = v,
            _ => {
                if let Some(name) = k.strip_prefix("p_") {
                    values.insert(name.to_owned(), v);
                }
            }
        }
    }
    let Some(template_id) = template_id else {
        return Err(AppError::BadRequest(
            crate::i18n::MsgKey::error_form_invalid,
        ));
    };
    let outcome = zalo_oa::send_test(
        &ctx.state.services,
        user.0.id,
        shop_id,
        &oa_id,
        template_id,
        &phone,
        &values,
        &user_actor(user.0.id),
    )
    .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(ServiceError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    match outcome {
        SendOutcome::Invalid(_, problems) => {
            let form = TestForm {
                chosen: Some(template_id),
                values,
                phone,
                problems,
                failure: None,
            };
            test_page(&ctx, &user, shop_id, &oa_id, form).await
        }
        SendOutcome::Failed(error) => {
            let form = TestForm {
                chosen: Some(template_id),
                values,
                phone,
                problems: Vec::new(),
                failure: Some(FailureView::new(&error, m)),
            };
            test_page(&ctx, &user, shop_id, &oa_id, form).await
        }
        SendOutcome::Sent(message) => result_page(&ctx, shop_id, &oa_id, &message),
    }
}

fn result_page(
    ctx: &Ctx,
    shop_id: Uuid,
    oa_id: &str,
    message: &ZnsMessage,
) -> Result<HttpResponse, AppError> {
    let m = ctx.m;
    let page = ResultPage {
        c: ctx.chrome(m.zns_result_sent_heading),
        m,
        shop_id,
        oa_id: oa_id.to_owned(),
        message_id: message
            .msg_id
            .clone()
            .or_else(|| message.id.clone())
            .unwrap_or_else(|| "—".to_owned()),
        delivery: match message.delivery_status {
            DeliveryStatus::Received => m.zns_delivery_received,
            DeliveryStatus::Seen => m.zns_delivery_seen,
            DeliveryStatus::Unknown => m.zns_delivery_unknown,
        },
    };
    html_no_store(&page, false)
}

/// What the settings page shows of the partner's app.
pub struct PartnerAppSection {
    pub app_id: Option<String>,
    pub from_env: bool,
    pub from_sandbox: bool,
    pub saved: bool,
    pub callback_url: String,
}

pub async fn partner_app_section(ctx: &Ctx) -> Result<PartnerAppSection, AppError> {
    let svc = &ctx.state.services;
    let view = zalo_oa::partner_app_view(svc).await?;
    Ok(PartnerAppSection {
        app_id: view.app_id,
        from_env: view.source == Some(AppSource::Environment),
        from_sandbox: view.source == Some(AppSource::Sandbox),
        saved: view.source == Some(AppSource::Saved),
        callback_url: zalo_oa::callback_url(svc),
    })
}
