use std::fmt;

use super::ParseError;

/// The state of one shop's link with ITS (the README's *Connection states*). `can_become`
/// says which transitions the domain allows, for the pages and services that ask; the
/// writes themselves are guarded by the `WHERE … state …` clauses of `store::shops`'s
/// updates, which are what keep two concurrent changes from both applying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    NotConnected,
    Pending,
    Connected,
    NeedsReauth,
    Failed,
    Disconnected,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 6] = [
        ConnectionState::NotConnected,
        ConnectionState::Pending,
        ConnectionState::Connected,
        ConnectionState::NeedsReauth,
        ConnectionState::Failed,
        ConnectionState::Disconnected,
    ];

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or(ParseError::StateInvalid)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::NotConnected => "not_connected",
            ConnectionState::Pending => "pending",
            ConnectionState::Connected => "connected",
            ConnectionState::NeedsReauth => "needs_reauth",
            ConnectionState::Failed => "failed",
            ConnectionState::Disconnected => "disconnected",
        }
    }

    /// Whether a link in this state may move to `next`.
    pub fn can_become(self, next: ConnectionState) -> bool {
        use ConnectionState::*;
        match (self, next) {
            // Starting (or restarting) a connection is allowed from anywhere.
            (_, Pending) => true,
            // A key can be stored straight away when ITS answers `shop_key` on the first call.
            (_, Connected) => true,
            (Pending | Connected | NeedsReauth, Failed) => true,
            (Connected | Pending, NeedsReauth) => true,
            (_, Disconnected) => self != Disconnected && self != NotConnected,
            // An abandoned attempt falls back to where it was.
            (Pending, NotConnected) => true,
            _ => false,
        }
    }

    /// Whether a shop in this state holds a key (the migration's CHECK says the same).
    pub fn has_key(self) -> bool {
        matches!(
            self,
            ConnectionState::Connected | ConnectionState::NeedsReauth
        )
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips_through_its_name() {
        for state in ConnectionState::ALL {
            assert_eq!(ConnectionState::parse(state.as_str()), Ok(state));
        }
        assert!(ConnectionState::parse("CONNECTED").is_err());
    }

    #[test]
    fn a_shop_that_never_connected_cannot_be_disconnected() {
        assert!(!ConnectionState::NotConnected.can_become(ConnectionState::Disconnected));
        assert!(ConnectionState::Connected.can_become(ConnectionState::Disconnected));
        assert!(!ConnectionState::Disconnected.can_become(ConnectionState::Disconnected));
    }

    #[test]
    fn only_a_live_link_can_need_reauth() {
        assert!(ConnectionState::Connected.can_become(ConnectionState::NeedsReauth));
        assert!(!ConnectionState::Disconnected.can_become(ConnectionState::NeedsReauth));
        assert!(!ConnectionState::NotConnected.can_become(ConnectionState::NeedsReauth));
    }
}
