//! The Zalo apps whose secret we hold (`zalo_apps`): the partner's one app for all its
//! shops (`shop_id` NULL) and shops' own apps. The secret is sealed by the caller
//! (`KeySealer::seal_zalo_app_secret`, bound to the row id and shop), never stored plain.

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

use crate::crypto::SealedKey;

/// One `zalo_apps` row, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct StoredApp {
    pub id: Uuid,
    pub shop_id: Option<Uuid>,
    pub app_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub secret_nonce: Vec<u8>,
    pub secret_key_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl StoredApp {
    pub fn sealed_secret(&self) -> SealedKey {
        SealedKey {
            ciphertext: self.secret_ciphertext.clone(),
            nonce: self.secret_nonce.clone(),
            key_id: self.secret_key_id.clone(),
        }
    }
}

const COLUMNS: &str =
    "id, shop_id, app_id, secret_ciphertext, secret_nonce, secret_key_id, created_at, updated_at";

/// The partner's app, if one was saved on /admin/settings.
pub async fn partner(db: impl SqliteExecutor<'_>) -> Result<Option<StoredApp>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM zalo_apps WHERE shop_id IS NULL"
    ))
    .fetch_optional(db)
    .await
}

/// The shop's own app, if its owner entered one.
pub async fn for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
) -> Result<Option<StoredApp>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM zalo_apps WHERE shop_id = ?"
    ))
    .bind(shop_id)
    .fetch_optional(db)
    .await
}

/// One row by its id (a grant names the app row it used).
pub async fn get(db: impl SqliteExecutor<'_>, id: Uuid) -> Result<Option<StoredApp>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM zalo_apps WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Inserts the row `id` or replaces its app id and secret. `sealed` must be bound to `id`
/// and `shop_id` (the service reads the existing row's id first, in the same transaction,
/// so a replaced secret keeps its row and its binding).
pub async fn set(
    db: impl SqliteExecutor<'_>,
    id: Uuid,
    shop_id: Option<Uuid>,
    app_id: &str,
    sealed: &SealedKey,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO zalo_apps (id, shop_id, app_id, secret_ciphertext, secret_nonce, secret_key_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
         ON CONFLICT (id) DO UPDATE SET app_id = excluded.app_id,
             secret_ciphertext = excluded.secret_ciphertext, secret_nonce = excluded.secret_nonce,
             secret_key_id = excluded.secret_key_id, updated_at = excluded.updated_at",
    )
    .bind(id)
    .bind(shop_id)
    .bind(app_id)
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A few connected shops (the most recently verified first), whose key can ask ITS
/// whether the partner's app is accepted.
pub async fn connected_shop_ids(
    db: impl SqliteExecutor<'_>,
    limit: i64,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM shops WHERE state = 'connected' AND key_ciphertext IS NOT NULL
         ORDER BY last_verified_at DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Forgets the shop's own app (the shop goes back to the partner's app).
pub async fn delete_for_shop(
    db: impl SqliteExecutor<'_>,
    shop_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM zalo_apps WHERE shop_id = ?")
        .bind(shop_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{KeySealer, SecretKey};
    use crate::its::ZaloAppSecret;
    use crate::store::zalo_oas::tests::db_with_shops;

    #[tokio::test]
    async fn one_partner_app_and_one_app_per_shop_sealed_to_their_rows() {
        let (db, _, shops) = db_with_shops(1).await;
        let sealer = KeySealer::new(&SecretKey::generate());
        let secret = ZaloAppSecret::parse("partnerSecret123").unwrap();
        let id = Uuid::new_v4();
        set(
            &db,
            id,
            None,
            "111",
            &sealer.seal_zalo_app_secret(&secret, id, None),
            1,
        )
        .await
        .unwrap();
        // Replacing keeps the row.
        let secret2 = ZaloAppSecret::parse("partnerSecret456").unwrap();
        set(
            &db,
            id,
            None,
            "112",
            &sealer.seal_zalo_app_secret(&secret2, id, None),
            2,
        )
        .await
        .unwrap();
        let row = partner(&db).await.unwrap().unwrap();
        assert_eq!(
            (row.id, row.app_id.as_str(), row.created_at, row.updated_at),
            (id, "112", 1, 2)
        );
        assert_eq!(
            sealer
                .open_zalo_app_secret(&row.sealed_secret(), id, None)
                .unwrap(),
            secret2
        );
        // A second partner row is refused by the schema.
        let other = Uuid::new_v4();
        assert!(set(
            &db,
            other,
            None,
            "113",
            &sealer.seal_zalo_app_secret(&secret, other, None),
            3
        )
        .await
        .is_err());

        let own = Uuid::new_v4();
        set(
            &db,
            own,
            Some(shops[0]),
            "222",
            &sealer.seal_zalo_app_secret(&secret, own, Some(shops[0])),
            4,
        )
        .await
        .unwrap();
        let row = for_shop(&db, shops[0]).await.unwrap().unwrap();
        assert_eq!(row.app_id, "222");
        assert_eq!(
            get(&db, own).await.unwrap().unwrap().shop_id,
            Some(shops[0])
        );
        assert!(delete_for_shop(&db, shops[0]).await.unwrap());
        assert!(for_shop(&db, shops[0]).await.unwrap().is_none());
    }
}
