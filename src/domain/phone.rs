use super::ParseError;

/// A Vietnamese phone number, normalised to the national form `0xxxxxxxxx`.
/// Accepts spaces, dots and dashes between digits and the `+84`/`84` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = ParseError::PhoneInvalid;
        let s = s.trim();
        let (prefix_plus, rest) = match s.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if rest
            .chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-')))
        {
            return Err(err);
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        let national = if let Some(tail) = digits
            .strip_prefix("84")
            .filter(|_| prefix_plus || digits.len() == 11)
        {
            format!("0{tail}")
        } else if prefix_plus {
            return Err(err);
        } else {
            digits
        };
        if national.len() != 10 || !national.starts_with('0') {
            return Err(err);
        }
        Ok(Phone(national))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings_normalise_to_the_national_form() {
        for ok in [
            "0912345678",
            "091 234 5678",
            "0912.345.678",
            "+84912345678",
            "84912345678",
            "+84 912-345-678",
        ] {
            assert_eq!(Phone::parse(ok).unwrap().as_str(), "0912345678", "{ok:?}");
        }
    }

    #[test]
    fn wrong_lengths_and_letters_are_refused() {
        for bad in [
            "",
            "12345",
            "09123456789",
            "091234567a",
            "+1 555 0100",
            "1912345678",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
