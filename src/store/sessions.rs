use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

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
    pub expires_at: i64,
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
        "SELECT s.user_id, u.email, u.name, u.role, s.csrf_token, s.last_seen_at, s.expires_at, s.scope_shop_id
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

/// Sessions read in the last few seconds, so most requests skip a database round trip.
/// Every change that can end a session or its user's right to one (`delete`,
/// `delete_for_user`, `users::disable`, `connect_links::end_sessions_of_key`) takes the
/// cache and bumps its generation, which empties it at once: "disabled" still means
/// "logged out now". One per app (it lives in `Services`), and one app per database, as
/// always with this SQLite app.
#[derive(Default)]
pub struct SessionCache {
    generation: AtomicU64,
    map: Mutex<HashMap<String, Cached>>,
}

const CACHE_TTL_MS: i64 = 5_000;
const CACHE_MAX: usize = 10_000;

struct Cached {
    row: SessionRow,
    fetched_at: i64,
    generation: u64,
}

impl SessionCache {
    /// Ends every cached session (called by each change that can end one, after it is written).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Invalidates when the statement is done (or failed), never before it ran.
pub struct InvalidateOnDrop<'a>(pub &'a SessionCache);

impl Drop for InvalidateOnDrop<'_> {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}

/// `find_live`, answered from memory when the same session was read moments ago. The
/// lifetime and idle rules are checked again on the cached row.
pub async fn find_live_cached(
    db: impl SqliteExecutor<'_>,
    cache: &SessionCache,
    id_hash: &str,
    now: i64,
    admin_idle_ms: i64,
    owner_idle_ms: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let generation = cache.generation.load(Ordering::SeqCst);
    {
        let map = cache.map();
        if let Some(hit) = map.get(id_hash) {
            let idle = if hit.row.role == "admin" {
                admin_idle_ms
            } else {
                owner_idle_ms
            };
            if hit.generation == generation
                && now - hit.fetched_at < CACHE_TTL_MS
                && hit.row.expires_at > now
                && hit.row.last_seen_at > now - idle
            {
                return Ok(Some(hit.row.clone()));
            }
        }
    }
    let row = find_live(db, id_hash, now, admin_idle_ms, owner_idle_ms).await?;
    let mut map = cache.map();
    match &row {
        Some(row) => {
            if map.len() >= CACHE_MAX {
                map.retain(|_, c| now - c.fetched_at < CACHE_TTL_MS);
                if map.len() >= CACHE_MAX {
                    map.clear();
                }
            }
            map.insert(
                id_hash.to_owned(),
                Cached {
                    row: row.clone(),
                    fetched_at: now,
                    generation,
                },
            );
        }
        None => {
            map.remove(id_hash);
        }
    }
    Ok(row)
}

pub async fn touch(
    db: impl SqliteExecutor<'_>,
    cache: &SessionCache,
    id_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?")
        .bind(now)
        .bind(id_hash)
        .execute(db)
        .await?;
    if let Some(hit) = cache.map().get_mut(id_hash) {
        hit.row.last_seen_at = now;
    }
    Ok(())
}

/// (Inside a transaction, the caller calls `SessionCache::invalidate` again after the commit.)
pub async fn delete(
    db: impl SqliteExecutor<'_>,
    cache: &SessionCache,
    id_hash: &str,
) -> Result<(), sqlx::Error> {
    let _invalidate = InvalidateOnDrop(cache);
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
    cache: &SessionCache,
    user_id: Uuid,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let _invalidate = InvalidateOnDrop(cache);
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?")
        .bind(user_id)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
