//! `LEADHOOK_CLAIM_SECRET` (or `_FILE`): the key that signs claim links, which need
//! `LEADHOOK_PUBLIC_URL` (the address phones open them at).

use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;
use crate::claim_link::ClaimLinks;
use crate::limits::{CLAIM_LINK_TTL, MIN_CLAIM_SECRET_BYTES};

const VAR: &str = "LEADHOOK_CLAIM_SECRET";

pub(super) fn parse(
    secret: Option<SecretString>,
    public_url: Option<&str>,
) -> Result<Option<ClaimLinks>, ConfigError> {
    let Some(secret) = secret
        .map(|s| s.expose_secret().trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    if secret.len() < MIN_CLAIM_SECRET_BYTES {
        return Err(ConfigError::invalid(
            VAR,
            format!(
                "it is shorter than {MIN_CLAIM_SECRET_BYTES} characters, so links could be forged; \
                 make one with `openssl rand -hex 32` (the same on every replica)"
            ),
        ));
    }
    let Some(base) = public_url else {
        return Err(ConfigError::invalid(
            VAR,
            "claim links need LEADHOOK_PUBLIC_URL, the address phones open them at \
             (like https://leads.example.com); set it, or unset LEADHOOK_CLAIM_SECRET",
        ));
    };
    Ok(Some(ClaimLinks::new(
        base.to_string(),
        secret.into_bytes(),
        CLAIM_LINK_TTL,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_secret_needs_a_public_url_and_length() {
        let long = || Some(SecretString::from("k".repeat(40)));
        assert!(parse(None, None).unwrap().is_none());
        let error = parse(long(), None).unwrap_err().to_string();
        assert!(error.contains("LEADHOOK_PUBLIC_URL"), "{error}");
        let error = parse(Some("short".into()), Some("https://x.example"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("openssl rand -hex 32"), "{error}");
        assert!(!error.contains("short\""), "{error}");
        assert!(parse(long(), Some("https://x.example")).unwrap().is_some());
    }
}
