//! Plain value types, parsed at the edge. Each type's `parse` is its only constructor,
//! so a value of the type is valid by construction. Depends on nothing else of ours.

mod connection_state;
mod email;
mod phone;
mod shop_id;
mod shop_key;
mod shop_name;
mod user_role;

pub use connection_state::ConnectionState;
pub use email::Email;
pub use phone::Phone;
pub use shop_id::ShopId;
pub use shop_key::ShopKey;
pub use shop_name::{fold_for_search, has_control_chars, ShopName};
pub use user_role::UserRole;

/// Why a value was refused. Each has its catalogue message (`MsgKey: From<ParseError>`
/// in `i18n`, above this module), so the web layer shows it in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("a shop name is empty")]
    ShopNameEmpty,
    #[error("a shop name is longer than 200 characters")]
    ShopNameTooLong,
    #[error("the text holds a control character")]
    TextControlChars,
    #[error("not an e-mail address")]
    EmailInvalid,
    #[error("not a phone number")]
    PhoneInvalid,
    #[error("not an ITS shop id")]
    ShopIdInvalid,
    #[error("not a shop key")]
    ShopKeyInvalid,
    #[error("not a connection state")]
    StateInvalid,
    #[error("not a user role")]
    RoleInvalid,
}
