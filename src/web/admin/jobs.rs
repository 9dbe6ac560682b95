//! `/admin/jobs`: "Verify all connected shops" as a background job, its progress (kept in
//! the database, so a reload shows it; polled as JSON by `static/app.js`), cancelling it,
//! and what the scheduler does on its own.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Serialize;
use uuid::Uuid;

use super::settings::format_duration;
use crate::i18n::Messages;
use crate::services::jobs::{self as job_service, StartOutcome};
use crate::store::{self, jobs};
use crate::web::auth::redirect;
use crate::web::context::{AdminUser, Chrome, Ctx};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;
use crate::web::shops::Flash;
use crate::web::views::{format_time, OutcomeQuery};

/// How many earlier runs the page lists.
const HISTORY: i64 = 10;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/jobs", web::get().to(page))
        .route("/admin/jobs/verify", web::post().to(start))
        .route("/admin/jobs/{id}/cancel", web::post().to(cancel))
        .route("/admin/jobs/{id}/progress", web::get().to(progress));
}

/// A job as the page and the progress JSON show it.
#[derive(Serialize)]
pub struct JobView {
    pub id: Uuid,
    pub state: &'static str,
    pub state_label: &'static str,
    pub running: bool,
    pub cancel_requested: bool,
    pub total: i64,
    pub done: i64,
    pub failures: i64,
    /// `ok` (nothing failed), `some_failed`, or `mostly_failed` (more than half of the
    /// checks done so far failed): a finished run is only green when nothing failed.
    pub outcome: &'static str,
    /// "42% done", floored so it reaches 100% only when every shop was checked.
    pub percent_text: String,
    /// The time left in words while running, from the pace so far.
    pub eta: Option<String>,
    /// "1,305 passed, 1 failed."
    pub summary: String,
    #[serde(skip)]
    pub started_by: Option<String>,
    #[serde(skip)]
    pub started: String,
    #[serde(skip)]
    pub ended: Option<String>,
}

/// More than half of the checks done failed.
fn mostly_failed(done: i64, failures: i64) -> bool {
    done > 0 && failures * 2 > done
}

/// The time left in words, from the pace so far ("estimating" before the first check ends).
fn time_left(elapsed_ms: i64, done: i64, total: i64, m: &'static Messages) -> String {
    if done <= 0 || elapsed_ms <= 0 {
        return m.jobs_eta_estimating.to_owned();
    }
    let left_ms = (elapsed_ms as i128 * (total - done).max(0) as i128 / done as i128) as i64;
    if left_ms < 60_000 {
        return m.jobs_eta_under_minute.to_owned();
    }
    // Whole minutes, rounded up: "about 3 min left" should not turn into 4 minutes.
    let minutes = (left_ms + 59_999) / 60_000;
    let words = if minutes < 60 {
        Messages::fill(m.duration_minutes, &[&minutes.to_string()])
    } else {
        Messages::fill(
            m.jobs_hours_minutes,
            &[&(minutes / 60).to_string(), &(minutes % 60).to_string()],
        )
    };
    Messages::fill(m.jobs_eta_about, &[&words])
}

impl JobView {
    fn new(row: jobs::JobRow, m: &'static Messages) -> JobView {
        let mostly = mostly_failed(row.done, row.failures);
        let (state, label) = match row.state.as_str() {
            "running" if row.cancel_requested => ("running", m.jobs_cancelling),
            "running" => ("running", m.jobs_state_running),
            "finished" if mostly => ("finished", m.jobs_state_mostly_failed),
            "finished" => ("finished", m.jobs_state_finished),
            "cancelled" => ("cancelled", m.jobs_state_cancelled),
            _ => ("interrupted", m.jobs_state_interrupted),
        };
        let running = state == "running";
        let outcome = if row.failures == 0 {
            "ok"
        } else if mostly {
            "mostly_failed"
        } else {
            "some_failed"
        };
        let percent = if row.total <= 0 {
            100
        } else {
            row.done.clamp(0, row.total) * 100 / row.total
        };
        let eta = (running && !row.cancel_requested)
            .then(|| time_left(store::now_ms() - row.created_at, row.done, row.total, m));
        let passed = (row.done - row.failures).max(0);
        JobView {
            id: row.id,
            state,
            state_label: label,
            running,
            cancel_requested: row.cancel_requested,
            total: row.total,
            done: row.done,
            failures: row.failures,
            outcome,
            percent_text: Messages::fill(m.jobs_percent_done, &[&percent.to_string()]),
            eta,
            summary: Messages::fill(
                m.jobs_outcome_counts,
                &[&passed.to_string(), &row.failures.to_string()],
            ),
            started_by: row.started_by_email,
            started: format_time(row.created_at),
            ended: row.finished_at.map(format_time),
        }
    }

    /// `<progress max>` must be positive: a job with nothing to do shows as full.
    pub fn bar_max(&self) -> i64 {
        self.total.max(1)
    }

    /// The state badge: green only for a finished run where nothing failed, amber when
    /// most checks failed.
    pub fn badge(&self) -> &'static str {
        match (self.state, self.outcome) {
            ("running", _) => "pending",
            ("finished", "ok") => "connected",
            ("finished", "mostly_failed") => "needs_reauth",
            ("finished", _) => "not_connected",
            _ => "failed",
        }
    }

    pub fn bar_value(&self) -> i64 {
        if self.total == 0 {
            1
        } else {
            self.done.min(self.total)
        }
    }
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    c: Chrome,
    m: &'static Messages,
    latest: Option<JobView>,
    history: Vec<JobView>,
    flash: Option<Flash>,
    schedule: Option<String>,
    due: i64,
    /// A run is in progress: the start button is disabled (and the server refuses anyway).
    busy: bool,
}

async fn render(
    ctx: &Ctx,
    status: StatusCode,
    outcome: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let m = ctx.m;
    let db = &ctx.state.services.db;
    let mut recent = jobs::recent(db, HISTORY + 1)
        .await?
        .into_iter()
        .map(|row| JobView::new(row, m));
    let latest = recent.next();
    let history = recent.collect();
    let verify = ctx.state.verify;
    let due = match verify.interval {
        Some(interval) => {
            jobs::count_due(db, store::now_ms() - interval.as_millis() as i64).await?
        }
        None => 0,
    };
    let schedule = verify.interval.map(|interval| {
        Messages::fill(
            m.jobs_schedule_explainer,
            &[
                &format_duration(interval, m),
                &verify.concurrency.to_string(),
            ],
        )
    });
    let flash = outcome.and_then(|o| {
        let (kind, text) = match o {
            "started" => (
                "success",
                Messages::fill(
                    m.flash_job_started,
                    &[&latest.as_ref().map(|j| j.total).unwrap_or(0).to_string()],
                ),
            ),
            "cancel_requested" => ("success", m.flash_job_cancel_requested.to_owned()),
            "not_running" => ("error", m.flash_job_not_running.to_owned()),
            "already_running" => ("error", m.error_job_already_running.to_owned()),
            _ => return None,
        };
        Some(Flash { kind, text })
    });
    let busy = latest.as_ref().is_some_and(|j| j.running);
    let body = JobsPage {
        c: ctx.chrome(m.jobs_title),
        m,
        busy,
        latest,
        history,
        flash,
        schedule,
        due,
    }
    .render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

async fn page(
    ctx: Ctx,
    _admin: AdminUser,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    render(&ctx, StatusCode::OK, query.outcome.as_deref()).await
}

async fn start(
    ctx: Ctx,
    admin: AdminUser,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let outcome = job_service::start_bulk(
        &ctx.state.services,
        admin.0.id,
        ctx.state.verify.concurrency,
    )
    .await?;
    match outcome {
        StartOutcome::Started { .. } => Ok(redirect("/admin/jobs?outcome=started")),
        // Nothing happened: answer with the page and why, not a redirect.
        StartOutcome::AlreadyRunning => {
            render(&ctx, StatusCode::CONFLICT, Some("already_running")).await
        }
    }
}

async fn cancel(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let svc = &ctx.state.services;
    if jobs::find(&svc.db, id).await?.is_none() {
        return Err(AppError::NotFound);
    }
    if job_service::cancel(svc, id).await? {
        tracing::info!(job = %id, admin = %admin.0.id, "bulk re-verification cancel requested");
        Ok(redirect("/admin/jobs?outcome=cancel_requested"))
    } else {
        Ok(redirect("/admin/jobs?outcome=not_running"))
    }
}

/// The job's numbers as JSON, for the page's script.
async fn progress(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let row = jobs::find(&ctx.state.services.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let mut response = HttpResponse::Ok().json(JobView::new(row, ctx.m));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_comes_from_the_pace_so_far_in_words() {
        let m = &Messages::VI;
        assert_eq!(time_left(5_000, 0, 10, m), m.jobs_eta_estimating);
        assert_eq!(time_left(30_000, 1, 2, m), "còn chưa đến 1 phút");
        // One shop a minute, three to go.
        assert_eq!(time_left(60_000, 1, 4, m), "còn khoảng 3 phút");
        // 99 minutes, rounded up from 98.01.
        assert_eq!(time_left(59_400, 1, 100, m), "còn khoảng 1 giờ 39 phút");
        assert_eq!(
            time_left(60_000, 1, 4, &Messages::EN),
            "about 3 minutes left"
        );
    }

    #[test]
    fn failures_dominate_above_half_of_the_checks_done() {
        assert!(mostly_failed(1306, 1306));
        assert!(mostly_failed(3, 2));
        assert!(!mostly_failed(2, 1));
        assert!(!mostly_failed(0, 0));
    }
}
