//! `TWILIO_AUTH_TOKEN` (or `_FILE`): the key of Twilio's request signature on the status
//! callbacks and inbound SMS it posts to `/twilio/sms`. The signature covers the URL Twilio
//! called, so it needs `LEADHOOK_PUBLIC_URL` as configured in Twilio.

use secrecy::{ExposeSecret, SecretString};

use super::ConfigError;

const VAR: &str = "TWILIO_AUTH_TOKEN";

/// What checks Twilio's requests.
#[derive(Clone)]
pub struct TwilioInbound {
    pub auth_token: SecretString,
    /// `LEADHOOK_PUBLIC_URL`, no trailing slash: a request's path is appended to it.
    pub public_url: String,
}

impl std::fmt::Debug for TwilioInbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioInbound")
            .field("auth_token", &"[redacted]")
            .field("public_url", &self.public_url)
            .finish()
    }
}

pub(super) fn parse(
    token: Option<SecretString>,
    public_url: Option<&str>,
) -> Result<Option<TwilioInbound>, ConfigError> {
    let Some(token) = token
        .map(|s| s.expose_secret().trim().to_string())
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let Some(public_url) = public_url else {
        return Err(ConfigError::invalid(
            VAR,
            "Twilio signs the URL it calls: set LEADHOOK_PUBLIC_URL to the address in Twilio's \
             webhook settings (like https://leads.example.com), or unset TWILIO_AUTH_TOKEN",
        ));
    };
    Ok(Some(TwilioInbound {
        auth_token: token.into(),
        public_url: public_url.trim_end_matches('/').to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_needs_the_public_url_and_is_never_printed() {
        let token = Some(SecretString::from("do-not-print-0123"));
        let error = parse(token.clone(), None).unwrap_err().to_string();
        assert!(error.contains("LEADHOOK_PUBLIC_URL"), "{error}");
        let inbound = parse(token, Some("https://leads.example.com/"))
            .unwrap()
            .unwrap();
        assert_eq!(inbound.public_url, "https://leads.example.com");
        assert!(!format!("{inbound:?}").contains("do-not-print"));
        assert!(parse(None, None).unwrap().is_none());
    }
}
