//! `/admin/api-keys`: service API keys for the partner's other systems. A new key's
//! secret is shown once, on the page that answers its creation; the list shows each
//! key's name, the start of its secret, its scopes and when it was last used.

use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use crate::i18n::Messages;
use crate::services::service_keys::{self, CreateKeyError, Scope};
use crate::services::user_actor;
use crate::store::service_keys::{self as store_keys, ServiceKeyRow};
use crate::web::auth::redirect;
use crate::web::context::{html, AdminUser, Chrome, Ctx};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;
use crate::web::shops::Flash;
use crate::web::views::{format_time, FieldErrors, OutcomeQuery};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/api-keys", web::get().to(list))
        .route("/admin/api-keys", web::post().to(create))
        .route("/admin/api-keys/{id}/revoke", web::post().to(revoke));
}

pub struct KeyRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created: String,
    pub created_by: Option<String>,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

impl KeyRow {
    fn new(r: ServiceKeyRow) -> KeyRow {
        KeyRow {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.split(' ').map(str::to_owned).collect(),
            created: format_time(r.created_at),
            created_by: r.created_by_email,
            last_used: r.last_used_at.map(format_time),
            revoked: r.revoked_at.map(format_time),
        }
    }
}

pub struct ScopeOption {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

fn scope_options(m: &'static Messages, chosen: &[Scope]) -> Vec<ScopeOption> {
    Scope::ALL
        .iter()
        .map(|s| ScopeOption {
            value: s.as_str(),
            label: match s {
                Scope::ShopsRead => m.scope_shops_read,
                Scope::KeysRead => m.scope_keys_read,
                Scope::ConnectWrite => m.scope_connect_write,
            },
            checked: chosen.contains(s),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct ListPage {
    c: Chrome,
    m: &'static Messages,
    keys: Vec<KeyRow>,
    scopes: Vec<ScopeOption>,
    name: String,
    errors: FieldErrors,
    flash: Option<Flash>,
}

async fn list_page(
    ctx: &Ctx,
    name: String,
    chosen: &[Scope],
    errors: Vec<(&'static str, crate::i18n::MsgKey)>,
    flash: Option<Flash>,
) -> Result<ListPage, AppError> {
    let keys = store_keys::list(&ctx.state.services.db).await?;
    Ok(ListPage {
        c: ctx.chrome(ctx.m.admin_api_keys_title),
        m: ctx.m,
        keys: keys.into_iter().map(KeyRow::new).collect(),
        scopes: scope_options(ctx.m, chosen),
        name,
        errors: FieldErrors::new(ctx.m, &errors),
        flash,
    })
}

async fn list(
    ctx: Ctx,
    _admin: AdminUser,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let flash = match query.outcome.as_deref() {
        Some("revoked") => Some(Flash {
            kind: "success",
            text: ctx.m.flash_api_key_revoked.to_owned(),
        }),
        _ => None,
    };
    html(&list_page(&ctx, String::new(), &[Scope::ShopsRead], vec![], flash).await?)
}

#[derive(Template)]
#[template(path = "admin/api_key_created.html")]
struct CreatedPage {
    c: Chrome,
    m: &'static Messages,
    name: String,
    scopes: Vec<&'static str>,
    secret: String,
}

/// The form: `name`, and one `scope` field per ticked box.
async fn create(
    ctx: Ctx,
    admin: AdminUser,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let fields = form.0;
    let name = fields
        .iter()
        .find(|(k, _)| k == "name")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let scopes: Vec<Scope> = fields
        .iter()
        .filter(|(k, _)| k == "scope")
        .filter_map(|(_, v)| Scope::parse(v))
        .collect();
    match service_keys::create(&ctx.state.services, admin.0.id, &name, &scopes).await {
        Ok((_, secret)) => {
            let response = html(&CreatedPage {
                c: ctx.chrome(ctx.m.api_key_created_heading),
                m: ctx.m,
                name,
                scopes: Scope::ALL
                    .iter()
                    .filter(|s| scopes.contains(s))
                    .map(|s| s.as_str())
                    .collect(),
                secret,
            })?;
            // The secret is on this page only: never cached, never sent as a referrer.
            Ok(crate::web::context::private(response))
        }
        Err(CreateKeyError::Invalid(errors)) => {
            let page = list_page(&ctx, name, &scopes, errors, None).await?;
            Ok(HttpResponse::UnprocessableEntity()
                .content_type("text/html; charset=utf-8")
                .body(page.render()?))
        }
        Err(CreateKeyError::Service(e)) => Err(e.into()),
    }
}

async fn revoke(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    if store_keys::find(&ctx.state.services.db, id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    service_keys::revoke(&ctx.state.services, id, &user_actor(admin.0.id)).await?;
    Ok(redirect("/admin/api-keys?outcome=revoked"))
}
