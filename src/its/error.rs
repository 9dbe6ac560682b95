//! What can go wrong when talking to ITS, and the provider's own error codes.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::redact::redact_text;

/// Why a call to ITS failed. Its `Display` never contains a URL, a key or a token
/// (reqwest's errors, which carry the URL, are logged without it and then dropped).
#[derive(Debug, thiserror::Error)]
pub enum ItsError {
    /// The provider answered 4xx/5xx with a contract error body `{code, msg, meta}`.
    #[error("{0}")]
    Provider(ProviderError),
    /// The connect timeout or the total per-request timeout passed.
    #[error("ITS did not answer in time")]
    Timeout,
    /// The connection could not be made or broke (refused, reset, DNS).
    #[error("could not reach ITS")]
    Connect,
    /// A non-2xx answer without a contract error body (e.g. an HTML 502 from a proxy),
    /// or any 3xx (redirects are never followed).
    #[error("ITS answered with unexpected HTTP status {status}")]
    UnexpectedStatus { status: u16 },
    /// A 2xx answer that is not JSON, lacks a required field or has the wrong content type.
    #[error("ITS answered HTTP {status} with a body that does not follow the contract")]
    MalformedBody { status: u16 },
    /// A 2xx answer larger than `max_body_bytes`.
    #[error("the answer from ITS was larger than allowed")]
    BodyTooLarge,
    /// The client cannot be built or a credential cannot be sent (bad `base_url`, an
    /// api_key or shop key that is not a valid header value). Never retryable.
    #[error("ITS client misconfigured: {0}")]
    Config(&'static str),
}

impl ItsError {
    /// Whether trying the same call again later may help: timeouts, connection failures
    /// and provider trouble (any 5xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            ItsError::Timeout | ItsError::Connect => true,
            ItsError::Provider(p) => p.status >= 500 || p.code == ErrorCode::ProviderTrouble,
            ItsError::UnexpectedStatus { status } => *status >= 500,
            ItsError::MalformedBody { .. } | ItsError::BodyTooLarge | ItsError::Config(_) => false,
        }
    }

    /// The provider's error code, when the provider sent a contract error body.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ItsError::Provider(p) => Some(p.code),
            _ => None,
        }
    }

    /// The contract error, when the provider sent one.
    pub fn provider(&self) -> Option<&ProviderError> {
        match self {
            ItsError::Provider(p) => Some(p),
            _ => None,
        }
    }

    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ItsError::Provider(_) => "provider",
            ItsError::Timeout => "timeout",
            ItsError::Connect => "connect",
            ItsError::UnexpectedStatus { .. } => "unexpected_status",
            ItsError::MalformedBody { .. } => "malformed_body",
            ItsError::BodyTooLarge => "body_too_large",
            ItsError::Config(_) => "config",
        }
    }
}

/// A contract error body sent with a 4xx/5xx status. `msg` and the `meta` values are
/// stored with URL queries and token-like words masked (the provider may echo a
/// `redirect_url` back), and `msg` is cut to a reasonable length.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub status: u16,
    pub code: ErrorCode,
    /// The `code` exactly as sent (useful when `code` is `Unknown`).
    pub raw_code: String,
    pub msg: String,
    pub meta: BTreeMap<String, String>,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ITS error {} (HTTP {})", self.raw_code, self.status)?;
        if !self.msg.is_empty() {
            write!(f, ": {}", self.msg)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every text here is already redacted at parse time; written by hand so a future
        // field cannot slip into a log unreviewed.
        f.debug_struct("ProviderError")
            .field("status", &self.status)
            .field("code", &self.code)
            .field("raw_code", &self.raw_code)
            .field("msg", &self.msg)
            .field("meta", &self.meta)
            .finish()
    }
}

/// The provider's error codes, grouped by what the app does about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `invalid_argument`: a field is wrong (bad email/phone, unregistered redirect_url…).
    InvalidArgument,
    /// `failed_precondition`: valid, but the state forbids it.
    FailedPrecondition,
    /// `unauthenticated`: wrong api_key, or a shop key that no longer works.
    Unauthenticated,
    /// `permission_denied`: this shop never linked through this partner; retry without `shop_id`.
    PermissionDenied,
    /// `bad_route` or `not_found`.
    NotFound,
    /// `already_exists`.
    AlreadyExists,
    /// `account_closed`: the shop or its owner account is closed at the provider.
    AccountClosed,
    /// `internal`, `unavailable`, `deadline_exceeded`, or any other code sent with a 5xx.
    ProviderTrouble,
    /// A code this client does not know, sent with a non-5xx status.
    Unknown,
}

impl ErrorCode {
    /// Maps the body's `code` (and, for unknown codes, the HTTP status) to a variant.
    pub fn from_wire(raw_code: &str, status: u16) -> Self {
        match raw_code {
            "invalid_argument" => ErrorCode::InvalidArgument,
            "failed_precondition" => ErrorCode::FailedPrecondition,
            "unauthenticated" => ErrorCode::Unauthenticated,
            "permission_denied" => ErrorCode::PermissionDenied,
            "bad_route" | "not_found" => ErrorCode::NotFound,
            "already_exists" => ErrorCode::AlreadyExists,
            "account_closed" => ErrorCode::AccountClosed,
            "internal" | "unavailable" | "deadline_exceeded" => ErrorCode::ProviderTrouble,
            _ if status >= 500 => ErrorCode::ProviderTrouble,
            _ => ErrorCode::Unknown,
        }
    }
}

const MAX_MSG_CHARS: usize = 500;
const MAX_META_ENTRIES: usize = 32;
const MAX_META_VALUE_CHARS: usize = 200;

#[derive(Deserialize)]
struct ErrorBodyWire {
    code: String,
    #[serde(default)]
    msg: Option<serde_json::Value>,
    #[serde(default)]
    meta: Option<serde_json::Value>,
}

/// Reads a contract error body. `None` when the body is not one (not JSON, no string
/// `code`, or an empty `code`).
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> Option<ProviderError> {
    let wire: ErrorBodyWire = serde_json::from_slice(body).ok()?;
    let raw_code = wire.code.trim();
    if raw_code.is_empty() || raw_code.len() > 100 {
        return None;
    }
    let msg = match wire.msg {
        Some(v) => truncate(&redact_text(&value_to_string(v)), MAX_MSG_CHARS),
        None => String::new(),
    };
    let meta = match wire.meta {
        Some(serde_json::Value::Object(map)) => map
            .into_iter()
            .take(MAX_META_ENTRIES)
            .map(|(k, v)| {
                let v = truncate(&redact_text(&value_to_string(v)), MAX_META_VALUE_CHARS);
                (k, v)
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    Some(ProviderError {
        status,
        code: ErrorCode::from_wire(raw_code, status),
        raw_code: raw_code.to_owned(),
        msg,
        meta,
    })
}

/// A JSON value as text: strings as they are, `null` as empty, anything else as JSON.
fn value_to_string(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str) -> Vec<u8> {
        format!(r#"{{"code":"{code}","msg":"Có lỗi xảy ra","meta":{{"field":"email"}}}}"#)
            .into_bytes()
    }

    #[test]
    fn each_contract_code_maps_to_its_variant() {
        let cases = [
            ("invalid_argument", 400, ErrorCode::InvalidArgument),
            ("failed_precondition", 400, ErrorCode::FailedPrecondition),
            ("unauthenticated", 401, ErrorCode::Unauthenticated),
            ("permission_denied", 403, ErrorCode::PermissionDenied),
            ("bad_route", 404, ErrorCode::NotFound),
            ("not_found", 404, ErrorCode::NotFound),
            ("already_exists", 409, ErrorCode::AlreadyExists),
            ("account_closed", 400, ErrorCode::AccountClosed),
            ("internal", 500, ErrorCode::ProviderTrouble),
            ("unavailable", 503, ErrorCode::ProviderTrouble),
            ("deadline_exceeded", 504, ErrorCode::ProviderTrouble),
            ("something_new", 502, ErrorCode::ProviderTrouble),
            ("something_new", 400, ErrorCode::Unknown),
        ];
        for (code, status, want) in cases {
            let err = parse_error_body(status, &body(code)).expect(code);
            assert_eq!(err.code, want, "{code} {status}");
            assert_eq!(err.raw_code, code);
            assert_eq!(err.status, status);
            assert_eq!(err.msg, "Có lỗi xảy ra");
            assert_eq!(err.meta.get("field").map(String::as_str), Some("email"));
        }
    }

    #[test]
    fn non_string_meta_values_become_text() {
        let raw = br#"{"code":"invalid_argument","msg":"x","meta":{"n":3,"b":true,"z":null,"o":{"a":[1,"2"]},"big":1052570182707778180}}"#;
        let err = parse_error_body(400, raw).unwrap();
        assert_eq!(err.meta["n"], "3");
        assert_eq!(err.meta["b"], "true");
        assert_eq!(err.meta["z"], "");
        assert_eq!(err.meta["o"], r#"{"a":[1,"2"]}"#);
        assert_eq!(err.meta["big"], "1052570182707778180");
    }

    #[test]
    fn missing_msg_and_meta_are_tolerated_and_a_non_object_meta_is_ignored() {
        let err = parse_error_body(401, br#"{"code":"unauthenticated"}"#).unwrap();
        assert_eq!(err.msg, "");
        assert!(err.meta.is_empty());
        let err = parse_error_body(401, br#"{"code":"unauthenticated","meta":[1,2]}"#).unwrap();
        assert!(err.meta.is_empty());
    }

    #[test]
    fn bodies_without_a_string_code_are_not_contract_errors() {
        for raw in [
            &b"<html>502 Bad Gateway</html>"[..],
            br#"{"msg":"no code"}"#,
            br#"{"code":""}"#,
            br#"{"code":42}"#,
            br#"[]"#,
            b"",
        ] {
            assert!(parse_error_body(502, raw).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn an_echoed_redirect_url_loses_its_query_in_msg_display_and_debug() {
        let raw = r#"{"code":"invalid_argument","msg":"redirect_url không hợp lệ: https://app.example.vn/cb?token=SECRETTOKEN","meta":{"redirect_url":"https://app.example.vn/cb?token=SECRETTOKEN"}}"#;
        let err = ItsError::Provider(parse_error_body(400, raw.as_bytes()).unwrap());
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains("SECRETTOKEN"), "{text}");
            assert!(text.contains("https://app.example.vn/cb"), "{text}");
        }
    }

    #[test]
    fn retryable_errors_are_timeouts_connection_failures_and_provider_trouble() {
        let internal = ItsError::Provider(parse_error_body(500, &body("internal")).unwrap());
        let denied = ItsError::Provider(parse_error_body(403, &body("permission_denied")).unwrap());
        assert!(ItsError::Timeout.is_retryable());
        assert!(ItsError::Connect.is_retryable());
        assert!(internal.is_retryable());
        assert!(ItsError::UnexpectedStatus { status: 502 }.is_retryable());
        assert!(!ItsError::UnexpectedStatus { status: 302 }.is_retryable());
        assert!(!denied.is_retryable());
        assert!(!ItsError::MalformedBody { status: 200 }.is_retryable());
        assert!(!ItsError::BodyTooLarge.is_retryable());
        assert_eq!(denied.code(), Some(ErrorCode::PermissionDenied));
        assert_eq!(ItsError::Timeout.code(), None);
    }

    #[test]
    fn a_very_long_msg_is_cut() {
        let long = "a".repeat(2000);
        let raw = format!(r#"{{"code":"internal","msg":"{long}"}}"#);
        let err = parse_error_body(500, raw.as_bytes()).unwrap();
        assert_eq!(err.msg.chars().count(), MAX_MSG_CHARS + 1);
    }
}
