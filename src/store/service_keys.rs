//! Service API keys (`service_keys`) and the audit trail of shop keys read through the
//! API (`key_reads`), which is also the window the per-key rate limit counts.

use sqlx::{FromRow, SqliteConnection, SqliteExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct ServiceKeyRow {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_by_email: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "k.id, k.name, k.prefix, k.scopes, u.email AS created_by_email, k.created_at, \
     k.last_used_at, k.revoked_at";

pub struct NewServiceKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub created_by: Uuid,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    key: &NewServiceKey<'_>,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO service_keys (id, name, prefix, secret_hash, scopes, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(key.name)
    .bind(key.prefix)
    .bind(key.secret_hash)
    .bind(key.scopes)
    .bind(key.created_by)
    .bind(now)
    .execute(db)
    .await?;
    Ok(id)
}

/// The live (not revoked) key whose secret hashes to `secret_hash`.
pub async fn find_live_by_hash(
    db: impl SqliteExecutor<'_>,
    secret_hash: &str,
) -> Result<Option<ServiceKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM service_keys k LEFT JOIN users u ON u.id = k.created_by
         WHERE k.secret_hash = ? AND k.revoked_at IS NULL"
    ))
    .bind(secret_hash)
    .fetch_optional(db)
    .await
}

pub async fn find(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<ServiceKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM service_keys k LEFT JOIN users u ON u.id = k.created_by WHERE k.id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Every key, live ones first, newest first.
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<ServiceKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM service_keys k LEFT JOIN users u ON u.id = k.created_by
         ORDER BY k.revoked_at IS NOT NULL, k.created_at DESC LIMIT 500"
    ))
    .fetch_all(db)
    .await
}

/// Returns whether the key was live.
pub async fn revoke(db: impl SqliteExecutor<'_>, id: Uuid, now: i64) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE service_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Notes a use, at most once a minute per key (a write per request would cost more than
/// the request).
pub async fn touch(db: impl SqliteExecutor<'_>, id: Uuid, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE service_keys SET last_used_at = ?1
         WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1 - 60000)",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records one shop key read and returns how many reads this service key made in the
/// window ending now, this one included, and the oldest of them; `None` for an unknown
/// shop (nothing written). Run it first in its transaction: its insert takes the write
/// lock, so concurrent readers are counted one after the other and the limit holds.
pub async fn record_key_read(
    conn: &mut SqliteConnection,
    service_key_id: Uuid,
    shop_id: Uuid,
    now: i64,
    window_ms: i64,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO key_reads (service_key_id, shop_id, at) SELECT ?, id, ? FROM shops WHERE id = ?",
    )
    .bind(service_key_id)
    .bind(now)
    .bind(shop_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MIN(at), ?1) FROM key_reads WHERE service_key_id = ?2 AND at > ?1 - ?3",
    )
    .bind(now)
    .bind(service_key_id)
    .bind(window_ms)
    .fetch_one(&mut *conn)
    .await
    .map(Some)
}

/// Records one verification asked for through the API and returns how many this service
/// key asked for in the window ending now, this one included, and the oldest of them.
/// Rows past the window are deleted on the way. Run it first in its transaction (like
/// `record_key_read`), so concurrent calls are counted one after the other.
pub async fn record_verify_call(
    conn: &mut SqliteConnection,
    service_key_id: Uuid,
    now: i64,
    window_ms: i64,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query("INSERT INTO api_verify_calls (service_key_id, at) VALUES (?, ?)")
        .bind(service_key_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM api_verify_calls WHERE service_key_id = ?1 AND at <= ?2 - ?3")
        .bind(service_key_id)
        .bind(now)
        .bind(window_ms)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(
        "SELECT COUNT(*), COALESCE(MIN(at), ?1) FROM api_verify_calls WHERE service_key_id = ?2 AND at > ?1 - ?3",
    )
    .bind(now)
    .bind(service_key_id)
    .bind(window_ms)
    .fetch_one(&mut *conn)
    .await
}
