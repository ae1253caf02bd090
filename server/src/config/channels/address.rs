//! Addresses that channels post to, and those that hold a secret (a chat webhook's URL, a bot
//! token in a path).

use std::ops::Range;

use secrecy::ExposeSecret;

use super::{At, Common, Env, secret};
use crate::config::ConfigError;

/// A URL that holds a secret (a chat webhook's, a bot's): `{:?}` shows only its host.
#[derive(Clone)]
pub struct SecretUrl(pub(super) reqwest::Url);

impl SecretUrl {
    pub fn expose(&self) -> &reqwest::Url {
        &self.0
    }

    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}/[redacted]", self.0.scheme(), self.host())
    }
}

/// `text` as an address a channel may post to: https://, or http:// to this machine (a
/// stand-in, a local relay), so a secret in it never crosses the network in clear.
pub(super) fn web_address(text: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(text.trim()).ok()?;
    let local = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    let allowed = url.scheme() == "https" || (url.scheme() == "http" && local);
    (allowed && url.has_host() && url.username().is_empty() && url.password().is_none())
        .then_some(url)
}

/// The channel's secret read as the address it posts to (`what`: a chat webhook's URL, which is
/// its key). The error names where the secret came from, never its value.
pub(super) fn secret_address(
    table: &dyn Common,
    span: Range<usize>,
    at: &At<'_>,
    env: &Env<'_>,
    what: &str,
) -> Result<SecretUrl, ConfigError> {
    let Some((secret, where_, span)) = secret(table, span.clone(), at, env)? else {
        return Err(at(
            span,
            format!(
                "give {what} as exactly one of secret_env or secret_file (it is a secret: \
                 never in the file)"
            ),
        ));
    };
    web_address(secret.expose_secret())
        .map(SecretUrl)
        .ok_or_else(|| {
            at(
                span,
                format!(
                    "the secret in {where_} must be {what}: an https:// address (http:// only to \
                 localhost)"
                ),
            )
        })
}
