//! `/admin`: shops per connection state, drawn as bars, and the newest problems.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::store::oa_summary::{self, OaFilter};
use crate::store::shop_list;
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

/// The OA bars: counters kept by triggers (`oa_summary`), and the expiring shops counted
/// in their own index range; shares are of all shops.
async fn oa_bars(
    db: &sqlx::SqlitePool,
    total: i64,
    m: &'static Messages,
) -> Result<Vec<StateCount>, AppError> {
    let now = crate::store::now_ms();
    let c = oa_summary::counts(db, now + oa_summary::EXPIRING_WITHIN_MS).await?;
    Ok(OaFilter::NAMES
        .iter()
        .map(|name| {
            let count = match *name {
                "none" => c.none,
                "connected" => c.connected,
                "disconnected" => c.disconnected,
                "quality_low" => c.quality_low,
                "quota_low" => c.quota_low,
                _ => c.expiring,
            };
            let permille = if total > 0 { count * 1000 / total } else { 0 };
            StateCount {
                state: name,
                label: oa_filter_label(name, m),
                count,
                permille,
                bar: permille.max(if count > 0 { 4 } else { 0 }),
            }
        })
        .collect())
}

async fn overview(ctx: Ctx, _admin: AdminUser) -> Result<HttpResponse, AppError> {
    let db = &ctx.state.services.db;
    let raw = shop_list::count_by_state(db).await?;
    let total: i64 = raw.iter().map(|(_, n)| n).sum();
    let counts = ConnectionState::ALL
        .iter()
        .map(|state| {
            let count = raw
                .iter()
                .find(|(s, _)| s == state.as_str())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            let permille = if total > 0 { count * 1000 / total } else { 0 };
            StateCount {
                state: state.as_str(),
                label: state_label(*state, ctx.m),
                count,
                permille,
                bar: permille.max(if count > 0 { 4 } else { 0 }),
            }
        })
        .collect();
    let oa_counts = oa_bars(db, total, ctx.m).await?;
    let problems = shop_list::newest_in_states(
        db,
        &[ConnectionState::Failed, ConnectionState::NeedsReauth],
        10,
    )
    .await?
    .into_iter()
    .map(|row| {
        let state = ConnectionState::parse(&row.state).unwrap_or(ConnectionState::Failed);
        Problem {
            id: row.id,
            name: row.name,
            state: state.as_str(),
            label: state_label(state, ctx.m),
            updated: Moment::new(row.updated_at, crate::store::now_ms(), ctx.m),
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
