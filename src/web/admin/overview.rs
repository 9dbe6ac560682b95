//! `/admin`: shops per connection state, drawn as bars, and the newest problems.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::store::oa_summary::{self, OaFilter};
use crate::store::overview;
use crate::web::admin::shops::oa_filter_label;
use crate::web::context::{html, AdminUser, Chrome, Ctx};
use crate::web::error::AppError;
use crate::web::views::{state_label, Moment};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(overview));
}

pub struct StateCount {
    pub state: &'static str,
    pub label: &'static str,
    pub count: i64,
    /// Share of all shops, in tenths of a percent (for the text) …
    pub permille: i64,
    /// … and as a bar width out of 1000 (an SVG attribute, not a style).
    pub bar: i64,
}

impl StateCount {
    pub fn percent(&self) -> String {
        format!("{}.{}", self.permille / 10, self.permille % 10)
    }
}

pub struct Problem {
    pub id: uuid::Uuid,
    pub name: String,
    pub state: &'static str,
    pub label: &'static str,
    pub updated: Moment,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    c: Chrome,
    m: &'static Messages,
    total: i64,
    counts: Vec<StateCount>,
    /// Shops per Zalo OA filter (a shop can be in several), each a link to the filtered list.
    oa_counts: Vec<StateCount>,
    problems: Vec<Problem>,
}

/// A bar: its count, and its share of all shops.
fn bar(state: &'static str, label: &'static str, count: i64, total: i64) -> StateCount {
    let permille = if total > 0 { count * 1000 / total } else { 0 };
    StateCount {
        state,
        label,
        count,
        permille,
        bar: permille.max(if count > 0 { 4 } else { 0 }),
    }
}

async fn overview(ctx: Ctx, _admin: AdminUser) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.services.db;
    let now = crate::store::now_ms();
    let c = overview::counts(db, oa_summary::expiring_before(now)).await?;
    let total = c.total();
    let counts = ConnectionState::ALL
        .iter()
        .map(|state| {
            bar(
                state.as_str(),
                state_label(*state, ctx.m),
                c.state(*state),
                total,
            )
        })
        .collect();
    // The OA bars (a shop can be in several), in the order of the list's OA filter.
    let oa_counts = OaFilter::NAMES
        .iter()
        .map(|name| bar(name, oa_filter_label(name, ctx.m), c.oa(name), total))
        .collect();
    let problems = overview::newest_problems(db, 10)
        .await?
        .into_iter()
        .map(|row| {
            let state = ConnectionState::parse(&row.state).unwrap_or(ConnectionState::Failed);
            Problem {
                id: row.id,
                name: row.name,
                state: state.as_str(),
                label: state_label(state, ctx.m),
                updated: Moment::new(row.updated_at, now, ctx.m),
            }
        })
        .collect();
    html(&OverviewPage {
        c: ctx.chrome(ctx.m.admin_overview_title),
        m: ctx.m,
        total,
        counts,
        oa_counts,
        problems,
    })
}
