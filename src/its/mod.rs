//! The client for the ITS partner API, as the provider's contract describes it.
//!
//! Every call is `POST {base_url}.{Service}/{Method}` with a JSON body and a Bearer key:
//! the partner api_key for `Shop/AuthorizeShop` and `Misc/CurrentAccount`, a shop key for
//! `Shop/CurrentShop` and the `Zalo/*` methods (`zalo.rs`). The client never follows
//! redirects, keeps no cookies, caps the body size, and retries only the read-only calls, once. No key, token or callback URL query
//! reaches a log line, a `Debug` print or an error message.
//!
//! Knows nothing of the database or the web.

mod client;
mod error;
pub mod prefill;
mod redact;
mod types;
mod zalo;

pub use client::{ItsClient, ItsClientSettings};
pub use error::{ErrorCode, ItsError, ProviderError};
pub use redact::redact_url;
pub use types::{ApiKey, Authorization, AuthorizeShopRequest, CurrentAccount, CurrentShop};
pub use zalo::{
    AppId, AuthorizeOaRequest, ConnectOaRequest, ConnectionMethod, DeliveryStatus, ListOaFilter,
    ListOaRequest, ListTemplatesFilter, ListTemplatesRequest, OaId, OaList, OaPermissionUrl,
    OaStatus, Paging, PagingAnswer, Quality, RefreshTokenRequest, SendZnsRequest, TemplateList,
    TemplateParam, UpdateShopOaRequest, ZaloAppSecret, ZaloCode, ZaloOa, ZaloState, ZaloValueError,
    ZnsMessage, ZnsMode, ZnsTemplate,
};
