//! What templates show of a shop and its history, already translated and formatted.

use uuid::Uuid;

use crate::domain::ConnectionState;
use crate::i18n::Messages;
use crate::store::events::EventRow;
use crate::store::shops::ShopRow;

pub struct ShopView {
    pub id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub external_shop_id: Option<String>,
    pub state: ConnectionState,
    pub state_label: &'static str,
    pub its_shop_id: Option<i64>,
    pub its_shop_name: Option<String>,
    pub failure: Option<&'static str>,
    pub failure_detail: Option<String>,
    pub last_verified: Option<String>,
    pub updated: String,
}

impl ShopView {
    pub fn new(row: &ShopRow, m: &'static Messages) -> ShopView {
        let state = row.state();
        ShopView {
            id: row.id,
            name: row.name.clone(),
            phone: row.phone.clone(),
            email: row.email.clone(),
            external_shop_id: row.external_shop_id.clone(),
            state,
            state_label: state_label(state, m),
            its_shop_id: row.its_shop_id,
            its_shop_name: row.its_shop_name.clone(),
            failure: row
                .failure_code
                .as_deref()
                .filter(|_| state == ConnectionState::Failed)
                .map(|k| m.get(k)),
            failure_detail: row
                .failure_detail
                .clone()
                .filter(|_| state == ConnectionState::Failed),
            last_verified: row.last_verified_at.map(format_time),
            updated: format_time(row.updated_at),
        }
    }

    pub fn state_class(&self) -> &'static str {
        self.state.as_str()
    }

    pub fn is_connected(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    pub fn can_disconnect(&self) -> bool {
        self.state.can_become(ConnectionState::Disconnected)
    }

    /// The label of the connect button: first time, or again.
    pub fn connect_label(&self, m: &'static Messages) -> &'static str {
        match self.state {
            ConnectionState::NotConnected => m.connect_zalo,
            ConnectionState::Connected => m.reconnect_zalo,
            _ => m.connect_again,
        }
    }
}

pub fn state_label(state: ConnectionState, m: &'static Messages) -> &'static str {
    match state {
        ConnectionState::NotConnected => m.state_not_connected,
        ConnectionState::Pending => m.state_pending,
        ConnectionState::Connected => m.state_connected,
        ConnectionState::NeedsReauth => m.state_needs_reauth,
        ConnectionState::Failed => m.state_failed,
        ConnectionState::Disconnected => m.state_disconnected,
    }
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<&'static str>,
    pub detail: Option<String>,
}

impl EventView {
    pub fn new(row: &EventRow, m: &'static Messages) -> EventView {
        let parse = |s: &str| {
            ConnectionState::parse(s)
                .map(|st| state_label(st, m))
                .unwrap_or("?")
        };
        let (reason, detail) = match row.reason.as_deref() {
            Some(text) => match text.split_once(" | ") {
                Some((key, detail)) => (Some(m.get(key)), Some(detail.to_owned())),
                None => (Some(m.get(text)), None),
            },
            None => (None, None),
        };
        let actor = match row.actor.as_str() {
            "its" => m.actor_its.to_owned(),
            "system" => m.actor_system.to_owned(),
            other => match other.strip_prefix("user:") {
                Some(_) => m.actor_user.to_owned(),
                None => other.to_owned(),
            },
        };
        EventView {
            at: format_time(row.at),
            actor,
            from: row.from_state.as_deref().map(parse),
            to: parse(&row.to_state),
            reason,
            detail,
        }
    }
}

/// Vietnam's time (UTC+7, no daylight saving), `dd/mm/yyyy HH:MM`.
pub fn format_time(ms: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).expect("valid offset");
    match time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000) {
        Ok(t) => {
            let t = t.to_offset(offset);
            format!(
                "{:02}/{:02}/{} {:02}:{:02}",
                t.day(),
                u8::from(t.month()),
                t.year(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => "?".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times_are_shown_in_vietnam_time() {
        // 2026-11-23 17:30 UTC is 24/11/2026 00:30 in Ho Chi Minh City.
        assert_eq!(format_time(1_795_455_000_000), "24/11/2026 00:30");
    }
}
