//! The web layer: routes, extractors, pages. Handlers are grouped by audience; templates
//! under `templates/` mirror them.

pub mod admin;
pub mod api;
mod assets;
pub mod auth;
pub mod body_guard;
mod callback;
mod connect_links;
pub mod context;
pub mod csrf;
pub mod error;
pub mod shops;
pub mod views;
pub mod zalo;

/// The largest request body accepted anywhere (forms are far smaller).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

use actix_web::{web, HttpResponse};

use crate::services::Services;
use context::{Ctx, CurrentUser};
use error::AppError;

/// Shared by every handler.
pub struct AppState {
    pub services: Services,
    /// Cookies get `Secure` and the `__Host-` prefix when `PUBLIC_URL` is https.
    pub cookie_secure: bool,
    /// `scheme://host[:port]` of `PUBLIC_URL`, for the `Origin` check.
    pub public_origin: String,
    /// The sandbox's shop page, shown in the sandbox banner; `None` with a real provider.
    pub sandbox_url: Option<String>,
    /// What the settings page may show of the ITS configuration (the api key masked).
    pub its_view: ItsView,
    /// Re-verification: the bulk job's concurrency, shown with the scheduler's settings.
    pub verify: crate::configuration::VerifySettings,
    /// The partner's name, logo and support contacts, for every page's frame.
    pub partner: std::sync::Arc<crate::configuration::PartnerSettings>,
}

pub struct ItsView {
    pub sandbox: bool,
    pub base_url: String,
    pub api_key_masked: String,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // A malformed id in a path (a link cut short in a chat) or a query that does not parse
    // gets the styled error page in the reader's language, never actix's plain-text
    // extractor error. The JSON API sets its own (scope-level, so they win there).
    cfg.app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
        .app_data(
            web::QueryConfig::default()
                .error_handler(|_, _| AppError::BadRequest("error_query_invalid").into()),
        )
        .app_data(
            web::FormConfig::default()
                .limit(csrf::MAX_FORM_BYTES)
                .error_handler(|_, _| AppError::BadRequest("error_form_invalid").into()),
        );
    cfg.route("/", web::get().to(home))
        .route("/healthz", web::get().to(healthz))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/shops", web::get().to(shops::list))
        .route("/shops", web::post().to(shops::create))
        .route("/shops/new", web::get().to(shops::new_form))
        .route("/shops/{id}", web::get().to(shops::show))
        .route("/shops/{id}/edit", web::get().to(shops::edit_form))
        .route("/shops/{id}/edit", web::post().to(shops::edit))
        .route("/shops/{id}/connect", web::post().to(shops::connect))
        .route(
            "/shops/{id}/disconnect",
            web::get().to(shops::disconnect_confirm),
        )
        .route("/shops/{id}/disconnect", web::post().to(shops::disconnect))
        .route("/connect/callback", web::get().to(callback::callback))
        .route(callback::FINISH_PATH, web::get().to(callback::finish))
        .route("/static/{file}", web::get().to(assets::serve))
        .route("/partner-logo", web::get().to(assets::partner_logo))
        .route("/forgot-password", web::get().to(auth::forgot_password))
        .configure(zalo::routes)
        .configure(admin::routes)
        .configure(api::routes) // JSON API under /api, and /connect-links pages
        .configure(connect_links::routes)
        .default_service(web::to(not_found));
}

async fn home(_ctx: Ctx, user: CurrentUser) -> HttpResponse {
    auth::redirect(landing_page(user.0.role))
}

/// Where a user lands after login: admins on their dashboard, owners on their shops.
pub fn landing_page(role: crate::domain::UserRole) -> &'static str {
    match role {
        crate::domain::UserRole::Admin => "/admin",
        crate::domain::UserRole::Owner => "/shops",
    }
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Liveness and readiness: answers 200 only when the database answers.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match crate::store::ping(&state.services.db).await {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}
