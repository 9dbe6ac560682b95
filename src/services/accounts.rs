//! Users: creating them, checking their passwords, and the admin's account actions
//! (disable, enable, password reset, ending sessions).
//!
//! Disabling a user and resetting their password end their sessions in the same
//! transaction, so a stolen or shared session stops working at once.

use sqlx::SqlitePool;
use uuid::Uuid;

use super::{Refusal, ServiceError, Services};
use crate::domain::{Email, UserRole};
use crate::password::{self, Hasher};
use crate::store::{self, sessions, users};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the email address is not valid")]
    BadEmail(crate::domain::ParseError),
    #[error("the password breaks a rule: {0}")]
    WeakPassword(password::PasswordProblem),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub async fn create_user(
    db: &SqlitePool,
    hasher: &Hasher,
    email: &str,
    name: &str,
    role: UserRole,
    password_text: &str,
) -> Result<Uuid, CreateUserError> {
    let email = Email::parse(email).map_err(CreateUserError::BadEmail)?;
    password::check_strength(password_text).map_err(CreateUserError::WeakPassword)?;
    let name = name.trim();
    let name = if name.is_empty() {
        email.as_str()
    } else {
        name
    };
    let hash = hasher.hash(password_text.to_owned()).await?;
    users::insert(
        db,
        email.as_str(),
        name,
        role.as_str(),
        &hash,
        store::now_ms(),
    )
    .await
    .map_err(|e| {
        if store::is_unique_violation(&e, "users.email") {
            CreateUserError::EmailTaken
        } else {
            CreateUserError::Other(e.into())
        }
    })
}

/// The user whose email and password match, if any and not disabled. Costs the same time
/// whether or not the email exists.
pub async fn authenticate(
    db: &SqlitePool,
    hasher: &Hasher,
    email: &str,
    password_text: &str,
) -> anyhow::Result<Option<users::UserRow>> {
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(db, email.as_str()).await?,
        Err(_) => None,
    };
    let ok = hasher
        .verify(
            password_text.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = user.filter(|u| ok && u.disabled_at.is_none());
    if let Some(u) = &user {
        if password::needs_rehash(&u.password_hash) {
            rehash(db, hasher, u, password_text).await;
        }
    }
    Ok(user)
}

/// Re-hashes a password whose stored hash has older parameters, now that the login has
/// the password in hand. Only if the hash is still the one just verified (an admin's
/// reset in between wins); a failure leaves the old hash, which still works.
async fn rehash(db: &SqlitePool, hasher: &Hasher, user: &users::UserRow, password_text: &str) {
    let replaced = match hasher.hash(password_text.to_owned()).await {
        Ok(fresh) => users::replace_password_hash(db, user.id, &user.password_hash, &fresh)
            .await
            .map_err(anyhow::Error::from),
        Err(e) => Err(e),
    };
    match replaced {
        Ok(done) => {
            tracing::info!(user = %user.id, done, "password re-hashed with today's parameters")
        }
        Err(e) => {
            tracing::warn!(user = %user.id, error = %e, "re-hashing a password failed; the old hash stays")
        }
    }
}

/// Disables a user and ends all their sessions, in one transaction. Also when already
/// disabled: a session must never outlive a disable. `None` when there is no such user;
/// else how many sessions ended.
pub async fn disable(svc: &Services, id: Uuid) -> Result<Option<u64>, ServiceError> {
    let mut tx = store::begin_write(&svc.db).await?;
    if users::find_email(&mut *tx, id).await?.is_none() {
        return Ok(None);
    }
    users::disable(&mut *tx, &svc.sessions, id, store::now_ms()).await?;
    let ended = sessions::delete_for_user(&mut *tx, &svc.sessions, id, None).await?;
    tx.commit().await?;
    // The deletes above emptied the cache before the commit; a read in between may have
    // cached the old rows again.
    svc.sessions.invalidate();
    Ok(Some(ended))
}

/// Lets a disabled user log in again. `false` when there is no such user.
pub async fn enable(svc: &Services, id: Uuid) -> Result<bool, ServiceError> {
    if users::find_email(&svc.db, id).await?.is_none() {
        return Ok(false);
    }
    users::enable(&svc.db, id).await?;
    Ok(true)
}

/// Sets a new password and ends the user's sessions except `keep`, in one transaction.
/// `None` when there is no such user; else how many sessions ended. A weak password is
/// refused (the form checks it first, to show the problem beside the field).
pub async fn reset_password(
    svc: &Services,
    id: Uuid,
    password_text: String,
    keep: Option<&str>,
) -> Result<Option<u64>, ServiceError> {
    password::check_strength(&password_text)
        .map_err(|p| ServiceError::Refused(Refusal::WeakPassword(p)))?;
    // Hash before the transaction: it takes a while and holds no lock.
    let hash = svc.passwords.hash(password_text).await?;
    let mut tx = store::begin_write(&svc.db).await?;
    if !users::set_password_hash(&mut *tx, id, &hash).await? {
        return Ok(None);
    }
    let ended = sessions::delete_for_user(&mut *tx, &svc.sessions, id, keep).await?;
    tx.commit().await?;
    svc.sessions.invalidate();
    Ok(Some(ended))
}

/// Ends every session of a user except `keep`. `None` when there is no such user; else
/// how many ended.
pub async fn end_sessions(
    svc: &Services,
    id: Uuid,
    keep: Option<&str>,
) -> Result<Option<u64>, ServiceError> {
    if users::find_email(&svc.db, id).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(
        sessions::delete_for_user(&svc.db, &svc.sessions, id, keep).await?,
    ))
}
