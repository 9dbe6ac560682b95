//! The sandbox's partner API: `POST /v1/partner.{Service}/{Method}` with JSON in and out,
//! errors as `{"code","msg","meta":{}}`, ids as JSON strings, messages in Vietnamese.

use actix_web::http::{header, Method as HttpMethod, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

use super::store::{LinkState, NewRequest};
use super::{now, secret, SandboxState};
use crate::domain::{Email, ShopId};
use crate::i18n::SandboxMessages;

/// The API speaks Vietnamese, like the real provider.
const M: &SandboxMessages = &SandboxMessages::VI;

/// A request token is valid this many seconds.
const REQUEST_TTL_SECONDS: i64 = 900;

/// Largest accepted request body.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest accepted string field (a `redirect_url` may be long; the others are short).
const MAX_URL_CHARS: usize = 2048;
const MAX_FIELD_CHARS: usize = 256;

const PREFIX: &str = "/v1/partner.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiMethod {
    AuthorizeShop,
    CurrentShop,
    CurrentAccount,
}

impl ApiMethod {
    fn from_path(path: &str) -> Option<ApiMethod> {
        match path.strip_prefix(PREFIX)? {
            "Shop/AuthorizeShop" => Some(ApiMethod::AuthorizeShop),
            "Shop/CurrentShop" => Some(ApiMethod::CurrentShop),
            "Misc/CurrentAccount" => Some(ApiMethod::CurrentAccount),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ApiMethod::AuthorizeShop => "Shop/AuthorizeShop",
            ApiMethod::CurrentShop => "Shop/CurrentShop",
            ApiMethod::CurrentAccount => "Misc/CurrentAccount",
        }
    }
}

/// An error answer of the API.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    msg: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            msg: msg.into(),
        }
    }

    fn bad_route() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "bad_route", M.api_bad_route)
    }

    fn invalid(msg: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", msg)
    }

    fn field(name: &str) -> ApiError {
        ApiError::invalid(SandboxMessages::fill(M.api_field_invalid, &[name]))
    }

    fn unauthenticated(msg: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", msg)
    }

    fn internal(err: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "sandbox API call failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            M.api_internal,
        )
    }

    fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "code": self.code, "msg": self.msg, "meta": {} }))
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        ApiError::internal(&err)
    }
}

type ApiResult = Result<Value, ApiError>;

/// Every `/v1/…` request comes here.
pub(crate) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<SandboxState>,
) -> HttpResponse {
    let method = ApiMethod::from_path(req.path());
    let result = handle(&req, payload, &state, method).await;
    answer(method.map_or("unknown", ApiMethod::name), result)
}

/// An API call's outcome as the provider answers it, logged by method name.
fn answer(name: &str, result: ApiResult) -> HttpResponse {
    match result {
        Ok(body) => {
            tracing::debug!(method = name, "sandbox API call answered");
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(body)
        }
        Err(err) => {
            tracing::info!(
                method = name,
                status = err.status.as_u16(),
                code = err.code,
                "sandbox API call refused"
            );
            err.response()
        }
    }
}

/// What every API call goes through first: the injected latency, the test hold, and the
/// injected failures.
async fn injected_faults(state: &SandboxState) -> Result<(), ApiError> {
    let faults = state.control.faults();
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    state.control.pass_gate().await;
    if faults.failure_rate > 0.0 && rand::random::<f64>() < faults.failure_rate {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            M.api_unavailable,
        ));
    }
    Ok(())
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &SandboxState,
    method: Option<ApiMethod>,
) -> ApiResult {
    injected_faults(state).await?;

    let method = method.ok_or_else(ApiError::bad_route)?;
    if req.method() != HttpMethod::POST || !is_json(req) {
        return Err(ApiError::bad_route());
    }
    let bearer = bearer(req);

    match method {
        ApiMethod::AuthorizeShop => {
            require_partner_key(state, bearer)?;
            let body = read_object(payload).await?;
            authorize_shop(state, &body).await
        }
        ApiMethod::CurrentAccount => {
            require_partner_key(state, bearer)?;
            read_object(payload).await?;
            Ok(json!({
                "id": state.partner_id.to_string(),
                "name": state.partner_name,
                "type": "partner",
                "sandbox": true,
            }))
        }
        ApiMethod::CurrentShop => {
            let key = bearer.ok_or_else(|| ApiError::unauthenticated(M.api_shop_key_invalid))?;
            let shop = state
                .store
                .shop_by_active_key(key)
                .await?
                .filter(|shop| !shop.closed)
                .ok_or_else(|| ApiError::unauthenticated(M.api_shop_key_invalid))?;
            read_object(payload).await?;
            Ok(json!({
                "id": shop.id.to_string(),
                "name": shop.name,
                "type": "shop",
                "image_url": "",
                "sandbox": true,
            }))
        }
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// The token of `Authorization: Bearer <token>`, if any.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn require_partner_key(state: &SandboxState, bearer: Option<&str>) -> Result<(), ApiError> {
    match bearer {
        Some(key) if secret::constant_time_eq(key.as_bytes(), state.api_key.as_bytes()) => Ok(()),
        _ => Err(ApiError::unauthenticated(M.api_unauthenticated)),
    }
}

/// Reads the body (at most `MAX_BODY_BYTES`) as a JSON object.
async fn read_object(mut payload: web::Payload) -> Result<Map<String, Value>, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid(M.api_invalid_json))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::invalid(M.api_body_too_large));
        }
        body.extend_from_slice(&chunk);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid(M.api_invalid_json)),
    }
}

/// A string field: absent, `null` and `""` all mean "not given".
fn string_field(
    body: &Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s))
            if s.chars().count() <= max_chars && !s.chars().any(char::is_control) =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(ApiError::field(name)),
    }
}

/// `shop_id` as a string or a number; absent, `null`, `""` and `0` mean "not given"
/// (the provider's protobuf default).
fn shop_id_field(body: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    let invalid = || ApiError::field("shop_id");
    match body.get("shop_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() || s == "0" => Ok(None),
        Some(Value::String(s)) => ShopId::parse(s)
            .map(|id| Some(id.get()))
            .map_err(|_| invalid()),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => Ok(None),
            Some(v) => ShopId::from_i64(v)
                .map(|id| Some(id.get()))
                .map_err(|_| invalid()),
            None => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

/// With no registered URL the provider accepts any absolute URL (the contract); the
/// sandbox asks for an absolute http(s) one, so that a partner reached by a LAN address or
/// a tunnel works in sandbox mode exactly as with the provider.
pub(crate) fn redirect_url_allowed(raw: &str) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// The provider's check of `redirect_url` against the partner's registered URLs: plain
/// string equality, query included; only the exact host `localhost` (no port) and
/// `127.0.0.NNN` (a three-digit last octet, no port) always pass.
pub(crate) fn redirect_url_registered(raw: &str, registered: &[String]) -> bool {
    if registered.is_empty() || registered.iter().any(|r| r == raw) {
        return true;
    }
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    // `url` drops a scheme's default port: look at the text for an explicit one.
    let authority = raw
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(""))
        .unwrap_or("");
    if authority.contains(':') || url.port().is_some() {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(_)) => {
            let Some(last) = authority.strip_prefix("127.0.0.") else {
                return false;
            };
            last.len() == 3 && last.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// The provider's rule for a pre-filled email: the local part, lower-cased, is
/// `[0-9a-z._-]{1,128}` without `..`, `--`, `.-` or `-.`.
pub(crate) fn provider_accepts_email(raw: &str) -> bool {
    let Ok(email) = Email::parse(raw) else {
        return false;
    };
    let Some((local, _)) = email.as_str().split_once('@') else {
        return false;
    };
    let local = local.to_lowercase();
    (1..=128).contains(&local.len())
        && local.bytes().all(|b| {
            b.is_ascii_digit() || b.is_ascii_lowercase() || matches!(b, b'.' | b'_' | b'-')
        })
        && !["..", "--", ".-", "-."]
            .iter()
            .any(|bad| local.contains(bad))
}

/// The provider's rule for a pre-filled phone: `+84`/`84` becomes `0`, separators are
/// dropped, and 10 to 12 digits must remain. Returns the normalised number.
pub(crate) fn provider_phone(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = if let Some(rest) = kept.strip_prefix("+84") {
        format!("0{rest}")
    } else if let Some(rest) = kept.strip_prefix("84") {
        format!("0{rest}")
    } else {
        kept
    };
    ((10..=12).contains(&national.len()) && national.bytes().all(|b| b.is_ascii_digit()))
        .then_some(national)
}

/// `^[-._$#:A-Za-z0-9_]{2,100}$`, the provider's rule for `external_shop_id`.
pub(crate) fn external_shop_id_valid(raw: &str) -> bool {
    (2..=100).contains(&raw.len())
        && raw.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'$' | b'#' | b':')
        })
}

async fn authorize_shop(state: &SandboxState, body: &Map<String, Value>) -> ApiResult {
    let shop_id = shop_id_field(body)?;
    let external_shop_id = string_field(body, "external_shop_id", MAX_FIELD_CHARS)?;
    let external_user_id = string_field(body, "external_user_id", MAX_FIELD_CHARS)?;
    let email = string_field(body, "email", MAX_FIELD_CHARS)?;
    let phone = string_field(body, "phone", MAX_FIELD_CHARS)?;
    let name = string_field(body, "name", MAX_FIELD_CHARS)?;
    let shop_name = string_field(body, "shop_name", MAX_FIELD_CHARS)?;
    let redirect_url = string_field(body, "redirect_url", MAX_URL_CHARS)?;
    string_field(body, "extra_token", MAX_URL_CHARS)?;
    let partner = state.control.partner();

    // The provider's own order of checks: the removed field first (its message is
    // deliberately vague), then the combinations, then each value.
    if external_user_id.is_some() && !partner.white_label {
        return Err(ApiError::invalid(M.api_external_user_id_removed));
    }
    if shop_id.is_some() && external_shop_id.is_some() {
        return Err(ApiError::invalid(M.api_shop_id_with_external));
    }
    if shop_id.is_some() && (email.is_some() || phone.is_some()) {
        return Err(ApiError::invalid(M.api_shop_id_with_contact));
    }
    if let Some(external) = &external_shop_id {
        if !external_shop_id_valid(external) {
            return Err(ApiError::invalid(M.api_external_shop_id_invalid));
        }
    }
    let email = match email {
        Some(e) if provider_accepts_email(&e) => {
            Email::parse(&e).ok().map(|e| e.as_str().to_owned())
        }
        Some(_) => return Err(ApiError::invalid(M.api_email_invalid)),
        None => None,
    };
    let phone = match phone {
        Some(p) => Some(provider_phone(&p).ok_or_else(|| ApiError::invalid(M.api_phone_invalid))?),
        None => None,
    };
    if let Some(url) = &redirect_url {
        if !redirect_url_registered(url, &partner.registered_redirect_urls) {
            return Err(ApiError::invalid(M.api_redirect_not_registered));
        }
        if partner.registered_redirect_urls.is_empty() && !redirect_url_allowed(url) {
            return Err(ApiError::invalid(M.api_redirect_invalid));
        }
    }

    if let Some(id) = shop_id {
        match state.store.link_state(id).await? {
            LinkState::NeverLinked => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "permission_denied",
                    M.api_permission_denied,
                ))
            }
            LinkState::Closed => return Err(account_closed()),
            LinkState::Active { shop_key } => return Ok(shop_key_answer(&shop_key)),
            LinkState::Unlinked => {}
        }
    } else if let Some(external) = &external_shop_id {
        // Lookup by the partner's id, exactly like `shop_id`; when no relation carries it,
        // a fresh request (not 403).
        match state.store.link_by_external_id(external).await? {
            Some((_, LinkState::Active { shop_key })) => return Ok(shop_key_answer(&shop_key)),
            Some((_, LinkState::Closed)) => return Err(account_closed()),
            Some((_, LinkState::Unlinked | LinkState::NeverLinked)) | None => {}
        }
    }

    let token = secret::new_request_token();
    let request = NewRequest {
        shop_id,
        email,
        phone,
        name,
        shop_name,
        external_shop_id,
        external_user_id,
        redirect_url,
    };
    let now = now();
    state
        .store
        .insert_request(
            &secret::hash_token(&token),
            &request,
            now,
            now + REQUEST_TTL_SECONDS,
        )
        .await?;
    tracing::info!(shop_id, "sandbox issued a shop request");

    let mut answer = json!({
        "code": "ok",
        "msg": M.api_shop_request,
        "type": "shop_request",
        "auth_token": token,
        "expires_in": REQUEST_TTL_SECONDS,
        "meta": {},
        "sandbox": true,
    });
    if request.redirect_url.is_some() {
        let mut auth_url = url::Url::parse(&format!("{}/login", state.origin))
            .map_err(|e| ApiError::internal(&e))?;
        auth_url.query_pairs_mut().append_pair("token", &token);
        answer["auth_url"] = Value::String(auth_url.into());
    }
    Ok(answer)
}

fn account_closed() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "account_closed",
        M.api_account_closed,
    )
}

fn shop_key_answer(shop_key: &str) -> Value {
    json!({
        "code": "ok",
        "msg": M.api_shop_key,
        "type": "shop_key",
        "auth_token": shop_key,
        "expires_in": -1,
        "meta": {},
        "sandbox": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_absolute_http_redirect_url_passes_when_none_is_registered() {
        for ok in [
            "http://localhost:8080/its/callback?token=abc",
            "https://LOCALHOST/cb",
            "http://127.0.0.1:3000/cb",
            "http://192.168.1.10:8080/connect/callback?token=abc",
            "https://shop.example.vn/connect/callback",
            "http://[::1]/cb",
        ] {
            assert!(redirect_url_allowed(ok), "{ok} was refused");
        }
        for bad in [
            "/its/callback",
            "localhost:8080/cb",
            "ftp://localhost/cb",
            "javascript:alert(1)",
        ] {
            assert!(!redirect_url_allowed(bad), "{bad} was accepted");
        }
    }

    #[test]
    fn registered_redirect_urls_are_compared_exactly_with_the_providers_exceptions() {
        let registered = vec!["https://app.example.vn/connect/callback".to_owned()];
        assert!(redirect_url_registered(
            "https://anything.example/x?y=1",
            &[]
        ));
        assert!(redirect_url_registered(
            "https://app.example.vn/connect/callback",
            &registered
        ));
        for refused in [
            "https://app.example.vn/connect/callback?token=abc",
            "https://app.example.vn/connect/callback/",
            "https://APP.example.vn/connect/callback",
            "http://localhost:8080/connect/callback",
            "http://127.0.0.1:8080/connect/callback",
            "http://127.0.0.1/connect/callback",
            "http://127.0.0.10/cb",
        ] {
            assert!(!redirect_url_registered(refused, &registered), "{refused}");
        }
        for passes in [
            "http://localhost/cb?token=x",
            "http://127.0.0.100/cb",
            "https://127.0.0.255/any?q=1",
        ] {
            assert!(redirect_url_registered(passes, &registered), "{passes}");
        }
    }

    #[test]
    fn prefill_values_follow_the_providers_rules() {
        for ok in ["an.shop@gmail.com", "AN_shop-1@x.vn", "a@b.vn"] {
            assert!(provider_accepts_email(ok), "{ok}");
        }
        for bad in [
            "an+shop@gmail.com",
            "an..shop@x.vn",
            "an--shop@x.vn",
            "an.-shop@x.vn",
            "an-.shop@x.vn",
            "ân@x.vn",
            "not-an-email",
        ] {
            assert!(!provider_accepts_email(bad), "{bad}");
        }
        assert_eq!(
            provider_phone("+84 912-345-678").as_deref(),
            Some("0912345678")
        );
        assert_eq!(provider_phone("84912345678").as_deref(), Some("0912345678"));
        assert_eq!(
            provider_phone("(028) 3823.4567").as_deref(),
            Some("02838234567")
        );
        for bad in ["091234567", "0912345678901", "09123x5678", "+1 555 0100"] {
            assert_eq!(provider_phone(bad), None, "{bad}");
        }
        assert!(external_shop_id_valid(
            "2f0c8c4e-9a4b-4d0e-8a53-1b2c3d4e5f60"
        ));
        assert!(external_shop_id_valid("KH:01#$._-"));
        for bad in ["x", "có dấu", "a/b", "a b", "a\"b", &"x".repeat(101)] {
            assert!(!external_shop_id_valid(bad), "{bad}");
        }
    }

    #[test]
    fn api_paths_map_to_exactly_three_methods() {
        assert_eq!(
            ApiMethod::from_path("/v1/partner.Shop/AuthorizeShop"),
            Some(ApiMethod::AuthorizeShop)
        );
        assert_eq!(ApiMethod::from_path("/v1/partner.Shop/authorizeshop"), None);
        assert_eq!(ApiMethod::from_path("/v1/partner.Zalo/ListOA"), None);
        assert_eq!(ApiMethod::from_path("/v1/shop.Shop/CurrentShop"), None);
    }

    #[test]
    fn shop_ids_are_read_from_strings_or_numbers_without_rounding() {
        let body = |v: Value| json!({ "shop_id": v }).as_object().cloned().unwrap();
        assert_eq!(
            shop_id_field(&body(json!("1052570182707778180"))).unwrap(),
            Some(1_052_570_182_707_778_180)
        );
        assert_eq!(
            shop_id_field(&body(json!(1_052_570_182_707_778_180_i64))).unwrap(),
            Some(1_052_570_182_707_778_180)
        );
        assert_eq!(shop_id_field(&body(json!("0"))).unwrap(), None);
        for bad in [
            json!("-1"),
            json!("abc"),
            json!(1.5),
            json!(-4),
            json!(true),
            json!("9223372036854775808"),
        ] {
            assert!(
                shop_id_field(&body(bad.clone())).is_err(),
                "{bad} was accepted"
            );
        }
    }
}

// The `Zalo/*` methods: a child module so they share this file's error type, body reading
// and helpers, kept in a file of their own.
#[path = "zalo_api.rs"]
pub(super) mod zalo;
