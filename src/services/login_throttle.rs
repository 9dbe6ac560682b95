//! Brute-force protection for the login form: failures are counted per account and per
//! client address; after `FREE_FAILURES` in a window, each further failure locks that
//! subject for a delay that doubles, up to `MAX_LOCK_MS`, so an attacker cannot lock a real
//! user out for long. Locked attempts are answered 429 before any password is checked.

use std::net::IpAddr;

use sqlx::SqlitePool;

use crate::store::login_throttle as store;

pub const FREE_FAILURES: i64 = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
pub const FIRST_LOCK_MS: i64 = 60 * 1000;
pub const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

pub fn subjects(email: &str, address: IpAddr) -> [String; 2] {
    [
        format!("account:{}", email.trim().to_lowercase()),
        format!("address:{address}"),
    ]
}

/// Milliseconds to wait, if the account or the address is locked now.
pub async fn wait_for(
    db: &SqlitePool,
    subjects: &[String; 2],
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    Ok(store::locked_until(db, subjects, now)
        .await?
        .map(|until| until - now))
}

/// The lock that follows the `failures`-th failure in a window, if any.
pub fn lock_for(failures: i64) -> Option<i64> {
    (failures >= FREE_FAILURES).then(|| {
        let doublings = (failures - FREE_FAILURES).min(10) as u32;
        (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS)
    })
}

pub async fn record_failure(
    db: &SqlitePool,
    subjects: &[String; 2],
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = crate::store::begin_write(db).await?;
    for subject in subjects {
        let failures = store::record_failure(&mut *tx, subject, now, WINDOW_MS).await?;
        if let Some(lock) = lock_for(failures) {
            store::lock(&mut *tx, subject, now + lock).await?;
        }
    }
    tx.commit().await
}

/// A successful login clears the account's count (not the address's: one good password
/// does not excuse a thousand guesses at other accounts).
pub async fn record_success(db: &SqlitePool, subjects: &[String; 2]) -> Result<(), sqlx::Error> {
    store::clear(db, &subjects[0]).await
}

/// The client's address: the peer, or — only when the peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy. A spoofed
/// header from anyone else is ignored.
pub fn client_address(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded_for
        .and_then(|h| {
            h.split(',')
                .rev()
                .filter_map(|part| part.trim().parse::<IpAddr>().ok())
                .find(|ip| !trusted.contains(ip))
        })
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_after_five_failures_and_double_up_to_fifteen_minutes() {
        assert_eq!(lock_for(4), None);
        assert_eq!(lock_for(5), Some(60_000));
        assert_eq!(lock_for(6), Some(120_000));
        assert_eq!(lock_for(9), Some(900_000));
        assert_eq!(lock_for(500), Some(MAX_LOCK_MS));
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        assert_eq!(
            client_address(Some(stranger), Some("1.2.3.4"), &[proxy]),
            stranger,
            "spoofed header ignored"
        );
        assert_eq!(
            client_address(Some(proxy), Some("1.2.3.4, 203.0.113.7"), &[proxy]),
            client
        );
        assert_eq!(
            client_address(Some(proxy), Some("garbage"), &[proxy]),
            proxy
        );
    }
}
