//! Shops as the JSON API shows them: with the owner's external user id, paged by
//! (created_at, id), which never changes, so a cursor never skips nor repeats a shop.

use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteExecutor, SqlitePool};
use uuid::Uuid;

use crate::domain::ConnectionState;

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
}

const SELECT: &str = "SELECT s.id, s.owner_id, s.name, s.external_shop_id, u.external_user_id, s.state, \
     s.failure_code, s.its_shop_id, s.its_shop_name, s.last_verified_at, s.created_at, s.updated_at \
     FROM shops s JOIN users u ON u.id = s.owner_id";

#[derive(Debug, Clone, Default)]
pub struct ApiShopFilter {
    pub state: Option<ConnectionState>,
    pub external_user_id: Option<String>,
    /// The (created_at, id) of the last shop of the previous page.
    pub after: Option<(i64, Uuid)>,
}

pub fn build_query(filter: &ApiShopFilter, limit: i64) -> QueryBuilder<'static, Sqlite> {
    let mut qb = QueryBuilder::new(SELECT);
    qb.push(" WHERE 1 = 1");
    if let Some(state) = filter.state {
        qb.push(" AND s.state = ");
        qb.push_bind(state.as_str());
    }
    if let Some(ext) = &filter.external_user_id {
        qb.push(" AND u.external_user_id = ");
        qb.push_bind(ext.clone());
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
    sqlx::query_as(&format!("{SELECT} WHERE s.id = ?"))
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
        "{SELECT} WHERE s.external_shop_id = ? ORDER BY s.created_at LIMIT 2"
    ))
    .bind(external_shop_id)
    .fetch_all(db)
    .await
}
