//! `POST /api/v1/connect-links`: a one-time link for a partner user to connect one shop.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{json, ApiError, Caller, ErrorBody};
use crate::services::connect_links::{self, LinkError, LinkRequest};
use crate::services::service_keys::Scope;
use crate::services::webhooks::rfc3339;
use crate::web::AppState;

/// Who and which shop. The user and the shop are found by their external ids, or created.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConnectLinkRequest {
    /// The partner's own id of the user (1 to 100 characters).
    #[schema(example = "u-1001")]
    pub external_user_id: String,
    /// The partner's own id of the shop (1 to 100 characters).
    #[schema(example = "shop-42")]
    pub external_shop_id: String,
    /// The shop's name, used when the shop is created.
    #[schema(example = "Cửa hàng Hoa Mai")]
    pub shop_name: String,
    /// The shop's email, sent to ITS to pre-fill its form.
    pub email: Option<String>,
    /// The shop's phone number (Vietnamese), sent to ITS to pre-fill its form.
    pub phone: Option<String>,
    /// Where the browser goes when the flow ends, with `?status=connected|failed&shop=<external_shop_id>`.
    /// Its origin must be in `RETURN_URL_ORIGINS`.
    #[schema(example = "https://shop.example.vn/zalo/done")]
    pub return_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectLinkResponse {
    /// Open it in the shop owner's browser; it works once.
    pub url: String,
    /// When the link stops working (30 minutes; RFC 3339).
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
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `connect:write`", body = ErrorBody),
        (status = 409, description = "The ids contradict what is stored (e.g. the shop belongs to another user)", body = ErrorBody),
        (status = 422, description = "A field is not valid, or `return_url` is not allowed", body = ErrorBody),
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
            "validation_failed",
            errors
                .iter()
                .map(|(field, problem)| format!("{field} {problem}"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
        Err(LinkError::ReturnUrlNotAllowed) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "return_url_not_allowed",
            "return_url must be an http(s) URL on an origin listed in RETURN_URL_ORIGINS",
        )),
        Err(LinkError::Conflict(code, message)) => {
            Err(ApiError::new(StatusCode::CONFLICT, code, message))
        }
        Err(LinkError::Service(e)) => Err(e.into()),
    }
}
