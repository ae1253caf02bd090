//! The checks that Meta can deliver leads here: the app's webhook subscription, Leads Access and
//! the public webhook, each passing and failing for every cause, with its fix.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::*;

fn assert_passes(checks: &[Check], name: &str, detail_part: &str) {
    match verdict(checks, name) {
        Verdict::Pass(detail) => assert!(detail.contains(detail_part), "{name}: {detail:?}"),
        other => panic!("{name} should pass, got {other:?}"),
    }
}

#[tokio::test]
async fn app_subscription_passes_when_meta_calls_this_server() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    assert_passes(
        &checks,
        "app webhook subscription",
        &format!("Meta sends leadgen webhooks to {}/webhook", app.address),
    );
}

#[tokio::test]
async fn app_subscription_failures_name_the_cause_and_the_fix() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let ours = app.url("/webhook");
    const NAME: &str = "app webhook subscription";
    let run = || {
        let args = served_args(&app, dir.path());
        async move { doctor::run(&args).await }
    };

    app.graph.set_app_subscription(None);
    assert_fails(
        &run().await,
        NAME,
        "no webhook subscription for Page objects",
        &ours,
    );

    app.graph.set_app_subscription(Some(AppSubscription {
        active: false,
        ..AppSubscription::leadgen(&ours)
    }));
    assert_fails(&run().await, NAME, "inactive", "Verify and save");

    app.graph.set_app_subscription(Some(AppSubscription {
        fields: vec!["feed".into()],
        ..AppSubscription::leadgen(&ours)
    }));
    assert_fails(
        &run().await,
        NAME,
        "lacks the leadgen field",
        "subscribe to the leadgen field",
    );

    app.graph.set_app_subscription(Some(AppSubscription {
        object: "user".into(),
        ..AppSubscription::leadgen(&ours)
    }));
    assert_fails(
        &run().await,
        NAME,
        "no webhook subscription for Page objects",
        "choose Page",
    );

    let old = "https://old-crm.example.com/facebook/webhook";
    app.graph
        .set_app_subscription(Some(AppSubscription::leadgen(old)));
    let checks = run().await;
    assert_fails(&checks, NAME, old, &ours);
    assert_fails(
        &checks,
        NAME,
        &format!("this server's webhook is {ours}"),
        "LEADHOOK_PUBLIC_URL",
    );

    app.graph
        .set_app_subscription(Some(AppSubscription::leadgen(&ours)));
    let mut no_public_url = served_args(&app, dir.path());
    no_public_url.serve.public_url = None;
    let checks = doctor::run(&no_public_url).await;
    assert_fails(
        &checks,
        NAME,
        "LEADHOOK_PUBLIC_URL is not set",
        &format!("set LEADHOOK_PUBLIC_URL={}", app.address),
    );

    let mut no_app_id = served_args(&app, dir.path());
    no_app_id.fb_app_id = None;
    assert_fails(
        &doctor::run(&no_app_id).await,
        NAME,
        "FB_APP_ID is not set",
        "App ID",
    );
}

#[tokio::test]
async fn leads_access_passes_and_fails_with_the_business_suite_fix() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    assert_passes(&checks, "Leads Access", "the app may read page");

    app.graph.set_leads_readable(false);
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    assert_fails(
        &checks,
        "Leads Access",
        "the app may not read page",
        "Meta Business Suite > Settings > Integrations > Leads Access",
    );

    app.graph.set_leads_readable(true);
    app.graph
        .set_token_state(TokenState::MissingScopes(vec!["leads_retrieval".into()]));
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    assert_fails(
        &checks,
        "Leads Access",
        "permission missing",
        "new Page token",
    );
}

#[tokio::test]
async fn public_webhook_answers_the_handshake() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    match verdict(&checks, "public webhook") {
        Verdict::Warn { problem, fix } => {
            assert!(
                problem.contains(&format!("{}/webhook answers the handshake", app.address))
                    && problem.contains("plain http on this machine"),
                "{problem}"
            );
            assert!(fix.contains("HTTPS"), "{fix}");
        }
        other => panic!("a loopback http URL answers but is only a warning, got {other:?}"),
    }
}

#[tokio::test]
async fn public_webhook_failures_name_the_cause_and_the_fix() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    const NAME: &str = "public webhook";
    let with_url = |url: Option<String>| {
        let mut args = served_args(&app, dir.path());
        args.serve.public_url = url;
        args
    };

    let checks = doctor::run(&with_url(None)).await;
    assert_fails(
        &checks,
        NAME,
        "LEADHOOK_PUBLIC_URL is not set",
        "LEADHOOK_PUBLIC_URL=https://",
    );

    let other = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| {
            config.verify_token = "another-verify-token".to_string().into();
        },
    )
    .await;
    let checks = doctor::run(&with_url(Some(other.address.clone()))).await;
    assert_fails(
        &checks,
        NAME,
        "refused this server's verify token (HTTP 403)",
        "FB_VERIFY_TOKEN",
    );

    let checks = doctor::run(&with_url(Some(format!("{}/leads", app.address)))).await;
    assert_fails(&checks, NAME, "answered HTTP 404", "reverse proxy");

    let checks = doctor::run(&with_url(Some(
        "https://leadhook-doctor-test.invalid".into(),
    )))
    .await;
    assert_fails(
        &checks,
        NAME,
        "leadhook-doctor-test.invalid does not resolve",
        "DNS record",
    );

    let plain = app.address.replace("http://", "https://");
    let checks = doctor::run(&with_url(Some(plain))).await;
    assert_fails(&checks, NAME, "does not speak HTTPS", "serve HTTPS");

    let self_signed = self_signed_https().await;
    let checks = doctor::run(&with_url(Some(self_signed))).await;
    assert_fails(
        &checks,
        NAME,
        "127.0.0.1 does not present a valid certificate (invalid peer certificate: UnknownIssuer)",
        "Meta refuses self-signed",
    );

    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}")
    };
    let checks = doctor::run(&with_url(Some(closed))).await;
    assert_fails(&checks, NAME, "cannot connect to 127.0.0.1", "firewall");
}

/// `https://127.0.0.1:PORT` of a TLS server whose certificate (for 127.0.0.1) is self-signed.
async fn self_signed_https() -> String {
    let certificate = CertificateDer::from_pem_slice(include_bytes!("fixtures/self-signed.crt"))
        .expect("test certificate");
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("fixtures/self-signed.key"))
        .expect("test key");
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .expect("TLS server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            // The client gives up during the handshake; nothing to serve.
            tokio::spawn(async move { acceptor.accept(stream).await.map(drop) });
        }
    });
    format!("https://{address}")
}
