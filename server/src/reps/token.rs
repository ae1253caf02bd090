//! Rep tokens: made from 32 bytes of the operating system's random source, shown once, and kept
//! only as their SHA-256. The `lhk_` prefix lets secret scanners recognise a leaked one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// What every token this server makes starts with.
pub const PREFIX: &str = "lhk_";
/// Random bytes in a token.
const RANDOM_BYTES: usize = 32;

/// A new token: `lhk_` and 43 base64url characters.
pub fn generate() -> Result<SecretString, rand::rand_core::OsError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes)?;
    Ok(SecretString::from(format!(
        "{PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes)
    )))
}

/// The SHA-256 of a token, lower-case hex: what the store keeps and what lookups compare.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_to_hex() {
        let first = generate().unwrap();
        let second = generate().unwrap();
        let text = first.expose_secret();
        assert!(text.starts_with(PREFIX), "{text}");
        assert_eq!(text.len(), PREFIX.len() + 43);
        assert_ne!(text, second.expose_secret());
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
