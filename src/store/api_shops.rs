//! Shops as the JSON API shows them: with the owner's external user id, paged by
//! (created_at, id), which never changes, so a cursor never skips nor repeats a shop.

use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor, SqlitePool};
use uuid::Uuid;

use crate::domain::ConnectionState;
use crate::store::oa_summary::OaFilter;
use crate::store::zalo_oas::StoredOa;

#[derive(Debug, Clone, FromRow)]
pub struct ApiShopRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub external_shop_id: Option<String>,
    pub external_user_id: Option<String>,
    pub state: String,
    pub failure_code: Option<String>,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub last_verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// For an OA filter's cursor (`oa_summary`).
    pub seq: i64,
    pub oa_expires_at: Option<i64>,
}

const SELECT: &str = "SELECT s.id, s.owner_id, s.name, s.external_shop_id, u.external_user_id, s.state, \
     s.failure_code, s.its_shop_id, s.its_shop_name, s.last_verified_at, s.created_at, s.updated_at, \
     s.seq, s.oa_expires_at";
const FROM: &str = " FROM shops s JOIN users u ON u.id = s.owner_id";

#[derive(Debug, Clone, Default)]
pub struct ApiShopFilter {
    pub state: Option<ConnectionState>,
    pub external_user_id: Option<String>,
    /// The (created_at, id) of the last shop of the previous page.
    pub after: Option<(i64, Uuid)>,
    /// The shops' Zalo OAs. Its own index then leads and orders the page: shops in the
    /// order they were added (`seq`), or by soonest expiry for `Expiring`.
    pub oa: Option<OaFilter>,
    /// With `oa`: the (key, seq) of the last shop of the previous page (key 0 unless
    /// `Expiring`, where it is the shop's soonest expiry).
    pub after_oa: Option<(i64, i64)>,
}

pub fn build_query(filter: &ApiShopFilter, limit: i64) -> QueryBuilder<'static, Sqlite> {
    build_query_after("", filter, limit)
}

/// `EXPLAIN QUERY PLAN` of exactly the query `build_query` makes, values bound, for the
/// plan test.
pub fn explain_query(filter: &ApiShopFilter, limit: i64) -> QueryBuilder<'static, Sqlite> {
    build_query_after("EXPLAIN QUERY PLAN ", filter, limit)
}

fn build_query_after(
    prefix: &'static str,
    filter: &ApiShopFilter,
    limit: i64,
) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(prefix);
    qb.push(SELECT);
    match filter.oa {
        Some(oa) => oa.push_flag_source(&mut qb, true),
        None => {
            qb.push(FROM);
            qb.push(" WHERE 1 = 1");
        }
    }
    if let Some(state) = filter.state {
        qb.push(" AND s.state = ");
        qb.push_bind(state.as_str());
    }
    if let Some(ext) = &filter.external_user_id {
        qb.push(" AND u.external_user_id = ");
        qb.push_bind(ext.clone());
    }
    if let Some(oa) = filter.oa {
        {
            if let Some((key, seq)) = filter.after_oa {
                qb.push(" AND (g.key, g.shop_seq) > (");
                qb.push_bind(key);
                qb.push(", ");
                qb.push_bind(seq);
                qb.push(")");
            }
            qb.push(match oa {
                OaFilter::Expiring { .. } => " ORDER BY g.key, g.shop_seq LIMIT ",
                _ => " ORDER BY g.shop_seq LIMIT ",
            });
            qb.push_bind(limit);
            return qb;
        }
    }
    if let Some((created_at, id)) = filter.after {
        qb.push(" AND (s.created_at, s.id) > (");
        qb.push_bind(created_at);
        qb.push(", ");
        qb.push_bind(id);
        qb.push(")");
    }
    qb.push(" ORDER BY s.created_at, s.id LIMIT ");
    qb.push_bind(limit);
    qb
}

/// One page and whether there is another.
pub async fn page(
    db: &SqlitePool,
    filter: &ApiShopFilter,
    size: i64,
) -> Result<(Vec<ApiShopRow>, bool), sqlx::Error> {
    let mut rows: Vec<ApiShopRow> = build_query(filter, size + 1)
        .build_query_as()
        .fetch_all(db)
        .await?;
    let more = rows.len() as i64 > size;
    rows.truncate(size as usize);
    Ok((rows, more))
}

pub async fn find(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<ApiShopRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT}{FROM} WHERE s.id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every shop with this external shop id (several owners may use the same one).
pub async fn find_by_external_id(
    db: impl SqliteExecutor<'_>,
    external_shop_id: &str,
) -> Result<Vec<ApiShopRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT}{FROM} WHERE s.external_shop_id = ? ORDER BY s.created_at LIMIT 2"
    ))
    .bind(external_shop_id)
    .fetch_all(db)
    .await
}

/// The OAs of a page of shops, in one query (a seek of `zalo_oas_by_shop` per shop), so a
/// page costs the same whatever its number of shops with OAs.
pub async fn oas_for_shops(
    db: &SqlitePool,
    shop_ids: &[Uuid],
) -> Result<Vec<StoredOa>, sqlx::Error> {
    if shop_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
        "SELECT oa_id, shop_id, name, avatar_url, is_verified, app_id, status, daily_quota, \
         remaining_quota, current_quality, last_week_quality, expires_at, expiring_notified_for, \
         expired_notified_for, connected_at, last_read_at, updated_at FROM zalo_oas WHERE shop_id IN (",
    );
    let mut ids = qb.separated(", ");
    for id in shop_ids {
        ids.push_bind(*id);
    }
    qb.push(") ORDER BY shop_id, connected_at, oa_id");
    qb.build_query_as().fetch_all(db).await
}
