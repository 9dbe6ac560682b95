//! The `Zalo/*` methods of the partner API (its-contract.md, "The shop's Zalo Official
//! Account, through ITS, with the shop key"): request and answer types, how the wire JSON
//! becomes them, and the client's methods.
//!
//! Every method is authenticated with the **shop key**, not the api_key: a 401
//! `unauthenticated` here means the shop key stopped working (the ITS link needs re-auth),
//! not a Zalo problem. Errors map exactly as for the `Shop/*` methods.
//!
//! Quirks the provider's answers have, all accepted: ids as JSON strings or numbers (never
//! through `f64`); the owner field spelled `onwer_id` (the published sample) or `owner_id`
//! (the field table); qualities `HIGH`/`MEDIUM`/`LOW`/`UNDEFINED` and also `unknown`;
//! Go's zero time or `""` for a time that is not set; fields nobody told us about.
//!
//! Secrets — the app secret, Zalo's `code`, ITS's `state`, the shop key — never appear in a
//! `Debug` print; a permission-page URL is printed without its query (it carries `state`).

use std::collections::BTreeMap;
use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use super::client::{shop_key_header, Retry};
use super::error::ItsError;
use super::redact::redact_url;
use super::types::{non_empty_string, optional_i64, string_or_integer};
use super::ItsClient;
use crate::domain::{ShopId, ShopKey};

// ---------------------------------------------------------------------------------------
// Ids
// ---------------------------------------------------------------------------------------

/// Why an id, a `state` or a `code` was refused (never shows the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZaloValueError(pub &'static str);

/// A plain positive decimal int64 (no sign, no spaces, no leading zero).
fn is_int64_text(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 19
        && s.bytes().all(|b| b.is_ascii_digit())
        && !s.starts_with('0')
        && s.parse::<i64>().is_ok()
}

macro_rules! zalo_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A positive int64 in decimal, as the provider writes it.
            pub fn parse(s: &str) -> Result<Self, ZaloValueError> {
                if is_int64_text(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(ZaloValueError(concat!("not a valid ", $what)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Always written as a JSON string (beyond JavaScript's safe integers).
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        /// Read from a JSON string or an integer, never through `f64`.
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = string_or_integer(d)?;
                $name::parse(&text).map_err(|e| de::Error::custom(e.0))
            }
        }
    };
}

zalo_id!(
    /// A Zalo Official Account's id.
    OaId,
    "OA id"
);
zalo_id!(
    /// A Zalo app's id.
    AppId,
    "Zalo app id"
);

/// An optional id that the provider may send as `""`, `"0"`, `0` or `null` for "none".
fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Visitor;
    impl<'de> de::Visitor<'de> for Visitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id as a string or an integer")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(match v.trim() {
                "" | "0" => None,
                v => Some(v.to_owned()),
            })
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok((v != 0).then(|| v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok((v != 0).then(|| v.to_string()))
        }
    }
    d.deserialize_any(Visitor)
}

fn optional_typed_id<'de, D, T>(
    d: D,
    parse: fn(&str) -> Result<T, ZaloValueError>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    match optional_id(d)? {
        None => Ok(None),
        Some(text) => parse(&text).map(Some).map_err(|e| de::Error::custom(e.0)),
    }
}

fn optional_app_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AppId>, D::Error> {
    optional_typed_id(d, AppId::parse)
}

fn optional_shop_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ShopId>, D::Error> {
    optional_typed_id(d, |s| {
        ShopId::parse(s).map_err(|_| ZaloValueError("not a valid shop id"))
    })
}

fn i64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(optional_i64(d)?.unwrap_or(0))
}

fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// An RFC 3339 time; `null`, `""` and Go's zero time (`0001-01-01T00:00:00Z`) are "not set".
/// Any other text that is not RFC 3339 breaks the contract.
fn optional_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let at = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| de::Error::custom("a time that is not RFC 3339"))?;
    Ok((at.year() > 1).then_some(at))
}

// ---------------------------------------------------------------------------------------
// Secrets of the grant
// ---------------------------------------------------------------------------------------

/// A text secret of the grant: no `Display`, a `Debug` that prints only its type name and
/// `****`, serialised as the plain string the provider expects.
macro_rules! secret_text {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(****)"))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

secret_text!(
    /// A Zalo app's secret.
    ZaloAppSecret
);

impl ZaloAppSecret {
    /// Any non-empty printable text without spaces (Zalo's secrets are ~20 letters/digits).
    pub fn parse(s: &str) -> Result<Self, ZaloValueError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 256 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ZaloValueError("not a valid Zalo app secret"));
        }
        Ok(ZaloAppSecret(s.to_owned()))
    }
}

secret_text!(
    /// Zalo's authorization `code` from the callback: single use, a secret while it lives.
    ZaloCode
);

impl ZaloCode {
    pub fn parse(s: &str) -> Result<Self, ZaloValueError> {
        if s.is_empty() || s.len() > 2048 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ZaloValueError("not a valid Zalo code"));
        }
        Ok(ZaloCode(s.to_owned()))
    }
}

/// ITS's `state` from the permission page's URL, handed back in the callback: an integer
/// (the contract's `state: integer`) that ties the answer to the grant. Kept as its decimal
/// text and sent as a JSON integer, exactly, never through `f64`. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct ZaloState(String);

impl ZaloState {
    /// A non-negative integer that fits in 64 bits, in plain decimal.
    pub fn parse(s: &str) -> Result<Self, ZaloValueError> {
        let valid = !s.is_empty()
            && s.len() <= 20
            && s.bytes().all(|b| b.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'))
            && s.parse::<u64>().is_ok();
        if !valid {
            return Err(ZaloValueError("not a valid state"));
        }
        Ok(ZaloState(s.to_owned()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ZaloState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ZaloState(****)")
    }
}

impl Serialize for ZaloState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // `parse` guarantees the text is a u64.
        match self.0.parse::<u64>() {
            Ok(v) => s.serialize_u64(v),
            Err(_) => Err(serde::ser::Error::custom("state is not an integer")),
        }
    }
}

/// A permission-page URL (`AuthorizeOA`, `RefreshToken`): send the browser there, only to
/// Zalo's OAuth host. Its query carries `state`: `Debug` prints it without the query.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct OaPermissionUrl {
    pub url: String,
}

impl fmt::Debug for OaPermissionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OaPermissionUrl")
            .field("url", &redact_url(&self.url))
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/// `Zalo/AuthorizeOA`: which Zalo app asks for the OA, and where Zalo sends the browser back
/// (the app's "Official Account Callback Url").
#[derive(Clone, Serialize)]
pub struct AuthorizeOaRequest {
    pub app_id: AppId,
    pub app_secret: ZaloAppSecret,
    pub redirect_uri: String,
}

impl fmt::Debug for AuthorizeOaRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeOaRequest")
            .field("app_id", &self.app_id)
            .field("app_secret", &self.app_secret)
            .field("redirect_uri", &redact_url(&self.redirect_uri))
            .finish()
    }
}

/// `Zalo/ConnectOA`: what came back in the callback.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectOaRequest {
    pub code: ZaloCode,
    pub oa_id: OaId,
    pub state: ZaloState,
}

/// `Zalo/RefreshToken` and the `oa_id` of other single-OA calls.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshTokenRequest {
    pub oa_id: OaId,
}

/// Paging of the list methods. Every field is left out when not set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Paging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// The filter of `Zalo/ListOA`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListOaFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<AppId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oa_id: Option<OaId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub date_from: Option<OffsetDateTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub date_to: Option<OffsetDateTime>,
}

/// `Zalo/ListOA`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListOaRequest {
    pub filter: ListOaFilter,
    pub paging: Paging,
}

/// `Zalo/UpdateShopOA`: the OA's webhook.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateShopOaRequest {
    pub oa_id: OaId,
    pub webhook_url: String,
}

/// The filter of `Zalo/ListTemplates`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListTemplatesFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oa_id: Option<OaId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_name: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub date_from: Option<OffsetDateTime>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub date_to: Option<OffsetDateTime>,
}

/// `Zalo/ListTemplates`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListTemplatesRequest {
    pub filter: ListTemplatesFilter,
    pub paging: Paging,
}

/// `mode` of `Zalo/SendZNS`: `development` delivers only to the app's or the OA's own
/// admin — the safe way to prove ZNS works without messaging a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ZnsMode {
    Development,
    /// The provider's default: a real send.
    Unknown,
}

/// `Zalo/SendZNS`. `Debug` shows the phone's last three digits and the parameter names
/// only (the values are a customer's data).
#[derive(Clone, Serialize)]
pub struct SendZnsRequest {
    pub oa_id: OaId,
    pub phone: String,
    pub template_id: i64,
    pub template_data: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    pub mode: ZnsMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending_mode: Option<String>,
}

impl fmt::Debug for SendZnsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tail: String = {
            let chars: Vec<char> = self.phone.chars().collect();
            chars[chars.len().saturating_sub(3)..].iter().collect()
        };
        f.debug_struct("SendZnsRequest")
            .field("oa_id", &self.oa_id)
            .field("phone", &format!("…{tail}"))
            .field("template_id", &self.template_id)
            .field(
                "template_params",
                &self.template_data.keys().collect::<Vec<_>>(),
            )
            .field("tracking_id", &self.tracking_id)
            .field("mode", &self.mode)
            .finish()
    }
}

// ---------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------

/// `status` of an OA (and of a ZNS message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OaStatus {
    /// `Z`: new.
    New,
    /// `P`: connected.
    Connected,
    /// `N`: disconnected.
    Disconnected,
    /// Anything else (kept, cut to 32 characters).
    Other(String),
}

impl OaStatus {
    fn from_wire(s: &str) -> OaStatus {
        match s.trim() {
            "Z" => OaStatus::New,
            "P" => OaStatus::Connected,
            "N" => OaStatus::Disconnected,
            other => OaStatus::Other(other.chars().take(32).collect()),
        }
    }

    /// The letter the provider uses (or the other text).
    pub fn code(&self) -> &str {
        match self {
            OaStatus::New => "Z",
            OaStatus::Connected => "P",
            OaStatus::Disconnected => "N",
            OaStatus::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for OaStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OaStatus::from_wire(&string_or_empty(d)?))
    }
}

/// ZNS delivery quality of an OA (48 h or 7 days) or of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    High,
    Medium,
    Low,
    /// `UNDEFINED`: no ZNS sent in the window.
    Undefined,
    /// `unknown` (the sample), missing, or a value we do not know.
    Unknown,
}

impl Quality {
    pub fn from_wire(s: &str) -> Quality {
        match s.trim().to_ascii_uppercase().as_str() {
            "HIGH" => Quality::High,
            "MEDIUM" => Quality::Medium,
            "LOW" => Quality::Low,
            "UNDEFINED" => Quality::Undefined,
            _ => Quality::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Quality::High => "HIGH",
            Quality::Medium => "MEDIUM",
            Quality::Low => "LOW",
            Quality::Undefined => "UNDEFINED",
            Quality::Unknown => "unknown",
        }
    }
}

impl<'de> Deserialize<'de> for Quality {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Quality::from_wire(&string_or_empty(d)?))
    }
}

/// `connection_method` of an OA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionMethod {
    Builtin,
    Direct,
    /// `unknown`, missing, or another value.
    Unknown,
}

impl<'de> Deserialize<'de> for ConnectionMethod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match string_or_empty(d)?.trim() {
            "builtin" => ConnectionMethod::Builtin,
            "direct" => ConnectionMethod::Direct,
            _ => ConnectionMethod::Unknown,
        })
    }
}

/// A Zalo Official Account as every `Zalo/*` method returns it (`ZaloOA`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "ZaloOaWire")]
pub struct ZaloOa {
    pub oa_id: OaId,
    pub name: String,
    pub avatar: Option<String>,
    pub cover: Option<String>,
    pub description: String,
    pub is_verified: bool,
    pub app_id: Option<AppId>,
    pub shop_id: Option<ShopId>,
    /// `owner_id`, or `onwer_id` as the published sample spells it.
    pub owner_id: Option<String>,
    pub connection_id: Option<String>,
    pub connection_method: ConnectionMethod,
    pub status: OaStatus,
    /// ZNS sends per day.
    pub daily_quota: i64,
    /// ZNS sends left today.
    pub remaining_quota: i64,
    pub daily_quota_promotion: Option<i64>,
    pub monthly_promotion_quota: Option<i64>,
    pub remaining_monthly_promotion_quota: Option<i64>,
    pub estimated_next_month_promotion_quota: Option<i64>,
    /// Last 48 hours.
    pub current_quality: Quality,
    /// Last 7 days.
    pub last_week_quality: Quality,
    /// When the OA's refresh token expires: after it the OA must be authorised again.
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: Option<OffsetDateTime>,
    pub updated_at: Option<OffsetDateTime>,
    pub webhook_url: Option<String>,
}

/// The JSON of a `ZaloOA`, before the owner's two spellings are merged.
#[derive(Deserialize)]
struct ZaloOaWire {
    /// `oa_id`; some answers (the field tables) call it `id`.
    #[serde(default)]
    oa_id: Option<OaId>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "string_or_empty")]
    name: String,
    #[serde(default, deserialize_with = "non_empty_string")]
    avatar: Option<String>,
    #[serde(default, deserialize_with = "non_empty_string")]
    cover: Option<String>,
    #[serde(default, deserialize_with = "string_or_empty")]
    description: String,
    #[serde(default, deserialize_with = "bool_or_false")]
    is_verified: bool,
    #[serde(default, deserialize_with = "optional_app_id")]
    app_id: Option<AppId>,
    #[serde(default, deserialize_with = "optional_shop_id")]
    shop_id: Option<ShopId>,
    #[serde(default, deserialize_with = "optional_id")]
    owner_id: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    onwer_id: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    connection_id: Option<String>,
    #[serde(default = "unknown_method")]
    connection_method: ConnectionMethod,
    #[serde(default = "other_status")]
    status: OaStatus,
    #[serde(default, deserialize_with = "i64_or_zero")]
    daily_quota: i64,
    #[serde(default, deserialize_with = "i64_or_zero")]
    remaining_quota: i64,
    #[serde(default, deserialize_with = "optional_i64")]
    daily_quota_promotion: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    monthly_promotion_quota: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    remaining_monthly_promotion_quota: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    estimated_next_month_promotion_quota: Option<i64>,
    #[serde(default = "unknown_quality")]
    current_quality: Quality,
    #[serde(default = "unknown_quality")]
    last_week_quality: Quality,
    #[serde(default, deserialize_with = "optional_time")]
    expires_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "optional_time")]
    created_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "optional_time")]
    updated_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "non_empty_string")]
    webhook_url: Option<String>,
}

fn unknown_method() -> ConnectionMethod {
    ConnectionMethod::Unknown
}

fn other_status() -> OaStatus {
    OaStatus::Other(String::new())
}

fn unknown_quality() -> Quality {
    Quality::Unknown
}

/// A `ZaloOA` without a usable `oa_id` (nor `id`) breaks the contract. `from` cannot fail,
/// so such an OA gets an empty id here, which no `OaId::parse` ever makes, and the client's
/// methods refuse the answer as malformed.
impl From<ZaloOaWire> for ZaloOa {
    fn from(w: ZaloOaWire) -> ZaloOa {
        let oa_id = w
            .oa_id
            .or_else(|| {
                w.id.as_ref().and_then(|v| match v {
                    serde_json::Value::String(s) => OaId::parse(s).ok(),
                    serde_json::Value::Number(n) => {
                        n.as_i64().and_then(|i| OaId::parse(&i.to_string()).ok())
                    }
                    _ => None,
                })
            })
            .unwrap_or(OaId(String::new()));
        ZaloOa {
            oa_id,
            name: w.name,
            avatar: w.avatar,
            cover: w.cover,
            description: w.description,
            is_verified: w.is_verified,
            app_id: w.app_id,
            shop_id: w.shop_id,
            owner_id: w.owner_id.or(w.onwer_id),
            connection_id: w.connection_id,
            connection_method: w.connection_method,
            status: w.status,
            daily_quota: w.daily_quota,
            remaining_quota: w.remaining_quota,
            daily_quota_promotion: w.daily_quota_promotion,
            monthly_promotion_quota: w.monthly_promotion_quota,
            remaining_monthly_promotion_quota: w.remaining_monthly_promotion_quota,
            estimated_next_month_promotion_quota: w.estimated_next_month_promotion_quota,
            current_quality: w.current_quality,
            last_week_quality: w.last_week_quality,
            expires_at: w.expires_at,
            created_at: w.created_at,
            updated_at: w.updated_at,
            webhook_url: w.webhook_url,
        }
    }
}

impl ZaloOa {
    /// Whether the OA carries an id (an answer whose OA has none breaks the contract).
    fn has_id(&self) -> bool {
        !self.oa_id.0.is_empty()
    }
}

/// The paging of a list answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PagingAnswer {
    #[serde(default, deserialize_with = "non_empty_string")]
    pub after: Option<String>,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub before: Option<String>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub limit: Option<i64>,
    /// The cursor of the next page, when there is one.
    #[serde(default, deserialize_with = "non_empty_string")]
    pub next: Option<String>,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub prev: Option<String>,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub sort: Option<String>,
}

/// The answer of `Zalo/ListOA`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OaList {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub accounts: Vec<ZaloOa>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub paging: PagingAnswer,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One parameter of a ZNS template: the form the app builds from it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TemplateParam {
    pub name: String,
    /// The JSON field `type` (e.g. `STRING`, `NUMBER`, `DATE`).
    #[serde(rename = "type", default, deserialize_with = "string_or_empty")]
    pub kind: String,
    #[serde(default, deserialize_with = "bool_or_false")]
    pub require: bool,
    #[serde(default, deserialize_with = "optional_i64")]
    pub min_length: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub max_length: Option<i64>,
    #[serde(default, deserialize_with = "bool_or_false")]
    pub accept_null: bool,
}

/// A ZNS template as `Zalo/ListTemplates` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ZnsTemplate {
    #[serde(deserialize_with = "template_id")]
    pub template_id: i64,
    #[serde(default, deserialize_with = "string_or_empty")]
    pub template_name: String,
    /// E.g. `ENABLE` (approved), `PENDING_REVIEW`, `REJECT`, `DISABLE`.
    #[serde(default, deserialize_with = "string_or_empty")]
    pub template_status: String,
    #[serde(default = "unknown_quality")]
    pub template_quality: Quality,
    #[serde(default, deserialize_with = "string_or_empty")]
    pub template_tag: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub template_params: Vec<TemplateParam>,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub preview_url: Option<String>,
    /// Price per message (VND); not an id, so a float is fine here.
    #[serde(default)]
    pub price: Option<f64>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub template_daily_quota: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub template_remaining_quota: Option<i64>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub timeout: Option<i64>,
    #[serde(default, deserialize_with = "optional_time")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "optional_time")]
    pub updated_at: Option<OffsetDateTime>,
}

impl ZnsTemplate {
    /// Approved by Zalo: the only templates a message may be sent with.
    pub fn is_approved(&self) -> bool {
        self.template_status.eq_ignore_ascii_case("ENABLE")
    }
}

fn template_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match optional_i64(d)? {
        Some(id) if id > 0 => Ok(id),
        _ => Err(de::Error::custom(
            "a template without a positive template_id",
        )),
    }
}

/// The answer of `Zalo/ListTemplates`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TemplateList {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub templates: Vec<ZnsTemplate>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub paging: PagingAnswer,
}

/// `delivery_status` of a ZNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Received,
    Seen,
    /// `unknown`, missing, or another value.
    Unknown,
}

impl<'de> Deserialize<'de> for DeliveryStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match string_or_empty(d)?.trim().to_ascii_lowercase().as_str() {
                "received" => DeliveryStatus::Received,
                "seen" => DeliveryStatus::Seen,
                _ => DeliveryStatus::Unknown,
            },
        )
    }
}

/// The answer of `Zalo/SendZNS`: the message as ITS recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ZnsMessage {
    /// ITS's id of the message.
    #[serde(default, deserialize_with = "optional_id")]
    pub id: Option<String>,
    /// Zalo's message id.
    #[serde(default, deserialize_with = "non_empty_string")]
    pub msg_id: Option<String>,
    #[serde(default = "other_status")]
    pub status: OaStatus,
    #[serde(default = "unknown_delivery")]
    pub delivery_status: DeliveryStatus,
    /// Zalo's error code (0: none).
    #[serde(default, deserialize_with = "i64_or_zero")]
    pub error_code: i64,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub error_message: Option<String>,
    #[serde(default, deserialize_with = "bool_or_false")]
    pub is_charged: bool,
    #[serde(default, deserialize_with = "bool_or_false")]
    pub is_development: bool,
    #[serde(default, deserialize_with = "optional_i64")]
    pub fee_main: Option<i64>,
    #[serde(default, deserialize_with = "optional_time")]
    pub sent_time: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub tracking_id: Option<String>,
    #[serde(default, deserialize_with = "optional_id")]
    pub oa_id: Option<String>,
    #[serde(default, deserialize_with = "optional_i64")]
    pub template_id: Option<i64>,
}

fn unknown_delivery() -> DeliveryStatus {
    DeliveryStatus::Unknown
}

// ---------------------------------------------------------------------------------------
// The client's methods
// ---------------------------------------------------------------------------------------

/// Checks a `ZaloOA` answer: it must name its OA.
fn checked_oa(status: u16, oa: ZaloOa) -> Result<ZaloOa, ItsError> {
    if oa.has_id() {
        Ok(oa)
    } else {
        Err(ItsError::MalformedBody { status })
    }
}

fn checked_url(status: u16, answer: OaPermissionUrl) -> Result<OaPermissionUrl, ItsError> {
    if answer.url.trim().is_empty() {
        Err(ItsError::MalformedBody { status })
    } else {
        Ok(answer)
    }
}

impl ItsClient {
    /// `Zalo/AuthorizeOA` with the shop key: Zalo's OA permission page for this app.
    /// Never retried (each call starts a new grant at the provider).
    pub async fn zalo_authorize_oa(
        &self,
        key: &ShopKey,
        req: &AuthorizeOaRequest,
    ) -> Result<OaPermissionUrl, ItsError> {
        let (status, answer) = self
            .call(
                "Zalo/AuthorizeOA",
                &shop_key_header(key)?,
                req,
                Retry::Never,
            )
            .await?;
        checked_url(status, answer)
    }

    /// `Zalo/ConnectOA` with the shop key: exchanges the callback's `code` for the OA.
    /// Never retried (the `code` is single use).
    pub async fn zalo_connect_oa(
        &self,
        key: &ShopKey,
        req: &ConnectOaRequest,
    ) -> Result<ZaloOa, ItsError> {
        let (status, oa) = self
            .call("Zalo/ConnectOA", &shop_key_header(key)?, req, Retry::Never)
            .await?;
        checked_oa(status, oa)
    }

    /// `Zalo/RefreshToken` with the shop key: a new permission page for an OA whose refresh
    /// token nears (or passed) `expires_at`; after the grant, `ConnectOA` again. Never retried.
    pub async fn zalo_refresh_token(
        &self,
        key: &ShopKey,
        req: &RefreshTokenRequest,
    ) -> Result<OaPermissionUrl, ItsError> {
        let (status, answer) = self
            .call(
                "Zalo/RefreshToken",
                &shop_key_header(key)?,
                req,
                Retry::Never,
            )
            .await?;
        checked_url(status, answer)
    }

    /// `Zalo/ListOA` with the shop key: the shop's connected OAs. Read-only: retried once.
    pub async fn zalo_list_oa(
        &self,
        key: &ShopKey,
        req: &ListOaRequest,
    ) -> Result<OaList, ItsError> {
        let (status, list): (u16, OaList) = self
            .call("Zalo/ListOA", &shop_key_header(key)?, req, Retry::Once)
            .await?;
        if list.accounts.iter().all(ZaloOa::has_id) {
            Ok(list)
        } else {
            Err(ItsError::MalformedBody { status })
        }
    }

    /// `Zalo/UpdateShopOA` with the shop key: sets the OA's webhook. Never retried.
    pub async fn zalo_update_shop_oa(
        &self,
        key: &ShopKey,
        req: &UpdateShopOaRequest,
    ) -> Result<ZaloOa, ItsError> {
        let (status, oa) = self
            .call(
                "Zalo/UpdateShopOA",
                &shop_key_header(key)?,
                req,
                Retry::Never,
            )
            .await?;
        checked_oa(status, oa)
    }

    /// `Zalo/ListTemplates` with the shop key: the OA's ZNS templates. Read-only: retried once.
    pub async fn zalo_list_templates(
        &self,
        key: &ShopKey,
        req: &ListTemplatesRequest,
    ) -> Result<TemplateList, ItsError> {
        self.call(
            "Zalo/ListTemplates",
            &shop_key_header(key)?,
            req,
            Retry::Once,
        )
        .await
        .map(|(_, list)| list)
    }

    /// `Zalo/SendZNS` with the shop key. Never retried: a retry could send the message twice.
    pub async fn zalo_send_zns(
        &self,
        key: &ShopKey,
        req: &SendZnsRequest,
    ) -> Result<ZnsMessage, ItsError> {
        self.call("Zalo/SendZNS", &shop_key_header(key)?, req, Retry::Never)
            .await
            .map(|(_, message)| message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_OA: &str = r#"{
        "app_id": "4143453445419930001", "avatar": "https://s160.zdn.vn/a.jpg",
        "connection_id": "1152921504606846977", "connection_method": "builtin", "cover": "",
        "created_at": "2026-11-20T08:00:00Z", "current_quality": "HIGH", "daily_quota": 500,
        "description": "Cửa hàng Hòa Mai", "expires_at": "2027-02-18T08:00:00+07:00",
        "is_verified": true, "last_week_quality": "unknown", "name": "Hòa Mai OA",
        "oa_id": "1052570182707778180", "onwer_id": "1052570182707778181",
        "remaining_quota": 498, "shop_id": "1052570182707778182", "status": "P",
        "updated_at": "2026-11-20T08:00:00Z", "brand_new_field": {"x": [1, 2]}
    }"#;

    #[test]
    fn the_published_sample_oa_parses_with_onwer_id_and_string_ids() {
        let oa: ZaloOa = serde_json::from_str(SAMPLE_OA).unwrap();
        assert_eq!(oa.oa_id.as_str(), "1052570182707778180");
        assert_eq!(oa.app_id.unwrap().as_str(), "4143453445419930001");
        assert_eq!(oa.shop_id.unwrap().get(), 1_052_570_182_707_778_182);
        assert_eq!(oa.owner_id.as_deref(), Some("1052570182707778181"));
        assert_eq!(oa.connection_id.as_deref(), Some("1152921504606846977"));
        assert_eq!(oa.connection_method, ConnectionMethod::Builtin);
        assert_eq!(oa.status, OaStatus::Connected);
        assert_eq!((oa.daily_quota, oa.remaining_quota), (500, 498));
        assert_eq!(oa.current_quality, Quality::High);
        assert_eq!(oa.last_week_quality, Quality::Unknown);
        assert!(oa.is_verified);
        assert_eq!(oa.cover, None);
        assert_eq!(
            oa.expires_at.unwrap().unix_timestamp(),
            OffsetDateTime::parse(
                "2027-02-18T01:00:00Z",
                &time::format_description::well_known::Rfc3339
            )
            .unwrap()
            .unix_timestamp()
        );
    }

    #[test]
    fn ids_given_as_numbers_keep_every_digit() {
        let oa: ZaloOa = serde_json::from_str(
            r#"{"oa_id": 9223372036854775807, "app_id": 4143453445419930001,
                "shop_id": 1052570182707778182, "owner_id": 1052570182707778181, "status": "Z"}"#,
        )
        .unwrap();
        assert_eq!(oa.oa_id.as_str(), "9223372036854775807");
        assert_eq!(oa.app_id.unwrap().as_str(), "4143453445419930001");
        assert_eq!(oa.owner_id.as_deref(), Some("1052570182707778181"));
        assert_eq!(oa.status, OaStatus::New);
    }

    #[test]
    fn owner_id_wins_over_onwer_id_and_either_alone_is_read() {
        let both: ZaloOa =
            serde_json::from_str(r#"{"oa_id":"7","owner_id":"1","onwer_id":"2"}"#).unwrap();
        assert_eq!(both.owner_id.as_deref(), Some("1"));
        let table: ZaloOa = serde_json::from_str(r#"{"oa_id":"7","owner_id":"3"}"#).unwrap();
        assert_eq!(table.owner_id.as_deref(), Some("3"));
        let none: ZaloOa =
            serde_json::from_str(r#"{"oa_id":"7","owner_id":"0","onwer_id":""}"#).unwrap();
        assert_eq!(none.owner_id, None);
    }

    #[test]
    fn qualities_statuses_and_methods_cover_every_documented_value() {
        for (wire, want) in [
            ("HIGH", Quality::High),
            ("MEDIUM", Quality::Medium),
            ("LOW", Quality::Low),
            ("UNDEFINED", Quality::Undefined),
            ("unknown", Quality::Unknown),
            ("low", Quality::Low),
            ("", Quality::Unknown),
            ("SOMETHING_NEW", Quality::Unknown),
        ] {
            assert_eq!(Quality::from_wire(wire), want, "{wire}");
        }
        for (wire, want) in [
            ("Z", OaStatus::New),
            ("P", OaStatus::Connected),
            ("N", OaStatus::Disconnected),
        ] {
            let oa: ZaloOa =
                serde_json::from_str(&format!(r#"{{"oa_id":"7","status":"{wire}"}}"#)).unwrap();
            assert_eq!(oa.status, want);
            assert_eq!(oa.status.code(), wire);
        }
        let odd: ZaloOa = serde_json::from_str(r#"{"oa_id":"7","status":"X"}"#).unwrap();
        assert_eq!(odd.status, OaStatus::Other("X".into()));
        let bare: ZaloOa = serde_json::from_str(r#"{"oa_id":"7"}"#).unwrap();
        assert_eq!(bare.current_quality, Quality::Unknown);
        assert_eq!(bare.connection_method, ConnectionMethod::Unknown);
        assert_eq!(bare.daily_quota, 0);
    }

    #[test]
    fn quotas_may_be_strings_and_go_zero_times_are_not_set() {
        let oa: ZaloOa = serde_json::from_str(
            r#"{"oa_id":"7","daily_quota":"1000","remaining_quota":"0","daily_quota_promotion":5,
                "expires_at":"0001-01-01T00:00:00Z","created_at":"","updated_at":null}"#,
        )
        .unwrap();
        assert_eq!((oa.daily_quota, oa.remaining_quota), (1000, 0));
        assert_eq!(oa.daily_quota_promotion, Some(5));
        assert_eq!(
            (oa.expires_at, oa.created_at, oa.updated_at),
            (None, None, None)
        );
        assert!(
            serde_json::from_str::<ZaloOa>(r#"{"oa_id":"7","expires_at":"tomorrow"}"#).is_err()
        );
    }

    #[test]
    fn ids_that_are_not_positive_int64s_are_refused() {
        for bad in [
            r#"{"oa_id":"-1"}"#,
            r#"{"oa_id":"abc"}"#,
            r#"{"oa_id":1.5}"#,
            r#"{"oa_id":"9223372036854775808"}"#,
            r#"{"oa_id":"7","app_id":"x"}"#,
        ] {
            assert!(serde_json::from_str::<ZaloOa>(bad).is_err(), "{bad}");
        }
        // No id at all parses, and the client refuses it as a malformed answer.
        let oa: ZaloOa = serde_json::from_str(r#"{"name":"x"}"#).unwrap();
        assert!(matches!(
            checked_oa(200, oa),
            Err(ItsError::MalformedBody { status: 200 })
        ));
        let by_id: ZaloOa = serde_json::from_str(r#"{"id":"42"}"#).unwrap();
        assert_eq!(by_id.oa_id.as_str(), "42");
    }

    #[test]
    fn a_list_answer_tolerates_null_lists_and_unknown_paging_fields() {
        let list: OaList = serde_json::from_str(
            r#"{"accounts":null,"paging":{"limit":"20","next":"","x":1},"extra":true}"#,
        )
        .unwrap();
        assert!(list.accounts.is_empty());
        assert_eq!(list.paging.limit, Some(20));
        assert_eq!(list.paging.next, None);
        let list: OaList = serde_json::from_str(&format!(
            r#"{{"accounts":[{SAMPLE_OA}],"paging":{{"next":"abc"}}}}"#
        ))
        .unwrap();
        assert_eq!(list.accounts.len(), 1);
        assert_eq!(list.paging.next.as_deref(), Some("abc"));
    }

    #[test]
    fn templates_parse_with_their_params_and_approval() {
        let list: TemplateList = serde_json::from_str(
            r#"{"templates":[{"template_id":"231500","template_name":"Xác nhận đơn hàng",
                "template_status":"ENABLE","template_quality":"HIGH","template_tag":"TRANSACTION",
                "template_params":[{"name":"customer_name","type":"STRING","require":true,
                  "min_length":1,"max_length":30,"accept_null":false},{"name":"note"}],
                "preview_url":"https://account.zalo.cloud/znspreview/x","price":300.0,
                "template_daily_quota":"500","timeout":7200000},
               {"template_id":231501,"template_status":"PENDING_REVIEW","template_quality":"UNDEFINED"}],
              "paging":{}}"#,
        )
        .unwrap();
        let first = &list.templates[0];
        assert_eq!(first.template_id, 231_500);
        assert!(first.is_approved());
        assert_eq!(first.template_quality, Quality::High);
        assert_eq!(first.template_params[0].kind, "STRING");
        assert!(first.template_params[0].require);
        assert_eq!(first.template_params[0].max_length, Some(30));
        assert!(!first.template_params[1].require);
        assert_eq!(first.template_daily_quota, Some(500));
        assert!(!list.templates[1].is_approved());
        assert!(
            serde_json::from_str::<TemplateList>(r#"{"templates":[{"template_id":0}]}"#).is_err()
        );
    }

    #[test]
    fn a_sent_message_parses_with_its_delivery_status() {
        let m: ZnsMessage = serde_json::from_str(
            r#"{"id":"1152921504606846999","msg_id":"a1b2","status":"P","delivery_status":"received",
                "error_code":0,"error_message":"","is_charged":false,"is_development":true,
                "sent_time":"2026-11-30T12:00:00Z","tracking_id":"t-1","template_id":"231500",
                "sms":{"status":"x"}}"#,
        )
        .unwrap();
        assert_eq!(m.id.as_deref(), Some("1152921504606846999"));
        assert_eq!(m.delivery_status, DeliveryStatus::Received);
        assert!(m.is_development);
        assert_eq!(m.error_message, None);
        assert_eq!(m.template_id, Some(231_500));
        let bare: ZnsMessage = serde_json::from_str("{}").unwrap();
        assert_eq!(bare.delivery_status, DeliveryStatus::Unknown);
    }

    #[test]
    fn requests_send_ids_as_strings_and_the_state_as_an_exact_integer() {
        let req = ConnectOaRequest {
            code: ZaloCode::parse("CODE123").unwrap(),
            oa_id: OaId::parse("1052570182707778180").unwrap(),
            state: ZaloState::parse("18446744073709551615").unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"code":"CODE123","oa_id":"1052570182707778180","state":18446744073709551615}"#
        );
        for bad in ["", "-1", "1.5", "01", "18446744073709551616", "1e3"] {
            assert!(ZaloState::parse(bad).is_err(), "{bad}");
        }
        let list = ListOaRequest {
            filter: ListOaFilter {
                oa_id: Some(OaId::parse("7").unwrap()),
                ..Default::default()
            },
            paging: Paging {
                limit: Some(50),
                ..Default::default()
            },
        };
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"{"filter":{"oa_id":"7"},"paging":{"limit":50}}"#
        );
        let send = SendZnsRequest {
            oa_id: OaId::parse("7").unwrap(),
            phone: "0912345678".into(),
            template_id: 231_500,
            template_data: [("customer_name".to_owned(), "An".to_owned())].into(),
            tracking_id: None,
            mode: ZnsMode::Development,
            sending_mode: None,
        };
        assert_eq!(
            serde_json::to_string(&send).unwrap(),
            r#"{"oa_id":"7","phone":"0912345678","template_id":231500,"template_data":{"customer_name":"An"},"mode":"development"}"#
        );
    }

    #[test]
    fn secrets_of_the_grant_never_show_in_debug() {
        let auth = AuthorizeOaRequest {
            app_id: AppId::parse("4143453445419930001").unwrap(),
            app_secret: ZaloAppSecret::parse("APPSECRETxyz123").unwrap(),
            redirect_uri: "https://app.example.vn/zalo/callback?x=SECRETQUERY".into(),
        };
        let connect = ConnectOaRequest {
            code: ZaloCode::parse("THECODEabc").unwrap(),
            oa_id: OaId::parse("7").unwrap(),
            state: ZaloState::parse("987654321").unwrap(),
        };
        let url = OaPermissionUrl {
            url: "https://oauth.zaloapp.com/v4/oa/permission?app_id=1&state=987654321".into(),
        };
        let send = SendZnsRequest {
            oa_id: OaId::parse("7").unwrap(),
            phone: "0912345678".into(),
            template_id: 1,
            template_data: [("otp".to_owned(), "SECRETOTP".to_owned())].into(),
            tracking_id: None,
            mode: ZnsMode::Development,
            sending_mode: None,
        };
        let printed = format!("{auth:?} {connect:?} {url:?} {send:?}");
        for secret in [
            "APPSECRET",
            "SECRETQUERY",
            "THECODE",
            "987654321",
            "SECRETOTP",
            "091234",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(
            printed.contains("https://oauth.zaloapp.com/v4/oa/permission?…"),
            "{printed}"
        );
        assert!(printed.contains("4143453445419930001"));
        assert!(ZaloAppSecret::parse(" ").is_err());
        assert!(ZaloAppSecret::parse("a b").is_err());
    }
}
