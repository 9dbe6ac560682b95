//! Request and response types of the partner API, and how the wire JSON becomes them.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize};

use super::redact::redact_url;
use crate::domain::{ShopId, ShopKey};

/// The partner `api_key`: a secret. No `Display`; `Debug` prints `ApiKey(****last4)`
/// (or `ApiKey(****)` for a key shorter than 8 characters, where 4 would be half of it).
/// Hand-written like `ShopKey`, which says why not the `secrecy` crate.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(s: String) -> Self {
        ApiKey(s)
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// What a person may see: `****` and the last four characters.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 8 {
            return "****".to_owned();
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail}")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

/// The body of `Shop/AuthorizeShop`. Every field is optional and left out when `None`.
/// `Debug` is written by hand: it prints `redirect_url` without its query (which carries
/// our callback token).
#[derive(Clone, Default, Serialize)]
pub struct AuthorizeShopRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_id: Option<ShopId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_shop_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shop_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

impl fmt::Debug for AuthorizeShopRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeShopRequest")
            .field("shop_id", &self.shop_id)
            .field("external_shop_id", &self.external_shop_id)
            .field("external_user_id", &self.external_user_id)
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("name", &self.name)
            .field("shop_name", &self.shop_name)
            .field(
                "redirect_url",
                &self.redirect_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

/// The answer of `Shop/AuthorizeShop`.
#[derive(Clone, PartialEq, Eq)]
pub enum Authorization {
    /// The shop owner must log in and approve: send the browser to `auth_url`.
    /// `auth_url` carries the one-time request token: treat it as a secret too.
    ShopRequest {
        auth_url: Option<String>,
        expires_in: i64,
    },
    /// The shop is linked: `shop_key` is the long-lived secret to store.
    ShopKey {
        shop_key: ShopKey,
        auth_url: Option<String>,
    },
    /// Any other `type` (e.g. `user_key` for white-label partners). Its token is dropped.
    Other { kind: String },
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = |u: &Option<String>| u.as_deref().map(redact_url);
        match self {
            Authorization::ShopRequest {
                auth_url,
                expires_in,
            } => f
                .debug_struct("ShopRequest")
                .field("auth_url", &url(auth_url))
                .field("expires_in", expires_in)
                .finish(),
            Authorization::ShopKey { shop_key, auth_url } => f
                .debug_struct("ShopKey")
                .field("shop_key", shop_key)
                .field("auth_url", &url(auth_url))
                .finish(),
            Authorization::Other { kind } => f.debug_struct("Other").field("kind", kind).finish(),
        }
    }
}

/// The answer of `Shop/CurrentShop`: the shop's public info.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CurrentShop {
    pub id: ShopId,
    #[serde(default)]
    pub name: String,
    /// The JSON field `type` (e.g. `"shop"`).
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, deserialize_with = "non_empty_string")]
    pub image_url: Option<String>,
}

/// The answer of `Misc/CurrentAccount`: the partner's own account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CurrentAccount {
    /// Sent as a string or a number; kept as the decimal text.
    #[serde(deserialize_with = "string_or_integer")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The JSON field `type`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// The JSON of a successful `AuthorizeShop`, before it is checked.
#[derive(Deserialize)]
pub(crate) struct AuthorizeShopWire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    auth_token: Option<String>,
    #[serde(default, deserialize_with = "non_empty_string")]
    auth_url: Option<String>,
    #[serde(default, deserialize_with = "optional_i64")]
    expires_in: Option<i64>,
}

/// How long a request token lives when the provider does not say (the contract's 15 min).
const DEFAULT_REQUEST_EXPIRES_IN: i64 = 900;

impl AuthorizeShopWire {
    /// `None` when the answer breaks the contract (a `shop_key` without a usable key).
    pub(crate) fn into_authorization(self) -> Option<Authorization> {
        match self.kind.as_str() {
            "shop_request" => Some(Authorization::ShopRequest {
                auth_url: self.auth_url,
                expires_in: self.expires_in.unwrap_or(DEFAULT_REQUEST_EXPIRES_IN),
            }),
            "shop_key" => {
                let shop_key = ShopKey::parse(self.auth_token.as_deref()?).ok()?;
                Some(Authorization::ShopKey {
                    shop_key,
                    auth_url: self.auth_url,
                })
            }
            "" => None,
            other => Some(Authorization::Other {
                kind: other.chars().take(64).collect(),
            }),
        }
    }
}

pub(super) fn non_empty_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    Ok(v.filter(|s| !s.trim().is_empty()))
}

/// An integer sent as a JSON number or a decimal string, kept as text (never through f64).
pub(super) fn string_or_integer<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Visitor;
    impl de::Visitor<'_> for Visitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id as a string or an integer")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            if v.is_empty() {
                return Err(E::custom("empty id"));
            }
            Ok(v.to_owned())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(Visitor)
}

/// An optional integer sent as a JSON number or a decimal string.
pub(super) fn optional_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Visitor;
    impl<'de> de::Visitor<'de> for Visitor {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an integer as a number or a string")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.parse().map(Some).map_err(|_| E::custom("not an integer"))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
    }
    d.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorization(json: &str) -> Option<Authorization> {
        serde_json::from_str::<AuthorizeShopWire>(json)
            .ok()?
            .into_authorization()
    }

    #[test]
    fn a_shop_request_answer_keeps_the_url_and_expiry_but_not_the_token() {
        let got = authorization(
            r#"{"code":"ok","msg":"","type":"shop_request","auth_token":"request:AbCdEf",
                "auth_url":"https://auth.example.vn/login?token=request:AbCdEf",
                "expires_in":900,"meta":{"recaptcha_token":"1"},"brand_new":{"x":[1]}}"#,
        )
        .unwrap();
        assert_eq!(
            got,
            Authorization::ShopRequest {
                auth_url: Some("https://auth.example.vn/login?token=request:AbCdEf".into()),
                expires_in: 900
            }
        );
        let debug = format!("{got:?}");
        assert!(!debug.contains("AbCdEf"), "{debug}");
        assert!(debug.contains("https://auth.example.vn/login?…"), "{debug}");
    }

    #[test]
    fn a_shop_request_without_auth_url_or_expiry_is_accepted() {
        assert_eq!(
            authorization(r#"{"type":"shop_request","auth_token":"request:x"}"#).unwrap(),
            Authorization::ShopRequest {
                auth_url: None,
                expires_in: 900
            }
        );
        assert_eq!(
            authorization(r#"{"type":"shop_request","expires_in":"600","auth_url":""}"#).unwrap(),
            Authorization::ShopRequest {
                auth_url: None,
                expires_in: 600
            }
        );
    }

    #[test]
    fn a_shop_key_answer_carries_the_key_and_masks_it_in_debug() {
        let got = authorization(
            r#"{"code":"ok","type":"shop_key","auth_token":"shop1052570182707778180:s3cr3tVALUEabcd",
                "expires_in":-1,"unknown":true}"#,
        )
        .unwrap();
        let Authorization::ShopKey { shop_key, auth_url } = &got else {
            panic!("{got:?}")
        };
        assert_eq!(
            shop_key.expose_secret(),
            "shop1052570182707778180:s3cr3tVALUEabcd"
        );
        assert_eq!(auth_url, &None);
        let debug = format!("{got:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("****abcd"), "{debug}");
    }

    #[test]
    fn a_shop_key_answer_without_a_usable_key_breaks_the_contract() {
        assert!(authorization(r#"{"type":"shop_key"}"#).is_none());
        assert!(authorization(r#"{"type":"shop_key","auth_token":""}"#).is_none());
        assert!(authorization(r#"{"type":"shop_key","auth_token":"a b"}"#).is_none());
        assert!(authorization(r#"{"type":""}"#).is_none());
        assert!(authorization(r#"{"auth_token":"x"}"#).is_none());
    }

    #[test]
    fn another_type_is_reported_without_its_token() {
        let got = authorization(r#"{"type":"user_key","auth_token":"user99:SECRET"}"#).unwrap();
        assert_eq!(
            got,
            Authorization::Other {
                kind: "user_key".into()
            }
        );
        assert!(!format!("{got:?}").contains("SECRET"));
    }

    #[test]
    fn current_shop_accepts_a_string_id_beyond_the_safe_integer_range() {
        let shop: CurrentShop = serde_json::from_str(
            r#"{"id":"1052570182707778180","name":"Cửa hàng A","type":"shop",
                "image_url":"https://img.example.vn/a.png","owner_id":"77","extra":{"n":1}}"#,
        )
        .unwrap();
        assert_eq!(shop.id.get(), 1_052_570_182_707_778_180);
        assert_eq!(shop.name, "Cửa hàng A");
        assert_eq!(shop.kind, "shop");
        assert_eq!(
            shop.image_url.as_deref(),
            Some("https://img.example.vn/a.png")
        );
    }

    #[test]
    fn current_shop_accepts_a_numeric_id_and_a_missing_image() {
        let shop: CurrentShop = serde_json::from_str(
            r#"{"id":1052570182707778180,"name":"B","type":"shop","image_url":""}"#,
        )
        .unwrap();
        assert_eq!(shop.id.get(), 1_052_570_182_707_778_180);
        assert_eq!(shop.image_url, None);
        let shop: CurrentShop = serde_json::from_str(r#"{"id":"12"}"#).unwrap();
        assert_eq!((shop.name.as_str(), shop.kind.as_str()), ("", ""));
    }

    #[test]
    fn current_shop_without_a_valid_id_is_refused() {
        for bad in [
            r#"{"name":"x"}"#,
            r#"{"id":"0"}"#,
            r#"{"id":1.5e3}"#,
            r#"{"id":"abc"}"#,
        ] {
            assert!(serde_json::from_str::<CurrentShop>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn current_account_accepts_a_string_or_a_numeric_id() {
        let a: CurrentAccount = serde_json::from_str(
            r#"{"id":"1052570182707778180","name":"Partner","type":"partner","x":1}"#,
        )
        .unwrap();
        assert_eq!(a.id, "1052570182707778180");
        assert_eq!(a.kind, "partner");
        let a: CurrentAccount =
            serde_json::from_str(r#"{"id":1052570182707778180,"name":"P","type":"partner"}"#)
                .unwrap();
        assert_eq!(a.id, "1052570182707778180");
        assert!(serde_json::from_str::<CurrentAccount>(r#"{"id":1.5}"#).is_err());
        assert!(serde_json::from_str::<CurrentAccount>(r#"{"name":"P"}"#).is_err());
    }

    #[test]
    fn an_authorize_request_leaves_out_empty_fields_and_sends_the_id_as_a_string() {
        let req = AuthorizeShopRequest {
            shop_id: Some(ShopId::parse("1052570182707778180").unwrap()),
            redirect_url: Some("http://127.0.0.1:8080/cb?token=T".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"shop_id":"1052570182707778180","redirect_url":"http://127.0.0.1:8080/cb?token=T"}"#
        );
        assert_eq!(
            serde_json::to_string(&AuthorizeShopRequest::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn an_authorize_request_debug_hides_the_callback_token() {
        let req = AuthorizeShopRequest {
            email: Some("a@b.vn".into()),
            redirect_url: Some("https://app.example.vn/its/callback?token=CALLBACKSECRET".into()),
            ..Default::default()
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains("CALLBACKSECRET"), "{debug}");
        assert!(
            debug.contains("https://app.example.vn/its/callback?…"),
            "{debug}"
        );
    }

    #[test]
    fn the_api_key_debug_shows_only_the_last_four_characters() {
        let key = ApiKey::new("partner-api-key-0123456789wxyz".into());
        assert_eq!(format!("{key:?}"), "ApiKey(****wxyz)");
        assert_eq!(key.masked(), "****wxyz");
        assert_eq!(key.expose_secret(), "partner-api-key-0123456789wxyz");
        assert_eq!(format!("{:?}", ApiKey::new("short".into())), "ApiKey(****)");
    }
}
