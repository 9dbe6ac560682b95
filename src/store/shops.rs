use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

use crate::crypto::SealedKey;
use crate::domain::ConnectionState;

#[derive(Debug, Clone, FromRow)]
pub struct ShopRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// The partner's own id for the shop, set only by the partner's systems (the API).
    pub external_shop_id: Option<String>,
    /// The owner's own label ("Mã tham chiếu"): never sent to ITS, not in the API's `ext:`.
    pub owner_ref: Option<String>,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub state: String,
    pub failure_code: Option<String>,
    pub failure_detail: Option<String>,
    pub key_ciphertext: Option<Vec<u8>>,
    pub key_nonce: Option<Vec<u8>>,
    pub key_id: Option<String>,
    pub last_verified_at: Option<i64>,
    pub updated_at: i64,
    pub created_at: i64,
}

impl ShopRow {
    /// The state column, parsed. The column has a CHECK constraint, so this cannot fail
    /// for rows written by this app; an unknown value reads as `failed`, never panics.
    pub fn state(&self) -> ConnectionState {
        ConnectionState::parse(&self.state).unwrap_or(ConnectionState::Failed)
    }

    pub fn sealed_key(&self) -> Option<SealedKey> {
        SealedKey::from_columns(&self.key_ciphertext, &self.key_nonce, &self.key_id)
    }
}

const COLUMNS: &str = "id, owner_id, name, phone, email, external_shop_id, owner_ref, its_shop_id, its_shop_name, state, \
     failure_code, failure_detail, key_ciphertext, key_nonce, key_id, last_verified_at, updated_at, created_at";

pub struct NewShop<'a> {
    pub owner_id: Uuid,
    pub name: &'a str,
    pub search_name: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub external_shop_id: Option<&'a str>,
    pub owner_ref: Option<&'a str>,
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    shop: &NewShop<'_>,
    now: i64,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO shops (id, owner_id, name, search_name, phone, email, external_shop_id, owner_ref, state, updated_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'not_connected', ?, ?)",
    )
    .bind(id)
    .bind(shop.owner_id)
    .bind(shop.name)
    .bind(shop.search_name)
    .bind(shop.phone)
    .bind(shop.email)
    .bind(shop.external_shop_id)
    .bind(shop.owner_ref)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(id)
}

/// An owner's shops, most recently changed first.
pub async fn list_for_owner(
    db: impl SqliteExecutor<'_>,
    owner_id: Uuid,
    limit: i64,
) -> Result<Vec<ShopRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM shops WHERE owner_id = ? ORDER BY updated_at DESC, id DESC LIMIT ?"
    ))
    .bind(owner_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The newest shop of this owner with exactly this name, created at `since` or later.
pub async fn added_since(
    db: impl SqliteExecutor<'_>,
    owner_id: Uuid,
    name: &str,
    since: i64,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM shops WHERE owner_id = ? AND name = ? AND created_at >= ?
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(owner_id)
    .bind(name)
    .bind(since)
    .fetch_optional(db)
    .await
}

pub async fn find(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<Option<ShopRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM shops WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A shop with its owner's email, for the admin's shop page: one statement instead of two
/// (each is a round trip to the connection's thread).
#[derive(Debug, Clone, FromRow)]
pub struct ShopWithOwner {
    #[sqlx(flatten)]
    pub shop: ShopRow,
    pub owner_email: Option<String>,
}

pub async fn find_with_owner_email(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
) -> Result<Option<ShopWithOwner>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS}, (SELECT email FROM users WHERE users.id = shops.owner_id) AS owner_email \
         FROM shops WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A shop only if it belongs to `owner_id`: the one query every owner route uses.
pub async fn find_for_owner(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    owner_id: Uuid,
) -> Result<Option<ShopRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM shops WHERE id = ? AND owner_id = ?"
    ))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await
}

/// The details an owner may change (name, phone, email), on their own shop only.
/// `false`: no such shop of this owner.
#[allow(clippy::too_many_arguments)]
pub async fn update_details(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    owner_id: Uuid,
    name: &str,
    search_name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE shops SET name = ?, search_name = ?, phone = ?, email = ?, updated_at = ?
         WHERE id = ? AND owner_id = ?",
    )
    .bind(name)
    .bind(search_name)
    .bind(phone)
    .bind(email)
    .bind(now)
    .bind(id)
    .bind(owner_id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn find_by_its_shop_id(
    db: impl SqliteExecutor<'_>,
    its_shop_id: i64,
) -> Result<Option<ShopRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM shops WHERE its_shop_id = ?"
    ))
    .bind(its_shop_id)
    .fetch_optional(db)
    .await
}

/// Moves a shop to `to` only if it is still in `from` (compare-and-set), recording why a
/// failure happened. Returns whether the row changed.
pub async fn change_state(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    from: ConnectionState,
    to: ConnectionState,
    failure: Option<(&str, Option<&str>)>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE shops SET state = ?, failure_code = ?, failure_detail = ?, updated_at = ? WHERE id = ? AND state = ?",
    )
    .bind(to.as_str())
    .bind(failure.map(|f| f.0))
    .bind(failure.and_then(|f| f.1))
    .bind(now)
    .bind(id)
    .bind(from.as_str())
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Stores a verified key and marks the shop connected. Replaces any previous key: one
/// connection per shop.
pub async fn store_key(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    its_shop_id: i64,
    its_shop_name: &str,
    sealed: &SealedKey,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE shops SET its_shop_id = ?, its_shop_name = ?, key_ciphertext = ?, key_nonce = ?, key_id = ?,
                state = 'connected', failure_code = NULL, failure_detail = NULL,
                last_verified_at = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(its_shop_id)
    .bind(its_shop_name)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the ITS shop id (the provider says this partner never linked it).
pub async fn forget_its_shop_id(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE shops SET its_shop_id = NULL, its_shop_name = NULL, key_ciphertext = NULL, key_nonce = NULL,
                key_id = NULL, updated_at = ?
         WHERE id = ? AND state NOT IN ('connected', 'needs_reauth')",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes the stored key (not just hides it) and marks the shop disconnected. The ITS
/// shop id is kept so that a reconnect can ask ITS about the same shop.
pub async fn disconnect(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE shops SET state = 'disconnected', key_ciphertext = NULL, key_nonce = NULL, key_id = NULL,
                failure_code = NULL, failure_detail = NULL, updated_at = ?
         WHERE id = ? AND state NOT IN ('disconnected', 'not_connected')",
    )
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A successful `CurrentShop`: connected, verified now, the ITS name refreshed.
pub async fn mark_verified(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    its_shop_name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE shops SET state = 'connected', its_shop_name = ?, failure_code = NULL, failure_detail = NULL,
                last_verified_at = ?,
                updated_at = CASE WHEN state = 'connected' THEN updated_at ELSE ? END
         WHERE id = ? AND key_ciphertext IS NOT NULL",
    )
    .bind(its_shop_name)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that a verification reached a verdict, whatever it was.
pub async fn touch_verified(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE shops SET last_verified_at = ? WHERE id = ?")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Every stored key with the ids its associated data binds it to.
#[derive(Debug, Clone, FromRow)]
pub struct StoredKeyRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub key_ciphertext: Vec<u8>,
    pub key_nonce: Vec<u8>,
    pub key_id: String,
}

pub async fn all_stored_keys(
    db: impl SqliteExecutor<'_>,
) -> Result<Vec<StoredKeyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, owner_id, key_ciphertext, key_nonce, key_id FROM shops WHERE key_ciphertext IS NOT NULL",
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    /// The owner_ref migration: owner-typed ids become labels, ids the partner's systems
    /// assigned through the API (a partner user's shop) stay, once partner-wide.
    #[tokio::test]
    async fn owner_typed_external_ids_move_to_owner_ref_and_api_assigned_ones_stay() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let all = sqlx::migrate!("./migrations/app");
        let mut before = sqlx::migrate!("./migrations/app");
        before.migrations = all
            .migrations
            .iter()
            .filter(|m| m.version < 20261130000001)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&pool).await.unwrap();

        let owner = uuid::Uuid::new_v4();
        let partner_user = uuid::Uuid::new_v4();
        sqlx::query(
            "INSERT INTO users (id, email, name, role, password_hash, created_at, external_user_id)
             VALUES (?1, 'o@x.vn', 'O', 'owner', 'x', 0, NULL), (?2, 'p@x.vn', 'P', 'owner', 'x', 0, 'u-1')",
        )
        .bind(owner)
        .bind(partner_user)
        .execute(&pool)
        .await
        .unwrap();
        for (name, owner_id, ext, at) in [
            ("typed", owner, "shop-1", 1),
            ("api", partner_user, "shop-1", 2),
            ("api-2", partner_user, "shop-2", 3),
        ] {
            sqlx::query(
                "INSERT INTO shops (id, owner_id, name, search_name, external_shop_id, updated_at, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(uuid::Uuid::new_v4())
            .bind(owner_id)
            .bind(name)
            .bind(name)
            .bind(ext)
            .bind(at)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
        }

        all.run(&pool).await.unwrap();
        let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT name, external_shop_id, owner_ref FROM shops ORDER BY created_at",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            rows,
            vec![
                ("typed".into(), None, Some("shop-1".into())),
                ("api".into(), Some("shop-1".into()), None),
                ("api-2".into(), Some("shop-2".into()), None),
            ]
        );
        // The owner's label is still found by the admin search.
        let found: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM shops_search WHERE haystack MATCH '\"shop-1\"'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(found, 2);
        // One shop per external id across the partner.
        let dup = sqlx::query("UPDATE shops SET external_shop_id = 'shop-2' WHERE name = 'api'")
            .execute(&pool)
            .await;
        assert!(dup.is_err());
    }
}
