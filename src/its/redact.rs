//! Masking for text that may carry a secret: URL queries (our callback token, the
//! provider's request token), request tokens and shop keys echoed back by the provider.

const MASK: &str = "…";

/// A URL without its query, fragment and user info: `https://host/path?…`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(i) = out.find(['?', '#']) {
        let sep = &out[i..i + 1];
        out = format!("{}{sep}{MASK}", &out[..i]);
    }
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            out = format!(
                "{}{MASK}{}",
                &out[..authority_start],
                &out[authority_start + at..]
            );
        }
    }
    out
}

/// Free text (a provider `msg`) with every URL's query, every `request:…` token, every
/// `shop<digits>:…` key and every word after `Bearer` masked. Whitespace is kept.
pub(crate) fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_bearer = false;
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        let (space, tail) = tail.split_at(space_end);
        if !word.is_empty() {
            if after_bearer {
                out.push_str(MASK);
            } else {
                out.push_str(&redact_word(word));
            }
            after_bearer = word.eq_ignore_ascii_case("bearer");
        }
        out.push_str(space);
        rest = tail;
    }
    out
}

fn redact_word(word: &str) -> String {
    if word.contains("://") {
        return redact_url(word);
    }
    if let Some(i) = word.find("request:") {
        return format!("{}request:{MASK}", &word[..i]);
    }
    if let Some(i) = shop_key_secret_start(word) {
        return format!("{}{MASK}", &word[..i]);
    }
    // `token=…`, `key=…`, `secret=…` outside a URL.
    let lower = word.to_ascii_lowercase();
    for name in ["token=", "key=", "secret=", "token:", "key:"] {
        if let Some(i) = lower.find(name) {
            return format!("{}{MASK}", &word[..i + name.len()]);
        }
    }
    word.to_owned()
}

/// Where the secret of a `shop<digits>:<secret>` key starts inside `word`.
fn shop_key_secret_start(word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = word[from..].find("shop").map(|i| from + i) {
        let after = &word[i + 4..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(':') && after.len() > digits + 1 {
            return Some(i + 4 + digits + 1);
        }
        from = i + 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_keeps_its_path_but_not_its_query_fragment_or_user_info() {
        assert_eq!(
            redact_url("https://app.example.vn/its/callback?token=abc&x=1"),
            "https://app.example.vn/its/callback?…"
        );
        assert_eq!(redact_url("https://a.vn/p#frag"), "https://a.vn/p#…");
        assert_eq!(redact_url("https://user:pw@a.vn/p?q"), "https://…@a.vn/p?…");
        assert_eq!(redact_url("https://a.vn/p"), "https://a.vn/p");
    }

    #[test]
    fn tokens_and_keys_in_free_text_are_masked() {
        let text = "Sai redirect_url: https://x.vn/cb?token=T1, token request:abc123 \
                    key shop1052570182707778180:s3cr3t Bearer xyz token=zzz done";
        let out = redact_text(text);
        for secret in ["T1", "abc123", "s3cr3t", "xyz", "zzz"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.starts_with("Sai redirect_url: https://x.vn/cb?…"));
        assert!(out.contains("shop1052570182707778180:…"));
        assert!(out.ends_with("done"));
    }

    #[test]
    fn ordinary_vietnamese_text_is_unchanged() {
        let text = "Số điện thoại không hợp lệ.\n  Vui lòng thử lại";
        assert_eq!(redact_text(text), text);
        assert_eq!(redact_text("shop 12: ok"), "shop 12: ok");
    }
}
