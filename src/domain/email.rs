use super::ParseError;

/// An e-mail address, trimmed and lower-cased. The check is deliberately simple (one `@`,
/// a dot in the domain, no spaces): the provider does the real validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim().to_lowercase();
        let err = ParseError::EmailInvalid;
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err);
        }
        let (local, domain) = s.split_once('@').ok_or(err)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(err);
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  An@Example.VN ").unwrap().as_str(),
            "an@example.vn"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "", "a", "a@b", "@b.vn", "a@@b.vn", "a b@c.vn", "a@.vn", "a@b.vn.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
