//! The shops' Zalo OA summary for the partner admin and the API (migration
//! `20261201000002_zalo_oa_summary`): per shop, the `shops.oa_*` columns; per OA filter,
//! the rows of `shop_oa_flags` (one primary key every filter seeks); per filter, the
//! counters of `shop_oa_counts`. Triggers on `zalo_oas` keep all three exact in the same
//! transaction as every OA change, so nothing here reads more than a page or a few rows.

use sqlx::{QueryBuilder, Sqlite, SqliteExecutor};

/// How soon an expiring refresh token shows: the owner's "Gia hạn" is offered from 14 days
/// before expiry (issue 12), so the admin's filter and the `expiring` webhook use the same.
pub const EXPIRING_WITHIN_MS: i64 = 14 * 24 * 60 * 60 * 1000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Where the "expiring" window ends at `now`: the start of the UTC day 14 days on, so every
/// shop it holds expires within 14 days (and can be renewed). Whole days because the
/// per-day counters then answer the count alone, without reading a single shop's row (a
/// window ending mid-day would count that day's shops one by one: ~1,000 rows per
/// overview at a million shops). Every place that says "expiring" (the admin filter and
/// its badge, the overview, the API's `oa_status`, the `zalo_oa.expiring` webhook) uses it.
pub fn expiring_before(now: i64) -> i64 {
    (now + EXPIRING_WITHIN_MS).div_euclid(DAY_MS) * DAY_MS
}

/// The OA filters of the admin list and of the API's `oa_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaFilter {
    /// No OA at all.
    NoOa,
    /// At least one OA with status `P`.
    Connected,
    /// At least one OA that is not connected (`N`, or `Z`/unknown: none can send ZNS).
    Disconnected,
    /// At least one OA whose delivery quality over the last 48 h is `LOW`.
    QualityLow,
    /// At least one OA with under 10 % of its daily quota left.
    QuotaLow,
    /// An OA's refresh token expires before `before` (unix ms), or already has.
    Expiring { before: i64 },
}

impl OaFilter {
    /// The names in URLs and in the API (`oa_status`); `now` places the expiry window.
    pub fn parse(s: &str, now: i64) -> Option<OaFilter> {
        Some(match s {
            "none" => OaFilter::NoOa,
            "connected" => OaFilter::Connected,
            "disconnected" => OaFilter::Disconnected,
            "quality_low" => OaFilter::QualityLow,
            "quota_low" => OaFilter::QuotaLow,
            "expiring" => OaFilter::Expiring {
                before: expiring_before(now),
            },
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OaFilter::NoOa => "none",
            OaFilter::Connected => "connected",
            OaFilter::Disconnected => "disconnected",
            OaFilter::QualityLow => "quality_low",
            OaFilter::QuotaLow => "quota_low",
            OaFilter::Expiring { .. } => "expiring",
        }
    }

    pub const NAMES: [&'static str; 6] = [
        "none",
        "connected",
        "disconnected",
        "quality_low",
        "quota_low",
        "expiring",
    ];

    /// The `shop_oa_flags.flag` this filter seeks.
    fn flag(self) -> &'static str {
        match self {
            OaFilter::Expiring { .. } => "expires",
            other => other.as_str(),
        }
    }

    /// Drives a query from `shop_oa_flags` (aliased `g`): `FROM shop_oa_flags g JOIN shops s
    /// ON s.seq = g.shop_seq WHERE g.flag = … AND g.key …`. A boolean filter's rows come
    /// newest shop first (`ORDER BY g.shop_seq DESC`), an expiry's soonest first
    /// (`ORDER BY g.key, g.shop_seq`): either way the primary key hands them over in order.
    /// `owners` joins each shop's owner (`u`), which a page shows and a count does not need.
    pub fn push_flag_source(self, qb: &mut QueryBuilder<'static, Sqlite>, owners: bool) {
        qb.push(" FROM shop_oa_flags g JOIN shops s ON s.seq = g.shop_seq");
        if owners {
            qb.push(" JOIN users u ON u.id = s.owner_id");
        }
        qb.push(" WHERE g.flag = ");
        qb.push_bind(self.flag());
        match self {
            OaFilter::Expiring { before } => {
                qb.push(" AND g.key < ");
                qb.push_bind(before);
            }
            _ => {
                qb.push(" AND g.key = 0");
            }
        }
    }

    /// The same filter as a condition on the shop's own summary columns, for a query driven
    /// by another index (a search's matches, an owner's shops): one row's columns, no seek.
    pub fn push_column_condition(self, qb: &mut QueryBuilder<'static, Sqlite>) {
        match self {
            OaFilter::NoOa => {
                qb.push(" AND s.oa_count = 0");
            }
            OaFilter::Connected => {
                qb.push(" AND s.oa_connected > 0");
            }
            OaFilter::Disconnected => {
                qb.push(" AND s.oa_disconnected > 0");
            }
            OaFilter::QualityLow => {
                qb.push(" AND s.oa_low > 0");
            }
            OaFilter::QuotaLow => {
                qb.push(" AND s.oa_quota_low > 0");
            }
            OaFilter::Expiring { before } => {
                qb.push(" AND s.oa_expires_at < ");
                qb.push_bind(before);
            }
        }
    }
}

/// The expiring count's expression: the whole UTC days before `?1` from the per-day
/// counters, plus `?1`'s own day from the flags' key (see migration 20261201000003), so its
/// cost does not grow with the shops; with `expiring_before`'s whole-day `?1` the second
/// part is an empty range. A macro so that `COUNT_EXPIRING` and `store::overview` share
/// one literal.
macro_rules! oa_expiring_count_sql {
    () => {
        "(SELECT COALESCE(SUM(n), 0) FROM shop_oa_expiry_days WHERE day < ?1 / 86400000)
  + (SELECT COUNT(*) FROM shop_oa_flags
     WHERE flag = 'expires' AND key >= ?1 / 86400000 * 86400000 AND key < ?1)"
    };
}
pub(crate) use oa_expiring_count_sql;

/// The expiring count's SQL (public so the plan test can `EXPLAIN QUERY PLAN` it).
pub const COUNT_EXPIRING: &str = concat!("SELECT ", oa_expiring_count_sql!());

/// Shops one OA filter holds, from the counters (the expiring window: `count_expiring`).
pub async fn count(db: impl SqliteExecutor<'_>, filter: OaFilter) -> Result<i64, sqlx::Error> {
    match filter {
        OaFilter::Expiring { before } => count_expiring(db, before).await,
        other => {
            sqlx::query_scalar("SELECT COALESCE(SUM(n), 0) FROM shop_oa_counts WHERE flag = ?")
                .bind(other.flag())
                .fetch_one(db)
                .await
        }
    }
}

pub async fn count_expiring(db: impl SqliteExecutor<'_>, before: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(COUNT_EXPIRING)
        .bind(before)
        .fetch_one(db)
        .await
}
