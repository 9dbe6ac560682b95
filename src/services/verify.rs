//! Re-checking a stored key with `CurrentShop`: by an admin's "Verify now", by the bulk
//! job, and by the scheduler. A 401 means the key stopped working: `needs_reauth`.

use uuid::Uuid;

use super::connect::Failure;
use super::{ServiceError, Services};
use crate::domain::ConnectionState;
use crate::its::{ErrorCode, ItsError};
use crate::store::{self, events, shops};

/// What one verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// The key works and names the stored ITS shop.
    Verified,
    /// ITS said 401: the shop must log in again.
    NeedsReauth,
    /// The key works but for another ITS shop than the one stored (recorded, state failed).
    Mismatch,
    /// Nothing to verify: no stored key.
    NoKey,
    /// The stored key does not decrypt (wrong secret or altered row).
    Unreadable,
    /// ITS could not answer (timeout, 5xx…): nothing changed.
    ItsTrouble(Failure),
}

impl VerifyOutcome {
    /// Whether the bulk job counts it as a failure.
    pub fn is_failure(&self) -> bool {
        !matches!(self, VerifyOutcome::Verified)
    }
}

pub async fn verify_shop(
    svc: &Services,
    shop_id: Uuid,
    actor: &str,
) -> Result<VerifyOutcome, ServiceError> {
    let shop = shops::find(&svc.db, shop_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let key = match super::shops::stored_key(&svc.sealer, &shop) {
        super::shops::StoredKey::Readable(key) => key,
        super::shops::StoredKey::Missing => return Ok(VerifyOutcome::NoKey),
        super::shops::StoredKey::Unreadable => return Ok(VerifyOutcome::Unreadable),
    };
    let answer = svc.its.current_shop(&key).await;
    let now = store::now_ms();
    let from = shop.state();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let outcome = match answer {
        Ok(current) if Some(current.id.get()) == shop.its_shop_id => {
            shops::mark_verified(&mut *tx, shop.id, &current.name, now).await?;
            if from != ConnectionState::Connected {
                events::record_and_queue(
                    &mut *tx,
                    shop.id,
                    now,
                    actor,
                    Some(from),
                    ConnectionState::Connected,
                    Some("event_verified"),
                )
                .await?;
            }
            VerifyOutcome::Verified
        }
        Ok(current) => {
            let detail = format!(
                "stored {:?}, CurrentShop said {}",
                shop.its_shop_id, current.id
            );
            let reason = format!("error_shop_id_mismatch | {detail}");
            if shops::change_state(
                &mut *tx,
                shop.id,
                from,
                ConnectionState::Failed,
                // The detail is ours, not the provider's: history and log only, never
                // shown to the owner after "ITS trả lời".
                Some(("error_shop_id_mismatch", None)),
                now,
            )
            .await?
            {
                events::record_and_queue(
                    &mut *tx,
                    shop.id,
                    now,
                    actor,
                    Some(from),
                    ConnectionState::Failed,
                    Some(&reason),
                )
                .await?;
            }
            VerifyOutcome::Mismatch
        }
        Err(ItsError::Provider(p)) if p.code == ErrorCode::Unauthenticated => {
            if from != ConnectionState::NeedsReauth
                && shops::change_state(
                    &mut *tx,
                    shop.id,
                    from,
                    ConnectionState::NeedsReauth,
                    None,
                    now,
                )
                .await?
            {
                events::record_and_queue(
                    &mut *tx,
                    shop.id,
                    now,
                    actor,
                    Some(from),
                    ConnectionState::NeedsReauth,
                    Some("event_key_rejected"),
                )
                .await?;
            }
            shops::touch_verified(&mut *tx, shop.id, now).await?;
            VerifyOutcome::NeedsReauth
        }
        Err(err) => {
            tracing::warn!(shop = %shop.id, error = %err, "verification could not reach a verdict");
            VerifyOutcome::ItsTrouble(Failure::from_its(&err))
        }
    };
    tx.commit().await?;
    Ok(outcome)
}
