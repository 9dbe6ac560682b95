//! Operations work: a consistent backup of the live database, and re-sealing every stored
//! shop key under a new `SECRET_KEY`.

use std::path::Path;

use sqlx::SqlitePool;

use crate::crypto::{KeySealer, SealedKey};
use crate::store::shops;

/// Writes a consistent copy of the live database to `target` with `VACUUM INTO` (never a
/// plain file copy, which could catch a half-written page or miss the WAL). The app may
/// keep serving meanwhile. The copy holds sealed keys only; the secret is not in it.
pub async fn backup(db: &SqlitePool, target: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        !target.exists(),
        "{} exists already: choose a new file name",
        target.display()
    );
    let text = target
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    sqlx::query("VACUUM INTO ?").bind(text).execute(db).await?;
    Ok(())
}

/// What a rotation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub resealed: usize,
    pub already_current: usize,
}

/// Re-seals every stored key with `new`, in one transaction: either every row moves to the
/// new secret or none does. A row that `old` cannot open (wrong secret, flipped bit, row
/// copied from elsewhere) stops the rotation and is named, never re-sealed as garbage.
pub async fn rotate_keys(
    db: &SqlitePool,
    old: &KeySealer,
    new: &KeySealer,
) -> anyhow::Result<RotationReport> {
    let mut tx = crate::store::begin_write(db).await?;
    let rows = shops::all_stored_keys(&mut *tx).await?;
    let mut report = RotationReport::default();
    let mut unreadable = Vec::new();
    for row in rows {
        if row.key_id == new.key_id() {
            report.already_current += 1;
            continue;
        }
        let sealed = SealedKey {
            ciphertext: row.key_ciphertext,
            nonce: row.key_nonce,
            key_id: row.key_id,
        };
        match old.open(&sealed, row.id, row.owner_id) {
            Ok(key) => {
                shops::reseal(&mut *tx, row.id, &new.seal(&key, row.id, row.owner_id)).await?;
                report.resealed += 1;
            }
            Err(err) => unreadable.push(format!("{} ({err})", row.id)),
        }
    }
    if !unreadable.is_empty() {
        anyhow::bail!(
            "nothing was changed: {} stored key(s) do not open with the current SECRET_KEY (or SECRET_KEY_PREVIOUS): {}",
            unreadable.len(),
            unreadable.join(", ")
        );
    }
    tx.commit().await?;
    Ok(report)
}
