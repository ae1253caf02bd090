//! Guessing tokens is throttled per client address: past 20 different wrong tokens in a minute,
//! the address is refused (429) whatever it sends, a right guess included, until the minute
//! ends; a client repeating one wrong token (a dashboard with an old token) is no guesser. The
//! client address comes from `X-Forwarded-For` only when a trusted proxy sends it.

use std::net::IpAddr;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

const BAD_TOKEN: &str = "guessed-token";
/// Failed attempts an address may make in a minute before it is refused with 429.
const ALLOWED_FAILURES: usize = 20;

/// A client whose connections come from `ip` (any 127.x address reaches the loopback listener).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(ip))
        .build()
        .expect("client")
}

async fn get_leads(
    app: &TestApp,
    client: &reqwest::Client,
    token: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut request = client.get(app.url("/api/leads")).bearer_auth(token);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("X-Forwarded-For", forwarded_for);
    }
    request.send().await.expect("request")
}

/// Spends the address's allowance of failures with different wrong tokens, each answered 401.
async fn fail_allowed_times(app: &TestApp, client: &reqwest::Client, forwarded_for: Option<&str>) {
    for attempt in 1..=ALLOWED_FAILURES {
        let status = get_leads(app, client, &format!("guess-{attempt}"), forwarded_for)
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
}

async fn assert_throttled(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.expect("a JSON error");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "too_many_failed_tokens", "{body}");
}

#[tokio::test]
async fn past_20_guesses_an_address_is_refused_even_a_right_guess_while_others_pass() {
    let app = spawn_app().await;
    let guesser = client_from([127, 0, 0, 1]);
    fail_allowed_times(&app, &guesser, None).await;
    assert_throttled(get_leads(&app, &guesser, BAD_TOKEN, None).await).await;
    // A right guess now would tell the guesser it is right: it is refused like the rest.
    assert_throttled(get_leads(&app, &guesser, REP_TOKEN, None).await).await;

    let elsewhere = client_from([127, 0, 0, 2]);
    let other = get_leads(&app, &elsewhere, BAD_TOKEN, None).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let valid = get_leads(&app, &elsewhere, REP_TOKEN, None).await;
    assert_eq!(valid.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_repeating_one_wrong_token_does_not_lock_out_its_address() {
    let app = spawn_app().await;
    let office = client_from([127, 0, 0, 3]);
    for attempt in 0..3 * ALLOWED_FAILURES {
        let status = get_leads(&app, &office, "an-old-token", None)
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let colleague = get_leads(&app, &office, REP_TOKEN, None).await;
    assert_eq!(colleague.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_forged_x_forwarded_for_from_an_untrusted_sender_does_not_dodge_the_throttle() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for attempt in 0..ALLOWED_FAILURES {
        let forged = format!("198.51.100.{attempt}");
        let status = get_leads(&app, &client, &format!("guess-{attempt}"), Some(&forged))
            .await
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_throttled(get_leads(&app, &client, BAD_TOKEN, Some("198.51.100.250")).await).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own() {
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |args| args.trusted_proxies = Some("10.0.0.0/8, 127.0.0.1".into()),
        |_| {},
    )
    .await;
    let proxy = reqwest::Client::new();
    // The left-most entry is whatever the client wrote; the right-most untrusted one is what the
    // proxies saw.
    let guesser = Some("192.0.2.1, 203.0.113.7, 10.1.2.3");
    fail_allowed_times(&app, &proxy, guesser).await;
    assert_throttled(get_leads(&app, &proxy, BAD_TOKEN, guesser).await).await;

    let other = get_leads(&app, &proxy, BAD_TOKEN, Some("203.0.113.8")).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let valid = get_leads(&app, &proxy, REP_TOKEN, Some("203.0.113.8")).await;
    assert_eq!(valid.status(), StatusCode::OK);
}
