//! Claim links: a page to a rep's phone carries `<LEADHOOK_PUBLIC_URL>/claim/<token>`, which
//! claims the lead for that rep without a terminal. The token says which lead, which rep, until
//! when, and a nonce (the delivery's id, so a resent page carries the same link), signed with
//! HMAC-SHA256 under `LEADHOOK_CLAIM_SECRET`; nothing else can make one. The store records each
//! nonce when it is used ([`crate::store::PagingWrites::use_claim_link`]), so a link claims once
//! whichever replica answers it. Opening the link (GET) only shows what it would do: phones and
//! chat apps fetch links to preview them, so the claim itself is the page's POST
//! ([`page`]).

pub mod page;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;

use crate::limits::MAX_CLAIM_TOKEN_BYTES;

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub lead_id: i64,
    pub rep: String,
    pub nonce: String,
    pub expires: DateTime<Utc>,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this is not a claim link")]
    Malformed,
    #[error("this link was not made by this server")]
    Forged,
    #[error("this link has expired")]
    Expired,
}

/// Makes and checks claim links (`LEADHOOK_CLAIM_SECRET` with `LEADHOOK_PUBLIC_URL`).
#[derive(Debug)]
pub struct ClaimLinks {
    /// `LEADHOOK_PUBLIC_URL`, without a trailing slash.
    base: String,
    key: SecretBox<Vec<u8>>,
    ttl: Duration,
}

impl ClaimLinks {
    pub fn new(base: String, key: Vec<u8>, ttl: Duration) -> ClaimLinks {
        ClaimLinks {
            base,
            key: SecretBox::new(Box::new(key)),
            ttl,
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(self.key.expose_secret())
            .expect("HMAC accepts any key length")
    }

    /// The token of `ticket`: `base64url(payload).base64url(hmac(payload))`, the payload being
    /// `lead_id\nexpires\nnonce\nrep`.
    pub fn token(&self, ticket: &Ticket) -> String {
        let payload = format!(
            "{}\n{}\n{}\n{}",
            ticket.lead_id,
            ticket.expires.timestamp(),
            ticket.nonce,
            ticket.rep
        );
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The link that claims `lead_id` for `rep`, valid for the configured time from `now`.
    pub fn link(&self, lead_id: i64, rep: &str, nonce: &str, now: DateTime<Utc>) -> String {
        let expires = now + chrono::TimeDelta::from_std(self.ttl).unwrap_or_default();
        let ticket = Ticket {
            lead_id,
            rep: rep.to_string(),
            nonce: nonce.to_string(),
            expires,
        };
        format!("{}/claim/{}", self.base, self.token(&ticket))
    }

    /// What `token` says, if this server signed it and it has not expired at `now`. The
    /// signature is checked before anything in the payload is believed.
    pub fn check(&self, token: &str, now: DateTime<Utc>) -> Result<Ticket, TokenError> {
        if token.len() > MAX_CLAIM_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::Forged)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        let mut parts = payload.splitn(4, '\n');
        let mut next = || parts.next().ok_or(TokenError::Malformed);
        let lead_id = next()?.parse().map_err(|_| TokenError::Malformed)?;
        let expires = next()?
            .parse()
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or(TokenError::Malformed)?;
        let nonce = next()?.to_string();
        let rep = next()?.to_string();
        if now >= expires {
            return Err(TokenError::Expired);
        }
        Ok(Ticket {
            lead_id,
            rep,
            nonce,
            expires,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(key: &[u8]) -> ClaimLinks {
        ClaimLinks::new(
            "https://leads.example.com".into(),
            key.to_vec(),
            Duration::from_secs(3600),
        )
    }

    #[test]
    fn a_link_reads_back_until_it_expires() {
        let links = links(&[7; 32]);
        let now = Utc::now();
        let link = links.link(42, "alice", "d17", now);
        let token = link
            .strip_prefix("https://leads.example.com/claim/")
            .unwrap();
        let ticket = links.check(token, now).unwrap();
        assert_eq!((ticket.lead_id, ticket.rep.as_str()), (42, "alice"));
        assert_eq!(ticket.nonce, "d17");
        let later = now + chrono::TimeDelta::hours(2);
        assert_eq!(links.check(token, later), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_or_a_changed_payload_is_forged_and_garbage_is_malformed() {
        let now = Utc::now();
        let ours = links(&[7; 32]);
        let theirs = links(&[8; 32]);
        let token = theirs.token(&Ticket {
            lead_id: 1,
            rep: "mallory".into(),
            nonce: "n".into(),
            expires: now + chrono::TimeDelta::hours(1),
        });
        assert_eq!(ours.check(&token, now), Err(TokenError::Forged));
        let (_, signature) = ours
            .token(&Ticket {
                lead_id: 1,
                rep: "alice".into(),
                nonce: "n".into(),
                expires: now + chrono::TimeDelta::hours(1),
            })
            .split_once('.')
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .unwrap();
        let changed = format!(
            "{}.{signature}",
            URL_SAFE_NO_PAD.encode(format!("2\n{}\nn\nalice", now.timestamp() + 3600))
        );
        assert_eq!(ours.check(&changed, now), Err(TokenError::Forged));
        for garbage in ["", "abc", "a.b.c", &"x".repeat(600)] {
            assert_eq!(
                ours.check(garbage, now),
                Err(TokenError::Malformed),
                "{garbage}"
            );
        }
    }
}
