//! The registry of every sealed column in the database, and the two queries `rotate-key`
//! needs to walk them. A column that holds a secret sealed under `SECRET_KEY` MUST be
//! listed here, or `rotate-key` leaves it behind and it stops opening once
//! `SECRET_KEY_PREVIOUS` is dropped; `tests/api/maintenance.rs` compares this list with
//! the migrated schema and fails on a sealed-looking column that is missing.

use sqlx::{FromRow, SqliteExecutor};
use uuid::Uuid;

use crate::crypto::{Binding, SealedKey};

/// Which `Binding` (associated data) a column's values are sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    ShopKey,
    WebhookSecret,
    /// Bound to the `zalo_apps` row and its `shop_id` (NULL: the partner's app).
    ZaloAppSecret,
}

/// One sealed value per row: the ciphertext, nonce and key-id columns of `table`, the row's
/// `id`, and for a shop key the owner column (for a Zalo app the shop column) its binding
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub ciphertext: &'static str,
    pub nonce: &'static str,
    pub key_id: &'static str,
    pub kind: SealedKind,
}

/// Every sealed column. Add the next one here (and a `Binding` for it in `crypto`).
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    SealedColumn {
        table: "shops",
        ciphertext: "key_ciphertext",
        nonce: "key_nonce",
        key_id: "key_id",
        kind: SealedKind::ShopKey,
    },
    SealedColumn {
        table: "webhook_endpoints",
        ciphertext: "secret_ciphertext",
        nonce: "secret_nonce",
        key_id: "secret_key_id",
        kind: SealedKind::WebhookSecret,
    },
    SealedColumn {
        table: "zalo_apps",
        ciphertext: "secret_ciphertext",
        nonce: "secret_nonce",
        key_id: "secret_key_id",
        kind: SealedKind::ZaloAppSecret,
    },
];

/// A stored sealed value and the binding it must open under.
#[derive(Debug, Clone)]
pub struct SealedRow {
    pub id: Uuid,
    pub binding: Binding,
    pub sealed: SealedKey,
}

#[derive(FromRow)]
struct Raw {
    id: Uuid,
    owner_id: Option<Uuid>,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_id: String,
}

/// Every value stored in `column` (rows where it is empty are skipped).
pub async fn all(
    db: impl SqliteExecutor<'_>,
    column: &SealedColumn,
) -> Result<Vec<SealedRow>, sqlx::Error> {
    // The names come from the constant registry above, never from input.
    let owner = match column.kind {
        SealedKind::ShopKey => "owner_id",
        SealedKind::WebhookSecret => "NULL",
        SealedKind::ZaloAppSecret => "shop_id",
    };
    let rows: Vec<Raw> = sqlx::query_as(&format!(
        "SELECT id, {owner} AS owner_id, {c} AS ciphertext, {n} AS nonce, {k} AS key_id
         FROM {t} WHERE {c} IS NOT NULL",
        c = column.ciphertext,
        n = column.nonce,
        k = column.key_id,
        t = column.table,
    ))
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SealedRow {
            id: r.id,
            binding: match column.kind {
                SealedKind::ShopKey => Binding::ShopKey {
                    shop_id: r.id,
                    // NOT NULL in the schema: a missing owner cannot open, and is reported.
                    owner_id: r.owner_id.unwrap_or(Uuid::nil()),
                },
                SealedKind::WebhookSecret => Binding::WebhookSecret { endpoint_id: r.id },
                SealedKind::ZaloAppSecret => Binding::ZaloAppSecret {
                    app_row_id: r.id,
                    shop_id: r.owner_id,
                },
            },
            sealed: SealedKey {
                ciphertext: r.ciphertext,
                nonce: r.nonce,
                key_id: r.key_id,
            },
        })
        .collect())
}

/// Replaces one row's sealed value (a rotation: the secret itself is unchanged).
pub async fn reseal(
    db: impl SqliteExecutor<'_>,
    column: &SealedColumn,
    id: Uuid,
    sealed: &SealedKey,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "UPDATE {t} SET {c} = ?, {n} = ?, {k} = ? WHERE id = ?",
        t = column.table,
        c = column.ciphertext,
        n = column.nonce,
        k = column.key_id,
    ))
    .bind(&sealed.ciphertext)
    .bind(&sealed.nonce)
    .bind(&sealed.key_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}
