use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

/// A live session joined with its user.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    /// Set for a session opened by a connect link: the one shop it may see.
    pub scope_shop_id: Option<Uuid>,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    id_hash: &str,
    user_id: Uuid,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The session if it exists, is within its absolute lifetime, was seen within its role's
/// idle timeout, and its user is not disabled.
pub async fn find_live(
    db: impl SqliteExecutor<'_>,
    id_hash: &str,
    now: i64,
    admin_idle_ms: i64,
    owner_idle_ms: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.user_id, u.email, u.name, u.role, s.csrf_token, s.last_seen_at, s.scope_shop_id
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL
           AND s.last_seen_at > ? - CASE u.role WHEN 'admin' THEN ? ELSE ? END",
    )
    .bind(id_hash)
    .bind(now)
    .bind(now)
    .bind(admin_idle_ms)
    .bind(owner_idle_ms)
    .fetch_optional(db)
    .await
}

pub async fn touch(
    db: impl SqliteExecutor<'_>,
    id_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
        .bind(now)
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete(db: impl SqliteExecutor<'_>, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// A session as the admin's user page lists it.
#[derive(Debug, Clone, FromRow)]
pub struct UserSessionRow {
    pub id_hash: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// A user's sessions still within their lifetime and seen after `seen_after`, newest first.
pub async fn live_for_user(
    db: impl SqliteExecutor<'_>,
    user_id: Uuid,
    now: i64,
    seen_after: i64,
) -> Result<Vec<UserSessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_hash, created_at, last_seen_at FROM sessions
         WHERE user_id = ? AND expires_at > ? AND last_seen_at > ?
         ORDER BY last_seen_at DESC LIMIT 100",
    )
    .bind(user_id)
    .bind(now)
    .bind(seen_after)
    .fetch_all(db)
    .await
}

/// Ends every session of a user except `keep` (the acting admin's own, when they act on
/// themself). Returns how many ended.
pub async fn delete_for_user(
    db: impl SqliteExecutor<'_>,
    user_id: Uuid,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?")
        .bind(user_id)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
