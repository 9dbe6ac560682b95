//! Users: creating them and checking their passwords.

use sqlx::SqlitePool;
use uuid::Uuid;

use crate::domain::{Email, UserRole};
use crate::password;
use crate::store::{self, users};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub async fn create_user(
    db: &SqlitePool,
    email: &str,
    name: &str,
    role: UserRole,
    password_text: &str,
) -> Result<Uuid, CreateUserError> {
    let email = Email::parse(email).map_err(|e| CreateUserError::Invalid(e.0))?;
    password::check_strength(password_text).map_err(CreateUserError::Invalid)?;
    let name = name.trim();
    let name = if name.is_empty() {
        email.as_str()
    } else {
        name
    };
    let hash = password::hash(password_text.to_owned()).await?;
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
    email: &str,
    password_text: &str,
) -> anyhow::Result<Option<users::UserRow>> {
    let user = match Email::parse(email) {
        Ok(email) => users::find_by_email(db, email.as_str()).await?,
        Err(_) => None,
    };
    let ok = password::verify(
        password_text.to_owned(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = user.filter(|u| ok && u.disabled_at.is_none());
    if let Some(u) = &user {
        if password::needs_rehash(&u.password_hash) {
            rehash(db, u, password_text).await;
        }
    }
    Ok(user)
}

/// Re-hashes a password whose stored hash has older parameters, now that the login has
/// the password in hand. Only if the hash is still the one just verified (an admin's
/// reset in between wins); a failure leaves the old hash, which still works.
async fn rehash(db: &SqlitePool, user: &users::UserRow, password_text: &str) {
    let replaced = match password::hash(password_text.to_owned()).await {
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
