//! Connect links (`connect_links`), the partner users the API creates (found by
//! `users.external_user_id`), and the sessions a link opens (scoped to one shop).

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct ExternalUser {
    pub id: Uuid,
    pub role: String,
    pub disabled_at: Option<i64>,
}

pub async fn find_user_by_external_id(
    db: impl SqliteExecutor<'_>,
    external_user_id: &str,
) -> Result<Option<ExternalUser>, sqlx::Error> {
    sqlx::query_as("SELECT id, role, disabled_at FROM users WHERE external_user_id = ?")
        .bind(external_user_id)
        .fetch_optional(db)
        .await
}

/// A shop owner who never logs in with a password: `password_hash` holds a marker that
/// is not a PHC string, so every password check fails on it.
pub async fn insert_external_user(
    db: impl SqliteExecutor<'_>,
    external_user_id: &str,
    email: &str,
    name: &str,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, created_at, external_user_id)
         VALUES (?, ?, ?, 'owner', '!no-password: created by the API', ?, ?)",
    )
    .bind(id)
    .bind(email)
    .bind(name)
    .bind(now)
    .bind(external_user_id)
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn email_taken(db: impl SqliteExecutor<'_>, email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = ?)")
        .bind(email)
        .fetch_one(db)
        .await
}

/// The owners (at most two, enough to tell "another owner has it") of shops with this
/// external shop id.
pub async fn owners_of_external_shop(
    db: impl SqliteExecutor<'_>,
    external_shop_id: &str,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, owner_id FROM shops WHERE external_shop_id = ? ORDER BY created_at LIMIT 2",
    )
    .bind(external_shop_id)
    .fetch_all(db)
    .await
}

pub struct NewLink<'a> {
    pub token_hash: &'a str,
    pub shop_id: Uuid,
    pub user_id: Uuid,
    pub return_url: Option<&'a str>,
    pub service_key_id: Option<Uuid>,
    pub expires_at: i64,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    link: &NewLink<'_>,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO connect_links (id, token_hash, shop_id, user_id, return_url, service_key_id, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(link.token_hash)
    .bind(link.shop_id)
    .bind(link.user_id)
    .bind(link.return_url)
    .bind(link.service_key_id)
    .bind(now)
    .bind(link.expires_at)
    .execute(db)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, FromRow)]
pub struct LinkRow {
    pub id: Uuid,
    pub shop_id: Uuid,
    pub user_id: Uuid,
    pub return_url: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The link's user has been disabled since (the link must not open a session).
    pub user_disabled: bool,
    /// The service key that made the link has been revoked since.
    pub key_revoked: bool,
}

pub async fn find_by_hash(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
) -> Result<Option<LinkRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.id, l.shop_id, l.user_id, l.return_url, l.expires_at, l.used_at,
                u.disabled_at IS NOT NULL AS user_disabled,
                k.revoked_at IS NOT NULL AS key_revoked
         FROM connect_links l
         JOIN users u ON u.id = l.user_id
         LEFT JOIN service_keys k ON k.id = l.service_key_id
         WHERE l.token_hash = ?",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Uses a link in one statement: of any number of simultaneous requests, one gets it; and
/// none does once its user is disabled or the service key that made it is revoked.
pub async fn consume(
    db: impl SqliteExecutor<'_>,
    token_hash: &str,
    session_hash: &str,
    now: i64,
) -> Result<Option<LinkRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE connect_links SET used_at = ?1, session_hash = ?2
         WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1
           AND NOT EXISTS (SELECT 1 FROM users u
                           WHERE u.id = connect_links.user_id AND u.disabled_at IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM service_keys k
                           WHERE k.id = connect_links.service_key_id AND k.revoked_at IS NOT NULL)
         RETURNING id, shop_id, user_id, return_url, expires_at, used_at,
                   FALSE AS user_disabled, FALSE AS key_revoked",
    )
    .bind(now)
    .bind(session_hash)
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// A session that may see one shop only.
pub async fn insert_scoped_session(
    db: impl SqliteExecutor<'_>,
    id_hash: &str,
    user_id: Uuid,
    shop_id: Uuid,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, scope_shop_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(now)
    .bind(now)
    .bind(expires_at)
    .bind(shop_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Where a link-opened session goes back to, and the shop's external id for the query.
pub async fn return_for_session(
    db: impl SqliteExecutor<'_>,
    session_hash: &str,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT l.return_url, s.external_shop_id FROM connect_links l JOIN shops s ON s.id = l.shop_id
         WHERE l.session_hash = ? AND l.return_url IS NOT NULL",
    )
    .bind(session_hash)
    .fetch_optional(db)
    .await
}

/// Ends the sessions opened by the links a service key made (when the key is revoked, the
/// access it handed out goes with it). Returns how many ended. The caller empties the
/// session cache after its commit (`SessionCache::invalidate`).
pub async fn end_sessions_of_key(
    db: impl SqliteExecutor<'_>,
    service_key_id: Uuid,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM sessions WHERE id_hash IN
           (SELECT session_hash FROM connect_links
            WHERE service_key_id = ? AND session_hash IS NOT NULL)",
    )
    .bind(service_key_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
