//! Service API keys: created by an admin (the secret is shown once and only its SHA-256
//! is stored), checked on every API request, revoked at will; and reading a shop key
//! through the API, which is written to the shop's history and rate-limited per key.

use super::reasons::EventNote;
use crate::i18n::MsgKey;
use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::{random_token, token_hash};
use crate::domain::{ConnectionState, ShopKey};
use crate::store::service_keys::{self, NewServiceKey, ServiceKeyRow};
use crate::store::{self, events, shops};

/// What a service key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// List and read shops, and re-verify them.
    ShopsRead,
    /// Read the decrypted shop keys.
    KeysRead,
    /// Create connect links (and the partner users and shops they need).
    ConnectWrite,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::ShopsRead, Scope::KeysRead, Scope::ConnectWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ShopsRead => "shops:read",
            Scope::KeysRead => "keys:read",
            Scope::ConnectWrite => "connect:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

/// Every secret starts with this, so a leaked one is easy to recognise (and to scan for).
pub const SECRET_PREFIX: &str = "slk_";
/// How many characters of the secret are kept in clear to tell keys apart.
const SHOWN_CHARS: usize = 12;
/// The window of the per-key rate limits on shop key reads and on verifications.
pub const KEY_READ_WINDOW_MS: i64 = 60_000;

/// A service key as a request presents it, once checked.
#[derive(Debug, Clone)]
pub struct ServiceKey {
    pub row: ServiceKeyRow,
}

impl ServiceKey {
    pub fn id(&self) -> Uuid {
        self.row.id
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.row.scopes.split(' ').any(|s| s == scope.as_str())
    }

    /// Who acted, as the shop's history says it: the key's name and the start of its secret.
    pub fn actor(&self) -> String {
        actor(&self.row)
    }
}

pub fn actor(row: &ServiceKeyRow) -> String {
    format!("api:{} ({}…)", row.name, row.prefix)
}

#[derive(Debug)]
pub enum CreateKeyError {
    Invalid(Vec<(&'static str, MsgKey)>),
    Service(ServiceError),
}

impl From<sqlx::Error> for CreateKeyError {
    fn from(e: sqlx::Error) -> Self {
        CreateKeyError::Service(e.into())
    }
}

/// Creates a key and returns it with its secret, which is never available again.
pub async fn create(
    svc: &Services,
    created_by: Uuid,
    name: &str,
    scopes: &[Scope],
) -> Result<(Uuid, String), CreateKeyError> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(("name", MsgKey::error_api_key_name));
    }
    if scopes.is_empty() {
        errors.push(("scopes", MsgKey::error_api_key_scopes));
    }
    if !errors.is_empty() {
        return Err(CreateKeyError::Invalid(errors));
    }
    let mut chosen: Vec<&str> = Scope::ALL
        .iter()
        .filter(|s| scopes.contains(s))
        .map(|s| s.as_str())
        .collect();
    chosen.dedup();
    let secret = format!("{SECRET_PREFIX}{}", random_token());
    let prefix: String = secret.chars().take(SHOWN_CHARS).collect();
    let id = service_keys::insert(
        &svc.db,
        &NewServiceKey {
            name,
            prefix: &prefix,
            secret_hash: &token_hash(&secret),
            scopes: &chosen.join(" "),
            created_by,
        },
        store::now_ms(),
    )
    .await?;
    tracing::info!(key = %id, scopes = %chosen.join(" "), "service key created");
    Ok((id, secret))
}

/// The live key a bearer token names, if any. Notes the use.
pub async fn authenticate(svc: &Services, token: &str) -> Result<Option<ServiceKey>, ServiceError> {
    if !token.starts_with(SECRET_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let Some(row) = service_keys::find_live_by_hash(&svc.db, &token_hash(token)).await? else {
        return Ok(None);
    };
    service_keys::touch(&svc.db, row.id, store::now_ms()).await?;
    Ok(Some(ServiceKey { row }))
}

/// Revokes a key. Its connect links stop opening (`connect_links::open` checks), and the
/// sessions its links already opened end with it, in the same transaction.
pub async fn revoke(svc: &Services, id: Uuid, by: &str) -> Result<bool, ServiceError> {
    let mut tx = store::begin_write(&svc.db).await?;
    let done = service_keys::revoke(&mut *tx, id, store::now_ms()).await?;
    let ended = store::connect_links::end_sessions_of_key(&mut *tx, id).await?;
    tx.commit().await?;
    svc.sessions.invalidate();
    if done {
        tracing::info!(key = %id, by, sessions_ended = ended, "service key revoked");
    }
    Ok(done)
}

/// Counts one verification asked for by `key` (`API_VERIFY_PER_MINUTE` per window, like
/// key reads): `Err(retry_after_secs)` when the key has had its share, and then nothing is
/// counted. Called before the ITS call, so a flood of requests never reaches ITS.
pub async fn count_verify(
    svc: &Services,
    key: &ServiceKey,
) -> Result<Result<(), u64>, ServiceError> {
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let (count, oldest) =
        service_keys::record_verify_call(&mut tx, key.id(), now, KEY_READ_WINDOW_MS).await?;
    if count > i64::from(svc.api.verify_per_minute) {
        drop(tx);
        let wait_ms = (oldest + KEY_READ_WINDOW_MS - now).max(1_000);
        return Ok(Err((wait_ms as u64).div_ceil(1_000)));
    }
    tx.commit().await?;
    Ok(Ok(()))
}

/// A shop key read through the API.
#[derive(Debug)]
pub struct KeyRead {
    pub shop_id: Uuid,
    pub its_shop_id: i64,
    pub key: ShopKey,
}

#[derive(Debug)]
pub enum KeyReadError {
    NotFound,
    /// Only a connected shop's key is handed out.
    NotConnected(ConnectionState),
    /// Too many reads by this service key in the window; retry after this many seconds.
    RateLimited {
        retry_after_secs: u64,
    },
    /// The stored key does not decrypt (wrong SECRET_KEY or an altered row).
    Unreadable,
    Service(ServiceError),
}

impl From<sqlx::Error> for KeyReadError {
    fn from(e: sqlx::Error) -> Self {
        KeyReadError::Service(e.into())
    }
}

/// Reads a connected shop's key: counted against the key's rate limit and written to the
/// shop's history in one transaction, so no read goes unrecorded.
pub async fn read_shop_key(
    svc: &Services,
    key: &ServiceKey,
    shop_id: Uuid,
) -> Result<KeyRead, KeyReadError> {
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    // The write first: it takes the lock, so the count that follows is exact however
    // many reads run at once. An unknown shop writes nothing.
    let (count, oldest) =
        service_keys::record_key_read(&mut tx, key.id(), shop_id, now, KEY_READ_WINDOW_MS)
            .await?
            .ok_or(KeyReadError::NotFound)?;
    if count > i64::from(svc.api.key_reads_per_minute) {
        drop(tx);
        let wait_ms = (oldest + KEY_READ_WINDOW_MS - now).max(1_000);
        return Err(KeyReadError::RateLimited {
            retry_after_secs: (wait_ms as u64).div_ceil(1_000),
        });
    }
    let shop = shops::find(&mut *tx, shop_id)
        .await?
        .ok_or(KeyReadError::NotFound)?;
    let state = shop.state();
    if state != ConnectionState::Connected {
        return Err(KeyReadError::NotConnected(state));
    }
    let (Some(sealed), Some(its_shop_id)) = (shop.sealed_key(), shop.its_shop_id) else {
        return Err(KeyReadError::NotConnected(state));
    };
    let opened = match svc.sealer.open(&sealed, shop.id, shop.owner_id) {
        Ok(opened) => opened,
        Err(err) => {
            tracing::error!(shop = %shop.id, error = %err, "a stored shop key does not open");
            return Err(KeyReadError::Unreadable);
        }
    };
    events::record_and_queue(
        &mut *tx,
        shop.id,
        now,
        &key.actor(),
        Some(state),
        state,
        Some(EventNote::KeyReadApi.name()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(shop = %shop.id, key = %key.id(), "shop key read through the API");
    Ok(KeyRead {
        shop_id: shop.id,
        its_shop_id,
        key: opened,
    })
}
