//! The session lifecycle: starting one at a login (or a connect link), reading the
//! current one on each request, ending one at a logout. The cookie holds only a random id;
//! the database keeps its hash.

use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::{random_token, token_hash};
use crate::store::{self, sessions};

/// Sessions idle longer than this end (admins hold more power, so theirs end sooner).
pub const ADMIN_IDLE_MS: i64 = 30 * 60 * 1000;
pub const OWNER_IDLE_MS: i64 = 24 * 60 * 60 * 1000;
/// A session ends this long after login whatever happens.
pub const SESSION_LIFETIME_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Starts a session for `user_id`, ending `replacing` (the browser's old session, if
/// any) first: a login never keeps the id the browser had (no fixation). Returns the
/// cookie's value.
pub async fn begin(
    svc: &Services,
    replacing: Option<&str>,
    user_id: Uuid,
) -> Result<String, ServiceError> {
    if let Some(old) = replacing {
        end(svc, old).await?;
    }
    let session_id = random_token();
    let now = store::now_ms();
    sessions::insert(
        &svc.db,
        &token_hash(&session_id),
        user_id,
        &random_token(),
        now,
        now + SESSION_LIFETIME_MS,
    )
    .await?;
    Ok(session_id)
}

/// Ends a session (a logout, or the old session a login or a connect link replaces).
pub async fn end(svc: &Services, session_hash: &str) -> Result<(), ServiceError> {
    sessions::delete(&svc.db, &svc.sessions, session_hash).await?;
    Ok(())
}

/// The live session with this hash, if any, from the cache when it was read moments ago.
/// Writes the last-seen time at most once a minute: a write per request would cost more
/// than the page.
pub async fn current(
    svc: &Services,
    session_hash: &str,
) -> Result<Option<sessions::SessionRow>, ServiceError> {
    let now = store::now_ms();
    let Some(row) = sessions::find_live_cached(
        &svc.db,
        &svc.sessions,
        session_hash,
        now,
        ADMIN_IDLE_MS,
        OWNER_IDLE_MS,
    )
    .await?
    else {
        return Ok(None);
    };
    if now - row.last_seen_at > 60_000 {
        sessions::touch(&svc.db, &svc.sessions, session_hash, now).await?;
    }
    Ok(Some(row))
}
