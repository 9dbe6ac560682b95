//! The shop's Zalo Official Account, connected through ITS with the shop key (issue 12):
//! which Zalo app asks, starting a grant ("Kết nối Zalo OA", "Gia hạn"), Zalo's callback,
//! the app settings, and the test message.
//!
//! The rule of `services` holds: read, commit, call ITS, then write the outcome in one
//! short transaction. ITS's `state` is stored only as its SHA-256, bound to the shop, the
//! user and the session; Zalo's `code` only as its SHA-256. Neither is ever logged.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::{ServiceError, Services};
use crate::crypto::token_hash;
use crate::domain::{ConnectionState, Phone, ShopKey};
use crate::its::{
    AppId, AuthorizeOaRequest, ConnectOaRequest, ErrorCode, ItsError, ListOaFilter, ListOaRequest,
    ListTemplatesFilter, ListTemplatesRequest, OaId, RefreshTokenRequest, SendZnsRequest,
    ZaloAppSecret, ZaloCode, ZaloOa, ZaloState, ZnsMessage, ZnsMode, ZnsTemplate,
};
use crate::store::zalo_oas::{OaEventKind, StoredOa, UpsertError};
use crate::store::{self, shops, zalo_apps, zalo_grants, zalo_oas};

/// A grant lives as long as ITS's `state` (15 minutes).
pub const GRANT_TTL_MS: i64 = 15 * 60 * 1000;
/// "Gia hạn" is offered from this long before the refresh token expires (and after).
pub const RENEW_WINDOW_MS: i64 = 14 * 86_400 * 1000;

/// Everything that can stop the OA step, each with its own words and next step (the web
/// layer maps each to catalogue entries in one match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaFailure {
    /// No Zalo app: neither the shop's own nor the partner's.
    NoApp,
    /// A stored app secret does not open (wrong SECRET_KEY or an altered row).
    AppUnreadable,
    /// The shop has no working ITS link (not connected, or its key is unreadable).
    ShopNotConnected,
    /// ITS refused the shop key (401): the ITS link now needs re-auth.
    KeyRejected,
    /// ITS/Zalo did not accept the app (id, secret) or our callback URL.
    AppRefused,
    /// The permission page is not on an allowed Zalo host: the browser was not sent there.
    HostRefused,
    /// ITS did not answer in time, could not be reached or had trouble.
    ItsDown,
    /// ITS answered something outside the contract.
    ItsBadAnswer,
    /// The OA's admin pressed "Từ chối" on Zalo's page.
    Denied,
    /// The callback's query is not what Zalo sends.
    CallbackMalformed,
    /// No grant has this `state` (never ours, or long gone).
    StateUnknown,
    /// The grant was already used.
    StateUsed,
    /// The grant ran out (15 minutes).
    StateExpired,
    /// The grant belongs to another user or another live session.
    StateForeign,
    /// This `code` was already presented.
    CodeReused,
    /// A renewal came back with another OA than the one renewed.
    RenewOtherOa,
    /// The OA is connected to another shop here, or ITS names another ITS shop.
    OaOfAnotherShop,
    /// ITS refused the code/state exchange (`invalid_argument` on ConnectOA).
    ConnectRefused,
    /// The OA has no paid OA package (`failed_precondition`).
    NoPackage,
    /// The OA is not (or no longer) connected to this shop at ITS.
    OaNotFound,
    /// "Gia hạn" before the renewal window.
    RenewNotDue,
    /// The OA has used today's ZNS quota.
    QuotaExhausted,
    /// The OA is disconnected at Zalo.
    OaDisconnected,
    /// The OA's refresh token expired: renew first.
    OaExpired,
    /// The template is not (or no longer) approved.
    TemplateUnavailable,
    /// ITS refused the message (`invalid_argument` on SendZNS): its words are quoted.
    SendRefused,
    /// Zalo took the message but reported an error code.
    SendFailed,
    /// Any other refusal ITS gave.
    ItsRefused,
}

impl OaFailure {
    const ALL: [OaFailure; 28] = [
        OaFailure::NoApp,
        OaFailure::AppUnreadable,
        OaFailure::ShopNotConnected,
        OaFailure::KeyRejected,
        OaFailure::AppRefused,
        OaFailure::HostRefused,
        OaFailure::ItsDown,
        OaFailure::ItsBadAnswer,
        OaFailure::Denied,
        OaFailure::CallbackMalformed,
        OaFailure::StateUnknown,
        OaFailure::StateUsed,
        OaFailure::StateExpired,
        OaFailure::StateForeign,
        OaFailure::CodeReused,
        OaFailure::RenewOtherOa,
        OaFailure::OaOfAnotherShop,
        OaFailure::ConnectRefused,
        OaFailure::NoPackage,
        OaFailure::OaNotFound,
        OaFailure::RenewNotDue,
        OaFailure::QuotaExhausted,
        OaFailure::OaDisconnected,
        OaFailure::OaExpired,
        OaFailure::TemplateUnavailable,
        OaFailure::SendRefused,
        OaFailure::SendFailed,
        OaFailure::ItsRefused,
    ];

    /// A stable name: in the shop page's URL after a redirect, in the OA history and logs.
    pub fn code(self) -> &'static str {
        match self {
            OaFailure::NoApp => "no_app",
            OaFailure::AppUnreadable => "app_unreadable",
            OaFailure::ShopNotConnected => "shop_not_connected",
            OaFailure::KeyRejected => "key_rejected",
            OaFailure::AppRefused => "app_refused",
            OaFailure::HostRefused => "host_refused",
            OaFailure::ItsDown => "its_down",
            OaFailure::ItsBadAnswer => "its_bad_answer",
            OaFailure::Denied => "denied",
            OaFailure::CallbackMalformed => "callback_malformed",
            OaFailure::StateUnknown => "state_unknown",
            OaFailure::StateUsed => "state_used",
            OaFailure::StateExpired => "state_expired",
            OaFailure::StateForeign => "state_foreign",
            OaFailure::CodeReused => "code_reused",
            OaFailure::RenewOtherOa => "renew_other_oa",
            OaFailure::OaOfAnotherShop => "oa_of_another_shop",
            OaFailure::ConnectRefused => "connect_refused",
            OaFailure::NoPackage => "no_package",
            OaFailure::OaNotFound => "oa_not_found",
            OaFailure::RenewNotDue => "renew_not_due",
            OaFailure::QuotaExhausted => "quota_exhausted",
            OaFailure::OaDisconnected => "oa_disconnected",
            OaFailure::OaExpired => "oa_expired",
            OaFailure::TemplateUnavailable => "template_unavailable",
            OaFailure::SendRefused => "send_refused",
            OaFailure::SendFailed => "send_failed",
            OaFailure::ItsRefused => "its_refused",
        }
    }

    pub fn parse(code: &str) -> Option<OaFailure> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Maps an ITS error of a Zalo call made with the shop key. `on_invalid` is what an
    /// `invalid_argument` means for this method; `failed_precondition` is a missing package
    /// unless the caller looks closer (`SendZNS`).
    fn from_its(err: &ItsError, on_invalid: OaFailure) -> OaFailure {
        match err {
            ItsError::Provider(p) => match p.code {
                ErrorCode::Unauthenticated => OaFailure::KeyRejected,
                ErrorCode::InvalidArgument => on_invalid,
                ErrorCode::FailedPrecondition => OaFailure::NoPackage,
                ErrorCode::NotFound | ErrorCode::PermissionDenied => OaFailure::OaNotFound,
                ErrorCode::ProviderTrouble => OaFailure::ItsDown,
                ErrorCode::AccountClosed => OaFailure::KeyRejected,
                ErrorCode::AlreadyExists | ErrorCode::Unknown => OaFailure::ItsRefused,
            },
            ItsError::Timeout | ItsError::Connect => OaFailure::ItsDown,
            ItsError::UnexpectedStatus { status } if *status >= 500 => OaFailure::ItsDown,
            ItsError::UnexpectedStatus { .. }
            | ItsError::MalformedBody { .. }
            | ItsError::BodyTooLarge
            | ItsError::Config(_) => OaFailure::ItsBadAnswer,
        }
    }
}

/// A failure and, when ITS refused, its own `msg` (the only text ever shown as the
/// provider's words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaError {
    pub failure: OaFailure,
    pub provider_msg: Option<String>,
}

impl OaError {
    fn new(failure: OaFailure) -> OaError {
        OaError {
            failure,
            provider_msg: None,
        }
    }

    fn from_its(err: &ItsError, on_invalid: OaFailure) -> OaError {
        OaError {
            failure: OaFailure::from_its(err, on_invalid),
            provider_msg: err
                .provider()
                .map(|p| p.msg.trim().to_owned())
                .filter(|m| !m.is_empty()),
        }
    }

    /// The history's `reason`: the stable name and, after ': ', the provider's words.
    fn reason(&self) -> String {
        match &self.provider_msg {
            Some(msg) => format!(
                "{}: {}",
                self.failure.code(),
                msg.chars().take(300).collect::<String>()
            ),
            None => self.failure.code().to_owned(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The Zalo app
// ---------------------------------------------------------------------------------------

/// Where the app a shop uses comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppSource {
    /// The shop's own app, typed by its owner.
    Shop,
    /// `ZALO_APP_ID`/`ZALO_APP_SECRET`.
    Environment,
    /// Saved on /admin/settings.
    Saved,
    /// Sandbox mode's made-up app.
    Sandbox,
}

/// An app with its secret, ready for `AuthorizeOA`.
pub struct ResolvedApp {
    pub app_id: AppId,
    pub secret: ZaloAppSecret,
    /// The `zalo_apps` row (None for the environment's or the sandbox's app).
    pub row_id: Option<Uuid>,
    pub source: AppSource,
}

fn open_app(
    svc: &Services,
    row: &zalo_apps::StoredApp,
) -> Result<(AppId, ZaloAppSecret), OaFailure> {
    let secret = svc
        .sealer
        .open_zalo_app_secret(&row.sealed_secret(), row.id, row.shop_id)
        .map_err(|err| {
            tracing::error!(app_row = %row.id, error = %err, "a stored Zalo app secret does not open");
            OaFailure::AppUnreadable
        })?;
    let app_id = AppId::parse(&row.app_id).map_err(|_| OaFailure::AppUnreadable)?;
    Ok((app_id, secret))
}

/// The partner's app: the environment's, else the saved one, else (sandbox) the made-up one.
pub async fn partner_app(svc: &Services) -> Result<Result<ResolvedApp, OaFailure>, ServiceError> {
    if let Some((app_id, secret)) = &svc.zalo.app {
        return Ok(Ok(ResolvedApp {
            app_id: app_id.clone(),
            secret: secret.clone(),
            row_id: None,
            source: AppSource::Environment,
        }));
    }
    if let Some(row) = zalo_apps::partner(&svc.db).await? {
        return Ok(open_app(svc, &row).map(|(app_id, secret)| ResolvedApp {
            app_id,
            secret,
            row_id: Some(row.id),
            source: AppSource::Saved,
        }));
    }
    Ok(match &svc.zalo.sandbox_app {
        Some((app_id, secret)) => Ok(ResolvedApp {
            app_id: app_id.clone(),
            secret: secret.clone(),
            row_id: None,
            source: AppSource::Sandbox,
        }),
        None => Err(OaFailure::NoApp),
    })
}

/// The app this shop connects with: its own if its owner entered one, else the partner's.
pub async fn app_for_shop(
    svc: &Services,
    shop_id: Uuid,
) -> Result<Result<ResolvedApp, OaFailure>, ServiceError> {
    if let Some(row) = zalo_apps::for_shop(&svc.db, shop_id).await? {
        return Ok(open_app(svc, &row).map(|(app_id, secret)| ResolvedApp {
            app_id,
            secret,
            row_id: Some(row.id),
            source: AppSource::Shop,
        }));
    }
    partner_app(svc).await
}

/// What the partner-app form on /admin/settings may show (never the secret).
pub struct PartnerAppView {
    pub app_id: Option<String>,
    pub source: Option<AppSource>,
}

pub async fn partner_app_view(svc: &Services) -> Result<PartnerAppView, ServiceError> {
    if let Some((app_id, _)) = &svc.zalo.app {
        return Ok(PartnerAppView {
            app_id: Some(app_id.to_string()),
            source: Some(AppSource::Environment),
        });
    }
    if let Some(row) = zalo_apps::partner(&svc.db).await? {
        return Ok(PartnerAppView {
            app_id: Some(row.app_id),
            source: Some(AppSource::Saved),
        });
    }
    Ok(PartnerAppView {
        app_id: svc.zalo.sandbox_app.as_ref().map(|(id, _)| id.to_string()),
        source: svc.zalo.sandbox_app.as_ref().map(|_| AppSource::Sandbox),
    })
}

/// Why an app id/secret typed into a form was refused (the field's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppFormError {
    AppId,
    Secret,
    /// Set by the environment: the form cannot change it.
    FromEnvironment,
}

fn parse_app_form(app_id: &str, secret: &str) -> Result<(AppId, ZaloAppSecret), Vec<AppFormError>> {
    let id = AppId::parse(app_id.trim());
    let secret = ZaloAppSecret::parse(secret);
    match (id, secret) {
        (Ok(id), Ok(secret)) => Ok((id, secret)),
        (id, secret) => Err([
            id.is_err().then_some(AppFormError::AppId),
            secret.is_err().then_some(AppFormError::Secret),
        ]
        .into_iter()
        .flatten()
        .collect()),
    }
}

/// Saves the partner's app (sealed, bound to its row); replaces the one saved before.
pub async fn save_partner_app(
    svc: &Services,
    admin_id: Uuid,
    app_id: &str,
    secret: &str,
) -> Result<Result<(), Vec<AppFormError>>, ServiceError> {
    if svc.zalo.app.is_some() {
        return Ok(Err(vec![AppFormError::FromEnvironment]));
    }
    let (app_id, secret) = match parse_app_form(app_id, secret) {
        Ok(pair) => pair,
        Err(errors) => return Ok(Err(errors)),
    };
    store_app(svc, None, &app_id, &secret).await?;
    tracing::info!(admin = %admin_id, app_id = %app_id, "the partner's Zalo app was saved");
    Ok(Ok(()))
}

/// Stores the partner's app (`shop_id` None) or a shop's own, in one write: the row keeps
/// its id when it exists, and the secret is sealed to that row (and shop).
async fn store_app(
    svc: &Services,
    shop_id: Option<Uuid>,
    app_id: &AppId,
    secret: &ZaloAppSecret,
) -> Result<(), ServiceError> {
    let now = store::now_ms();
    let mut tx = store::begin_write(&svc.db).await?;
    let existing = match shop_id {
        None => zalo_apps::partner(&mut *tx).await?,
        Some(shop_id) => zalo_apps::for_shop(&mut *tx, shop_id).await?,
    };
    let row_id = existing.map_or_else(Uuid::new_v4, |r| r.id);
    let sealed = svc.sealer.seal_zalo_app_secret(secret, row_id, shop_id);
    zalo_apps::set(&mut *tx, row_id, shop_id, app_id.as_str(), &sealed, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Saves a shop's own app (its owner only).
pub async fn save_shop_app(
    svc: &Services,
    user_id: Uuid,
    shop_id: Uuid,
    app_id: &str,
    secret: &str,
) -> Result<Result<(), Vec<AppFormError>>, ServiceError> {
    shops::find_for_owner(&svc.db, shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (app_id, secret) = match parse_app_form(app_id, secret) {
        Ok(pair) => pair,
        Err(errors) => return Ok(Err(errors)),
    };
    store_app(svc, Some(shop_id), &app_id, &secret).await?;
    tracing::info!(shop = %shop_id, app_id = %app_id, "a shop's own Zalo app was saved");
    Ok(Ok(()))
}

/// Forgets a shop's own app: the shop uses the partner's app again.
pub async fn remove_shop_app(
    svc: &Services,
    user_id: Uuid,
    shop_id: Uuid,
) -> Result<(), ServiceError> {
    shops::find_for_owner(&svc.db, shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    zalo_apps::delete_for_shop(&svc.db, shop_id).await?;
    Ok(())
}

/// "Kiểm tra" on /admin/settings: one `AuthorizeOA` with the partner's app and the key of
/// a connected shop. The grant it opens at ITS is never used (it expires there).
pub enum AppCheck {
    Accepted,
    /// No connected shop whose key opens: nothing to ask ITS with.
    NoConnectedShop,
    Failed(OaError),
}

pub async fn check_partner_app(svc: &Services) -> Result<AppCheck, ServiceError> {
    let app = match partner_app(svc).await? {
        Ok(app) => app,
        Err(failure) => return Ok(AppCheck::Failed(OaError::new(failure))),
    };
    let mut key = None;
    for id in zalo_apps::connected_shop_ids(&svc.db, 20).await? {
        let Some(row) = shops::find(&svc.db, id).await? else {
            continue;
        };
        if let super::shops::StoredKey::Readable(k) = super::shops::stored_key(&svc.sealer, &row) {
            key = Some(k);
            break;
        }
    }
    let Some(key) = key else {
        return Ok(AppCheck::NoConnectedShop);
    };
    let request = AuthorizeOaRequest {
        app_id: app.app_id,
        app_secret: app.secret,
        redirect_uri: callback_url(svc),
    };
    Ok(match svc.its.zalo_authorize_oa(&key, &request).await {
        Ok(_) => AppCheck::Accepted,
        Err(err) => {
            tracing::warn!(error = %err, "the partner's Zalo app check failed");
            AppCheck::Failed(OaError::from_its(&err, OaFailure::AppRefused))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Starting a grant
// ---------------------------------------------------------------------------------------

/// Our callback: the app's "Official Account Callback Url" on Zalo's site.
pub fn callback_url(svc: &Services) -> String {
    svc.public_url
        .join("zalo/callback")
        .map(String::from)
        .unwrap_or_else(|_| format!("{}zalo/callback", svc.public_url))
}

pub enum StartOutcome {
    /// Send the browser to Zalo's permission page.
    GoToZalo {
        url: String,
    },
    Failed(OaError),
}

/// A connected shop of this owner and its readable key, or why not.
async fn shop_and_key(
    svc: &Services,
    user_id: Uuid,
    shop_id: Uuid,
) -> Result<Result<(shops::ShopRow, ShopKey), OaFailure>, ServiceError> {
    let shop = shops::find_for_owner(&svc.db, shop_id, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    match shop.state() {
        ConnectionState::Connected => {}
        ConnectionState::NeedsReauth => return Ok(Err(OaFailure::KeyRejected)),
        _ => return Ok(Err(OaFailure::ShopNotConnected)),
    }
    Ok(match super::shops::stored_key(&svc.sealer, &shop) {
        super::shops::StoredKey::Readable(key) => Ok((shop, key)),
        _ => Err(OaFailure::ShopNotConnected),
    })
}

/// A 401 on a Zalo call: the shop key stopped working. The shop's ITS link is re-checked
/// exactly as verification does it (`needs_reauth`, or closed), so the shop page says so.
async fn key_rejected(svc: &Services, shop_id: Uuid, actor: &str) -> Result<(), ServiceError> {
    let outcome = super::verify::verify_shop(svc, shop_id, actor).await?;
    tracing::info!(shop = %shop_id, ?outcome, "a Zalo call was refused with the shop key; the link was re-checked");
    Ok(())
}

/// Starting a grant failed: recorded (`connect_failed`) and answered as the failure.
async fn start_failed(
    svc: &Services,
    shop_id: Uuid,
    renew: Option<&str>,
    actor: &str,
    error: OaError,
) -> Result<StartOutcome, ServiceError> {
    let error = failed(
        svc,
        shop_id,
        renew,
        actor,
        OaEventKind::ConnectFailed,
        error,
    )
    .await?;
    Ok(StartOutcome::Failed(error))
}

/// Records a failed step in the OA history and answers it.
async fn failed(
    svc: &Services,
    shop_id: Uuid,
    oa_id: Option<&str>,
    actor: &str,
    kind: OaEventKind,
    error: OaError,
) -> Result<OaError, ServiceError> {
    if error.failure == OaFailure::KeyRejected {
        key_rejected(svc, shop_id, actor).await?;
    }
    let mut tx = store::begin_write(&svc.db).await?;
    zalo_oas::record_event(
        &mut *tx,
        shop_id,
        oa_id,
        store::now_ms(),
        actor,
        kind,
        Some(&error.reason()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(shop = %shop_id, failure = error.failure.code(), "Zalo OA step failed");
    Ok(error)
}

/// "Kết nối Zalo OA" (`renew` None) or "Gia hạn" (`renew` the OA): asks ITS for Zalo's
/// permission page with the shop key, stores the grant, and answers where to send the
/// browser — only to an allowed Zalo host.
pub async fn start(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    shop_id: Uuid,
    renew: Option<&str>,
    actor: &str,
) -> Result<StartOutcome, ServiceError> {
    let (shop, key) = match shop_and_key(svc, user_id, shop_id).await? {
        Ok(pair) => pair,
        Err(failure) => return Ok(StartOutcome::Failed(OaError::new(failure))),
    };
    let renewing = match renew {
        None => None,
        Some(oa_id) => {
            let oa = zalo_oas::find(&svc.db, shop.id, oa_id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if !renewal_due(&oa, store::now_ms()) {
                return Ok(StartOutcome::Failed(OaError::new(OaFailure::RenewNotDue)));
            }
            Some(OaId::parse(&oa.oa_id).map_err(|_| ServiceError::NotFound)?)
        }
    };
    let app = match app_for_shop(svc, shop.id).await? {
        Ok(app) => app,
        Err(failure) => {
            return start_failed(svc, shop.id, renew, actor, OaError::new(failure)).await;
        }
    };
    let answer = match &renewing {
        None => {
            let request = AuthorizeOaRequest {
                app_id: app.app_id.clone(),
                app_secret: app.secret.clone(),
                redirect_uri: callback_url(svc),
            };
            svc.its
                .zalo_authorize_oa(&key, &request)
                .await
                .map_err(|e| OaError::from_its(&e, OaFailure::AppRefused))
        }
        Some(oa_id) => svc
            .its
            .zalo_refresh_token(
                &key,
                &RefreshTokenRequest {
                    oa_id: oa_id.clone(),
                },
            )
            .await
            .map_err(|e| OaError::from_its(&e, OaFailure::AppRefused)),
    };
    let url = match answer {
        Ok(answer) => answer.url,
        Err(error) => {
            return start_failed(svc, shop.id, renew, actor, error).await;
        }
    };
    if !super::connect::auth_url_allowed(&url, &svc.zalo.oauth_hosts) {
        tracing::warn!(shop = %shop.id, url = %crate::its::redact_url(&url), "ITS sent a Zalo permission page outside ZALO_OAUTH_HOSTS; refused");
        return start_failed(
            svc,
            shop.id,
            renew,
            actor,
            OaError::new(OaFailure::HostRefused),
        )
        .await;
    }
    let state = url::Url::parse(&url).ok().and_then(|u| {
        let states: Vec<String> = u
            .query_pairs()
            .filter(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .collect();
        match states.as_slice() {
            [one] => ZaloState::parse(one).ok(),
            _ => None,
        }
    });
    let Some(state) = state else {
        return start_failed(
            svc,
            shop.id,
            renew,
            actor,
            OaError::new(OaFailure::ItsBadAnswer),
        )
        .await;
    };
    let now = store::now_ms();
    // Grants nobody came back with end here (the callback refuses them anyway).
    zalo_grants::expire(&svc.db, now).await?;
    zalo_grants::insert(
        &svc.db,
        &zalo_grants::NewGrant {
            shop_id: shop.id,
            user_id,
            session_hash,
            state_hash: &token_hash(state.expose_secret()),
            app_row_id: app.row_id,
            app_id: app.app_id.as_str(),
            renew_oa_id: renewing.as_ref().map(OaId::as_str),
            expires_at: now + GRANT_TTL_MS,
        },
        now,
    )
    .await?;
    tracing::info!(shop = %shop.id, renew = renewing.is_some(), "sending the owner to Zalo's OA permission page");
    Ok(StartOutcome::GoToZalo { url })
}

/// Whether "Gia hạn" is offered: from `RENEW_WINDOW_MS` before the expiry, and after it.
pub fn renewal_due(oa: &StoredOa, now: i64) -> bool {
    oa.expires_at.is_some_and(|at| at - now <= RENEW_WINDOW_MS)
}

// ---------------------------------------------------------------------------------------
// The callback
// ---------------------------------------------------------------------------------------

/// What Zalo sent back, parsed.
pub enum CallbackQuery {
    Allowed {
        code: ZaloCode,
        oa_id: OaId,
        state: ZaloState,
    },
    /// "Từ chối" (`error=…`), with the `state` when there is one.
    Denied { state: Option<ZaloState> },
}

/// Exactly one `code`, `oa_id` and `state`; or an `error` (a denial). Anything else is malformed.
pub fn parse_callback(query: &str) -> Option<CallbackQuery> {
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        seen.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    let one = |name: &str| match seen.get(name).map(Vec::as_slice) {
        Some([v]) => Some(v.as_str()),
        _ => None,
    };
    if seen.contains_key("error") {
        let state = match seen.get("state").map(Vec::as_slice) {
            None => None,
            Some([v]) => Some(ZaloState::parse(v).ok()?),
            Some(_) => return None,
        };
        return Some(CallbackQuery::Denied { state });
    }
    Some(CallbackQuery::Allowed {
        code: ZaloCode::parse(one("code")?).ok()?,
        oa_id: OaId::parse(one("oa_id")?).ok()?,
        state: ZaloState::parse(one("state")?).ok()?,
    })
}

/// How the callback ended: where to send the owner (their shop's page, when the grant was
/// theirs) and what happened.
pub struct CallbackOutcome {
    pub shop_id: Option<Uuid>,
    pub result: Result<Connected, OaError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connected {
    Connected,
    Renewed,
}

impl Connected {
    pub fn code(self) -> &'static str {
        match self {
            Connected::Connected => "connected",
            Connected::Renewed => "renewed",
        }
    }
}

fn outcome(shop_id: Option<Uuid>, failure: OaFailure) -> CallbackOutcome {
    CallbackOutcome {
        shop_id,
        result: Err(OaError::new(failure)),
    }
}

/// Why a grant could not be consumed, told only to the user who started it.
async fn why_not_consumed(
    svc: &Services,
    state_hash: &str,
    user_id: Uuid,
    now: i64,
) -> Result<CallbackOutcome, ServiceError> {
    Ok(match zalo_grants::lookup(&svc.db, state_hash).await? {
        None => outcome(None, OaFailure::StateUnknown),
        // Another user's grant: nothing about it (not even the shop) is revealed.
        Some(g) if g.user_id != user_id => outcome(None, OaFailure::StateForeign),
        Some(g) if g.status != "pending" => outcome(Some(g.shop_id), OaFailure::StateUsed),
        Some(g) if g.expires_at <= now => outcome(Some(g.shop_id), OaFailure::StateExpired),
        Some(g) => outcome(Some(g.shop_id), OaFailure::StateForeign),
    })
}

/// `GET /zalo/callback`: consumes the grant, exchanges the code with `ConnectOA` (no
/// transaction open across it), checks that the OA is this shop's, stores it with its event.
pub async fn callback(
    svc: &Services,
    user_id: Uuid,
    session_hash: &str,
    query: CallbackQuery,
    actor: &str,
) -> Result<CallbackOutcome, ServiceError> {
    let now = store::now_ms();
    let (code, oa_id, state) = match query {
        CallbackQuery::Denied { state } => {
            let Some(state) = state else {
                return Ok(outcome(None, OaFailure::Denied));
            };
            let hash = token_hash(state.expose_secret());
            return Ok(
                match zalo_grants::fail_pending(&svc.db, &hash, user_id, "denied", now).await? {
                    Some(shop_id) => {
                        let error = failed(
                            svc,
                            shop_id,
                            None,
                            actor,
                            OaEventKind::ConnectFailed,
                            OaError::new(OaFailure::Denied),
                        )
                        .await?;
                        CallbackOutcome {
                            shop_id: Some(shop_id),
                            result: Err(error),
                        }
                    }
                    None => why_not_consumed(svc, &hash, user_id, now).await?,
                },
            );
        }
        CallbackQuery::Allowed { code, oa_id, state } => (code, oa_id, state),
    };
    let state_hash = token_hash(state.expose_secret());
    let code_hash = token_hash(code.expose_secret());
    let grant =
        match zalo_grants::consume(&svc.db, &state_hash, user_id, session_hash, &code_hash, now)
            .await
        {
            Ok(Some(grant)) => grant,
            Ok(None) => return why_not_consumed(svc, &state_hash, user_id, now).await,
            Err(err) if store::is_unique_violation(&err, "code_hash") => {
                let shop = zalo_grants::lookup(&svc.db, &state_hash)
                    .await?
                    .filter(|g| g.user_id == user_id)
                    .map(|g| g.shop_id);
                return Ok(outcome(shop, OaFailure::CodeReused));
            }
            Err(err) => return Err(err.into()),
        };
    let shop_id = grant.shop_id;
    let (grant_id, oa_text) = (grant.id, oa_id.as_str().to_owned());
    let end = |failure: OaFailure| async move {
        zalo_grants::finish(&svc.db, grant_id, false, failure.code()).await?;
        let error = failed(
            svc,
            shop_id,
            Some(&oa_text),
            actor,
            OaEventKind::ConnectFailed,
            OaError::new(failure),
        )
        .await?;
        Ok::<_, ServiceError>(CallbackOutcome {
            shop_id: Some(shop_id),
            result: Err(error),
        })
    };
    if grant
        .renew_oa_id
        .as_deref()
        .is_some_and(|renewed| renewed != oa_id.as_str())
    {
        return end(OaFailure::RenewOtherOa).await;
    }
    if zalo_oas::belongs_to_other_shop(&svc.db, shop_id, oa_id.as_str()).await? {
        return end(OaFailure::OaOfAnotherShop).await;
    }
    let (shop, key) = match shop_and_key(svc, user_id, shop_id).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(failure)) => return end(failure).await,
        Err(ServiceError::NotFound) => return end(OaFailure::ShopNotConnected).await,
        Err(e) => return Err(e),
    };
    let request = ConnectOaRequest {
        code,
        oa_id: oa_id.clone(),
        state,
    };
    let oa = match svc.its.zalo_connect_oa(&key, &request).await {
        Ok(oa) => oa,
        Err(err) => {
            tracing::warn!(shop = %shop.id, error = %err, "ConnectOA failed");
            let error = OaError::from_its(&err, OaFailure::ConnectRefused);
            zalo_grants::finish(&svc.db, grant.id, false, error.failure.code()).await?;
            let error = failed(
                svc,
                shop.id,
                Some(oa_id.as_str()),
                actor,
                OaEventKind::ConnectFailed,
                error,
            )
            .await?;
            return Ok(CallbackOutcome {
                shop_id: Some(shop.id),
                result: Err(error),
            });
        }
    };
    if oa.oa_id != oa_id {
        return end(OaFailure::ItsBadAnswer).await;
    }
    if oa
        .shop_id
        .is_some_and(|its| Some(its.get()) != shop.its_shop_id)
    {
        tracing::warn!(shop = %shop.id, "ConnectOA answered an OA of another ITS shop; refused");
        return end(OaFailure::OaOfAnotherShop).await;
    }
    let now = store::now_ms();
    let mut tx = store::begin_write(&svc.db).await?;
    let change = match zalo_oas::upsert(&mut tx, shop.id, &oa, now).await {
        Ok(change) => change,
        Err(UpsertError::OtherShop) => {
            drop(tx);
            return end(OaFailure::OaOfAnotherShop).await;
        }
        Err(UpsertError::Db(e)) => return Err(e.into()),
    };
    let connected = if grant.renew_oa_id.is_some() || !change.is_new() {
        Connected::Renewed
    } else {
        Connected::Connected
    };
    let kind = match connected {
        Connected::Connected => OaEventKind::Connected,
        Connected::Renewed => OaEventKind::Renewed,
    };
    zalo_oas::record_event(
        &mut *tx,
        shop.id,
        Some(oa_id.as_str()),
        now,
        actor,
        kind,
        None,
    )
    .await?;
    zalo_grants::finish(&mut *tx, grant.id, true, connected.code()).await?;
    tx.commit().await?;
    tracing::info!(shop = %shop.id, oa_id = %oa_id, outcome = connected.code(), "a Zalo OA was connected");
    Ok(CallbackOutcome {
        shop_id: Some(shop.id),
        result: Ok(connected),
    })
}

// ---------------------------------------------------------------------------------------
// The test message
// ---------------------------------------------------------------------------------------

/// The OA's approved templates, for "Gửi tin thử".
pub async fn approved_templates(
    svc: &Services,
    user_id: Uuid,
    shop_id: Uuid,
    oa_id: &str,
    actor: &str,
) -> Result<Result<(StoredOa, Vec<ZnsTemplate>), OaError>, ServiceError> {
    let (shop, key) = match shop_and_key(svc, user_id, shop_id).await? {
        Ok(pair) => pair,
        Err(failure) => return Ok(Err(OaError::new(failure))),
    };
    let oa = zalo_oas::find(&svc.db, shop.id, oa_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let id = OaId::parse(&oa.oa_id).map_err(|_| ServiceError::NotFound)?;
    let request = ListTemplatesRequest {
        filter: ListTemplatesFilter {
            oa_id: Some(id),
            ..Default::default()
        },
        paging: crate::its::Paging {
            limit: Some(100),
            ..Default::default()
        },
    };
    match svc.its.zalo_list_templates(&key, &request).await {
        Ok(list) => Ok(Ok((
            oa,
            list.templates
                .into_iter()
                .filter(ZnsTemplate::is_approved)
                .collect(),
        ))),
        Err(err) => {
            let error = OaError::from_its(&err, OaFailure::ItsRefused);
            if error.failure == OaFailure::KeyRejected {
                key_rejected(svc, shop.id, actor).await?;
            }
            Ok(Err(error))
        }
    }
}

/// A field of the test form that is not right, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Phone,
    Required(String),
    TooShort(String, i64),
    TooLong(String, i64),
}

/// Checks the test form against the template's parameters, as Zalo will: required ones
/// filled, lengths within bounds. Values are trimmed.
pub fn check_params(
    template: &ZnsTemplate,
    phone: &str,
    data: &BTreeMap<String, String>,
) -> Result<(Phone, BTreeMap<String, String>), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let phone = Phone::parse(phone.trim())
        .map_err(|_| problems.push(FieldProblem::Phone))
        .ok();
    let mut clean = BTreeMap::new();
    for param in &template.template_params {
        let value = data.get(&param.name).map(|v| v.trim()).unwrap_or("");
        let chars = value.chars().count() as i64;
        if value.is_empty() {
            if param.require && !param.accept_null {
                problems.push(FieldProblem::Required(param.name.clone()));
            }
            continue;
        }
        if let Some(min) = param.min_length.filter(|min| chars < *min) {
            problems.push(FieldProblem::TooShort(param.name.clone(), min));
        } else if let Some(max) = param.max_length.filter(|max| chars > *max) {
            problems.push(FieldProblem::TooLong(param.name.clone(), max));
        }
        clean.insert(param.name.clone(), value.to_owned());
    }
    match phone {
        Some(phone) if problems.is_empty() => Ok((phone, clean)),
        _ => Err(problems),
    }
}

pub enum SendOutcome {
    /// The form is not right: nothing was sent.
    Invalid(ZnsTemplate, Vec<FieldProblem>),
    /// ITS took the message.
    Sent(ZnsMessage),
    Failed(OaError),
}

/// "Gửi tin thử": checks the form against the template ITS lists now, sends it with
/// `SendZNS` in development mode (only the app's or OA's own admin receives it), records
/// `test_sent`/`test_failed`, and re-reads the OA (its quota changed).
#[allow(clippy::too_many_arguments)]
pub async fn send_test(
    svc: &Services,
    user_id: Uuid,
    shop_id: Uuid,
    oa_id: &str,
    template_id: i64,
    phone: &str,
    data: &BTreeMap<String, String>,
    actor: &str,
) -> Result<SendOutcome, ServiceError> {
    let (oa, templates) = match approved_templates(svc, user_id, shop_id, oa_id, actor).await? {
        Ok(found) => found,
        Err(error) => {
            return Ok(SendOutcome::Failed(
                record_test_failure(svc, shop_id, oa_id, actor, error).await?,
            ))
        }
    };
    let Some(template) = templates.into_iter().find(|t| t.template_id == template_id) else {
        let error = OaError::new(OaFailure::TemplateUnavailable);
        return Ok(SendOutcome::Failed(
            record_test_failure(svc, shop_id, oa_id, actor, error).await?,
        ));
    };
    let (phone, data) = match check_params(&template, phone, data) {
        Ok(checked) => checked,
        Err(problems) => return Ok(SendOutcome::Invalid(template, problems)),
    };
    let key = match shop_and_key(svc, user_id, shop_id).await? {
        Ok((_, key)) => key,
        Err(failure) => return Ok(SendOutcome::Failed(OaError::new(failure))),
    };
    let id = OaId::parse(&oa.oa_id).map_err(|_| ServiceError::NotFound)?;
    let request = SendZnsRequest {
        oa_id: id.clone(),
        phone: phone.as_str().to_owned(),
        template_id,
        template_data: data,
        tracking_id: Some(format!("shoplink-test-{}", Uuid::new_v4().simple())),
        mode: ZnsMode::Development,
        sending_mode: None,
    };
    let answer = svc.its.zalo_send_zns(&key, &request).await;
    // Whatever happened, the OA's quota or status may have changed: read it again.
    let fresh = refresh_oa(svc, shop_id, &key, &id).await?;
    let outcome = match answer {
        Ok(message) if message.error_code == 0 => SendOutcome::Sent(message),
        Ok(message) => SendOutcome::Failed(OaError {
            failure: OaFailure::SendFailed,
            provider_msg: message.error_message.clone(),
        }),
        Err(err) => {
            let mut error = OaError::from_its(&err, OaFailure::SendRefused);
            if error.failure == OaFailure::NoPackage {
                // `failed_precondition` on SendZNS: the OA itself says which one.
                error.failure = match &fresh {
                    Some(oa) if oa.remaining_quota <= 0 => OaFailure::QuotaExhausted,
                    Some(oa) if oa.status != "P" => OaFailure::OaDisconnected,
                    Some(oa) if oa.expires_at.is_some_and(|at| at <= store::now_ms()) => {
                        OaFailure::OaExpired
                    }
                    _ => OaFailure::NoPackage,
                };
            }
            SendOutcome::Failed(error)
        }
    };
    match &outcome {
        SendOutcome::Sent(message) => {
            let mut tx = store::begin_write(&svc.db).await?;
            let reason = format!(
                "template {template_id}, {}",
                message.msg_id.as_deref().unwrap_or("-")
            );
            zalo_oas::record_event(
                &mut *tx,
                shop_id,
                Some(oa_id),
                store::now_ms(),
                actor,
                OaEventKind::TestSent,
                Some(&reason),
            )
            .await?;
            tx.commit().await?;
        }
        SendOutcome::Failed(error) => {
            let error = record_test_failure(svc, shop_id, oa_id, actor, error.clone()).await?;
            return Ok(SendOutcome::Failed(error));
        }
        SendOutcome::Invalid(..) => {}
    }
    Ok(outcome)
}

async fn record_test_failure(
    svc: &Services,
    shop_id: Uuid,
    oa_id: &str,
    actor: &str,
    error: OaError,
) -> Result<OaError, ServiceError> {
    failed(
        svc,
        shop_id,
        Some(oa_id),
        actor,
        OaEventKind::TestFailed,
        error,
    )
    .await
}

/// Re-reads one OA with `ListOA` and stores what ITS says now (quota, status, quality).
/// An answer that cannot be read changes nothing.
async fn refresh_oa(
    svc: &Services,
    shop_id: Uuid,
    key: &ShopKey,
    oa_id: &OaId,
) -> Result<Option<StoredOa>, ServiceError> {
    let request = ListOaRequest {
        filter: ListOaFilter {
            oa_id: Some(oa_id.clone()),
            ..Default::default()
        },
        paging: Default::default(),
    };
    let Ok(list) = svc.its.zalo_list_oa(key, &request).await else {
        return Ok(None);
    };
    let Some(oa) = list.accounts.iter().find(|a| &a.oa_id == oa_id) else {
        return Ok(None);
    };
    store_read(svc, shop_id, oa).await?;
    Ok(zalo_oas::find(&svc.db, shop_id, oa_id.as_str()).await?)
}

/// Stores an OA as a read showed it, with the events its changes mean.
async fn store_read(svc: &Services, shop_id: Uuid, oa: &ZaloOa) -> Result<(), ServiceError> {
    let now = store::now_ms();
    let mut tx = store::begin_write(&svc.db).await?;
    let change = match zalo_oas::upsert(&mut tx, shop_id, oa, now).await {
        Ok(change) => change,
        Err(UpsertError::OtherShop) => return Ok(()),
        Err(UpsertError::Db(e)) => return Err(e.into()),
    };
    // The same history lines (and webhooks) as a verification's re-read of the OA.
    super::verify::record_oa_change(&mut tx, shop_id, &change, "its", now).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_code_parses_back() {
        for f in OaFailure::ALL {
            assert_eq!(OaFailure::parse(f.code()), Some(f));
        }
        assert_eq!(OaFailure::parse("nope"), None);
    }

    #[test]
    fn the_callback_takes_exactly_one_of_each_or_a_denial() {
        assert!(matches!(
            parse_callback("code=abc&oa_id=1052570182707778180&state=42"),
            Some(CallbackQuery::Allowed { .. })
        ));
        assert!(parse_callback("code=abc&oa_id=1&state=42&state=43").is_none());
        assert!(parse_callback("code=abc&oa_id=x&state=42").is_none());
        assert!(parse_callback("oa_id=1&state=42").is_none());
        assert!(matches!(
            parse_callback("error=access_denied&error_description=no&state=42"),
            Some(CallbackQuery::Denied { state: Some(_) })
        ));
        assert!(matches!(
            parse_callback("error=access_denied"),
            Some(CallbackQuery::Denied { state: None })
        ));
    }

    #[test]
    fn template_params_are_checked_like_zalo_does() {
        let template: ZnsTemplate = serde_json::from_str(
            r#"{"template_id": 1, "template_status": "ENABLE", "template_params": [
                {"name": "customer_name", "type": "STRING", "require": true, "min_length": 2, "max_length": 5},
                {"name": "voucher", "type": "STRING", "require": false, "max_length": 3, "accept_null": true}
            ]}"#,
        )
        .unwrap();
        let data = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (phone, clean) = check_params(
            &template,
            "0912345678",
            &data(&[("customer_name", " Lan "), ("x", "y")]),
        )
        .unwrap();
        assert_eq!(phone.as_str().len(), 10);
        assert_eq!(clean.get("customer_name").map(String::as_str), Some("Lan"));
        assert!(!clean.contains_key("x"));
        let problems = check_params(&template, "12", &data(&[("voucher", "ABCD")])).unwrap_err();
        assert_eq!(
            problems,
            vec![
                FieldProblem::Phone,
                FieldProblem::Required("customer_name".into()),
                FieldProblem::TooLong("voucher".into(), 3)
            ]
        );
        let problems =
            check_params(&template, "0912345678", &data(&[("customer_name", "A")])).unwrap_err();
        assert_eq!(
            problems,
            vec![FieldProblem::TooShort("customer_name".into(), 2)]
        );
    }
}
