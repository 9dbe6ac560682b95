//! Random ids and secrets of the sandbox, and the hashing of request tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// The smallest id the sandbox hands out: ids look like the provider's (19 digits).
const MIN_ID: i64 = 1_000_000_000_000_000_000;

/// A random positive id of 19 digits, like `1052570182707778180`.
pub(crate) fn new_large_id() -> i64 {
    rand::thread_rng().gen_range(MIN_ID..=i64::MAX)
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A shop key in the provider's shape: `shop<id>:<secret>` (192 random bits).
pub(crate) fn new_shop_key(shop_id: i64) -> String {
    format!("shop{shop_id}:{}", random_text(24))
}

/// A one-time request token: `request:<secret>` (256 random bits).
pub(crate) fn new_request_token() -> String {
    format!("request:{}", random_text(32))
}

/// What the database keeps of a request token.
pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let a = Sha256::digest(a);
    let b = Sha256::digest(b);
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_nineteen_digits() {
        for _ in 0..100 {
            let id = new_large_id();
            assert!(id >= MIN_ID);
            assert_eq!(id.to_string().len(), 19);
        }
    }

    #[test]
    fn secrets_have_the_provider_shapes_and_differ() {
        let key = new_shop_key(42);
        assert!(key.starts_with("shop42:"));
        assert_ne!(key, new_shop_key(42));
        let token = new_request_token();
        assert!(token.starts_with("request:") && token.len() >= 8 + 43);
        assert!(token.bytes().all(|b| b.is_ascii_graphic()));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
