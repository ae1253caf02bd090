use std::time::Duration;

use leadhook_shared::{ApiOk, SyncReport};
use leadhook_sim::CallKind;
use serde_json::Value;

use crate::helpers::*;

fn recent_lead(leadgen_id: &str, name: &str) -> Value {
    let mut lead = graph_lead(leadgen_id, &[("full_name", &[name])]);
    lead["created_time"] = Value::String(
        (chrono::Utc::now() - chrono::Duration::minutes(10))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string(),
    );
    lead
}

async fn sweeping_app(interval: Option<Duration>) -> TestApp {
    let graph = spawn_graph().await;
    graph.add_form(PAGE_ID, FORM_ID, "Spring Promo");
    spawn_app_with(graph, tempfile::tempdir().unwrap(), |config| {
        config.sweep.page_ids = vec![PAGE_ID.to_string()];
        config.sweep.interval = interval;
    })
    .await
}

async fn sync(app: &TestApp) -> SyncReport {
    let response = app.api_post("/api/leads/sync").await;
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<SyncReport>>().await.unwrap().data
}

#[tokio::test]
async fn the_sweeper_finds_a_lead_whose_webhook_never_came_and_stores_each_once() {
    let app = sweeping_app(None).await;
    app.graph
        .add_lead(PAGE_ID, FORM_ID, recent_lead("6001", "Never Announced"));
    app.graph
        .add_lead(PAGE_ID, FORM_ID, recent_lead("6002", "Came Both Ways"));

    let report = sync(&app).await;
    assert_eq!(
        (report.forms, report.fetched, report.inserted),
        (1, 2, 2),
        "{report:?}"
    );
    assert!(report.errors.is_empty(), "{report:?}");

    // The webhook for one of them arrives late: once the intake has stored its event, still
    // one lead each.
    assert_eq!(
        app.post_signed(&notification(&["6002"])).await.status(),
        200
    );
    app.wait_for_settled_inbox().await;
    assert_eq!(
        app.metric("leadhook_events_processed_total{outcome=\"stored\"}")
            .await,
        1.0,
        "the late webhook's event was stored"
    );
    let leads = app.leads().await;
    assert_eq!(leads.count, 2);
    let lead = leads
        .data
        .iter()
        .find(|l| l.leadgen_id.as_deref() == Some("6001"))
        .unwrap();
    assert_eq!(lead.meta.name.as_deref(), Some("Never Announced"));
    assert_eq!(lead.meta.form_name.as_deref(), Some("Spring Promo"));
    assert_eq!(lead.meta.page_id.as_deref(), Some(PAGE_ID));

    let again = sync(&app).await;
    assert_eq!(
        again.inserted, 0,
        "a second sweep finds nothing new: {again:?}"
    );
    let health = app.health().await;
    assert_eq!(health["last_sweep"]["inserted"], 0);
}

#[tokio::test]
async fn concurrent_sync_requests_share_one_sweep() {
    let app = sweeping_app(None).await;
    app.graph
        .add_lead(PAGE_ID, FORM_ID, recent_lead("6101", "Only Once"));
    app.graph
        .fail_all(leadhook_sim::GraphFault::Delay(Duration::from_millis(400)));
    let (a, b, c) = tokio::join!(sync(&app), sync(&app), sync(&app));
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.inserted, 1);
    assert_eq!(
        app.graph.calls(CallKind::LeadgenForms),
        1,
        "one sweep ran for three requests"
    );
}

#[tokio::test]
async fn automatic_sweeps_run_on_their_interval() {
    let app = sweeping_app(Some(Duration::from_millis(200))).await;
    app.graph
        .add_lead(PAGE_ID, FORM_ID, recent_lead("6201", "Found By Timer"));
    let leads = app.wait_for_leads(1).await;
    assert_eq!(leads[0].meta.name.as_deref(), Some("Found By Timer"));
}

#[tokio::test]
async fn sweep_errors_are_reported_not_hidden() {
    let app = sweeping_app(None).await;
    app.graph
        .fail_all(leadhook_sim::GraphFault::invalid_token(Some(463)));
    let report = sync(&app).await;
    assert_eq!(report.inserted, 0);
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(
        report.errors[0].contains("FB_PAGE_ACCESS_TOKEN"),
        "{report:?}"
    );
    assert_eq!(app.health().await["graph"]["state"], "token_invalid");
}

#[tokio::test]
async fn sync_without_pages_says_how_to_enable_it() {
    let app = spawn_app().await;
    let response = app.api_post("/api/leads/sync").await;
    assert_eq!(response.status(), 409);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "sync_not_configured");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("FB_PAGE_ID")
    );
}
