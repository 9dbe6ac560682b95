use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled_at: Option<i64>,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    email: &str,
    name: &str,
    role: &str,
    password_hash: &str,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(email)
    .bind(name)
    .bind(role)
    .bind(password_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn find_by_email(
    db: impl SqliteExecutor<'_>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, name, role, password_hash, disabled_at FROM users WHERE email = ?",
    )
    .bind(email)
    .fetch_optional(db)
    .await
}

pub async fn count(db: impl SqliteExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await
}

pub async fn find_name(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_email(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A row of the admin's user list: the user and how many shops they own.
#[derive(Debug, Clone, FromRow)]
pub struct UserListRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub shops: i64,
}

/// One page of users ordered by email, after `after` (keyset), optionally only those whose
/// email or name contains `query` (case-insensitive for ASCII). The page is chosen first,
/// then its shops are counted with the owner index, so a large user table costs one page.
pub async fn list_page(
    db: impl SqliteExecutor<'_>,
    query: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UserListRow>, sqlx::Error> {
    let pattern = query.map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role, u.disabled_at, u.created_at, COUNT(s.id) AS shops
         FROM (SELECT id, email, name, role, disabled_at, created_at FROM users
               WHERE (?1 IS NULL OR email LIKE ?1 ESCAPE '\\' OR name LIKE ?1 ESCAPE '\\')
                 AND (?2 IS NULL OR email > ?2)
               ORDER BY email LIMIT ?3) u
         LEFT JOIN shops s ON s.owner_id = u.id
         GROUP BY u.id
         ORDER BY u.email",
    )
    .bind(pattern)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One user with their shop count.
pub async fn find_with_shops(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<UserListRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role, u.disabled_at, u.created_at,
                (SELECT COUNT(*) FROM shops s WHERE s.owner_id = u.id) AS shops
         FROM users u WHERE u.id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Marks a user disabled (login refused). Returns whether they were enabled.
pub async fn disable(
    db: impl SqliteExecutor<'_>,
    cache: &super::sessions::SessionCache,
    id: Uuid,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let _invalidate = super::sessions::InvalidateOnDrop(cache);
    let result =
        sqlx::query("UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Lets a disabled user log in again. Returns whether they were disabled.
pub async fn enable(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL")
            .bind(id)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Replaces a user's password hash only if it is still `old` (a re-hash at login must not
/// undo a reset made meanwhile). Returns whether it was replaced.
pub async fn replace_password_hash(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    old: &str,
    new: &str,
) -> Result<bool, sqlx::Error> {
    let result =
        sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
            .bind(new)
            .bind(id)
            .bind(old)
            .execute(db)
            .await?;
    Ok(result.rows_affected() == 1)
}

/// Replaces a user's password hash. Returns whether the user exists.
pub async fn set_password_hash(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
        .bind(password_hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}
