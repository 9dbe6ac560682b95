use std::fmt;

use super::ParseError;

/// The long-lived secret the provider gives for a linked shop (`shop<id>:<secret>`).
/// It has no `Display` and its `Debug` shows only the last four characters, so it cannot
/// end up in a log line or a page by accident. Read it with `expose_secret`.
///
/// Hand-written rather than `secrecy::SecretString`: people need the masked tail
/// (`****abcd`) to tell keys apart, not `[REDACTED]`; the type needs `Clone` and `Eq`; and
/// secrecy's zeroize-on-drop would clear one copy of a key whose bytes also sit in request
/// bodies, JSON and SQLite buffers we do not control. The accessor keeps secrecy's name,
/// so every read of a secret is found by one search, as it would be with the crate.
#[derive(Clone, PartialEq, Eq)]
pub struct ShopKey(String);

impl ShopKey {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 512 || s.chars().any(|c| c.is_control() || c == ' ') {
            return Err(ParseError::ShopKeyInvalid);
        }
        Ok(ShopKey(s.to_owned()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// What a person may see: `****` and the last four characters.
    pub fn masked(&self) -> String {
        let tail: String = {
            let chars: Vec<char> = self.0.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        format!("****{tail}")
    }
}

impl fmt::Debug for ShopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShopKey({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_only_the_last_four_characters() {
        let key = ShopKey::parse("shop1052570182707778180:s3cr3tVALUEabcd").unwrap();
        assert_eq!(format!("{key:?}"), "ShopKey(****abcd)");
        assert_eq!(key.masked(), "****abcd");
    }

    #[test]
    fn empty_or_spaced_keys_are_refused() {
        assert!(ShopKey::parse("").is_err());
        assert!(ShopKey::parse("shop1:a b").is_err());
        assert!(ShopKey::parse("shop1:a\nb").is_err());
    }
}
