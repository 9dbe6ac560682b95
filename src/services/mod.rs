//! The use cases: where the ITS client and the store meet. Each function here keeps the
//! rule "no transaction open across an ITS call": it reads, commits, calls ITS, then writes
//! the outcome in one short transaction.

pub mod accounts;
pub mod connect;
pub mod connect_links;
pub mod jobs;
pub mod login_throttle;
pub mod maintenance;
pub mod reasons;
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
    /// The admin's expensive reads (shop list, search, export): connections of their own
    /// whose every use stops after `store::READ_STATEMENT_LIMIT` (`store::read_pool`).
    pub read_db: crate::store::read_pool::ReadPool,
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
    #[error("refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Why a use case refused to act (nothing was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The user has too many connection attempts waiting for a callback.
    TooManyAttempts,
    /// The shop's state changed between reading it and writing the change.
    ShopChangedMeanwhile,
    /// The shop has no connection to end.
    NothingToDisconnect,
    /// A new password breaks a rule.
    WeakPassword(crate::password::PasswordProblem),
}

impl Refusal {
    /// What the person is told.
    pub fn msg_key(self) -> crate::i18n::MsgKey {
        use crate::i18n::MsgKey;
        match self {
            Refusal::TooManyAttempts => MsgKey::error_too_many_attempts,
            Refusal::ShopChangedMeanwhile => MsgKey::error_shop_changed_meanwhile,
            Refusal::NothingToDisconnect => MsgKey::error_nothing_to_disconnect,
            Refusal::WeakPassword(problem) => problem.msg_key(),
        }
    }
}

/// Who caused a change, as written to a shop's history.
pub fn user_actor(user_id: uuid::Uuid) -> String {
    format!("user:{user_id}")
}
