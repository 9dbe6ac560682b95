//! `/api/v1/shops…`: list and read shops, read a connected shop's key, verify one now.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{json, ApiCode, ApiError, Caller, ErrorBody};
use crate::domain::ConnectionState;
use crate::services::service_keys::{self, KeyReadError, Scope};
use crate::services::verify::{self, VerifyOutcome};
use crate::services::webhooks::rfc3339;
use crate::store::api_shops::{self, ApiShopFilter, ApiShopRow};
use crate::store::oa_summary::OaFilter;
use crate::store::zalo_oas::StoredOa;
use crate::web::AppState;

/// A shop's connection status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotConnected,
    Pending,
    Connected,
    NeedsReauth,
    Failed,
    Disconnected,
}

impl From<ConnectionState> for Status {
    fn from(s: ConnectionState) -> Status {
        match s {
            ConnectionState::NotConnected => Status::NotConnected,
            ConnectionState::Pending => Status::Pending,
            ConnectionState::Connected => Status::Connected,
            ConnectionState::NeedsReauth => Status::NeedsReauth,
            ConnectionState::Failed => Status::Failed,
            ConnectionState::Disconnected => Status::Disconnected,
        }
    }
}

/// A shop and its link with ITS. Never its key.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shop {
    /// Our id of the shop.
    pub id: Uuid,
    pub name: String,
    /// The partner's own id of the shop.
    pub external_shop_id: Option<String>,
    /// The partner's own id of the shop's owner.
    pub external_user_id: Option<String>,
    pub status: Status,
    /// Why the last connection failed (only with status `failed`), e.g. `error_its_timeout`.
    pub failure_code: Option<String>,
    /// The ITS shop id, as a string (it does not fit a JavaScript number).
    #[schema(example = "1052570182707778180", pattern = "^[0-9]+$")]
    pub its_shop_id: Option<String>,
    /// The shop's name on ITS.
    pub its_shop_name: Option<String>,
    /// When ITS last confirmed the stored key (RFC 3339).
    #[schema(format = DateTime)]
    pub last_verified_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The shop's Zalo Official Accounts as ITS last described them (empty: none).
    pub oas: Vec<ShopOa>,
}

/// A Zalo Official Account of the shop, connected through ITS.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopOa {
    /// The OA's id, as a string (it does not fit a JavaScript number).
    #[schema(example = "1052570182707778180", pattern = "^[0-9]+$")]
    pub oa_id: String,
    pub name: String,
    /// The provider's status: `P` connected, `N` disconnected, `Z` new (or another value
    /// the provider sent).
    #[schema(example = "P")]
    pub status: String,
    /// ZNS messages per day.
    pub daily_quota: i64,
    /// ZNS messages left today.
    pub remaining_quota: i64,
    /// Delivery quality over the last 48 hours.
    pub current_quality: OaQuality,
    /// Delivery quality over the last 7 days.
    pub last_week_quality: OaQuality,
    /// When the OA's authorisation (refresh token) expires (RFC 3339); after it the OA must
    /// be authorised again.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub is_verified: bool,
}

/// ZNS delivery quality: `UNDEFINED` when nothing was sent in the window, `unknown` when
/// the provider did not say.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum OaQuality {
    #[serde(rename = "HIGH")]
    High,
    #[serde(rename = "MEDIUM")]
    Medium,
    #[serde(rename = "LOW")]
    Low,
    #[serde(rename = "UNDEFINED")]
    Undefined,
    #[serde(rename = "unknown")]
    Unknown,
}

impl OaQuality {
    fn from_stored(s: &str) -> OaQuality {
        match s {
            "HIGH" => OaQuality::High,
            "MEDIUM" => OaQuality::Medium,
            "LOW" => OaQuality::Low,
            "UNDEFINED" => OaQuality::Undefined,
            _ => OaQuality::Unknown,
        }
    }
}

impl ShopOa {
    fn from_stored(o: StoredOa) -> ShopOa {
        ShopOa {
            oa_id: o.oa_id,
            name: o.name,
            status: o.status,
            daily_quota: o.daily_quota,
            remaining_quota: o.remaining_quota,
            current_quality: OaQuality::from_stored(&o.current_quality),
            last_week_quality: OaQuality::from_stored(&o.last_week_quality),
            expires_at: o.expires_at.map(rfc3339),
            is_verified: o.is_verified,
        }
    }
}

/// The shops of a page with their OAs, read in one query for the whole page.
async fn with_oas(state: &AppState, rows: Vec<ApiShopRow>) -> Result<Vec<Shop>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut oas = api_shops::oas_for_shops(&state.services.db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<StoredOa>, Vec<StoredOa>) = std::mem::take(&mut oas)
                .into_iter()
                .partition(|o| o.shop_id == r.id);
            oas = rest;
            Shop::from_row(r, mine.into_iter().map(ShopOa::from_stored).collect())
        })
        .collect())
}

/// The `oa_status` filter of the shop list.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OaStatusFilter {
    /// No OA at all.
    None,
    /// At least one OA connected (`P`).
    Connected,
    /// At least one OA not connected (`N`, or `Z`/unknown).
    Disconnected,
    /// At least one OA with LOW delivery quality over the last 48 hours.
    QualityLow,
    /// At least one OA with less than 10 % of its daily ZNS quota left.
    QuotaLow,
    /// At least one OA whose authorisation expires within 14 days or has expired.
    Expiring,
}

impl OaStatusFilter {
    fn filter(self, now: i64) -> OaFilter {
        let name = match self {
            OaStatusFilter::None => "none",
            OaStatusFilter::Connected => "connected",
            OaStatusFilter::Disconnected => "disconnected",
            OaStatusFilter::QualityLow => "quality_low",
            OaStatusFilter::QuotaLow => "quota_low",
            OaStatusFilter::Expiring => "expiring",
        };
        OaFilter::parse(name, now).unwrap_or(OaFilter::NoOa)
    }
}

impl Shop {
    pub fn from_row(r: ApiShopRow, oas: Vec<ShopOa>) -> Shop {
        let state = ConnectionState::parse(&r.state).unwrap_or(ConnectionState::Failed);
        Shop {
            id: r.id,
            name: r.name,
            external_shop_id: r.external_shop_id,
            external_user_id: r.external_user_id,
            status: state.into(),
            failure_code: r.failure_code.filter(|_| state == ConnectionState::Failed),
            its_shop_id: r.its_shop_id.map(|id| id.to_string()),
            its_shop_name: r.its_shop_name,
            last_verified_at: r.last_verified_at.map(rfc3339),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            oas,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only shops in this status.
    status: Option<Status>,
    /// Only the shops of this partner user.
    external_user_id: Option<String>,
    /// Only the shops in this Zalo OA condition. The page then lists them in the order they
    /// were added (`expiring`: the soonest expiry first).
    oa_status: Option<OaStatusFilter>,
    /// Shops per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One page of shops, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopPage {
    pub data: Vec<Shop>,
    /// Pass it as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(created_at: i64, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{created_at}.{}", id.simple()))
}

fn decode_cursor(s: &str) -> Option<(i64, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (at, id) = text.split_once('.')?;
    Some((at.parse().ok()?, Uuid::try_parse(id).ok()?))
}

/// An `oa_status` page's cursor: `o.<key>.<seq>` (see `ApiShopFilter::after_oa`).
fn encode_oa_cursor(key: i64, seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("o.{key}.{seq}"))
}

fn decode_oa_cursor(s: &str) -> Option<(i64, i64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (key, seq) = text.strip_prefix("o.")?.split_once('.')?;
    Some((key.parse().ok()?, seq.parse().ok()?))
}

fn state_of(status: Status) -> ConnectionState {
    ConnectionState::ALL
        .into_iter()
        .find(|s| Status::from(*s) == status)
        .unwrap_or(ConnectionState::Failed)
}

/// The shop named by a path: our UUID, or `ext:<external_shop_id>`.
async fn resolve(state: &AppState, id: &str) -> Result<ApiShopRow, ApiError> {
    let db = &state.services.db;
    if let Some(ext) = id.strip_prefix("ext:") {
        let mut found = api_shops::find_by_external_id(db, ext).await?;
        return match found.len() {
            0 => Err(ApiError::not_found()),
            1 => Ok(found.remove(0)),
            _ => Err(ApiError::new(
                StatusCode::CONFLICT,
                ApiCode::AmbiguousExternalId,
                "several shops have this external_shop_id; use the shop's id",
            )),
        };
    }
    // Only the hyphenated form, as the document's pattern says (`Uuid::try_parse` would
    // also take the simple, braced and URN forms).
    let hyphenated = id.len() == 36 && id.as_bytes()[8] == b'-';
    let id = Uuid::try_parse(id)
        .ok()
        .filter(|_| hyphenated)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                ApiCode::InvalidShopId,
                "a shop is named by its id (a UUID) or by ext:<external_shop_id>",
            )
        })?;
    api_shops::find(db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

#[utoipa::path(
    get,
    path = "/api/v1/shops",
    tag = "shops",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of shops", body = ShopPage),
        (status = 400, description = "A bad parameter (`invalid_parameter`, `invalid_cursor`)", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `shops:read`", body = ErrorBody),
    ),
    security(("service_key" = ["shops:read"]))
)]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ShopsRead)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ApiCode::InvalidParameter,
            "limit must be between 1 and 200",
        ));
    }
    let invalid_cursor = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ApiCode::InvalidCursor,
            "this cursor is not valid",
        )
    };
    let oa = query.oa_status.map(|s| s.filter(crate::store::now_ms()));
    let (after, after_oa) = match (query.cursor.as_deref(), oa) {
        (Some(c), None) => (Some(decode_cursor(c).ok_or_else(invalid_cursor)?), None),
        (Some(c), Some(_)) => (None, Some(decode_oa_cursor(c).ok_or_else(invalid_cursor)?)),
        (None, _) => (None, None),
    };
    let filter = ApiShopFilter {
        state: query.status.map(state_of),
        external_user_id: query.external_user_id.clone(),
        after,
        oa,
        after_oa,
    };
    let (rows, more) = api_shops::page(&state.services.db, &filter, limit).await?;
    let next_cursor = rows.last().filter(|_| more).map(|r| match oa {
        Some(OaFilter::Expiring { .. }) => {
            encode_oa_cursor(r.oa_expires_at.unwrap_or_default(), r.seq)
        }
        Some(_) => encode_oa_cursor(0, r.seq),
        None => encode_cursor(r.created_at, r.id),
    });
    Ok(json(
        StatusCode::OK,
        &ShopPage {
            data: with_oas(&state, rows).await?,
            next_cursor,
        },
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/shops/{id}",
    tag = "shops",
    params(("id" = String, Path, description = "The shop's id (a UUID, hyphenated), or `ext:<external_shop_id>`",
            pattern = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|ext:.{1,100})$")),
    responses(
        (status = 200, description = "The shop", body = Shop),
        (status = 400, description = "A malformed id", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `shops:read`", body = ErrorBody),
        (status = 404, description = "No such shop", body = ErrorBody),
        (status = 409, description = "Several shops have this external id", body = ErrorBody),
    ),
    security(("service_key" = ["shops:read"]))
)]
pub async fn get(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ShopsRead)?;
    let row = resolve(&state, &path).await?;
    let shop = with_oas(&state, vec![row]).await?.remove(0);
    Ok(json(StatusCode::OK, &shop))
}

/// A connected shop's key. Keep it secret: it lets its holder act for the shop on ITS.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShopKeyBody {
    pub shop_id: Uuid,
    /// The ITS shop id, as a string.
    #[schema(pattern = "^[0-9]+$")]
    pub its_shop_id: String,
    /// The decrypted shop key, to call ITS on the shop's behalf.
    pub shop_key: String,
}

#[utoipa::path(
    get,
    path = "/api/v1/shops/{id}/key",
    tag = "shops",
    params(("id" = String, Path, description = "The shop's id (a UUID, hyphenated), or `ext:<external_shop_id>`",
            pattern = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|ext:.{1,100})$")),
    responses(
        (status = 200, description = "The key; the read is written to the shop's history", body = ShopKeyBody),
        (status = 400, description = "A malformed id (`invalid_shop_id`)", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `keys:read`", body = ErrorBody),
        (status = 404, description = "No such shop", body = ErrorBody),
        (status = 409, description = "The shop is not connected, or several shops have this external id", body = ErrorBody),
        (status = 429, description = "Too many key reads with this service key (`API_KEY_READS_PER_MINUTE`); see `Retry-After`", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The stored key cannot be decrypted (`key_unreadable`); the shop must connect again", body = ErrorBody),
    ),
    security(("service_key" = ["keys:read"]))
)]
pub async fn key(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::KeysRead)?;
    let row = resolve(&state, &path).await?;
    match service_keys::read_shop_key(&state.services, key, row.id).await {
        Ok(read) => Ok(json(
            StatusCode::OK,
            &ShopKeyBody {
                shop_id: read.shop_id,
                its_shop_id: read.its_shop_id.to_string(),
                shop_key: read.key.expose_secret().to_owned(),
            },
        )),
        Err(KeyReadError::NotFound) => Err(ApiError::not_found()),
        Err(KeyReadError::NotConnected(s)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            ApiCode::NotConnected,
            format!(
                "the shop is {}; only a connected shop's key can be read",
                s.as_str()
            ),
        )),
        Err(KeyReadError::RateLimited { retry_after_secs }) => {
            Err(ApiError::too_many("shop key reads", retry_after_secs))
        }
        Err(KeyReadError::Unreadable) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ApiCode::KeyUnreadable,
            "the stored key cannot be decrypted; the shop must connect again",
        )),
        Err(KeyReadError::Service(e)) => Err(e.into()),
    }
}

/// What a verification found.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyResult {
    /// The key works and names the stored ITS shop.
    Verified,
    /// ITS refused the key: the shop must log in again.
    NeedsReauth,
    /// The key works for another ITS shop than the one stored (the shop is now failed).
    Mismatch,
    /// ITS refused the key because the shop's ITS account is closed (the shop is now
    /// failed; logging in again cannot help until the account is reopened).
    AccountClosed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyBody {
    pub result: VerifyResult,
    pub shop: Shop,
}

#[utoipa::path(
    post,
    path = "/api/v1/shops/{id}/verify",
    tag = "shops",
    params(("id" = String, Path, description = "The shop's id (a UUID, hyphenated), or `ext:<external_shop_id>`",
            pattern = r"^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|ext:.{1,100})$")),
    responses(
        (status = 200, description = "ITS answered; the shop's new status", body = VerifyBody),
        (status = 400, description = "A malformed id (`invalid_shop_id`)", body = ErrorBody),
        (status = 401, description = "No valid service key", body = ErrorBody),
        (status = 403, description = "The key lacks `shops:read`", body = ErrorBody),
        (status = 404, description = "No such shop", body = ErrorBody),
        (status = 408, description = "A request body did not arrive within `REQUEST_BODY_TIMEOUT_SECS` of the headers (`request_timeout`); the connection is closed", body = ErrorBody),
        (status = 409, description = "The shop has no key to verify, or several shops have this external id", body = ErrorBody),
        (status = 415, description = "The request was sent with a `Content-Encoding` (compressed request bodies are refused before they are read) (`unsupported_media_type`)", body = ErrorBody),
        (status = 429, description = "Too many verifications with this service key (`API_VERIFY_PER_MINUTE`); see `Retry-After`", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "The stored key cannot be decrypted (`key_unreadable`); the shop must connect again", body = ErrorBody),
        (status = 502, description = "ITS could not answer; nothing changed", body = ErrorBody),
    ),
    security(("service_key" = ["shops:read"]))
)]
pub async fn verify(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::ShopsRead)?;
    let row = resolve(&state, &path).await?;
    if let Err(retry_after_secs) = service_keys::count_verify(&state.services, key).await? {
        return Err(ApiError::too_many("verifications", retry_after_secs));
    }
    let outcome = verify::verify_shop(&state.services, row.id, &key.actor()).await?;
    let result = match outcome {
        VerifyOutcome::Verified => VerifyResult::Verified,
        VerifyOutcome::NeedsReauth => VerifyResult::NeedsReauth,
        VerifyOutcome::Mismatch => VerifyResult::Mismatch,
        VerifyOutcome::AccountClosed => VerifyResult::AccountClosed,
        VerifyOutcome::NoKey => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                ApiCode::NotConnected,
                "the shop has no key to verify",
            ))
        }
        VerifyOutcome::Unreadable => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ApiCode::KeyUnreadable,
                "the stored key cannot be decrypted; the shop must connect again",
            ))
        }
        VerifyOutcome::ItsTrouble(failure) => {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                ApiCode::ItsUnavailable,
                format!("ITS could not answer ({}); nothing changed", failure.code),
            ))
        }
    };
    let row = api_shops::find(&state.services.db, row.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(json(
        StatusCode::OK,
        &VerifyBody {
            result,
            shop: with_oas(&state, vec![row]).await?.remove(0),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = Uuid::new_v4();
        assert_eq!(
            decode_cursor(&encode_cursor(1_795_455_000_000, id)),
            Some((1_795_455_000_000, id))
        );
        for junk in ["", "!!", "eA", &URL_SAFE_NO_PAD.encode("12.nope")] {
            assert_eq!(decode_cursor(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn every_state_has_a_status() {
        for s in ConnectionState::ALL {
            assert_eq!(state_of(Status::from(s)), s);
        }
    }
}
