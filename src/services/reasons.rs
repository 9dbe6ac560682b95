//! Why things happened to a shop, as types: why a connection failed (`FailureCode`, stored
//! in `shops.failure_code`, a finished attempt's `outcome` and the history), what a history
//! entry records (`EventNote`), and how a stored history reason reads back (`Reason`).
//!
//! The database keeps each as its catalogue key's name (`error_its_timeout`,
//! `event_connected`), so the rows stay readable; reading one back parses it into the enum.
//! A stored name this version does not know (a row written by a later or an older version)
//! is shown with a generic message and logged, never a panic.

use crate::i18n::{keyed, MsgKey};

keyed! {
    /// Why a connection failed; each has its own message and next step for the owner.
    pub enum FailureCode {
        ItsRedirectNotRegistered => error_its_redirect_not_registered,
        ItsApiKey => error_its_api_key,
        ItsKeyRejected => error_its_key_rejected,
        ItsPermissionDenied => error_its_permission_denied,
        ItsAccountClosed => error_its_account_closed,
        ItsInvalidArgument => error_its_invalid_argument,
        ItsFailedPrecondition => error_its_failed_precondition,
        ItsBadRoute => error_its_bad_route,
        ItsAlreadyExists => error_its_already_exists,
        ItsUnavailable => error_its_unavailable,
        ItsTimeout => error_its_timeout,
        ItsUnreachable => error_its_unreachable,
        ItsBadAnswer => error_its_bad_answer,
        ItsUnknown => error_its_unknown,
        ItsReloginLoop => error_its_relogin_loop,
        ItsShopTaken => error_its_shop_taken,
        ItsAuthUrlRefused => error_its_auth_url_refused,
        ShopIdMismatch => error_shop_id_mismatch,
        CallbackNotConfirmed => error_callback_not_confirmed,
        CallbackShopNotLinked => error_callback_shop_not_linked,
    }
}

impl FailureCode {
    /// A stored failure code read back; an unknown name is logged and read as
    /// `ItsUnknown` (the shop stays failed, with the generic "ITS reported an unknown
    /// error" and its next step).
    pub fn parse_stored(stored: &str) -> FailureCode {
        FailureCode::from_name(stored).unwrap_or_else(|| {
            tracing::warn!(stored, "a stored failure code this version does not know");
            FailureCode::ItsUnknown
        })
    }
}

keyed! {
    /// What a history entry that is not a failure records.
    pub enum EventNote {
        ShopCreated => event_shop_created,
        ShopEdited => event_shop_edited,
        ConnectStarted => event_connect_started,
        Connected => event_connected,
        Disconnected => event_disconnected,
        ConnectExpired => event_connect_expired,
        ItsShopIdForgotten => event_its_shop_id_forgotten,
        Verified => event_verified,
        KeyRejected => event_key_rejected,
        KeyReadApi => event_key_read_api,
    }
}

/// A history entry's reason as stored: `name` or `name | detail` (the detail, for admins,
/// holds codes, statuses and ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Note(EventNote),
    Failure(FailureCode),
    /// A name this version does not know: shown as `reason_unknown`.
    Unknown,
}

impl Reason {
    /// The stored text: the name, then ` | detail` if there is one.
    pub fn stored(self, detail: Option<&str>) -> String {
        let name = match self {
            Reason::Note(note) => note.name(),
            Reason::Failure(code) => code.name(),
            Reason::Unknown => MsgKey::reason_unknown.name(),
        };
        match detail {
            Some(d) => format!("{name} | {d}"),
            None => name.to_owned(),
        }
    }

    /// Splits stored text into the reason and its detail; an unknown name is logged.
    pub fn parse_stored(stored: &str) -> (Reason, Option<&str>) {
        let (name, detail) = match stored.split_once(" | ") {
            Some((name, detail)) => (name, Some(detail)),
            None => (stored, None),
        };
        let reason = if let Some(note) = EventNote::from_name(name) {
            Reason::Note(note)
        } else if let Some(code) = FailureCode::from_name(name) {
            Reason::Failure(code)
        } else {
            tracing::warn!(
                stored = name,
                "a stored history reason this version does not know"
            );
            Reason::Unknown
        };
        (reason, detail)
    }

    pub fn msg_key(self) -> MsgKey {
        match self {
            Reason::Note(note) => note.msg_key(),
            Reason::Failure(code) => code.msg_key(),
            Reason::Unknown => MsgKey::reason_unknown,
        }
    }
}

impl From<EventNote> for Reason {
    fn from(note: EventNote) -> Reason {
        Reason::Note(note)
    }
}

impl From<FailureCode> for Reason {
    fn from(code: FailureCode) -> Reason {
        Reason::Failure(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_name_reads_back_as_itself() {
        for &code in FailureCode::ALL {
            assert_eq!(FailureCode::from_name(code.name()), Some(code));
            assert_eq!(FailureCode::parse_stored(code.name()), code);
            let stored = Reason::from(code).stored(Some("internal (500): boom"));
            assert_eq!(
                Reason::parse_stored(&stored),
                (Reason::Failure(code), Some("internal (500): boom"))
            );
            // The stored name is the catalogue key's, so existing rows keep reading.
            assert_eq!(code.msg_key().name(), code.name());
        }
        for &note in EventNote::ALL {
            let stored = Reason::from(note).stored(None);
            assert_eq!(Reason::parse_stored(&stored), (Reason::Note(note), None));
            assert_eq!(note.msg_key().name(), note.name());
        }
    }

    #[test]
    fn the_names_of_the_two_families_never_collide() {
        for &code in FailureCode::ALL {
            assert_eq!(EventNote::from_name(code.name()), None, "{code}");
        }
    }

    #[test]
    fn an_unknown_stored_name_reads_as_a_generic_reason_not_a_panic() {
        assert_eq!(
            Reason::parse_stored("error_from_a_later_version | x"),
            (Reason::Unknown, Some("x"))
        );
        assert_eq!(Reason::Unknown.msg_key(), MsgKey::reason_unknown);
        assert_eq!(
            FailureCode::parse_stored("error_from_a_later_version"),
            FailureCode::ItsUnknown
        );
        assert_eq!(Reason::parse_stored(""), (Reason::Unknown, None));
    }
}
