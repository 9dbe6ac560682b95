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

/// Why a value was refused; the `&'static str` is a catalogue key, so the web layer can
/// show it in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);
