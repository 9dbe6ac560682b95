//! The connect flow: pressing "Kết nối Zalo", and the provider's callback.
//!
//! 1. `start`: record an attempt with our own random token (only its hash is stored),
//!    mark the shop `pending` (a connected shop keeps its state and key until a new key
//!    is confirmed), commit; then call `AuthorizeShop` with
//!    `redirect_url = PUBLIC_URL/connect/callback?token=…` (or, in the fixed redirect
//!    mode, exactly `PUBLIC_URL/connect/callback`) and `external_shop_id` = the shop's
//!    UUID: ours, unique across the partner, recorded by ITS on the relation when the
//!    shop approves. `shop_request` sends the browser to `auth_url`; `shop_key` (the
//!    lookup by our own id) finishes at once.
//! 2. `callback`: consume the attempt in one statement (so a token, or in the fixed mode
//!    the session's pending attempt, works exactly once). The callback's `shop_id` is
//!    untrusted: an attempt that asked about a known ITS shop requires that very shop;
//!    otherwise `AuthorizeShop{external_shop_id: <our UUID>}` must answer `shop_key`, so
//!    only the shop that approved *our* request counts. `CurrentShop` with the key must
//!    name the callback's shop before anything is stored.
//! 3. `verify_and_store`: one short transaction stores the sealed key and the state.

use url::Url;
use uuid::Uuid;

use super::reasons::{EventNote, FailureCode, Reason};
use super::{Refusal, ServiceError, Services};
use crate::configuration::RedirectMode;
use crate::crypto::{random_token, token_hash};
use crate::domain::{ConnectionState, ShopId, ShopKey};
use crate::its::{prefill, Authorization, AuthorizeShopRequest, ErrorCode, ItsError};
use crate::store::{self, attempts, events, shops, shops::ShopRow};

/// How long a callback token is valid.
pub const ATTEMPT_TTL_MS: i64 = 15 * 60 * 1000;
/// How many unfinished attempts one user may have at once.
pub const MAX_PENDING_PER_USER: i64 = 5;
/// A press of "Kết nối Zalo" within this time of the previous one leaves that one valid.
pub const DOUBLE_CLICK_GRACE_MS: i64 = 10_000;
/// How many times in a row ITS may ask the shop to log in again before we stop.
pub const MAX_RELOGINS: i64 = 2;

/// Why a connection failed: its code (with the owner's message), the provider's own words (if
/// it sent any), and the raw detail for the admin's history and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: FailureCode,
    /// Codes, HTTP statuses, ids: for the shop's history (admins) and the log, never for
    /// the owner.
    pub detail: Option<String>,
    /// Only the provider's own `msg` from an error body: the one text ever shown after
    /// "ITS trả lời".
    pub provider_msg: Option<String>,
}

impl Failure {
    pub fn new(code: FailureCode) -> Failure {
        Failure {
            code,
            detail: None,
            provider_msg: None,
        }
    }

    pub fn with_detail(code: FailureCode, detail: String) -> Failure {
        Failure {
            code,
            detail: Some(detail),
            provider_msg: None,
        }
    }

    /// Maps a client error to what the owner is told.
    pub fn from_its(err: &ItsError) -> Failure {
        let code = match err {
            ItsError::Provider(p) if redirect_url_refused(p) => {
                FailureCode::ItsRedirectNotRegistered
            }
            ItsError::Provider(p) => match p.code {
                ErrorCode::Unauthenticated => FailureCode::ItsApiKey,
                ErrorCode::PermissionDenied => FailureCode::ItsPermissionDenied,
                ErrorCode::AccountClosed => FailureCode::ItsAccountClosed,
                ErrorCode::InvalidArgument => FailureCode::ItsInvalidArgument,
                ErrorCode::FailedPrecondition => FailureCode::ItsFailedPrecondition,
                ErrorCode::NotFound => FailureCode::ItsBadRoute,
                ErrorCode::AlreadyExists => FailureCode::ItsAlreadyExists,
                ErrorCode::ProviderTrouble => FailureCode::ItsUnavailable,
                ErrorCode::Unknown => FailureCode::ItsUnknown,
            },
            ItsError::Timeout => FailureCode::ItsTimeout,
            ItsError::Connect => FailureCode::ItsUnreachable,
            ItsError::Config(_) => FailureCode::ItsBadRoute,
            ItsError::UnexpectedStatus { .. }
            | ItsError::MalformedBody { .. }
            | ItsError::BodyTooLarge => FailureCode::ItsBadAnswer,
        };
        let detail = match err {
            ItsError::Provider(p) => Some(format!("{} ({}): {}", p.raw_code, p.status, p.msg)),
            other => Some(other.to_string()),
        };
        // A partner set-up problem is not the owner's business: no provider text for them.
        let provider_msg = match err {
            ItsError::Provider(p) if code != FailureCode::ItsRedirectNotRegistered => {
                Some(p.msg.trim().to_owned()).filter(|m| !m.is_empty())
            }
            _ => None,
        };
        Failure {
            code,
            detail,
            provider_msg,
        }
    }

    /// The history's reason: the code and, for admins, the detail.
    pub fn reason(&self) -> String {
        Reason::from(self.code).stored(self.detail.as_deref())
    }
}

/// The provider's refusal of a `redirect_url` that is not among the partner's registered
/// URLs ("Địa chỉ url cần được đăng ký trước"): a `400 invalid_argument` told apart from
/// the other invalid arguments only by its message.
fn redirect_url_refused(p: &crate::its::ProviderError) -> bool {
    let msg = p.msg.to_lowercase();
    p.code == ErrorCode::InvalidArgument
        && msg.contains("url")
        && (msg.contains("đăng ký") || msg.contains("đăng kí") || msg.contains("register"))
}

/// What pressing "Kết nối Zalo" led to.
#[derive(Debug)]
pub enum StartOutcome {
    /// Send the browser to the provider's login page.
    GoToIts {
        auth_url: String,
    },
    /// The provider already knew the shop: connected without a detour.
    Connected,
    Failed(Failure),
}

crate::i18n::keyed! {
    /// Why a callback's token (or, in the fixed mode, the missing one) was refused.
    pub enum CallbackRefusal {
        Malformed => error_callback_malformed,
        Unknown => error_callback_unknown,
        OtherSession => error_callback_other_session,
        Expired => error_callback_expired,
        Used => error_callback_used,
        NoPending => error_callback_no_pending,
    }
}

/// What the callback led to.
#[derive(Debug)]
pub enum CallbackOutcome {
    Connected {
        shop_id: Uuid,
    },
    /// The provider wants the shop to log in again; the owner is asked first.
    LoginAgain {
        shop_id: Uuid,
        auth_url: String,
    },
    Failed {
        shop_id: Uuid,
        failure: Failure,
    },
    /// The token was refused; nothing changed.
    Refused {
        reason: CallbackRefusal,
        shop_id: Option<Uuid>,
    },
}

pub async fn start(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    shop_id: Uuid,
    actor: &str,
) -> Result<StartOutcome, ServiceError> {
    let shop = shops::find_for_owner(&svc.db, shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let known_its_id = shop.its_shop_id.and_then(|id| ShopId::from_i64(id).ok());
    let token = random_token();
    let attempt_id = record_attempt(
        svc,
        &shop,
        user_id,
        session_hash,
        known_its_id,
        &token,
        actor,
    )
    .await?;

    let redirect_url = redirect_url_for(svc, &token);
    let owner = crate::store::users::find_name(&svc.db, user_id).await?;
    let mut request = match known_its_id {
        Some(its_id) => AuthorizeShopRequest {
            shop_id: Some(its_id),
            redirect_url: Some(redirect_url.clone()),
            ..Default::default()
        },
        None => prefill_request(svc, &shop, user_id, owner.as_deref(), &redirect_url),
    };

    let mut answer = svc.its.authorize_shop(&request).await;
    if let (Err(ItsError::Provider(p)), Some(_)) = (&answer, request.shop_id) {
        if p.code == ErrorCode::PermissionDenied {
            // The provider never linked this id to us: forget it and ask without it.
            tracing::info!(shop = %shop.id, "ITS does not know the stored shop id; retrying without it");
            forget_stored_its_id(svc, shop.id, attempt_id).await?;
            request = prefill_request(svc, &shop, user_id, owner.as_deref(), &redirect_url);
            answer = svc.its.authorize_shop(&request).await;
        }
    }

    answer_start(svc, &shop, attempt_id, request.shop_id, answer).await
}

/// Step 1 of `start`, in one write transaction: end the shop's earlier attempts, record
/// the new one (with where the shop goes back to should it expire) and mark the shop
/// `pending`, or leave a live connection as it is with a history note.
async fn record_attempt(
    svc: &Services,
    shop: &ShopRow,
    user_id: Uuid,
    session_hash: &str,
    known_its_id: Option<ShopId>,
    token: &str,
    actor: &str,
) -> Result<Uuid, ServiceError> {
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    attempts::cancel_pending_for_shop(&mut *tx, shop.id, now, DOUBLE_CLICK_GRACE_MS).await?;
    if svc.its_partner.redirect_mode == RedirectMode::Fixed {
        // The callback will carry no token: the session's one pending attempt is the one.
        attempts::cancel_pending_for_session(&mut *tx, session_hash, now).await?;
    }
    if attempts::count_pending_for_user(&mut *tx, user_id, now).await? >= MAX_PENDING_PER_USER {
        return Err(ServiceError::Refused(Refusal::TooManyAttempts));
    }
    // Where the shop goes back to should the owner walk away (see `expire_attempts`).
    let previous = match shop.state() {
        state if state.has_key() => attempts::Previous::default(),
        ConnectionState::Pending => attempts::latest_previous(&mut *tx, shop.id)
            .await?
            .unwrap_or_default(),
        state => attempts::Previous {
            previous_state: Some(state.as_str().to_owned()),
            previous_failure_code: shop.failure_code.clone(),
            previous_failure_detail: shop.failure_detail.clone(),
        },
    };
    let id = attempts::insert(
        &mut *tx,
        &attempts::NewAttempt {
            shop_id: shop.id,
            user_id,
            session_hash,
            token_hash: &token_hash(token),
            relogins: 0,
            its_shop_id: known_its_id.map(ShopId::get),
            created_at: now,
            expires_at: now + ATTEMPT_TTL_MS,
            previous: &previous,
        },
    )
    .await?;
    if shop.state().has_key() {
        // A working connection stays exactly as it is until a new key is confirmed.
        let state = shop.state();
        events::record_and_queue(
            &mut *tx,
            shop.id,
            now,
            actor,
            Some(state),
            state,
            Some(EventNote::ConnectStarted.name()),
        )
        .await?;
    } else {
        move_to(
            &mut tx,
            shop,
            ConnectionState::Pending,
            None,
            actor,
            EventNote::ConnectStarted,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// ITS does not know the shop's stored ITS id (never linked to us): forget it on the shop
/// and the attempt, with a history note, so the next `AuthorizeShop` asks by our own id.
async fn forget_stored_its_id(
    svc: &Services,
    shop_id: Uuid,
    attempt_id: Uuid,
) -> Result<(), ServiceError> {
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    shops::forget_its_shop_id(&mut *tx, shop_id, now).await?;
    attempts::forget_its_shop_id(&mut *tx, attempt_id).await?;
    let state = shops::find(&mut *tx, shop_id)
        .await?
        .map_or(ConnectionState::Pending, |s| s.state());
    events::record_and_queue(
        &mut *tx,
        shop_id,
        now,
        "its",
        Some(state),
        state,
        Some(EventNote::ItsShopIdForgotten.name()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The end of `start`: what the answer to `AuthorizeShop` leads to. `asked_for` is the
/// ITS shop id the request named, if any.
async fn answer_start(
    svc: &Services,
    shop: &ShopRow,
    attempt_id: Uuid,
    asked_for: Option<ShopId>,
    answer: Result<Authorization, ItsError>,
) -> Result<StartOutcome, ServiceError> {
    match answer {
        Ok(Authorization::ShopRequest {
            auth_url: Some(auth_url),
            ..
        }) => {
            if auth_url_allowed(&auth_url, &svc.auth_hosts) {
                Ok(StartOutcome::GoToIts { auth_url })
            } else {
                tracing::warn!(shop = %shop.id, "ITS sent an auth_url outside ITS_AUTH_HOSTS; refused");
                let failure = Failure::new(FailureCode::ItsAuthUrlRefused);
                fail(svc, shop.id, attempt_id, &failure).await?;
                Ok(StartOutcome::Failed(failure))
            }
        }
        Ok(Authorization::ShopRequest { auth_url: None, .. }) => {
            let failure = Failure::new(FailureCode::ItsBadAnswer);
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
        Ok(Authorization::ShopKey { shop_key, .. }) => {
            // Either the stored `shop_id` or the lookup by our own UUID answered: the key
            // belongs to the shop we asked about, never to one an owner named.
            attempts::close(&svc.db, attempt_id, "finished", "shop_key").await?;
            match verify_and_store(
                svc,
                shop.id,
                &shop_key,
                asked_for,
                FailureCode::ShopIdMismatch,
                "its",
            )
            .await?
            {
                None => Ok(StartOutcome::Connected),
                Some(failure) => Ok(StartOutcome::Failed(failure)),
            }
        }
        Ok(Authorization::Other { kind }) => {
            let failure = Failure::with_detail(FailureCode::ItsBadAnswer, format!("type={kind}"));
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
        Err(err) => {
            let failure = Failure::from_its(&err);
            tracing::warn!(shop = %shop.id, error = %err, code = %failure.code, "AuthorizeShop failed");
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
    }
}

/// The provider sent the browser back with its `shop_id` and, in the token mode, our
/// `token`. Without a token (the fixed redirect mode) the attempt is the session's
/// pending one.
pub async fn callback(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    token: Option<&str>,
    its_shop_id: ShopId,
) -> Result<CallbackOutcome, ServiceError> {
    let now = store::now_ms();
    let attempt = match consume_attempt(svc, user_id, session_hash, token, now).await? {
        Ok(attempt) => attempt,
        Err(refused) => return Ok(refused),
    };
    let shop = shops::find_for_owner(&svc.db, attempt.shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;

    match attempt.its_shop_id {
        // The attempt asked about a known ITS shop: the callback must name that shop.
        Some(known) if known != its_shop_id.get() => {
            tracing::warn!(shop = %shop.id, known, got = its_shop_id.get(), "callback shop_id differs from the shop the attempt asked about");
            let failure = Failure::with_detail(
                FailureCode::ShopIdMismatch,
                format!("expected ITS shop {known}, the callback said {its_shop_id}"),
            );
            fail(svc, shop.id, attempt.id, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
        Some(_) => {
            confirm_known_shop(
                svc,
                user_id,
                session_hash,
                &attempt,
                &shop,
                its_shop_id,
                now,
            )
            .await
        }
        None => confirm_through_our_id(svc, user_id, &attempt, &shop, its_shop_id).await,
    }
}

/// The callback's first step: take its attempt, by token or (fixed mode) the session's
/// pending one, so it works exactly once. `Err` is the refusal to show, nothing changed.
async fn consume_attempt(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    token: Option<&str>,
    now: i64,
) -> Result<Result<attempts::ConsumedAttempt, CallbackOutcome>, ServiceError> {
    let refused = |reason| CallbackOutcome::Refused {
        reason,
        shop_id: None,
    };
    match token {
        Some(token) => {
            let hash = token_hash(token);
            match attempts::consume(&svc.db, &hash, user_id, session_hash, now).await? {
                Some(attempt) => Ok(Ok(attempt)),
                None => Ok(Err(explain_refusal(svc, &hash, user_id, now).await?)),
            }
        }
        None if svc.its_partner.redirect_mode == RedirectMode::Fixed => Ok(
            attempts::consume_for_session(&svc.db, user_id, session_hash, now)
                .await?
                .ok_or_else(|| refused(CallbackRefusal::NoPending)),
        ),
        None => Ok(Err(refused(CallbackRefusal::Malformed))),
    }
}

/// An attempt that started without an ITS shop id: the callback's `shop_id` proves
/// nothing (anyone can edit it), so ask ITS for the relation that recorded *our* id.
/// Only a `shop_key` for exactly the callback's shop is accepted.
async fn confirm_through_our_id(
    svc: &Services,
    user_id: Uuid,
    attempt: &attempts::ConsumedAttempt,
    shop: &ShopRow,
    its_shop_id: ShopId,
) -> Result<CallbackOutcome, ServiceError> {
    let request = AuthorizeShopRequest {
        external_shop_id: Some(our_external_shop_id(shop)),
        ..Default::default()
    };
    let failure = match svc.its.authorize_shop(&request).await {
        Ok(Authorization::ShopKey { shop_key, .. }) => {
            let stored = verify_and_store(
                svc,
                shop.id,
                &shop_key,
                Some(its_shop_id),
                FailureCode::CallbackNotConfirmed,
                &super::user_actor(user_id),
            )
            .await?;
            let outcome = stored.as_ref().map_or("connected", |f| f.code.name());
            attempts::close(&svc.db, attempt.id, "finished", outcome).await?;
            return match stored {
                None => Ok(CallbackOutcome::Connected { shop_id: shop.id }),
                Some(failure) => Ok(CallbackOutcome::Failed {
                    shop_id: shop.id,
                    failure,
                }),
            };
        }
        Ok(Authorization::ShopRequest { .. }) => {
            // No relation carries our id: this shop never approved our request.
            tracing::warn!(shop = %shop.id, callback_shop_id = its_shop_id.get(), "callback not confirmed: ITS knows no approval for our external_shop_id");
            Failure::with_detail(
                FailureCode::CallbackNotConfirmed,
                format!(
                    "callback named ITS shop {its_shop_id}; AuthorizeShop{{external_shop_id}} answered shop_request (no approval recorded for this shop)"
                ),
            )
        }
        Ok(Authorization::Other { kind }) => {
            Failure::with_detail(FailureCode::ItsBadAnswer, format!("type={kind}"))
        }
        Err(err) => {
            tracing::warn!(shop = %shop.id, error = %err, "AuthorizeShop with our external_shop_id failed");
            Failure::from_its(&err)
        }
    };
    fail(svc, shop.id, attempt.id, &failure).await?;
    Ok(CallbackOutcome::Failed {
        shop_id: shop.id,
        failure,
    })
}

/// An attempt that asked about the shop's stored ITS id (and the callback named it):
/// `AuthorizeShop{shop_id}` must answer `shop_key`; `shop_request` asks for another login.
async fn confirm_known_shop(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    attempt: &attempts::ConsumedAttempt,
    shop: &ShopRow,
    its_shop_id: ShopId,
    now: i64,
) -> Result<CallbackOutcome, ServiceError> {
    // Should ITS ask for another login, the browser will come back with this new token.
    let next_token = random_token();
    let next_attempt = record_next_attempt(
        svc,
        user_id,
        session_hash,
        attempt,
        its_shop_id,
        &next_token,
        now,
    )
    .await?;
    let request = AuthorizeShopRequest {
        shop_id: Some(its_shop_id),
        redirect_url: Some(redirect_url_for(svc, &next_token)),
        ..Default::default()
    };
    match svc.its.authorize_shop(&request).await {
        Ok(Authorization::ShopKey { shop_key, .. }) => {
            attempts::close(&svc.db, next_attempt, "cancelled", "not_needed").await?;
            match verify_and_store(
                svc,
                shop.id,
                &shop_key,
                Some(its_shop_id),
                FailureCode::ShopIdMismatch,
                &super::user_actor(user_id),
            )
            .await?
            {
                None => Ok(CallbackOutcome::Connected { shop_id: shop.id }),
                Some(failure) => Ok(CallbackOutcome::Failed {
                    shop_id: shop.id,
                    failure,
                }),
            }
        }
        Ok(Authorization::ShopRequest {
            auth_url: Some(auth_url),
            ..
        }) if attempt.relogins < MAX_RELOGINS && auth_url_allowed(&auth_url, &svc.auth_hosts) => {
            Ok(CallbackOutcome::LoginAgain {
                shop_id: shop.id,
                auth_url,
            })
        }
        Ok(Authorization::ShopRequest { .. }) => {
            let failure = Failure::new(FailureCode::ItsReloginLoop);
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
        Ok(Authorization::Other { kind }) => {
            let failure = Failure::with_detail(FailureCode::ItsBadAnswer, format!("type={kind}"));
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
        Err(err) => {
            tracing::warn!(shop = %shop.id, error = %err, "AuthorizeShop with the callback's shop_id failed");
            let mut failure = Failure::from_its(&err);
            if failure.code == FailureCode::ItsPermissionDenied {
                // The shop_id in the callback was never linked to us: not a shop that logged in.
                failure.code = FailureCode::CallbackShopNotLinked;
            }
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
    }
}

/// Closes the consumed attempt and records its successor (one more login, the same
/// shop and `previous`), in one write transaction, before ITS is asked again.
async fn record_next_attempt(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    attempt: &attempts::ConsumedAttempt,
    its_shop_id: ShopId,
    next_token: &str,
    now: i64,
) -> Result<Uuid, ServiceError> {
    let mut tx = crate::store::begin_write(&svc.db).await?;
    attempts::close(&mut *tx, attempt.id, "finished", "callback").await?;
    let id = attempts::insert(
        &mut *tx,
        &attempts::NewAttempt {
            shop_id: attempt.shop_id,
            user_id,
            session_hash,
            token_hash: &token_hash(next_token),
            relogins: attempt.relogins + 1,
            its_shop_id: Some(its_shop_id.get()),
            created_at: now,
            expires_at: now + ATTEMPT_TTL_MS,
            previous: &attempt.previous,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks a fresh key with `CurrentShop`, then stores it. `None` means connected.
async fn verify_and_store(
    svc: &Services,
    shop_id: Uuid,
    key: &ShopKey,
    expected: Option<ShopId>,
    mismatch_code: FailureCode,
    actor: &str,
) -> Result<Option<Failure>, ServiceError> {
    let current = match svc.its.current_shop(key).await {
        Ok(current) => current,
        Err(err) => {
            let mut failure = Failure::from_its(&err);
            if failure.code == FailureCode::ItsApiKey {
                failure.code = FailureCode::ItsKeyRejected;
            }
            fail_shop(svc, shop_id, &failure).await?;
            return Ok(Some(failure));
        }
    };
    if let Some(expected) = expected.filter(|e| *e != current.id) {
        tracing::warn!(shop = %shop_id, expected = expected.get(), current = current.id.get(), "the key's shop is not the expected ITS shop; nothing stored");
        let failure = Failure::with_detail(
            mismatch_code,
            format!(
                "expected ITS shop {expected}, CurrentShop said {}",
                current.id
            ),
        );
        fail_shop(svc, shop_id, &failure).await?;
        return Ok(Some(failure));
    }
    if let Some(other) = shops::find_by_its_shop_id(&svc.db, current.id.get()).await? {
        if other.id != shop_id {
            let failure = Failure::with_detail(
                FailureCode::ItsShopTaken,
                format!("ITS shop {} is held by shop {}", current.id, other.id),
            );
            fail_shop(svc, shop_id, &failure).await?;
            return Ok(Some(failure));
        }
    }

    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let shop = shops::find(&mut *tx, shop_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let sealed = svc.sealer.seal(key, shop.id, shop.owner_id);
    match shops::store_key(
        &mut *tx,
        shop.id,
        current.id.get(),
        &current.name,
        &sealed,
        now,
    )
    .await
    {
        Ok(()) => {}
        Err(e) if store::is_unique_violation(&e, "shops.its_shop_id") => {
            drop(tx);
            let failure = Failure::new(FailureCode::ItsShopTaken);
            fail_shop(svc, shop_id, &failure).await?;
            return Ok(Some(failure));
        }
        Err(e) => return Err(e.into()),
    }
    events::record_and_queue(
        &mut *tx,
        shop.id,
        now,
        actor,
        Some(shop.state()),
        ConnectionState::Connected,
        Some(EventNote::Connected.name()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(shop = %shop.id, its_shop_id = current.id.get(), "shop connected");
    Ok(None)
}

/// Ends an attempt and marks its shop failed, in one transaction.
async fn fail(
    svc: &Services,
    shop_id: Uuid,
    attempt_id: Uuid,
    failure: &Failure,
) -> Result<(), ServiceError> {
    fail_shop_and_attempt(svc, shop_id, Some(attempt_id), failure).await
}

async fn fail_shop(svc: &Services, shop_id: Uuid, failure: &Failure) -> Result<(), ServiceError> {
    fail_shop_and_attempt(svc, shop_id, None, failure).await
}

/// Marks the shop failed (unless its key is live) and closes the attempt, in one transaction.
async fn fail_shop_and_attempt(
    svc: &Services,
    shop_id: Uuid,
    attempt_id: Option<Uuid>,
    failure: &Failure,
) -> Result<(), ServiceError> {
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    if let Some(attempt_id) = attempt_id {
        attempts::close(&mut *tx, attempt_id, "finished", failure.code.name()).await?;
    }
    let shop = shops::find(&mut *tx, shop_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let from = shop.state();
    // A live key that still works stays live: only a pending or failed attempt fails.
    if matches!(
        from,
        ConnectionState::Pending
            | ConnectionState::Failed
            | ConnectionState::NotConnected
            | ConnectionState::Disconnected
    ) && shops::change_state(
        &mut *tx,
        shop_id,
        from,
        ConnectionState::Failed,
        Some((failure.code.name(), failure.provider_msg.as_deref())),
        now,
    )
    .await?
    {
        events::record_and_queue(
            &mut *tx,
            shop_id,
            now,
            "its",
            Some(from),
            ConnectionState::Failed,
            Some(&failure.reason()),
        )
        .await?;
    } else {
        events::record_and_queue(
            &mut *tx,
            shop_id,
            now,
            "its",
            Some(from),
            from,
            Some(&failure.reason()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn move_to(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    shop: &ShopRow,
    to: ConnectionState,
    failure: Option<(&str, Option<&str>)>,
    actor: &str,
    reason: EventNote,
    now: i64,
) -> Result<(), ServiceError> {
    let from = shop.state();
    if shops::change_state(&mut **tx, shop.id, from, to, failure, now).await? {
        events::record_and_queue(
            &mut **tx,
            shop.id,
            now,
            actor,
            Some(from),
            to,
            Some(reason.name()),
        )
        .await?;
        Ok(())
    } else {
        Err(ServiceError::Refused(Refusal::ShopChangedMeanwhile))
    }
}

/// How long a consumed attempt counts as in play (its callback's ITS calls under way):
/// well beyond a few ITS calls at their timeout, so expiry never races a callback.
const CALLBACK_IN_FLIGHT_MS: i64 = 5 * 60 * 1000;
/// How many shops one sweep looks at.
const EXPIRY_BATCH: i64 = 200;

/// Ends attempts whose 15 minutes passed without a callback (the owner walked away from
/// the ITS page) and returns each shop left `pending` with nothing in play to where it was
/// before: its state and failure reason, recorded in its history. Run lazily when an
/// owner's shops are read and by the scheduler's tick; `shop` limits it to one shop.
/// Each shop in one write transaction; nothing is written when nothing expired. Returns
/// how many shops were returned to their earlier state.
pub async fn expire_attempts(svc: &Services, shop: Option<Uuid>) -> Result<usize, ServiceError> {
    let now = store::now_ms();
    let shop_ids = attempts::shops_with_expired(&svc.db, shop, now, EXPIRY_BATCH).await?;
    let mut restored = 0;
    for shop_id in shop_ids {
        let mut tx = crate::store::begin_write(&svc.db).await?;
        let closed = attempts::close_expired_for_shop(&mut *tx, shop_id, now).await?;
        if closed.is_empty()
            || attempts::has_live(&mut *tx, shop_id, now, CALLBACK_IN_FLIGHT_MS).await?
        {
            tx.commit().await?;
            continue;
        }
        let Some(row) = shops::find(&mut *tx, shop_id).await? else {
            tx.commit().await?;
            continue;
        };
        if row.state() != ConnectionState::Pending {
            tx.commit().await?;
            continue;
        }
        // The newest attempt knows where the shop was; a shop left pending by an older
        // version (nothing recorded) had no key, so it goes back to "not connected".
        let previous = closed
            .into_iter()
            .find(|p| p.previous_state.is_some())
            .unwrap_or_default();
        let to = previous
            .previous_state
            .as_deref()
            .and_then(|s| ConnectionState::parse(s).ok())
            .filter(|s| !s.has_key() && *s != ConnectionState::Pending)
            .unwrap_or(ConnectionState::NotConnected);
        let failure = match (to, previous.previous_failure_code.as_deref()) {
            (ConnectionState::Failed, Some(code)) => {
                Some((code, previous.previous_failure_detail.as_deref()))
            }
            _ => None,
        };
        if shops::change_state(
            &mut *tx,
            shop_id,
            ConnectionState::Pending,
            to,
            failure,
            now,
        )
        .await?
        {
            events::record_restored(
                &mut *tx,
                shop_id,
                now,
                "system",
                ConnectionState::Pending,
                to,
                EventNote::ConnectExpired.name(),
            )
            .await?;
            restored += 1;
            tx.commit().await?;
            tracing::info!(shop = %shop_id, to = %to, "connection attempt expired; shop returned to its earlier state");
        } else {
            tx.commit().await?;
        }
    }
    Ok(restored)
}

async fn explain_refusal(
    svc: &Services,
    hash: &str,
    user_id: Uuid,
    now: i64,
) -> Result<CallbackOutcome, ServiceError> {
    let reason = match attempts::find_by_hash(&svc.db, hash).await? {
        // Another user's token is answered exactly like an unknown one.
        None => CallbackRefusal::Unknown,
        Some(row) if row.user_id != user_id => CallbackRefusal::Unknown,
        Some(row) if row.outcome.as_deref() == Some(attempts::EXPIRED) => CallbackRefusal::Expired,
        Some(row) if row.state != "pending" => CallbackRefusal::Used,
        Some(row) if row.expires_at <= now => CallbackRefusal::Expired,
        // Pending and fresh, but started in another browser whose session is still live.
        Some(row) if row.session_hash.is_some() => CallbackRefusal::OtherSession,
        Some(_) => CallbackRefusal::Used,
    };
    let shop_id = match reason {
        CallbackRefusal::Used => attempts::shop_of(&svc.db, hash).await?,
        _ => None,
    };
    Ok(CallbackOutcome::Refused { reason, shop_id })
}

/// The first `AuthorizeShop` of a shop: our own id, and the pre-fill the provider would
/// accept (a value it would refuse is left out: a pre-fill is optional, the connect is not).
fn prefill_request(
    svc: &Services,
    shop: &ShopRow,
    user_id: Uuid,
    owner_name: Option<&str>,
    redirect_url: &str,
) -> AuthorizeShopRequest {
    let email = shop.email.as_deref().and_then(prefill::email);
    let phone = shop.phone.as_deref().and_then(prefill::phone);
    if email.is_none() && shop.email.is_some() || phone.is_none() && shop.phone.is_some() {
        tracing::info!(shop = %shop.id, "a pre-fill the provider would refuse is left out");
    }
    AuthorizeShopRequest {
        external_shop_id: Some(our_external_shop_id(shop)),
        // Only a white-label partner may send it; ITS refuses it from anyone else.
        external_user_id: svc.its_partner.white_label.then(|| user_id.to_string()),
        email,
        phone,
        name: owner_name.map(str::to_owned),
        shop_name: Some(shop.name.clone()),
        redirect_url: Some(redirect_url.to_owned()),
        ..Default::default()
    }
}

/// The `external_shop_id` we send to ITS: always the shop's UUID, ours and unique across
/// the partner (never a label an owner typed, nor an id another system could reuse).
pub fn our_external_shop_id(shop: &ShopRow) -> String {
    shop.id.to_string()
}

/// The `redirect_url` of an attempt: with its token, or the fixed URL.
fn redirect_url_for(svc: &Services, token: &str) -> String {
    match svc.its_partner.redirect_mode {
        RedirectMode::Token => callback_url(&svc.public_url, token),
        RedirectMode::Fixed => fixed_callback_url(&svc.public_url),
    }
}

/// `PUBLIC_URL/connect/callback` exactly: what a partner with registered redirect URLs
/// registers with ITS (and uses with `ITS_REDIRECT_MODE=fixed`).
pub fn fixed_callback_url(public_url: &Url) -> String {
    public_url
        .join("connect/callback")
        .expect("a relative path joins")
        .to_string()
}

/// What "Test credentials" reports about `redirect_url`.
#[derive(Debug)]
pub enum RedirectCheck {
    Accepted,
    /// ITS wants a registered URL: register this one and use the fixed mode.
    NotRegistered {
        register: String,
    },
    Failed(Failure),
}

/// Asks ITS whether it accepts the `redirect_url` the connect flow would send (one
/// `AuthorizeShop` with nothing but that URL; the request token it issues is dropped).
pub async fn check_redirect_url(svc: &Services) -> RedirectCheck {
    let request = AuthorizeShopRequest {
        redirect_url: Some(redirect_url_for(svc, &random_token())),
        ..Default::default()
    };
    match svc.its.authorize_shop(&request).await {
        Ok(_) => RedirectCheck::Accepted,
        Err(err) => {
            let failure = Failure::from_its(&err);
            tracing::warn!(error = %err, code = %failure.code, "redirect_url check failed");
            if failure.code == FailureCode::ItsRedirectNotRegistered {
                RedirectCheck::NotRegistered {
                    register: fixed_callback_url(&svc.public_url),
                }
            } else {
                RedirectCheck::Failed(failure)
            }
        }
    }
}

/// `PUBLIC_URL/connect/callback?token=…`, built only from configuration.
pub fn callback_url(public_url: &Url, token: &str) -> String {
    let mut url = public_url
        .join("connect/callback")
        .expect("a relative path joins");
    url.query_pairs_mut().clear().append_pair("token", token);
    url.to_string()
}

/// `auth_url` is followed only to an allowed host, over https (http only on loopback).
pub fn auth_url_allowed(auth_url: &str, hosts: &[String]) -> bool {
    let Ok(url) = Url::parse(auth_url) else {
        return false;
    };
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    let loopback = host == "localhost" || host.starts_with("127.") || host == "[::1]";
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    scheme_ok && url.username().is_empty() && hosts.contains(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_url_comes_from_public_url_with_only_our_token() {
        let base = Url::parse("https://shoplink.example.vn/").unwrap();
        assert_eq!(
            callback_url(&base, "abc"),
            "https://shoplink.example.vn/connect/callback?token=abc"
        );
        let nested = Url::parse("https://example.vn/shoplink/").unwrap();
        assert_eq!(
            callback_url(&nested, "a+b"),
            "https://example.vn/shoplink/connect/callback?token=a%2Bb"
        );
    }

    #[test]
    fn auth_urls_are_followed_only_to_allowed_hosts_over_https() {
        let hosts = vec!["auth.etelecom.vn".to_owned(), "127.0.0.1".to_owned()];
        assert!(auth_url_allowed(
            "https://auth.etelecom.vn/login?token=request:x",
            &hosts
        ));
        assert!(auth_url_allowed(
            "http://127.0.0.1:9000/login?token=x",
            &hosts
        ));
        assert!(!auth_url_allowed("http://auth.etelecom.vn/login", &hosts));
        assert!(!auth_url_allowed("https://evil.example/login", &hosts));
        assert!(!auth_url_allowed(
            "https://user@auth.etelecom.vn/login",
            &hosts
        ));
        assert!(!auth_url_allowed("javascript:alert(1)", &hosts));
    }
}
