//! Shops as their owners manage them: adding one, disconnecting one.

use super::reasons::EventNote;
use super::Refusal;
use crate::i18n::MsgKey;
use uuid::Uuid;

use super::{user_actor, ServiceError, Services};
use crate::domain::{fold_for_search, ConnectionState, Email, Phone, ShopName};
use crate::store::{self, events, shops};

/// The add-shop form as typed.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct NewShopInput {
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    /// The owner's own label for the shop ("Mã tham chiếu"); never sent to ITS.
    #[serde(default)]
    pub owner_ref: String,
}

/// Field-level problems (field name, catalogue key), so the form can show each beside its field.
pub type FieldErrors = Vec<(&'static str, MsgKey)>;

pub enum AddShopError {
    Invalid(FieldErrors),
    Service(ServiceError),
}

impl From<sqlx::Error> for AddShopError {
    fn from(e: sqlx::Error) -> Self {
        AddShopError::Service(e.into())
    }
}

/// Two adds of the same name by the same owner this close together are one double click.
const DOUBLE_SUBMIT_MS: i64 = 10_000;

pub async fn add_shop(
    svc: &Services,
    owner_id: Uuid,
    input: &NewShopInput,
) -> Result<Uuid, AddShopError> {
    let mut errors = FieldErrors::new();
    let name = ShopName::parse(&input.name)
        .map_err(|e| errors.push(("name", e.into())))
        .ok();
    let phone = optional(&input.phone, Phone::parse)
        .map_err(|e| errors.push(("phone", e.into())))
        .ok()
        .flatten();
    let email = optional(&input.email, Email::parse)
        .map_err(|e| errors.push(("email", e.into())))
        .ok()
        .flatten();
    let owner_ref = input.owner_ref.trim();
    if owner_ref.chars().count() > 100 || owner_ref.chars().any(char::is_control) {
        errors.push(("owner_ref", MsgKey::error_external_id_invalid));
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(AddShopError::Invalid(errors));
    };
    let now = store::now_ms();
    let folded = fold_for_search(name.as_str());
    let new = shops::NewShop {
        owner_id,
        name: name.as_str(),
        search_name: &folded,
        phone: phone.as_ref().map(Phone::as_str),
        email: email.as_ref().map(Email::as_str),
        external_shop_id: None,
        owner_ref: Some(owner_ref).filter(|e| !e.is_empty()),
    };
    let mut tx = crate::store::begin_write(&svc.db).await?;
    // A double click sends the form twice: the second gets the shop the first added. The
    // check and the insert are one step because the write transaction (BEGIN IMMEDIATE)
    // lets one writer in at a time.
    if let Some(id) =
        shops::added_since(&mut *tx, owner_id, name.as_str(), now - DOUBLE_SUBMIT_MS).await?
    {
        return Ok(id);
    }
    let id = match shops::insert(&mut *tx, &new, now).await {
        Ok(id) => id,
        Err(e) if store::is_unique_violation(&e, "shops.owner_id") => {
            return Err(AddShopError::Invalid(vec![(
                "owner_ref",
                MsgKey::error_external_id_taken,
            )]));
        }
        Err(e) => return Err(e.into()),
    };
    events::record_and_queue(
        &mut *tx,
        id,
        now,
        &user_actor(owner_id),
        None,
        ConnectionState::NotConnected,
        Some(EventNote::ShopCreated.name()),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The edit form of a shop's details: what is sent to ITS as the pre-fill of the next
/// connection (name, phone, email). The owner's label and the ITS link are not edited here.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct ShopDetailsInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// Changes a shop's name, phone and email (the owner's own shop only), with a history
/// entry naming what changed, in one transaction. Nothing changed: nothing is written.
pub async fn update_details(
    svc: &Services,
    owner_id: Uuid,
    shop_id: Uuid,
    input: &ShopDetailsInput,
) -> Result<(), AddShopError> {
    // Another owner's shop answers "not found" whatever the form holds.
    if shops::find_for_owner(&svc.db, shop_id, owner_id)
        .await?
        .is_none()
    {
        return Err(AddShopError::Service(ServiceError::NotFound));
    }
    let mut errors = FieldErrors::new();
    let name = ShopName::parse(&input.name)
        .map_err(|e| errors.push(("name", e.into())))
        .ok();
    let phone = optional(&input.phone, Phone::parse)
        .map_err(|e| errors.push(("phone", e.into())))
        .ok()
        .flatten();
    let email = optional(&input.email, Email::parse)
        .map_err(|e| errors.push(("email", e.into())))
        .ok()
        .flatten();
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(AddShopError::Invalid(errors));
    };
    let phone = phone.as_ref().map(Phone::as_str);
    let email = email.as_ref().map(Email::as_str);
    let now = store::now_ms();
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let shop = shops::find_for_owner(&mut *tx, shop_id, owner_id)
        .await?
        .ok_or(AddShopError::Service(ServiceError::NotFound))?;
    let unchanged = shop.name == name.as_str()
        && shop.phone.as_deref() == phone
        && shop.email.as_deref() == email;
    if unchanged {
        return Ok(());
    }
    let folded = fold_for_search(name.as_str());
    if !shops::update_details(
        &mut *tx,
        shop_id,
        owner_id,
        name.as_str(),
        &folded,
        phone,
        email,
        now,
    )
    .await?
    {
        return Err(AddShopError::Service(ServiceError::NotFound));
    }
    let state = shop.state();
    events::record_and_queue(
        &mut *tx,
        shop_id,
        now,
        &user_actor(owner_id),
        Some(state),
        state,
        Some(EventNote::ShopEdited.name()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn optional<T, E>(raw: &str, parse: impl Fn(&str) -> Result<T, E>) -> Result<Option<T>, E> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

/// Disconnects a shop on our side: the stored key is deleted, the history says who did it.
pub async fn disconnect(
    svc: &Services,
    shop_id: Uuid,
    owner_id: Option<Uuid>,
    actor: &str,
) -> Result<(), ServiceError> {
    let mut tx = crate::store::begin_write(&svc.db).await?;
    let shop = match owner_id {
        Some(owner) => shops::find_for_owner(&mut *tx, shop_id, owner).await?,
        None => shops::find(&mut *tx, shop_id).await?,
    }
    .ok_or(ServiceError::NotFound)?;
    let from = shop.state();
    if !from.can_become(ConnectionState::Disconnected) {
        return Err(ServiceError::Refused(Refusal::NothingToDisconnect));
    }
    let now = store::now_ms();
    if shops::disconnect(&mut *tx, shop_id, now).await? {
        events::record_and_queue(
            &mut *tx,
            shop_id,
            now,
            actor,
            Some(from),
            ConnectionState::Disconnected,
            Some(EventNote::Disconnected.name()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A shop's stored key, opened.
pub enum StoredKey {
    Missing,
    Readable(crate::domain::ShopKey),
    /// Sealed with an unknown secret, altered, or copied from another row: logged, never shown.
    Unreadable,
}

impl StoredKey {
    /// What a page may show: `****` and the last four characters.
    pub fn masked(&self) -> Option<String> {
        match self {
            StoredKey::Readable(key) => Some(key.masked()),
            _ => None,
        }
    }

    pub fn is_unreadable(&self) -> bool {
        matches!(self, StoredKey::Unreadable)
    }
}

pub fn stored_key(sealer: &crate::crypto::KeySealer, row: &shops::ShopRow) -> StoredKey {
    match row.sealed_key() {
        None => StoredKey::Missing,
        Some(sealed) => match sealer.open(&sealed, row.id, row.owner_id) {
            Ok(key) => StoredKey::Readable(key),
            Err(err) => {
                tracing::error!(shop = %row.id, error = %err, "a stored shop key does not open");
                StoredKey::Unreadable
            }
        },
    }
}
