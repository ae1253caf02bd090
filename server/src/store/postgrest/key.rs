//! The Supabase key the store holds: which kind it is decides the headers that carry it.

use std::fmt;

use base64::Engine as _;
use serde::Deserialize;

use super::error;
use crate::store::StoreError;

/// Which kind of Supabase key the store holds: it decides the headers that carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `sb_secret_...`: not a JWT, sent as `apikey` only.
    Secret,
    /// The legacy `service_role` JWT: sent as `apikey` and as `Authorization: Bearer`.
    LegacyJwt,
}

impl KeyKind {
    /// Tells the kind from the key's shape and refuses keys that can never work for a server
    /// (publishable keys, the anon JWT), so a mix-up shows at startup rather than at the first lead.
    pub fn of(key: &str) -> Result<KeyKind, StoreError> {
        let wrong = |message: &str| StoreError::Misconfigured {
            message: message.to_string(),
            fix: error::FIX_WRONG_KEY.to_string(),
        };
        if key.is_empty() {
            return Err(wrong("the Supabase key is empty"));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(wrong(
                "the Supabase key contains spaces or characters that cannot be sent in a header",
            ));
        }
        if key.starts_with("sb_secret_") {
            return Ok(KeyKind::Secret);
        }
        if key.starts_with("sb_publishable_") {
            return Err(wrong(
                "the Supabase key is a publishable key, which cannot read or write leads",
            ));
        }
        match jwt_role(key) {
            Some(role) if role != "service_role" => Err(wrong(&format!(
                "the Supabase key is the {role} key, which cannot read or write leads"
            ))),
            _ => Ok(KeyKind::LegacyJwt),
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Secret => "secret key",
            KeyKind::LegacyJwt => "legacy service_role key",
        })
    }
}

/// The `role` claim of a JWT, read without checking the signature (only to catch mix-ups).
fn jwt_role(key: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Claims {
        role: Option<String>,
    }
    let mut parts = key.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Claims>(&json).ok()?.role
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let part = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!(
            "{}.{}.signature",
            part(r#"{"alg":"HS256","typ":"JWT"}"#),
            part(claims)
        )
    }

    fn fix_of(error: StoreError) -> String {
        match error {
            StoreError::Misconfigured { fix, .. } => fix,
            other => panic!("expected Misconfigured, got {other:?}"),
        }
    }

    #[test]
    fn key_kinds() {
        assert_eq!(KeyKind::of("sb_secret_abc123").unwrap(), KeyKind::Secret);
        assert_eq!(
            KeyKind::of(&jwt(r#"{"role":"service_role","iss":"supabase"}"#)).unwrap(),
            KeyKind::LegacyJwt
        );
        // Not recognisably anything: sent like a legacy key, and the server decides.
        assert_eq!(KeyKind::of("opaque-key").unwrap(), KeyKind::LegacyJwt);
    }

    #[test]
    fn keys_that_cannot_work_are_refused_without_showing_them() {
        for key in [
            "sb_publishable_abc123".to_string(),
            jwt(r#"{"role":"anon"}"#),
            String::new(),
            "two words".to_string(),
        ] {
            let error = KeyKind::of(&key).unwrap_err();
            let text = error.to_string();
            assert!(fix_of(error).starts_with("wrong key"), "{key:?}");
            assert!(key.is_empty() || !text.contains(&key), "{text}");
        }
    }
}
