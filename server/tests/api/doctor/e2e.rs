//! `doctor --e2e` against the Graph API stand-in and a served test server: a test lead created
//! through the Graph API arrives through the signed webhook, the inbox and the store in the feed;
//! when a hop breaks, doctor names it from what the server saw.

use indicatif::ProgressBar;

use super::*;

async fn end_to_end(app: &TestApp, timeout_seconds: u64) -> Check {
    let dir = tempfile::tempdir().unwrap();
    let mut args = served_args(app, dir.path());
    args.e2e.e2e = true;
    args.e2e.timeout_seconds = timeout_seconds;
    doctor::end_to_end(&args, &ProgressBar::hidden()).await
}

#[tokio::test]
async fn doctor_e2e_passes_with_the_timing_and_replaces_the_earlier_test_lead() {
    let app = served().await;
    let check = end_to_end(&app, 30).await;
    let first = app
        .graph
        .test_lead(FORM_ID)
        .expect("a test lead was created");
    match &check.verdict {
        Verdict::Pass(detail) => {
            assert!(
                detail.starts_with(&format!("test lead {first} on form {FORM_ID}: stored "))
                    && detail.contains(" s after it was created, in the dashboard feed after "),
                "{detail}"
            );
        }
        other => panic!("the end-to-end test should pass: {other:?}"),
    }
    let stored = app.wait_for_leads(1).await;
    assert!(
        stored
            .iter()
            .any(|lead| lead.leadgen_id.as_deref() == Some(first.as_str())),
        "the test lead is in the store"
    );

    let again = end_to_end(&app, 30).await;
    assert!(again.passed(), "{again:?}");
    let second = app.graph.test_lead(FORM_ID).unwrap();
    assert_ne!(
        first, second,
        "one test lead per form: the earlier one was deleted"
    );
    assert!(!app.graph.lead_ids().contains(&first));
}

#[tokio::test]
async fn doctor_e2e_names_the_webhook_hop_when_meta_does_not_deliver() {
    let app = served().await;
    app.graph.set_webhook_delivery(false);
    let check = end_to_end(&app, 2).await;
    assert_fails(
        &[check],
        "end-to-end test lead",
        &format!("no webhook reached {} within 2 s", app.address),
        "callback <LEADHOOK_PUBLIC_URL>/webhook",
    );
}

#[tokio::test]
async fn doctor_e2e_is_not_fooled_by_the_sweeper_storing_the_lead_without_a_webhook() {
    let app = spawn_app_with(
        healthy_graph().await,
        tempfile::tempdir().unwrap(),
        |config| {
            config.sweep.page_ids = vec![PAGE_ID.into()];
            config.sweep.interval = Some(std::time::Duration::from_millis(200));
        },
    )
    .await;
    app.graph
        .set_app_subscription(Some(AppSubscription::leadgen(app.url("/webhook"))));
    app.graph.set_webhook_delivery(false);
    let check = end_to_end(&app, 20).await;
    assert_fails(
        &[check],
        "end-to-end test lead",
        "but by the backfill sweeper: no webhook reached",
        "callback <LEADHOOK_PUBLIC_URL>/webhook",
    );
}

#[tokio::test]
async fn doctor_e2e_names_leads_access_when_the_lead_cannot_be_read() {
    let app = served().await;
    app.graph.set_leads_readable(false);
    let started = std::time::Instant::now();
    let check = end_to_end(&app, 60).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "a lead the server gave up on ends the wait, without the whole timeout"
    );
    let checks = [check];
    assert_fails(
        &checks,
        "end-to-end test lead",
        "Meta delivered the webhook",
        "Meta Business Suite > Settings > Integrations > Leads Access",
    );
    assert_fails(
        &checks,
        "end-to-end test lead",
        "could not read the lead",
        "leads_retrieval",
    );
    assert_fails(
        &checks,
        "end-to-end test lead",
        "code 100",
        "POST /api/inbox/retry",
    );
}

/// `leadhook-server doctor --e2e` as a process, watching the served test server as `token`
/// (given in a private file, as a token on the command line is refused).
async fn e2e_command(app: &TestApp, token: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let token_file = token_file.display().to_string();
    let flags = [
        "--e2e",
        "--server",
        &app.address,
        "--token-file",
        &token_file,
        "--e2e-timeout",
        "30",
    ];
    doctor_command(app, dir.path(), &flags).await
}

#[tokio::test]
async fn doctor_e2e_command_tests_the_running_server() {
    let app = served().await;
    let (passed, text) = e2e_command(&app, REP_TOKEN).await;
    assert!(passed, "{text}");
    assert!(
        text.contains("✓ end-to-end test lead: test lead "),
        "{text}"
    );
    assert!(text.contains("\n13 of 13 checks passed\n"), "{text}");

    let (passed, text) = e2e_command(&app, "not-a-rep-token").await;
    assert!(!passed, "{text}");
    assert!(
        text.contains("✗ end-to-end test lead: the server at")
            && text.contains("refused the API token"),
        "{text}"
    );
}
