//! `/admin/users`: owners and admins with their shop counts; creating a user; one user's
//! page with disable / enable, password reset and their live sessions.
//!
//! Disabling a user and resetting their password end their sessions in the same
//! transaction, so a stolen or shared session stops working at once. Destructive actions
//! go through a confirmation page (disable, end sessions) or a required checkbox (password
//! reset): no JavaScript needed.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::UserRole;
use crate::i18n::{Messages, MsgKey};
use crate::password;
use crate::services::accounts::{self, CreateUserError};
use crate::store::users::UserListRow;
use crate::store::{self, sessions, users};
use crate::web::auth::redirect;
use crate::web::context::{html, AdminUser, Chrome, Ctx, ADMIN_IDLE_MS, OWNER_IDLE_MS};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;
use crate::web::shops::Flash;
use crate::web::views::{format_time, FieldErrors, OutcomeQuery};

pub const PAGE_SIZE: i64 = 100;
const NAME_MAX_CHARS: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/users", web::get().to(list))
        .route("/admin/users", web::post().to(create))
        .route("/admin/users/new", web::get().to(new_form))
        .route("/admin/users/{id}", web::get().to(detail))
        .route("/admin/users/{id}/disable", web::get().to(disable_confirm))
        .route("/admin/users/{id}/disable", web::post().to(disable))
        .route("/admin/users/{id}/enable", web::post().to(enable))
        .route("/admin/users/{id}/password", web::post().to(reset_password))
        .route(
            "/admin/users/{id}/sessions/end",
            web::get().to(end_sessions_confirm),
        )
        .route(
            "/admin/users/{id}/sessions/end",
            web::post().to(end_sessions),
        );
}

/// A user as the pages show them.
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub disabled_since: Option<String>,
    pub created: String,
    pub shops: i64,
    pub is_self: bool,
}

impl UserView {
    fn new(row: UserListRow, me: Uuid, m: &'static Messages) -> UserView {
        UserView {
            is_self: row.id == me,
            id: row.id,
            email: row.email,
            name: row.name,
            role_label: role_label(&row.role, m),
            is_admin: row.role == UserRole::Admin.as_str(),
            disabled_since: row.disabled_at.map(format_time),
            created: format_time(row.created_at),
            shops: row.shops,
        }
    }

    pub fn status_label(&self, m: &'static Messages) -> &'static str {
        if self.disabled_since.is_some() {
            m.user_status_disabled
        } else {
            m.user_status_active
        }
    }

    pub fn disabled_text(&self, m: &'static Messages) -> Option<String> {
        self.disabled_since
            .as_deref()
            .map(|t| Messages::fill(m.user_disabled_since, &[t]))
    }

    /// The badge colour: the shop-state classes of the stylesheet.
    pub fn status_class(&self) -> &'static str {
        if self.disabled_since.is_some() {
            "failed"
        } else {
            "connected"
        }
    }
}

fn role_label(role: &str, m: &'static Messages) -> &'static str {
    match UserRole::parse(role) {
        Ok(UserRole::Admin) => m.role_admin,
        Ok(UserRole::Owner) => m.role_owner,
        Err(_) => "?",
    }
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn find_user(ctx: &Ctx, id: Uuid, me: Uuid) -> Result<UserView, AppError> {
    let row = users::find_with_shops(&ctx.state.services.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(UserView::new(row, me, ctx.m))
}

// ---- The list ----

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    c: Chrome,
    m: &'static Messages,
    q: String,
    rows: Vec<UserView>,
    next_url: Option<String>,
    first_url: Option<String>,
}

async fn list(
    ctx: Ctx,
    admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 100 || q.chars().any(char::is_control)) {
        return Err(AppError::BadRequest(MsgKey::error_search_invalid));
    }
    let after = query.after.as_deref().filter(|a| !a.is_empty());
    let rows = users::list_page(&ctx.state.services.db, q, after, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    let rows: Vec<UserView> = rows
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|r| UserView::new(r, admin.0.id, ctx.m))
        .collect();
    let url = |after: Option<&str>| {
        let mut pairs = Vec::new();
        if let Some(q) = q {
            pairs.push(("q", q));
        }
        if let Some(a) = after {
            pairs.push(("after", a));
        }
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        if query.is_empty() {
            "/admin/users".to_owned()
        } else {
            format!("/admin/users?{query}")
        }
    };
    let next_url = if more {
        rows.last().map(|r| url(Some(&r.email)))
    } else {
        None
    };
    let first_url = after.map(|_| url(None));
    html(&ListPage {
        c: ctx.chrome(ctx.m.admin_users_title),
        m: ctx.m,
        q: q.unwrap_or("").to_owned(),
        rows,
        next_url,
        first_url,
    })
    .map(no_store)
}

// ---- Creating a user ----

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
struct NewPage {
    c: Chrome,
    m: &'static Messages,
    email: String,
    name: String,
    role_is_admin: bool,
    errors: FieldErrors,
}

async fn new_form(ctx: Ctx, _admin: AdminUser) -> Result<HttpResponse, AppError> {
    html(&NewPage {
        c: ctx.chrome(ctx.m.users_new_title),
        m: ctx.m,
        email: String::new(),
        name: String::new(),
        role_is_admin: false,
        errors: FieldErrors::default(),
    })
}

async fn create(
    ctx: Ctx,
    admin: AdminUser,
    form: CsrfForm<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.0;
    let mut errors: Vec<(&'static str, MsgKey)> = Vec::new();
    let role = match UserRole::parse(form.role.trim()) {
        Ok(role) => Some(role),
        Err(e) => {
            errors.push(("role", e.into()));
            None
        }
    };
    if form.name.trim().chars().count() > NAME_MAX_CHARS {
        errors.push(("name", MsgKey::error_user_name_too_long));
    }
    if let Err(problem) = password::check_strength(&form.password) {
        errors.push(("password", problem.msg_key()));
    }
    if errors.is_empty() {
        let role = role.unwrap_or(UserRole::Owner);
        match accounts::create_user(
            &ctx.state.services.db,
            &ctx.state.services.passwords,
            &form.email,
            &form.name,
            role,
            &form.password,
        )
        .await
        {
            Ok(id) => {
                tracing::info!(admin = %admin.0.id, user = %id, role = role.as_str(), "user created");
                return Ok(redirect(&format!("/admin/users/{id}?outcome=created")));
            }
            Err(CreateUserError::EmailTaken) => errors.push(("email", MsgKey::error_email_taken)),
            Err(CreateUserError::WeakPassword(problem)) => {
                errors.push(("password", problem.msg_key()))
            }
            Err(CreateUserError::BadEmail(e)) => errors.push(("email", e.into())),
            Err(CreateUserError::Other(e)) => return Err(AppError::Internal(format!("{e:#}"))),
        }
    } else if let Err(e) = crate::domain::Email::parse(&form.email) {
        // Report every field at once, not one per round trip.
        errors.push(("email", e.into()));
    }
    let page = NewPage {
        c: ctx.chrome(ctx.m.users_new_title),
        m: ctx.m,
        email: form.email,
        name: form.name,
        role_is_admin: role == Some(UserRole::Admin),
        errors: FieldErrors::new(ctx.m, &errors),
    };
    Ok(HttpResponse::UnprocessableEntity()
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

// ---- One user ----

pub struct SessionView {
    pub created: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct DetailPage {
    c: Chrome,
    m: &'static Messages,
    user: UserView,
    sessions: Vec<SessionView>,
    flash: Option<Flash>,
    password_error: Option<&'static str>,
}

async fn detail_page(
    ctx: &Ctx,
    admin: &AdminUser,
    id: Uuid,
    flash: Option<Flash>,
    password_error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let user = find_user(ctx, id, admin.0.id).await?;
    let now = store::now_ms();
    let idle = if user.is_admin {
        ADMIN_IDLE_MS
    } else {
        OWNER_IDLE_MS
    };
    let sessions = sessions::live_for_user(&ctx.state.services.db, id, now, now - idle)
        .await?
        .into_iter()
        .map(|s| SessionView {
            created: format_time(s.created_at),
            last_seen: format_time(s.last_seen_at),
            current: s.id_hash == admin.0.session_hash,
        })
        .collect();
    let page = DetailPage {
        c: ctx.chrome(ctx.m.user_title),
        m: ctx.m,
        user,
        sessions,
        flash,
        password_error,
    };
    let status = if password_error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(no_store(
        HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(page.render()?),
    ))
}

async fn detail(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let m = ctx.m;
    let flash = query.outcome.as_deref().and_then(|o| {
        let text = match o {
            "created" => m.flash_user_created,
            "disabled" => m.flash_user_disabled,
            "enabled" => m.flash_user_enabled,
            "password" => m.flash_password_reset,
            "sessions_ended" => m.flash_sessions_ended,
            _ => return None,
        };
        Some(Flash {
            kind: "success",
            text: text.to_owned(),
        })
    });
    detail_page(&ctx, &admin, path.into_inner(), flash, None).await
}

// ---- Confirmation pages ----

#[derive(Template)]
#[template(path = "admin/user_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    m: &'static Messages,
    user: UserView,
    title: &'static str,
    warning: &'static str,
    action: String,
    button: &'static str,
}

async fn disable_confirm(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let user = find_user(&ctx, path.into_inner(), admin.0.id).await?;
    if user.is_self {
        return Err(AppError::BadRequest(MsgKey::error_cannot_disable_self));
    }
    let m = ctx.m;
    html(&ConfirmPage {
        c: ctx.chrome(m.user_disable_title),
        m,
        action: format!("/admin/users/{}/disable", user.id),
        user,
        title: m.user_disable_title,
        warning: m.user_disable_warning,
        button: m.user_disable_confirm,
    })
}

async fn end_sessions_confirm(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let user = find_user(&ctx, path.into_inner(), admin.0.id).await?;
    let m = ctx.m;
    html(&ConfirmPage {
        c: ctx.chrome(m.user_end_sessions_title),
        m,
        action: format!("/admin/users/{}/sessions/end", user.id),
        user,
        title: m.user_end_sessions_title,
        warning: m.user_end_sessions_warning,
        button: m.user_end_sessions_confirm,
    })
}

// ---- Actions ----

/// The acting admin's own session survives what they do to their own account.
fn keep_for(admin: &AdminUser, user: Uuid) -> Option<&str> {
    (admin.0.id == user).then_some(admin.0.session_hash.as_str())
}

async fn disable(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    if id == admin.0.id {
        return Err(AppError::BadRequest(MsgKey::error_cannot_disable_self));
    }
    let ended = accounts::disable(&ctx.state.services, id)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(admin = %admin.0.id, user = %id, sessions_ended = ended, "user disabled");
    Ok(redirect(&format!("/admin/users/{id}?outcome=disabled")))
}

async fn enable(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    if !accounts::enable(&ctx.state.services, id).await? {
        return Err(AppError::NotFound);
    }
    tracing::info!(admin = %admin.0.id, user = %id, "user enabled");
    Ok(redirect(&format!("/admin/users/{id}?outcome=enabled")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    password: String,
    confirm: Option<String>,
}

async fn reset_password(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    form: CsrfForm<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let form = form.0;
    let problem = match password::check_strength(&form.password) {
        Err(problem) => Some(problem.msg_key()),
        Ok(()) if form.confirm.as_deref() != Some("yes") => Some(MsgKey::error_confirm_required),
        Ok(()) => None,
    };
    if let Some(key) = problem {
        return detail_page(&ctx, &admin, id, None, Some(ctx.m.text(key))).await;
    }
    let ended =
        accounts::reset_password(&ctx.state.services, id, form.password, keep_for(&admin, id))
            .await?
            .ok_or(AppError::NotFound)?;
    tracing::info!(admin = %admin.0.id, user = %id, sessions_ended = ended, "password reset");
    Ok(redirect(&format!("/admin/users/{id}?outcome=password")))
}

async fn end_sessions(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let ended = accounts::end_sessions(&ctx.state.services, id, keep_for(&admin, id))
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(admin = %admin.0.id, user = %id, sessions_ended = ended, "sessions ended");
    Ok(redirect(&format!(
        "/admin/users/{id}?outcome=sessions_ended"
    )))
}
