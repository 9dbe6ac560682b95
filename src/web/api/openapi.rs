//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{connect_links, shops, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shoplink API",
        version = "1",
        description = "For the partner's own systems: connect links, shops, shop keys and verification. \
                       Authenticate with `Authorization: Bearer <service key>`; each operation needs the scope it names. \
                       Errors are `{\"code\", \"message\"}` with the matching HTTP status."
    ),
    paths(
        connect_links::create,
        shops::list,
        shops::get,
        shops::key,
        shops::verify,
    ),
    components(schemas(
        ErrorBody,
        connect_links::ConnectLinkRequest,
        connect_links::ConnectLinkResponse,
        shops::Shop,
        shops::ShopPage,
        shops::Status,
        shops::ShopOa,
        shops::OaQuality,
        shops::OaStatusFilter,
        shops::ShopKeyBody,
        shops::VerifyBody,
        shops::VerifyResult,
    )),
    modifiers(&ServiceKeyAuth),
    tags(
        (name = "connect links", description = "Let a partner user connect a shop without a password"),
        (name = "shops", description = "Shops, their status and their keys"),
    )
)]
pub struct ApiDoc;

struct ServiceKeyAuth;

impl Modify for ServiceKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "service_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("slk_…")
                    .description(Some(
                        "A service key created by an admin under /admin/api-keys",
                    ))
                    .build(),
            ),
        );
    }
}

pub async fn document() -> HttpResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    let body = DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serialises")
    });
    let mut response = HttpResponse::Ok()
        .content_type("application/json")
        .body(body.clone());
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
