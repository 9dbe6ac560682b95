//! The JSON API for the partner's own systems, under `/api`. Every answer is JSON, errors
//! included (`{"code": "...", "message": "..."}` with the matching status), never a page.
//! Requests carry `Authorization: Bearer <service key>`; each route needs one scope.
//! The OpenAPI document (`/api/openapi.json`) is generated from these handlers.

mod connect_links;
mod openapi;
mod shops;

use std::future::{ready, Ready};

use actix_web::body::BoxBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use crate::services::service_keys::{self, Scope, ServiceKey};
use crate::services::{Refusal, ServiceError};

pub use openapi::ApiDoc;

/// The largest JSON body accepted.
const MAX_JSON_BYTES: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::http::Method;
    cfg.service(
        web::scope("/api")
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_JSON_BYTES)
                    .error_handler(|err, _| json_error(err).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ApiCode::InvalidParameter,
                    query_error_message(&err),
                )
                .into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| {
                ApiError::new(StatusCode::NOT_FOUND, ApiCode::NotFound, "no such resource").into()
            }))
            .service(resource("/openapi.json", Method::GET).route(web::get().to(openapi::document)))
            .service(resource("/v1/connect-links", Method::POST).route(guarded(
                web::post().to(connect_links::create),
                Scope::ConnectWrite,
            )))
            .service(
                resource("/v1/shops", Method::GET)
                    .route(guarded(web::get().to(shops::list), Scope::ShopsRead)),
            )
            .service(
                resource("/v1/shops/{id}", Method::GET)
                    .route(guarded(web::get().to(shops::get), Scope::ShopsRead)),
            )
            .service(
                resource("/v1/shops/{id}/key", Method::GET)
                    .route(guarded(web::get().to(shops::key), Scope::KeysRead)),
            )
            .service(
                resource("/v1/shops/{id}/verify", Method::POST)
                    .route(guarded(web::post().to(shops::verify), Scope::ShopsRead)),
            )
            .default_service(web::to(|| async {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ApiCode::NotFound,
                    "no such API route",
                )
            })),
    );
}

/// What a caller is told about a query that does not parse: serde's words about the
/// parameter (e.g. an unknown `status`), without actix's "Query deserialize error" wrapper;
/// a number that does not parse is named as such rather than with Rust's parse error.
fn query_error_message(err: &actix_web::error::QueryPayloadError) -> String {
    use actix_web::error::QueryPayloadError;
    let detail = match err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        _ => String::new(),
    };
    if detail.starts_with("unknown variant") || detail.starts_with("duplicate field") {
        format!("a query parameter is not valid: {detail}")
    } else {
        "a query parameter is not valid (see the operation's parameters in /api/openapi.json)"
            .to_owned()
    }
}

/// Whether a path is the API's, whose every answer is JSON, errors included.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The API's answer to a query string longer than anything accepts (the pages answer the
/// same refusal with an HTML page; see `context::middleware`).
pub fn query_too_long(max_bytes: usize) -> HttpResponse {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        ApiCode::QueryTooLong,
        format!("the query string may hold at most {max_bytes} bytes"),
    )
    .error_response()
}

/// A resource whose other methods are answered with a JSON 405 naming, in `Allow`, the
/// one method it has.
fn resource(path: &str, method: actix_web::http::Method) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || {
        let allow = method.as_str().to_owned();
        async move {
            let mut response = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ApiCode::MethodNotAllowed,
                format!("this method is not allowed here; use {allow}"),
            )
            .error_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    }))
}

/// An operation that needs `scope`: authenticate, then authorise, before the handler and
/// its extractors run. A handler's `web::Json`/`web::Query` only read the request once
/// the guard let it through, so an unknown key always gets 401 and a key without the
/// scope 403, whatever the body or the query holds. The key is left in the request's
/// extensions for the `Caller` extractor.
fn guarded(route: actix_web::Route, scope: Scope) -> actix_web::Route {
    route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
        guard(scope, req, next)
    }))
}

async fn guard(
    scope: Scope,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req.headers());
    let checked = async {
        let state = state.ok_or_else(|| internal("AppState missing"))?;
        let caller = authenticate(&state, token).await?;
        caller.require(scope)?;
        Ok::<_, ApiError>(caller)
    }
    .await;
    match checked {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.call(req).await
        }
        Err(err) => Ok(req.into_response(err.error_response())),
    }
}

fn bearer_token(headers: &header::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
}

async fn authenticate(state: &AppState, token: Option<String>) -> Result<Caller, ApiError> {
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiCode::Unauthorized,
            "send a service key as Authorization: Bearer <key>",
        ));
    };
    match service_keys::authenticate(&state.services, &token).await? {
        Some(key) => Ok(Caller(key)),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ApiCode::Unauthorized,
            "this service key is unknown or revoked",
        )),
    }
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiCode::UnsupportedMediaType,
            "send the body as application/json",
        ),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiCode::PayloadTooLarge,
                format!("the body may hold at most {MAX_JSON_BYTES} bytes"),
            )
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiCode::ValidationFailed,
            e.to_string(),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            ApiCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            ApiCode::InvalidBody,
            "the body could not be read",
        ),
    }
}

/// The API's error codes: stable names of their own (not catalogue keys), listed in the
/// OpenAPI document so a client can match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiCode {
    /// A query parameter is not valid.
    InvalidParameter,
    /// No such resource or route (or a shop of another partner's key).
    NotFound,
    /// The query string is longer than anything accepts.
    QueryTooLong,
    /// The resource exists but not with this method (`Allow` names the one it has).
    MethodNotAllowed,
    /// No service key, or an unknown or revoked one.
    Unauthorized,
    /// The service key lacks the operation's scope.
    InsufficientScope,
    /// The body is not `application/json`, or is compressed.
    UnsupportedMediaType,
    /// The body is larger than the API accepts.
    PayloadTooLarge,
    /// The body did not arrive in time.
    RequestTimeout,
    /// The body is JSON but a field is missing or not valid.
    ValidationFailed,
    /// The body is not valid JSON.
    InvalidJson,
    /// The body could not be read.
    InvalidBody,
    /// Too many requests with this key; `Retry-After` says when to retry.
    RateLimited,
    /// The service cannot store data right now; nothing was changed.
    Unavailable,
    /// The server ran into a problem; nothing was changed.
    Internal,
    /// More than one shop carries this external id.
    AmbiguousExternalId,
    /// The shop id is neither a UUID nor `ext:<external_shop_id>`.
    InvalidShopId,
    /// The page cursor is not one this API issued.
    InvalidCursor,
    /// The shop has no working connection (and so no key).
    NotConnected,
    /// The shop's stored key cannot be opened; an admin must look.
    KeyUnreadable,
    /// ITS could not answer; nothing changed.
    ItsUnavailable,
    /// `return_url` is not on an allowed origin.
    ReturnUrlNotAllowed,
    /// The `external_user_id` belongs to an administrator.
    UserNotOwner,
    /// The partner user is disabled.
    UserDisabled,
    /// A shop with this `external_shop_id` belongs to another user.
    ShopBelongsToAnotherUser,
    /// Too many connection attempts are waiting for this user.
    TooManyAttempts,
    /// The shop changed meanwhile; read it again.
    StateChanged,
    /// The shop has no connection to end.
    NothingToDisconnect,
    /// The new password breaks a rule.
    WeakPassword,
}

impl ApiCode {
    /// The code as sent, e.g. `"insufficient_scope"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiCode::InvalidParameter => "invalid_parameter",
            ApiCode::NotFound => "not_found",
            ApiCode::QueryTooLong => "query_too_long",
            ApiCode::MethodNotAllowed => "method_not_allowed",
            ApiCode::Unauthorized => "unauthorized",
            ApiCode::InsufficientScope => "insufficient_scope",
            ApiCode::UnsupportedMediaType => "unsupported_media_type",
            ApiCode::PayloadTooLarge => "payload_too_large",
            ApiCode::RequestTimeout => "request_timeout",
            ApiCode::ValidationFailed => "validation_failed",
            ApiCode::InvalidJson => "invalid_json",
            ApiCode::InvalidBody => "invalid_body",
            ApiCode::RateLimited => "rate_limited",
            ApiCode::Unavailable => "unavailable",
            ApiCode::Internal => "internal",
            ApiCode::AmbiguousExternalId => "ambiguous_external_id",
            ApiCode::InvalidShopId => "invalid_shop_id",
            ApiCode::InvalidCursor => "invalid_cursor",
            ApiCode::NotConnected => "not_connected",
            ApiCode::KeyUnreadable => "key_unreadable",
            ApiCode::ItsUnavailable => "its_unavailable",
            ApiCode::ReturnUrlNotAllowed => "return_url_not_allowed",
            ApiCode::UserNotOwner => "user_not_owner",
            ApiCode::UserDisabled => "user_disabled",
            ApiCode::ShopBelongsToAnotherUser => "shop_belongs_to_another_user",
            ApiCode::TooManyAttempts => "too_many_attempts",
            ApiCode::StateChanged => "state_changed",
            ApiCode::NothingToDisconnect => "nothing_to_disconnect",
            ApiCode::WeakPassword => "weak_password",
        }
    }
}

/// An error of the API, as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code, e.g. `insufficient_scope`.
    pub code: ApiCode,
    /// What went wrong, for a person (English).
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ApiCode,
    message: String,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ApiCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ApiCode::NotFound, "no such shop")
    }

    /// 429 `rate_limited` with `Retry-After`; `what` names what was counted.
    pub fn too_many(what: &str, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after_secs: Some(retry_after_secs),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ApiCode::RateLimited,
                format!("too many {what} with this service key; retry in {retry_after_secs} s"),
            )
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code.as_str(),
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"shoplink\""));
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(ErrorBody {
            code: self.code,
            message: self.message.clone(),
        })
    }
}

impl actix_web::Responder for ApiError {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.error_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Refused(refusal) => refused(refusal),
            ServiceError::Database(e) => match super::error::AppError::from(e) {
                super::error::AppError::Unavailable(detail) => {
                    tracing::error!(error = %detail, "API: database unavailable");
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ApiCode::Unavailable,
                        "the service cannot store data right now; nothing was changed, try again later",
                    )
                }
                other => internal(other),
            },
            ServiceError::Other(e) => internal(format!("{e:#}")),
        }
    }
}

/// A use case's refusal: its own code, and English words (the catalogue's are for pages).
fn refused(refusal: Refusal) -> ApiError {
    let (code, message) = match refusal {
        Refusal::TooManyAttempts => (
            ApiCode::TooManyAttempts,
            "too many connection attempts are waiting for this user",
        ),
        Refusal::ShopChangedMeanwhile => (
            ApiCode::StateChanged,
            "the shop changed meanwhile; read it again",
        ),
        Refusal::NothingToDisconnect => (
            ApiCode::NothingToDisconnect,
            "the shop has no connection to end",
        ),
        Refusal::WeakPassword(_) => (ApiCode::WeakPassword, "the new password breaks a rule"),
    };
    ApiError::new(StatusCode::CONFLICT, code, message)
}

fn internal(detail: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %detail, "API request failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiCode::Internal,
        "the server ran into a problem; nothing was changed",
    )
}

/// The service key of the request, checked. Any other credential (a session cookie) is
/// ignored: the API is for machines.
#[derive(Clone)]
pub struct Caller(pub ServiceKey);

impl Caller {
    /// 403 unless the key holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<&ServiceKey, ApiError> {
        if self.0.has(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ApiCode::InsufficientScope,
                format!("this service key lacks the scope {}", scope.as_str()),
            ))
        }
    }
}

/// The caller the route's guard checked (see `guarded`). Every API route is guarded, so a
/// missing one is a wiring mistake, answered 500 rather than served unauthenticated.
impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(|| internal("an API handler ran without its guard")),
        )
    }
}

/// JSON with `Cache-Control: no-store` (answers hold shop data, some a secret).
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> HttpResponse {
    let mut response = HttpResponse::build(status).json(body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
