//! Re-checking a stored key with `CurrentShop`: by an admin's "Verify now", by the bulk
//! job, and by the scheduler. A 401 means the key stopped working: `needs_reauth`.

use uuid::Uuid;

use super::connect::Failure;
use super::reasons::{EventNote, FailureCode, Reason};
use super::{ServiceError, Services};
use crate::domain::ConnectionState;
use crate::its::{ErrorCode, ItsError};
use crate::store::oa_summary;
use crate::store::zalo_oas::{self, ExpiryNotice, OaEventKind};
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
            if from != ConnectionState::NeedsReauth {
                key_rejected(&mut tx, shop.id, from, now, actor).await?;
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
    if outcome == VerifyOutcome::Verified {
        // The key works: re-read the shop's OAs with it (after the commit above: no
        // transaction is open across the ITS call).
        if let Some(rejected) = reread_oas(svc, shop.id, &key, actor).await? {
            return Ok(rejected);
        }
    }
    Ok(outcome)
}

/// The most `ListOA` pages one re-read follows (a shop has one or two OAs; this only stops
/// a provider answer that never ends).
const LIST_OA_MAX_PAGES: usize = 20;

/// Re-reads the shop's OAs (`Zalo/ListOA` with the shop key) and stores what changed, with
/// its history entries and webhooks (through `zalo_oas::record_event`): status changes, a
/// quality drop to LOW, an expiry within 14 days or past (once per expiry). An OA no longer
/// listed by a complete answer is marked disconnected. A 401 is the shop key failing:
/// the shop moves to needs_reauth as for `CurrentShop`, and that outcome is returned. Any
/// other trouble leaves the stored OAs as they were (logged; the verification stands).
pub async fn reread_oas(
    svc: &Services,
    shop_id: Uuid,
    key: &crate::domain::ShopKey,
    actor: &str,
) -> Result<Option<VerifyOutcome>, ServiceError> {
    use crate::its::{ListOaRequest, Paging};
    let mut accounts = Vec::new();
    let mut after: Option<String> = None;
    let mut complete = false;
    for _ in 0..LIST_OA_MAX_PAGES {
        let request = ListOaRequest {
            paging: Paging {
                after: after.clone(),
                limit: Some(100),
                ..Default::default()
            },
            ..Default::default()
        };
        match svc.its.zalo_list_oa(key, &request).await {
            Ok(list) => {
                accounts.extend(list.accounts);
                match list.paging.next {
                    Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                    _ => {
                        complete = true;
                        break;
                    }
                }
            }
            Err(ItsError::Provider(p)) if p.code == ErrorCode::Unauthenticated => {
                return key_rejected_by_list_oa(svc, shop_id, actor).await.map(Some);
            }
            Err(err) => {
                tracing::warn!(shop = %shop_id, error = %err, "re-reading the shop's Zalo OAs failed");
                return Ok(None);
            }
        }
    }
    let now = store::now_ms();
    let mut tx = store::begin_write(&svc.db).await?;
    let listed: Vec<String> = accounts
        .iter()
        .map(|a| a.oa_id.as_str().to_owned())
        .collect();
    for oa in &accounts {
        let change = match zalo_oas::upsert(&mut tx, shop_id, oa, now).await {
            Ok(change) => change,
            Err(zalo_oas::UpsertError::OtherShop) => {
                tracing::warn!(shop = %shop_id, oa = oa.oa_id.as_str(), "ListOA names an OA stored for another shop; left as it is");
                continue;
            }
            Err(zalo_oas::UpsertError::Db(e)) => return Err(e.into()),
        };
        record_oa_change(&mut tx, shop_id, &change, actor, now).await?;
    }
    if complete {
        for stored in zalo_oas::for_shop(&mut *tx, shop_id).await? {
            if !listed.contains(&stored.oa_id)
                && zalo_oas::mark_unlisted(&mut tx, shop_id, &stored.oa_id, now).await?
            {
                zalo_oas::record_event(
                    &mut *tx,
                    shop_id,
                    Some(&stored.oa_id),
                    now,
                    actor,
                    OaEventKind::Disconnected,
                    Some("oa_not_listed"),
                )
                .await?;
            }
        }
    }
    // Expiry: within the window, or past it, once per OA per expiry.
    for stored in zalo_oas::for_shop(&mut *tx, shop_id).await? {
        let Some(expires_at) = stored.expires_at else {
            continue;
        };
        let notice = if expires_at <= now {
            ExpiryNotice::Expired
        } else if expires_at < oa_summary::expiring_before(now) {
            ExpiryNotice::Expiring
        } else {
            continue;
        };
        if zalo_oas::claim_expiry_notice(&mut tx, shop_id, &stored.oa_id, notice).await? {
            let kind = match notice {
                ExpiryNotice::Expiring => OaEventKind::Expiring,
                ExpiryNotice::Expired => OaEventKind::Expired,
            };
            zalo_oas::record_event(
                &mut *tx,
                shop_id,
                Some(&stored.oa_id),
                now,
                actor,
                kind,
                None,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// The history entries one re-read OA calls for (a verification's `ListOA`, or the OA read
/// again after a test message).
pub(super) async fn record_oa_change(
    tx: &mut sqlx::SqliteConnection,
    shop_id: Uuid,
    change: &zalo_oas::OaChange,
    actor: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    if let Some((from, to)) = &change.status {
        let kind = match to.as_str() {
            "P" => OaEventKind::Connected,
            "N" => OaEventKind::Disconnected,
            _ => OaEventKind::StatusChanged,
        };
        // A new OA that is not connected (`Z`) is worth a line, not an announcement.
        let reason = format!("status_changed: {} → {to}", from.as_deref().unwrap_or("—"));
        zalo_oas::record_event(
            &mut *tx,
            shop_id,
            Some(&change.oa_id),
            now,
            actor,
            kind,
            Some(&reason),
        )
        .await?;
    }
    if change.quality_dropped_to_low {
        zalo_oas::record_event(
            &mut *tx,
            shop_id,
            Some(&change.oa_id),
            now,
            actor,
            OaEventKind::QualityLow,
            None,
        )
        .await?;
    }
    Ok(())
}

/// The shop's key was refused (401): `from` → needs_reauth with the "key rejected" history
/// entry, if the shop still is in `from`; in the caller's transaction.
async fn key_rejected(
    conn: &mut sqlx::SqliteConnection,
    shop_id: Uuid,
    from: ConnectionState,
    now: i64,
    actor: &str,
) -> Result<(), sqlx::Error> {
    if shops::change_state(
        &mut *conn,
        shop_id,
        from,
        ConnectionState::NeedsReauth,
        None,
        now,
    )
    .await?
    {
        events::record_and_queue(
            &mut *conn,
            shop_id,
            now,
            actor,
            Some(from),
            ConnectionState::NeedsReauth,
            Some(EventNote::KeyRejected.name()),
        )
        .await?;
    }
    Ok(())
}

/// `ListOA` said 401 after `CurrentShop` accepted the key a moment ago: the key failed
/// between the calls. The same move as a 401 from `CurrentShop`.
async fn key_rejected_by_list_oa(
    svc: &Services,
    shop_id: Uuid,
    actor: &str,
) -> Result<VerifyOutcome, ServiceError> {
    let now = store::now_ms();
    let mut tx = store::begin_write(&svc.db).await?;
    let shop = shops::find(&mut *tx, shop_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let from = shop.state();
    if from == ConnectionState::Connected {
        key_rejected(&mut tx, shop_id, from, now, actor).await?;
    }
    shops::touch_verified(&mut *tx, shop_id, now).await?;
    tx.commit().await?;
    Ok(VerifyOutcome::NeedsReauth)
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
