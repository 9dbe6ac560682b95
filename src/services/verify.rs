//! Re-checking a stored key with `CurrentShop`: by an admin's "Verify now", by the bulk
//! job, and by the scheduler. A 401 means the key stopped working: `needs_reauth`.

use uuid::Uuid;

use super::connect::Failure;
use super::reasons::{EventNote, FailureCode, Reason};
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
    /// ITS said 401 and, asked about the shop, that its account is closed (state failed:
    /// logging in again cannot help; the owner must have the account reopened).
    AccountClosed,
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
    // `CurrentShop` answers a closed account's key with the same 401 as an unlinked one;
    // `AuthorizeShop{shop_id}` (partner key) tells them apart: `account_closed`. Asked
    // before the transaction opens (never one across an ITS call).
    let closed = match (&answer, shop.its_shop_id) {
        (Err(ItsError::Provider(p)), Some(its_id)) if p.code == ErrorCode::Unauthenticated => {
            account_closed(svc, its_id).await
        }
        _ => None,
    };
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
                    Some(EventNote::Verified.name()),
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
            let reason = Reason::from(FailureCode::ShopIdMismatch).stored(Some(&detail));
            if shops::change_state(
                &mut *tx,
                shop.id,
                from,
                ConnectionState::Failed,
                // The detail is ours, not the provider's: history and log only, never
                // shown to the owner after "ITS trả lời".
                Some((FailureCode::ShopIdMismatch.name(), None)),
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
        Err(ItsError::Provider(p)) if p.code == ErrorCode::Unauthenticated && closed.is_some() => {
            let failure = closed.unwrap_or_else(|| Failure::new(FailureCode::ItsAccountClosed));
            let reason = failure.reason();
            if shops::change_state(
                &mut *tx,
                shop.id,
                from,
                ConnectionState::Failed,
                Some((failure.code.name(), failure.provider_msg.as_deref())),
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
            shops::touch_verified(&mut *tx, shop.id, now).await?;
            VerifyOutcome::AccountClosed
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
                    Some(EventNote::KeyRejected.name()),
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

/// Whether ITS says the shop's account is closed: the failure to record, or `None` (any
/// other answer, or no answer: the 401 then means what it usually means).
async fn account_closed(svc: &Services, its_shop_id: i64) -> Option<Failure> {
    let shop_id = crate::domain::ShopId::from_i64(its_shop_id).ok()?;
    let request = crate::its::AuthorizeShopRequest {
        shop_id: Some(shop_id),
        ..Default::default()
    };
    match svc.its.authorize_shop(&request).await {
        Err(err @ ItsError::Provider(_)) => {
            let failure = Failure::from_its(&err);
            (failure.code == FailureCode::ItsAccountClosed).then_some(failure)
        }
        _ => None,
    }
}
