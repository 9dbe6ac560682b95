//! What the provider accepts in `AuthorizeShop`'s pre-fill and id fields (its server
//! validates even a pre-fill, and refuses the whole call with `400 invalid_argument`).
//! The connect flow leaves out a pre-fill that would be refused rather than fail the
//! connect. Written independently of the sandbox's own copy of these rules, so a mistake
//! in one shows up against the other in the tests.

/// The email, if the provider would accept it as a pre-fill: its local part, lower-cased,
/// is `[0-9a-z._-]{1,128}` without `..`, `--`, `.-` or `-.` (so `an+shop@gmail.com` is not).
pub fn email(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (local, domain) = raw.rsplit_once('@')?;
    let local = local.to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let ok = !local.is_empty()
        && local.len() <= 128
        && local.chars().all(allowed)
        && !["..", "--", ".-", "-."]
            .iter()
            .any(|pair| local.contains(pair))
        && !domain.is_empty()
        && !domain.contains('@');
    ok.then(|| raw.to_owned())
}

/// The phone, if the provider would accept it: after `+84`/`84` → `0` and without
/// separators, 10 to 12 digits.
pub fn phone(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = match compact
        .strip_prefix("+84")
        .or_else(|| compact.strip_prefix("84"))
    {
        Some(rest) => format!("0{rest}"),
        None => compact.clone(),
    };
    let ok = (10..=12).contains(&national.len()) && national.chars().all(|c| c.is_ascii_digit());
    ok.then(|| raw.trim().to_owned())
}

/// Whether `external_shop_id` matches the provider's `^[-._$#:A-Za-z0-9_]{2,100}$`.
pub fn external_shop_id(raw: &str) -> bool {
    let n = raw.chars().count();
    (2..=100).contains(&n)
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._$#:".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_the_provider_refuses_are_left_out() {
        assert_eq!(
            email("an.shop@gmail.com").as_deref(),
            Some("an.shop@gmail.com")
        );
        assert_eq!(email("An_Shop-1@x.vn").as_deref(), Some("An_Shop-1@x.vn"));
        for refused in [
            "an+shop@gmail.com",
            "an..shop@x.vn",
            "an--shop@x.vn",
            "an.-shop@x.vn",
            "an-.shop@x.vn",
            "hòa@x.vn",
            "@x.vn",
        ] {
            assert_eq!(email(refused), None, "{refused}");
        }
        assert_eq!(email(&format!("{}@x.vn", "a".repeat(129))), None);
    }

    #[test]
    fn phones_must_normalise_to_ten_to_twelve_digits() {
        for ok in [
            "0912345678",
            "+84 912 345 678",
            "84912345678",
            "(028) 3823.4567",
        ] {
            assert!(phone(ok).is_some(), "{ok}");
        }
        for refused in ["091234567", "0912345678901", "0912a45678", "+1 555 0100"] {
            assert_eq!(phone(refused), None, "{refused}");
        }
    }

    #[test]
    fn external_shop_ids_follow_the_providers_pattern() {
        assert!(external_shop_id("6f1c2a9e-0d7b-4c55-9a3e-2b8f0c1d4e5a"));
        assert!(external_shop_id("KH:01#$._-"));
        for bad in ["x", "có dấu", "a/b", "a b", "a\"b", &"x".repeat(101)] {
            assert!(!external_shop_id(bad), "{bad}");
        }
    }
}
