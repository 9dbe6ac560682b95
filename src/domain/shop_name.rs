use super::ParseError;

/// A shop's display name: 1 to 200 characters after trimming, no control characters
/// (which covers NUL and the bidirectional overrides people paste by accident).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopName(String);

impl ShopName {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::ShopNameEmpty);
        }
        if s.chars().count() > 200 {
            return Err(ParseError::ShopNameTooLong);
        }
        if has_control_chars(s) {
            return Err(ParseError::TextControlChars);
        }
        Ok(ShopName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Folds text for search the way people type it: lower case, no diacritics, `đ` as `d`,
/// runs of white space as one space. "Cửa hàng Hòa Mai" and "cua hang hoa mai" fold alike.
pub fn fold_for_search(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(s.len());
    let mut last_space = true;
    for c in s.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.extend(c.to_lowercase());
            last_space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Whether text holds a control character or a bidirectional control (`U+202E` and its
/// kin turn "gpj.exe" into "exe.jpg" on screen): refused in names and ids people read.
pub fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || is_bidi_control(c))
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_vietnamese_diacritics() {
        assert_eq!(fold_for_search("  Cửa hàng  Hòa Mai "), "cua hang hoa mai");
        assert_eq!(fold_for_search("ĐẶNG Đức"), "dang duc");
        assert_eq!(fold_for_search("Hòa"), fold_for_search("hoa"));
    }

    #[test]
    fn a_vietnamese_name_is_kept_as_typed() {
        assert_eq!(
            ShopName::parse("  Cửa hàng Hòa Mai ").unwrap().as_str(),
            "Cửa hàng Hòa Mai"
        );
    }

    #[test]
    fn markup_is_allowed_because_pages_escape_it() {
        assert!(ShopName::parse("<script>alert(1)</script>").is_ok());
    }

    #[test]
    fn empty_long_and_control_names_are_refused() {
        assert_eq!(ShopName::parse("   "), Err(ParseError::ShopNameEmpty));
        assert!(ShopName::parse(&"a".repeat(201)).is_err());
        assert!(ShopName::parse("a\u{0}b").is_err());
        assert!(ShopName::parse("abc\u{202E}def").is_err());
    }
}
