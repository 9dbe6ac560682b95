//! The message catalogue: every string a person sees comes from here, in Vietnamese
//! (the default) and English. Each entry keeps both languages side by side so a
//! translator reads them together, and a missing entry is a compile error, not a blank.
//!
//! Templates receive `m: &'static Messages` and write `{{ m.connect_zalo }}`.
//! Strings with a value in them are written with `{}` and filled by `Messages::fill`.

mod app;
mod sandbox;

pub use app::Messages;
pub use sandbox::SandboxMessages;

/// Declares a catalogue struct, its Vietnamese and English instances, and a lookup by key.
macro_rules! catalogue {
    ($name:ident { $($key:ident => $vi:expr, $en:expr;)* }) => {
        #[derive(Debug, serde::Serialize)]
        pub struct $name { $(pub $key: &'static str,)* }

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

            /// Looks a message up by its key, for keys carried as data (e.g. a domain
            /// `ParseError`). An unknown key comes back as `"?"` and is logged as a warning.
            pub fn get(&self, key: &str) -> &'static str {
                match key {
                    $(stringify!($key) => self.$key,)*
                    _ => {
                        tracing::warn!(key, "message key missing from the catalogue");
                        "?"
                    }
                }
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
    fn fill_replaces_placeholders_in_order() {
        assert_eq!(Messages::fill("{} of {}", &["3", "5"]), "3 of 5");
        assert_eq!(Messages::fill("no value", &["x"]), "no value");
    }
}
