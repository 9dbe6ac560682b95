use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    Admin,
    Owner,
}

impl UserRole {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s {
            "admin" => Ok(UserRole::Admin),
            "owner" => Ok(UserRole::Owner),
            _ => Err(ParseError::RoleInvalid),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Owner => "owner",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_others_are_refused() {
        assert_eq!(UserRole::parse("admin"), Ok(UserRole::Admin));
        assert_eq!(
            UserRole::parse(UserRole::Owner.as_str()),
            Ok(UserRole::Owner)
        );
        assert!(UserRole::parse("root").is_err());
    }
}
