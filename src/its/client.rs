//! The HTTP client: one `POST {base_url}.{Service}/{Method}` per call, JSON in and out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::redirect::Policy;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{parse_error_body, ItsError};
use super::types::{
    ApiKey, Authorization, AuthorizeShopRequest, AuthorizeShopWire, CurrentAccount, CurrentShop,
};
use crate::domain::ShopKey;

/// How the client reaches ITS. Build with [`ItsClientSettings::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct ItsClientSettings {
    /// The partner API prefix, e.g. `https://api.example.vn/v1/partner` (no trailing dot or
    /// slash: a method is appended as `.Shop/AuthorizeShop`).
    pub base_url: String,
    pub api_key: ApiKey,
    /// Default 5 s.
    pub connect_timeout: Duration,
    /// For the whole request, body included. Default 15 s.
    pub timeout: Duration,
    /// The largest answer body accepted. Default 64 KiB.
    pub max_body_bytes: usize,
    /// The pause before the single retry of a read-only call. Default 300 ms.
    pub retry_pause: Duration,
}

impl ItsClientSettings {
    pub fn new(base_url: String, api_key: ApiKey) -> Self {
        ItsClientSettings {
            base_url,
            api_key,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_body_bytes: 64 * 1024,
            retry_pause: Duration::from_millis(300),
        }
    }
}

/// The client for the ITS partner API. Cheap to clone (shares one connection pool).
#[derive(Clone)]
pub struct ItsClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    /// `Bearer <api_key>`, marked sensitive.
    api_key_header: HeaderValue,
    max_body_bytes: usize,
    retry_pause: Duration,
}

impl std::fmt::Debug for ItsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItsClient")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

/// Whether a failed call may be sent a second time.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Read-only calls: once more on Connect/Timeout/5xx.
    Once,
    /// Calls with effects at the provider (AuthorizeShop).
    Never,
}

impl ItsClient {
    /// Builds the client. Settings it cannot use (a `base_url` without a path, with user
    /// info or a query; an api_key that is not a valid header value) give
    /// `ItsError::Config` with the reason.
    pub fn new(settings: ItsClientSettings) -> Result<Self, ItsError> {
        let base_url = check_base_url(&settings.base_url).map_err(unusable)?;
        let api_key_header = bearer(settings.api_key.expose_secret()).map_err(unusable)?;
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(Policy::none())
            .user_agent(concat!("shoplink/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| unusable("the HTTP client could not be built"))?;
        Ok(ItsClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                api_key_header,
                max_body_bytes: settings.max_body_bytes,
                retry_pause: settings.retry_pause,
            }),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// `Shop/AuthorizeShop` with the partner api_key. Never retried: each call may issue a
    /// new request token at the provider.
    pub async fn authorize_shop(
        &self,
        req: &AuthorizeShopRequest,
    ) -> Result<Authorization, ItsError> {
        let (status, wire): (u16, AuthorizeShopWire) = self
            .call(
                "Shop/AuthorizeShop",
                &self.inner.api_key_header,
                req,
                Retry::Never,
            )
            .await?;
        wire.into_authorization()
            .ok_or(ItsError::MalformedBody { status })
    }

    /// `Shop/CurrentShop` with a shop key: the shop's public info. Retried once.
    pub async fn current_shop(&self, key: &ShopKey) -> Result<CurrentShop, ItsError> {
        let header = shop_key_header(key)?;
        self.call("Shop/CurrentShop", &header, &Empty {}, Retry::Once)
            .await
            .map(|(_, shop)| shop)
    }

    /// `Misc/CurrentAccount` with the partner api_key: checks the configured credentials.
    /// Retried once.
    pub async fn current_account(&self) -> Result<CurrentAccount, ItsError> {
        self.call(
            "Misc/CurrentAccount",
            &self.inner.api_key_header,
            &Empty {},
            Retry::Once,
        )
        .await
        .map(|(_, account)| account)
    }

    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: &'static str,
        auth: &HeaderValue,
        body: &impl Serialize,
        retry: Retry,
    ) -> Result<(u16, T), ItsError> {
        // Our request types are plain structs of strings: encoding cannot fail.
        let body = serde_json::to_vec(body).expect("a request body always encodes");
        let first = self.attempt(method, auth, body.clone(), 1).await;
        match first {
            Err(err) if retry == Retry::Once && err.is_retryable() => {
                tokio::time::sleep(self.inner.retry_pause).await;
                self.attempt(method, auth, body, 2).await
            }
            other => other,
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &'static str,
        auth: &HeaderValue,
        body: Vec<u8>,
        attempt: u32,
    ) -> Result<(u16, T), ItsError> {
        let started = Instant::now();
        let result = self.send(method, auth, body).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok((status, _)) => {
                tracing::debug!(
                    its_method = method,
                    status,
                    elapsed_ms,
                    attempt,
                    "ITS call ok"
                );
            }
            Err(err) => {
                let status = match err {
                    ItsError::Provider(p) => Some(p.status),
                    ItsError::UnexpectedStatus { status } | ItsError::MalformedBody { status } => {
                        Some(*status)
                    }
                    _ => None,
                };
                tracing::info!(
                    its_method = method,
                    status,
                    elapsed_ms,
                    attempt,
                    error_kind = err.kind(),
                    error_code = err.provider().map(|p| p.raw_code.as_str()),
                    "ITS call failed"
                );
            }
        }
        result
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: &'static str,
        auth: &HeaderValue,
        body: Vec<u8>,
    ) -> Result<(u16, T), ItsError> {
        let url = format!("{}.{}", self.inner.base_url, method);
        let mut response = self
            .inner
            .http
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(AUTHORIZATION, auth.clone())
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(method, e))?;

        let status = response.status().as_u16();
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        let success = response.status().is_success();

        if response.status().is_redirection() || response.status().is_informational() {
            return Err(ItsError::UnexpectedStatus { status });
        }

        let body = match read_capped(&mut response, self.inner.max_body_bytes, method).await {
            Ok(body) => body,
            // A huge non-2xx body is not a contract error body; keep its status so a
            // proxy's 5xx page stays retryable.
            Err(ItsError::BodyTooLarge) if !success => {
                return Err(ItsError::UnexpectedStatus { status })
            }
            Err(err) => return Err(err),
        };
        interpret(status, is_json, &body)
    }
}

/// Turns a status and a complete body into the typed answer or an error.
pub(crate) fn interpret<T: DeserializeOwned>(
    status: u16,
    is_json: bool,
    body: &[u8],
) -> Result<(u16, T), ItsError> {
    if (200..300).contains(&status) {
        if !is_json {
            return Err(ItsError::MalformedBody { status });
        }
        return serde_json::from_slice(body)
            .map(|value| (status, value))
            .map_err(|_| ItsError::MalformedBody { status });
    }
    if status >= 400 {
        if let Some(err) = parse_error_body(status, body) {
            return Err(ItsError::Provider(err));
        }
    }
    Err(ItsError::UnexpectedStatus { status })
}

/// Reads the body chunk by chunk, stopping as soon as it passes `cap` (a missing or
/// lying Content-Length does not matter).
async fn read_capped(
    response: &mut reqwest::Response,
    cap: usize,
    method: &'static str,
) -> Result<Vec<u8>, ItsError> {
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Err(ItsError::BodyTooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(method, e))?
    {
        if body.len() + chunk.len() > cap {
            return Err(ItsError::BodyTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a reqwest error to ours. The reqwest error (which carries the URL) is logged
/// without its URL, then dropped.
fn transport_error(method: &'static str, err: reqwest::Error) -> ItsError {
    let err = err.without_url();
    let mapped = if err.is_timeout() {
        ItsError::Timeout
    } else {
        ItsError::Connect
    };
    tracing::debug!(its_method = method, error = %error_chain(&err), "ITS transport error");
    mapped
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn is_json_media_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// `Bearer <secret>` as a header value marked sensitive (hidden from reqwest's and
/// hyper's debug output).
fn bearer(secret: &str) -> Result<HeaderValue, &'static str> {
    if secret.is_empty() {
        return Err("empty credential");
    }
    let mut value = HeaderValue::from_bytes(format!("Bearer {secret}").as_bytes())
        .map_err(|_| "a credential is not a valid header value")?;
    value.set_sensitive(true);
    Ok(value)
}

/// `Bearer <shop key>` for the methods authenticated with a shop key.
pub(super) fn shop_key_header(key: &ShopKey) -> Result<HeaderValue, ItsError> {
    bearer(key.expose_secret()).map_err(unusable)
}

/// Checks `base_url` and returns it without trailing slashes: an absolute http(s) URL
/// with a path, no user info, query or fragment (those would end up before the method).
fn check_base_url(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = url::Url::parse(trimmed).map_err(|_| "base_url is not a URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("base_url must be an http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("base_url must not carry credentials");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("base_url must not have a query or fragment");
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("base_url needs a path such as /v1/partner (a method is appended with a dot)");
    }
    if trimmed.ends_with('.') {
        return Err("base_url must not end with a dot");
    }
    Ok(trimmed.to_owned())
}

/// Settings or a credential the client cannot work with. The reason is never a secret.
fn unusable(reason: &'static str) -> ItsError {
    tracing::error!(reason, "ITS client settings unusable");
    ItsError::Config(reason)
}

#[derive(Serialize)]
struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::its::ErrorCode;

    #[test]
    fn a_base_url_needs_a_path_and_no_secrets() {
        assert_eq!(
            check_base_url("https://api.example.vn/v1/partner/").unwrap(),
            "https://api.example.vn/v1/partner"
        );
        for bad in [
            "api.example.vn/v1/partner",
            "ftp://api.example.vn/v1/partner",
            "https://api.example.vn",
            "https://api.example.vn/",
            "https://u:p@api.example.vn/v1/partner",
            "https://api.example.vn/v1/partner?k=v",
            "https://api.example.vn/v1/partner.",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_media_types_are_recognised() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(is_json_media_type("application/problem+json"));
        assert!(!is_json_media_type("text/html"));
        assert!(!is_json_media_type("text/plain; charset=utf-8"));
    }

    #[test]
    fn a_2xx_that_is_not_json_or_misses_fields_is_malformed() {
        let r: Result<(u16, CurrentShop), _> = interpret(200, false, br#"{"id":"1"}"#);
        assert!(matches!(r, Err(ItsError::MalformedBody { status: 200 })));
        let r: Result<(u16, CurrentShop), _> = interpret(200, true, b"{not json");
        assert!(matches!(r, Err(ItsError::MalformedBody { status: 200 })));
        let r: Result<(u16, CurrentShop), _> = interpret(200, true, br#"{"name":"x"}"#);
        assert!(matches!(r, Err(ItsError::MalformedBody { status: 200 })));
        let r: Result<(u16, CurrentShop), _> = interpret(200, true, br#"{"id":"7","new":1}"#);
        assert_eq!(r.unwrap().1.id.get(), 7);
    }

    #[test]
    fn an_error_status_with_a_contract_body_is_a_provider_error() {
        let r: Result<(u16, CurrentShop), _> = interpret(
            401,
            true,
            r#"{"code":"unauthenticated","msg":"Sai khoá","meta":{}}"#.as_bytes(),
        );
        let err = r.unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::Unauthenticated));
        assert!(!err.is_retryable());
    }

    #[test]
    fn an_error_status_without_a_contract_body_is_unexpected() {
        let r: Result<(u16, CurrentShop), _> = interpret(502, false, b"<html>Bad gateway</html>");
        assert!(matches!(r, Err(ItsError::UnexpectedStatus { status: 502 })));
        let r: Result<(u16, CurrentShop), _> = interpret(302, false, b"");
        assert!(matches!(r, Err(ItsError::UnexpectedStatus { status: 302 })));
    }

    #[test]
    fn a_client_debug_shows_neither_the_api_key_nor_its_header() {
        let client = ItsClient::new(ItsClientSettings::new(
            "https://api.example.vn/v1/partner".into(),
            ApiKey::new("VERYSECRETAPIKEY1234".into()),
        ))
        .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("VERYSECRET"), "{debug}");
        assert_eq!(client.base_url(), "https://api.example.vn/v1/partner");
    }

    #[test]
    fn an_api_key_that_cannot_be_a_header_is_refused_without_showing_it() {
        let err = ItsClient::new(ItsClientSettings::new(
            "https://api.example.vn/v1/partner".into(),
            ApiKey::new("bad\nKEYSECRET".into()),
        ))
        .unwrap_err();
        assert!(matches!(err, ItsError::Config(_)));
        assert!(!err.to_string().contains("KEYSECRET"));
        assert!(!format!("{err:?}").contains("KEYSECRET"));
    }

    #[test]
    fn settings_debug_masks_the_api_key() {
        let settings = ItsClientSettings::new(
            "https://api.example.vn/v1/partner".into(),
            ApiKey::new("VERYSECRETAPIKEY1234".into()),
        );
        let debug = format!("{settings:?}");
        assert!(!debug.contains("VERYSECRET"), "{debug}");
        assert!(debug.contains("ApiKey(****1234)"), "{debug}");
        assert_eq!(settings.timeout, Duration::from_secs(15));
        assert_eq!(settings.connect_timeout, Duration::from_secs(5));
        assert_eq!(settings.max_body_bytes, 65_536);
    }
}
