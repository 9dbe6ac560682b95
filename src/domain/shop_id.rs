use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::ParseError;

/// The provider's id of a shop: a positive 64-bit integer. The provider serialises it as a
/// JSON string (it is beyond JavaScript's safe range), so it is accepted as a string or a
/// number and always written as a string. It never passes through `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShopId(i64);

impl ShopId {
    /// Accepts only a plain positive decimal integer: no sign, no spaces, no leading zeros.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let valid = !s.is_empty()
            && s.len() <= 19
            && s.bytes().all(|b| b.is_ascii_digit())
            && !s.starts_with('0');
        if !valid {
            return Err(ParseError::ShopIdInvalid);
        }
        s.parse::<i64>()
            .map(ShopId)
            .map_err(|_| ParseError::ShopIdInvalid)
    }

    pub fn from_i64(v: i64) -> Result<Self, ParseError> {
        if v > 0 {
            Ok(ShopId(v))
        } else {
            Err(ParseError::ShopIdInvalid)
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ShopId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for ShopId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for ShopId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ShopId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive 64-bit integer as a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ShopId, E> {
                ShopId::parse(v).map_err(|_| E::custom("invalid shop id"))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ShopId, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|v| ShopId::from_i64(v).ok())
                    .ok_or_else(|| E::custom("invalid shop id"))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ShopId, E> {
                ShopId::from_i64(v).map_err(|_| E::custom("invalid shop id"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_id_as_a_json_string_keeps_every_digit() {
        let id: ShopId = serde_json::from_str("\"1052570182707778180\"").unwrap();
        assert_eq!(id.get(), 1_052_570_182_707_778_180);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"1052570182707778180\""
        );
    }

    #[test]
    fn a_json_number_is_accepted_too() {
        let id: ShopId = serde_json::from_str("1052570182707778180").unwrap();
        assert_eq!(id.get(), 1_052_570_182_707_778_180);
    }

    #[test]
    fn anything_but_a_plain_positive_integer_is_refused() {
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            " 1",
            "1 ",
            "01",
            "1e3",
            "abc",
            "9223372036854775808",
            "１",
        ] {
            assert!(ShopId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(serde_json::from_str::<ShopId>("1.5").is_err());
        assert!(serde_json::from_str::<ShopId>("-3").is_err());
    }
}
