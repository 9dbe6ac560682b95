//! Connect links: the partner's platform asks for one (`POST /api/v1/connect-links`) for
//! its user and shop; we find or create both by their external ids and hand back a
//! one-time URL (30 minutes). Opening it gives the browser a session that may see that
//! one shop only, and the connect flow runs as usual; at its end the browser goes to the
//! link's `return_url` (an allowed origin only) with the outcome.

use super::reasons::EventNote;
use crate::i18n::MsgKey;
use url::Url;
use uuid::Uuid;

use super::service_keys::ServiceKey;
use super::{ServiceError, Services};
use crate::crypto::{random_token, token_hash};
use crate::domain::{
    fold_for_search, has_control_chars, ConnectionState, Email, Phone, ShopName, UserRole,
};
use crate::store::connect_links::{self as links, NewLink};
use crate::store::{self, events, sessions, shops};

/// How long a connect link can be opened.
pub const LINK_TTL_MS: i64 = 30 * 60 * 1000;
/// How long the session a link opens lasts, whatever happens.
pub const LINK_SESSION_TTL_MS: i64 = 2 * 60 * 60 * 1000;

/// The request, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LinkRequest {
    pub external_user_id: String,
    pub external_shop_id: String,
    pub shop_name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub return_url: Option<String>,
}

#[derive(Debug)]
pub struct CreatedLink {
    pub url: String,
    pub expires_at: i64,
    pub shop_id: Uuid,
}

#[derive(Debug)]
pub enum LinkError {
    /// Field problems: (field, English message).
    Invalid(Vec<(&'static str, &'static str)>),
    /// `return_url` is not under an allowed origin.
    ReturnUrlNotAllowed,
    /// The request contradicts what is stored.
    Conflict(LinkConflict),
    Service(ServiceError),
}

/// How a connect-link request contradicts what is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkConflict {
    /// The `external_user_id` belongs to an administrator.
    UserNotOwner,
    /// The partner user is disabled.
    UserDisabled,
    /// A shop with this `external_shop_id` belongs to another user.
    ShopOfAnotherUser,
}

impl LinkConflict {
    /// What the caller is told (English, like the rest of the API).
    pub fn message(self) -> &'static str {
        match self {
            LinkConflict::UserNotOwner => {
                "this external_user_id belongs to an administrator, who cannot use connect links"
            }
            LinkConflict::UserDisabled => "this partner user is disabled",
            LinkConflict::ShopOfAnotherUser => {
                "a shop with this external_shop_id belongs to another user"
            }
        }
    }
}

impl From<sqlx::Error> for LinkError {
    fn from(e: sqlx::Error) -> Self {
        LinkError::Service(e.into())
    }
}

/// The longest value of each field, in characters, as sent (before trimming): the OpenAPI
/// document states the same limits, so whatever it calls too long is refused here.
pub const MAX_EXTERNAL_ID_CHARS: usize = 100;
pub const MAX_SHOP_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_PHONE_CHARS: usize = 20;
pub const MAX_RETURN_URL_CHARS: usize = 2_000;

/// An external id: 1 to 100 characters, no control or bidirectional control characters
/// (the same rule as names: an id is shown to admins and sent on to ITS).
fn external_id_ok(raw: &str, trimmed: &str) -> bool {
    !trimmed.is_empty()
        && raw.chars().count() <= MAX_EXTERNAL_ID_CHARS
        && !has_control_chars(trimmed)
}

fn too_long(value: Option<&str>, max: usize) -> bool {
    value.is_some_and(|v| v.chars().count() > max)
}

/// Whether `return_url` is an absolute http(s) URL on one of the allowed origins.
pub fn return_url_allowed(return_url: &str, origins: &[String]) -> bool {
    if return_url.len() > 2_000 {
        return false;
    }
    let Ok(url) = Url::parse(return_url) else {
        return false;
    };
    matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && origins.contains(&url.origin().ascii_serialization())
}

/// `return_url` with `status` and `shop` added to its query.
pub fn return_url_with(return_url: &str, status: &str, external_shop_id: &str) -> Option<String> {
    let mut url = Url::parse(return_url).ok()?;
    url.query_pairs_mut()
        .append_pair("status", status)
        .append_pair("shop", external_shop_id);
    Some(url.to_string())
}

pub async fn create(
    svc: &Services,
    key: Option<&ServiceKey>,
    request: &LinkRequest,
) -> Result<CreatedLink, LinkError> {
    let mut errors = Vec::new();
    let user_ext = request.external_user_id.trim();
    let shop_ext = request.external_shop_id.trim();
    if !external_id_ok(&request.external_user_id, user_ext) {
        errors.push((
            "external_user_id",
            "must be 1 to 100 characters, no control or bidirectional control characters",
        ));
    }
    if !external_id_ok(&request.external_shop_id, shop_ext) {
        errors.push((
            "external_shop_id",
            "must be 1 to 100 characters, no control or bidirectional control characters",
        ));
    }
    let name = ShopName::parse(&request.shop_name)
        .ok()
        .filter(|_| !too_long(Some(&request.shop_name), MAX_SHOP_NAME_CHARS));
    if name.is_none() {
        errors.push((
            "shop_name",
            "must be 1 to 200 characters, no control characters",
        ));
    }
    let email = match request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        _ if too_long(request.email.as_deref(), MAX_EMAIL_CHARS) => {
            errors.push(("email", "is not a valid email address"));
            None
        }
        Some(raw) => Email::parse(raw)
            .map_err(|_| errors.push(("email", "is not a valid email address")))
            .ok(),
        None => None,
    };
    let phone = match request
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        _ if too_long(request.phone.as_deref(), MAX_PHONE_CHARS) => {
            errors.push(("phone", "is not a valid Vietnamese phone number"));
            None
        }
        Some(raw) => Phone::parse(raw)
            .map_err(|_| errors.push(("phone", "is not a valid Vietnamese phone number")))
            .ok(),
        None => None,
    };
    let return_url = request
        .return_url
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(LinkError::Invalid(errors));
    };
    if too_long(request.return_url.as_deref(), MAX_RETURN_URL_CHARS) {
        return Err(LinkError::ReturnUrlNotAllowed);
    }
    if let Some(r) = return_url {
        if !return_url_allowed(r, &svc.api.return_url_origins) {
            return Err(LinkError::ReturnUrlNotAllowed);
        }
    }
    let actor = key
        .map(ServiceKey::actor)
        .unwrap_or_else(|| "system".into());

    // Two requests for a new user or shop at once are serialised by the write lock; should
    // a row still appear meanwhile (another process), trying again finds it.
    let mut tries = 0;
    loop {
        tries += 1;
        let result = create_once(
            svc,
            key,
            user_ext,
            shop_ext,
            &name,
            email.as_ref(),
            phone.as_ref(),
            return_url,
            &actor,
        )
        .await;
        match result {
            Err(LinkError::Service(ServiceError::Database(e)))
                if tries < 3
                    && (store::is_unique_violation(&e, "users.")
                        || store::is_unique_violation(&e, "shops.")) => {}
            other => return other,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn create_once(
    svc: &Services,
    key: Option<&ServiceKey>,
    user_ext: &str,
    shop_ext: &str,
    name: &ShopName,
    email: Option<&Email>,
    phone: Option<&Phone>,
    return_url: Option<&str>,
    actor: &str,
) -> Result<CreatedLink, LinkError> {
    let now = store::now_ms();
    // It reads, then writes: take the write lock first (see `store::begin_write`).
    let mut tx = store::begin_write(&svc.db).await?;
    let user_id = match links::find_user_by_external_id(&mut *tx, user_ext).await? {
        Some(user) if user.role != UserRole::Owner.as_str() => {
            return Err(LinkError::Conflict(LinkConflict::UserNotOwner))
        }
        Some(user) if user.disabled_at.is_some() => {
            return Err(LinkError::Conflict(LinkConflict::UserDisabled))
        }
        Some(user) => user.id,
        None => {
            // The user's own email when it is free; else a placeholder that is unique and
            // can receive nothing (an external user never logs in with a password).
            let login_email = match email {
                Some(e) if !links::email_taken(&mut *tx, e.as_str()).await? => {
                    e.as_str().to_owned()
                }
                _ => format!("ext-{}@external.invalid", &token_hash(user_ext)[..24]),
            };
            let display = email.map(Email::as_str).unwrap_or(user_ext);
            links::insert_external_user(&mut *tx, user_ext, &login_email, display, now).await?
        }
    };

    let existing = links::owners_of_external_shop(&mut *tx, shop_ext).await?;
    let shop_id = match existing.iter().find(|(_, owner)| *owner == user_id) {
        Some((shop_id, _)) => *shop_id,
        None if !existing.is_empty() => {
            return Err(LinkError::Conflict(LinkConflict::ShopOfAnotherUser))
        }
        None => {
            let folded = fold_for_search(name.as_str());
            let id = shops::insert(
                &mut *tx,
                &shops::NewShop {
                    owner_id: user_id,
                    name: name.as_str(),
                    search_name: &folded,
                    phone: phone.map(Phone::as_str),
                    email: email.map(Email::as_str),
                    external_shop_id: Some(shop_ext),
                    owner_ref: None,
                },
                now,
            )
            .await?;
            events::record_and_queue(
                &mut *tx,
                id,
                now,
                actor,
                None,
                ConnectionState::NotConnected,
                Some(EventNote::ShopCreated.name()),
            )
            .await?;
            id
        }
    };

    let token = random_token();
    let expires_at = now + LINK_TTL_MS;
    links::insert(
        &mut *tx,
        &NewLink {
            token_hash: &token_hash(&token),
            shop_id,
            user_id,
            return_url,
            service_key_id: key.map(ServiceKey::id),
            expires_at,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    let url = svc
        .public_url
        .join(&format!("connect-links/{token}"))
        .map_err(|e| LinkError::Service(ServiceError::Other(e.into())))?
        .to_string();
    Ok(CreatedLink {
        url,
        expires_at,
        shop_id,
    })
}

/// Why a link does not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Unknown,
    Used,
    Expired,
    /// The partner user the link is for has been disabled.
    UserDisabled,
    /// The service key that made the link has been revoked: its links go with it.
    KeyRevoked,
}

impl LinkRefusal {
    /// The catalogue key of the explanation.
    pub fn message_key(self) -> MsgKey {
        match self {
            LinkRefusal::Unknown => MsgKey::error_connect_link_unknown,
            LinkRefusal::Used => MsgKey::error_connect_link_used,
            LinkRefusal::Expired => MsgKey::error_connect_link_expired,
            LinkRefusal::UserDisabled => MsgKey::error_connect_link_user_disabled,
            LinkRefusal::KeyRevoked => MsgKey::error_connect_link_revoked,
        }
    }

    /// Why a link found in the store does not open now, if it does not.
    fn of(link: &links::LinkRow, now: i64) -> Option<LinkRefusal> {
        if link.used_at.is_some() {
            Some(LinkRefusal::Used)
        } else if link.user_disabled {
            Some(LinkRefusal::UserDisabled)
        } else if link.key_revoked {
            Some(LinkRefusal::KeyRevoked)
        } else if link.expires_at <= now {
            Some(LinkRefusal::Expired)
        } else {
            None
        }
    }
}

/// What the landing page shows before the link is used.
pub struct LinkPreview {
    pub shop: shops::ShopRow,
}

/// Looks a link up without using it (so a chat app's link preview does not burn it).
pub async fn preview(
    svc: &Services,
    token: &str,
) -> Result<Result<LinkPreview, LinkRefusal>, ServiceError> {
    let now = store::now_ms();
    let Some(link) = links::find_by_hash(&svc.db, &token_hash(token)).await? else {
        return Ok(Err(LinkRefusal::Unknown));
    };
    if let Some(refusal) = LinkRefusal::of(&link, now) {
        return Ok(Err(refusal));
    }
    let shop = shops::find(&svc.db, link.shop_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Ok(LinkPreview { shop }))
}

/// A session opened by a link.
pub struct OpenedSession {
    /// The cookie's value (only its hash is stored).
    pub session_token: String,
    pub user_id: Uuid,
    pub shop_id: Uuid,
}

/// Uses a link: exactly once, before it expires. Opens a session for that shop only.
pub async fn open(
    svc: &Services,
    token: &str,
) -> Result<Result<OpenedSession, LinkRefusal>, ServiceError> {
    let now = store::now_ms();
    let hash = token_hash(token);
    let session_token = random_token();
    let session_hash = token_hash(&session_token);
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let Some(link) = links::consume(&mut *tx, &hash, &session_hash, now).await? else {
        drop(tx);
        return Ok(Err(match links::find_by_hash(&svc.db, &hash).await? {
            None => LinkRefusal::Unknown,
            Some(l) => LinkRefusal::of(&l, now).unwrap_or(LinkRefusal::Expired),
        }));
    };
    links::insert_scoped_session(
        &mut *tx,
        &session_hash,
        link.user_id,
        link.shop_id,
        &random_token(),
        now,
        now + LINK_SESSION_TTL_MS,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(shop = %link.shop_id, "connect link used");
    Ok(Ok(OpenedSession {
        session_token,
        user_id: link.user_id,
        shop_id: link.shop_id,
    }))
}

/// At the end of a flow started from a link: where the browser goes (`return_url` with
/// the outcome), if the link had one. The link's session ends here: it has done its job.
pub async fn finish(
    svc: &Services,
    session_hash: &str,
    connected: bool,
) -> Result<Option<String>, ServiceError> {
    let Some((return_url, external_shop_id)) =
        links::return_for_session(&svc.db, session_hash).await?
    else {
        return Ok(None);
    };
    sessions::delete(&svc.db, &svc.sessions, session_hash).await?;
    let status = if connected { "connected" } else { "failed" };
    Ok(return_url_with(
        &return_url,
        status,
        external_shop_id.as_deref().unwrap_or(""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_must_be_on_an_allowed_origin() {
        let origins = vec![
            "https://shop.example.vn".to_owned(),
            "http://127.0.0.1:9000".to_owned(),
        ];
        assert!(return_url_allowed(
            "https://shop.example.vn/zalo/done?x=1",
            &origins
        ));
        assert!(return_url_allowed("http://127.0.0.1:9000/back", &origins));
        assert!(!return_url_allowed(
            "https://shop.example.vn.evil.io/",
            &origins
        ));
        assert!(!return_url_allowed("http://shop.example.vn/", &origins));
        assert!(!return_url_allowed(
            "https://user@shop.example.vn/",
            &origins
        ));
        assert!(!return_url_allowed("javascript:alert(1)", &origins));
        assert!(!return_url_allowed("/relative", &origins));
        assert!(!return_url_allowed("https://shop.example.vn/", &[]));
    }

    #[test]
    fn the_outcome_is_added_to_the_return_url() {
        assert_eq!(
            return_url_with("https://shop.example.vn/back?a=1", "connected", "S 1").unwrap(),
            "https://shop.example.vn/back?a=1&status=connected&shop=S+1"
        );
    }
}
