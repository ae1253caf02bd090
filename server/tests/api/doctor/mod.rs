//! `doctor`'s checks against the Graph API stand-in (and a served test server for the public
//! webhook); `e2e`: `doctor --e2e`; `delivery`: the checks that Meta can deliver here.

mod channels;
mod delivery;
mod e2e;

use leadhook_server::config::ServeArgs;
use leadhook_server::doctor::{self, Check, DoctorArgs, EndToEndArgs, Verdict};
use leadhook_sim::{AppSubscription, GraphStandin, TokenState};

use crate::helpers::*;

async fn healthy_graph() -> GraphStandin {
    let graph = spawn_graph().await;
    graph.add_form(PAGE_ID, FORM_ID, "Spring Promo");
    let mut lead = graph_lead("5151", &[("full_name", &["Doc Tor"])]);
    lead["created_time"] = serde_json::Value::String(
        (chrono::Utc::now() - chrono::Duration::hours(1))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string(),
    );
    graph.add_lead(PAGE_ID, FORM_ID, lead);
    graph
}

fn args(graph: &GraphStandin, data_dir: &std::path::Path) -> DoctorArgs {
    DoctorArgs {
        serve: ServeArgs {
            fb_page_id: Some(PAGE_ID.into()),
            ..serve_args(&graph.base_url(), data_dir)
        },
        fb_app_id: Some(graph.config().app_id.clone()),
        subscribe: false,
        capi_test: None,
        e2e: EndToEndArgs::default(),
    }
}

/// A server on the healthy Graph stand-in, whose app subscription calls that server's webhook.
async fn served() -> TestApp {
    let app = spawn_app_with(healthy_graph().await, tempfile::tempdir().unwrap(), |_| {}).await;
    app.graph
        .set_app_subscription(Some(AppSubscription::leadgen(app.url("/webhook"))));
    app
}

/// [`args`] for the server of [`served`]: its public URL and API token.
fn served_args(app: &TestApp, data_dir: &std::path::Path) -> DoctorArgs {
    let mut args = args(&app.graph, data_dir);
    args.serve.public_url = Some(app.address.clone());
    args.e2e = EndToEndArgs {
        server: Some(app.address.clone()),
        token: Some(REP_TOKEN.into()),
        ..EndToEndArgs::default()
    };
    args
}

fn verdict<'a>(checks: &'a [Check], name: &str) -> &'a Verdict {
    &checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {checks:#?}"))
        .verdict
}

fn assert_fails(checks: &[Check], name: &str, problem_part: &str, fix_part: &str) {
    match verdict(checks, name) {
        Verdict::Fail { problem, fix } => {
            assert!(
                problem.contains(problem_part),
                "{name}: {problem:?} should mention {problem_part:?}"
            );
            assert!(
                fix.contains(fix_part),
                "{name}: fix {fix:?} should mention {fix_part:?}"
            );
        }
        Verdict::Pass(detail) => panic!("{name} passed ({detail}) but should fail"),
        Verdict::Warn { problem, .. } => panic!("{name} only warned ({problem}) but should fail"),
    }
}

#[tokio::test]
async fn a_healthy_setup_passes_every_check() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let checks = doctor::run(&served_args(&app, dir.path())).await;
    let names: Vec<_> = checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "configuration",
            "Graph API version",
            "Page token",
            "token lifetime",
            "permissions",
            "webhook subscription",
            "app webhook subscription",
            "Leads Access",
            "lead forms",
            "lead access",
            "public webhook",
            "lead store"
        ]
    );
    assert!(
        checks.iter().all(Check::passed),
        "{}",
        doctor::render(&checks)
    );
    assert!(doctor::render(&checks).ends_with("12 of 12 checks passed\n"));
}

#[tokio::test]
async fn each_fault_fails_its_check_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();

    let graph = healthy_graph().await;
    graph.set_token_state(TokenState::Expired);
    let checks = doctor::run(&args(&graph, dir.path())).await;
    assert_fails(&checks, "Page token", "not valid", "FB_PAGE_ACCESS_TOKEN");

    let graph = healthy_graph().await;
    graph.set_token_state(TokenState::ShortLived);
    let checks = doctor::run(&args(&graph, dir.path())).await;
    assert_fails(&checks, "token lifetime", "expires in", "long-lived");

    let graph = healthy_graph().await;
    graph.set_token_state(TokenState::MissingScopes(vec!["leads_retrieval".into()]));
    let checks = doctor::run(&args(&graph, dir.path())).await;
    assert_fails(&checks, "permissions", "leads_retrieval", "new Page token");

    let graph = healthy_graph().await;
    graph.set_subscribed(PAGE_ID, false);
    let checks = doctor::run(&args(&graph, dir.path())).await;
    assert_fails(
        &checks,
        "webhook subscription",
        "not subscribed",
        "--subscribe",
    );

    let graph = healthy_graph().await;
    graph.set_leads_readable(false);
    let checks = doctor::run(&args(&graph, dir.path())).await;
    assert_fails(&checks, "lead access", "code 100", "Leads Access");

    let graph = healthy_graph().await;
    let mut other_page = args(&graph, dir.path());
    other_page.serve.fb_page_id = Some("999".into());
    let checks = doctor::run(&other_page).await;
    assert_fails(&checks, "Page token", "not FB_PAGE_ID 999", "FB_PAGE_ID");

    let mut no_app_id = args(&graph, dir.path());
    no_app_id.fb_app_id = None;
    let checks = doctor::run(&no_app_id).await;
    assert_fails(&checks, "Page token", "FB_APP_ID", "App ID");

    let mut broken = args(&graph, dir.path());
    broken.serve.fb_page_access_token = None;
    let checks = doctor::run(&broken).await;
    assert_fails(&checks, "configuration", "FB_PAGE_ACCESS_TOKEN", ".env");
}

#[tokio::test]
async fn subscribe_fixes_a_missing_subscription() {
    let app = served().await;
    app.graph.set_subscribed(PAGE_ID, false);
    let dir = tempfile::tempdir().unwrap();
    let mut with_subscribe = served_args(&app, dir.path());
    with_subscribe.subscribe = true;
    let checks = doctor::run(&with_subscribe).await;
    assert!(
        matches!(verdict(&checks, "webhook subscription"), Verdict::Pass(detail) if detail.contains("subscribed it"))
    );
    let again = doctor::run(&served_args(&app, dir.path())).await;
    assert!(
        again.iter().all(Check::passed),
        "{}",
        doctor::render(&again)
    );
}

/// `leadhook-server doctor [--e2e]` as a process, configured through the environment.
async fn doctor_command(
    app: &TestApp,
    data_dir: &std::path::Path,
    extra: &[&str],
) -> (bool, String) {
    let mut command = std::process::Command::new(server_binary());
    command
        .arg("doctor")
        .args(extra)
        .env_clear()
        .env("FB_APP_SECRET", APP_SECRET)
        .env("FB_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("FB_PAGE_ACCESS_TOKEN", PAGE_TOKEN)
        .env("FB_GRAPH_URL", app.graph.base_url())
        .env("FB_PAGE_ID", PAGE_ID)
        .env("FB_APP_ID", &app.graph.config().app_id)
        .env("LEADHOOK_PUBLIC_URL", &app.address)
        .env("LEADHOOK_DATA_DIR", data_dir)
        .env("LEADHOOK_API_TOKENS", format!("alice:{REP_TOKEN}"));
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        !text.contains(PAGE_TOKEN) && !text.contains(APP_SECRET) && !text.contains(VERIFY_TOKEN),
        "no secrets printed: {text}"
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn the_doctor_command_exits_zero_only_when_all_pass() {
    let app = served().await;
    let dir = tempfile::tempdir().unwrap();
    let (passed, text) = doctor_command(&app, dir.path(), &[]).await;
    assert!(passed, "{text}");
    assert!(text.contains("✓ lead access"), "{text}");
    assert!(text.contains("✓ app webhook subscription"), "{text}");

    app.graph.set_token_state(TokenState::Expired);
    let (passed, text) = doctor_command(&app, dir.path(), &[]).await;
    assert!(!passed, "{text}");
    assert!(text.contains("✗ Page token"), "{text}");
}
