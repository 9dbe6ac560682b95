//! The message catalogue: every string a person sees comes from here, in Vietnamese
//! (the default) and English. Each entry keeps both languages side by side so a
//! translator reads them together, and a missing entry is a compile error, not a blank.
//!
//! Templates receive `m: &'static Messages` and write `{{ m.connect_zalo }}`.
//! Strings with a value in them are written with `{}` and filled by `Messages::fill`.

mod app;
mod sandbox;

pub use app::{Messages, MsgKey};
pub use sandbox::{SandboxMessages, SandboxMsgKey};

/// Declares a catalogue struct, its Vietnamese and English instances, and the enum of its
/// keys (`Messages` → `MsgKey`). Code that carries a message as data (a form field's
/// problem, a stored failure reason) carries the key enum, so a misspelt or missing
/// message does not build; `text` is an exhaustive match with no fallback.
macro_rules! catalogue {
    ($name:ident / $keys:ident { $($key:ident => $vi:expr, $en:expr;)* }) => {
        #[derive(Debug, serde::Serialize)]
        pub struct $name { $(pub $key: &'static str,)* }

        /// One message of the catalogue. The variants keep the entries' snake_case names,
        /// so a key reads the same in code, in templates (`m.key`) and in stored text.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $keys { $($key,)* }

        impl $keys {
            /// Every key, in catalogue order.
            pub const ALL: &'static [$keys] = &[$($keys::$key,)*];

            /// The entry's name, e.g. `"error_its_timeout"`: the form stored in the database.
            pub fn name(self) -> &'static str {
                match self { $($keys::$key => stringify!($key),)* }
            }

            /// The key of that name, if the catalogue has one (stored text read back).
            pub fn from_name(name: &str) -> Option<$keys> {
                match name {
                    $(stringify!($key) => Some($keys::$key),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $keys {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $name {
            pub const VI: $name = $name { $($key: $vi,)* };
            pub const EN: $name = $name { $($key: $en,)* };

            pub fn for_lang(lang: $crate::i18n::Lang) -> &'static $name {
                static VI: $name = $name::VI;
                static EN: $name = $name::EN;
                match lang {
                    $crate::i18n::Lang::Vi => &VI,
                    $crate::i18n::Lang::En => &EN,
                }
            }

            /// The text of a key in this language.
            pub fn text(&self, key: $keys) -> &'static str {
                match key { $($keys::$key => self.$key,)* }
            }

            /// Every (key, text) pair, for tests that check a page against the catalogue.
            pub fn entries(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($key), self.$key),)*]
            }

            /// Replaces each `{}` in `template` with the next value.
            pub fn fill(template: &str, values: &[&str]) -> String {
                let mut out = String::with_capacity(template.len() + 32);
                let mut values = values.iter();
                let mut parts = template.split("{}").peekable();
                while let Some(part) = parts.next() {
                    out.push_str(part);
                    if parts.peek().is_some() {
                        out.push_str(values.next().copied().unwrap_or(""));
                    }
                }
                out
            }
        }
    };
}
pub(crate) use catalogue;

/// Declares an enum for one family of messages (e.g. why a connection failed), each variant
/// bound to its catalogue key: `msg_key` is an exhaustive match, and `name`/`from_name` give
/// the key's name, the form such a value is stored in. A key missing from the catalogue
/// does not build.
macro_rules! keyed {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $key:ident,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The message that explains this value.
            pub fn msg_key(self) -> $crate::i18n::MsgKey {
                match self { $($name::$variant => $crate::i18n::MsgKey::$key,)* }
            }

            /// The stored form: the catalogue key's name, e.g. `"error_its_timeout"`.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => stringify!($key),)* }
            }

            /// The value stored as `name`, if it is one of this family.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $(stringify!($key) => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}
pub(crate) use keyed;

/// The message for each way a domain value is refused: the one place domain errors meet
/// the catalogue (`domain` depends on nothing of ours).
impl From<crate::domain::ParseError> for MsgKey {
    fn from(err: crate::domain::ParseError) -> MsgKey {
        use crate::domain::ParseError;
        match err {
            ParseError::ShopNameEmpty => MsgKey::error_shop_name_empty,
            ParseError::ShopNameTooLong => MsgKey::error_shop_name_too_long,
            ParseError::TextControlChars => MsgKey::error_text_control_chars,
            ParseError::EmailInvalid => MsgKey::error_email_invalid,
            ParseError::PhoneInvalid => MsgKey::error_phone_invalid,
            ParseError::ShopIdInvalid => MsgKey::error_shop_id_invalid,
            ParseError::ShopKeyInvalid => MsgKey::error_shop_key_invalid,
            ParseError::StateInvalid => MsgKey::error_state_invalid,
            ParseError::RoleInvalid => MsgKey::error_role_invalid,
        }
    }
}

/// The reader's language. Vietnamese unless they chose English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header, Vietnamese if none.
    pub fn from_accept_language(header: &str) -> Lang {
        header
            .split(',')
            .filter_map(|part| {
                let tag = part.split(';').next()?.trim().to_ascii_lowercase();
                Lang::parse(tag.split('-').next()?)
            })
            .next()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_supported_language() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,vi;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("fr-FR, vi;q=0.5"), Lang::Vi);
        assert_eq!(Lang::from_accept_language("de"), Lang::Vi);
    }

    #[test]
    fn every_key_has_a_text_in_both_languages_and_reads_back_by_name() {
        assert!(MsgKey::ALL.len() > 100);
        for &key in MsgKey::ALL {
            assert_eq!(MsgKey::from_name(key.name()), Some(key));
            assert!(!Messages::VI.text(key).is_empty(), "{key}");
            assert!(!Messages::EN.text(key).is_empty(), "{key}");
        }
        for &key in SandboxMsgKey::ALL {
            assert_eq!(SandboxMsgKey::from_name(key.name()), Some(key));
            assert!(!SandboxMessages::VI.text(key).is_empty(), "{key}");
        }
        assert_eq!(MsgKey::from_name("error_no_such_message"), None);
    }

    /// Messages travel as `MsgKey` (or a family enum bound to it), never as their names in
    /// a string: a string could be misspelt and would only show up as a wrong page. This
    /// reads the source for a string literal that names an `error_`/`event_`/`reason_`
    /// entry outside the catalogue itself.
    #[test]
    fn no_message_key_travels_as_a_string() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("a source directory") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        let mut found = Vec::new();
        for path in files.iter().filter(|p| !p.starts_with(src.join("i18n"))) {
            let code = std::fs::read_to_string(path).expect("a readable file");
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for literal in line.split('"').skip(1).step_by(2) {
                    let named = MsgKey::from_name(literal).is_some()
                        || SandboxMsgKey::from_name(literal).is_some();
                    let message = ["error_", "event_", "reason_"]
                        .iter()
                        .any(|p| literal.starts_with(p));
                    if named && message {
                        found.push(format!("{}:{}: \"{literal}\"", path.display(), n + 1));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "catalogue keys as strings (use MsgKey or the family's enum):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn fill_replaces_placeholders_in_order() {
        assert_eq!(Messages::fill("{} of {}", &["3", "5"]), "3 of 5");
        assert_eq!(Messages::fill("no value", &["x"]), "no value");
    }
}
