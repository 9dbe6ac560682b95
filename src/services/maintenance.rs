//! Operations work: a consistent backup of the live database, and re-sealing every stored
//! secret (every column in `store::sealed::SEALED_COLUMNS`) under a new `SECRET_KEY`.

use std::path::Path;

use sqlx::SqlitePool;

use crate::crypto::KeySealer;
use crate::store::sealed::{self, SEALED_COLUMNS};

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
    // The copy holds owners' emails and phones: create it 0600 before SQLite fills it
    // (VACUUM INTO accepts an existing empty file).
    crate::store::create_private_file(target)?;
    if let Err(e) = crate::store::vacuum_into(db, text).await {
        let _ = std::fs::remove_file(target);
        return Err(e.into());
    }
    Ok(())
}

/// What a rotation did, over every sealed column.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub resealed: usize,
    pub already_current: usize,
    /// Re-sealed per table, in the registry's order.
    pub resealed_by_table: Vec<(&'static str, usize)>,
}

/// Re-seals every stored secret of every column in `SEALED_COLUMNS` with `new`, in one
/// transaction: either every row moves to the new secret or none does. A row that does not
/// open (wrong secret, flipped bit, row copied from elsewhere) stops the rotation and is
/// named, never re-sealed as garbage. A row already under `new` but sealed with an older
/// binding (webhook secrets sealed as shop keys) is re-sealed under its own binding too.
pub async fn rotate_keys(
    db: &SqlitePool,
    old: &KeySealer,
    new: &KeySealer,
) -> anyhow::Result<RotationReport> {
    let mut tx = crate::store::begin_write(db).await?;
    let mut report = RotationReport::default();
    let mut unreadable = Vec::new();
    for column in SEALED_COLUMNS {
        let mut resealed = 0;
        for row in sealed::all(&mut *tx, column).await? {
            let current = row.sealed.key_id == new.key_id();
            let opener = if current { new } else { old };
            match opener.open_bytes(&row.sealed, &row.binding) {
                Ok(opened) if current && !opened.legacy => report.already_current += 1,
                Ok(opened) => {
                    let resealed_row = new.seal_bytes(&opened.plain, &row.binding);
                    sealed::reseal(&mut *tx, column, row.id, &resealed_row).await?;
                    resealed += 1;
                }
                Err(err) => unreadable.push(format!("{} {} ({err})", column.table, row.id)),
            }
        }
        report.resealed += resealed;
        report.resealed_by_table.push((column.table, resealed));
    }
    if !unreadable.is_empty() {
        anyhow::bail!(
            "nothing was changed: {} stored secret(s) do not open with the current SECRET_KEY (or SECRET_KEY_PREVIOUS): {}",
            unreadable.len(),
            unreadable.join(", ")
        );
    }
    tx.commit().await?;
    Ok(report)
}
