//! `/admin/shops`: every shop, filtered, searched and paged by cursor; one shop's page
//! with its history and the actions Verify now, Disconnect and the connect link.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::services::reasons::FailureCode;
use crate::services::shops as shop_service;
use crate::services::verify::{self, VerifyOutcome};
use crate::services::{user_actor, Refusal, ServiceError};
use crate::store::oa_summary::OaFilter;
use crate::store::shop_list::{self, Cursor, ShopFilter, ShopListRow, Sort, Total};
use crate::store::{events, shops, users};
use crate::web::auth::redirect;
use crate::web::context::{html, AdminUser, Chrome, Ctx};
use crate::web::csrf::{CsrfForm, NoFields};
use crate::web::error::AppError;
use crate::web::shops::{DisconnectPage, Flash};
use crate::web::views::{
    format_count, format_time, state_label, EventView, Moment, OutcomeQuery, SafeText, ShopView,
    UuidText,
};

pub const PAGE_SIZE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/shops", web::get().to(list))
        .route("/admin/shops/{id}", web::get().to(detail))
        .route("/admin/shops/{id}/verify", web::post().to(verify_now))
        .route(
            "/admin/shops/{id}/disconnect",
            web::get().to(disconnect_confirm),
        )
        .route("/admin/shops/{id}/disconnect", web::post().to(disconnect));
}

/// The list's query string: the whole view lives in the URL, so it can be bookmarked.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub state: Option<String>,
    pub owner: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    /// The position of the page's first row, for "51–100 / 2.000": carried by the pager's
    /// links (keyset pages do not know their offset, and counting one would be a scan).
    pub from: Option<u64>,
    /// A Zalo OA filter (`oa_summary::OaFilter::NAMES`).
    pub oa: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> Result<ShopFilter, AppError> {
        let q = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > 100 || q.chars().any(char::is_control)) {
            return Err(AppError::BadRequest(
                crate::i18n::MsgKey::error_search_invalid,
            ));
        }
        Ok(ShopFilter {
            state: self
                .state
                .as_deref()
                .and_then(|s| ConnectionState::parse(s).ok()),
            owner: self.owner.as_deref().and_then(|o| Uuid::try_parse(o).ok()),
            query: q.map(str::to_owned),
            sort: Sort::parse(self.sort.as_deref().unwrap_or("")),
            after: self.after.as_deref().and_then(Cursor::decode),
            before: self.before.as_deref().and_then(Cursor::decode),
            oa: self
                .oa
                .as_deref()
                .and_then(|o| OaFilter::parse(o, crate::store::now_ms())),
            columns: shop_list::Columns::List,
        })
    }
}

/// The view's parameters without the cursor, URL-encoded, for links that keep the view.
pub fn view_params(filter: &ShopFilter) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    // A search too short to run is not part of the view: the pages and the export after it
    // are those of the list without it.
    if let (Some(q), shop_list::Search::Indexed(_)) = (&filter.query, filter.search()) {
        pairs.push(("q", q.clone()));
    }
    if let Some(state) = filter.state {
        pairs.push(("state", state.as_str().to_owned()));
    }
    if let Some(owner) = filter.owner {
        pairs.push(("owner", owner.to_string()));
    }
    if let Some(oa) = filter.oa {
        pairs.push(("oa", oa.as_str().to_owned()));
    }
    if filter.sort != Sort::Updated {
        pairs.push(("sort", filter.sort.as_str().to_owned()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

pub struct Row {
    pub id: UuidText,
    pub name: String,
    pub owner_id: UuidText,
    pub owner: String,
    pub state: &'static str,
    pub label: &'static str,
    pub its_shop_id: Option<i64>,
    pub last_verified: Option<Moment>,
    pub updated: Moment,
    pub oa: OaSummaryView,
}

/// The list's OA column: how many OAs, how many connected, and the warnings, in words.
pub struct OaSummaryView {
    pub count: i64,
    pub connected: i64,
    pub warnings: Vec<&'static str>,
}

impl OaSummaryView {
    pub fn new(r: &ShopListRow, now: i64, m: &'static Messages) -> OaSummaryView {
        let mut warnings = Vec::new();
        if r.oa_count > r.oa_connected {
            warnings.push(m.admin_oa_filter_disconnected);
        }
        if r.oa_low > 0 {
            warnings.push(m.admin_oa_filter_quality_low);
        }
        if r.oa_quota_low > 0 {
            warnings.push(m.admin_oa_filter_quota_low);
        }
        match r.oa_expires_at {
            Some(at) if at <= now => warnings.push(m.admin_oa_expired),
            Some(at) if at < crate::store::oa_summary::expiring_before(now) => {
                warnings.push(m.admin_oa_expiring_soon)
            }
            _ => {}
        }
        OaSummaryView {
            count: r.oa_count,
            connected: r.oa_connected,
            warnings,
        }
    }
}

impl Row {
    fn new(r: ShopListRow, m: &'static Messages) -> Row {
        let state = ConnectionState::parse(&r.state).unwrap_or(ConnectionState::Failed);
        let now = crate::store::now_ms();
        let oa = OaSummaryView::new(&r, now, m);
        Row {
            id: UuidText(r.id),
            name: r.name,
            owner_id: UuidText(r.owner_id),
            owner: r.owner_email,
            state: state.as_str(),
            label: state_label(state, m),
            its_shop_id: r.its_shop_id,
            last_verified: r.last_verified_at.map(|t| Moment::new(t, now, m)),
            updated: Moment::new(r.updated_at, now, m),
            oa,
        }
    }
}

/// The table's column names, escaped once for the page: its header and every row's cells
/// (their `data-label`) show them.
pub struct ColumnLabels {
    pub shop: SafeText,
    pub owner: SafeText,
    pub state: SafeText,
    pub oa: SafeText,
    pub its_shop_id: SafeText,
    pub last_verified: SafeText,
    pub last_change: SafeText,
}

impl ColumnLabels {
    fn new(m: &'static Messages) -> ColumnLabels {
        ColumnLabels {
            shop: SafeText::escaped(m.field_shop_name),
            owner: SafeText::escaped(m.csv_owner),
            state: SafeText::escaped(m.csv_state),
            oa: SafeText::escaped(m.admin_oa_column),
            its_shop_id: SafeText::escaped(m.its_shop_id_label),
            last_verified: SafeText::escaped(m.last_verified_label),
            last_change: SafeText::escaped(m.admin_last_change),
        }
    }
}

pub struct StateOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// `/admin/shops` with the view's parameters and `extra` (a cursor, a position).
fn list_url(params: &str, extra: &str) -> String {
    match (params.is_empty(), extra.is_empty()) {
        (true, true) => "/admin/shops".to_owned(),
        (false, true) => format!("/admin/shops?{params}"),
        (true, false) => format!("/admin/shops?{extra}"),
        (false, false) => format!("/admin/shops?{params}&{extra}"),
    }
}

/// "1–50 / 2.000 cửa hàng" and the previous/next links, which carry the position.
pub struct Pager {
    pub range: Option<String>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// `known`: the total when the page already knows it (the state counters the chips
    /// read, or a first page that is the whole view), which saves a statement.
    async fn new(
        ctx: &Ctx,
        reads: &mut sqlx::SqliteConnection,
        filter: &ShopFilter,
        page: &shop_list::Page,
        from: Option<u64>,
        join: &dyn Fn(&str) -> String,
        known: Option<Total>,
    ) -> Pager {
        let size = PAGE_SIZE as u64;
        let start = if page.first {
            1
        } else {
            from.filter(|f| *f > 1).unwrap_or(size + 1)
        };
        let shown = page.rows.len() as u64;
        let link = |key: &str, cursor: &Cursor, from: u64| {
            join(
                &serde_urlencoded::to_string([(key, cursor.encode()), ("from", from.to_string())])
                    .unwrap_or_default(),
            )
        };
        // `from` comes from the URL: saturating, so that no position overflows.
        let next_url = page
            .next
            .as_ref()
            .map(|c| link("after", c, start.saturating_add(shown)));
        let prev_url = page
            .prev
            .as_ref()
            .map(|c| link("before", c, start.saturating_sub(size).max(1)));
        // The total costs at most a few index rows (see `shop_list::count`); if even that
        // runs out of time the page goes without it rather than failing.
        let counted = match known {
            Some(total) => Ok(total),
            None => shop_list::count(reads, filter).await,
        };
        let total = match counted {
            Ok(total) => Some(total),
            Err(e) => {
                tracing::warn!(error = %e, "the admin shop list's total could not be read");
                None
            }
        };
        let range = total.filter(|_| shown > 0).map(|total| {
            let of = match total {
                Total::Exact(n) => format_count(n.max(0) as u64, ctx.lang),
                Total::MoreThan(n) => Messages::fill(
                    ctx.m.admin_more_than,
                    &[&format_count(n.max(0) as u64, ctx.lang)],
                ),
            };
            Messages::fill(
                ctx.m.admin_range,
                &[
                    &format_count(start, ctx.lang),
                    &format_count(start.saturating_add(shown) - 1, ctx.lang),
                    &of,
                ],
            )
        });
        Pager {
            range,
            prev_url,
            next_url,
        }
    }
}

/// A state chip: "Đã kết nối 1.200", a link that filters the list by that state.
pub struct Chip {
    pub state: &'static str,
    pub label: &'static str,
    pub count: Option<String>,
    pub href: String,
    pub current: bool,
}

/// "Tất cả" and one chip per state, counted by the counters (six rows, whatever the table
/// holds), read by the caller when they describe the view (`shop_list::counted_by_state`);
/// elsewhere (a search, an owner's shops, an OA filter) the chips go without numbers.
fn state_chips(ctx: &Ctx, filter: &ShopFilter, counts: Option<&[(String, i64)]>) -> Vec<Chip> {
    let count_of = |state: Option<ConnectionState>| {
        counts.map(|counts| {
            let n: i64 = counts
                .iter()
                .filter(|(s, _)| state.is_none_or(|state| s == state.as_str()))
                .map(|(_, n)| *n)
                .sum();
            format_count(n.max(0) as u64, ctx.lang)
        })
    };
    let href = |state: Option<ConnectionState>| {
        let view = ShopFilter {
            state,
            after: None,
            before: None,
            ..filter.clone()
        };
        list_url(&view_params(&view), "")
    };
    std::iter::once(Chip {
        state: "all",
        label: ctx.m.admin_all_shops,
        count: count_of(None),
        href: href(None),
        current: filter.state.is_none(),
    })
    .chain(ConnectionState::ALL.iter().map(|s| Chip {
        state: s.as_str(),
        label: state_label(*s, ctx.m),
        count: count_of(Some(*s)),
        href: href(Some(*s)),
        current: filter.state == Some(*s),
    }))
    .collect()
}

#[derive(Template)]
#[template(path = "admin/shops.html")]
struct ListPage {
    c: Chrome,
    m: &'static Messages,
    q: String,
    states: Vec<StateOption>,
    owner: Option<Uuid>,
    owner_email: Option<String>,
    sort_by_name: bool,
    /// The state chips above the table, each with its count (from the counters).
    chips: Vec<Chip>,
    /// A search by the index lists the newest shops first (see `shop_list::Order`).
    searching: bool,
    /// The OA filter's choices (the list's value first is "any").
    oa_options: Vec<StateOption>,
    /// An OA filter orders the page itself (newest shop, or soonest expiry, first).
    oa_ordered: bool,
    /// Why the search did not run: too short for the index, or stopped for taking too long.
    notice: Option<&'static str>,
    /// The column names: the header's, and each row's cells carry them (`data-label`,
    /// shown beside each cell on a narrow screen).
    labels: ColumnLabels,
    rows: Vec<Row>,
    next_url: Option<String>,
    first_url: Option<String>,
    export_url: String,
    pager: Pager,
}

impl ListPage {
    /// Whether a filter narrows the list: an empty list then says "no match", else "no shop yet".
    fn filtered(&self) -> bool {
        !self.q.is_empty()
            || self.owner.is_some()
            || self.first_url.is_some()
            || self.pager.prev_url.is_some()
            || self.states.iter().any(|s| s.selected)
            || self.oa_options.iter().any(|s| s.selected)
    }
}

async fn list(
    ctx: Ctx,
    _admin: AdminUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = query.filter()?;
    let db = &ctx.state.services.db;
    let mut notice =
        (filter.search() == shop_list::Search::TooShort).then_some(ctx.m.admin_search_too_short);
    // One connection of the read pool for the page, its counters and its total.
    let mut reads = ctx.state.services.read_db.acquire().await?;
    let page = match shop_list::fetch_page(&mut reads, &filter, PAGE_SIZE).await {
        Ok(page) => page,
        Err(e) if crate::store::is_interrupted(&e) => {
            tracing::warn!(
                limit_ms = crate::store::READ_STATEMENT_LIMIT.as_millis() as u64,
                "an admin shop list query ran out of time"
            );
            notice = Some(ctx.m.admin_search_too_slow);
            shop_list::Page {
                rows: Vec::new(),
                next: None,
                prev: None,
                first: true,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let params = view_params(&filter);
    let join = |extra: &str| list_url(&params, extra);
    // Read once for the chips and the total; if it fails, the chips go without numbers.
    let state_counts = if shop_list::counted_by_state(&filter) {
        shop_list::count_by_state(&mut *reads)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "the state counters could not be read"))
            .ok()
    } else {
        None
    };
    let known_total = state_counts
        .as_deref()
        .map(|counts| shop_list::total_from_state_counts(&filter, counts))
        .or_else(|| {
            // A first page without a next one is the whole view.
            (page.first && page.next.is_none()).then_some(Total::Exact(page.rows.len() as i64))
        });
    let pager = Pager::new(
        &ctx,
        &mut reads,
        &filter,
        &page,
        query.from,
        &join,
        known_total,
    )
    .await;
    drop(reads);
    let next_url = pager.next_url.clone();
    let first_url = (!page.first).then(|| join(""));
    let owner_email = match filter.owner {
        Some(owner) => users::find_email(db, owner).await?,
        None => None,
    };
    let export_url = if params.is_empty() {
        "/admin/shops.csv".to_owned()
    } else {
        format!("/admin/shops.csv?{params}")
    };
    html(&ListPage {
        c: ctx.chrome(ctx.m.admin_shops_title),
        m: ctx.m,
        q: filter.query.clone().unwrap_or_default(),
        states: ConnectionState::ALL
            .iter()
            .map(|s| StateOption {
                value: s.as_str(),
                label: state_label(*s, ctx.m),
                selected: filter.state == Some(*s),
            })
            .collect(),
        chips: state_chips(&ctx, &filter, state_counts.as_deref()),
        owner: filter.owner,
        owner_email,
        sort_by_name: filter.order() == shop_list::Order::Name,
        searching: filter.order() == shop_list::Order::Newest,
        oa_options: oa_options(filter.oa, ctx.m),
        oa_ordered: matches!(
            filter.order(),
            shop_list::Order::OaNewest | shop_list::Order::OaExpiry
        ),
        notice,
        labels: ColumnLabels::new(ctx.m),
        rows: page.rows.into_iter().map(|r| Row::new(r, ctx.m)).collect(),
        next_url,
        first_url,
        export_url,
        pager,
    })
}

/// The OA filter's choices, in the order of the overview's bars.
pub fn oa_options(selected: Option<OaFilter>, m: &'static Messages) -> Vec<StateOption> {
    OaFilter::NAMES
        .iter()
        .map(|name| StateOption {
            value: name,
            label: oa_filter_label(name, m),
            selected: selected.map(OaFilter::as_str) == Some(*name),
        })
        .collect()
}

pub fn oa_filter_label(name: &str, m: &'static Messages) -> &'static str {
    match name {
        "none" => m.admin_oa_filter_none,
        "connected" => m.admin_oa_filter_connected,
        "disconnected" => m.admin_oa_filter_disconnected,
        "quality_low" => m.admin_oa_filter_quality_low,
        "quota_low" => m.admin_oa_filter_quota_low,
        _ => m.admin_oa_filter_expiring,
    }
}

#[derive(Template)]
#[template(path = "admin/shop.html")]
struct DetailPage {
    c: Chrome,
    m: &'static Messages,
    shop: ShopView,
    owner_email: String,
    created: String,
    masked_key: Option<String>,
    key_unreadable: bool,
    connect_link: String,
    events: Vec<EventView>,
    flash: Option<Flash>,
    /// A failure that is the partner's set-up, in words an admin can act on.
    config_problem: Option<String>,
    /// The shop's Zalo OAs, as the owner's cards show them (without their buttons).
    oas: Vec<crate::web::zalo::OaCardView>,
    /// The OA side of the history (`zalo_oa_events`), newest first.
    oa_events: Vec<OaEventLine>,
}

/// One line of the OA history on the admin's shop page.
pub struct OaEventLine {
    pub at: Moment,
    pub oa_id: Option<String>,
    pub what: &'static str,
    pub actor: String,
    pub reason: Option<String>,
}

async fn detail(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    query: web::Query<OutcomeQuery>,
) -> Result<HttpResponse, AppError> {
    let svc = &ctx.state.services;
    let m = ctx.m;
    let found = shops::find_with_owner_email(&svc.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let (row, owner_email) = (found.shop, found.owner_email.unwrap_or_default());
    let stored = crate::services::shops::stored_key(&svc.sealer, &row);
    let (masked_key, key_unreadable) = (stored.masked(), stored.is_unreadable());
    let shop = ShopView::new(&row, m);
    let config_problem = (shop.failure.is_some()
        && row.failure_code.as_deref().map(FailureCode::parse_stored)
            == Some(FailureCode::ItsRedirectNotRegistered))
    .then(|| {
        Messages::fill(
            m.admin_redirect_not_registered,
            &[&crate::services::connect::fixed_callback_url(
                &svc.public_url,
            )],
        )
    });
    let flash = query.outcome.as_deref().and_then(|o| {
        let (kind, text) = match o {
            "verified" => ("success", m.flash_verified),
            "needs_reauth" => ("error", m.flash_verify_needs_reauth),
            "mismatch" => ("error", m.error_shop_id_mismatch),
            "account_closed" => ("error", m.flash_verify_account_closed),
            "no_key" => ("error", m.flash_verify_no_key),
            "unreadable" => ("error", m.key_unreadable),
            "its_trouble" => ("error", m.flash_verify_its_trouble),
            "disconnected" if shop.state == ConnectionState::Disconnected => {
                ("success", m.flash_disconnected)
            }
            _ => return None,
        };
        Some(Flash {
            kind,
            text: text.to_owned(),
        })
    });
    let events =
        admin_history(&svc.db, row.id, admin.0.id, (row.owner_id, &owner_email), m).await?;
    let now = crate::store::now_ms();
    let oas = crate::store::zalo_oas::for_shop(&svc.db, row.id)
        .await?
        .iter()
        .map(|oa| crate::web::zalo::OaCardView::new(oa, now, false, m))
        .collect();
    let oa_events = crate::store::zalo_oas::events_for_shop(&svc.db, row.id, 200)
        .await?
        .into_iter()
        .map(|e| OaEventLine {
            at: Moment::new(e.at, now, m),
            oa_id: e.oa_id,
            what: crate::web::zalo::event_label(&e.kind, m),
            actor: e.actor,
            reason: e.reason,
        })
        .collect();
    let connect_link = svc
        .public_url
        .join(&format!("shops/{}", row.id))
        .map(|u| u.to_string())
        .unwrap_or_default();
    let mut response = html(&DetailPage {
        c: ctx.chrome(m.admin_shop_title),
        m,
        shop,
        owner_email,
        created: format_time(row.created_at),
        masked_key,
        key_unreadable,
        connect_link,
        events,
        flash,
        config_problem,
        oas,
        oa_events,
    })?;
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// A shop's history as an admin reads it: an owner (or another admin) who acted is named by
/// email, not as "a user"; the admin's own actions are "you".
/// `owner`: the shop's owner and email, already read by the page (most actions are theirs).
async fn admin_history(
    db: &sqlx::SqlitePool,
    shop: Uuid,
    viewer: Uuid,
    owner: (Uuid, &str),
    m: &'static Messages,
) -> Result<Vec<EventView>, AppError> {
    let rows = events::for_shop(db, shop, 200).await?;
    let mut emails: std::collections::HashMap<Uuid, Option<String>> =
        [(owner.0, Some(owner.1.to_owned()).filter(|e| !e.is_empty()))].into();
    for id in rows
        .iter()
        .filter_map(|e| e.actor.strip_prefix("user:"))
        .filter_map(|id| Uuid::try_parse(id).ok())
    {
        if id != viewer && !emails.contains_key(&id) {
            emails.insert(id, users::find_email(db, id).await?);
        }
    }
    Ok(rows
        .iter()
        .map(|e| {
            let mut view = EventView::seen_by(e, m, Some(viewer));
            let email = e
                .actor
                .strip_prefix("user:")
                .and_then(|id| Uuid::try_parse(id).ok())
                .and_then(|id| emails.get(&id).cloned().flatten());
            if let Some(email) = email {
                view.actor = email;
            }
            view
        })
        .collect())
}

async fn verify_now(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let outcome = verify::verify_shop(&ctx.state.services, id, &user_actor(admin.0.id)).await?;
    let tag = match outcome {
        VerifyOutcome::Verified => "verified",
        VerifyOutcome::NeedsReauth => "needs_reauth",
        VerifyOutcome::AccountClosed => "account_closed",
        VerifyOutcome::Mismatch => "mismatch",
        VerifyOutcome::NoKey => "no_key",
        VerifyOutcome::Unreadable => "unreadable",
        VerifyOutcome::ItsTrouble(_) => "its_trouble",
    };
    Ok(redirect(&format!("/admin/shops/{id}?outcome={tag}")))
}

async fn disconnect_confirm(
    ctx: Ctx,
    _admin: AdminUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let row = shops::find(&ctx.state.services.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    html(&DisconnectPage {
        c: ctx.chrome(ctx.m.disconnect_title),
        m: ctx.m,
        shop: ShopView::new(&row, ctx.m),
        shops_url: "/admin/shops",
    })
}

async fn disconnect(
    ctx: Ctx,
    admin: AdminUser,
    path: web::Path<Uuid>,
    _form: CsrfForm<NoFields>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    match shop_service::disconnect(&ctx.state.services, id, None, &user_actor(admin.0.id)).await {
        // A second click (or a resent form) finds the shop already disconnected: same answer.
        Ok(()) | Err(ServiceError::Refused(Refusal::NothingToDisconnect)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/admin/shops/{id}?outcome=disconnected")))
}
