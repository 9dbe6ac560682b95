//! The use cases: where the ITS client and the store meet. Each function here keeps the
//! rule "no transaction open across an ITS call": it reads, commits, calls ITS, then writes
//! the outcome in one short transaction.

pub mod accounts;
pub mod connect;
pub mod connect_links;
pub mod jobs;
pub mod login_throttle;
pub mod maintenance;
pub mod service_keys;
pub mod sessions;
pub mod shops;
pub mod verify;
pub mod webhooks;
pub mod zalo_oa;

use sqlx::SqlitePool;
use url::Url;

use crate::crypto::KeySealer;
use crate::its::ItsClient;

/// What the use cases need, built once by `startup`.
#[derive(Clone)]
pub struct Services {
    pub db: SqlitePool,
    /// The admin's expensive reads (shop list, search, export): a small pool of its own
    /// whose statements stop after `store::READ_STATEMENT_LIMIT` (see `store::connect_reader`).
    pub read_db: SqlitePool,
    pub its: ItsClient,
    pub sealer: KeySealer,
    /// The app's public base URL (`PUBLIC_URL`): `redirect_url` is built from it only.
    pub public_url: Url,
    /// Hosts the browser may be sent to for the ITS login.
    pub auth_hosts: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (login throttling).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The JSON API, connect links and webhooks: allow-list, rate limit, delivery timing.
    pub api: crate::configuration::ApiSettings,
    /// The partner's set-up at ITS: white-label or not, token or fixed `redirect_url`.
    pub its_partner: crate::configuration::ItsPartnerSettings,
    /// Sessions read moments ago (see `store::sessions::SessionCache`).
    pub sessions: std::sync::Arc<crate::store::sessions::SessionCache>,
    /// Password hashing and checking, a few at a time.
    pub passwords: crate::password::Hasher,
    /// The partner's Zalo app from the environment (or sandbox mode's), and the hosts
    /// Zalo's permission page may be on.
    pub zalo: crate::configuration::ZaloSettings,
}

/// An error a use case cannot turn into an outcome: the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Who caused a change, as written to a shop's history.
pub fn user_actor(user_id: uuid::Uuid) -> String {
    format!("user:{user_id}")
}
