//! `POST /api/v1/connect-links`: a one-time link for a partner user to connect one shop.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{json, ApiCode, ApiError, Caller, ErrorBody};
use crate::services::connect_links::{self, LinkConflict, LinkError, LinkRequest};
use crate::services::service_keys::Scope;
use crate::services::webhooks::rfc3339;
use crate::web::AppState;

/// Who and which shop. The user and the shop are found by their external ids, or created.
/// Lengths are counted in characters as sent (the `MAX_…` limits of
/// `services::connect_links`); leading and trailing white space is then trimmed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectLinkRequest {
    /// The partner's own id of the user: 1 to 100 characters, no control or
    /// bidirectional control characters (e.g. `U+202E`).
    #[schema(example = "u-1001", min_length = 1, max_length = 100)]
    pub external_user_id: String,
    /// The partner's own id of the shop: 1 to 100 characters, no control or
    /// bidirectional control characters.
    #[schema(example = "shop-42", min_length = 1, max_length = 100)]
    pub external_shop_id: String,
    /// The shop's name, used when the shop is created: 1 to 200 characters, no control
    /// characters.
    #[schema(example = "Cửa hàng Hoa Mai", min_length = 1, max_length = 200)]
    pub shop_name: String,
    /// The shop's email, sent to ITS to pre-fill its form. Empty or absent: none.
    #[schema(example = "hoamai@example.vn", max_length = 254)]
    pub email: Option<String>,
    /// The shop's phone number (Vietnamese: `0xxxxxxxxx`, `+84…`; spaces, dots and dashes
    /// allowed), sent to ITS to pre-fill its form. Empty or absent: none.
    #[schema(
        example = "0912 345 678",
        max_length = 20,
        pattern = r"^\s*(\+?[0-9 .-]*)?\s*$"
    )]
    pub phone: Option<String>,
    /// Where the browser goes when the flow ends, with `?status=connected|failed&shop=<external_shop_id>`.
    /// An absolute http(s) URL whose origin is in `RETURN_URL_ORIGINS`, at most 2000 characters.
    #[schema(example = "https://shop.example.vn/zalo/done", max_length = 2000)]
    pub return_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectLinkResponse {
    /// Open it in the shop owner's browser; it works once.
    #[schema(format = "uri")]
    pub url: String,
    /// When the link stops working (30 minutes; RFC 3339).
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Our id of the shop.
    pub shop_id: Uuid,
}

#[utoipa::path(
    post,
    path = "/api/v1/connect-links",
    tag = "connect links",
    request_body = ConnectLinkRequest,
    responses(
        (status = 201, description = "The link", body = ConnectLinkResponse),
        (status = 400, description = "The body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `connect:write`", body = ErrorBody),
        (status = 409, description = "The ids contradict what is stored (e.g. the shop belongs to another user)", body = ErrorBody),
        (status = 408, description = "The body did not arrive within `REQUEST_BODY_TIMEOUT_SECS` of the headers (`request_timeout`); the connection is closed", body = ErrorBody),
        (status = 413, description = "The body is larger than 16 KiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "The body is not sent as `application/json`, or is sent with a `Content-Encoding` (compressed request bodies are refused before they are read) (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "A field is missing or not valid (`validation_failed`), or `return_url` is not allowed (`return_url_not_allowed`)", body = ErrorBody),
    ),
    security(("service_key" = ["connect:write"]))
)]
pub async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<ConnectLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::ConnectWrite)?;
    let body = body.into_inner();
    let request = LinkRequest {
        external_user_id: body.external_user_id,
        external_shop_id: body.external_shop_id,
        shop_name: body.shop_name,
        email: body.email,
        phone: body.phone,
        return_url: body.return_url,
    };
    match connect_links::create(&state.services, Some(key), &request).await {
        Ok(link) => Ok(json(
            StatusCode::CREATED,
            &ConnectLinkResponse {
                url: link.url,
                expires_at: rfc3339(link.expires_at),
                shop_id: link.shop_id,
            },
        )),
        Err(LinkError::Invalid(errors)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiCode::ValidationFailed,
            errors
                .iter()
                .map(|(field, problem)| format!("{field} {problem}"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(LinkError::ReturnUrlNotAllowed) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiCode::ReturnUrlNotAllowed,
            "return_url must be an http(s) URL on an origin listed in RETURN_URL_ORIGINS",
        )),
        Err(LinkError::Conflict(conflict)) => {
            let code = match conflict {
                LinkConflict::UserNotOwner => ApiCode::UserNotOwner,
                LinkConflict::UserDisabled => ApiCode::UserDisabled,
                LinkConflict::ShopOfAnotherUser => ApiCode::ShopBelongsToAnotherUser,
            };
            Err(ApiError::new(
                StatusCode::CONFLICT,
                code,
                conflict.message(),
            ))
        }
        Err(LinkError::Service(e)) => Err(e.into()),
    }
}
