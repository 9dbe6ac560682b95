//! The web layer: routes, extractors, pages. Handlers are grouped by audience; templates
//! under `templates/` mirror them.

mod assets;
mod auth;
mod callback;
pub mod context;
mod csrf;
pub mod error;
mod shops;
mod views;

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
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/healthz", web::get().to(healthz))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/shops", web::get().to(shops::list))
        .route("/shops", web::post().to(shops::create))
        .route("/shops/new", web::get().to(shops::new_form))
        .route("/shops/{id}", web::get().to(shops::show))
        .route("/shops/{id}/connect", web::post().to(shops::connect))
        .route(
            "/shops/{id}/disconnect",
            web::get().to(shops::disconnect_confirm),
        )
        .route("/shops/{id}/disconnect", web::post().to(shops::disconnect))
        .route("/connect/callback", web::get().to(callback::callback))
        .route("/static/{file}", web::get().to(assets::serve))
        .default_service(web::to(not_found));
}

async fn home(_ctx: Ctx, _user: CurrentUser) -> HttpResponse {
    auth::redirect("/shops")
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Liveness and readiness: answers 200 only when the database answers.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.services.db)
        .await
    {
        Ok(_) => HttpResponse::Ok().content_type("text/plain").body("ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unavailable");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable")
        }
    }
}
