//! The connect flow: pressing "Kết nối Zalo", and the provider's callback.
//!
//! 1. `start`: record an attempt with our own random token (only its hash is stored),
//!    mark the shop `pending`, commit; then call `AuthorizeShop` with
//!    `redirect_url = PUBLIC_URL/connect/callback?token=…`. `shop_request` sends the
//!    browser to `auth_url`; `shop_key` finishes at once.
//! 2. `callback`: consume the attempt in one statement (so a token works exactly once),
//!    call `AuthorizeShop` with the `shop_id` the provider added, and only a `shop_key`
//!    answer confirms that id; the key is checked with `CurrentShop` before it is stored.
//! 3. `store_verified_key`: one short transaction stores the sealed key and the state.

use url::Url;
use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::{random_token, token_hash};
use crate::domain::{ConnectionState, ShopId, ShopKey};
use crate::its::{Authorization, AuthorizeShopRequest, ErrorCode, ItsError};
use crate::store::{self, attempts, events, shops, shops::ShopRow};

/// How long a callback token is valid.
pub const ATTEMPT_TTL_MS: i64 = 15 * 60 * 1000;
/// How many unfinished attempts one user may have at once.
pub const MAX_PENDING_PER_USER: i64 = 5;
/// A press of "Kết nối Zalo" within this time of the previous one leaves that one valid.
pub const DOUBLE_CLICK_GRACE_MS: i64 = 10_000;
/// How many times in a row ITS may ask the shop to log in again before we stop.
pub const MAX_RELOGINS: i64 = 2;

/// Why a connection failed: a catalogue key for the owner, and the provider's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub detail: Option<String>,
}

impl Failure {
    pub fn new(code: &'static str) -> Failure {
        Failure { code, detail: None }
    }

    /// Maps a client error to what the owner is told.
    pub fn from_its(err: &ItsError) -> Failure {
        let code = match err {
            ItsError::Provider(p) => match p.code {
                ErrorCode::Unauthenticated => "error_its_api_key",
                ErrorCode::PermissionDenied => "error_its_permission_denied",
                ErrorCode::AccountClosed => "error_its_account_closed",
                ErrorCode::InvalidArgument => "error_its_invalid_argument",
                ErrorCode::FailedPrecondition => "error_its_failed_precondition",
                ErrorCode::NotFound => "error_its_bad_route",
                ErrorCode::AlreadyExists => "error_its_already_exists",
                ErrorCode::ProviderTrouble => "error_its_unavailable",
                ErrorCode::Unknown => "error_its_unknown",
            },
            ItsError::Timeout => "error_its_timeout",
            ItsError::Connect => "error_its_unreachable",
            ItsError::Config(_) => "error_its_bad_route",
            ItsError::UnexpectedStatus { .. }
            | ItsError::MalformedBody { .. }
            | ItsError::BodyTooLarge => "error_its_bad_answer",
        };
        let detail = match err {
            ItsError::Provider(p) => Some(format!("{} ({}): {}", p.raw_code, p.status, p.msg)),
            other => Some(other.to_string()),
        };
        Failure { code, detail }
    }

    fn reason(&self) -> String {
        match &self.detail {
            Some(d) => format!("{} | {d}", self.code),
            None => self.code.to_owned(),
        }
    }
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
    /// The token was refused; nothing changed. The key is a catalogue key.
    Refused {
        reason: &'static str,
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
    let now = store::now_ms();
    let shop = shops::find_for_owner(&svc.db, shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let token = random_token();
    let attempt_id = {
        let mut tx = crate::store::begin_write(&svc.db).await?;
        attempts::cancel_pending_for_shop(&mut *tx, shop.id, now, DOUBLE_CLICK_GRACE_MS).await?;
        if attempts::count_pending_for_user(&mut *tx, user_id, now).await? >= MAX_PENDING_PER_USER {
            return Err(ServiceError::Refused("error_too_many_attempts"));
        }
        let id = attempts::insert(
            &mut *tx,
            &attempts::NewAttempt {
                shop_id: shop.id,
                user_id,
                session_hash,
                token_hash: &token_hash(&token),
                relogins: 0,
                created_at: now,
                expires_at: now + ATTEMPT_TTL_MS,
            },
        )
        .await?;
        move_to(
            &mut tx,
            &shop,
            ConnectionState::Pending,
            None,
            actor,
            "event_connect_started",
            now,
        )
        .await?;
        tx.commit().await?;
        id
    };

    let redirect_url = callback_url(&svc.public_url, &token);
    let owner = crate::store::users::find_name(&svc.db, user_id).await?;
    let mut request = match shop.its_shop_id.and_then(|id| ShopId::from_i64(id).ok()) {
        Some(its_id) => AuthorizeShopRequest {
            shop_id: Some(its_id),
            redirect_url: Some(redirect_url.clone()),
            ..Default::default()
        },
        None => prefill_request(&shop, user_id, owner.as_deref(), &redirect_url),
    };

    let mut answer = svc.its.authorize_shop(&request).await;
    if let (Err(ItsError::Provider(p)), Some(_)) = (&answer, request.shop_id) {
        if p.code == ErrorCode::PermissionDenied {
            // The provider never linked this id to us: forget it and ask without it.
            tracing::info!(shop = %shop.id, "ITS does not know the stored shop id; retrying without it");
            let now = store::now_ms();
            let mut tx = crate::store::begin_write(&svc.db).await?;
            shops::forget_its_shop_id(&mut *tx, shop.id, now).await?;
            events::record(
                &mut *tx,
                shop.id,
                now,
                "its",
                Some(ConnectionState::Pending),
                ConnectionState::Pending,
                Some("event_its_shop_id_forgotten"),
            )
            .await?;
            tx.commit().await?;
            request = prefill_request(&shop, user_id, owner.as_deref(), &redirect_url);
            answer = svc.its.authorize_shop(&request).await;
        }
    }

    match answer {
        Ok(Authorization::ShopRequest {
            auth_url: Some(auth_url),
            ..
        }) => {
            if auth_url_allowed(&auth_url, &svc.auth_hosts) {
                Ok(StartOutcome::GoToIts { auth_url })
            } else {
                tracing::warn!(shop = %shop.id, "ITS sent an auth_url outside ITS_AUTH_HOSTS; refused");
                let failure = Failure::new("error_its_auth_url_refused");
                fail(svc, shop.id, attempt_id, &failure).await?;
                Ok(StartOutcome::Failed(failure))
            }
        }
        Ok(Authorization::ShopRequest { auth_url: None, .. }) => {
            let failure = Failure::new("error_its_bad_answer");
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
        Ok(Authorization::ShopKey { shop_key, .. }) => {
            attempts::close(&svc.db, attempt_id, "finished", "shop_key").await?;
            match verify_and_store(svc, shop.id, &shop_key, request.shop_id, "its").await? {
                None => Ok(StartOutcome::Connected),
                Some(failure) => Ok(StartOutcome::Failed(failure)),
            }
        }
        Ok(Authorization::Other { kind }) => {
            let failure = Failure {
                code: "error_its_bad_answer",
                detail: Some(format!("type={kind}")),
            };
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
        Err(err) => {
            let failure = Failure::from_its(&err);
            tracing::warn!(shop = %shop.id, error = %err, "AuthorizeShop failed");
            fail(svc, shop.id, attempt_id, &failure).await?;
            Ok(StartOutcome::Failed(failure))
        }
    }
}

/// The provider sent the browser back with our `token` and its `shop_id`.
pub async fn callback(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    token: &str,
    its_shop_id: ShopId,
) -> Result<CallbackOutcome, ServiceError> {
    let now = store::now_ms();
    let hash = token_hash(token);
    let Some(attempt) = attempts::consume(&svc.db, &hash, user_id, session_hash, now).await? else {
        return explain_refusal(svc, &hash, user_id, now).await;
    };
    let shop = shops::find_for_owner(&svc.db, attempt.shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;

    // A shop that is already linked to one ITS shop cannot silently become another.
    if let Some(known) = shop.its_shop_id.filter(|&known| known != its_shop_id.get()) {
        tracing::warn!(shop = %shop.id, known, got = its_shop_id.get(), "callback shop_id differs from the linked shop");
        let failure = Failure {
            code: "error_shop_id_mismatch",
            detail: Some(format!("expected {known}, callback said {its_shop_id}")),
        };
        fail(svc, shop.id, attempt.id, &failure).await?;
        return Ok(CallbackOutcome::Failed {
            shop_id: shop.id,
            failure,
        });
    }

    // Should ITS ask for another login, the browser will come back with this new token.
    let next_token = random_token();
    let next_attempt = {
        let mut tx = crate::store::begin_write(&svc.db).await?;
        attempts::close(&mut *tx, attempt.id, "finished", "callback").await?;
        let id = attempts::insert(
            &mut *tx,
            &attempts::NewAttempt {
                shop_id: shop.id,
                user_id,
                session_hash,
                token_hash: &token_hash(&next_token),
                relogins: attempt.relogins + 1,
                created_at: now,
                expires_at: now + ATTEMPT_TTL_MS,
            },
        )
        .await?;
        tx.commit().await?;
        id
    };
    let request = AuthorizeShopRequest {
        shop_id: Some(its_shop_id),
        redirect_url: Some(callback_url(&svc.public_url, &next_token)),
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
            let failure = Failure::new("error_its_relogin_loop");
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
        Ok(Authorization::Other { kind }) => {
            let failure = Failure {
                code: "error_its_bad_answer",
                detail: Some(format!("type={kind}")),
            };
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
        Err(err) => {
            tracing::warn!(shop = %shop.id, error = %err, "AuthorizeShop with the callback's shop_id failed");
            let mut failure = Failure::from_its(&err);
            if failure.code == "error_its_permission_denied" {
                // The shop_id in the callback was never linked to us: not a shop that logged in.
                failure.code = "error_callback_shop_not_linked";
            }
            fail(svc, shop.id, next_attempt, &failure).await?;
            Ok(CallbackOutcome::Failed {
                shop_id: shop.id,
                failure,
            })
        }
    }
}

/// Checks a fresh key with `CurrentShop`, then stores it. `None` means connected.
async fn verify_and_store(
    svc: &Services,
    shop_id: Uuid,
    key: &ShopKey,
    expected: Option<ShopId>,
    actor: &str,
) -> Result<Option<Failure>, ServiceError> {
    let current = match svc.its.current_shop(key).await {
        Ok(current) => current,
        Err(err) => {
            let mut failure = Failure::from_its(&err);
            if failure.code == "error_its_api_key" {
                failure.code = "error_its_key_rejected";
            }
            fail_shop(svc, shop_id, &failure).await?;
            return Ok(Some(failure));
        }
    };
    if let Some(expected) = expected.filter(|e| *e != current.id) {
        let failure = Failure {
            code: "error_shop_id_mismatch",
            detail: Some(format!(
                "expected {expected}, CurrentShop said {}",
                current.id
            )),
        };
        fail_shop(svc, shop_id, &failure).await?;
        return Ok(Some(failure));
    }
    if let Some(other) = shops::find_by_its_shop_id(&svc.db, current.id.get()).await? {
        if other.id != shop_id {
            let failure = Failure {
                code: "error_its_shop_taken",
                detail: Some(format!(
                    "ITS shop {} is held by shop {}",
                    current.id, other.id
                )),
            };
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
            let failure = Failure::new("error_its_shop_taken");
            fail_shop(svc, shop_id, &failure).await?;
            return Ok(Some(failure));
        }
        Err(e) => return Err(e.into()),
    }
    events::record(
        &mut *tx,
        shop.id,
        now,
        actor,
        Some(shop.state()),
        ConnectionState::Connected,
        Some("event_connected"),
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
        attempts::close(&mut *tx, attempt_id, "finished", failure.code).await?;
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
        Some((failure.code, failure.detail.as_deref())),
        now,
    )
    .await?
    {
        events::record(
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
        events::record(
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
    reason: &str,
    now: i64,
) -> Result<(), ServiceError> {
    let from = shop.state();
    if shops::change_state(&mut **tx, shop.id, from, to, failure, now).await? {
        events::record(&mut **tx, shop.id, now, actor, Some(from), to, Some(reason)).await?;
        Ok(())
    } else {
        Err(ServiceError::Refused("error_shop_changed_meanwhile"))
    }
}

async fn explain_refusal(
    svc: &Services,
    hash: &str,
    user_id: Uuid,
    now: i64,
) -> Result<CallbackOutcome, ServiceError> {
    let reason = match attempts::find_by_hash(&svc.db, hash).await? {
        // Another user's token is answered exactly like an unknown one.
        None => "error_callback_unknown",
        Some(row) if row.user_id != user_id => "error_callback_unknown",
        Some(row) if row.state != "pending" => "error_callback_used",
        Some(row) if row.expires_at <= now => "error_callback_expired",
        // Pending and fresh, but started in another browser whose session is still live.
        Some(row) if row.session_hash.is_some() => "error_callback_other_session",
        Some(_) => "error_callback_used",
    };
    let shop_id = match reason {
        "error_callback_used" => attempts::shop_of(&svc.db, hash).await?,
        _ => None,
    };
    Ok(CallbackOutcome::Refused { reason, shop_id })
}

fn prefill_request(
    shop: &ShopRow,
    user_id: Uuid,
    owner_name: Option<&str>,
    redirect_url: &str,
) -> AuthorizeShopRequest {
    AuthorizeShopRequest {
        external_shop_id: shop
            .external_shop_id
            .clone()
            .or_else(|| Some(shop.id.to_string())),
        external_user_id: Some(user_id.to_string()),
        email: shop.email.clone(),
        phone: shop.phone.clone(),
        name: owner_name.map(str::to_owned),
        shop_name: Some(shop.name.clone()),
        redirect_url: Some(redirect_url.to_owned()),
        ..Default::default()
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
