//! `/admin/settings`: how the app reaches ITS (mode, base URL, the api key masked), the
//! re-verification settings, and "Test credentials", which asks ITS whether it accepts
//! the configured api key and the `redirect_url` the connect flow sends. The full key
//! never leaves the server.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::i18n::Messages;
use crate::services::connect::{self, Failure, RedirectCheck};
use crate::web::context::{html_no_store, AdminUser, Chrome, Ctx};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/settings", web::get().to(show))
        .route("/admin/settings/test", web::post().to(test_credentials))
        .route("/admin/settings/zalo-app", web::post().to(save_zalo_app))
        .route(
            "/admin/settings/zalo-app/test",
            web::post().to(test_zalo_app),
        );
}

/// What "Test credentials" found.
pub enum TestResult {
    Accepted {
        text: String,
    },
    Refused {
        reason: &'static str,
        /// Only the provider's own `msg`.
        provider_msg: Option<String>,
        /// Codes and statuses, for the admin.
        detail: Option<String>,
    },
}

impl TestResult {
    fn refused(m: &'static Messages, failure: Failure) -> TestResult {
        TestResult::Refused {
            reason: m.text(failure.code.msg_key()),
            provider_msg: failure.provider_msg,
            detail: failure.detail,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    c: Chrome,
    m: &'static Messages,
    sandbox: bool,
    base_url: String,
    api_key_masked: String,
    concurrency: usize,
    interval: Option<String>,
    tick: String,
    /// The credentials test first, then the redirect_url check.
    tests: Vec<TestResult>,
    /// The partner's Zalo app (never its secret).
    zalo: crate::web::zalo::PartnerAppSection,
    /// What "Kiểm tra" of the Zalo app found, or why the form was refused.
    zalo_result: Option<ZaloResult>,
}

/// The Zalo app section's answer.
pub enum ZaloResult {
    Saved(&'static str),
    Accepted(String),
    NoShop(&'static str),
    Failed(crate::web::zalo::FailureView),
    Invalid(String),
}

async fn page(
    ctx: &Ctx,
    test: Option<TestResult>,
    redirect_test: Option<TestResult>,
    zalo_result: Option<ZaloResult>,
) -> Result<HttpResponse, AppError> {
    let view = &ctx.state.its_view;
    let verify = ctx.state.verify;
    let invalid = matches!(zalo_result, Some(ZaloResult::Invalid(_)));
    let zalo = crate::web::zalo::partner_app_section(ctx).await?;
    let page = SettingsPage {
        c: ctx.chrome(ctx.m.settings_title),
        m: ctx.m,
        sandbox: view.sandbox,
        base_url: view.base_url.clone(),
        api_key_masked: view.api_key_masked.clone(),
        concurrency: verify.concurrency,
        interval: verify.interval.map(|d| format_duration(d, ctx.m)),
        tick: format_duration(verify.tick, ctx.m),
        tests: test.into_iter().chain(redirect_test).collect(),
        zalo,
        zalo_result,
    };
    html_no_store(&page, invalid)
}

async fn show(ctx: Ctx, _admin: AdminUser) -> Result<HttpResponse, AppError> {
    page(&ctx, None, None, None).await
}

#[derive(serde::Deserialize)]
pub struct ZaloAppForm {
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    app_secret: String,
}

/// Saves the partner's Zalo app; the secret is sealed and never shown again.
async fn save_zalo_app(
    ctx: Ctx,
    admin: AdminUser,
    form: CsrfForm<ZaloAppForm>,
) -> Result<HttpResponse, AppError> {
    use crate::services::zalo_oa::{self, AppFormError};
    let m = ctx.m;
    let result = match zalo_oa::save_partner_app(
        &ctx.state.services,
        admin.0.id,
        &form.0.app_id,
        &form.0.app_secret,
    )
    .await?
    {
        Ok(()) => ZaloResult::Saved(m.flash_oa_app_saved),
        Err(errors) => ZaloResult::Invalid(
            errors
                .iter()
                .map(|e| match e {
                    AppFormError::AppId => m.error_oa_app_id,
                    AppFormError::Secret => m.error_oa_app_secret,
                    AppFormError::FromEnvironment => m.error_oa_app_from_env,
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
    };
    page(&ctx, None, None, Some(result)).await
}

/// "Kiểm tra": AuthorizeOA with the partner's app and the key of a connected shop.
async fn test_zalo_app(
    ctx: Ctx,
    _admin: AdminUser,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    use crate::services::zalo_oa::{self, AppCheck};
    let m = ctx.m;
    let svc = &ctx.state.services;
    let result = match zalo_oa::check_partner_app(svc).await? {
        AppCheck::Accepted => {
            let id = zalo_oa::partner_app_view(svc)
                .await?
                .app_id
                .unwrap_or_default();
            ZaloResult::Accepted(Messages::fill(m.settings_zalo_test_ok, &[&id]))
        }
        AppCheck::NoConnectedShop => ZaloResult::NoShop(m.settings_zalo_test_no_shop),
        AppCheck::Failed(error) => {
            ZaloResult::Failed(crate::web::zalo::FailureView::new(&error, m))
        }
    };
    page(&ctx, None, None, Some(result)).await
}

/// Calls `Misc/CurrentAccount` and shows the partner's name or the exact refusal; then
/// (when the key works) checks the `redirect_url` with one `AuthorizeShop`. Changes nothing
/// here, so the answer is the page itself rather than a redirect.
async fn test_credentials(
    ctx: Ctx,
    admin: AdminUser,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let svc = &ctx.state.services;
    let m = ctx.m;
    let (result, key_ok) = match svc.its.current_account().await {
        Ok(account) => {
            tracing::info!(admin = %admin.0.id, partner = %account.id, "ITS credentials test passed");
            (
                TestResult::Accepted {
                    text: Messages::fill(m.settings_test_ok, &[&account.name]),
                },
                true,
            )
        }
        Err(err) => {
            tracing::warn!(admin = %admin.0.id, error = %err, "ITS credentials test failed");
            (TestResult::refused(m, Failure::from_its(&err)), false)
        }
    };
    let redirect_test = if key_ok {
        Some(match connect::check_redirect_url(svc).await {
            RedirectCheck::Accepted => TestResult::Accepted {
                text: Messages::fill(
                    m.settings_redirect_ok,
                    &[&crate::its::redact_url(&connect::fixed_callback_url(
                        &svc.public_url,
                    ))],
                ),
            },
            RedirectCheck::NotRegistered { register } => TestResult::Refused {
                reason: "",
                provider_msg: None,
                detail: Some(Messages::fill(
                    m.admin_redirect_not_registered,
                    &[&register],
                )),
            },
            RedirectCheck::Failed(failure) => TestResult::refused(m, failure),
        })
    } else {
        None
    };
    page(&ctx, Some(result), redirect_test, None).await
}

/// A duration in the largest whole unit that fits: "1 ngày", "90 phút", "45 giây".
pub fn format_duration(d: Duration, m: &'static Messages) -> String {
    let secs = d.as_secs();
    let (n, one, many) = if secs >= 86_400 && secs % 86_400 == 0 {
        (secs / 86_400, m.duration_day, m.duration_days)
    } else if secs >= 3_600 && secs % 3_600 == 0 {
        (secs / 3_600, m.duration_hour, m.duration_hours)
    } else if secs >= 60 && secs % 60 == 0 {
        (secs / 60, m.duration_minute, m.duration_minutes)
    } else {
        (secs, m.duration_second, m.duration_seconds)
    };
    if n == 1 {
        one.to_owned()
    } else {
        Messages::fill(many, &[&n.to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn durations_use_the_largest_whole_unit() {
        let m = Messages::for_lang(Lang::En);
        assert_eq!(format_duration(Duration::from_secs(86_400), m), "1 day");
        assert_eq!(format_duration(Duration::from_secs(7_200), m), "2 hours");
        assert_eq!(format_duration(Duration::from_secs(5_400), m), "90 minutes");
        assert_eq!(format_duration(Duration::from_secs(60), m), "1 minute");
        assert_eq!(format_duration(Duration::from_secs(45), m), "45 seconds");
        let vi = Messages::for_lang(Lang::Vi);
        assert_eq!(format_duration(Duration::from_secs(172_800), vi), "2 ngày");
    }
}
