//! Twilio's request signature (`X-Twilio-Signature`), as its security page describes it: base64
//! of HMAC-SHA1 keyed with the account's Auth Token over the full URL Twilio called followed by
//! each POST parameter's name and value, sorted by name, with no separators. The server checks
//! it; the simulator's SMS stand-in signs its callbacks with it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The signature of a form post of `params` to `url`.
pub fn signature(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `claimed` is the signature of `params` posted to `url`, compared in constant time.
pub fn verify(auth_token: &[u8], url: &str, params: &[(String, String)], claimed: &str) -> bool {
    let Ok(claimed) = STANDARD.decode(claimed.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&claimed).is_ok()
}

fn mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Twilio's helper sorts by name; a stable sort keeps repeated names in their order.
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by `twilio==9.3.7`'s `RequestValidator("t").compute_signature(url, {"a": "1"})`.
    #[test]
    fn matches_twilios_helper() {
        let params = [("a".to_string(), "1".to_string())];
        let url = "https://x/twilio/sms";
        assert_eq!(
            signature(b"t", url, &params),
            "dPUxRIqEOUe5EMfazUKaj5KLWZg="
        );
        assert!(verify(b"t", url, &params, "dPUxRIqEOUe5EMfazUKaj5KLWZg="));
        assert!(!verify(b"u", url, &params, "dPUxRIqEOUe5EMfazUKaj5KLWZg="));
        assert!(!verify(b"t", url, &params, "not base64!"));
    }
}
