//! What a request body must be before any handler sees it.
//!
//! - **Not compressed.** actix decodes a `Content-Encoding: gzip` body inside the
//!   extractors, and the size limits apply to the decoded bytes: a 60 KB gzip bomb
//!   expands to tens of megabytes per request before it is refused. Nothing here needs a
//!   compressed request, so any `Content-Encoding` but `identity` gets 415 before a byte of
//!   the body is read (responses are still compressed).
//! - **Not slow.** actix's `client_request_timeout` covers the headers only: a body
//!   trickled at a byte a second would hold a connection for as long as the client likes.
//!   The body (at most `MAX_BODY_BYTES`, so buffering it costs little) must arrive within
//!   `REQUEST_BODY_TIMEOUT_SECS` of the headers, or the answer is 408 and the connection
//!   is closed.
//!
//! Pages get the usual error page (the context middleware around this one renders it in
//! the reader's language); `/api` gets the API's JSON error.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse, ResponseError};
use futures_util::StreamExt;

use super::api::{ApiCode, ApiError};
use super::error::AppError;
use crate::telemetry::loggable_path;

/// How long a request's body may take to arrive (registered as app data by `startup`).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(encoding) = refused_encoding(&req) {
        tracing::info!(
            path = %loggable_path(req.path()),
            content_encoding = %encoding,
            "request refused: compressed body"
        );
        return Ok(refuse(req, Refusal::Encoding));
    }

    let deadline = req
        .app_data::<web::Data<BodyDeadline>>()
        .map(|d| d.0)
        .unwrap_or(Duration::from_secs(10));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A body declared larger than anything accepted is refused by the extractors from its
    // header alone, without reading it: leave it to them.
    if declared.is_none_or(|n| n > 0 && n <= super::MAX_BODY_BYTES as u64) {
        let mut payload = std::mem::replace(req.parts_mut().1, Payload::None);
        let mut body = web::BytesMut::new();
        let read = read_up_to(&mut payload, &mut body, super::MAX_BODY_BYTES);
        match tokio::time::timeout(deadline, read).await {
            Ok(Ok(true)) => req.set_payload(Payload::from(body.freeze())),
            // Longer than any handler accepts: handed on as read so far followed by the
            // rest, so that the extractor's own limit refuses it as it always has (it stops
            // at the first byte over).
            Ok(Ok(false)) => {
                let head = futures_util::stream::once(async move { Ok(body.freeze()) });
                req.set_payload(Payload::Stream {
                    payload: Box::pin(head.chain(payload)),
                });
            }
            // A broken body (the client went away, a malformed chunk): let the extractor
            // that reads it answer as it always does.
            Ok(Err(e)) => req.set_payload(Payload::Stream {
                payload: Box::pin(futures_util::stream::once(async move { Err(e) })),
            }),
            Err(_) => {
                tracing::info!(
                    path = %loggable_path(req.path()),
                    seconds = deadline.as_secs(),
                    "request refused: the body arrived too slowly"
                );
                hold_until_closed(payload);
                return Ok(refuse(req, Refusal::Slow));
            }
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// After a 408 the rest of the body must not be read: actix closes a connection whose
/// request body is unfinished once the answer is sent, but only while someone still holds
/// the body. Dropped, a chunked body would be drained to its end, at the client's pace.
/// So a local task holds it (discarding what arrives) until actix closes the connection,
/// which ends the stream; a minute at most.
fn hold_until_closed(mut payload: Payload) {
    actix_web::rt::spawn(async move {
        let drain = async { while let Some(Ok(_)) = payload.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(60), drain).await;
    });
}

/// A `Content-Encoding` other than `identity`, if the request has one.
fn refused_encoding(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get_all(header::CONTENT_ENCODING)
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .find(|coding| coding != "identity")
}

/// Reads the body into `body`: `true` once it is all there, `false` as soon as it holds
/// more than `limit` bytes.
async fn read_up_to(
    payload: &mut Payload,
    body: &mut web::BytesMut,
    limit: usize,
) -> Result<bool, actix_web::error::PayloadError> {
    while let Some(chunk) = payload.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > limit {
            return Ok(false);
        }
    }
    Ok(true)
}

enum Refusal {
    Encoding,
    Slow,
}

fn refuse(req: ServiceRequest, refusal: Refusal) -> ServiceResponse<BoxBody> {
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    let mut response: HttpResponse = match (refusal, api) {
        (Refusal::Encoding, true) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiCode::UnsupportedMediaType,
            "send the body uncompressed (no Content-Encoding)",
        )
        .error_response(),
        (Refusal::Slow, true) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ApiCode::RequestTimeout,
            "the body did not arrive in time",
        )
        .error_response(),
        (Refusal::Encoding, false) => AppError::UnsupportedEncoding.error_response(),
        (Refusal::Slow, false) => AppError::BodyTimeout.error_response(),
    };
    // The rest of the body is never read: the connection cannot carry another request.
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    let (http_req, _) = req.into_parts();
    ServiceResponse::new(http_req, response)
}
