//! The Zalo OA summary recounted the slow way, for the tests that check the counters the
//! triggers (and the seed's bulk load) keep: `tests/api/admin_oa.rs` and `tests/seed.rs`
//! include this one file (`#[path]`), so both compare against the same recount.

use std::collections::{BTreeMap, BTreeSet};

/// Each shop's OA summary from `zalo_oas`, as `shops.oa_*` should hold it:
/// (seq, OAs, connected, not connected, LOW, quota under 10 %, soonest expiry).
pub const SUMMARY_RECOUNT: &str =
    "SELECT s.seq, COUNT(o.oa_id), COALESCE(SUM(o.status = 'P'), 0), COALESCE(SUM(o.status <> 'P'), 0),
            COALESCE(SUM(o.current_quality = 'LOW'), 0),
            COALESCE(SUM(o.daily_quota > 0 AND o.remaining_quota * 10 < o.daily_quota), 0),
            MIN(o.expires_at)
     FROM shops s LEFT JOIN zalo_oas o ON o.shop_id = s.id GROUP BY s.seq";

/// A row of `SUMMARY_RECOUNT`.
pub type Summary = (i64, i64, i64, i64, i64, i64, Option<i64>);

/// What the summary of every shop must be, recounted from `zalo_oas` the slow way.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recount {
    /// (flag, key, shop_seq), as `shop_oa_flags` should hold them.
    pub flags: BTreeSet<(String, i64, i64)>,
    /// Shops per flag, as `shop_oa_counts` should hold them.
    pub counts: BTreeMap<String, i64>,
    /// Shops per UTC day of their soonest OA expiry, as `shop_oa_expiry_days` should hold
    /// them (days with none left out).
    pub expiry_days: BTreeMap<i64, i64>,
}

pub async fn recount(db: &sqlx::SqlitePool) -> Recount {
    let rows: Vec<Summary> = sqlx::query_as(SUMMARY_RECOUNT).fetch_all(db).await.unwrap();
    let mut r = Recount::default();
    for flag in [
        "none",
        "connected",
        "disconnected",
        "quality_low",
        "quota_low",
        "expires",
    ] {
        r.counts.insert(flag.to_owned(), 0);
    }
    for (seq, count, connected, disconnected, low, quota_low, expires) in rows {
        let mut add = |flag: &str, key: i64| {
            r.flags.insert((flag.to_owned(), key, seq));
            *r.counts.get_mut(flag).unwrap() += 1;
        };
        if count == 0 {
            add("none", 0);
        }
        if connected > 0 {
            add("connected", 0);
        }
        if disconnected > 0 {
            add("disconnected", 0);
        }
        if low > 0 {
            add("quality_low", 0);
        }
        if quota_low > 0 {
            add("quota_low", 0);
        }
        if let Some(at) = expires {
            add("expires", at);
            *r.expiry_days.entry(at / 86_400_000).or_default() += 1;
        }
    }
    r
}

/// The flags, counters and expiry days as the database keeps them.
pub async fn kept(db: &sqlx::SqlitePool) -> Recount {
    let flags: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT flag, key, shop_seq FROM shop_oa_flags")
            .fetch_all(db)
            .await
            .unwrap();
    let counts: Vec<(String, i64)> = sqlx::query_as("SELECT flag, n FROM shop_oa_counts")
        .fetch_all(db)
        .await
        .unwrap();
    let expiry_days: Vec<(i64, i64)> =
        sqlx::query_as("SELECT day, n FROM shop_oa_expiry_days WHERE n > 0")
            .fetch_all(db)
            .await
            .unwrap();
    Recount {
        flags: flags.into_iter().collect(),
        counts: counts.into_iter().collect(),
        expiry_days: expiry_days.into_iter().collect(),
    }
}
