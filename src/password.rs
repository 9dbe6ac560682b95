//! Password hashing with argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//! Hashing is CPU- and memory-heavy, so it runs on tokio's blocking threads, never on the
//! async workers, and a login for an unknown email verifies against a dummy hash so it
//! takes as long as a real one.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19_456, 2, 1, None).expect("valid argon2 parameters"),
    )
}

/// At most this many hashes are computed at once: each takes 19 MiB and a core for a
/// moment, so a burst of logins waits its turn instead of exhausting memory or starving
/// the async workers that serve every other request.
const AT_ONCE: usize = 2;

/// The app's password hasher: hashing and checking, at most `AT_ONCE` at a time. One per
/// app, in `Services` (cheap to clone: the clones share the permits); a command-line tool
/// makes its own.
#[derive(Clone)]
pub struct Hasher {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE)),
        }
    }
}

/// Passwords people pick first (of the allowed length); compared case-insensitively.
const COMMON: &str = include_str!("common_passwords.txt");

crate::i18n::keyed! {
    /// What is wrong with a new password, each with its message.
    pub enum PasswordProblem {
        TooShort => error_password_too_short,
        TooLong => error_password_too_long,
        Common => error_password_common,
    }
}

/// Checks the length rules and the common-password list.
pub fn check_strength(password: &str) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        Err(PasswordProblem::TooShort)
    } else if n > MAX_LENGTH {
        Err(PasswordProblem::TooLong)
    } else if COMMON
        .lines()
        .any(|common| common.eq_ignore_ascii_case(password.trim()))
    {
        Err(PasswordProblem::Common)
    } else {
        Ok(())
    }
}

/// Whether a stored hash was made with other parameters than today's (so it is redone
/// at the next successful login: `services::accounts::authenticate`).
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let current = hasher();
    let params = current.params();
    parsed.algorithm.as_str() != "argon2id"
        || Params::try_from(&parsed).map_or(true, |p| {
            p.m_cost() != params.m_cost()
                || p.t_cost() != params.t_cost()
                || p.p_cost() != params.p_cost()
        })
}

impl Hasher {
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
        })
        .await?
    }

    /// Verifies `password` against `stored` (or against a dummy hash when there is no
    /// user), always doing the same amount of work. `Ok(true)` only for a real match. A
    /// check that could not be made (the hashing thread panicked, a stored hash that
    /// cannot be checked) is an error, never a "wrong password": the login answers 500 and
    /// the cause is logged.
    pub async fn verify(&self, password: String, stored: Option<String>) -> anyhow::Result<bool> {
        let real = stored.is_some();
        self.run_check(move || {
            let hash_text = stored.unwrap_or_else(|| dummy_hash().to_owned());
            // Not a PHC string at all: an account without a password (a connect link's
            // owner holds such a marker), which no password opens.
            let Ok(parsed) = PasswordHash::new(&hash_text) else {
                return Ok(false);
            };
            anyhow::ensure!(
                parsed.hash.is_some(),
                "the stored password hash holds no hash"
            );
            match hasher().verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Ok(real),
                Err(argon2::password_hash::Error::Password) => Ok(false),
                Err(e) => Err(anyhow::anyhow!(
                    "the stored password hash cannot be checked: {e}"
                )),
            }
        })
        .await
    }

    /// Runs one password check on a blocking thread, at most `AT_ONCE` at a time. A panic
    /// in it is an error of its own.
    async fn run_check(
        &self,
        check: impl FnOnce() -> anyhow::Result<bool> + Send + 'static,
    ) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| anyhow::anyhow!("checking a password failed: {e}"))?
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(b"not a real password, only spends the same time", &salt)
            .expect("hashing the dummy password")
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_only() {
        let hasher = Hasher::default();
        let h = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher
            .verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong horse battery".into(), Some(h))
            .await
            .unwrap());
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_check_that_panics_or_cannot_be_made_is_an_error_not_a_wrong_password() {
        let hasher = Hasher::default();
        let panicked = hasher
            .run_check(|| panic!("simulated failure inside the hasher"))
            .await;
        assert!(panicked.is_err(), "{panicked:?}");
        // The semaphore's permit came back: the next check runs.
        assert!(hasher.run_check(|| Ok(true)).await.unwrap());
        let no_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ";
        let checked = hasher
            .verify("anything at all".into(), Some(no_hash.into()))
            .await;
        assert!(checked.is_err(), "{checked:?}");
        // A marker that is not a hash at all is an account without a password.
        let marker = hasher
            .verify("anything at all".into(), Some("!no-password".into()))
            .await;
        assert!(!marker.unwrap());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(check_strength("Password123"), Err(PasswordProblem::Common));
        assert_eq!(check_strength("matkhau123"), Err(PasswordProblem::Common));
        assert!(check_strength("a rare enough phrase").is_ok());
    }

    #[tokio::test]
    async fn hashes_with_old_parameters_are_marked_for_rehash() {
        let fresh = Hasher::default()
            .hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(!needs_rehash(&fresh));
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));
        assert!(needs_rehash("not a hash"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert_eq!(check_strength("short"), Err(PasswordProblem::TooShort));
        assert!(check_strength(&"x".repeat(129)).is_err());
        assert!(check_strength("long enough pass").is_ok());
    }
}
