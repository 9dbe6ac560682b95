//! The sandbox's `Zalo/*` methods: `POST /v1/partner.Zalo/{Method}`, authenticated with a
//! **shop key** the sandbox issued (its-contract.md). A child of `api`, so it answers with
//! the same error body, reads bodies the same way and gets the same fault injection.
//!
//! Validation and errors, as the provider's: a bad field → 400 `invalid_argument`; a valid
//! request the OA's state forbids (no paid package, disconnected, expired, quota used up) →
//! 400 `failed_precondition`; an OA that is not the shop's → 404 `not_found` (an owner never
//! learns whether another shop's OA exists); a key that does not work → 401.

use std::collections::BTreeMap;

use actix_web::http::{Method as HttpMethod, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::super::store::zalo::{AppCheck, NewMessage, OaFilter, OaRow};
use super::super::store::Shop;
use super::super::zalo::{
    check_data, render, template, DataError, ZaloConfig, REFRESH_TOKEN_SECONDS, STATE_TTL_SECONDS,
    TEMPLATES,
};
use super::super::{now, secret, SandboxState};
use super::{
    bearer, is_json, read_object, redirect_url_allowed, string_field, ApiError, ApiResult, M,
    MAX_FIELD_CHARS, MAX_URL_CHARS,
};
use crate::domain::Phone;
use crate::i18n::SandboxMessages;

const ZALO_PREFIX: &str = "/v1/partner.Zalo/";

/// The most OAs or templates one list answer holds.
const MAX_PAGE: i64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZaloMethod {
    AuthorizeOa,
    ConnectOa,
    RefreshToken,
    ListOa,
    UpdateShopOa,
    ListTemplates,
    SendZns,
}

impl ZaloMethod {
    fn from_path(path: &str) -> Option<ZaloMethod> {
        match path.strip_prefix(ZALO_PREFIX)? {
            "AuthorizeOA" => Some(ZaloMethod::AuthorizeOa),
            "ConnectOA" => Some(ZaloMethod::ConnectOa),
            "RefreshToken" => Some(ZaloMethod::RefreshToken),
            "ListOA" => Some(ZaloMethod::ListOa),
            "UpdateShopOA" => Some(ZaloMethod::UpdateShopOa),
            "ListTemplates" => Some(ZaloMethod::ListTemplates),
            "SendZNS" => Some(ZaloMethod::SendZns),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ZaloMethod::AuthorizeOa => "Zalo/AuthorizeOA",
            ZaloMethod::ConnectOa => "Zalo/ConnectOA",
            ZaloMethod::RefreshToken => "Zalo/RefreshToken",
            ZaloMethod::ListOa => "Zalo/ListOA",
            ZaloMethod::UpdateShopOa => "Zalo/UpdateShopOA",
            ZaloMethod::ListTemplates => "Zalo/ListTemplates",
            ZaloMethod::SendZns => "Zalo/SendZNS",
        }
    }
}

/// Every `/v1/partner.Zalo/…` request comes here.
pub(crate) async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<SandboxState>,
    config: web::Data<ZaloConfig>,
) -> HttpResponse {
    let method = ZaloMethod::from_path(req.path());
    let result = handle(&req, payload, &state, &config, method).await;
    super::answer(method.map_or("unknown", ZaloMethod::name), result)
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &SandboxState,
    config: &ZaloConfig,
    method: Option<ZaloMethod>,
) -> ApiResult {
    // The same fault injection (and test hold) as every other API call.
    super::injected_faults(state).await?;

    let method = method.ok_or_else(ApiError::bad_route)?;
    if req.method() != HttpMethod::POST || !is_json(req) {
        return Err(ApiError::bad_route());
    }
    let key = bearer(req).ok_or_else(|| ApiError::unauthenticated(M.api_shop_key_invalid))?;
    let shop = state
        .store
        .shop_by_active_key(key)
        .await?
        .filter(|shop| !shop.closed)
        .ok_or_else(|| ApiError::unauthenticated(M.api_shop_key_invalid))?;
    let body = read_object(payload).await?;
    let call = Call {
        state,
        config,
        shop: &shop,
        body: &body,
    };
    match method {
        ZaloMethod::AuthorizeOa => call.authorize_oa().await,
        ZaloMethod::ConnectOa => call.connect_oa().await,
        ZaloMethod::RefreshToken => call.refresh_token().await,
        ZaloMethod::ListOa => call.list_oa().await,
        ZaloMethod::UpdateShopOa => call.update_shop_oa().await,
        ZaloMethod::ListTemplates => call.list_templates().await,
        ZaloMethod::SendZns => call.send_zns().await,
    }
}

// ---------------------------------------------------------------------------------------
// Fields
// ---------------------------------------------------------------------------------------

/// A positive int64 id sent as a string or a number; absent, `null`, `""` and `0` mean
/// "not given" (the provider's protobuf default). Never through `f64`.
fn id_field(body: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    let invalid = || ApiError::field(name);
    let parse = |s: &str| -> Result<Option<i64>, ApiError> {
        let plain = s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
        if !plain {
            return Err(invalid());
        }
        s.parse::<i64>().map(Some).map_err(|_| invalid())
    };
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() || s == "0" => Ok(None),
        Some(Value::String(s)) => parse(s),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(0), _) => Ok(None),
            (Some(v), _) if v > 0 => Ok(Some(v)),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

fn required_id(body: &Map<String, Value>, name: &str) -> Result<i64, ApiError> {
    id_field(body, name)?.ok_or_else(|| ApiError::field(name))
}

fn required_string(
    body: &Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<String, ApiError> {
    string_field(body, name, max_chars)?.ok_or_else(|| ApiError::field(name))
}

/// A nested object (`filter`, `paging`); absent or `null` is empty.
fn object_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(ApiError::field(name)),
    }
}

/// An RFC 3339 time field, as Unix seconds.
fn time_field(body: &Map<String, Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match string_field(body, name, 64)? {
        None => Ok(None),
        Some(text) => {
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map(|t| Some(t.unix_timestamp()))
                .map_err(|_| ApiError::field(name))
        }
    }
}

/// `paging.limit` (1..=100, default 100) and `paging.after` (the last id of the page before).
fn paging(body: &Map<String, Value>) -> Result<(i64, Option<i64>), ApiError> {
    let Some(paging) = object_field(body, "paging")? else {
        return Ok((MAX_PAGE, None));
    };
    let limit = match paging.get("limit") {
        None | Some(Value::Null) => MAX_PAGE,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => MAX_PAGE,
            Some(v) if (1..=MAX_PAGE).contains(&v) => v,
            _ => return Err(ApiError::field("paging.limit")),
        },
        Some(Value::String(s)) => match s.parse::<i64>() {
            Ok(0) => MAX_PAGE,
            Ok(v) if (1..=MAX_PAGE).contains(&v) => v,
            _ => return Err(ApiError::field("paging.limit")),
        },
        Some(_) => return Err(ApiError::field("paging.limit")),
    };
    let after = id_field(paging, "after").map_err(|_| ApiError::field("paging.after"))?;
    Ok((limit, after))
}

fn paging_answer(limit: i64, after: Option<i64>, next: Option<i64>) -> Value {
    json!({
        "after": after.map(|a| a.to_string()).unwrap_or_default(),
        "before": "",
        "limit": limit,
        "next": next.map(|n| n.to_string()).unwrap_or_default(),
        "prev": "",
        "sort": "",
    })
}

fn rfc3339(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn failed_precondition(msg: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "failed_precondition", msg)
}

fn oa_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", M.api_zalo_oa_not_found)
}

// ---------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------

/// A `ZaloOA` as the provider writes it: ids as strings, the owner spelled `onwer_id` as in
/// the published sample, Go's zero time for "never".
fn oa_json(oa: &OaRow, config: &ZaloConfig) -> Value {
    let connection = oa.connection.as_ref();
    json!({
        "oa_id": oa.oa_id.to_string(),
        "name": oa.name,
        "avatar": format!("{}/static/oa-avatar.svg", config.origin),
        "cover": "",
        "description": oa.description,
        "is_verified": oa.is_verified,
        "app_id": connection.map(|c| c.app_id.to_string()).unwrap_or_default(),
        "shop_id": oa.shop_id.to_string(),
        // The sandbox does not model shop owners: the shop stands in for its owner.
        "onwer_id": oa.shop_id.to_string(),
        "connection_id": connection.map(|c| c.connection_id.to_string()).unwrap_or_default(),
        "connection_method": "builtin",
        "status": connection.map_or("Z", |c| c.status.as_str()),
        "daily_quota": oa.daily_quota,
        "remaining_quota": oa.remaining_quota,
        "current_quality": oa.current_quality,
        "last_week_quality": oa.last_week_quality,
        "expires_at": connection.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), |c| rfc3339(c.expires_at)),
        "created_at": rfc3339(connection.map_or(oa.created_at, |c| c.created_at)),
        "updated_at": rfc3339(connection.map_or(oa.created_at, |c| c.updated_at)),
        "webhook_url": connection.map(|c| c.webhook_url.as_str()).unwrap_or(""),
        "sandbox": true,
    })
}

fn template_json(t: &super::super::zalo::TemplateDef, created_at: i64) -> Value {
    let params: Vec<Value> = t
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "type": p.kind,
                "require": p.require,
                "min_length": p.min_length,
                "max_length": p.max_length,
                "accept_null": p.accept_null,
            })
        })
        .collect();
    json!({
        "template_id": t.id,
        "template_name": t.name,
        "template_status": t.status,
        "template_quality": t.quality,
        "template_tag": t.tag,
        "template_params": params,
        "preview_url": "",
        "price": 300,
        "template_daily_quota": 500,
        "template_remaining_quota": 500,
        "timeout": 7_200_000,
        "created_at": rfc3339(created_at),
        "updated_at": rfc3339(created_at),
    })
}

/// The permission page's URL on the fake Zalo.
fn permission_url(
    config: &ZaloConfig,
    app_id: i64,
    redirect_uri: &str,
    state: i64,
) -> Result<String, ApiError> {
    let mut url = url::Url::parse(&format!("{}/v4/oa/permission", config.origin))
        .map_err(|e| ApiError::internal(&e))?;
    url.query_pairs_mut()
        .append_pair("app_id", &app_id.to_string())
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", &state.to_string());
    Ok(url.into())
}

// ---------------------------------------------------------------------------------------
// The methods
// ---------------------------------------------------------------------------------------

struct Call<'a> {
    state: &'a SandboxState,
    config: &'a ZaloConfig,
    shop: &'a Shop,
    body: &'a Map<String, Value>,
}

impl Call<'_> {
    /// The shop's OA with this id, connected (any status); else `not_found`.
    async fn connected_oa(&self, oa_id: i64) -> Result<OaRow, ApiError> {
        self.state
            .store
            .zalo_oa(oa_id, now())
            .await?
            .filter(|oa| oa.shop_id == self.shop.id && oa.connection.is_some())
            .ok_or_else(oa_not_found)
    }

    /// A new grant's `state` and permission page.
    async fn new_grant(&self, app_id: i64, redirect_uri: &str, oa_id: Option<i64>) -> ApiResult {
        let now = now();
        let grant_state = secret::new_large_id();
        self.state
            .store
            .zalo_insert_grant(
                grant_state,
                self.shop.id,
                app_id,
                redirect_uri,
                oa_id,
                now,
                now + STATE_TTL_SECONDS,
            )
            .await?;
        tracing::info!(shop_id = self.shop.id, "sandbox issued a Zalo OA grant");
        Ok(json!({
            "url": permission_url(self.config, app_id, redirect_uri, grant_state)?,
            "sandbox": true,
        }))
    }

    async fn authorize_oa(&self) -> ApiResult {
        let app_id = required_id(self.body, "app_id")?;
        let app_secret = required_string(self.body, "app_secret", MAX_FIELD_CHARS)?;
        let redirect_uri = required_string(self.body, "redirect_uri", MAX_URL_CHARS)?;
        if !redirect_url_allowed(&redirect_uri) {
            return Err(ApiError::invalid(M.api_zalo_redirect_invalid));
        }
        let now = now();
        match self
            .state
            .store
            .zalo_check_app(app_id, &secret::hash_token(&app_secret), now)
            .await?
        {
            AppCheck::Accepted => {}
            AppCheck::WrongSecret => return Err(ApiError::invalid(M.api_zalo_app_secret_wrong)),
        }
        self.state
            .store
            .zalo_ensure_oas(self.shop.id, &self.shop.name, now)
            .await?;
        self.new_grant(app_id, &redirect_uri, None).await
    }

    async fn connect_oa(&self) -> ApiResult {
        let code = required_string(self.body, "code", 512)?;
        let oa_id = required_id(self.body, "oa_id")?;
        let grant_state = required_id(self.body, "state")?;
        let now = now();
        let grant = self
            .state
            .store
            .zalo_grant(grant_state)
            .await?
            .filter(|g| g.shop_id == self.shop.id)
            .ok_or_else(|| ApiError::invalid(M.api_zalo_state_invalid))?;
        let code_hash = secret::hash_token(&code);
        let code_usable = grant.code_hash.as_deref().is_some_and(|stored| {
            secret::constant_time_eq(stored.as_bytes(), code_hash.as_bytes())
        }) && grant.code_used_at.is_none()
            && grant.code_expires_at.is_some_and(|at| at > now);
        if !code_usable {
            return Err(ApiError::invalid(M.api_zalo_code_invalid));
        }
        if grant.chosen_oa_id != Some(oa_id) {
            return Err(ApiError::invalid(M.api_zalo_oa_mismatch));
        }
        if self.state.store.zalo_app_rejected(grant.app_id).await? {
            return Err(ApiError::invalid(M.api_zalo_app_secret_wrong));
        }
        let oa = self
            .state
            .store
            .zalo_oa(oa_id, now)
            .await?
            .filter(|oa| oa.shop_id == self.shop.id)
            .ok_or_else(oa_not_found)?;
        if !oa.has_package {
            return Err(failed_precondition(M.api_zalo_no_package));
        }
        let connected = self
            .state
            .store
            .zalo_connect(&grant, &code_hash, oa_id, now, now + REFRESH_TOKEN_SECONDS)
            .await?;
        if !connected {
            // Another call used the code between the checks and here.
            return Err(ApiError::invalid(M.api_zalo_code_invalid));
        }
        tracing::info!(shop_id = self.shop.id, oa_id, "sandbox connected a Zalo OA");
        let oa = self.connected_oa(oa_id).await?;
        Ok(oa_json(&oa, self.config))
    }

    async fn refresh_token(&self) -> ApiResult {
        let oa_id = required_id(self.body, "oa_id")?;
        let oa = self.connected_oa(oa_id).await?;
        let Some(connection) = oa.connection else {
            return Err(oa_not_found());
        };
        if self
            .state
            .store
            .zalo_app_rejected(connection.app_id)
            .await?
        {
            return Err(ApiError::invalid(M.api_zalo_app_secret_wrong));
        }
        self.new_grant(connection.app_id, &connection.redirect_uri, Some(oa_id))
            .await
    }

    async fn list_oa(&self) -> ApiResult {
        let filter = object_field(self.body, "filter")?
            .cloned()
            .unwrap_or_default();
        let (limit, after) = paging(self.body)?;
        let query = OaFilter {
            app_id: id_field(&filter, "app_id")?,
            oa_id: id_field(&filter, "oa_id")?,
            name: string_field(&filter, "name", MAX_FIELD_CHARS)?,
            date_from: time_field(&filter, "date_from")?,
            date_to: time_field(&filter, "date_to")?,
            after,
        };
        let mut rows = self
            .state
            .store
            .zalo_list_connected(self.shop.id, &query, limit + 1, now())
            .await?;
        let next = (rows.len() as i64 > limit).then(|| {
            rows.truncate(limit as usize);
            rows.last().map(|oa| oa.oa_id)
        });
        let accounts: Vec<Value> = rows.iter().map(|oa| oa_json(oa, self.config)).collect();
        Ok(json!({
            "accounts": accounts,
            "paging": paging_answer(limit, after, next.flatten()),
        }))
    }

    async fn update_shop_oa(&self) -> ApiResult {
        let oa_id = required_id(self.body, "oa_id")?;
        let webhook_url =
            string_field(self.body, "webhook_url", MAX_URL_CHARS)?.unwrap_or_default();
        if !webhook_url.is_empty() {
            let valid = url::Url::parse(&webhook_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !valid {
                return Err(ApiError::field("webhook_url"));
            }
        }
        self.connected_oa(oa_id).await?;
        self.state
            .store
            .zalo_set_webhook(self.shop.id, oa_id, &webhook_url, now())
            .await?;
        let oa = self.connected_oa(oa_id).await?;
        Ok(oa_json(&oa, self.config))
    }

    async fn list_templates(&self) -> ApiResult {
        let filter = object_field(self.body, "filter")?
            .cloned()
            .unwrap_or_default();
        let oa_id = id_field(&filter, "oa_id")?.ok_or_else(|| ApiError::field("filter.oa_id"))?;
        let template_id = id_field(&filter, "template_id")?;
        let name = string_field(&filter, "template_name", MAX_FIELD_CHARS)?;
        time_field(&filter, "date_from")?;
        time_field(&filter, "date_to")?;
        let (limit, after) = paging(self.body)?;
        let oa = self.connected_oa(oa_id).await?;
        if !oa.has_package {
            return Err(failed_precondition(M.api_zalo_no_package));
        }
        let created_at = oa
            .connection
            .as_ref()
            .map_or(oa.created_at, |c| c.created_at);
        let matching: Vec<_> = TEMPLATES
            .iter()
            .filter(|t| template_id.is_none_or(|id| t.id == id))
            .filter(|t| {
                name.as_deref()
                    .is_none_or(|n| t.name.to_lowercase().contains(&n.to_lowercase()))
            })
            .filter(|t| after.is_none_or(|a| t.id > a))
            .collect();
        let page: Vec<Value> = matching
            .iter()
            .take(limit as usize)
            .map(|t| template_json(t, created_at))
            .collect();
        let next = (matching.len() as i64 > limit).then(|| matching[limit as usize - 1].id);
        Ok(json!({
            "templates": page,
            "paging": paging_answer(limit, after, next),
        }))
    }

    async fn send_zns(&self) -> ApiResult {
        let oa_id = required_id(self.body, "oa_id")?;
        let phone = required_string(self.body, "phone", 32)?;
        let phone = Phone::parse(&phone).map_err(|_| ApiError::invalid(M.api_phone_invalid))?;
        let template_id = required_id(self.body, "template_id")?;
        let data = template_data(self.body)?;
        let tracking_id = string_field(self.body, "tracking_id", 48)?.unwrap_or_default();
        let is_development = match string_field(self.body, "mode", 32)?.as_deref() {
            Some("development") => true,
            None | Some("unknown") => false,
            Some(_) => return Err(ApiError::field("mode")),
        };
        string_field(self.body, "sending_mode", 32)?;

        let now = now();
        let oa = self.connected_oa(oa_id).await?;
        let Some(connection) = &oa.connection else {
            return Err(oa_not_found());
        };
        if !oa.has_package {
            return Err(failed_precondition(M.api_zalo_no_package));
        }
        if connection.status != "P" {
            return Err(failed_precondition(M.api_zalo_oa_disconnected));
        }
        if connection.expires_at <= now {
            return Err(failed_precondition(M.api_zalo_oa_expired));
        }
        let template = template(template_id)
            .filter(|t| t.status == "ENABLE")
            .ok_or_else(|| ApiError::invalid(M.api_zalo_template_invalid))?;
        match check_data(template, &data) {
            Ok(()) => {}
            Err(DataError::Missing(name)) => {
                return Err(ApiError::invalid(SandboxMessages::fill(
                    M.api_zalo_param_missing,
                    &[name],
                )))
            }
            Err(DataError::Invalid(name)) => {
                return Err(ApiError::invalid(SandboxMessages::fill(
                    M.api_zalo_param_invalid,
                    &[name],
                )))
            }
        }
        let rendered = render(template, &data);
        let data_json = serde_json::to_string(&data).map_err(|e| ApiError::internal(&e))?;
        let sent = self
            .state
            .store
            .zalo_send(
                &NewMessage {
                    shop_id: self.shop.id,
                    oa_id,
                    phone: phone.as_str(),
                    template_id,
                    template_data: &data_json,
                    rendered: &rendered,
                    tracking_id: &tracking_id,
                    is_development,
                },
                now,
            )
            .await?;
        let Some((id, msg_id)) = sent else {
            return Err(failed_precondition(M.api_zalo_quota_exhausted));
        };
        tracing::info!(
            shop_id = self.shop.id,
            oa_id,
            template_id,
            "sandbox sent a ZNS"
        );
        Ok(json!({
            "id": id.to_string(),
            "msg_id": msg_id,
            "oa_id": oa_id.to_string(),
            "shop_id": self.shop.id.to_string(),
            "phone": phone.as_str(),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": tracking_id,
            "type": "template",
            "status": "P",
            "delivery_status": "received",
            "error_code": 0,
            "error_message": "",
            "is_charged": !is_development,
            "is_development": is_development,
            "fee_main": if is_development { 0 } else { 300 },
            "sent_time": rfc3339(now),
            "created_at": rfc3339(now),
            "updated_at": rfc3339(now),
            "sandbox": true,
        }))
    }
}

/// `template_data`: an object of strings (numbers are taken as their text).
fn template_data(body: &Map<String, Value>) -> Result<BTreeMap<String, String>, ApiError> {
    let invalid = || ApiError::field("template_data");
    let map = match body.get("template_data") {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(invalid()),
    };
    if map.len() > 50 {
        return Err(invalid());
    }
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Null => String::new(),
                _ => return Err(invalid()),
            };
            if k.chars().count() > 64 || text.chars().count() > 500 {
                return Err(invalid());
            }
            Ok((k.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn zalo_paths_map_to_the_seven_methods() {
        for (path, method) in [
            ("/v1/partner.Zalo/AuthorizeOA", ZaloMethod::AuthorizeOa),
            ("/v1/partner.Zalo/ConnectOA", ZaloMethod::ConnectOa),
            ("/v1/partner.Zalo/RefreshToken", ZaloMethod::RefreshToken),
            ("/v1/partner.Zalo/ListOA", ZaloMethod::ListOa),
            ("/v1/partner.Zalo/UpdateShopOA", ZaloMethod::UpdateShopOa),
            ("/v1/partner.Zalo/ListTemplates", ZaloMethod::ListTemplates),
            ("/v1/partner.Zalo/SendZNS", ZaloMethod::SendZns),
        ] {
            assert_eq!(ZaloMethod::from_path(path), Some(method));
            assert_eq!(path.strip_prefix("/v1/partner.").unwrap(), method.name());
        }
        assert_eq!(ZaloMethod::from_path("/v1/partner.Zalo/listoa"), None);
    }

    #[test]
    fn ids_are_read_from_strings_or_numbers_without_rounding() {
        let b = body(json!({
            "a": "9223372036854775807", "b": 9_223_372_036_854_775_807_i64, "c": "0", "d": 0,
            "e": "-1", "f": 1.5, "g": "007", "h": "9223372036854775808", "i": true
        }));
        assert_eq!(id_field(&b, "a").unwrap(), Some(i64::MAX));
        assert_eq!(id_field(&b, "b").unwrap(), Some(i64::MAX));
        assert_eq!(id_field(&b, "c").unwrap(), None);
        assert_eq!(id_field(&b, "d").unwrap(), None);
        assert_eq!(id_field(&b, "missing").unwrap(), None);
        for bad in ["e", "f", "g", "h", "i"] {
            assert!(id_field(&b, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn template_data_takes_strings_and_numbers_only() {
        let ok = template_data(&body(
            json!({"template_data": {"a": "x", "b": 12, "c": null}}),
        ))
        .unwrap();
        assert_eq!(ok["b"], "12");
        assert_eq!(ok["c"], "");
        assert!(template_data(&body(json!({"template_data": {"a": [1]}}))).is_err());
        assert!(template_data(&body(json!({"template_data": "x"}))).is_err());
    }
}
