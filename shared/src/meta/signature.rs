//! `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the App Secret>`,
//! and the Graph API's `appsecret_proof`, the same HMAC over the access token.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 must look like sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body; check FB_APP_SECRET")]
    Mismatch,
}

impl SignatureError {
    /// Short label for metrics and logs.
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "signature_missing",
            SignatureError::Malformed => "signature_malformed",
            SignatureError::Mismatch => "signature_mismatch",
        }
    }
}

/// The header value Meta would send for `body` signed with `app_secret`.
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(app_secret, body))
}

/// `appsecret_proof` for Graph API calls made with `access_token`.
pub fn appsecret_proof(app_secret: &[u8], access_token: &[u8]) -> String {
    hmac_hex(app_secret, access_token)
}

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The digest a `X-Hub-Signature-256` header announces, read before the body arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimedSignature([u8; 32]);

impl ClaimedSignature {
    /// Reads `sha256=<64 hex digits>`; a missing or malformed header is refused here, before
    /// any body is read.
    pub fn parse(header: Option<&[u8]>) -> Result<ClaimedSignature, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_digest = header
            .strip_prefix(b"sha256=")
            .ok_or(SignatureError::Malformed)?
            .trim_ascii();
        let mut digest = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| SignatureError::Malformed)?;
        Ok(ClaimedSignature(digest))
    }

    /// Checks the claimed digest against the raw body, in constant time.
    pub fn verify(&self, app_secret: &[u8], body: &[u8]) -> Result<(), SignatureError> {
        let mut mac =
            HmacSha256::new_from_slice(app_secret).expect("HMAC takes keys of any length");
        mac.update(body);
        mac.verify_slice(&self.0)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Checks a header value against the raw body, in constant time.
pub fn verify(app_secret: &[u8], header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
    ClaimedSignature::parse(header)?.verify(app_secret, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";
    const BODY: &[u8] = br#"{"object":"page","entry":[{"changes":[{"field":"leadgen","value":{"leadgen_id":"1"}}]}]}"#;

    #[test]
    fn accepts_its_own_signature() {
        let header = sign(SECRET, BODY);
        assert!(header.starts_with("sha256="));
        assert_eq!(header.len(), 7 + 64);
        assert_eq!(verify(SECRET, Some(header.as_bytes()), BODY), Ok(()));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC 4231 style example.
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn accepts_uppercase_hex() {
        let header = sign(SECRET, BODY)
            .to_uppercase()
            .replacen("SHA256=", "sha256=", 1);
        assert_eq!(verify(SECRET, Some(header.as_bytes()), BODY), Ok(()));
    }

    #[test]
    fn rejects_missing_malformed_and_wrong() {
        let good = sign(SECRET, BODY);
        assert_eq!(verify(SECRET, None, BODY), Err(SignatureError::Missing));
        assert_eq!(
            verify(SECRET, Some(b"sha1=abcd"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some(b"sha256=zz"), BODY),
            Err(SignatureError::Malformed)
        );
        let truncated = &good[..good.len() - 2];
        assert_eq!(
            verify(SECRET, Some(truncated.as_bytes()), BODY),
            Err(SignatureError::Malformed)
        );
        let not_hex = format!("sha256={}", "g".repeat(64));
        assert_eq!(
            verify(SECRET, Some(not_hex.as_bytes()), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"other-secret", Some(good.as_bytes()), BODY),
            Err(SignatureError::Mismatch)
        );
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify(SECRET, Some(good.as_bytes()), &tampered),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn reserialised_json_breaks_the_signature() {
        let body = br#"{"name":"Jos\u00e9"}"#;
        let header = sign(SECRET, body);
        let reserialised =
            serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).unwrap())
                .unwrap();
        assert_ne!(reserialised, body);
        assert_eq!(
            verify(SECRET, Some(header.as_bytes()), &reserialised),
            Err(SignatureError::Mismatch)
        );
    }
}
