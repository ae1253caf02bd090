//! Will Meta deliver leads here? The app's webhook subscription, the page's Leads Access, and
//! the public webhook URL answering Meta's handshake over HTTPS.

use std::error::Error as _;
use std::net::IpAddr;
use std::time::Duration;

use rand::Rng;
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use super::Check;
use crate::graph::{GraphClient, GraphError};

/// The fix when `LEADHOOK_PUBLIC_URL` is missing.
const SET_PUBLIC_URL: &str = "set LEADHOOK_PUBLIC_URL to the https:// address Meta reaches this server at, e.g. LEADHOOK_PUBLIC_URL=https://leads.example.com";
const LEADS_ACCESS_FIX: &str = "in Meta Business Suite > Settings > Integrations > Leads Access, choose the page and give this app access to its leads";
/// How long the handshake through the public URL may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The app must have an active `page` subscription with the `leadgen` field whose callback is
/// this server's webhook.
pub(super) async fn check_app_subscription(
    graph: &GraphClient,
    app_id: Option<&str>,
    app_secret: &SecretString,
    public_url: Option<&str>,
) -> Check {
    const NAME: &str = "app webhook subscription";
    let Some(app_id) = app_id else {
        return Check::fail(
            NAME,
            "FB_APP_ID is not set, so the app's webhook subscription cannot be read",
            "set FB_APP_ID to the App ID from the Meta app's Settings > Basic",
        );
    };
    let expected = public_url.map(|base| format!("{base}/webhook"));
    let callback_to_enter = expected
        .clone()
        .unwrap_or_else(|| "<LEADHOOK_PUBLIC_URL>/webhook".to_string());
    let subscriptions = match graph.app_subscriptions(app_id, app_secret).await {
        Ok(subscriptions) => subscriptions,
        Err(GraphError::TokenInvalid { message, .. }) => {
            return Check::fail(
                NAME,
                format!("Meta refused the app token of FB_APP_ID {app_id}: {message}"),
                "FB_APP_ID and FB_APP_SECRET must belong to the same Meta app (Settings > Basic)",
            );
        }
        Err(error) => return Check::from_graph_error(NAME, &error),
    };
    let Some(page) = subscriptions.iter().find(|s| s.object == "page") else {
        return Check::fail(
            NAME,
            "the app has no webhook subscription for Page objects, so Meta sends it no lead webhooks",
            format!(
                "in the app dashboard > Webhooks, choose Page, enter the callback URL {callback_to_enter} and FB_VERIFY_TOKEN, Verify and save, then subscribe to leadgen (README, step 3)"
            ),
        );
    };
    let callback = page.callback_url.as_str();
    if !page.active {
        return Check::fail(
            NAME,
            format!(
                "the app's Page webhook subscription ({callback}) is inactive: Meta turns it off when the callback fails for days"
            ),
            format!(
                "in the app dashboard > Webhooks > Page, edit the subscription, enter {callback_to_enter} and Verify and save"
            ),
        );
    }
    if !page.fields.iter().any(|field| field.name == "leadgen") {
        return Check::fail(
            NAME,
            "the app's Page webhook subscription lacks the leadgen field, so no lead webhooks come",
            "in the app dashboard > Webhooks > Page, subscribe to the leadgen field",
        );
    }
    match expected {
        None => Check::fail(
            NAME,
            format!(
                "LEADHOOK_PUBLIC_URL is not set, so doctor cannot tell whether Meta's callback {callback} is this server"
            ),
            match callback.strip_suffix("/webhook") {
                Some(base) if !base.is_empty() => {
                    format!("if {callback} is this server, set LEADHOOK_PUBLIC_URL={base}")
                }
                _ => SET_PUBLIC_URL.to_string(),
            },
        ),
        Some(expected) if same_url(callback, &expected) => {
            Check::pass(NAME, format!("Meta sends leadgen webhooks to {callback}"))
        }
        Some(expected) => Check::fail(
            NAME,
            format!(
                "Meta sends leadgen webhooks to {callback}, but this server's webhook is {expected}"
            ),
            format!(
                "in the app dashboard > Webhooks > Page, set the callback URL to {expected} and Verify and save; or, if {callback} is right, fix LEADHOOK_PUBLIC_URL"
            ),
        ),
    }
}

/// Two URLs naming the same address (scheme and host case, default ports, a trailing slash).
fn same_url(a: &str, b: &str) -> bool {
    let normal = |url: &str| {
        Url::parse(url.trim_end_matches('/'))
            .map(|u| u.to_string().trim_end_matches('/').to_string())
            .unwrap_or_else(|_| url.to_string())
    };
    normal(a) == normal(b)
}

/// `GET /<page-id>?fields=has_lead_access`: may this app read the page's leads?
pub(super) async fn check_lead_access(graph: &GraphClient, page_id: &str) -> Check {
    const NAME: &str = "Leads Access";
    match graph.lead_access(page_id).await {
        Err(error) => Check::from_graph_error(NAME, &error),
        Ok(None) => Check::fail(
            NAME,
            format!("Meta did not say whether the app may read page {page_id}'s leads"),
            LEADS_ACCESS_FIX,
        ),
        Ok(Some(access)) if access.can_access_lead => {
            let manager = if access.enabled_lead_access_manager == Some(true) {
                " (Leads Access Manager is on and allows it)"
            } else {
                ""
            };
            Check::pass(
                NAME,
                format!("the app may read page {page_id}'s leads{manager}"),
            )
        }
        Ok(Some(access)) => {
            let reason = access
                .failure_reason
                .map(|reason| format!(": {reason}"))
                .unwrap_or_default();
            let resolution = access
                .failure_resolution
                .map(|text| format!(" (Meta says: {text})"))
                .unwrap_or_default();
            Check::fail(
                NAME,
                format!("the app may not read page {page_id}'s leads{reason}"),
                format!("{LEADS_ACCESS_FIX}{resolution}"),
            )
        }
    }
}

/// Calls `<LEADHOOK_PUBLIC_URL>/webhook` with Meta's handshake and this server's verify token:
/// the name must resolve, HTTPS must come with a valid certificate (rustls and the public CA
/// roots check it), and the answer must be the challenge.
pub(super) async fn check_public_webhook(
    public_url: Option<&str>,
    verify_token: &SecretString,
) -> Check {
    const NAME: &str = "public webhook";
    let Some(base) = public_url else {
        return Check::fail(
            NAME,
            "LEADHOOK_PUBLIC_URL is not set, so doctor cannot check that Meta reaches this server",
            SET_PUBLIC_URL,
        );
    };
    let url = format!("{base}/webhook");
    let Ok(parsed) = Url::parse(&url) else {
        return Check::fail(NAME, format!("{url} is not a URL"), SET_PUBLIC_URL);
    };
    let http = match reqwest::Client::builder()
        .timeout(HANDSHAKE_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("leadhook-doctor/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            return Check::fail(
                NAME,
                format!("cannot build an HTTP client: {}", error.without_url()),
                "run doctor again",
            );
        }
    };
    let challenge = rand::rng().random_range(1_000_000..u32::MAX).to_string();
    let answer = http
        .get(&url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", challenge.as_str()),
            ("hub.verify_token", verify_token.expose_secret()),
        ])
        .send()
        .await;
    let response = match answer {
        Ok(response) => response,
        Err(error) => {
            let (problem, fix) = unreachable(&parsed, &error);
            return Check::fail(NAME, problem, fix);
        }
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let proxy_fix = format!(
        "route {url} to leadhook-server in the reverse proxy (deploy/Caddyfile), or fix LEADHOOK_PUBLIC_URL"
    );
    match status {
        StatusCode::OK if body.trim() == challenge => {}
        StatusCode::OK => {
            return Check::fail(
                NAME,
                format!(
                    "{url} answered 200, but not with the challenge: it is not leadhook's webhook"
                ),
                proxy_fix,
            );
        }
        StatusCode::FORBIDDEN => {
            return Check::fail(
                NAME,
                format!(
                    "{url} refused this server's verify token (HTTP 403): it is another server, or one with another FB_VERIFY_TOKEN"
                ),
                "point LEADHOOK_PUBLIC_URL (and the proxy) at this server, or give both servers the same FB_VERIFY_TOKEN",
            );
        }
        other => {
            return Check::fail(
                NAME,
                format!("{url} answered HTTP {other} to Meta's handshake instead of the challenge"),
                proxy_fix,
            );
        }
    }
    let https_fix = "put the server behind HTTPS with a certificate from a public CA (README: Connect your Facebook Page, step 1) and set LEADHOOK_PUBLIC_URL to that https:// address";
    match parsed.scheme() {
        "https" => Check::pass(
            NAME,
            format!("{url} answers Meta's handshake over HTTPS with a valid certificate"),
        ),
        _ if is_loopback(&parsed) => Check::warn(
            NAME,
            format!(
                "{url} answers the handshake, but over plain http on this machine, where Meta cannot reach it"
            ),
            https_fix,
        ),
        _ => Check::fail(
            NAME,
            format!(
                "{url} answers the handshake over plain http, but Meta only calls https:// callbacks"
            ),
            https_fix,
        ),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Problem and fix for a handshake request that got no answer. The error's own text is left
/// out: its URL carries the verify token.
fn unreachable(url: &Url, error: &reqwest::Error) -> (String, String) {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or_default();
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    let detail = causes
        .last()
        .cloned()
        .unwrap_or_else(|| "no details".into());
    let chain = causes.join(": ").to_lowercase();
    if error.is_timeout() {
        (
            format!(
                "{url} did not answer within {}s",
                HANDSHAKE_TIMEOUT.as_secs()
            ),
            "check that the server runs and that the firewall lets Meta in on port 443".into(),
        )
    } else if chain.contains("dns error") || chain.contains("lookup address") {
        (
            format!("{host} does not resolve ({detail})"),
            format!(
                "create a DNS record for {host} pointing at this server, or fix LEADHOOK_PUBLIC_URL"
            ),
        )
    } else if chain.contains("certificate") {
        (
            format!("{host} does not present a valid certificate ({detail})"),
            "Meta refuses self-signed, expired and wrong-name certificates: get one from a public CA, e.g. with Caddy (deploy/Caddyfile)".into(),
        )
    } else if url.scheme() == "https"
        && (chain.contains("tls")
            || chain.contains("handshake")
            || chain.contains("corrupt message"))
    {
        (
            format!("{host}:{port} does not speak HTTPS ({detail})"),
            "serve HTTPS there, e.g. Caddy in front of leadhook-server (deploy/Caddyfile)".into(),
        )
    } else if error.is_connect() {
        (
            format!("cannot connect to {host}:{port} ({detail})"),
            "check that the server (or its reverse proxy) runs and that the firewall lets Meta in"
                .into(),
        )
    } else {
        (
            format!("the handshake request to {host} failed ({detail})"),
            "check the server and its reverse proxy, then run doctor again".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_by_address() {
        assert!(same_url(
            "https://Leads.Example.com:443/webhook/",
            "https://leads.example.com/webhook"
        ));
        assert!(!same_url(
            "https://leads.example.com/hook",
            "https://leads.example.com/webhook"
        ));
        assert!(!same_url(
            "http://leads.example.com/webhook",
            "https://leads.example.com/webhook"
        ));
    }

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:1",
        ] {
            assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
        assert!(!is_loopback(
            &Url::parse("http://leads.example.com").unwrap()
        ));
    }
}
