//! Sealing secrets at rest (shop keys, webhook signing secrets) and hashing the random
//! tokens we hand out.
//!
//! Secrets are sealed with AES-256-GCM under a key derived from `SECRET_KEY`, with a fresh
//! random 96-bit nonce per write and associated data naming what the value is and which
//! row holds it (`Binding`), so a ciphertext copied into another row, or into a column of
//! another kind, fails to open instead of decrypting. Each row records the id of the key
//! that sealed it, so a rotation can tell old from new. Every sealed column is listed in
//! `store::sealed::SEALED_COLUMNS`, which `rotate-key` walks.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::ShopKey;

/// The application secret (32 bytes). Debug never prints it. (Not `secrecy`: see `ShopKey`.)
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(****)")
    }
}

impl SecretKey {
    /// 64 hexadecimal characters.
    pub fn parse(hex_str: &str) -> Result<SecretKey, CryptoError> {
        let bytes = hex::decode(hex_str.trim()).map_err(|_| CryptoError::BadSecret)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadSecret)?;
        Ok(SecretKey(bytes))
    }

    pub fn generate() -> SecretKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        SecretKey(bytes)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A purpose-bound subkey, so one secret never serves two purposes directly.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A short public id of this secret, stored beside each sealed key.
    pub fn key_id(&self) -> String {
        hex::encode(&self.derive("shoplink key id v1")[..8])
    }

    /// The Zalo app (id, secret) sandbox mode uses when none is configured: stable for a
    /// given secret, so the sandbox (which learns an app at its first use) keeps accepting it.
    pub fn sandbox_zalo_app(&self) -> (String, String) {
        let bytes = self.derive("shoplink sandbox zalo app v1");
        let n = u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"));
        let id = 1_000_000_000_000_000_000 + n % 8_000_000_000_000_000_000;
        (id.to_string(), hex::encode(&bytes[8..24]))
    }

    /// The api key the built-in sandbox accepts, stable for a given secret.
    pub fn sandbox_api_key(&self) -> String {
        format!(
            "sandbox_{}",
            hex::encode(self.derive("shoplink sandbox api key v1"))
        )
    }
}

/// What a sealed value is and the row that holds it: the associated data of its seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// `shops.key_*`: a shop's ITS key, bound to the shop and its owner.
    ShopKey { shop_id: Uuid, owner_id: Uuid },
    /// `webhook_endpoints.secret_*`: an endpoint's signing secret, bound to the endpoint.
    WebhookSecret { endpoint_id: Uuid },
    /// `zalo_apps.secret_*`: a Zalo app's secret, bound to its row and to the shop whose own
    /// app it is (`None`: the partner's one app for all its shops).
    ZaloAppSecret {
        app_row_id: Uuid,
        shop_id: Option<Uuid>,
    },
}

/// Webhook secrets were first sealed as if they were shop keys of this made-up owner (no
/// user has it). Such rows still open (`Opened::legacy`), and `rotate-key` re-seals them
/// under `Binding::WebhookSecret`.
const LEGACY_WEBHOOK_OWNER: Uuid = Uuid::from_u128(0x7768_7365_635f_7765_6268_6f6f_6b73_0001);

impl Binding {
    fn associated_data(&self) -> Vec<u8> {
        match self {
            Binding::ShopKey { shop_id, owner_id } => {
                format!("shoplink shop key v1|shop={shop_id}|owner={owner_id}").into_bytes()
            }
            Binding::WebhookSecret { endpoint_id } => {
                format!("shoplink webhook secret v1|endpoint={endpoint_id}").into_bytes()
            }
            Binding::ZaloAppSecret {
                app_row_id,
                shop_id,
            } => {
                let shop = shop_id.map_or_else(|| "partner".to_owned(), |s| s.to_string());
                format!("shoplink zalo app secret v1|app={app_row_id}|shop={shop}").into_bytes()
            }
        }
    }

    /// The associated data an older release sealed this kind of value with, if any.
    fn legacy_associated_data(&self) -> Option<Vec<u8>> {
        match self {
            Binding::ShopKey { .. } | Binding::ZaloAppSecret { .. } => None,
            Binding::WebhookSecret { endpoint_id } => Some(
                Binding::ShopKey {
                    shop_id: *endpoint_id,
                    owner_id: LEGACY_WEBHOOK_OWNER,
                }
                .associated_data(),
            ),
        }
    }
}

/// A webhook endpoint's signing secret (`whsec_…`). Debug never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(****)")
    }
}

impl WebhookSecret {
    /// Signing secrets start with this.
    pub const PREFIX: &'static str = "whsec_";

    /// A new random secret.
    pub fn generate() -> WebhookSecret {
        WebhookSecret(format!("{}{}", Self::PREFIX, random_token()))
    }

    fn parse(text: &str) -> Option<WebhookSecret> {
        let rest = text.strip_prefix(Self::PREFIX)?;
        (!rest.is_empty()
            && rest.len() <= 200
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| WebhookSecret(text.to_owned()))
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// The plain bytes of an opened value, and whether it was sealed under an older binding
/// (to be re-sealed by `rotate-key`).
pub struct Opened {
    pub plain: Vec<u8>,
    pub legacy: bool,
}

/// A shop key as stored: ciphertext (with the GCM tag), nonce and the sealing key's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    pub key_id: String,
}

impl SealedKey {
    /// A sealed value from its three nullable columns: `None` unless all three are set.
    pub fn from_columns(
        ciphertext: &Option<Vec<u8>>,
        nonce: &Option<Vec<u8>>,
        key_id: &Option<String>,
    ) -> Option<SealedKey> {
        match (ciphertext, nonce, key_id) {
            (Some(c), Some(n), Some(k)) => Some(SealedKey {
                ciphertext: c.clone(),
                nonce: n.clone(),
                key_id: k.clone(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("SECRET_KEY must be 64 hexadecimal characters")]
    BadSecret,
    #[error("the stored secret was sealed with another secret (key id {0})")]
    UnknownKeyId(String),
    #[error("the stored secret does not open: wrong secret, altered bytes or a moved row")]
    Tampered,
}

/// Seals and opens stored secrets. Seals with the current secret; opens rows sealed with the
/// current one or, during a key rotation, with the previous one (told apart by key id).
#[derive(Clone)]
pub struct KeySealer {
    key_id: String,
    cipher: Aes256Gcm,
    previous: Option<(String, Aes256Gcm)>,
}

impl KeySealer {
    pub fn new(secret: &SecretKey) -> KeySealer {
        KeySealer {
            key_id: secret.key_id(),
            cipher: Self::cipher_for(secret),
            previous: None,
        }
    }

    /// Also opens keys sealed with `previous` (`SECRET_KEY_PREVIOUS`), until `rotate-key` has
    /// re-sealed them all.
    pub fn with_previous(mut self, previous: Option<&SecretKey>) -> KeySealer {
        self.previous = previous.map(|p| (p.key_id(), Self::cipher_for(p)));
        self
    }

    fn cipher_for(secret: &SecretKey) -> Aes256Gcm {
        let key = secret.derive("shoplink shop-key sealing v1");
        Aes256Gcm::new_from_slice(&key).expect("32-byte key")
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Seals `plain` under the current secret, bound to `binding`.
    pub fn seal_bytes(&self, plain: &[u8], binding: &Binding) -> SealedKey {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = binding.associated_data();
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        SealedKey {
            ciphertext,
            nonce: nonce.to_vec(),
            key_id: self.key_id.clone(),
        }
    }

    /// Opens a value sealed under the current or the previous secret, bound to `binding`
    /// (or to the older binding of the same kind, see `Opened::legacy`).
    pub fn open_bytes(&self, sealed: &SealedKey, binding: &Binding) -> Result<Opened, CryptoError> {
        let cipher = if sealed.key_id == self.key_id {
            &self.cipher
        } else {
            match &self.previous {
                Some((id, cipher)) if *id == sealed.key_id => cipher,
                _ => return Err(CryptoError::UnknownKeyId(sealed.key_id.clone())),
            }
        };
        if sealed.nonce.len() != 12 {
            return Err(CryptoError::Tampered);
        }
        let decrypt = |aad: &[u8]| {
            cipher
                .decrypt(
                    Nonce::from_slice(&sealed.nonce),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad,
                    },
                )
                .ok()
        };
        if let Some(plain) = decrypt(&binding.associated_data()) {
            return Ok(Opened {
                plain,
                legacy: false,
            });
        }
        binding
            .legacy_associated_data()
            .and_then(|aad| decrypt(&aad))
            .map(|plain| Opened {
                plain,
                legacy: true,
            })
            .ok_or(CryptoError::Tampered)
    }

    pub fn seal(&self, key: &ShopKey, shop_id: Uuid, owner_id: Uuid) -> SealedKey {
        self.seal_bytes(
            key.expose_secret().as_bytes(),
            &Binding::ShopKey { shop_id, owner_id },
        )
    }

    pub fn open(
        &self,
        sealed: &SealedKey,
        shop_id: Uuid,
        owner_id: Uuid,
    ) -> Result<ShopKey, CryptoError> {
        let opened = self.open_bytes(sealed, &Binding::ShopKey { shop_id, owner_id })?;
        let text = String::from_utf8(opened.plain).map_err(|_| CryptoError::Tampered)?;
        ShopKey::parse(&text).map_err(|_| CryptoError::Tampered)
    }

    pub fn seal_webhook_secret(&self, secret: &WebhookSecret, endpoint_id: Uuid) -> SealedKey {
        self.seal_bytes(
            secret.expose_secret().as_bytes(),
            &Binding::WebhookSecret { endpoint_id },
        )
    }

    pub fn open_webhook_secret(
        &self,
        sealed: &SealedKey,
        endpoint_id: Uuid,
    ) -> Result<WebhookSecret, CryptoError> {
        let opened = self.open_bytes(sealed, &Binding::WebhookSecret { endpoint_id })?;
        let text = String::from_utf8(opened.plain).map_err(|_| CryptoError::Tampered)?;
        WebhookSecret::parse(&text).ok_or(CryptoError::Tampered)
    }
}

impl KeySealer {
    /// Seals a Zalo app's secret to its `zalo_apps` row (and shop, for a shop's own app).
    pub fn seal_zalo_app_secret(
        &self,
        secret: &crate::its::ZaloAppSecret,
        app_row_id: Uuid,
        shop_id: Option<Uuid>,
    ) -> SealedKey {
        self.seal_bytes(
            secret.expose_secret().as_bytes(),
            &Binding::ZaloAppSecret {
                app_row_id,
                shop_id,
            },
        )
    }

    pub fn open_zalo_app_secret(
        &self,
        sealed: &SealedKey,
        app_row_id: Uuid,
        shop_id: Option<Uuid>,
    ) -> Result<crate::its::ZaloAppSecret, CryptoError> {
        let opened = self.open_bytes(
            sealed,
            &Binding::ZaloAppSecret {
                app_row_id,
                shop_id,
            },
        )?;
        let text = String::from_utf8(opened.plain).map_err(|_| CryptoError::Tampered)?;
        crate::its::ZaloAppSecret::parse(&text).map_err(|_| CryptoError::Tampered)
    }
}

/// A random token of 32 bytes from the OS, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ShopKey {
        ShopKey::parse("shop1052570182707778180:AbCdEfGh12345678").unwrap()
    }

    #[test]
    fn a_sealed_key_opens_to_the_same_key_and_is_not_plaintext() {
        let sealer = KeySealer::new(&SecretKey::generate());
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = sealer.seal(&key(), shop, owner);
        assert!(!sealed.ciphertext.windows(8).any(|w| w == b"AbCdEfGh"));
        assert_eq!(sealer.open(&sealed, shop, owner).unwrap(), key());
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = KeySealer::new(&SecretKey::generate());
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        assert_ne!(
            sealer.seal(&key(), shop, owner).nonce,
            sealer.seal(&key(), shop, owner).nonce
        );
    }

    #[test]
    fn a_ciphertext_moved_to_another_row_does_not_open() {
        let sealer = KeySealer::new(&SecretKey::generate());
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = sealer.seal(&key(), shop, owner);
        assert_eq!(
            sealer.open(&sealed, Uuid::new_v4(), owner),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            sealer.open(&sealed, shop, Uuid::new_v4()),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn a_flipped_bit_or_another_secret_is_detected() {
        let secret = SecretKey::generate();
        let sealer = KeySealer::new(&secret);
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        let mut sealed = sealer.seal(&key(), shop, owner);
        sealed.ciphertext[0] ^= 1;
        assert_eq!(
            sealer.open(&sealed, shop, owner),
            Err(CryptoError::Tampered)
        );

        let other = KeySealer::new(&SecretKey::generate());
        let sealed = sealer.seal(&key(), shop, owner);
        assert!(matches!(
            other.open(&sealed, shop, owner),
            Err(CryptoError::UnknownKeyId(_))
        ));
    }

    #[test]
    fn keys_sealed_with_the_previous_secret_still_open_during_a_rotation() {
        let (old, new) = (SecretKey::generate(), SecretKey::generate());
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = KeySealer::new(&old).seal(&key(), shop, owner);
        let rotated = KeySealer::new(&new).with_previous(Some(&old));
        assert_eq!(rotated.open(&sealed, shop, owner).unwrap(), key());
        assert_eq!(rotated.seal(&key(), shop, owner).key_id, new.key_id());
        assert!(KeySealer::new(&new).open(&sealed, shop, owner).is_err());
    }

    #[test]
    fn a_webhook_secret_is_sealed_as_itself_and_never_opens_as_a_shop_key() {
        let sealer = KeySealer::new(&SecretKey::generate());
        let endpoint = Uuid::new_v4();
        let secret = WebhookSecret::generate();
        assert!(secret.expose_secret().starts_with("whsec_"));
        assert_eq!(format!("{secret:?}"), "WebhookSecret(****)");
        let sealed = sealer.seal_webhook_secret(&secret, endpoint);
        assert_eq!(
            sealer.open_webhook_secret(&sealed, endpoint).unwrap(),
            secret
        );
        assert_eq!(
            sealer.open_webhook_secret(&sealed, Uuid::new_v4()),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            sealer.open(&sealed, endpoint, LEGACY_WEBHOOK_OWNER),
            Err(CryptoError::Tampered),
            "not a shop key of the old made-up owner"
        );
        // A shop key never opens as a webhook secret either.
        let (shop, owner) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed_key = sealer.seal(&key(), shop, owner);
        assert_eq!(
            sealer.open_webhook_secret(&sealed_key, shop),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn a_webhook_secret_sealed_the_old_way_still_opens_and_is_marked_legacy() {
        let sealer = KeySealer::new(&SecretKey::generate());
        let endpoint = Uuid::new_v4();
        let secret = WebhookSecret::generate();
        // As releases before the WebhookSecret binding sealed it.
        let as_key = ShopKey::parse(secret.expose_secret()).unwrap();
        let old = sealer.seal(&as_key, endpoint, LEGACY_WEBHOOK_OWNER);
        assert_eq!(sealer.open_webhook_secret(&old, endpoint).unwrap(), secret);
        let binding = Binding::WebhookSecret {
            endpoint_id: endpoint,
        };
        assert!(sealer.open_bytes(&old, &binding).unwrap().legacy);
        let new = sealer.seal_webhook_secret(&secret, endpoint);
        assert!(!sealer.open_bytes(&new, &binding).unwrap().legacy);
        assert!(
            sealer.open_webhook_secret(&old, Uuid::new_v4()).is_err(),
            "still bound to its endpoint"
        );
    }

    #[test]
    fn a_zalo_app_secret_opens_only_in_its_own_row_and_as_itself() {
        use crate::its::ZaloAppSecret;
        let sealer = KeySealer::new(&SecretKey::generate());
        let secret = ZaloAppSecret::parse("Xy7pQ2sZalo0Secret9").unwrap();
        let (row, shop) = (Uuid::new_v4(), Uuid::new_v4());
        let partner = sealer.seal_zalo_app_secret(&secret, row, None);
        assert!(!partner.ciphertext.windows(8).any(|w| w == b"Xy7pQ2sZ"));
        assert_eq!(
            sealer.open_zalo_app_secret(&partner, row, None).unwrap(),
            secret
        );
        assert_eq!(
            sealer.open_zalo_app_secret(&partner, row, Some(shop)),
            Err(CryptoError::Tampered),
            "the partner's app secret does not open as a shop's own app"
        );
        let own = sealer.seal_zalo_app_secret(&secret, row, Some(shop));
        assert_eq!(
            sealer.open_zalo_app_secret(&own, row, Some(shop)).unwrap(),
            secret
        );
        assert_eq!(
            sealer.open_zalo_app_secret(&own, Uuid::new_v4(), Some(shop)),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            sealer.open_zalo_app_secret(&own, row, Some(Uuid::new_v4())),
            Err(CryptoError::Tampered)
        );
        assert_eq!(
            sealer.open_webhook_secret(&own, row),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn tokens_are_long_random_and_stored_only_as_hashes() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn secrets_parse_from_hex_and_never_print() {
        let s = SecretKey::parse(&"0f".repeat(32)).unwrap();
        assert_eq!(format!("{s:?}"), "SecretKey(****)");
        assert!(SecretKey::parse("xyz").is_err());
        assert!(SecretKey::parse(&"0f".repeat(31)).is_err());
    }
}
