//! `/admin/webhooks`: endpoints that hear about connection changes. Registering one shows
//! its signing secret once; an endpoint's page lists its deliveries (time, HTTP status,
//! latency, the first bytes of the answer) with a button to send one again, and pauses,
//! resumes or deletes the endpoint. An endpoint the worker paused is flagged.

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::i18n::Messages;
use crate::services::webhooks::{self as hooks, EndpointError, EndpointInput};
use crate::store::outbox::EVENT_TYPES;
use crate::store::webhooks::{self, DeliveryRow, EndpointRow};
use crate::web::auth::redirect;
use crate::web::context::{html, AdminUser, Chrome, Ctx};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;
use crate::web::shops::Flash;
use crate::web::views::{format_time, FieldErrors, OutcomeQuery};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/webhooks", web::get().to(list))
        .route("/admin/webhooks", web::post().to(create))
        .route("/admin/webhooks/{id}", web::get().to(detail))
        .route("/admin/webhooks/{id}/pause", web::post().to(pause))
        .route("/admin/webhooks/{id}/resume", web::post().to(resume))
        .route("/admin/webhooks/{id}/delete", web::post().to(delete))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/resend",
            web::post().to(resend),
        );
}

pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret_prefix: String,
    pub paused: bool,
    /// Why it is paused, in the reader's words.
    pub pause_reason: Option<String>,
    pub paused_at: Option<String>,
    pub pending: i64,
    pub delivered: i64,
    pub created: String,
    pub health: Health,
}

/// How the endpoint's recent deliveries went (its newest `RECENT` tried ones): an endpoint
/// whose every recent delivery fails is not "active" in green.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Some recent deliveries fail, some arrive.
    SomeFailing,
    /// Every recent delivery that was tried failed.
    Failing,
}

const RECENT: i64 = 10;

impl Health {
    fn of(delivered: i64, failing: i64) -> Health {
        match (delivered, failing) {
            (_, 0) => Health::Ok,
            (0, _) => Health::Failing,
            _ => Health::SomeFailing,
        }
    }
}

impl EndpointView {
    fn new(r: EndpointRow, m: &'static Messages) -> EndpointView {
        EndpointView {
            id: r.id,
            url: r.url,
            description: r.description,
            events: r.event_types.split(' ').map(str::to_owned).collect(),
            secret_prefix: r.secret_prefix,
            paused: r.paused_at.is_some(),
            pause_reason: r.pause_reason.map(|reason| match reason.as_str() {
                "paused_by_admin" => m.webhook_paused_by_admin.to_owned(),
                _ => reason,
            }),
            paused_at: r.paused_at.map(format_time),
            pending: r.pending,
            delivered: r.delivered,
            created: format_time(r.created_at),
            health: Health::Ok,
        }
    }

    /// With its recent deliveries' outcome read.
    async fn with_health(mut self, db: &sqlx::SqlitePool) -> Result<EndpointView, AppError> {
        let (delivered, failing) = webhooks::recent_outcomes(db, self.id, RECENT).await?;
        self.health = Health::of(delivered, failing);
        Ok(self)
    }

    /// The status in words, and the badge's class: paused, failing, partly failing, active.
    pub fn status(&self, m: &'static Messages) -> (&'static str, &'static str) {
        match (self.paused, self.health) {
            (true, _) => (m.webhook_paused, "needs_reauth"),
            (false, Health::Failing) => (m.webhook_failing, "failed"),
            (false, Health::SomeFailing) => (m.webhook_some_failing, "needs_reauth"),
            (false, Health::Ok) => (m.webhook_active, "connected"),
        }
    }

    pub fn failing(&self) -> bool {
        !self.paused && self.health == Health::Failing
    }

    pub fn flag(&self, m: &'static Messages) -> String {
        Messages::fill(
            m.webhook_paused_flag,
            &[self.pause_reason.as_deref().unwrap_or("")],
        )
    }
}

pub struct EventOption {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn event_options(m: &'static Messages, chosen: &[String]) -> Vec<EventOption> {
    EVENT_TYPES
        .iter()
        .map(|t| EventOption {
            value: t,
            label: match *t {
                "connection.connected" => m.event_type_connected,
                "connection.needs_reauth" => m.event_type_needs_reauth,
                "connection.failed" => m.event_type_failed,
                "zalo_oa.connected" => m.event_type_oa_connected,
                "zalo_oa.disconnected" => m.event_type_oa_disconnected,
                "zalo_oa.quality_low" => m.event_type_oa_quality_low,
                "zalo_oa.expiring" => m.event_type_oa_expiring,
                "zalo_oa.expired" => m.event_type_oa_expired,
                _ => m.event_type_disconnected,
            },
            checked: chosen.iter().any(|c| c == t),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct ListPage {
    c: Chrome,
    m: &'static Messages,
    endpoints: Vec<EndpointView>,
    events: Vec<EventOption>,
    url: String,
    description: String,
    errors: FieldErrors,
    flash: Option<Flash>,
}

fn flash_for(m: &'static Messages, outcome: Option<&str>) -> Option<Flash> {
    let text = match outcome? {
        "paused" => m.flash_webhook_paused,
        "resumed" => m.flash_webhook_resumed,
        "deleted" => m.flash_webhook_deleted,
        "resent" => m.flash_delivery_resent,
        _ => return None,
    };
    Some(Flash {
        kind: "success",
        text: text.to_owned(),
    })
}

async fn list_page(
    ctx: &Ctx,
    input: &EndpointInput,
    errors: Vec<(&'static str, crate::i18n::MsgKey)>,
    flash: Option<Flash>,
) -> Result<ListPage, AppError> {
    let db = &ctx.state.services.db;
    let mut endpoints = Vec::new();
    for row in webhooks::list(db).await? {
        endpoints.push(EndpointView::new(row, ctx.m).with_health(db).await?);
    }
    Ok(ListPage {
        c: ctx.chrome(ctx.m.admin_webhooks_title),
        m: ctx.m,
        endpoints,
        events: event_options(ctx.m, &input.event_types),
        url: input.url.clone(),
        description: input.description.clone(),
        errors: FieldErrors::new(ctx.m, &errors),
        flash,
    })
}

async fn list(
    ctx: Ctx,
    _admin: AdminUser,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let all = EndpointInput {
        event_types: EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        ..Default::default()
    };
    let flash = flash_for(ctx.m, query.outcome.as_deref());
    html(&list_page(&ctx, &all, vec![], flash).await?)
}

#[derive(Template)]
#[template(path = "admin/webhook_created.html")]
struct CreatedPage {
    c: Chrome,
    m: &'static Messages,
    id: Uuid,
    url: String,
    secret: String,
}

/// The form: `url`, `description`, and one `event_type` field per ticked box.
async fn create(
    ctx: Ctx,
    admin: AdminUser,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let fields = form.0;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let input = EndpointInput {
        url: field("url"),
        description: field("description"),
        event_types: fields
            .iter()
            .filter(|(k, _)| k == "event_type")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    match hooks::create_endpoint(&ctx.state.services, admin.0.id, &input).await {
        Ok((id, secret)) => {
            let response = html(&CreatedPage {
                c: ctx.chrome(ctx.m.webhook_created_heading),
                m: ctx.m,
                id,
                url: input.url,
                secret,
            })?;
            Ok(crate::web::context::private(response))
        }
        Err(EndpointError::Invalid(errors)) => {
            let page = list_page(&ctx, &input, errors, None).await?;
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Err(EndpointError::Service(e)) => Err(e.into()),
    }
}

pub struct DeliveryView {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub shop_id: Uuid,
    pub shop_name: String,
    pub delivered: bool,
    pub attempts: i64,
    pub time: String,
    pub next_attempt: Option<String>,
    pub status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub excerpt: Option<String>,
    pub answered: bool,
    /// Every attempt, newest first.
    pub history: Vec<AttemptView>,
}

pub struct AttemptView {
    pub at: String,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub excerpt: String,
}

/// An attempt's excerpt as shown: the answer's first characters, or, for an attempt the
/// worker refused to send (no answer, so never the receiver's own words), the reason.
fn excerpt_text(m: &'static Messages, status: Option<i64>, excerpt: String) -> String {
    match excerpt.strip_prefix(hooks::REFUSED_EXCERPT_PREFIX) {
        Some(address) if status.is_none() => Messages::fill(m.delivery_address_refused, &[address]),
        _ => excerpt,
    }
}

impl DeliveryView {
    fn new(r: DeliveryRow, m: &'static Messages) -> DeliveryView {
        let delivered = r.state == "delivered";
        DeliveryView {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            shop_id: r.shop_id,
            shop_name: r.shop_name.unwrap_or_default(),
            delivered,
            attempts: r.attempts,
            time: format_time(r.last_at.unwrap_or(r.created_at)),
            next_attempt: (!delivered && r.attempts > 0).then(|| format_time(r.next_attempt_at)),
            status: r.last_status,
            latency_ms: r.last_latency_ms,
            excerpt: r
                .last_excerpt
                .filter(|e| !e.is_empty())
                .map(|e| excerpt_text(m, r.last_status, e)),
            answered: r.last_at.is_some(),
            history: Vec::new(),
        }
    }

    pub fn next_label(&self, m: &'static Messages) -> String {
        Messages::fill(
            m.delivery_next_attempt,
            &[self.next_attempt.as_deref().unwrap_or("")],
        )
    }
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct DetailPage {
    c: Chrome,
    m: &'static Messages,
    endpoint: EndpointView,
    deliveries: Vec<DeliveryView>,
    flash: Option<Flash>,
}

async fn detail(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.services.db;
    let id = path.into_inner();
    let row = webhooks::find(db, id).await?.ok_or(AppError::NotFound)?;
    let mut deliveries: Vec<DeliveryView> = webhooks::deliveries(db, id, 100)
        .await?
        .into_iter()
        .map(|r| DeliveryView::new(r, ctx.m))
        .collect();
    for a in webhooks::attempts(db, id, 1_000).await? {
        if let Some(d) = deliveries.iter_mut().find(|d| d.id == a.delivery_id) {
            d.history.push(AttemptView {
                at: format_time(a.at),
                status: a.status_code,
                latency_ms: a.latency_ms,
                excerpt: excerpt_text(ctx.m, a.status_code, a.excerpt.unwrap_or_default()),
            });
        }
    }
    html(&DetailPage {
        c: ctx.chrome(ctx.m.webhook_title),
        m: ctx.m,
        endpoint: EndpointView::new(row, ctx.m).with_health(db).await?,
        deliveries,
        flash: flash_for(ctx.m, query.outcome.as_deref()),
    })
}

async fn pause(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    webhooks::find(&ctx.state.services.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    hooks::pause(&ctx.state.services, id).await?;
    Ok(redirect(&format!("/admin/webhooks/{id}?outcome=paused")))
}

async fn resume(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    webhooks::find(&ctx.state.services.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    hooks::resume(&ctx.state.services, id).await?;
    Ok(redirect(&format!("/admin/webhooks/{id}?outcome=resumed")))
}

async fn delete(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    if !hooks::delete(&ctx.state.services, path.into_inner()).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/admin/webhooks?outcome=deleted"))
}

async fn resend(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<(Uuid, i64)>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let (id, delivery) = path.into_inner();
    if !hooks::resend(&ctx.state.services, id, delivery).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect(&format!("/admin/webhooks/{id}?outcome=resent")))
}
